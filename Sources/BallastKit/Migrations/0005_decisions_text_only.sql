-- A decision record's payload was stored twice: the canonical text the hash covers, and the same
-- document as jsonb for queries. Parsing every record into jsonb on the way in cost more than the
-- rest of a proposal's writes, for queries that are rare and can parse on read. The text stays the
-- only stored form (it is what the chain proves); `decision_records` gives the jsonb view of it.
ALTER TABLE decisions DROP COLUMN payload;
CREATE VIEW decision_records AS
    SELECT id, batch_id, order_id, portfolio_id, kind, payload_text::jsonb AS payload, payload_text, prev_hash, hash,
           created_at
    FROM decisions;
