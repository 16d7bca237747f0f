-- The durable job queue (DESIGN §5): review jobs from submissions and re-check jobs from rule
-- packs, partner-check updates and platform API deprecations. Leases are stamped with the
-- database's clock and carry a claim token (`lease`), so a completion from an expired lease is
-- refused. A job's `dedupe` key makes every trigger enqueue it once; a re-check's verdict is
-- unique per job.
CREATE TABLE rule_packs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    digest TEXT NOT NULL,
    manifest TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('shadow', 'enforce')),
    enforce_at BIGINT,
    applied_at BIGINT,
    published_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (name, version)
);

CREATE TABLE rule_pack_components (
    pack_id BIGINT NOT NULL REFERENCES rule_packs (id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL REFERENCES plugins (digest),
    PRIMARY KEY (pack_id, position)
);

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('review', 'recheck')),
    version_id BIGINT NOT NULL REFERENCES versions (id),
    pack_id BIGINT REFERENCES rule_packs (id),
    reason TEXT NOT NULL,
    dedupe TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
    attempts BIGINT NOT NULL DEFAULT 0,
    lost BIGINT NOT NULL DEFAULT 0,
    lease BIGINT NOT NULL DEFAULT 0,
    leased_until BIGINT,
    worker TEXT,
    run_after BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);

INSERT INTO jobs (id, kind, version_id, reason, dedupe, state, attempts, leased_until, created_at, finished_at)
SELECT id, 'review', version_id, 'submission', 'review:' || version_id, state, attempts, leased_until, created_at, finished_at
FROM review_jobs;

DROP TABLE review_jobs;

-- Claims walk claimable jobs in id order and stop after a batch: fresh ones (`jobs_waiting`,
-- which finished jobs leave, so a claim never skips over them) and suspects (jobs whose worker
-- was lost, and running ones: few, so their index stays small however long the queue).
CREATE INDEX jobs_claim ON jobs (state, kind, id);
CREATE INDEX jobs_suspects ON jobs (id) WHERE state = 'pending' AND (lost > 0 OR leased_until IS NOT NULL);
CREATE INDEX jobs_waiting ON jobs (id) WHERE state = 'pending' AND leased_until IS NULL AND lost = 0;
CREATE INDEX jobs_by_pack ON jobs (pack_id, state);

CREATE TABLE rechecks (
    id INTEGER PRIMARY KEY,
    job_id BIGINT NOT NULL UNIQUE REFERENCES jobs (id),
    version_id BIGINT NOT NULL REFERENCES versions (id),
    pack_id BIGINT REFERENCES rule_packs (id),
    pack_name TEXT NOT NULL,
    pack_version TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'error')),
    blocking TEXT NOT NULL,
    findings TEXT NOT NULL,
    fuel BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX rechecks_by_pack ON rechecks (pack_id, verdict);
CREATE INDEX rechecks_by_version ON rechecks (version_id, id);

-- A partner's new version of its own checks for a live listing version. Re-checks run the
-- latest one; the version keeps the checks it shipped with (its reviews and bundles name them).
CREATE TABLE check_updates (
    id INTEGER PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    author TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX check_updates_by_version ON check_updates (version_id, id);

CREATE TABLE check_update_components (
    update_id BIGINT NOT NULL REFERENCES check_updates (id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL REFERENCES plugins (digest),
    PRIMARY KEY (update_id, position)
);

CREATE TABLE quarantine (
    digest TEXT PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES jobs (id),
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A platform API version's deprecation re-checks the listings that target it once, when it
-- takes effect; this marks the schedules whose re-checks are enqueued.
ALTER TABLE deprecations ADD COLUMN rechecked_at BIGINT;
