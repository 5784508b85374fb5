-- Markdown is rendered (and sanitised) once, when it is written, not on every read. NULL means "not
-- rendered yet": the server renders such rows at start (rows written before this migration) and
-- whenever it meets one.
ALTER TABLE issues ADD COLUMN description_html TEXT;
ALTER TABLE comments ADD COLUMN body_html TEXT;

-- Finding the rows still to render at start costs an index lookup, not a scan of every issue.
CREATE INDEX issues_to_render ON issues (id) WHERE description_html IS NULL;
CREATE INDEX comments_to_render ON comments (id) WHERE body_html IS NULL;
