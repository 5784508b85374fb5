-- Files attached to a comment: the attachment also names the comment, which must be of the same team
-- and issue (a composite key), and follows its visibility. Issue-level attachments have no comment.
CREATE UNIQUE INDEX comments_by_team_issue_id ON comments (team_id, issue_id, id);

ALTER TABLE attachments ADD COLUMN comment_id TEXT CHECK (comment_id IS NULL OR length(comment_id) = 36);
ALTER TABLE attachments ADD CONSTRAINT attachments_comment_of_same_issue
    FOREIGN KEY (team_id, issue_id, comment_id) REFERENCES comments (team_id, issue_id, id) ON DELETE CASCADE;

CREATE INDEX attachments_by_comment ON attachments (team_id, comment_id) WHERE comment_id IS NOT NULL;
