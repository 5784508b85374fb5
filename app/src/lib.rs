//! Moth's shared crate: compiled into the browser (`csr`) and into the server (`ssr`).
//!
//! - [`model`] and [`rules`]: the wire types and the one set of validation rules both sides run;
//! - [`error`]: the error type every server function answers with;
//! - [`api`]: the server functions, Moth's HTTP API;
//! - [`ui`]: the Leptos components of the single-page app, and [`bundles`]: which of its two bundles
//!   draws which page.

// The settings bundle's routes make one view type deeper than rustc's default query depth allows on
// the server, where Leptos does not erase view types.
#![recursion_limit = "256"]

pub mod api;
pub mod bundles;
pub mod error;
pub mod model;
pub mod rules;
pub mod ui;

pub use ui::{App, SettingsApp};
