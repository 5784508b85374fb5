-- Two-factor authentication (TOTP, RFC 6238). The key is sealed like a stored file (its own data key,
-- wrapped by the master key, so `moth rotate-master-key` re-wraps it too); it is in force once
-- `enabled_at` is set. `last_step` is the newest time step a code was accepted for: no code is
-- accepted twice. Recovery codes are stored as SHA-256 hashes and used once.
CREATE TABLE two_factor (
    user_id     TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret      TEXT    NOT NULL CHECK (length(secret) BETWEEN 1 AND 400),
    key_id      TEXT    NOT NULL CHECK (length(key_id) BETWEEN 1 AND 64),
    wrapped_key TEXT    NOT NULL CHECK (length(wrapped_key) BETWEEN 1 AND 200),
    enabled_at  BIGINT,
    last_step   BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL CHECK (length(code_hash) = 64),
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

INSERT INTO audit_events (name) VALUES
    ('two_factor_enabled'), ('two_factor_disabled'), ('two_factor_failed'), ('recovery_code_used');
