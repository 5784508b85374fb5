-- Projects, their members and their status workflows (sqlite). Keep in step with the other backend.

CREATE TABLE projects (
    id                TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id           TEXT    NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    key               TEXT    NOT NULL CHECK (length(key) BETWEEN 2 AND 10 AND key = upper(key)),
    name              TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description       TEXT    NOT NULL CHECK (length(description) <= 10000),
    visibility        TEXT    NOT NULL CHECK (visibility IN ('private', 'public')),
    published         INTEGER NOT NULL CHECK (published IN (0, 1)),
    archived          INTEGER NOT NULL CHECK (archived IN (0, 1)),
    next_issue_number INTEGER NOT NULL DEFAULT 1 CHECK (next_issue_number >= 1),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (team_id, key),
    -- Lets children name (team, project) together, so the database keeps them in one team.
    UNIQUE (team_id, id),
    -- Only a public project can be published.
    CHECK (published = 0 OR visibility = 'public')
) STRICT;

CREATE INDEX projects_by_team ON projects (team_id, archived, name);

-- A project member is always a member of the project's team: removing them from the team removes
-- them from its projects.
CREATE TABLE project_members (
    team_id    TEXT    NOT NULL,
    project_id TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id),
    FOREIGN KEY (team_id, project_id) REFERENCES projects (team_id, id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, user_id) REFERENCES memberships (team_id, user_id) ON DELETE CASCADE
) STRICT;

CREATE INDEX project_members_by_user ON project_members (team_id, user_id);

CREATE TABLE project_statuses (
    id         TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id    TEXT    NOT NULL,
    project_id TEXT    NOT NULL,
    name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
    category   TEXT    NOT NULL CHECK (category IN ('open', 'in_progress', 'done')),
    position   INTEGER NOT NULL CHECK (position >= 0),
    UNIQUE (project_id, name),
    UNIQUE (project_id, id),
    FOREIGN KEY (team_id, project_id) REFERENCES projects (team_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX project_statuses_by_project ON project_statuses (team_id, project_id, position);
