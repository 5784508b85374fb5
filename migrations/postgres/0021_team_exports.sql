-- Team exports: each export an owner started (its progress while it runs, then its outcome), and
-- the team's own S3-compatible bucket that exports can go to. The bucket's secret key is sealed like
-- a stored file (`secret` holds the sealed bytes in base64, `wrapped_key` its data key, sealed by the
-- master key `key_id`).
CREATE TABLE team_exports (
    id           TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id      TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    requested_by TEXT    NOT NULL REFERENCES users (id),
    destination  TEXT    NOT NULL CHECK (destination IN ('download', 'bucket')),
    status       TEXT    NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    progress     BIGINT  NOT NULL CHECK (progress BETWEEN 0 AND 100),
    detail       TEXT    NOT NULL CHECK (length(detail) <= 500),
    bytes        BIGINT  NOT NULL CHECK (bytes >= 0),
    created_at   BIGINT  NOT NULL,
    finished_at  BIGINT ,
    UNIQUE (team_id, id)
);

CREATE INDEX team_exports_by_team ON team_exports (team_id, created_at);

CREATE TABLE team_export_buckets (
    team_id       TEXT    NOT NULL PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    endpoint      TEXT    NOT NULL CHECK (length(endpoint) BETWEEN 8 AND 300),
    region        TEXT    NOT NULL CHECK (length(region) BETWEEN 1 AND 64),
    bucket        TEXT    NOT NULL CHECK (length(bucket) BETWEEN 3 AND 63),
    prefix        TEXT    NOT NULL CHECK (length(prefix) <= 200),
    access_key_id TEXT    NOT NULL CHECK (length(access_key_id) BETWEEN 1 AND 256),
    secret        TEXT    NOT NULL CHECK (length(secret) BETWEEN 1 AND 1000),
    key_id        TEXT    NOT NULL CHECK (length(key_id) BETWEEN 1 AND 64),
    wrapped_key   TEXT    NOT NULL CHECK (length(wrapped_key) BETWEEN 1 AND 200),
    path_style    BIGINT  NOT NULL CHECK (path_style IN (0, 1)),
    updated_at    BIGINT  NOT NULL
);
