-- Text search (`q` of the issue list) reads trigram indexes instead of scanning the project: pg_trgm's
-- GIN indexes answer `LIKE '%text%'` for three characters or more, the same substring search as
-- SQLite's FTS5 trigram index. pg_trgm ships with PostgreSQL and is a trusted extension: the owner
-- of the database may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX issues_title_text ON issues USING gin (lower(title) gin_trgm_ops);
CREATE INDEX issues_description_text ON issues USING gin (lower(description) gin_trgm_ops);
