-- Text search (`q` of the issue list) reads a trigram full-text index instead of scanning the
-- project: FTS5's trigram tokenizer matches any substring of three characters or more, case-folded,
-- which is what the list's search has always meant. The index holds no copy of the text (it reads
-- `issues`) and is keyed by the issue's rowid; triggers keep it in step with every write.
-- issues has no INTEGER PRIMARY KEY, so a VACUUM may renumber rowids: after one, run
-- INSERT INTO issue_text (issue_text) VALUES ('rebuild').
CREATE VIRTUAL TABLE issue_text USING fts5(
    title, description, content = 'issues', content_rowid = 'rowid', tokenize = 'trigram'
);
INSERT INTO issue_text (issue_text) VALUES ('rebuild');

CREATE TRIGGER issue_text_after_insert AFTER INSERT ON issues BEGIN
    INSERT INTO issue_text (rowid, title, description) VALUES (new.rowid, new.title, new.description);
END;
CREATE TRIGGER issue_text_after_delete AFTER DELETE ON issues BEGIN
    INSERT INTO issue_text (issue_text, rowid, title, description)
        VALUES ('delete', old.rowid, old.title, old.description);
END;
CREATE TRIGGER issue_text_after_update AFTER UPDATE OF title, description ON issues BEGIN
    INSERT INTO issue_text (issue_text, rowid, title, description)
        VALUES ('delete', old.rowid, old.title, old.description);
    INSERT INTO issue_text (rowid, title, description) VALUES (new.rowid, new.title, new.description);
END;
