-- Signed checkpoints of the audit chain's head: (seq, hash) signed with the server's key, which
-- lives outside the database. A checkpoint past the end of the chain, or naming a hash the chain
-- no longer has at its seq, shows that events were removed from the end or the tail rewritten.
CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    at BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL
);
