-- People and organisations (issue 16). The platform's staff are one organisation (partner_id
-- NULL), each partner another; a user belongs to one organisation with one role, and leaving it
-- (`left_at`) ends what their tokens may do. E-mail addresses are stored lower-case.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    partner_id BIGINT REFERENCES partners (id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'owner', 'developer', 'viewer')),
    created_at BIGINT NOT NULL,
    left_at BIGINT,
    CHECK ((partner_id IS NULL) = (role IN ('admin', 'reviewer')))
);

CREATE INDEX users_by_partner ON users (partner_id, email);

-- A token has a name, an owner (a user, or — `user_id` NULL — a service account of the
-- organisation its `role`/`partner_id` name), scopes, and the time it was last used. Tokens
-- issued before this migration become service accounts named `token-ID` with the scopes their
-- role had. `replaced_by` is the token a rotation issued in its place.
ALTER TABLE tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN user_id BIGINT REFERENCES users (id);
ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;
ALTER TABLE tokens ADD COLUMN replaced_by BIGINT;
UPDATE tokens SET name = 'token-' || id;
UPDATE tokens SET scopes = CASE role
    WHEN 'partner' THEN 'read,submit'
    WHEN 'reviewer' THEN 'read,review'
    ELSE 'read,review,admin' END;

CREATE INDEX tokens_by_user ON tokens (user_id);
CREATE INDEX tokens_by_partner ON tokens (partner_id);

-- A suspended partner keeps its listings but can create and submit nothing until restored.
ALTER TABLE partners ADD COLUMN suspended_at BIGINT;
