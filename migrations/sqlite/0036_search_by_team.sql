-- The full-text index keyed by team (issue 25: search at a million issues). FTS5 can narrow a query
-- by a range of its rowids only, so each issue gets `search_key`: its team's `search_base` times
-- 2^32, plus a number counting down within the team from 2^32 - 1 (newest first is then FTS5's
-- forward order, which seeks; backwards it walked every later team's entries). `issue_text` takes it
-- as its rowid, and a search asks for its team's range (`list::in_readers_team`): it reads that
-- team's matches only, instead of every team's, each looked up and dropped. Neither number is a
-- rowid of its table, so a `VACUUM` no longer renumbers what the index refers to.

ALTER TABLE teams ADD COLUMN search_base INTEGER CHECK (search_base > 0);
UPDATE teams SET search_base = rowid;
CREATE UNIQUE INDEX teams_by_search_base ON teams (search_base);
CREATE TRIGGER teams_search_base AFTER INSERT ON teams BEGIN
    UPDATE teams SET search_base = (SELECT coalesce(max(search_base), 0) + 1 FROM teams) WHERE rowid = new.rowid;
END;

ALTER TABLE issues ADD COLUMN search_key INTEGER;
UPDATE issues SET search_key =
    (SELECT t.search_base FROM teams t WHERE t.id = issues.team_id) * 4294967296 + 4294967295 - rowid;
CREATE UNIQUE INDEX issues_by_search_key ON issues (search_key);
-- Every door that makes an issue passes here: the next number down of the team's range.
CREATE TRIGGER issues_search_key AFTER INSERT ON issues BEGIN
    UPDATE issues SET search_key = (
        SELECT coalesce(
            (SELECT min(o.search_key) FROM issues o
             WHERE o.search_key BETWEEN t.search_base * 4294967296 AND t.search_base * 4294967296 + 4294967295),
            t.search_base * 4294967296 + 4294967296) - 1
        FROM teams t WHERE t.id = new.team_id)
    WHERE rowid = new.rowid;
END;

-- The index again, keyed by `search_key` (migration 0027's notes hold).
DROP TRIGGER issue_text_after_delete;
DROP TRIGGER issue_text_after_update;
DROP TABLE issue_text;
CREATE VIRTUAL TABLE issue_text USING fts5(
    title, description, search_public, search_internal,
    content = 'issues', content_rowid = 'search_key', tokenize = 'trigram'
);
INSERT INTO issue_text (issue_text) VALUES ('rebuild');

CREATE TRIGGER issue_text_after_delete AFTER DELETE ON issues
WHEN EXISTS (SELECT 1 FROM issue_text_docsize d WHERE d.id = old.search_key) BEGIN
    INSERT INTO issue_text (issue_text, rowid, title, description, search_public, search_internal)
        VALUES ('delete', old.search_key, old.title, old.description, old.search_public, old.search_internal);
END;
CREATE TRIGGER issue_text_after_update
AFTER UPDATE OF title, description, search_public, search_internal ON issues
WHEN EXISTS (SELECT 1 FROM issue_text_docsize d WHERE d.id = old.search_key) BEGIN
    INSERT INTO issue_text (issue_text, rowid, title, description, search_public, search_internal)
        VALUES ('delete', old.search_key, old.title, old.description, old.search_public, old.search_internal);
    INSERT INTO issue_text (rowid, title, description, search_public, search_internal)
        VALUES (new.search_key, new.title, new.description, new.search_public, new.search_internal);
END;
