-- Leadership across instances (issue 29). Work that must run once across the cluster (the sweeper,
-- scheduled backups and drills, team export schedules, audit checkpoints) is done by the instance
-- holding the `chores` lease; each instance also holds `instance:<id>` while it lives, so that work
-- it started (a team export) can be told apart from work whose instance died. A lease is renewed by
-- its holder well before it expires and taken by another only after it has expired; times are the
-- database's clock (Unix ms), so the instances' clocks need not agree.
CREATE TABLE leases (
    name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 80),
    holder TEXT NOT NULL CHECK (length(holder) BETWEEN 1 AND 64),
    -- Bumped each time the lease changes hands (a fencing number for logs and metrics).
    term BIGINT NOT NULL CHECK (term >= 1),
    expires_at BIGINT NOT NULL
);

-- The instance running an export; NULL for exports started before this release (and by its
-- binaries during a rolling upgrade, which fail running exports at their own start as they did).
ALTER TABLE team_exports ADD COLUMN runner TEXT CHECK (runner IS NULL OR length(runner) BETWEEN 1 AND 64);
