-- Invitations and the audit log (postgres). Keep in step with the other backend's migrations.

-- An invitation is a single-use link: only the SHA-256 of its token is stored.
CREATE TABLE invitations (
    id          TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id     TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email       TEXT    NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email)),
    role        TEXT    NOT NULL CHECK (role IN ('ADMIN', 'NORMAL', 'GUEST')),
    token_hash  TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    invited_by  TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL CHECK (expires_at > created_at),
    accepted_at BIGINT,
    accepted_by TEXT    REFERENCES users (id) ON DELETE SET NULL,
    revoked_at  BIGINT,
    CHECK (accepted_at IS NULL OR revoked_at IS NULL)
);

CREATE INDEX invitations_by_team ON invitations (team_id, created_at);

-- Security events. team_id is NULL for events outside any team (a failed sign-in).
CREATE TABLE audit_log (
    id         TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id    TEXT    REFERENCES teams (id) ON DELETE CASCADE,
    actor_id   TEXT    REFERENCES users (id) ON DELETE SET NULL,
    event      TEXT    NOT NULL CHECK (event IN (
                   'account_created', 'signed_in', 'sign_in_failed', 'signed_out', 'team_switched',
                   'invitation_sent', 'invitation_accepted', 'invitation_revoked', 'role_changed',
                   'member_removed', 'member_left', 'ownership_transferred')),
    outcome    TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
    detail     TEXT    NOT NULL CHECK (length(detail) <= 1000),
    source_ip  TEXT    CHECK (source_ip IS NULL OR length(source_ip) <= 64),
    at         BIGINT NOT NULL
);

CREATE INDEX audit_log_by_team ON audit_log (team_id, at);
