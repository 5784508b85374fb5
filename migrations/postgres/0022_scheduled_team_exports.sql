-- A team's export to its own bucket may run on a schedule. Scheduled exports are encrypted to an age
-- recipient (a public key: nothing secret is kept to make them).
ALTER TABLE team_export_buckets ADD COLUMN schedule TEXT NOT NULL DEFAULT 'off'
    CHECK (schedule IN ('off', 'daily', 'weekly'));
ALTER TABLE team_export_buckets ADD COLUMN schedule_recipient TEXT NOT NULL DEFAULT ''
    CHECK (length(schedule_recipient) <= 100);
