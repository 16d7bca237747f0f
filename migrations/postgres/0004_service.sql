-- Partner check components by digest, the checks each version ships, the review job that a
-- submission enqueues in its own transaction, and reviewers' waivers.
CREATE TABLE plugins (
    digest TEXT PRIMARY KEY,
    bytes BYTEA NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE version_checks (
    version_id BIGINT NOT NULL REFERENCES versions (id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL REFERENCES plugins (digest),
    PRIMARY KEY (version_id, position)
);

CREATE TABLE review_jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    attempts BIGINT NOT NULL DEFAULT 0,
    leased_until BIGINT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
);

CREATE INDEX review_jobs_pending ON review_jobs (state, id);

CREATE TABLE waivers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    listing_id BIGINT NOT NULL REFERENCES listings (id),
    rule_id TEXT NOT NULL,
    versions TEXT NOT NULL,
    justification TEXT NOT NULL CHECK (justification <> ''),
    approver TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX waivers_by_listing ON waivers (listing_id, rule_id);

-- Findings belong to the check run that reported them (older rows: NULL).
ALTER TABLE findings ADD COLUMN check_run_id BIGINT REFERENCES check_runs (id);

-- The review queue is ordered by how long a version has waited.
CREATE INDEX versions_by_listing ON versions (listing_id, id);
