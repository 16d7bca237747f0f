-- Who reviews a waiting version (issue 18): a reviewer claims it, or is assigned it. One
-- assignee per version; the queue shows it, and filters by it.
CREATE TABLE review_assignments (
    version_id BIGINT PRIMARY KEY REFERENCES versions (id),
    -- The audit log's name for the reviewer.
    assignee TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    assigned_at BIGINT NOT NULL
);

CREATE INDEX review_assignments_by_assignee ON review_assignments (assignee);
