-- Tags and assignees are read per issue, by team and issue. These indexes lead with exactly that, so
-- that the right index is the only sensible one with or without statistics (the primary keys lead
-- with the issue alone, and the *_by_tag / *_by_user indexes with the team alone).
CREATE INDEX issue_tags_by_issue ON issue_tags (team_id, issue_id, tag);
CREATE INDEX issue_assignees_by_issue ON issue_assignees (team_id, issue_id, user_id);

-- SQLite's planner hint likelihood(term, probability), which the issue lists use so that a database
-- without statistics still walks the list's index: here an identity that PostgreSQL inlines.
CREATE FUNCTION likelihood(term boolean, probability numeric) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT term';
