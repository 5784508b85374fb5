-- Single sign-on (issue 30): a team's OpenID Connect provider, the email domains it claims (an
-- operator proves each with `moth sso prove-domain`), and the identities that sign in through it.
-- An identity is (issuer, subject) within one team: never an email alone.
ALTER TABLE teams ADD COLUMN require_single_sign_on BIGINT NOT NULL DEFAULT 0 CHECK (require_single_sign_on IN (0, 1));

-- The client secret is sealed with the master key like a webhook's secret (`secret`, base64 of the
-- sealed bytes, under `key_id` and `wrapped_key`, which `moth rotate-master-key` re-wraps).
CREATE TABLE team_sso (
    team_id         TEXT    NOT NULL PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
    issuer          TEXT    NOT NULL
                    CHECK (length(issuer) BETWEEN 8 AND 500 AND (issuer LIKE 'https://%' OR issuer LIKE 'http://%')),
    display_name    TEXT    NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    client_id       TEXT    NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
    secret          TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    wrapped_key     TEXT    NOT NULL,
    new_member_role TEXT    NOT NULL CHECK (new_member_role IN ('NORMAL', 'GUEST')),
    enabled         BIGINT NOT NULL CHECK (enabled IN (0, 1)),
    updated_at      BIGINT NOT NULL
);

CREATE TABLE team_sso_domains (
    team_id   TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    domain    TEXT    NOT NULL CHECK (length(domain) BETWEEN 3 AND 253 AND domain = lower(domain) AND domain LIKE '%_._%'),
    -- Set by an operator (`moth sso prove-domain`); only a proven domain's email links an account.
    proven_at BIGINT,
    PRIMARY KEY (team_id, domain)
);

CREATE TABLE sso_identities (
    team_id         TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    issuer          TEXT    NOT NULL CHECK (length(issuer) BETWEEN 8 AND 500),
    subject         TEXT    NOT NULL CHECK (length(subject) BETWEEN 1 AND 255),
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 1 when single sign-on made the account (it has no password anyone knows), 0 when it linked one.
    made_account    BIGINT NOT NULL CHECK (made_account IN (0, 1)),
    linked_at       BIGINT NOT NULL,
    last_sign_in_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, issuer, subject)
);

CREATE INDEX sso_identities_by_user ON sso_identities (team_id, user_id);

INSERT INTO audit_events (name) VALUES ('sso_configured'), ('sso_linked'), ('sso_refused');
