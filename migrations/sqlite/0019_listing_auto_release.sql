-- A listing may release its approved versions at once (`approved → published`) instead of
-- waiting for the partner to release each (issue 18).
ALTER TABLE listings ADD COLUMN auto_release BIGINT NOT NULL DEFAULT 0;
