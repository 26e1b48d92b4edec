-- Each step of a `ballast run`: when it started and ended, how it ended, what it did (rows and a
-- line of detail) and its error. `ballast run --resume RUN_ID` skips the steps that completed and
-- redoes the rest; `ballast runs` lists them under each run. Also reconcile's marks (below).
CREATE TABLE run_steps (
    run_id       text NOT NULL REFERENCES job_runs (id),
    step         text NOT NULL,
    position     integer NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    outcome      text NOT NULL CHECK (outcome IN ('running', 'completed', 'failed')),
    rows         bigint,
    detail       text,
    error        text,
    attempts     integer NOT NULL DEFAULT 1,
    PRIMARY KEY (run_id, step)
);

-- A resumed run counts how often it was resumed.
ALTER TABLE job_runs ADD COLUMN resumed integer NOT NULL DEFAULT 0;

-- Per account, the newest balance snapshot reconcile has checked: the next reconcile starts from it
-- instead of re-checking every snapshot pair the account ever had.
CREATE TABLE reconcile_marks (
    account_id   text PRIMARY KEY REFERENCES accounts (id),
    snapshot_id  bigint NOT NULL,
    snapshot_at  timestamptz NOT NULL,
    checked_at   timestamptz NOT NULL
);

SELECT ballast_grant_roles();
