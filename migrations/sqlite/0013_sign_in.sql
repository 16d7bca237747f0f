-- Signing in through an OpenID provider (issue 16). A sign-in in progress is kept server-side
-- under the SHA-256 of its `state`, bound to the browser that started it (the SHA-256 of a
-- secret in that browser's cookie), used once and for ten minutes at most.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next TEXT NOT NULL,
    invitation_hash TEXT,
    expires_at BIGINT NOT NULL
);

-- Invitations: an owner or an admin invites an e-mail address into an organisation with a
-- role; the invitee signs in with that address and joins. Only the secret's SHA-256 is kept;
-- an invitation works once and until it expires.
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    partner_id BIGINT REFERENCES partners (id),
    role TEXT NOT NULL CHECK (role IN ('admin', 'reviewer', 'owner', 'developer', 'viewer')),
    invited_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    CHECK ((partner_id IS NULL) = (role IN ('admin', 'reviewer')))
);
