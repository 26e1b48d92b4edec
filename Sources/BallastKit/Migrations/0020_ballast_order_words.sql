-- Ballast's own order words replace Binance's in stored orders. Until now the domain spelled
-- order types, times in force and venue statuses as Binance does, and those spellings went into
-- the database and the reports; from here on every dialect maps its venue's words at its edge,
-- and Ballast stores its own:
--
--   order type      LIMIT → limit, LIMIT_MAKER → post_only, MARKET → market
--   time in force   GTC → gtc, IOC → ioc, FOK → fok
--   venue status    NEW → open, PARTIALLY_FILLED → partially_filled, FILLED → filled,
--                   CANCELED → cancelled, PENDING_CANCEL → pending_cancel, REJECTED → rejected,
--                   EXPIRED → expired, EXPIRED_IN_MATCH → expired (ended by self-trade
--                   prevention: over, with quantity left, like any expiry)
--
-- Every row is kept; only these values change, in orders (order_type, time_in_force) and
-- venue_orders (type, time_in_force, status). CHECK constraints then hold each column to the
-- new words: a value this migration does not know stops it (nothing is changed), rather than
-- being kept in a vocabulary nothing reads any more.
--
-- Left as written, on purpose:
-- - decisions: records are append-only and hash-chained. Their envelope's format says which words
--   they use: `decision-record/2` records (and the legacy ones before them) keep Binance's, and
--   `audit verify` and `audit recompute` read them in those; records written from now on are
--   `decision-record/3`, in Ballast's. The `decision_records` view reads both envelopes.
-- - order_attempts: the attempt log is append-only; its `detail` is a note for a reader (the status
--   the venue reported, in the words of its time) that no query or report matches on.
-- - http_attempts: what was sent to and answered by a venue, in the venue's own words.
UPDATE orders
SET order_type = CASE order_type WHEN 'LIMIT' THEN 'limit'
                                 WHEN 'LIMIT_MAKER' THEN 'post_only'
                                 WHEN 'MARKET' THEN 'market'
                                 ELSE order_type END,
    time_in_force = CASE time_in_force WHEN 'GTC' THEN 'gtc'
                                       WHEN 'IOC' THEN 'ioc'
                                       WHEN 'FOK' THEN 'fok'
                                       ELSE time_in_force END
WHERE order_type IN ('LIMIT', 'LIMIT_MAKER', 'MARKET') OR time_in_force IN ('GTC', 'IOC', 'FOK');

UPDATE venue_orders
SET type = CASE type WHEN 'LIMIT' THEN 'limit'
                     WHEN 'LIMIT_MAKER' THEN 'post_only'
                     WHEN 'MARKET' THEN 'market'
                     ELSE type END,
    time_in_force = CASE time_in_force WHEN 'GTC' THEN 'gtc'
                                       WHEN 'IOC' THEN 'ioc'
                                       WHEN 'FOK' THEN 'fok'
                                       ELSE time_in_force END,
    status = CASE status WHEN 'NEW' THEN 'open'
                         WHEN 'PARTIALLY_FILLED' THEN 'partially_filled'
                         WHEN 'FILLED' THEN 'filled'
                         WHEN 'CANCELED' THEN 'cancelled'
                         WHEN 'PENDING_CANCEL' THEN 'pending_cancel'
                         WHEN 'REJECTED' THEN 'rejected'
                         WHEN 'EXPIRED' THEN 'expired'
                         WHEN 'EXPIRED_IN_MATCH' THEN 'expired'
                         ELSE status END
WHERE type IN ('LIMIT', 'LIMIT_MAKER', 'MARKET') OR time_in_force IN ('GTC', 'IOC', 'FOK')
   OR status IN ('NEW', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'PENDING_CANCEL', 'REJECTED', 'EXPIRED',
                 'EXPIRED_IN_MATCH');

ALTER TABLE orders
    ADD CONSTRAINT orders_order_type_check CHECK (order_type IN ('limit', 'post_only', 'market')),
    ADD CONSTRAINT orders_time_in_force_check CHECK (time_in_force IN ('gtc', 'ioc', 'fok'));
ALTER TABLE venue_orders
    ADD CONSTRAINT venue_orders_type_check CHECK (type IN ('limit', 'post_only', 'market')),
    ADD CONSTRAINT venue_orders_time_in_force_check CHECK (time_in_force IN ('gtc', 'ioc', 'fok')),
    ADD CONSTRAINT venue_orders_status_check
        CHECK (status IN ('open', 'partially_filled', 'filled', 'cancelled', 'pending_cancel', 'rejected',
                          'expired'));

-- The view of 0011, reading both envelopes as covered.
CREATE OR REPLACE VIEW decision_records AS
    SELECT d.id,
           CASE WHEN e.covered THEN (e.t->>'batch')::bigint ELSE d.batch_id END AS batch_id,
           CASE WHEN e.covered THEN (e.t->>'order')::bigint ELSE d.order_id END AS order_id,
           CASE WHEN e.covered THEN e.t->>'portfolio' ELSE d.portfolio_id END AS portfolio_id,
           CASE WHEN e.covered THEN e.t->>'kind' ELSE d.kind END AS kind,
           CASE WHEN e.covered THEN e.t->'record' ELSE e.t END AS payload,
           d.payload_text, d.prev_hash, d.hash,
           CASE WHEN e.covered THEN (e.t->>'at')::timestamptz ELSE d.created_at END AS created_at,
           e.covered
    FROM decisions d
    CROSS JOIN LATERAL (
        SELECT t, coalesce(t->>'format' IN ('decision-record/2', 'decision-record/3'), false) AS covered
        FROM (SELECT d.payload_text::jsonb AS t) j
    ) e;
