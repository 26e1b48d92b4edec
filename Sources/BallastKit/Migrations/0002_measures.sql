-- Measures: what the measure step computes from orders, fills and snapshots,
-- stored so reports (and anyone with SQL) read them like any other table.
-- Definitions are those of DESIGN.md; the code that computes them cites them.

-- Transaction-cost analysis of each child order.
CREATE TABLE order_measures (
    order_id               bigint PRIMARY KEY REFERENCES orders (id),
    run_id                 text REFERENCES job_runs (id),
    portfolio_id           text NOT NULL,
    venue_id               text NOT NULL,
    symbol                 text NOT NULL,
    style                  text NOT NULL,
    side                   text NOT NULL,
    ordered_qty            numeric NOT NULL,
    filled_qty             numeric NOT NULL,
    avg_price              numeric,
    arrival_mid            numeric,
    decision_mid           numeric,
    filled_notional        numeric NOT NULL,
    fees_quote             numeric NOT NULL,
    slippage_bps           numeric,
    fee_bps                numeric,
    fill_ratio             numeric NOT NULL,
    seconds_to_first_fill  double precision,
    seconds_to_last_fill   double precision,
    retries                integer NOT NULL DEFAULT 0,
    rejected               boolean NOT NULL DEFAULT false,
    measured_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_measures_route ON order_measures (venue_id, symbol, style);

-- Implementation shortfall (Perold) of each parent trade of a batch.
CREATE TABLE parent_measures (
    batch_id          bigint NOT NULL REFERENCES batches (id),
    parent            integer NOT NULL,
    portfolio_id      text NOT NULL,
    symbol            text NOT NULL,
    side              text NOT NULL,
    decision_qty      numeric NOT NULL,
    filled_qty        numeric NOT NULL,
    decision_mid      numeric NOT NULL,
    end_mid           numeric,
    decision_notional numeric NOT NULL,
    shortfall_quote   numeric NOT NULL,
    shortfall_bps     numeric,
    measured_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (batch_id, parent)
);

-- Per-route aggregates over a period.
CREATE TABLE route_measures (
    run_id                 text NOT NULL REFERENCES job_runs (id),
    period_from            timestamptz NOT NULL,
    period_to              timestamptz NOT NULL,
    venue_id               text NOT NULL,
    symbol                 text NOT NULL,
    style                  text NOT NULL,
    orders                 integer NOT NULL,
    filled_qty             numeric NOT NULL,
    filled_notional        numeric NOT NULL,
    slippage_bps_mean      numeric,
    slippage_bps_p50       numeric,
    slippage_bps_p95       numeric,
    fee_bps_mean           numeric,
    fill_ratio             numeric,
    median_seconds_to_fill double precision,
    rejects                integer NOT NULL DEFAULT 0,
    retries                integer NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, venue_id, symbol, style)
);

-- Realised drift per portfolio and asset, before a batch and after it.
CREATE TABLE drift_measures (
    run_id        text NOT NULL REFERENCES job_runs (id),
    portfolio_id  text NOT NULL,
    asset         text NOT NULL,
    phase         text NOT NULL CHECK (phase IN ('before', 'after')),
    value_quote   numeric NOT NULL,
    weight        numeric NOT NULL,
    target        numeric NOT NULL,
    drift         numeric NOT NULL,
    band          numeric,
    measured_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, portfolio_id, asset, phase)
);
