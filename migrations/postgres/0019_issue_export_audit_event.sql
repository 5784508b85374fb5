-- Exporting a project's issues as CSV is a security event too (data leaves the app).
INSERT INTO audit_events (name) VALUES ('issues_exported');
