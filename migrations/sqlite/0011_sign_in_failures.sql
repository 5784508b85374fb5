-- Failed attempts at a credential (a password, an invitation token), by source address and by
-- account, so that every server instance on this database sees the same bans. The account is the
-- SHA-256 of the normalised email (or of the token kind), never the text as typed.
CREATE TABLE credential_failures (
    id         TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    address    TEXT    NOT NULL CHECK (length(address) BETWEEN 1 AND 64),
    account    TEXT    NOT NULL CHECK (length(account) = 64),
    at         INTEGER NOT NULL
);

CREATE INDEX credential_failures_by_address ON credential_failures (address, at);
CREATE INDEX credential_failures_by_account ON credential_failures (account, at);
