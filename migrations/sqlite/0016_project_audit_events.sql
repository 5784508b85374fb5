-- Project settings that decide who sees what are security events: creating a project, changing its
-- audience or publishing it, archiving it, and its membership.
INSERT INTO audit_events (name) VALUES
    ('project_created'), ('project_changed'), ('project_archived'),
    ('project_member_added'), ('project_member_removed');
