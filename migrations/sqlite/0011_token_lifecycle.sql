-- Tokens expire and can be revoked. Tokens issued before this migration expire 90 days after it.
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE tokens ADD COLUMN revoked_at BIGINT;
UPDATE tokens SET expires_at = CAST(strftime('%s', 'now') AS INTEGER) + 90 * 86400;
