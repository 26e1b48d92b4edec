-- When the venue accepted each order, on the venue's clock (its transactTime, or the order's
-- time in a lookup). Times to fill subtract this from the fills' venue times: both sides of the
-- subtraction on one clock. (orders.created_at is when the proposal wrote the row: bookkeeping,
-- read by no measure of latency.)
ALTER TABLE orders ADD COLUMN venue_created_at timestamptz;
