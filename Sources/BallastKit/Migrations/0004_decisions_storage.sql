-- Decision records are written far more often than they are read, and each is a few kilobytes of
-- JSON stored twice (the hashed text and the jsonb for queries). Compressing them on the way in
-- cost more than the rest of a proposal's writes; keep them uncompressed (out of line when large).
ALTER TABLE decisions ALTER COLUMN payload SET STORAGE EXTERNAL;
ALTER TABLE decisions ALTER COLUMN payload_text SET STORAGE EXTERNAL;
