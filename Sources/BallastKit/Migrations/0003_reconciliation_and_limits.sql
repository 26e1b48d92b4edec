-- Reconciliation is repeated on every run; a break is stored once. `subject`
-- names what was checked (account, snapshot pair and asset; an order and the
-- figures compared; a range of external fills), so a rerun finds it present.
ALTER TABLE reconciliation_breaks ADD COLUMN subject text;
CREATE UNIQUE INDEX reconciliation_breaks_subject ON reconciliation_breaks (kind, subject);
CREATE INDEX reconciliation_breaks_external
    ON reconciliation_breaks (venue_id, account_id, symbol) WHERE kind = 'external_fill';

-- The limits each venue publishes (exchangeInfo), for weight headroom in venue health.
ALTER TABLE venues ADD COLUMN request_weight_per_minute integer;
ALTER TABLE venues ADD COLUMN orders_per_10s integer;
