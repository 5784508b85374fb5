-- The start page lists the open issues a reader reported, across projects, newest change first
-- (`my_work`): found by the reporter rather than by walking every issue of the team.
CREATE INDEX issues_by_reporter ON issues (team_id, reporter_id, updated_at DESC);
