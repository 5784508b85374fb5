-- Notifications (issue 27). Every change to an issue that people hear about writes one `outbox` row in
-- the transaction of the change; a bounded worker fans it out off the request path into `notifications`
-- (one per recipient and event: the UNIQUE key makes a redelivered event a no-op) and into
-- `mail_batches`. Entries keep ids only, never text: what a recipient reads is rendered with their
-- read rules when they read it (the inbox, a live event, an email).
CREATE TABLE outbox (
    seq          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id      TEXT    NOT NULL,
    issue_id     TEXT    NOT NULL,
    actor_id     TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('created', 'changed', 'commented')),
    comment_id   TEXT    CHECK (comment_id IS NULL OR length(comment_id) = 36),
    -- The fields a change touched, comma-separated names (never values).
    fields       TEXT    NOT NULL DEFAULT '' CHECK (length(fields) <= 300),
    created_at   BIGINT NOT NULL,
    -- A worker's claim, so that two instances do not fan out the same event at once.
    claimed_until BIGINT,
    delivered_at BIGINT,
    attempts     BIGINT  NOT NULL DEFAULT 0,
    FOREIGN KEY (team_id, issue_id) REFERENCES issues (team_id, id) ON DELETE CASCADE
);

CREATE INDEX outbox_pending ON outbox (delivered_at, seq);
CREATE INDEX outbox_by_issue ON outbox (team_id, issue_id, seq);

-- Who watches an issue. `watching = 0` remembers an explicit "unwatch", which automatic watching
-- (reporting, being assigned, commenting, being mentioned) does not undo.
CREATE TABLE issue_watchers (
    team_id    TEXT    NOT NULL,
    issue_id   TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    watching   BIGINT NOT NULL CHECK (watching IN (0, 1)),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, issue_id, user_id),
    FOREIGN KEY (team_id, issue_id) REFERENCES issues (team_id, id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, user_id) REFERENCES memberships (team_id, user_id) ON DELETE CASCADE
);

-- Members who hear of every new issue of a project.
CREATE TABLE project_watchers (
    team_id    TEXT    NOT NULL,
    project_id TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, project_id, user_id),
    FOREIGN KEY (team_id, project_id) REFERENCES projects (team_id, id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, user_id) REFERENCES memberships (team_id, user_id) ON DELETE CASCADE
);

CREATE TABLE notifications (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    team_id    TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    event_seq  BIGINT NOT NULL,
    issue_id   TEXT    NOT NULL,
    reason     TEXT    NOT NULL CHECK (reason IN ('watching', 'mentioned', 'assigned')),
    created_at BIGINT NOT NULL,
    read_at    BIGINT,
    emailed_at BIGINT,
    UNIQUE (user_id, event_seq),
    FOREIGN KEY (team_id, issue_id) REFERENCES issues (team_id, id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, user_id) REFERENCES memberships (team_id, user_id) ON DELETE CASCADE
);

CREATE INDEX notifications_inbox ON notifications (team_id, user_id, id);

-- Per user: which activity notifies them, and whether by email too.
CREATE TABLE notification_settings (
    user_id    TEXT    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    level      TEXT    NOT NULL CHECK (level IN ('all', 'participating', 'none')),
    email      BIGINT  NOT NULL CHECK (email IN (0, 1)),
    updated_at BIGINT NOT NULL
);

-- One email per recipient and issue is pending at a time: a burst of events is one mail.
CREATE TABLE mail_batches (
    team_id  TEXT    NOT NULL,
    user_id  TEXT    NOT NULL,
    issue_id TEXT    NOT NULL,
    due_at   BIGINT NOT NULL,
    PRIMARY KEY (team_id, user_id, issue_id),
    FOREIGN KEY (team_id, issue_id) REFERENCES issues (team_id, id) ON DELETE CASCADE,
    FOREIGN KEY (team_id, user_id) REFERENCES memberships (team_id, user_id) ON DELETE CASCADE
);

CREATE INDEX mail_batches_due ON mail_batches (due_at);

-- An address is proven when its owner followed a link mailed to it (an emailed invitation).
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
ALTER TABLE invitations ADD COLUMN emailed BIGINT NOT NULL DEFAULT 0 CHECK (emailed IN (0, 1));
