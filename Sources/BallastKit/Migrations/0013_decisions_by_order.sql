-- Reports look up an order's decision record (its router estimate, its record id) by order id.
-- The column is checked against the hashed record by `ballast audit verify`, which every report
-- runs first, so the lookup may use it; this index makes it one probe per order instead of a scan.
CREATE INDEX decisions_order ON decisions (order_id) WHERE order_id IS NOT NULL;
