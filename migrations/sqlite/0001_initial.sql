-- Released migrations are never edited: add a new file instead.
CREATE TABLE partners (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    capabilities TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE tokens (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('partner', 'reviewer', 'admin')),
    partner_id BIGINT REFERENCES partners (id),
    created_at BIGINT NOT NULL,
    CHECK ((role = 'partner') = (partner_id IS NOT NULL))
);

CREATE TABLE listings (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    created_at BIGINT NOT NULL
);

CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    listing_id BIGINT NOT NULL REFERENCES listings (id),
    version TEXT NOT NULL,
    manifest TEXT NOT NULL,
    digest TEXT NOT NULL,
    state TEXT NOT NULL,
    revision BIGINT NOT NULL DEFAULT 0,
    certified BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (listing_id, version)
);

CREATE INDEX versions_by_state ON versions (state, updated_at);

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
