-- The web console (issue 7). A signed-in browser holds a random session secret in an HttpOnly
-- cookie; only the secret's SHA-256 is stored, so a copy of the database signs nobody in.
-- Signing out deletes the row; a session lasts until `expires_at` at most.
CREATE TABLE sessions (
    hash TEXT PRIMARY KEY,
    token_id BIGINT NOT NULL REFERENCES tokens (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Listings a page at a time in slug order, everyone's or a partner's. Pages compare slugs
-- byte by byte (COLLATE "C"), as SQLite does: a database's default collation may ignore the
-- dashes in slugs, which would break the prefix search and the page cursor.
CREATE INDEX listings_by_slug_bytes ON listings (slug COLLATE "C");
CREATE INDEX listings_by_partner ON listings (partner_id, slug COLLATE "C");

-- The review queue a page at a time: waiting versions in (waiting since, id) order.
CREATE INDEX versions_waiting ON versions (updated_at, id) WHERE state = 'awaiting_review';

-- A listing's audit trail a page at a time, newest first: its events are those whose subject is
-- `listing:{slug}` or starts with `listing:{slug}@`, two lookups in this index (byte order, as
-- for slugs above).
CREATE INDEX audit_by_subject ON audit_events (subject COLLATE "C");
