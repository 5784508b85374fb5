//! The list's address: its filter, order and view (list or board) live in the URL; these turn one
//! into the other.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::model::{IssueFilter, IssueSort, IssueType, IssueVisibility, Me, Priority, Severity, StatusCategory};
/// The filter of the URL's query (`?q=login&severity=high`).
pub(super) fn filter_from_query() -> Memo<IssueFilter> {
    let query = use_query_map();
    Memo::new(move |_| filter_of(&query.read()))
}

/// The filter of the address; unknown values are left out.
pub(super) fn filter_of(q: &leptos_router::params::ParamsMap) -> IssueFilter {
    IssueFilter::from_query(|k| q.get(k)).0
}

/// The filter and order the address asks for now, for the page's first request.
pub(super) fn list_of_the_address() -> (IssueFilter, IssueSort) {
    let query = use_query_map();
    query.with_untracked(|q| {
        let (filter, sort, _) = IssueFilter::from_query(|k| q.get(k));
        (filter, sort)
    })
}

/// Applies one choice of the "Add filter" menu (`field=value`) to a filter; an empty value clears it.
pub(super) fn apply_choice(mut f: IssueFilter, choice: &str) -> IssueFilter {
    let (field, value) = choice.split_once('=').unwrap_or((choice, ""));
    match field {
        "status" => f.status = value.parse().ok(),
        "category" => f.category = StatusCategory::parse(value),
        "type" => f.kind = IssueType::parse(value),
        "severity" => f.severity = Severity::parse(value),
        "priority" => f.priority = Priority::parse(value),
        "visibility" => f.visibility = IssueVisibility::parse(value),
        "tag" => value.clone_into(&mut f.tag),
        "assignee" => f.assignee = value.parse().ok(),
        "reporter" => f.reporter = value.parse().ok(),
        "q" => value.clone_into(&mut f.q),
        _ => {}
    }
    f
}

/// The active filters as (`field`, what people read), for the removable chips.
pub(super) fn active_filters(
    f: &IssueFilter,
    statuses: &[crate::model::ProjectStatus],
    me: &Me,
) -> Vec<(&'static str, String)> {
    let person = |id: crate::model::UserId| if id == me.user.id { "me".to_owned() } else { id.to_string() };
    let mut out = Vec::new();
    if let Some(id) = f.status {
        let name = statuses.iter().find(|s| s.id == id).map_or_else(|| id.to_string(), |s| s.name.clone());
        out.push(("status", format!("status: {name}")));
    }
    if let Some(c) = f.category {
        out.push(("category", format!("category: {}", c.as_str().replace('_', " "))));
    }
    if let Some(k) = f.kind {
        out.push(("type", format!("type: {}", k.as_str())));
    }
    if let Some(v) = f.severity {
        out.push(("severity", format!("severity: {}", v.as_str())));
    }
    if let Some(v) = f.priority {
        out.push(("priority", format!("priority: {}", v.as_str())));
    }
    if let Some(v) = f.visibility {
        out.push(("visibility", format!("visibility: {}", v.as_str())));
    }
    if !f.tag.is_empty() {
        out.push(("tag", format!("tag: {}", f.tag)));
    }
    if let Some(id) = f.assignee {
        out.push(("assignee", format!("assigned to {}", person(id))));
    }
    if let Some(id) = f.reporter {
        out.push(("reporter", format!("reported by {}", person(id))));
    }
    if !f.q.is_empty() {
        out.push(("q", format!("text: {}", f.q)));
    }
    out
}

/// `?...` for a filter and view, for links and the CSV export.
pub(super) fn query_string(filter: &IssueFilter, sort: IssueSort, view: &str) -> String {
    with_view(view, &filter.query(sort))
}

/// `?view=...&...`: a list's parameters (as `IssueFilter::query` writes them) in `view`.
pub(super) fn with_view(view: &str, query: &str) -> String {
    if query.is_empty() {
        format!("?view={view}")
    } else {
        format!("?view={view}&{query}")
    }
}

pub(super) use crate::model::percent_encode as encode;

/// The list's address: its filter, order and view (list or board) come from the URL, and every
/// search, filter, order and view is a link to another address.
#[derive(Clone, Copy)]
pub(super) struct ListAddress {
    pub(super) base: StoredValue<String>,
    pub(super) filter: Memo<IssueFilter>,
    pub(super) sort: Memo<IssueSort>,
    pub(super) board: Memo<bool>,
}

impl ListAddress {
    pub(super) fn of_project(key: &str) -> Self {
        let query = use_query_map();
        Self {
            base: StoredValue::new(format!("/projects/{key}")),
            filter: filter_from_query(),
            sort: Memo::new(move |_| {
                IssueSort::parse(&query.read().get("sort").unwrap_or_default()).unwrap_or_default()
            }),
            board: Memo::new(move |_| query.read().get("view").as_deref() == Some("board")),
        }
    }

    pub(super) fn view_name(self) -> &'static str {
        if self.board.get_untracked() {
            "board"
        } else {
            "list"
        }
    }

    /// The address of this filter and order in `view`.
    pub(super) fn href(self, filter: &IssueFilter, sort: IssueSort, view: &str) -> String {
        format!("{}{}", self.base.get_value(), query_string(filter, sort, view))
    }

    /// The current view with another filter.
    pub(super) fn with_filter(self, filter: &IssueFilter) -> String {
        self.href(filter, self.sort.get_untracked(), self.view_name())
    }
}
