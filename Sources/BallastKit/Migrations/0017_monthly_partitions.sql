-- History that keeps growing: fills, HTTP attempts and the market observations (book tickers,
-- depth snapshots) become tables partitioned by month (PostgreSQL declarative range
-- partitioning), each with a default partition that catches anything outside the months made.
-- Every existing row is moved; ids, sequences, foreign keys, indexes and append-only triggers
-- carry over. A primary or unique key of a partitioned table must hold its partition column, so
-- the keys gain the time: fills (venue, account, symbol, trade id, executed_at) — a venue reports
-- one time per trade, so a fill pulled twice still collides — and the others (id, time).
--
-- order_attempts.http_attempt_id can no longer be a foreign key (http_attempts.id alone is not a
-- key); a trigger refuses an order attempt naming an HTTP attempt that does not exist instead.
--
-- Months ahead are made by ballast_ensure_partitions() (runs call it; it runs as the schema's
-- owner, so ballast_app needs no DDL). ballast_drop_market_months(before) drops whole months of
-- market observations older than `before` (the retention setting); fills, HTTP attempts and
-- decisions are never dropped.
CREATE TABLE partitioned_tables (
    name         text PRIMARY KEY,
    time_column  text NOT NULL,
    -- Market observations: whole months older than the retention may be dropped.
    market       boolean NOT NULL
);
INSERT INTO partitioned_tables VALUES
    ('fills', 'executed_at', false), ('http_attempts', 'started_at', false),
    ('book_tickers', 'observed_at', true), ('depth_snapshots', 'observed_at', true);

-- Makes `tbl`'s partition for the month starting `month` unless it exists or rows of that month
-- already sit in the default partition (they stay there: still read, only not pruned by month).
CREATE FUNCTION ballast_create_month(tbl text, month date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    part text := tbl || '_' || to_char(month, 'YYYY_MM');
    col text := (SELECT time_column FROM partitioned_tables WHERE name = tbl);
    stranded boolean;
BEGIN
    IF to_regclass(quote_ident(part)) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I >= $1 AND %I < $2)', tbl || '_default', col, col)
        INTO stranded USING month::timestamptz, (month + interval '1 month')::timestamptz;
    IF stranded THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)', part, tbl,
                   month::timestamptz, (month + interval '1 month')::timestamptz);
    RETURN true;
END
$$;

-- The partitions of every partitioned table for this month and the next `ahead`; returns how many
-- were made.
CREATE FUNCTION ballast_ensure_partitions(ahead integer DEFAULT 3) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    t record;
    made integer := 0;
    m integer;
BEGIN
    FOR t IN SELECT name FROM partitioned_tables ORDER BY name LOOP
        FOR m IN 0..ahead LOOP
            IF ballast_create_month(t.name, (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => m))::date) THEN
                made := made + 1;
            END IF;
        END LOOP;
    END LOOP;
    RETURN made;
END
$$;

-- Drops the monthly partitions of market observations that end at or before `before`; returns the
-- rows they held. Fills, HTTP attempts and decisions are never dropped.
CREATE FUNCTION ballast_drop_market_months(before timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    p record;
    n bigint;
    dropped bigint := 0;
BEGIN
    FOR p IN
        SELECT c.relname AS part, t.name AS parent,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz AS upper
        FROM partitioned_tables t
        JOIN pg_inherits i ON i.inhparent = to_regclass(quote_ident(t.name))
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE t.market AND NOT pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'
        ORDER BY c.relname
    LOOP
        CONTINUE WHEN p.upper > before;
        EXECUTE format('SELECT count(*) FROM %I', p.part) INTO n;
        EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', p.parent, p.part);
        EXECUTE format('DROP TABLE %I', p.part);
        dropped := dropped + n;
    END LOOP;
    RETURN dropped;
END
$$;

DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION ballast_ensure_partitions(integer) SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION ballast_drop_market_months(timestamptz) SET search_path = %I, pg_temp',
                   current_schema());
END
$$;
REVOKE ALL ON FUNCTION ballast_ensure_partitions(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION ballast_drop_market_months(timestamptz) FROM PUBLIC;

-- Turns `tbl` into a table partitioned by month on `col` with primary key `pk`, moving its rows.
CREATE FUNCTION ballast_partition_by_month(tbl text, col text, pk text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    old text := tbl || '_unpartitioned';
    schema text := current_schema();
    defs text[];
    def text;
    first date;
    m date;
    moved bigint;
    kept bigint;
BEGIN
    EXECUTE format('ALTER TABLE %I RENAME TO %I', tbl, old);
    -- Indexes, foreign keys and triggers as the table had them, to make again on the new one.
    SELECT array_agg(pg_get_indexdef(i.indexrelid) ORDER BY c.relname) INTO defs
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE i.indrelid = to_regclass(quote_ident(old)) AND NOT i.indisprimary;
    FOR def IN SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE i.indrelid = to_regclass(quote_ident(old)) AND NOT i.indisprimary LOOP
        EXECUTE format('DROP INDEX %I', def);
    END LOOP;
    EXECUTE format('ALTER TABLE %I RENAME CONSTRAINT %I TO %I', old, tbl || '_pkey', old || '_pkey');
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (%I)',
                   tbl, old, col);
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (%s)', tbl, tbl || '_pkey', pk);
    FOR def IN SELECT pg_get_constraintdef(oid) FROM pg_constraint
               WHERE conrelid = to_regclass(quote_ident(old)) AND contype = 'f' ORDER BY conname LOOP
        EXECUTE format('ALTER TABLE %I ADD %s', tbl, def);
    END LOOP;
    FOREACH def IN ARRAY coalesce(defs, ARRAY[]::text[]) LOOP
        EXECUTE replace(def, ' ON ' || quote_ident(schema) || '.' || quote_ident(old) || ' ',
                        ' ON ' || quote_ident(schema) || '.' || quote_ident(tbl) || ' ');
    END LOOP;
    FOR def IN SELECT pg_get_triggerdef(oid) FROM pg_trigger
               WHERE tgrelid = to_regclass(quote_ident(old)) AND NOT tgisinternal ORDER BY tgname LOOP
        EXECUTE replace(def, ' ON ' || quote_ident(schema) || '.' || quote_ident(old) || ' ',
                        ' ON ' || quote_ident(schema) || '.' || quote_ident(tbl) || ' ');
    END LOOP;
    -- A month for every month the rows span, this month and three ahead; anything else, default.
    EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', tbl || '_default', tbl);
    EXECUTE format('SELECT date_trunc(''month'', min(%I) AT TIME ZONE ''UTC'')::date FROM %I', col, old) INTO first;
    m := least(coalesce(first, current_date), date_trunc('month', now() AT TIME ZONE 'UTC')::date);
    WHILE m <= (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '3 months')::date LOOP
        PERFORM ballast_create_month(tbl, m);
        m := (m + interval '1 month')::date;
    END LOOP;
    EXECUTE format('INSERT INTO %I SELECT * FROM %I', tbl, old);
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE format('SELECT count(*) FROM %I', old) INTO kept;
    IF moved <> kept THEN
        RAISE EXCEPTION '%: % rows moved of %', tbl, moved, kept;
    END IF;
    -- The id sequence now belongs to the new table (it would go with the old one).
    FOR def IN SELECT s.relname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
               WHERE d.refobjid = to_regclass(quote_ident(old)) AND s.relkind = 'S' AND d.deptype = 'a' LOOP
        EXECUTE format('ALTER SEQUENCE %I OWNED BY %I.id', def, tbl);
    END LOOP;
    EXECUTE format('DROP TABLE %I CASCADE', old);
END
$$;

-- An order attempt names an HTTP attempt that exists (the foreign key it had).
CREATE FUNCTION ballast_check_http_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.http_attempt_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM http_attempts WHERE id = NEW.http_attempt_id) THEN
        RAISE EXCEPTION 'order attempt names HTTP attempt %, which does not exist', NEW.http_attempt_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END
$$;

-- A depth snapshot's update id stays its identity, checked by the insert (a unique index would
-- have to hold the time).
DROP INDEX depth_snapshots_update;
SELECT ballast_partition_by_month('fills', 'executed_at', 'venue_id, account_id, symbol, trade_id, executed_at');
SELECT ballast_partition_by_month('http_attempts', 'started_at', 'id, started_at');
SELECT ballast_partition_by_month('book_tickers', 'observed_at', 'id, observed_at');
SELECT ballast_partition_by_month('depth_snapshots', 'observed_at', 'id, observed_at');
DROP FUNCTION ballast_partition_by_month(text, text, text);

CREATE TRIGGER order_attempts_http_attempt_exists BEFORE INSERT OR UPDATE OF http_attempt_id ON order_attempts
    FOR EACH ROW EXECUTE FUNCTION ballast_check_http_attempt();
-- For the check above and for joins by id, now that the key is (id, started_at).
CREATE INDEX http_attempts_id ON http_attempts (id);
CREATE INDEX book_tickers_id ON book_tickers (id);
CREATE INDEX depth_snapshots_id ON depth_snapshots (id);
CREATE INDEX depth_snapshots_update ON depth_snapshots (venue_id, symbol, last_update_id);
ANALYZE fills;
ANALYZE http_attempts;
ANALYZE book_tickers;
ANALYZE depth_snapshots;

-- Grants: a partition is granted as the table it belongs to (its root's name decides).
CREATE OR REPLACE FUNCTION ballast_grant_roles() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
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
        SELECT c.relname, c.relkind,
               CASE WHEN c.relispartition THEN (SELECT r.relname FROM pg_class r WHERE r.oid = pg_partition_root(c.oid))
                    ELSE c.relname END AS root
        FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v')
    LOOP
        EXECUTE format('REVOKE ALL ON %I FROM ballast_app, ballast_reader', t.relname);
        EXECUTE format('GRANT SELECT ON %I TO ballast_app, ballast_reader', t.relname);
        IF t.relkind = 'v' OR t.root IN ('schema_migrations', 'partitioned_tables') THEN
            CONTINUE;
        ELSIF t.root = 'http_attempts' THEN
            EXECUTE format('GRANT INSERT ON %I TO ballast_app', t.relname);
            EXECUTE format('GRANT UPDATE (dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms, http_status, '
                           'venue_code, outcome, used_weight_1m, order_count_10s, order_count_1d, retry_after_s, '
                           'error) ON %I TO ballast_app', t.relname);
        ELSIF t.root = ANY (insert_only) THEN
            EXECUTE format('GRANT INSERT ON %I TO ballast_app', t.relname);
        ELSE
            EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %I TO ballast_app', t.relname);
        END IF;
    END LOOP;
    GRANT EXECUTE ON FUNCTION ballast_ensure_partitions(integer) TO ballast_app;
END
$$;

SELECT ballast_grant_roles();
