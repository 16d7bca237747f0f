-- Restart recovery for the outboxes (issue 20): the node slot (`Store::join_as_node`) of the
-- process sending a webhook message or an e-mail, set when it is claimed and cleared when the
-- attempt is recorded, so a restarted process sends again at once what its previous
-- incarnation had in flight instead of waiting out the lease.
ALTER TABLE webhook_messages ADD COLUMN node BIGINT;
ALTER TABLE email_messages ADD COLUMN node BIGINT;
