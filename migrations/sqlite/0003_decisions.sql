-- Reviewer decisions: who decided what, when and why.
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    actor TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('approve', 'request_changes', 'reject', 'certify')),
    note TEXT NOT NULL CHECK (note <> ''),
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX decisions_by_version ON decisions (version_id);
