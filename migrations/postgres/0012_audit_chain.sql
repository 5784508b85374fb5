-- The audit log as a tamper-evident chain (see server/src/db/audit_chain.rs): each entry's place in
-- its chain (the team's id, or '' for events outside any team) and its MAC; and the sealed checkpoints
-- of each chain's head, which make removing the newest entries detectable. Entries written before
-- this are chained, in order, when Moth starts.
ALTER TABLE audit_log ADD COLUMN chain TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN seq BIGINT;
ALTER TABLE audit_log ADD COLUMN mac TEXT;
CREATE UNIQUE INDEX audit_log_chain ON audit_log (chain, seq);
-- The entries still to chain (at start), found without reading the whole log.
CREATE INDEX audit_log_unchained ON audit_log (at, id) WHERE seq IS NULL;

CREATE TABLE audit_checkpoints (
    chain TEXT    NOT NULL,
    seq   BIGINT NOT NULL CHECK (seq >= 1),
    mac   TEXT    NOT NULL,
    seal  TEXT    NOT NULL,
    at    BIGINT NOT NULL,
    PRIMARY KEY (chain, seq)
);
