-- Webhook endpoints people can manage and trust (issue 17): health (last success, failures in
-- a row, since when, the last error as partners may see it), an endpoint-level backoff so a
-- failing endpoint is probed rather than hammered, pausing (by its owner, or automatically
-- after failing for a configured period, with the reason), and secret rotation (the previous
-- secret keeps signing until its grace period ends).
ALTER TABLE webhook_endpoints ADD COLUMN paused_at BIGINT;
ALTER TABLE webhook_endpoints ADD COLUMN paused_reason TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN failing_since BIGINT;
ALTER TABLE webhook_endpoints ADD COLUMN failures_in_a_row BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhook_endpoints ADD COLUMN last_success_at BIGINT;
ALTER TABLE webhook_endpoints ADD COLUMN last_failure_at BIGINT;
ALTER TABLE webhook_endpoints ADD COLUMN last_error TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN retry_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN previous_secret_until BIGINT;

-- Claims take each endpoint's oldest due messages in turn.
CREATE INDEX webhook_messages_by_endpoint ON webhook_messages (endpoint_id, state, next_attempt_at);

-- Typed events: a review's verdict is `listing.version.reviewed`; approvals, requests for
-- changes and rejections are one `listing.version.decided` (its `action` says which).
UPDATE webhook_endpoints SET events = REPLACE(REPLACE(REPLACE(REPLACE(events,
    'listing.review.finished', 'listing.version.reviewed'),
    'listing.version.approved', 'listing.version.decided'),
    'listing.version.changes_requested', 'listing.version.decided'),
    'listing.version.rejected', 'listing.version.decided');
