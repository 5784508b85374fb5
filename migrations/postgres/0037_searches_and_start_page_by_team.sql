-- Issue 25 at a million issues over a thousand teams (docs/performance.md, "PostgreSQL at 340,000
-- issues"), three changes found with EXPLAIN (ANALYZE, BUFFERS):
--
-- 1. The trigram indexes are led by the team instead of the project: a search across a team's
--    projects (the command palette) reads its own team's matches, as the list's search within one
--    project does (its project is a filter on a few matches).
-- 2. Each keeps a pending list of at most 64 kB. GIN adds new entries to an unsorted pending list
--    that every search reads whole until a vacuum or an overflowing insert merges it; with the
--    default 4 MB, searches read 130 to 320 pages of pending entries (12 ms instead of 0.5 ms).
-- 3. The start page's list of one's own issues is read in the order of `issues_by_reporter`, which
--    now ends with the id, the list's tie-breaker; the planner knows how a team's reporters are
--    spread (the statistics below), where before it multiplied the team's share by the reporter's
--    and read a large project whole.
CREATE INDEX issues_title_text_by_team ON issues
    USING gin (team_id, lower(title) gin_trgm_ops) WITH (gin_pending_list_limit = 64);
CREATE INDEX issues_description_text_by_team ON issues
    USING gin (team_id, lower(description) gin_trgm_ops) WITH (gin_pending_list_limit = 64);
CREATE INDEX issues_search_public_by_team ON issues
    USING gin (team_id, lower(search_public) gin_trgm_ops) WITH (gin_pending_list_limit = 64);
CREATE INDEX issues_search_internal_by_team ON issues
    USING gin (team_id, lower(search_internal) gin_trgm_ops) WITH (gin_pending_list_limit = 64);
DROP INDEX issues_title_text_by_project;
DROP INDEX issues_description_text_by_project;
DROP INDEX issues_search_public_by_project;
DROP INDEX issues_search_internal_by_project;

DROP INDEX issues_by_reporter;
CREATE INDEX issues_by_reporter ON issues (team_id, reporter_id, updated_at DESC, id);
CREATE STATISTICS issues_reporter_in_team (dependencies, mcv) ON team_id, reporter_id FROM issues;
ANALYZE issues;
