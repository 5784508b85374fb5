-- An invitation may name projects of its team; whoever accepts it joins them in the same
-- transaction (a guest only those that are public when they accept, `policy::may_join_project`).
-- A pending invitation's link may be issued again (`renew_invitation`), which retires the old one.
CREATE UNIQUE INDEX invitations_team_and_id ON invitations (team_id, id);

CREATE TABLE invitation_projects (
    team_id       TEXT NOT NULL,
    invitation_id TEXT NOT NULL,
    project_id    TEXT NOT NULL,
    PRIMARY KEY (invitation_id, project_id),
    FOREIGN KEY (team_id, invitation_id) REFERENCES invitations (team_id, id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, project_id) REFERENCES projects (team_id, id) ON DELETE CASCADE
) STRICT;

CREATE INDEX invitation_projects_by_project ON invitation_projects (team_id, project_id);

INSERT INTO audit_events (name) VALUES ('invitation_renewed');
