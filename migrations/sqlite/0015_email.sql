-- E-mail to people (issue 17): a durable outbox like the webhooks' (leases, retries with
-- backoff, every attempt logged), per-person opt-outs by kind, and the token an unsubscribe
-- link carries. E-mails are fanned out from the audit log behind their own cursor, which
-- starts at the log's head: what happened before is not mailed.
CREATE TABLE email_messages (
    id INTEGER PRIMARY KEY,
    -- One e-mail per event and recipient (`audit_42_user_7`): fanning out twice stores it once.
    msg_key TEXT NOT NULL UNIQUE,
    -- NULL for an address that is not a user yet (an invitation).
    user_id BIGINT REFERENCES users (id),
    address TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- What it says, as JSON the sender renders into text and HTML parts.
    content TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    sent_at BIGINT,
    last_error TEXT
);

CREATE INDEX email_messages_due ON email_messages (state, next_attempt_at);

CREATE TABLE email_attempts (
    id INTEGER PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES email_messages (id),
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    error TEXT,
    duration_ms BIGINT NOT NULL
);

CREATE INDEX email_attempts_by_message ON email_attempts (message_id, attempt);

-- A row is an opt-out: the person receives no e-mail of that kind.
CREATE TABLE email_opt_outs (
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- What an unsubscribe link carries (random, made when the person is first mailed); it can
-- change that person's e-mail preferences and nothing else.
ALTER TABLE users ADD COLUMN unsubscribe_token TEXT;
CREATE UNIQUE INDEX users_by_unsubscribe_token ON users (unsubscribe_token);

INSERT INTO webhook_cursor (name, seq) SELECT 'email', COALESCE(MAX(seq), 0) FROM audit_events;
