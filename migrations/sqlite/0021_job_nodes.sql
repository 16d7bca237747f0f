-- Restart recovery and the submit-to-verdict clock (issue 20). `node`: the slot of the
-- process that holds a job's lease (`Store::join_as_node`), so a restarted process takes back
-- its previous incarnation's leases at once instead of waiting them out. `enqueued_ms`: when a
-- review job was queued, in milliseconds, for the submit→verdict histogram.
ALTER TABLE jobs ADD COLUMN node BIGINT;
ALTER TABLE jobs ADD COLUMN enqueued_ms BIGINT;
