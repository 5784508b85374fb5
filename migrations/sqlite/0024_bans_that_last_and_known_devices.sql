-- A ban lasts `ban_secs` from the failure that started it, whatever happens to the failures in the
-- window since (server/src/bans.rs): each ban is kept with its end, shared by every instance.
CREATE TABLE address_bans (
    address    TEXT    NOT NULL CHECK (length(address) BETWEEN 1 AND 64),
    until      INTEGER NOT NULL,
    PRIMARY KEY (address, until)
);

-- Browsers that have signed in to an account before (OWASP "device cookies"): the SHA-256 of the
-- browser's device cookie and of the account's normalised email. At an account's hourly failure
-- ceiling, such a browser still gets through, so an attacker cannot keep the owner out. At most
-- the 20 most recently used browsers of an account are kept (server/src/db/bans.rs).
CREATE TABLE known_devices (
    device     TEXT    NOT NULL CHECK (length(device) = 64),
    account    TEXT    NOT NULL CHECK (length(account) = 64),
    seen_at    INTEGER NOT NULL,
    PRIMARY KEY (account, device)
);
CREATE INDEX known_devices_by_account_seen ON known_devices (account, seen_at);

-- Failures from a known browser count against that browser too (its own ceiling).
ALTER TABLE credential_failures ADD COLUMN device TEXT CHECK (device IS NULL OR length(device) = 64);
CREATE INDEX credential_failures_by_device ON credential_failures (device, account, at) WHERE device IS NOT NULL;
