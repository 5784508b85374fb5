-- Files attached to a comment: the attachment also names the comment, which must be of the same team
-- and issue, and follows its visibility. Issue-level attachments have no comment. SQLite cannot add a
-- table constraint to an existing table, so a trigger holds the same rule as PostgreSQL's composite
-- foreign key, and the column's own reference removes a comment's attachments with it.
ALTER TABLE attachments ADD COLUMN comment_id TEXT REFERENCES comments (id) ON DELETE CASCADE
    CHECK (comment_id IS NULL OR length(comment_id) = 36);

CREATE TRIGGER attachments_comment_of_same_issue
BEFORE INSERT ON attachments
WHEN NEW.comment_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM comments c WHERE c.id = NEW.comment_id AND c.team_id = NEW.team_id AND c.issue_id = NEW.issue_id)
BEGIN
    SELECT RAISE(ABORT, 'attachment comment of another issue');
END;

CREATE TRIGGER attachments_comment_stays
BEFORE UPDATE OF comment_id, team_id, issue_id ON attachments
BEGIN
    SELECT RAISE(ABORT, 'attachment moved');
END;

CREATE INDEX attachments_by_comment ON attachments (team_id, comment_id) WHERE comment_id IS NOT NULL;
