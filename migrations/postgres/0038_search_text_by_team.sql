-- The searchable text of an issue (migration 0028) read through the indexes led by the team. The
-- view found an issue's comments by the issue alone, which no index of `comments` leads with, so
-- every tag added and every comment posted read every team's comments (a sequential scan: the seed
-- of a million issues slowed to 50 issues a second at 340,000; docs/performance.md).
CREATE OR REPLACE VIEW issue_search_text AS
SELECT i.id AS issue_id,
    trim(coalesce((SELECT string_agg(t.tag, ' ') FROM issue_tags t
                   WHERE t.team_id = i.team_id AND t.issue_id = i.id), '') || chr(10) ||
        coalesce((SELECT string_agg(c.body, chr(10)) FROM comments c
                  WHERE c.team_id = i.team_id AND c.issue_id = i.id AND c.deleted_at IS NULL
                    AND c.visibility = 'public'), '')) AS search_public,
    coalesce((SELECT string_agg(c.body, chr(10)) FROM comments c
              WHERE c.team_id = i.team_id AND c.issue_id = i.id AND c.deleted_at IS NULL
                AND c.visibility = 'internal'), '') AS search_internal
FROM issues i;
