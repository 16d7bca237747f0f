-- Integration checks: which runs were integration checks, what they sent to the platform, and
-- their transcript of platform calls; and what a review ran against, so it can be replayed.
ALTER TABLE check_runs ADD COLUMN integration BIGINT NOT NULL DEFAULT 0;
ALTER TABLE check_runs ADD COLUMN platform_calls BIGINT NOT NULL DEFAULT 0;
ALTER TABLE check_runs ADD COLUMN bytes_out BIGINT NOT NULL DEFAULT 0;

CREATE TABLE platform_calls (
    check_run_id BIGINT NOT NULL REFERENCES check_runs (id),
    seq BIGINT NOT NULL,
    operation TEXT NOT NULL,
    scope TEXT NOT NULL,
    outcome TEXT NOT NULL,
    bytes_out BIGINT NOT NULL,
    PRIMARY KEY (check_run_id, seq)
);

-- The sandbox seed, the limits every check ran under (JSON, as the run bundle records them) and
-- the previous version a review compared against (NULL: none).
ALTER TABLE review_runs ADD COLUMN seed BIGINT;
ALTER TABLE review_runs ADD COLUMN limits TEXT;
ALTER TABLE review_runs ADD COLUMN previous_version_id BIGINT REFERENCES versions (id);
