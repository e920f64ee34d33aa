-- Durable jobs: every scheduled and outbound call (pulls, verification sweeps,
-- confirm-shipment, push-inventory, post-journal, notifications) runs as a job claimed
-- with a lease, retried by policy, and dead-lettered when retries are exhausted.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id     BIGINT  REFERENCES merchants (id),
    installation_id BIGINT  REFERENCES installations (id),
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    -- At most one queued or running job per key (e.g. one pull per installation).
    unique_key      TEXT,
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    -- Failed attempts that used up a retry (rate-limit waits do not).
    attempts        BIGINT  NOT NULL DEFAULT 0,
    -- Times the job was claimed.
    runs            BIGINT  NOT NULL DEFAULT 0,
    run_at          BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error_code TEXT,
    last_error      TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    finished_at     BIGINT
);
CREATE UNIQUE INDEX jobs_unique_active ON jobs (unique_key) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_due ON jobs (state, run_at);
CREATE INDEX jobs_by_merchant ON jobs (merchant_id, state, id);
