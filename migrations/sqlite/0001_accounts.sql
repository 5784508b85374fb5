-- Accounts, teams, memberships and sessions (SQLite). Keep in step with migrations/postgres/ and with
-- the limits in app/src/rules.rs. Ids are UUIDs as text; times are Unix milliseconds (UTC).

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    email         TEXT    NOT NULL UNIQUE
                  CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email) AND email LIKE '%_@_%'),
    display_name  TEXT    NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    password_hash TEXT    NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE teams (
    id         TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE memberships (
    team_id   TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT    NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'NORMAL', 'GUEST')),
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
) STRICT;

CREATE INDEX memberships_by_user ON memberships (user_id, joined_at);
-- At most one owner per team; the application keeps it at exactly one.
CREATE UNIQUE INDEX memberships_one_owner ON memberships (team_id) WHERE role = 'OWNER';

-- tower-sessions records. `user_id` is copied out of the data so that all sessions of a user can be ended.
CREATE TABLE sessions (
    id         TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT    REFERENCES users (id) ON DELETE CASCADE,
    data       TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX sessions_by_user ON sessions (user_id);
