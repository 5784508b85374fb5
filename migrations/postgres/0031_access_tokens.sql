-- Personal access tokens: a user's key to the REST API (`/api/v1`) in one team. Only the SHA-256 of
-- the secret is kept (the secret is 256 random bits: no slow hash is needed). A token dies with its
-- membership (the composite foreign key), so a member removed loses every token at once.
CREATE TABLE access_tokens (
    id          TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id     TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 60 AND name = trim(name)),
    secret_hash TEXT    NOT NULL UNIQUE CHECK (length(secret_hash) = 64),
    -- What the token may do besides its user's role: 'read', 'read write', 'read write admin', ...
    scopes      TEXT    NOT NULL CHECK (scopes IN ('read', 'write', 'read write', 'read admin', 'write admin', 'read write admin', 'admin')),
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL CHECK (expires_at > created_at AND expires_at <= created_at + 366::BIGINT * 86400000),
    last_used_at BIGINT,
    last_used_from TEXT CHECK (length(last_used_from) <= 64),
    -- Set once the first use after expiry has been audited, so that a script retrying with an expired
    -- token writes one audit entry, not one per try.
    expiry_audited BIGINT NOT NULL DEFAULT 0 CHECK (expiry_audited IN (0, 1)),
    FOREIGN KEY (team_id, user_id) REFERENCES memberships (team_id, user_id) ON DELETE CASCADE
);

CREATE INDEX access_tokens_by_team ON access_tokens (team_id, user_id, created_at);

-- Idempotency keys of the REST API's creating requests, per token, for a day: the same key and body
-- answer what the first request answered and create nothing twice; another body with the key is
-- refused. `status` is NULL while the first request is still being processed.
CREATE TABLE idempotency_keys (
    token_id     TEXT    NOT NULL REFERENCES access_tokens (id) ON DELETE CASCADE,
    request_key  TEXT    NOT NULL CHECK (length(request_key) BETWEEN 1 AND 255),
    request_hash TEXT    NOT NULL CHECK (length(request_hash) = 64),
    status       BIGINT CHECK (status BETWEEN 200 AND 499),
    response     TEXT    CHECK (length(response) <= 262144),
    location     TEXT    CHECK (length(location) <= 500),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (token_id, request_key)
);

CREATE INDEX idempotency_keys_by_age ON idempotency_keys (token_id, created_at);

-- An OWNER can turn the token API off for the whole team (every token is refused while it is off).
ALTER TABLE teams ADD COLUMN tokens_allowed BIGINT NOT NULL DEFAULT 1 CHECK (tokens_allowed IN (0, 1));

INSERT INTO audit_events (name) VALUES ('token_created'), ('token_revoked'), ('token_expired'), ('tokens_policy_changed');
