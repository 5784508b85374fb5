//! Moth's server. `main.rs` only calls [`cli::main`]; the pieces, from the outside in:
//!
//! - [`cli`], [`config`], [`startup`]: the command line, configuration, building and running the app;
//! - [`http`]: the router and the policies on every request (security headers, cross-site refusal,
//!   sessions, the single-page app);
//! - [`service`]: the server functions' implementation ([`app::api::Api`]);
//! - [`policy`]: the one place that decides who may do what;
//! - [`actor`], [`session`], [`password`]: who is asking (the [`actor::Actor`], made only by the
//!   session), and how we know;
//! - [`db`]: the data layer for `SQLite` and `PostgreSQL`;
//! - [`backup`]: encrypted snapshots, retention, restore drills and restores; [`export`]: a team's
//!   own exports, to a download or the team's bucket;
//! - [`notify`]: notifications: the worker that delivers them, live connections, email;
//! - [`clock`]: time, injectable for tests; [`machine`]: the cores the pools are sized for.

pub mod access_token;
pub mod actor;
pub mod backup;
pub mod bans;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod db;
pub mod digest;
pub mod error;
pub mod export;
pub mod files;
pub mod http;
pub mod machine;
pub mod mail;
pub mod markdown;
pub mod metrics;
pub mod notify;
pub mod password;
pub mod policy;
pub mod service;
pub mod signed;
pub mod spreadsheet;
pub mod sso;
pub mod startup;
pub mod sweeper;
pub mod webhooks;
