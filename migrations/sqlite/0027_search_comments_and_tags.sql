-- Search reads tags and comments as well as titles and descriptions (issue 25). Each issue carries
-- the rest of its searchable text in two columns, kept by the triggers below from the rows they copy:
-- `search_public` (its tags and public comments, which every reader of the issue may read) and
-- `search_internal` (its internal comments, for members only). The read scope chooses the columns a
-- reader's search may match (`ReadScope::searched_columns`), inside the statement.
ALTER TABLE issues ADD COLUMN search_public TEXT NOT NULL DEFAULT '';
ALTER TABLE issues ADD COLUMN search_internal TEXT NOT NULL DEFAULT '';

-- The searchable text of each issue as its rows say it now: what the triggers copy.
CREATE VIEW issue_search_text AS
SELECT i.id AS issue_id,
    trim(coalesce((SELECT group_concat(t.tag, ' ') FROM issue_tags t WHERE t.issue_id = i.id), '') || char(10) ||
        coalesce((SELECT group_concat(c.body, char(10)) FROM comments c
                  WHERE c.issue_id = i.id AND c.deleted_at IS NULL AND c.visibility = 'public'), '')) AS search_public,
    coalesce((SELECT group_concat(c.body, char(10)) FROM comments c
              WHERE c.issue_id = i.id AND c.deleted_at IS NULL AND c.visibility = 'internal'), '') AS search_internal
FROM issues i;

UPDATE issues SET (search_public, search_internal) =
    (SELECT v.search_public, v.search_internal FROM issue_search_text v WHERE v.issue_id = issues.id);

CREATE TRIGGER issue_search_after_tag_insert AFTER INSERT ON issue_tags BEGIN
    UPDATE issues SET (search_public, search_internal) =
        (SELECT v.search_public, v.search_internal FROM issue_search_text v WHERE v.issue_id = new.issue_id)
    WHERE id = new.issue_id;
END;
CREATE TRIGGER issue_search_after_tag_delete AFTER DELETE ON issue_tags BEGIN
    UPDATE issues SET (search_public, search_internal) =
        (SELECT v.search_public, v.search_internal FROM issue_search_text v WHERE v.issue_id = old.issue_id)
    WHERE id = old.issue_id;
END;
CREATE TRIGGER issue_search_after_comment_insert AFTER INSERT ON comments BEGIN
    UPDATE issues SET (search_public, search_internal) =
        (SELECT v.search_public, v.search_internal FROM issue_search_text v WHERE v.issue_id = new.issue_id)
    WHERE id = new.issue_id;
END;
CREATE TRIGGER issue_search_after_comment_update AFTER UPDATE OF body, visibility, deleted_at ON comments BEGIN
    UPDATE issues SET (search_public, search_internal) =
        (SELECT v.search_public, v.search_internal FROM issue_search_text v WHERE v.issue_id = new.issue_id)
    WHERE id = new.issue_id;
END;
CREATE TRIGGER issue_search_after_comment_delete AFTER DELETE ON comments BEGIN
    UPDATE issues SET (search_public, search_internal) =
        (SELECT v.search_public, v.search_internal FROM issue_search_text v WHERE v.issue_id = old.issue_id)
    WHERE id = old.issue_id;
END;

-- The full-text index gains the two columns: rebuilt from `issues` (migration 0008's notes hold).
DROP TRIGGER issue_text_after_delete;
DROP TRIGGER issue_text_after_update;
DROP TABLE issue_text;
CREATE VIRTUAL TABLE issue_text USING fts5(
    title, description, search_public, search_internal,
    content = 'issues', content_rowid = 'rowid', tokenize = 'trigram'
);
INSERT INTO issue_text (issue_text) VALUES ('rebuild');

CREATE TRIGGER issue_text_after_delete AFTER DELETE ON issues
WHEN EXISTS (SELECT 1 FROM issue_text_docsize d WHERE d.id = old.rowid) BEGIN
    INSERT INTO issue_text (issue_text, rowid, title, description, search_public, search_internal)
        VALUES ('delete', old.rowid, old.title, old.description, old.search_public, old.search_internal);
END;
-- A new issue is indexed by the group commit at the end of its transaction (migration 0009), after
-- its tags have set `search_public`: an issue not yet in the index is left to it (`issue_text_docsize`
-- holds a row for each indexed issue), since removing a row the index never held would corrupt it.
CREATE TRIGGER issue_text_after_update
AFTER UPDATE OF title, description, search_public, search_internal ON issues
WHEN EXISTS (SELECT 1 FROM issue_text_docsize d WHERE d.id = old.rowid) BEGIN
    INSERT INTO issue_text (issue_text, rowid, title, description, search_public, search_internal)
        VALUES ('delete', old.rowid, old.title, old.description, old.search_public, old.search_internal);
    INSERT INTO issue_text (rowid, title, description, search_public, search_internal)
        VALUES (new.rowid, new.title, new.description, new.search_public, new.search_internal);
END;
