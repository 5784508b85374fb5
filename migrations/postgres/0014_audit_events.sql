-- The kinds of audit event become rows of their own, which audit_log.event refers to: a new kind is
-- one INSERT in a migration (as on SQLite, where a CHECK would rebuild the whole log each time). New:
-- 'address_banned' (an address reached the failure limit) and 'audit_exported'.
CREATE TABLE audit_events (
    name TEXT NOT NULL PRIMARY KEY CHECK (name ~ '^[a-z_]{1,64}$')
);
INSERT INTO audit_events (name) VALUES
    ('account_created'), ('signed_in'), ('sign_in_failed'), ('signed_out'), ('team_switched'),
    ('invitation_sent'), ('invitation_accepted'), ('invitation_revoked'), ('role_changed'),
    ('member_removed'), ('member_left'), ('ownership_transferred'),
    ('file_attached'), ('upload_rejected'), ('attachment_deleted'),
    ('address_banned'), ('audit_exported');

ALTER TABLE audit_log DROP CONSTRAINT audit_log_event_check;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_event_known FOREIGN KEY (event) REFERENCES audit_events (name);
DROP INDEX audit_log_by_team;
CREATE INDEX audit_log_by_team ON audit_log (team_id, at, id);
-- Owners page the log filtered by kind or by who acted.
CREATE INDEX audit_log_by_team_event ON audit_log (team_id, event, at, id);
CREATE INDEX audit_log_by_team_actor ON audit_log (team_id, actor_id, at, id);
