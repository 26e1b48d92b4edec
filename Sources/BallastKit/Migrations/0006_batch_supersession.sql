-- A later proposal for a portfolio supersedes its batches that were never sent: `execute` and
-- `approve` refuse a superseded batch, so two proposals for one portfolio never both trade.
-- superseded_by names the batch that replaced it (NULL when the later proposal found nothing to
-- trade).
ALTER TABLE batches DROP CONSTRAINT batches_status_check;
ALTER TABLE batches ADD CONSTRAINT batches_status_check
    CHECK (status IN ('proposed', 'approved', 'executing', 'completed', 'deferred', 'cancelled', 'failed',
                      'superseded'));
ALTER TABLE batches ADD COLUMN superseded_by bigint REFERENCES batches (id);
-- The batches a proposal looks at per portfolio: those not yet finished.
CREATE INDEX batches_open ON batches (portfolio_id, id) WHERE status IN ('proposed', 'approved', 'executing', 'deferred');
