-- The kinds of audit event become rows of their own, which audit_log.event refers to: a new kind is
-- one INSERT in a migration, where a CHECK would rebuild the whole log on SQLite each time. This
-- rebuild is the last; every entry, its place in its chain and its MAC are kept as they are. New:
-- 'address_banned' (an address reached the failure limit) and 'audit_exported'.
CREATE TABLE audit_events (
    name TEXT NOT NULL PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^a-z_]*')
) STRICT;
INSERT INTO audit_events (name) VALUES
    ('account_created'), ('signed_in'), ('sign_in_failed'), ('signed_out'), ('team_switched'),
    ('invitation_sent'), ('invitation_accepted'), ('invitation_revoked'), ('role_changed'),
    ('member_removed'), ('member_left'), ('ownership_transferred'),
    ('file_attached'), ('upload_rejected'), ('attachment_deleted'),
    ('address_banned'), ('audit_exported');

CREATE TABLE audit_log_new (
    id         TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id    TEXT    REFERENCES teams (id) ON DELETE CASCADE,
    actor_id   TEXT    REFERENCES users (id) ON DELETE SET NULL,
    event      TEXT    NOT NULL REFERENCES audit_events (name),
    outcome    TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
    detail     TEXT    NOT NULL CHECK (length(detail) <= 1000),
    source_ip  TEXT    CHECK (source_ip IS NULL OR length(source_ip) <= 64),
    at         INTEGER NOT NULL,
    chain      TEXT    NOT NULL DEFAULT '',
    seq        INTEGER,
    mac        TEXT
) STRICT;
INSERT INTO audit_log_new (id, team_id, actor_id, event, outcome, detail, source_ip, at, chain, seq, mac)
    SELECT id, team_id, actor_id, event, outcome, detail, source_ip, at, chain, seq, mac FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_by_team ON audit_log (team_id, at, id);
CREATE UNIQUE INDEX audit_log_chain ON audit_log (chain, seq);
CREATE INDEX audit_log_unchained ON audit_log (at, id) WHERE seq IS NULL;
-- Owners page the log filtered by kind or by who acted.
CREATE INDEX audit_log_by_team_event ON audit_log (team_id, event, at, id);
CREATE INDEX audit_log_by_team_actor ON audit_log (team_id, actor_id, at, id);
