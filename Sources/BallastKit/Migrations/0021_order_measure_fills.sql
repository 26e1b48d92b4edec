-- The measure step stores, with each order's totals, how many fills it had and how much of its
-- quantity was filled as maker. The Order costs sheet read both by aggregating every fill of the
-- period again (a second pass over the fills table, about a second per million fills while the
-- report writes); the measure step already reads each order's fills once, so it keeps them.
-- Rows measured before this migration hold 0 fills and no maker quantity until the period is
-- measured again (every report re-measures its period first).
ALTER TABLE order_measures
    ADD COLUMN fills integer NOT NULL DEFAULT 0,
    ADD COLUMN maker_qty numeric;
