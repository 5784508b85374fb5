//! Saved views: a named filter and order of a project's list, for oneself or shared with the team.

use garde::Validate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{IssueFilter, IssueSort, Normalize, ProjectId};
use crate::rules;

typed_id!(
    /// A saved view of a project's list.
    ViewId
);

/// The most views one person keeps in one project (their own and the ones they shared).
pub const VIEWS_PER_PERSON: usize = 50;

/// What a view opens: a filter and an order (the list's address without the list/board choice).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[serde(default)]
pub struct ViewFilter {
    #[garde(dive)]
    pub filter: IssueFilter,
    #[garde(skip)]
    pub sort: IssueSort,
}

/// A saved view as its reader sees it. Opening it lists under the reader's own read scope: a view
/// holds a filter, never results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub id: ViewId,
    pub name: String,
    /// The list's parameters it opens (`IssueFilter::query`: `severity=high&sort=priority`).
    pub query: String,
    /// Shared with the team's members who read the project (never guests).
    pub shared: bool,
    /// Who saved it.
    pub owner: String,
    /// Whether the reader may delete it: their own, or a shared one as OWNER or ADMIN.
    pub deletable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct SaveViewInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(custom(rules::view_name))]
    pub name: String,
    #[garde(dive)]
    #[serde(default)]
    pub view: ViewFilter,
    /// Share with the team (members, not guests); guests save views for themselves only.
    #[garde(skip)]
    #[serde(default)]
    pub shared: bool,
}

impl Normalize for SaveViewInput {
    fn normalize(self) -> Self {
        Self { name: self.name.trim().to_owned(), ..self }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ViewIdInput {
    #[garde(skip)]
    pub view_id: ViewId,
}

no_normalization!(ViewIdInput);
