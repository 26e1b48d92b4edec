-- Venue order ids and trade ids become text: Binance numbers them, Coinbase names them by UUID
-- and Kraken by strings like "OQCLML-BW3P3-BUCMWZ". Every stored id keeps its digits
-- (bigint → its decimal text); no row is added or lost.
--
-- Ids are no longer ordered by value, so nothing may rely on "a later trade has a larger id":
-- - a fills pull resumes from an opaque cursor each dialect writes and reads (Binance: the next
--   fromId, as text);
-- - the external-fill check resumes after the last fill it reported by (executed_at, trade id),
--   so its breaks record the time of their last fill as well as its id.
ALTER TABLE fills ALTER COLUMN trade_id TYPE text USING trade_id::text,
                  ALTER COLUMN order_id TYPE text USING order_id::text;
ALTER TABLE venue_orders ALTER COLUMN order_id TYPE text USING order_id::text;
ALTER TABLE orders ALTER COLUMN venue_order_id TYPE text USING venue_order_id::text;

ALTER TABLE fill_cursors ADD COLUMN cursor text;
UPDATE fill_cursors SET cursor = next_from_id::text;
ALTER TABLE fill_cursors ALTER COLUMN cursor SET NOT NULL;
ALTER TABLE fill_cursors DROP COLUMN next_from_id;

-- External-fill breaks written before this migration name their last trade by number only.
UPDATE reconciliation_breaks b
SET evidence = b.evidence
    || jsonb_build_object('last_trade_id', b.evidence->>'last_trade_id',
                          'first_trade_id', b.evidence->>'first_trade_id',
                          'last_executed_at',
                          (SELECT to_char(max(f.executed_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
                           FROM fills f
                           WHERE f.venue_id = b.venue_id AND f.account_id = b.account_id AND f.symbol = b.symbol
                             AND f.trade_id = b.evidence->>'last_trade_id'))
WHERE b.kind = 'external_fill' AND b.evidence ? 'last_trade_id';
