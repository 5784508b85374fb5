-- A team's owners and admins may require two-factor authentication of every member: a member without
-- it can then do nothing in the team but set it up (or switch to another team, or sign out).
ALTER TABLE teams ADD COLUMN require_two_factor INTEGER NOT NULL DEFAULT 0 CHECK (require_two_factor IN (0, 1));
INSERT INTO audit_events (name) VALUES ('two_factor_requirement_changed');
