-- A review run: one listing version x one rule-pack version; its check runs and findings.
CREATE TABLE review_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    pack_name TEXT NOT NULL,
    pack_version TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'error')),
    created_at BIGINT NOT NULL,
    -- One verdict per (version, pack version): re-delivered results cannot double-record.
    UNIQUE (version_id, pack_name, pack_version)
);

CREATE TABLE check_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    review_id BIGINT NOT NULL REFERENCES review_runs (id),
    check_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    rule_version TEXT,
    platform BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    message TEXT,
    wall_time_us BIGINT NOT NULL,
    fuel BIGINT,
    peak_memory_bytes BIGINT NOT NULL,
    output_bytes BIGINT NOT NULL,
    log_bytes BIGINT NOT NULL
);

CREATE INDEX check_runs_by_review ON check_runs (review_id);

CREATE TABLE findings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    review_id BIGINT NOT NULL REFERENCES review_runs (id),
    rule_id TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error', 'blocker')),
    message TEXT NOT NULL,
    pointer TEXT NOT NULL,
    remediation TEXT,
    help_url TEXT NOT NULL,
    author TEXT NOT NULL CHECK (author IN ('platform', 'partner'))
);

CREATE INDEX findings_by_review ON findings (review_id);
