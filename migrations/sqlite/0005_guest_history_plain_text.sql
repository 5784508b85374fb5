-- Guests' history and one rule for control characters (sqlite). Keep in step with the other backend.
--
-- 1. Each history entry records whether its issue was public both before and after the change. Guests
--    read only such entries (and the whole history of their own reports): nothing written while an
--    issue was internal reaches them. Entries recorded before this column existed are hidden from
--    guests (fail closed): whether the issue was public at the time cannot be known.
ALTER TABLE issue_history ADD COLUMN public_throughout INTEGER NOT NULL DEFAULT 0
    CHECK (public_throughout IN (0, 1));

-- 2. The control-character rule of app/src/rules.rs, repeated by the database: single-line text holds
--    none (U+0000-U+001F, U+007F-U+009F); multi-line text (Markdown) only tab, newline and carriage
--    return. SQLite cannot add a CHECK to an existing table, so triggers refuse such writes. GLOB stops
--    at a NUL, so NUL is looked for in the bytes.

CREATE TRIGGER users_plain_text_insert BEFORE INSERT ON users
WHEN instr(CAST(NEW.email AS BLOB), x'00') > 0 OR NEW.email GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.display_name AS BLOB), x'00') > 0 OR NEW.display_name GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in users'); END;

CREATE TRIGGER users_plain_text_update BEFORE UPDATE ON users
WHEN instr(CAST(NEW.email AS BLOB), x'00') > 0 OR NEW.email GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.display_name AS BLOB), x'00') > 0 OR NEW.display_name GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in users'); END;

CREATE TRIGGER teams_plain_text_insert BEFORE INSERT ON teams
WHEN instr(CAST(NEW.name AS BLOB), x'00') > 0 OR NEW.name GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in teams'); END;

CREATE TRIGGER teams_plain_text_update BEFORE UPDATE ON teams
WHEN instr(CAST(NEW.name AS BLOB), x'00') > 0 OR NEW.name GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in teams'); END;

CREATE TRIGGER invitations_plain_text_insert BEFORE INSERT ON invitations
WHEN instr(CAST(NEW.email AS BLOB), x'00') > 0 OR NEW.email GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in invitations'); END;

CREATE TRIGGER invitations_plain_text_update BEFORE UPDATE ON invitations
WHEN instr(CAST(NEW.email AS BLOB), x'00') > 0 OR NEW.email GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in invitations'); END;

CREATE TRIGGER projects_plain_text_insert BEFORE INSERT ON projects
WHEN instr(CAST(NEW.name AS BLOB), x'00') > 0 OR NEW.name GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.description AS BLOB), x'00') > 0 OR NEW.description GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in projects'); END;

CREATE TRIGGER projects_plain_text_update BEFORE UPDATE ON projects
WHEN instr(CAST(NEW.name AS BLOB), x'00') > 0 OR NEW.name GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.description AS BLOB), x'00') > 0 OR NEW.description GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in projects'); END;

CREATE TRIGGER project_statuses_plain_text_insert BEFORE INSERT ON project_statuses
WHEN instr(CAST(NEW.name AS BLOB), x'00') > 0 OR NEW.name GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in project_statuses'); END;

CREATE TRIGGER project_statuses_plain_text_update BEFORE UPDATE ON project_statuses
WHEN instr(CAST(NEW.name AS BLOB), x'00') > 0 OR NEW.name GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in project_statuses'); END;

CREATE TRIGGER issues_plain_text_insert BEFORE INSERT ON issues
WHEN instr(CAST(NEW.title AS BLOB), x'00') > 0 OR NEW.title GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.env_browser AS BLOB), x'00') > 0 OR NEW.env_browser GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.env_os AS BLOB), x'00') > 0 OR NEW.env_os GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.env_device AS BLOB), x'00') > 0 OR NEW.env_device GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.env_app_version AS BLOB), x'00') > 0 OR NEW.env_app_version GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.env_url AS BLOB), x'00') > 0 OR NEW.env_url GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.description AS BLOB), x'00') > 0 OR NEW.description GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in issues'); END;

CREATE TRIGGER issues_plain_text_update BEFORE UPDATE ON issues
WHEN instr(CAST(NEW.title AS BLOB), x'00') > 0 OR NEW.title GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.env_browser AS BLOB), x'00') > 0 OR NEW.env_browser GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.env_os AS BLOB), x'00') > 0 OR NEW.env_os GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.env_device AS BLOB), x'00') > 0 OR NEW.env_device GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.env_app_version AS BLOB), x'00') > 0 OR NEW.env_app_version GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.env_url AS BLOB), x'00') > 0 OR NEW.env_url GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
     OR instr(CAST(NEW.description AS BLOB), x'00') > 0 OR NEW.description GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in issues'); END;

CREATE TRIGGER issue_tags_plain_text_insert BEFORE INSERT ON issue_tags
WHEN instr(CAST(NEW.tag AS BLOB), x'00') > 0 OR NEW.tag GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in issue_tags'); END;

CREATE TRIGGER issue_tags_plain_text_update BEFORE UPDATE ON issue_tags
WHEN instr(CAST(NEW.tag AS BLOB), x'00') > 0 OR NEW.tag GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in issue_tags'); END;

CREATE TRIGGER comments_plain_text_insert BEFORE INSERT ON comments
WHEN instr(CAST(NEW.body AS BLOB), x'00') > 0 OR NEW.body GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in comments'); END;

CREATE TRIGGER comments_plain_text_update BEFORE UPDATE ON comments
WHEN instr(CAST(NEW.body AS BLOB), x'00') > 0 OR NEW.body GLOB ('*[' || char(1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159) || ']*')
BEGIN SELECT RAISE(ABORT, 'control characters in comments'); END;
