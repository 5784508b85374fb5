//! The tracker's pages: a project's issues as a list or a board (filters live in the URL), the
//! "New issue" form, and an issue's page with its comments and history. Descriptions and comments
//! arrive as HTML already sanitised by the server; titles and every other field are plain text.
//!
//! Here: `list` (the list, search and filters), `board` (the board and its dragging), `form` (new and
//! edit), `page` (one issue), `in_place` (its status, severity and priority changed on its head), `views` (saved views); the filter in the URL is `ui::address`'s.

mod board;
mod form;
mod in_place;
mod list;
mod page;
mod views;

pub use list::{IssueTable, ProjectIssues};
pub use page::IssuePage;
