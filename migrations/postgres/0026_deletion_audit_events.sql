-- Deleting an issue or a comment is audited like every other destructive action (issue 25).
INSERT INTO audit_events (name) VALUES ('issue_deleted');
INSERT INTO audit_events (name) VALUES ('comment_deleted');
