-- Saved views: a named filter and order of a project's list, kept for the person who saved it or
-- shared with the team's members who read the project (never with guests). A view holds the filter,
-- never results: whoever opens it reads the list under their own read scope.
CREATE TABLE saved_views (
    id         TEXT    PRIMARY KEY,
    team_id    TEXT    NOT NULL,
    project_id TEXT    NOT NULL,
    owner_id   TEXT    NOT NULL,
    name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 60 AND name = trim(name)),
    -- The filter and order as JSON (`app::model::ViewFilter`).
    filter_json TEXT   NOT NULL CHECK (length(filter_json) <= 2000 AND filter_json::jsonb IS NOT NULL),
    shared     BIGINT  NOT NULL CHECK (shared IN (0, 1)),
    created_at BIGINT  NOT NULL,
    FOREIGN KEY (team_id, project_id) REFERENCES projects (team_id, id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, owner_id) REFERENCES memberships (team_id, user_id) ON DELETE CASCADE
);

-- One name per person and project, and one name among a project's shared views.
CREATE UNIQUE INDEX saved_views_owner_names ON saved_views (project_id, owner_id, name);
CREATE UNIQUE INDEX saved_views_shared_names ON saved_views (project_id, name) WHERE shared = 1;
CREATE INDEX saved_views_by_owner ON saved_views (team_id, owner_id);

INSERT INTO audit_events (name) VALUES ('view_deleted');
