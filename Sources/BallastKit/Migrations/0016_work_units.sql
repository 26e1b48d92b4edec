-- A run's work split into units (`ballast run --workers N`, `ballast worker`): pull per venue's
-- rules, per account and per venue's books, reconcile, propose per chunk of portfolios, execute per batch, report.
-- Workers on any host claim ready units with FOR UPDATE SKIP LOCKED, the units of a stage only once
-- every unit of the stages before it is done, and hold a lease they renew with heartbeats: a unit
-- whose worker died (lease expired, its session's advisory lock on the unit gone) is claimed again.
CREATE TABLE work_units (
    id           bigserial PRIMARY KEY,
    run_id       text NOT NULL REFERENCES job_runs (id),
    stage        integer NOT NULL,
    kind         text NOT NULL
                 CHECK (kind IN ('pull_market', 'pull_account', 'pull_books', 'reconcile', 'propose', 'plan_execute', 'execute',
                                 'report')),
    subject      text NOT NULL DEFAULT '',
    state        text NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'claimed', 'done', 'failed')),
    worker       text,
    lease_until  timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    claimed_at   timestamptz,
    finished_at  timestamptz,
    detail       text,
    error        text,
    UNIQUE (run_id, stage, kind, subject)
);
CREATE INDEX work_units_open ON work_units (run_id, stage) WHERE state <> 'done';

-- Every claim and completion of a unit, by which worker: the record that each unit was done once.
CREATE TABLE work_unit_events (
    id        bigserial PRIMARY KEY,
    unit_id   bigint NOT NULL REFERENCES work_units (id),
    worker    text NOT NULL,
    event     text NOT NULL CHECK (event IN ('claimed', 'reclaimed', 'done', 'retry', 'failed', 'released')),
    at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX work_unit_events_unit ON work_unit_events (unit_id);

SELECT ballast_grant_roles();
