-- More webhook events (issue 28): an issue deleted, a comment edited or deleted, a file attached;
-- a count of the hook worker's tries of each row; and indexes for the delivery worker's claim.
-- They are outbox rows like the others, so a change and its event stay one transaction; people are
-- not notified of them (they are written with `delivered_at` set, so only the hook worker reads
-- them). A file's event names it in the new `attachment_id`.
--
-- SQLite cannot change a CHECK in place, so the table is made again. Its AUTOINCREMENT counter is
-- kept: an event number is never given twice, even after old rows were pruned, since a delivery is
-- unique per hook and event number.
CREATE TABLE outbox_counter_kept AS SELECT seq FROM sqlite_sequence WHERE name = 'outbox';

CREATE TABLE outbox_new (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id      TEXT    NOT NULL,
    issue_id     TEXT    NOT NULL,
    actor_id     TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('created', 'changed', 'commented', 'deleted', 'comment_edited',
                                                  'comment_deleted', 'attachment_added')),
    comment_id   TEXT    CHECK (comment_id IS NULL OR length(comment_id) = 36),
    fields       TEXT    NOT NULL DEFAULT '' CHECK (length(fields) <= 300),
    created_at   INTEGER NOT NULL,
    claimed_until INTEGER,
    delivered_at INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    hooks_claimed_until INTEGER,
    hooks_done_at INTEGER,
    -- How often the hook worker has tried to fan the row out (set aside after a few failures).
    hooks_attempts INTEGER NOT NULL DEFAULT 0,
    attachment_id TEXT   CHECK (attachment_id IS NULL OR length(attachment_id) = 36),
    CHECK ((kind = 'attachment_added') = (attachment_id IS NOT NULL)),
    FOREIGN KEY (team_id, issue_id) REFERENCES issues (team_id, id) ON DELETE CASCADE
) STRICT;

INSERT INTO outbox_new (seq, team_id, issue_id, actor_id, kind, comment_id, fields, created_at, claimed_until,
                        delivered_at, attempts, hooks_claimed_until, hooks_done_at)
SELECT seq, team_id, issue_id, actor_id, kind, comment_id, fields, created_at, claimed_until, delivered_at,
       attempts, hooks_claimed_until, hooks_done_at FROM outbox;

DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;

UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(seq), 0) FROM outbox_counter_kept))
WHERE name = 'outbox';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'outbox', seq FROM outbox_counter_kept WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox');
DROP TABLE outbox_counter_kept;

CREATE INDEX outbox_pending ON outbox (delivered_at, seq);
CREATE INDEX outbox_by_issue ON outbox (team_id, issue_id, seq);
CREATE INDEX outbox_hooks_pending ON outbox (hooks_done_at, seq);

-- The worker's claim probes, for each hook, its earliest due delivery, whether an earlier one of the
-- same issue is still to be received, and how many of the hook's are in flight: each from an index,
-- so that a claim costs per hook, not per delivery waiting.
CREATE INDEX webhook_deliveries_next ON webhook_deliveries (hook_id, next_attempt_at, event_seq)
    WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (hook_id, issue_id, event_seq)
    WHERE next_attempt_at IS NOT NULL;
CREATE INDEX webhook_deliveries_claimed ON webhook_deliveries (hook_id, claimed_until) WHERE claimed_until IS NOT NULL;
