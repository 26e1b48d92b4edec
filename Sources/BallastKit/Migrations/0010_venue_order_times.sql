-- When the venue accepted each order, on the venue's clock (its transactTime, or the order's
-- time in a lookup). Times to fill subtract this from the fills' venue times: both sides of the
-- subtraction on one clock. (orders.created_at is when the proposal wrote the row: bookkeeping,
-- read by no measure of latency.)
ALTER TABLE orders ADD COLUMN venue_created_at timestamptz;

-- On the decide → execute → measure path, times are parameters from the run's clock (so a replay
-- in virtual time stores virtual times): batches.created_at and approved_at, orders.created_at and
-- updated_at, order_attempts.started_at, batches.finished_at on completion. DEFAULT now() and now()
-- remain only on bookkeeping that no measure reads: *.updated_at of venues, accounts, symbols,
-- portfolios, rate budgets and fill cursors; measured_at of the measures; pulled_at, observed_at
-- and detected_at of pulls and reconciliation; job_runs' start and end; schema_migrations.applied_at.
