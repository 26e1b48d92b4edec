-- Least privilege: the roles the job and report readers should use.
--
--   ballast_app     what every command but `ballast db migrate` needs, and nothing more: no DDL
--                   (no CREATE on the schema, no ALTER, no TRIGGER, no TRUNCATE); decision records,
--                   order attempts, fills and market observations (book tickers, depth, balance
--                   snapshots and balances, throttle events, reconciliation breaks) insert-only;
--                   an HTTP attempt's answer may be filled in once (UPDATE of the answer's columns
--                   only, and the table's trigger allows it on a pending row alone); every other
--                   table read and written.
--   ballast_reader  SELECT on every table and view, for report consumers.
--
-- Both are NOLOGIN groups: a DBA gives a login role membership, e.g.
--   CREATE ROLE ballast_job LOGIN PASSWORD '…' IN ROLE ballast_app;
-- The owner (the role that runs `ballast db migrate`) keeps DDL. Temporary tables, which pull
-- uses to stage fills, need the database's TEMPORARY privilege (PostgreSQL grants it to PUBLIC
-- by default). ballast_reporter (migration 0001) is kept and made a member of ballast_reader.
--
-- Grants are made by ballast_grant_roles(), over the tables that exist when it runs: a later
-- migration that adds a table calls it again (an append-only table, one with a ballast_refuse_change
-- trigger, is insert-only without naming it here). Creating roles needs CREATEROLE; without it the
-- migration goes on and says so (a DBA creates the two roles and runs SELECT ballast_grant_roles()).
CREATE FUNCTION ballast_grant_roles() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    -- Insert-only: every table whose trigger refuses UPDATE and DELETE (ballast_refuse_change), and
    -- these, which nothing in Ballast changes once written.
    insert_only text[] := ARRAY['fills', 'book_tickers', 'depth_snapshots', 'balance_snapshots', 'balances',
        'throttle_events', 'reconciliation_breaks'];
    t record;
BEGIN
    insert_only := insert_only || ARRAY(
        SELECT DISTINCT c.relname::text FROM pg_trigger g
        JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_proc p ON p.oid = g.tgfoid
        WHERE p.proname = 'ballast_refuse_change' AND c.relnamespace = current_schema()::regnamespace);
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ballast_app')
       OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ballast_reader') THEN
        RAISE NOTICE 'ballast_app or ballast_reader does not exist: no grants made';
        RETURN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ballast_app, ballast_reader', current_schema());
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO ballast_app', current_schema());
    FOR t IN
        SELECT c.relname, c.relkind FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v')
    LOOP
        EXECUTE format('REVOKE ALL ON %I FROM ballast_app, ballast_reader', t.relname);
        EXECUTE format('GRANT SELECT ON %I TO ballast_app, ballast_reader', t.relname);
        IF t.relkind = 'v' OR t.relname = 'schema_migrations' THEN
            CONTINUE;
        ELSIF t.relname = 'http_attempts' THEN
            GRANT INSERT ON http_attempts TO ballast_app;
            GRANT UPDATE (dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms, http_status, venue_code, outcome,
                          used_weight_1m, order_count_10s, order_count_1d, retry_after_s, error)
                ON http_attempts TO ballast_app;
        ELSIF t.relname = ANY (insert_only) THEN
            EXECUTE format('GRANT INSERT ON %I TO ballast_app', t.relname);
        ELSE
            EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %I TO ballast_app', t.relname);
        END IF;
    END LOOP;
END
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ballast_app') THEN
        CREATE ROLE ballast_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ballast_reader') THEN
        CREATE ROLE ballast_reader NOLOGIN;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ballast_reporter')
       AND NOT pg_has_role('ballast_reporter', 'ballast_reader', 'MEMBER') THEN
        GRANT ballast_reader TO ballast_reporter;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'ballast_app and ballast_reader not created: % (ask a DBA to create them)', SQLERRM;
END
$$;

SELECT ballast_grant_roles();
