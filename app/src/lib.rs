//! Moth's shared crate: compiled into the browser (`csr`) and into the server (`ssr`).
//!
//! - [`model`] and [`rules`]: the wire types and the one set of validation rules both sides run;
//! - [`error`]: the error type every server function answers with;
//! - [`api`]: the server functions, Moth's HTTP API;
//! - [`ui`]: the Leptos components of the single-page app.

pub mod api;
pub mod error;
pub mod model;
pub mod rules;
pub mod ui;

pub use ui::App;
