-- New issues enter the full-text index once per group commit (server/src/db/group_commit.rs), in
-- one statement for the whole batch, instead of by this trigger. FTS5 writes its pending terms as a
-- new segment whenever a later statement of the transaction opens a savepoint, so the trigger left
-- one tiny segment per create, and merging them took most of a create's time as the index grew.
-- Edits and deletes keep their triggers (issue_text_after_update, issue_text_after_delete).
DROP TRIGGER issue_text_after_insert;
