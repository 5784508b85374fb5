-- Issues, their tags, assignees, comments and history (postgres). Keep in step with the other backend and
-- with the limits in app/src/rules.rs. Every table carries team_id, and composite foreign keys keep a
-- child in the same team (and project) as its parent.

CREATE TABLE issues (
    id              TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id         TEXT    NOT NULL,
    project_id      TEXT    NOT NULL,
    number          BIGINT NOT NULL CHECK (number >= 1),
    title           TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description     TEXT    NOT NULL CHECK (length(description) <= 20000),
    kind            TEXT    NOT NULL CHECK (kind IN ('bug', 'task', 'feature', 'improvement')),
    severity        TEXT    NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    priority        TEXT    NOT NULL CHECK (priority IN ('urgent', 'high', 'medium', 'low', 'none')),
    status_id       TEXT    NOT NULL,
    reporter_id     TEXT    NOT NULL REFERENCES users (id),
    visibility      TEXT    NOT NULL CHECK (visibility IN ('internal', 'public')),
    env_browser     TEXT    NOT NULL CHECK (length(env_browser) <= 100),
    env_os          TEXT    NOT NULL CHECK (length(env_os) <= 100),
    env_device      TEXT    NOT NULL CHECK (length(env_device) <= 100),
    env_app_version TEXT    NOT NULL CHECK (length(env_app_version) <= 100),
    env_url         TEXT    NOT NULL CHECK (length(env_url) <= 2000),
    due_date        TEXT    CHECK (due_date IS NULL OR length(due_date) = 10),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    deleted_at      BIGINT,
    UNIQUE (project_id, number),
    UNIQUE (team_id, id),
    FOREIGN KEY (team_id, project_id) REFERENCES projects (team_id, id) ON DELETE CASCADE,
    FOREIGN KEY (project_id, status_id) REFERENCES project_statuses (project_id, id)
);

-- Lists lead with the team id and project, and each sort order has an index that gives it, so a page
-- is read in order without sorting (see docs/performance.md). The rank expressions must stay exactly
-- as in server/src/db/issues.rs.
CREATE INDEX issues_by_project_number ON issues (team_id, project_id, number);
CREATE INDEX issues_by_project_updated ON issues (team_id, project_id, updated_at DESC, number);
CREATE INDEX issues_by_project_priority ON issues (team_id, project_id,
    (CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END), number);
CREATE INDEX issues_by_project_severity ON issues (team_id, project_id,
    (CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END), number);

CREATE TABLE issue_tags (
    team_id  TEXT NOT NULL,
    issue_id TEXT NOT NULL,
    tag      TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 40),
    PRIMARY KEY (issue_id, tag),
    FOREIGN KEY (team_id, issue_id) REFERENCES issues (team_id, id) ON DELETE CASCADE
);

CREATE INDEX issue_tags_by_tag ON issue_tags (team_id, tag);

CREATE TABLE issue_assignees (
    team_id  TEXT NOT NULL,
    issue_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (issue_id, user_id),
    FOREIGN KEY (team_id, issue_id) REFERENCES issues (team_id, id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, user_id) REFERENCES memberships (team_id, user_id) ON DELETE CASCADE
);

CREATE INDEX issue_assignees_by_user ON issue_assignees (team_id, user_id);

CREATE TABLE comments (
    id         TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id    TEXT    NOT NULL,
    issue_id   TEXT    NOT NULL,
    author_id  TEXT    NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    visibility TEXT    NOT NULL CHECK (visibility IN ('internal', 'public')),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    FOREIGN KEY (team_id, issue_id) REFERENCES issues (team_id, id) ON DELETE CASCADE
);

CREATE INDEX comments_by_issue ON comments (team_id, issue_id, created_at);

CREATE TABLE issue_history (
    id        TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 36),
    team_id   TEXT    NOT NULL,
    issue_id  TEXT    NOT NULL,
    actor_id  TEXT    REFERENCES users (id) ON DELETE SET NULL,
    field     TEXT    NOT NULL CHECK (length(field) BETWEEN 1 AND 40),
    old_value TEXT    NOT NULL,
    new_value TEXT    NOT NULL,
    at        BIGINT NOT NULL,
    FOREIGN KEY (team_id, issue_id) REFERENCES issues (team_id, id) ON DELETE CASCADE
);

CREATE INDEX issue_history_by_issue ON issue_history (team_id, issue_id, at);
