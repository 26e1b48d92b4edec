-- The measure step rewrites order_measures for its period on every run (50,000 rows at a million
-- fills) while the report writes its workbook. The table's two foreign keys cost more than the rows
-- themselves: PostgreSQL checks each inserted row against orders and job_runs one by one, locking
-- the referenced row (on this table's shape, 50,000 rows took 0.90 s with the checks and 0.18 s
-- without), and that database CPU lands on the core the report's reader shares.
--
-- The rows are derived, and what the checks guarded is already guaranteed:
-- - each row is written by the measure step from a SELECT of the order it names;
-- - an order that was sent (the only kind measured) cannot be deleted: its attempts and its decision
--   record, both append-only, reference it;
-- - job_runs rows are never deleted.
ALTER TABLE order_measures
    DROP CONSTRAINT order_measures_order_id_fkey,
    DROP CONSTRAINT order_measures_run_id_fkey;
