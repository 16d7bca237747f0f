-- Partner webhooks (Standard Webhooks): endpoints, a durable outbox of messages, and a log of
-- every delivery attempt. Events are fanned out from the audit log, which every trigger already
-- writes in its own transaction; the fan-out cursor moves in the same transaction as the
-- messages it creates, so no event is lost or enqueued twice.
CREATE TABLE webhook_endpoints (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX webhook_endpoints_by_partner ON webhook_endpoints (partner_id, id);

CREATE TABLE webhook_cursor (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

INSERT INTO webhook_cursor (name, seq) VALUES ('audit', 0);

CREATE TABLE webhook_messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints (id),
    msg_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at BIGINT,
    last_error TEXT,
    UNIQUE (endpoint_id, msg_id)
);

CREATE INDEX webhook_messages_due ON webhook_messages (state, next_attempt_at);

CREATE TABLE webhook_deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES webhook_messages (id),
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL
);

CREATE INDEX webhook_deliveries_by_message ON webhook_deliveries (message_id, id);
