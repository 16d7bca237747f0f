-- Appeals, conversations and holds (issue 18).
--
-- An appeal names the reviewer decision it is against (once: `decision_id` is unique); a
-- reviewer other than the one who decided hears it, and the hearing moves it only out of
-- `open`, so of concurrent deciders exactly one wins.
CREATE TABLE appeals (
    id INTEGER PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    decision_id BIGINT NOT NULL UNIQUE REFERENCES decisions (id),
    statement TEXT NOT NULL CHECK (statement <> ''),
    appealed_by TEXT NOT NULL,
    appealed_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'upheld', 'overturned')),
    heard_by TEXT,
    rationale TEXT,
    decided_at BIGINT
);

CREATE INDEX appeals_by_state ON appeals (state, id);
CREATE INDEX appeals_by_version ON appeals (version_id);

-- Messages on a version, both ways; `internal` ones are staff's notes partners never see.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    author TEXT NOT NULL,
    staff BIGINT NOT NULL CHECK (staff IN (0, 1)),
    internal BIGINT NOT NULL CHECK (internal IN (0, 1) AND (internal = 0 OR staff = 1)),
    body TEXT NOT NULL CHECK (body <> ''),
    created_at BIGINT NOT NULL
);

CREATE INDEX messages_by_version ON messages (version_id, id);

-- Holds: a reviewer waits on the partner. At most one open hold per version; a hold's span
-- pauses the review clock.
CREATE TABLE holds (
    id INTEGER PRIMARY KEY,
    version_id BIGINT NOT NULL REFERENCES versions (id),
    reason TEXT NOT NULL CHECK (reason <> ''),
    placed_by TEXT NOT NULL,
    placed_at BIGINT NOT NULL,
    released_by TEXT,
    released_at BIGINT
);

CREATE UNIQUE INDEX holds_open ON holds (version_id) WHERE released_at IS NULL;
CREATE INDEX holds_by_version ON holds (version_id, id);
