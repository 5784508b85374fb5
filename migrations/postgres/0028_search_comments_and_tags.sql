-- Search reads tags and comments as well as titles and descriptions (issue 25). Each issue carries
-- the rest of its searchable text in two columns, kept by the trigger below from the rows they copy:
-- `search_public` (its tags and public comments, which every reader of the issue may read) and
-- `search_internal` (its internal comments, for members only). The read scope chooses the columns a
-- reader's search may match (`ReadScope::searched_columns`), inside the statement.
ALTER TABLE issues ADD COLUMN search_public TEXT NOT NULL DEFAULT '',
    ADD COLUMN search_internal TEXT NOT NULL DEFAULT '';

-- The searchable text of each issue as its rows say it now: what the trigger copies.
CREATE VIEW issue_search_text AS
SELECT i.id AS issue_id,
    trim(coalesce((SELECT string_agg(t.tag, ' ') FROM issue_tags t WHERE t.issue_id = i.id), '') || chr(10) ||
        coalesce((SELECT string_agg(c.body, chr(10)) FROM comments c
                  WHERE c.issue_id = i.id AND c.deleted_at IS NULL AND c.visibility = 'public'), '')) AS search_public,
    coalesce((SELECT string_agg(c.body, chr(10)) FROM comments c
              WHERE c.issue_id = i.id AND c.deleted_at IS NULL AND c.visibility = 'internal'), '') AS search_internal
FROM issues i;

UPDATE issues SET (search_public, search_internal) =
    (SELECT v.search_public, v.search_internal FROM issue_search_text v WHERE v.issue_id = issues.id);

-- The issue's row is locked first (FOR NO KEY UPDATE, which the foreign keys' KEY SHARE locks of
-- concurrent comments do not block), so that of two comments posted at once the second copy is read
-- after the first commits and holds both.
CREATE FUNCTION issue_search_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target TEXT := CASE WHEN TG_OP = 'DELETE' THEN OLD.issue_id ELSE NEW.issue_id END;
BEGIN
    PERFORM 1 FROM issues WHERE id = target FOR NO KEY UPDATE;
    UPDATE issues SET (search_public, search_internal) =
        (SELECT v.search_public, v.search_internal FROM issue_search_text v WHERE v.issue_id = target)
    WHERE id = target;
    RETURN NULL;
END;
$$;

CREATE TRIGGER issue_search_after_tags AFTER INSERT OR DELETE ON issue_tags
    FOR EACH ROW EXECUTE FUNCTION issue_search_refresh();
CREATE TRIGGER issue_search_after_comments AFTER INSERT OR DELETE OR UPDATE OF body, visibility, deleted_at ON comments
    FOR EACH ROW EXECUTE FUNCTION issue_search_refresh();

-- Trigram indexes led by the project, as those of titles and descriptions (migration 0023).
CREATE INDEX issues_search_public_by_project ON issues USING gin (project_id, lower(search_public) gin_trgm_ops);
CREATE INDEX issues_search_internal_by_project ON issues USING gin (project_id, lower(search_internal) gin_trgm_ops);
