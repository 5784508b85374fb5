-- Nothing to do on PostgreSQL: its trigram indexes are ordinary indexes of `issues`. (SQLite's
-- migration 0009 moves new issues' full-text indexing into the group commit.)
SELECT 1;
