-- What the backup machinery did: each snapshot made and each restore drill run, installation-wide
-- (a snapshot holds every team). Team owners read the newest of them; operators read them all
-- through `moth backup list` and `/metrics`. No team data is stored here.
CREATE TABLE backup_runs (
    id           TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    kind         TEXT    NOT NULL CHECK (kind IN ('snapshot', 'drill')),
    -- The snapshot's name (`moth-...tar.age`) the run made or restored.
    snapshot     TEXT    NOT NULL CHECK (length(snapshot) BETWEEN 1 AND 200),
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL CHECK (finished_at >= started_at),
    outcome      TEXT    NOT NULL CHECK (outcome IN ('passed', 'failed')),
    -- What was done or what went wrong, for operators (never shown to team members).
    detail       TEXT    NOT NULL CHECK (length(detail) <= 2000),
    bytes        INTEGER NOT NULL CHECK (bytes >= 0)
) STRICT;

CREATE INDEX backup_runs_by_kind ON backup_runs (kind, finished_at);

INSERT INTO audit_events (name) VALUES ('backup_drill');
INSERT INTO audit_events (name) VALUES ('team_exported');
