-- Decision records whose every column is under the hash.
--
-- Until now a record's hash covered its decision text only: batch_id, order_id, portfolio_id,
-- kind and created_at sat beside it unchecked, and reports join and filter on them. From here on
-- the hashed text is an envelope that carries them:
--
--   {"at":"2026-11-30T14:37:01.123Z","batch":12,"format":"decision-record/2","kind":"order",
--    "order":345,"portfolio":"demo","record":{...the decision...}}
--
-- (canonical JSON: keys sorted, no whitespace; "batch" and "order" absent when null). The table
-- keeps the columns, for its keys and indexes, with the same values; `ballast audit verify` refuses
-- a row whose columns differ from its hashed text, and no record without the envelope may follow
-- one with it. Records written before this migration keep their hashes and still verify; their
-- columns are not covered, and `audit verify` counts them as legacy.
--
-- The view reads what the hash covers: for an enveloped record every column is derived from the
-- hashed text and `payload` is the decision inside it; for a legacy record the columns are the
-- table's, as before. `covered` says which.
CREATE OR REPLACE VIEW decision_records AS
    SELECT d.id,
           CASE WHEN e.covered THEN (e.t->>'batch')::bigint ELSE d.batch_id END AS batch_id,
           CASE WHEN e.covered THEN (e.t->>'order')::bigint ELSE d.order_id END AS order_id,
           CASE WHEN e.covered THEN e.t->>'portfolio' ELSE d.portfolio_id END AS portfolio_id,
           CASE WHEN e.covered THEN e.t->>'kind' ELSE d.kind END AS kind,
           CASE WHEN e.covered THEN e.t->'record' ELSE e.t END AS payload,
           d.payload_text, d.prev_hash, d.hash,
           CASE WHEN e.covered THEN (e.t->>'at')::timestamptz ELSE d.created_at END AS created_at,
           e.covered
    FROM decisions d
    CROSS JOIN LATERAL (
        SELECT t, coalesce(t->>'format' = 'decision-record/2', false) AS covered
        FROM (SELECT d.payload_text::jsonb AS t) j
    ) e;
