-- Change notices (a listing's, or the platform's when listing_id is NULL) and deprecation
-- schedules (a range of a listing's versions, or a platform API version), each with the notice
-- that announced it. Dates are UTC days as 'YYYY-MM-DD', which order as text.
CREATE TABLE notices (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    listing_id BIGINT REFERENCES listings (id),
    kind TEXT NOT NULL CHECK (kind IN ('breaking', 'feature', 'fix', 'security', 'deprecation')),
    summary TEXT NOT NULL CHECK (summary <> ''),
    effective TEXT NOT NULL,
    action_required TEXT,
    audience TEXT NOT NULL CHECK (audience IN ('merchants', 'partners', 'everyone')),
    author TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX notices_by_listing ON notices (listing_id, id);

CREATE TABLE deprecations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    listing_id BIGINT REFERENCES listings (id),
    versions TEXT,
    api_version TEXT,
    stability TEXT NOT NULL CHECK (stability IN ('ga', 'beta', 'alpha')),
    announced TEXT NOT NULL,
    deprecated_from TEXT NOT NULL,
    sunset TEXT NOT NULL,
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    author TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK ((listing_id IS NOT NULL AND versions IS NOT NULL AND api_version IS NULL)
        OR (listing_id IS NULL AND versions IS NULL AND api_version IS NOT NULL))
);

CREATE INDEX deprecations_by_listing ON deprecations (listing_id, id);
CREATE INDEX deprecations_by_sunset ON deprecations (sunset);
