-- Guests' history and one rule for control characters (postgres). Keep in step with the other backend.
--
-- 1. Each history entry records whether its issue was public both before and after the change. Guests
--    read only such entries (and the whole history of their own reports): nothing written while an
--    issue was internal reaches them. Entries recorded before this column existed are hidden from
--    guests (fail closed): whether the issue was public at the time cannot be known.
ALTER TABLE issue_history ADD COLUMN public_throughout BIGINT NOT NULL DEFAULT 0
    CHECK (public_throughout IN (0, 1));

-- 2. The control-character rule of app/src/rules.rs, repeated by the database: single-line text holds
--    none (U+0001-U+001F, U+007F-U+009F; PostgreSQL text cannot hold NUL at all); multi-line text
--    (Markdown) only tab, newline and carriage return. NOT VALID: rows written before this rule are
--    not re-checked (an upgrade must not fail on old data); every new write is.

ALTER TABLE users ADD CONSTRAINT users_email_single_line
    CHECK (email !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE users ADD CONSTRAINT users_display_name_single_line
    CHECK (display_name !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE teams ADD CONSTRAINT teams_name_single_line
    CHECK (name !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE invitations ADD CONSTRAINT invitations_email_single_line
    CHECK (email !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE projects ADD CONSTRAINT projects_name_single_line
    CHECK (name !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE projects ADD CONSTRAINT projects_description_plain_text
    CHECK (description !~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE project_statuses ADD CONSTRAINT project_statuses_name_single_line
    CHECK (name !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE issues ADD CONSTRAINT issues_title_single_line
    CHECK (title !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE issues ADD CONSTRAINT issues_env_browser_single_line
    CHECK (env_browser !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE issues ADD CONSTRAINT issues_env_os_single_line
    CHECK (env_os !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE issues ADD CONSTRAINT issues_env_device_single_line
    CHECK (env_device !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE issues ADD CONSTRAINT issues_env_app_version_single_line
    CHECK (env_app_version !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE issues ADD CONSTRAINT issues_env_url_single_line
    CHECK (env_url !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE issues ADD CONSTRAINT issues_description_plain_text
    CHECK (description !~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE issue_tags ADD CONSTRAINT issue_tags_tag_single_line
    CHECK (tag !~ '[\u0001-\u001f\u007f-\u009f]') NOT VALID;
ALTER TABLE comments ADD CONSTRAINT comments_body_plain_text
    CHECK (body !~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]') NOT VALID;
