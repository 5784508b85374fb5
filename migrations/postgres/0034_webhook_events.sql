-- More webhook events (issue 28): an issue deleted, a comment edited or deleted, a file attached.
-- They are outbox rows like the others, so a change and its event stay one transaction; people are
-- not notified of them (they are written with `delivered_at` set, so only the hook worker reads
-- them). A file's event names it in the new `attachment_id`.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('created', 'changed', 'commented', 'deleted',
    'comment_edited', 'comment_deleted', 'attachment_added'));
ALTER TABLE outbox ADD COLUMN attachment_id TEXT CHECK (attachment_id IS NULL OR length(attachment_id) = 36);
ALTER TABLE outbox ADD CONSTRAINT outbox_attachment_named CHECK ((kind = 'attachment_added') = (attachment_id IS NOT NULL));
