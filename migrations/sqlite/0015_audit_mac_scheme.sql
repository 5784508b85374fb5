-- Which MAC scheme the audit chains use: '1', one key for every chain (as written until now); '2', a
-- key per chain derived from it, so that a team's owners can be given their chain's key to verify
-- their exports. Moth moves a database from 1 to 2 at start, once every chain verifies under 1
-- (server/src/db/audit_chain.rs, `settle`).
CREATE TABLE audit_meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
INSERT INTO audit_meta (name, value) VALUES ('mac_scheme', '1');
