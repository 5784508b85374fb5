-- Webhooks (issue 28). A hook belongs to one project; it hears the events it names, rendered with the
-- read rules of a guest of that project unless it is marked internal. Its signing secret is sealed
-- with the master key like a stored file (`secret`, base64 of the sealed bytes, under `key_id` and
-- `wrapped_key`, which `moth rotate-master-key` re-wraps). Deliveries are made off the request path
-- from the same `outbox` rows notifications use: `hooks_done_at` marks the rows whose deliveries
-- are written.
CREATE TABLE webhooks (
    id            TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id       TEXT    NOT NULL,
    project_id    TEXT    NOT NULL,
    url           TEXT    NOT NULL CHECK (length(url) BETWEEN 8 AND 2000 AND (url LIKE 'https://%' OR url LIKE 'http://%')),
    -- Comma-separated event names, each checked by the server; at least one.
    events        TEXT    NOT NULL CHECK (length(events) BETWEEN 1 AND 300),
    internal      INTEGER NOT NULL CHECK (internal IN (0, 1)),
    secret        TEXT    NOT NULL,
    key_id        TEXT    NOT NULL,
    wrapped_key   TEXT    NOT NULL,
    created_by    TEXT    NOT NULL CHECK (length(created_by) = 36),
    created_at    INTEGER NOT NULL,
    -- Set when deliveries kept failing for a day: nothing more is sent until the hook is made again.
    paused_at     INTEGER,
    paused_reason TEXT    CHECK (paused_reason IS NULL OR length(paused_reason) <= 300),
    UNIQUE (team_id, id),
    FOREIGN KEY (team_id, project_id) REFERENCES projects (team_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX webhooks_by_project ON webhooks (team_id, project_id);

-- One event for one hook: its payload as signed (the same bytes and id on every attempt), when it
-- is next due, and how the last attempt went.
CREATE TABLE webhook_deliveries (
    id              TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id         TEXT    NOT NULL,
    hook_id         TEXT    NOT NULL,
    event_seq       INTEGER NOT NULL,
    event_type      TEXT    NOT NULL CHECK (length(event_type) BETWEEN 1 AND 40),
    issue_id        TEXT    NOT NULL CHECK (length(issue_id) = 36),
    payload         TEXT    NOT NULL CHECK (length(payload) <= 200000),
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    claimed_until   INTEGER,
    delivered_at    INTEGER,
    status_code     INTEGER,
    latency_ms      INTEGER,
    last_error      TEXT    CHECK (last_error IS NULL OR length(last_error) <= 300),
    -- One delivery per hook and event, whoever fans the event out.
    UNIQUE (hook_id, event_seq),
    FOREIGN KEY (team_id, hook_id) REFERENCES webhooks (team_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries (team_id, hook_id, created_at);

ALTER TABLE outbox ADD COLUMN hooks_claimed_until INTEGER;
ALTER TABLE outbox ADD COLUMN hooks_done_at INTEGER;
-- No hook existed before: nothing that happened then is delivered.
UPDATE outbox SET hooks_done_at = created_at;
CREATE INDEX outbox_hooks_pending ON outbox (hooks_done_at, seq);

INSERT INTO audit_events (name) VALUES ('webhook_created'), ('webhook_deleted'), ('webhook_paused');
