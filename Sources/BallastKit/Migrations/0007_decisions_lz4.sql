-- The hashed text of a decision record (a few kilobytes of JSON) compressed with lz4 and kept in
-- the row where it fits. Out of line and uncompressed (0004) it cost two TOAST rows, their index
-- entries and its full size in WAL per record; lz4, unlike the default pglz that 0004 turned off,
-- costs less than writing those. A server built without lz4 keeps the records as they were.
DO $$
BEGIN
    ALTER TABLE decisions ALTER COLUMN payload_text SET COMPRESSION lz4;
    ALTER TABLE decisions ALTER COLUMN payload_text SET STORAGE MAIN;
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    RAISE NOTICE 'decision records stay uncompressed: %', SQLERRM;
END $$;
