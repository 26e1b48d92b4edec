-- What a decision saw stays answerable.
--
-- Symbol rules (`symbols`), fee rates (`accounts`) and portfolio configurations (`portfolios`,
-- whose `config` now holds the whole configuration as canonical JSON and `config_hash` its
-- SHA-256) are overwritten in place when they change. From here on every change is also kept:
-- a trigger appends the row's content to `input_versions` when the row is inserted and when an
-- update changes more than its updated_at (a pull that finds the same rules adds nothing). `input_versions` is
-- append-only. The observations a decision reads — book tickers, depth snapshots, balance
-- snapshots and their balances — become append-only too (UPDATE, DELETE and TRUNCATE refused),
-- so the ids a decision record names keep pointing at what it saw.
CREATE TABLE input_versions (
    id           bigserial PRIMARY KEY,
    source       text NOT NULL,           -- the table: symbols, accounts or portfolios
    key          text NOT NULL,           -- the row's key: venue/symbol, account id, portfolio id
    content      jsonb NOT NULL,          -- the row as stored, without updated_at
    recorded_at  timestamptz NOT NULL DEFAULT now()  -- bookkeeping: when this version was first seen
);
CREATE INDEX input_versions_key ON input_versions (source, key, id DESC);

CREATE FUNCTION ballast_keep_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    content jsonb := to_jsonb(NEW) - 'updated_at';
BEGIN
    -- An update that changes nothing but updated_at (a pull finding the same rules) keeps no version.
    IF TG_OP = 'UPDATE' THEN
        IF (to_jsonb(OLD) - 'updated_at') IS NOT DISTINCT FROM content THEN
            RETURN NULL;
        END IF;
    END IF;
    -- The key is read through the JSON: a record's fields are resolved per table, and not every
    -- table has each.
    INSERT INTO input_versions (source, key, content)
    VALUES (TG_TABLE_NAME::text,
            CASE TG_TABLE_NAME WHEN 'symbols' THEN (content->>'venue_id') || '/' || (content->>'symbol')
                               ELSE content->>'id' END,
            content);
    RETURN NULL;
END
$$;

CREATE TRIGGER symbols_versions AFTER INSERT OR UPDATE ON symbols
    FOR EACH ROW EXECUTE FUNCTION ballast_keep_version();
CREATE TRIGGER accounts_versions AFTER INSERT OR UPDATE ON accounts
    FOR EACH ROW EXECUTE FUNCTION ballast_keep_version();
CREATE TRIGGER portfolios_versions AFTER INSERT OR UPDATE ON portfolios
    FOR EACH ROW EXECUTE FUNCTION ballast_keep_version();

-- The rows that exist now are their first versions.
INSERT INTO input_versions (source, key, content)
SELECT 'symbols', venue_id || '/' || symbol, to_jsonb(s) - 'updated_at' FROM symbols s ORDER BY venue_id, symbol;
INSERT INTO input_versions (source, key, content)
SELECT 'accounts', id, to_jsonb(a) - 'updated_at' FROM accounts a ORDER BY id;
INSERT INTO input_versions (source, key, content)
SELECT 'portfolios', id, to_jsonb(p) - 'updated_at' FROM portfolios p ORDER BY id;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['input_versions', 'book_tickers', 'depth_snapshots', 'balance_snapshots', 'balances']
    LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION ballast_refuse_change()', t || '_append_only', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION ballast_refuse_change()', t || '_no_truncate', t);
    END LOOP;
END
$$;

-- ballast_app may add versions and observations, never change them (the grants follow the triggers).
SELECT ballast_grant_roles();
