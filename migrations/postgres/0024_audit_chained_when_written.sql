-- Audit entries are chained in the transaction that writes them (server/src/db/audit.rs), so an entry
-- outside the chain is one Moth did not write: start-up no longer seals such rows, and verification
-- reports them. Only a log from before the chain existed is chained once, at the first start after
-- upgrading; this marker says that is done (or, as here for a log with no unchained entry, not needed).
INSERT INTO audit_meta (name, value)
SELECT 'legacy_chained', '1' WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE seq IS NULL);
