-- More webhook events (issue 28): an issue deleted, a comment edited or deleted, a file attached;
-- a count of the hook worker's tries of each row; and indexes for the delivery worker's claim.
-- They are outbox rows like the others, so a change and its event stay one transaction; people are
-- not notified of them (they are written with `delivered_at` set, so only the hook worker reads
-- them). A file's event names it in the new `attachment_id`.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('created', 'changed', 'commented', 'deleted',
    'comment_edited', 'comment_deleted', 'attachment_added'));
ALTER TABLE outbox ADD COLUMN attachment_id TEXT CHECK (attachment_id IS NULL OR length(attachment_id) = 36);
-- How often the hook worker has tried to fan the row out (set aside after a few failures).
ALTER TABLE outbox ADD COLUMN hooks_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD CONSTRAINT outbox_attachment_named CHECK ((kind = 'attachment_added') = (attachment_id IS NOT NULL));

-- The worker's claim probes, for each hook, its earliest due delivery, whether an earlier one of the
-- same issue is still to be received, and how many of the hook's are in flight: each from an index,
-- so that a claim costs per hook, not per delivery waiting.
CREATE INDEX webhook_deliveries_next ON webhook_deliveries (hook_id, next_attempt_at, event_seq)
    WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (hook_id, issue_id, event_seq)
    WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_claimed ON webhook_deliveries (hook_id, claimed_until) WHERE claimed_until IS NOT NULL;
