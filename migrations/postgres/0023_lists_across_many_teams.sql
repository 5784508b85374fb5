-- Lists in a database of many teams (PostgreSQL only; measured with the benchmark at a million
-- issues over 1,000 teams, docs/performance.md).
--
-- 1. The planner took team_id and project_id for independent columns and, multiplying their
--    selectivities, expected a project of one issue: a filtered list then read every issue of the
--    project (each on its own heap page, the teams' rows being interleaved) and sorted them, 17 ms
--    instead of 2. A project belongs to one team; these statistics say so, and ANALYZE (autovacuum's)
--    fills them.
CREATE STATISTICS issues_project_in_team (dependencies, ndistinct) ON team_id, project_id FROM issues;

-- 2. A text search started from the project's issues rather than from the trigram indexes, which
--    held every team's rows (35 ms for a word in a 10,000-issue project). With the project in the
--    index (btree_gin, a trusted extension that ships with PostgreSQL, as pg_trgm does), one index
--    scan finds the project's matches only (1.2 ms). Every text search is within a project.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX issues_title_text_by_project ON issues USING gin (project_id, lower(title) gin_trgm_ops);
CREATE INDEX issues_description_text_by_project ON issues USING gin (project_id, lower(description) gin_trgm_ops);
DROP INDEX issues_title_text;
DROP INDEX issues_description_text;

-- The new statistics are empty until the next ANALYZE; an installation upgraded with many issues
-- should not wait for autovacuum's (a sample of the table: about a second at a million issues).
ANALYZE issues;
