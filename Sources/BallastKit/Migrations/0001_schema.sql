-- Ballast schema v1.
--
-- Conventions: amounts are numeric (exact), times are timestamptz (stored UTC),
-- natural keys make every pull idempotent (INSERT ... ON CONFLICT DO NOTHING),
-- decision and attempt tables are append-only (a trigger refuses UPDATE,
-- DELETE and TRUNCATE). API secrets are never stored: an account keeps only a
-- fingerprint of its API key so processes sharing a key share one rate budget.

-- One row per `ballast` invocation that changes or reads state.
CREATE TABLE job_runs (
    id            text PRIMARY KEY,
    command       text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    status        text NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    config_hash   text,
    host          text,
    pid           integer,
    error         text
);

-- Exchanges (or simulated exchanges) and the dialect they speak.
CREATE TABLE venues (
    id            text PRIMARY KEY,
    dialect       text NOT NULL,
    base_url      text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- API identities at a venue. Never the key or secret: only a fingerprint.
CREATE TABLE accounts (
    id               text PRIMARY KEY,
    venue_id         text NOT NULL REFERENCES venues (id),
    key_fingerprint  text NOT NULL,
    maker_fee        numeric,
    taker_fee        numeric,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Trading rules per symbol from the venue (exchangeInfo filters). Zero disables a rule.
CREATE TABLE symbols (
    venue_id      text NOT NULL REFERENCES venues (id),
    symbol        text NOT NULL,
    base_asset    text NOT NULL,
    quote_asset   text NOT NULL,
    status        text NOT NULL,
    tick_size     numeric NOT NULL,
    min_price     numeric NOT NULL,
    max_price     numeric NOT NULL,
    step_size     numeric NOT NULL,
    min_qty       numeric NOT NULL,
    max_qty       numeric NOT NULL,
    min_notional  numeric NOT NULL DEFAULT 0,
    max_notional  numeric,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venue_id, symbol)
);

-- Portfolios, their targets and the accounts that hold them.
CREATE TABLE portfolios (
    id            text PRIMARY KEY,
    quote_asset   text NOT NULL,
    config        jsonb NOT NULL DEFAULT '{}',
    config_hash   text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE portfolio_targets (
    portfolio_id  text NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
    asset         text NOT NULL,
    weight        numeric NOT NULL CHECK (weight >= 0 AND weight <= 1),
    PRIMARY KEY (portfolio_id, asset)
);

CREATE TABLE portfolio_accounts (
    portfolio_id  text NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
    account_id    text NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (portfolio_id, account_id)
);

-- Balances as the venue reported them at one moment.
CREATE TABLE balance_snapshots (
    id            bigserial PRIMARY KEY,
    run_id        text REFERENCES job_runs (id),
    account_id    text NOT NULL REFERENCES accounts (id),
    taken_at      timestamptz NOT NULL,
    venue_time    timestamptz
);
CREATE INDEX balance_snapshots_account_time ON balance_snapshots (account_id, taken_at);
-- The venue's own update time identifies a state: pulling an unchanged account stores nothing new.
CREATE UNIQUE INDEX balance_snapshots_account_venue_time ON balance_snapshots (account_id, venue_time);

CREATE TABLE balances (
    snapshot_id   bigint NOT NULL REFERENCES balance_snapshots (id) ON DELETE CASCADE,
    asset         text NOT NULL,
    free          numeric NOT NULL,
    locked        numeric NOT NULL,
    PRIMARY KEY (snapshot_id, asset)
);

-- Best bid and offer at one moment.
CREATE TABLE book_tickers (
    id            bigserial PRIMARY KEY,
    run_id        text REFERENCES job_runs (id),
    venue_id      text NOT NULL REFERENCES venues (id),
    symbol        text NOT NULL,
    bid_price     numeric NOT NULL,
    bid_qty       numeric NOT NULL,
    ask_price     numeric NOT NULL,
    ask_qty       numeric NOT NULL,
    observed_at   timestamptz NOT NULL
);
CREATE INDEX book_tickers_symbol_time ON book_tickers (venue_id, symbol, observed_at DESC);

-- Order book depth at one moment; level i of a side is (prices[i], qtys[i]), best first.
CREATE TABLE depth_snapshots (
    id              bigserial PRIMARY KEY,
    run_id          text REFERENCES job_runs (id),
    venue_id        text NOT NULL REFERENCES venues (id),
    symbol          text NOT NULL,
    last_update_id  bigint NOT NULL,
    bid_prices      numeric[] NOT NULL,
    bid_qtys        numeric[] NOT NULL,
    ask_prices      numeric[] NOT NULL,
    ask_qtys        numeric[] NOT NULL,
    observed_at     timestamptz NOT NULL
);
CREATE INDEX depth_snapshots_symbol_time ON depth_snapshots (venue_id, symbol, observed_at DESC);
CREATE UNIQUE INDEX depth_snapshots_update ON depth_snapshots (venue_id, symbol, last_update_id);

-- Executions reported by the venue (ours or external). One row per venue trade.
CREATE TABLE fills (
    venue_id          text NOT NULL REFERENCES venues (id),
    account_id        text NOT NULL REFERENCES accounts (id),
    symbol            text NOT NULL,
    trade_id          bigint NOT NULL,
    order_id          bigint NOT NULL,
    order_list_id     bigint,
    side              text NOT NULL CHECK (side IN ('buy', 'sell')),
    price             numeric NOT NULL,
    qty               numeric NOT NULL,
    quote_qty         numeric NOT NULL,
    commission        numeric NOT NULL,
    commission_asset  text NOT NULL,
    is_maker          boolean NOT NULL,
    executed_at       timestamptz NOT NULL,
    pulled_at         timestamptz NOT NULL DEFAULT now(),
    run_id            text REFERENCES job_runs (id),
    PRIMARY KEY (venue_id, account_id, symbol, trade_id)
);
CREATE INDEX fills_account_time ON fills (account_id, executed_at);
-- Reports stream fills in time order; this lets them start without sorting the period first.
CREATE INDEX fills_time ON fills (executed_at, venue_id, trade_id);
CREATE INDEX fills_order ON fills (venue_id, symbol, order_id);

-- Where the next fills pull starts, per account and symbol (the fromId cursor).
CREATE TABLE fill_cursors (
    account_id    text NOT NULL REFERENCES accounts (id),
    symbol        text NOT NULL,
    next_from_id  bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, symbol)
);

-- Orders as the venue reports them (open orders, order history), ours or not.
CREATE TABLE venue_orders (
    venue_id          text NOT NULL REFERENCES venues (id),
    account_id        text NOT NULL REFERENCES accounts (id),
    symbol            text NOT NULL,
    order_id          bigint NOT NULL,
    client_order_id   text NOT NULL,
    side              text NOT NULL,
    type              text NOT NULL,
    time_in_force     text,
    price             numeric NOT NULL,
    orig_qty          numeric NOT NULL,
    executed_qty      numeric NOT NULL,
    cumulative_quote  numeric NOT NULL,
    status            text NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    observed_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venue_id, account_id, symbol, order_id)
);

-- A set of child orders proposed together for one portfolio.
CREATE TABLE batches (
    id            bigserial PRIMARY KEY,
    portfolio_id  text NOT NULL REFERENCES portfolios (id),
    run_id        text REFERENCES job_runs (id),
    status        text NOT NULL
                  CHECK (status IN ('proposed', 'approved', 'executing', 'completed', 'deferred', 'cancelled', 'failed')),
    notional      numeric NOT NULL DEFAULT 0,
    reason        text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    approved_by   text,
    approval      text CHECK (approval IN ('manual', 'automatic')),
    approved_at   timestamptz,
    finished_at   timestamptz
);

-- The parent trades a batch decided (one per asset to trade); children route them.
CREATE TABLE batch_parents (
    batch_id      bigint NOT NULL REFERENCES batches (id),
    parent        integer NOT NULL,
    portfolio_id  text NOT NULL REFERENCES portfolios (id),
    asset         text NOT NULL,
    quote         text NOT NULL,
    side          text NOT NULL CHECK (side IN ('buy', 'sell')),
    decided_qty   numeric NOT NULL CHECK (decided_qty > 0),
    decision_mid  numeric NOT NULL,
    reason        text NOT NULL,
    PRIMARY KEY (batch_id, parent)
);

-- Our child orders. A reprice is a new row (next generation, new intent key).
CREATE TABLE orders (
    id               bigserial PRIMARY KEY,
    batch_id         bigint NOT NULL REFERENCES batches (id),
    parent           integer NOT NULL DEFAULT 0,
    leg              integer NOT NULL,
    generation       integer NOT NULL DEFAULT 0,
    parent_order_id  bigint REFERENCES orders (id),
    intent_key       text NOT NULL UNIQUE,
    client_order_id  text NOT NULL UNIQUE,
    portfolio_id     text NOT NULL REFERENCES portfolios (id),
    account_id       text NOT NULL REFERENCES accounts (id),
    venue_id         text NOT NULL REFERENCES venues (id),
    symbol           text NOT NULL,
    side             text NOT NULL CHECK (side IN ('buy', 'sell')),
    style            text NOT NULL CHECK (style IN ('passive', 'marketable-limit', 'chase', 'market')),
    order_type       text NOT NULL,
    time_in_force    text,
    price            numeric,
    qty              numeric NOT NULL CHECK (qty > 0),
    arrival_mid      numeric,
    decision_mid     numeric,
    state            text NOT NULL
                     CHECK (state IN ('proposed', 'approved', 'sending', 'open', 'partially_filled', 'filled',
                                      'cancelled', 'expired', 'rejected', 'unknown')),
    venue_order_id   bigint,
    executed_qty     numeric NOT NULL DEFAULT 0,
    cumulative_quote numeric NOT NULL DEFAULT 0,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (batch_id, leg, generation)
);
CREATE INDEX orders_batch ON orders (batch_id);
CREATE INDEX orders_venue_order ON orders (venue_id, symbol, venue_order_id);

-- Every HTTP exchange with a venue: the venue-health data the router reads.
CREATE TABLE http_attempts (
    id               bigserial PRIMARY KEY,
    run_id           text REFERENCES job_runs (id),
    venue_id         text NOT NULL,
    account_id       text,
    method           text NOT NULL,
    endpoint         text NOT NULL,
    weight           integer NOT NULL DEFAULT 0,
    started_at       timestamptz NOT NULL,
    dns_ms           double precision,
    connect_ms       double precision,
    tls_ms           double precision,
    first_byte_ms    double precision,
    total_ms         double precision,
    http_status      integer,
    venue_code       integer,
    outcome          text NOT NULL
                     CHECK (outcome IN ('ok', 'venue_error', 'rate_limited', 'banned', 'server_error', 'timeout',
                                        'transport_error', 'malformed')),
    used_weight_1m   integer,
    order_count_10s  integer,
    order_count_1d   integer,
    retry_after_s    integer,
    client_order_id  text,
    error            text
);
CREATE INDEX http_attempts_venue_time ON http_attempts (venue_id, started_at);
CREATE INDEX http_attempts_client_order ON http_attempts (client_order_id) WHERE client_order_id IS NOT NULL;

-- What happened to each order request: create, query, cancel, fills lookup.
CREATE TABLE order_attempts (
    id               bigserial PRIMARY KEY,
    order_id         bigint NOT NULL REFERENCES orders (id),
    http_attempt_id  bigint REFERENCES http_attempts (id),
    action           text NOT NULL CHECK (action IN ('create', 'query', 'cancel', 'fills')),
    started_at       timestamptz NOT NULL,
    outcome          text NOT NULL,
    http_status      integer,
    venue_code       integer,
    venue_message    text,
    state_after      text,
    detail           jsonb
);
CREATE INDEX order_attempts_order ON order_attempts (order_id);

-- Throttle decisions of the rate-limit governor (waits, refusals, bans honoured).
CREATE TABLE throttle_events (
    id               bigserial PRIMARY KEY,
    run_id           text REFERENCES job_runs (id),
    venue_id         text NOT NULL,
    key_fingerprint  text NOT NULL,
    decided_at       timestamptz NOT NULL DEFAULT now(),
    decision         text NOT NULL,
    wait_ms          integer NOT NULL DEFAULT 0,
    reason           text NOT NULL
);

-- The shared request budget per venue and API key, so workers together stay under the limits.
CREATE TABLE rate_budgets (
    venue_id         text NOT NULL,
    key_fingerprint  text NOT NULL,
    window_start     timestamptz NOT NULL,
    weight_used      integer NOT NULL DEFAULT 0,
    orders_window_start timestamptz NOT NULL,
    orders_used      integer NOT NULL DEFAULT 0,
    backoff_until    timestamptz,
    banned_until     timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venue_id, key_fingerprint)
);

-- Why each order (or deferral) was decided: inputs, candidate routes, choice.
-- Hash-chained: hash = SHA-256(prev_hash || payload_text); `ballast audit verify` recomputes it.
CREATE TABLE decisions (
    id            bigserial PRIMARY KEY,
    batch_id      bigint REFERENCES batches (id),
    order_id      bigint REFERENCES orders (id),
    portfolio_id  text NOT NULL,
    kind          text NOT NULL,
    payload       jsonb NOT NULL,
    payload_text  text NOT NULL,
    prev_hash     text NOT NULL,
    hash          text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_batch ON decisions (batch_id);

-- Differences reconciliation found, each with the evidence that shows it.
CREATE TABLE reconciliation_breaks (
    id               bigserial PRIMARY KEY,
    run_id           text REFERENCES job_runs (id),
    kind             text NOT NULL CHECK (kind IN ('balance', 'order_fills', 'external_fill')),
    venue_id         text,
    account_id       text,
    asset            text,
    symbol           text,
    client_order_id  text,
    expected         numeric,
    actual           numeric,
    difference       numeric,
    evidence         jsonb NOT NULL,
    detected_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reconciliation_breaks_run ON reconciliation_breaks (run_id);

-- Append-only enforcement.
CREATE FUNCTION ballast_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$;

CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
    FOR EACH ROW EXECUTE FUNCTION ballast_refuse_change();
CREATE TRIGGER decisions_no_truncate BEFORE TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION ballast_refuse_change();
CREATE TRIGGER order_attempts_append_only BEFORE UPDATE OR DELETE ON order_attempts
    FOR EACH ROW EXECUTE FUNCTION ballast_refuse_change();
CREATE TRIGGER order_attempts_no_truncate BEFORE TRUNCATE ON order_attempts
    FOR EACH STATEMENT EXECUTE FUNCTION ballast_refuse_change();
CREATE TRIGGER http_attempts_append_only BEFORE UPDATE OR DELETE ON http_attempts
    FOR EACH ROW EXECUTE FUNCTION ballast_refuse_change();
CREATE TRIGGER http_attempts_no_truncate BEFORE TRUNCATE ON http_attempts
    FOR EACH STATEMENT EXECUTE FUNCTION ballast_refuse_change();

-- The read-only reporter role (created when this user may create roles).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ballast_reporter') THEN
        CREATE ROLE ballast_reporter NOLOGIN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ballast_reporter', current_schema());
    EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO ballast_reporter', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT ON TABLES TO ballast_reporter',
                   current_schema());
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ballast_reporter role not created: % (ask a DBA to create it)', SQLERRM;
END
$$;
