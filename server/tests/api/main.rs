//! Integration tests: each starts the real server on port 0 with a fresh database and talks HTTP to it.
//! The database is a new `SQLite` file, or, when `MOTH_TEST_POSTGRES_URL` names a `PostgreSQL` server, a
//! new database on it; the test script runs the whole suite once each way.

mod accounts;
mod across_projects;
mod api_docs;
mod audit_chain;
mod audit_log;
mod backups;
mod bans;
mod binary;
mod cluster;
mod code_shape;
mod comment_files;
mod control_characters;
mod durability;
mod file_content;
mod files;
mod fuzz;
mod guest_history;
mod helpers;
mod invited_projects;
mod issues;
mod limits;
mod mail;
mod notifications;
mod permissions;
mod pitr_postgres;
mod plans;
mod projects;
mod published;
mod replica;
mod requests;
mod rest_files;
mod rolling_upgrade;
mod search;
mod sessions;
mod sign_in_doors;
mod slow_clients;
mod team_export;
mod teams;
mod tokens;
mod two_factor;
mod upgrade;
mod views;
mod webhooks;
