-- Requests on record before they leave, and runs whose holder is gone.
--
-- An HTTP attempt is written before its request is sent, as 'pending' with what it asks
-- (method, endpoint, weight, client order id, start time), and completed once when the answer
-- (or the failure) is known. If the row cannot be written the request is not sent, so every
-- order a venue holds has its placing request on record. A row still 'pending' is a request
-- whose answer nobody recorded: the process died or its database failed first.
--
-- The table stays append-only: a pending row may be completed once, changing only what the
-- answer tells (timings, status, codes, headers, outcome, error); nothing else may change and
-- nothing may be deleted.
ALTER TABLE http_attempts DROP CONSTRAINT http_attempts_outcome_check,
    ADD CONSTRAINT http_attempts_outcome_check
        CHECK (outcome IN ('pending', 'ok', 'venue_error', 'rate_limited', 'banned', 'server_error', 'timeout',
                           'transport_error', 'malformed'));

CREATE FUNCTION ballast_complete_pending_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.outcome = 'pending' AND NEW.outcome <> 'pending'
       AND NEW.id = OLD.id AND NEW.run_id IS NOT DISTINCT FROM OLD.run_id AND NEW.venue_id = OLD.venue_id
       AND NEW.account_id IS NOT DISTINCT FROM OLD.account_id AND NEW.method = OLD.method
       AND NEW.endpoint = OLD.endpoint AND NEW.weight = OLD.weight AND NEW.started_at = OLD.started_at
       AND NEW.client_order_id IS NOT DISTINCT FROM OLD.client_order_id THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'table % is append-only: % refused (only a pending request may be completed, once)',
        TG_TABLE_NAME, TG_OP;
END
$$;
DROP TRIGGER http_attempts_append_only ON http_attempts;
CREATE TRIGGER http_attempts_append_only BEFORE UPDATE OR DELETE ON http_attempts
    FOR EACH ROW EXECUTE FUNCTION ballast_complete_pending_attempt();

-- The server session a run holds, so that a later run can tell a run still going from one whose
-- process died or lost its database (its backend is gone): those are marked 'interrupted'.
-- Bookkeeping only: no measure reads these columns.
ALTER TABLE job_runs ADD COLUMN backend_pid integer, ADD COLUMN backend_start timestamptz;
