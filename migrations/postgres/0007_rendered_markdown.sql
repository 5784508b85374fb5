-- Markdown is rendered (and sanitised) once, when it is written, not on every read. NULL means "not
-- rendered yet": the server renders such rows at start (rows written before this migration) and
-- whenever it meets one.
ALTER TABLE issues ADD COLUMN description_html TEXT;
ALTER TABLE comments ADD COLUMN body_html TEXT;
