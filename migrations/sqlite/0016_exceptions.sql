-- Exception requests (issue 18): a partner asks for an exception to a finding — the rule, the
-- versions, why, until when; staff grant it (possibly narrower or shorter) or deny it, with a
-- rationale. A grant is a waiver (`waiver_id`). With the two-person rule, a blocker's first
-- grant waits in `confirming` until a second reviewer confirms it. A decision moves the state
-- only from the one it read, so of concurrent deciders exactly one wins.
CREATE TABLE exception_requests (
    id INTEGER PRIMARY KEY,
    listing_id INTEGER NOT NULL REFERENCES listings (id),
    -- The version whose finding it is.
    version TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    -- The finding's severity when it was asked for.
    severity TEXT NOT NULL,
    -- What was asked for.
    versions TEXT NOT NULL,
    justification TEXT NOT NULL CHECK (justification <> ''),
    expires_at INTEGER NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('requested', 'confirming', 'granted', 'denied')),
    -- A first grant awaiting a second reviewer (two-person rule).
    first_decider TEXT,
    first_rationale TEXT,
    -- What is (or would be) granted.
    granted_versions TEXT,
    granted_expires_at INTEGER,
    decided_by TEXT,
    rationale TEXT,
    decided_at INTEGER,
    waiver_id INTEGER REFERENCES waivers (id)
);

CREATE INDEX exception_requests_by_listing ON exception_requests (listing_id, state);
CREATE INDEX exception_requests_by_rule ON exception_requests (rule_id, state);
