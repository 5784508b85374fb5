-- The searchable text of an issue (migration 0027) read through the indexes led by the team. The
-- view found an issue's tags and comments by the issue alone, which no index of `comments` leads
-- with: with statistics SQLite skipped through `comments_by_issue` once per team, without them it
-- read every comment, at every tag added and every comment posted (found on PostgreSQL, where the
-- seed of a million issues slowed to 50 issues a second: docs/performance.md).
DROP VIEW issue_search_text;
CREATE VIEW issue_search_text AS
SELECT i.id AS issue_id,
    trim(coalesce((SELECT group_concat(t.tag, ' ') FROM issue_tags t
                   WHERE t.team_id = i.team_id AND t.issue_id = i.id), '') || char(10) ||
        coalesce((SELECT group_concat(c.body, char(10)) FROM comments c
                  WHERE c.team_id = i.team_id AND c.issue_id = i.id AND c.deleted_at IS NULL
                    AND c.visibility = 'public'), '')) AS search_public,
    coalesce((SELECT group_concat(c.body, char(10)) FROM comments c
              WHERE c.team_id = i.team_id AND c.issue_id = i.id AND c.deleted_at IS NULL
                AND c.visibility = 'internal'), '') AS search_internal
FROM issues i;
