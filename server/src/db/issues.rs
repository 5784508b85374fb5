//! Issues, their tags, assignees, comments and history. Every function takes the [`Actor`] (or a
//! [`PublishedProject`]) and filters by its team. What the caller may read is decided by
//! [`crate::policy::Reader`], derived here from the actor: a guest sees only public issues and their own
//! reports, in public projects they belong to, only public comments, and only the history recorded while
//! the issue was visible to them. Anything else is "not found".
//!
//! The finders answer [`Visible`] issues: the proof that the reader may see them. Comments, history and
//! every write to an issue take that proof, so nothing hanging off an issue can be read or changed
//! through an issue the caller has not found visible, and the reader's rules are applied here, once.

use app::model::{
    Comment, CommentId, Environment, Flag, HistoryEntry, Issue, IssueFields, IssueFilter, IssueId, IssueSort,
    IssueSummary, IssueType, IssueVisibility, Person, Priority, ProjectId, Severity, StatusId, StatusRef, TeamId,
    UserId,
};
use std::collections::{BTreeSet, HashMap};

use sqlx::{Any, AnyConnection};
use uuid::Uuid;

use super::{projects::PublishedProject, Backend, Db, DbError, TeamScope};
use crate::{
    actor::Actor,
    markdown::to_safe_html,
    policy::{HistoryShown, Reader},
};

/// Proof that a reader may see the issue it holds. Only this module's finders make one, right after
/// the visibility query; it remembers the team and the reader, so that what hangs off the issue is
/// read with the same reader's rules.
pub struct Visible<T> {
    team_id: TeamId,
    reader: Reader,
    value: T,
}

impl<T> std::ops::Deref for Visible<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Visible<T> {
    /// Who it was found for: what hangs off it is read by the same rules.
    pub fn reader(&self) -> Reader {
        self.reader
    }
}

impl<T> TeamScope for Visible<T> {
    fn team_id(&self) -> TeamId {
        self.team_id
    }
}

/// Whether the actor may read issue `i` of a readable project: guests only public issues and their own.
macro_rules! issue_readable {
    () => {
        "($4 = 0 OR i.visibility = 'public' OR i.reporter_id = $3)"
    };
}

/// The issues of team `$1` the actor may see.
macro_rules! visible_issues {
    () => {
        concat!(
            " FROM issues i JOIN projects p ON p.team_id = i.team_id AND p.id = i.project_id \
              WHERE i.team_id = $1 AND i.deleted_at IS NULL AND ",
            project_readable!(),
            " AND ",
            issue_readable!()
        )
    };
}

/// The same, within project `$5`, for the lists. `$from` reads either `issues` alone in the order of
/// the list's index, which it names for `SQLite` (`INDEXED BY`): joined with `projects`, or free to
/// choose, `SQLite` read the project's issues whole and sorted them once it had statistics of a small
/// project (`tests/api/plans.rs`); the project's rules are therefore an `EXISTS` on the project of
/// the parameters, which the database evaluates once per statement rather than once per row. Or, for
/// a text search on `SQLite`, the matches of the full-text index first (few, then sorted).
macro_rules! listed_issues {
    ($from:expr) => {
        concat!(
            $from,
            " WHERE i.team_id = $1 AND i.project_id = $5 AND i.deleted_at IS NULL \
              AND EXISTS (SELECT 1 FROM projects p WHERE p.team_id = $1 AND p.id = $5 AND ",
            project_readable!(),
            ") AND ",
            issue_readable!()
        )
    };
}

/// The columns of an issue row, with the project's key as `$key` gives it.
macro_rules! columns_with_key {
    ($key:literal) => {
        concat!(
            "SELECT i.id, i.project_id, ",
            $key,
            ", i.number, i.title, i.description, i.kind, i.severity, i.priority, \
         i.visibility, i.status_id, i.reporter_id, i.env_browser, i.env_os, i.env_device, i.env_app_version, \
         i.env_url, i.due_date, i.created_at, i.updated_at, i.description_html"
        )
    };
}

/// The columns of an issue joined with its project `p`.
macro_rules! issue_columns {
    () => {
        columns_with_key!("p.key")
    };
}

/// The columns of an issue in a list, which does not join the project: the project's key read once
/// per statement (its subquery names only parameters, so it is not run per row), and no description
/// (a list does not show it; the issue page reads it).
macro_rules! list_columns {
    () => {
        "SELECT i.id, i.project_id, (SELECT p.key FROM projects p WHERE p.team_id = $1 AND p.id = $5) AS key, \
         i.number, i.title, CAST('' AS TEXT) AS description, i.kind, i.severity, i.priority, \
         i.visibility, i.status_id, i.reporter_id, i.env_browser, i.env_os, i.env_device, i.env_app_version, \
         i.env_url, i.due_date, i.created_at, i.updated_at, CAST(NULL AS TEXT) AS description_html"
    };
}

type Binds<'q> = sqlx::any::AnyArguments<'q>;

fn bind_scope<'q, O>(
    query: sqlx::query::QueryAs<'q, Any, O, Binds<'q>>,
    actor: &Actor,
) -> sqlx::query::QueryAs<'q, Any, O, Binds<'q>> {
    let reader = Reader::of(actor);
    query
        .bind(actor.team_id())
        .bind(Flag(reader.sees_all_projects()))
        .bind(actor.user_id())
        .bind(Flag(!reader.sees_internal()))
}

#[derive(sqlx::FromRow)]
struct IssueRow {
    id: IssueId,
    project_id: ProjectId,
    key: String,
    number: i64,
    title: String,
    description: String,
    kind: IssueType,
    severity: Severity,
    priority: Priority,
    visibility: IssueVisibility,
    status_id: StatusId,
    reporter_id: UserId,
    env_browser: String,
    env_os: String,
    env_device: String,
    env_app_version: String,
    env_url: String,
    due_date: Option<String>,
    created_at: i64,
    updated_at: i64,
    description_html: Option<String>,
}

/// The stored fields of an issue, before names are looked up.
pub struct StoredIssue {
    pub id: IssueId,
    pub project_id: ProjectId,
    pub key: String,
    pub number: i64,
    pub status_id: StatusId,
    pub reporter_id: UserId,
    pub fields: IssueFields,
    pub created_at: i64,
    pub updated_at: i64,
    /// The description rendered when it was written (`None` for a row not rendered yet).
    pub description_html: Option<String>,
}

impl From<IssueRow> for StoredIssue {
    fn from(r: IssueRow) -> Self {
        StoredIssue {
            id: r.id,
            project_id: r.project_id,
            key: r.key,
            number: r.number,
            status_id: r.status_id,
            reporter_id: r.reporter_id,
            fields: IssueFields {
                title: r.title,
                description: r.description,
                kind: r.kind,
                severity: r.severity,
                priority: r.priority,
                visibility: r.visibility,
                environment: Environment {
                    browser: r.env_browser,
                    os: r.env_os,
                    device: r.env_device,
                    app_version: r.env_app_version,
                    url: r.env_url,
                },
                due_date: r.due_date,
                tags: Vec::new(),
                assignees: Vec::new(),
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            description_html: r.description_html,
        }
    }
}

/// An issue the actor may see, by id.
pub async fn find(db: &Db, actor: &Actor, id: IssueId) -> Result<Option<Visible<StoredIssue>>, DbError> {
    let row: Option<IssueRow> =
        bind_scope(sqlx::query_as(concat!(issue_columns!(), visible_issues!(), " AND i.id = $5")), actor)
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    Ok(hydrate(db, actor.team_id(), Reader::of(actor), row).await?.pop())
}

/// An issue the actor may see, by `KEY-number`.
pub async fn find_by_ref(
    db: &Db,
    actor: &Actor,
    key: &str,
    number: i64,
) -> Result<Option<Visible<StoredIssue>>, DbError> {
    let row: Option<IssueRow> = bind_scope(
        sqlx::query_as(concat!(issue_columns!(), visible_issues!(), " AND p.key = $5 AND i.number = $6")),
        actor,
    )
    .bind(key)
    .bind(number)
    .fetch_optional(db.pool())
    .await?;
    Ok(hydrate(db, actor.team_id(), Reader::of(actor), row).await?.pop())
}

/// `%text%` for LIKE, with LIKE's own wildcards in `text` escaped.
fn contains_pattern(text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let escaped = text.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The filters of the issue list, `$8`–`$17`, `$8` (the text) as `$text` gives it. Each is wrapped in
/// `likelihood(..., 1.0)`, the `SQLite` planner's hint that a term removes no rows: without it, a fresh
/// database with no statistics takes the ten filters for very selective, and sorts the project's
/// issues in a temporary B-tree instead of walking the list's index (`tests/api/plans.rs`).
/// `PostgreSQL` has the same `likelihood`, defined by migration 0006 as an inlined identity function.
macro_rules! list_filters {
    ($text:expr) => {
        concat!(
            $text,
            " AND likelihood(($9 = '' OR i.status_id = $9), 1.0)",
            " AND likelihood(($10 = '' OR EXISTS (SELECT 1 FROM project_statuses s WHERE s.project_id = i.project_id \
               AND s.id = i.status_id AND s.category = $10)), 1.0)",
            " AND likelihood(($11 = '' OR i.kind = $11), 1.0)",
            " AND likelihood(($12 = '' OR i.severity = $12), 1.0)",
            " AND likelihood(($13 = '' OR i.priority = $13), 1.0)",
            " AND likelihood(($14 = '' OR i.visibility = $14), 1.0)",
            " AND likelihood(($15 = '' OR EXISTS (SELECT 1 FROM issue_tags t WHERE t.team_id = i.team_id \
               AND t.issue_id = i.id AND t.tag = $15)), 1.0)",
            " AND likelihood(($16 = '' OR EXISTS (SELECT 1 FROM issue_assignees a WHERE a.team_id = i.team_id \
               AND a.issue_id = i.id AND a.user_id = $16)), 1.0)",
            " AND likelihood(($17 = '' OR i.reporter_id = $17), 1.0)"
        )
    };
}

/// How `$8` filters by text: a `LIKE` pattern that may be empty (no search, or too short for the
/// trigram indexes), the `LIKE` pattern `PostgreSQL`'s trigram indexes answer, or a phrase of `SQLite`'s
/// full-text index (whose `FROM` clause then starts at the index: see [`list_sql`]).
macro_rules! text_unless_empty {
    () => {
        " AND likelihood(($8 = '' OR lower(i.title) LIKE $8 ESCAPE '\\' OR lower(i.description) LIKE $8 ESCAPE '\\'), 1.0)"
    };
}
macro_rules! text_like {
    () => {
        " AND (lower(i.title) LIKE $8 ESCAPE '\\' OR lower(i.description) LIKE $8 ESCAPE '\\')"
    };
}
macro_rules! text_match {
    () => {
        " AND issue_text MATCH $8"
    };
}

/// The rank of a priority (urgent first) and of a severity (critical first). The indexes
/// `issues_by_project_priority` and `issues_by_project_severity` hold the same expressions.
macro_rules! priority_rank {
    () => {
        "(CASE i.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END)"
    };
}
macro_rules! severity_rank {
    () => {
        "(CASE i.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END)"
    };
}

// The issue list, one statement per order, each read in the order of an index that leads with the
// team and project. Parameters: the actor's scope (`$1`-`$4`), the project (`$5`), the cursor (the
// last number `$6` and, but for the number order, the last sort key `$18`), the page size (`$7`), and
// the filters (`$8`-`$17`, each `($n = '' OR ...)`, so one fixed statement serves every combination).
// Public so that `examples/list_plans.rs` can show their query plans.

/// Most urgent first.
macro_rules! list_by_priority {
    ($from:expr, $text:expr) => {
        concat!(
            list_columns!(),
            listed_issues!($from),
            " AND (",
            priority_rank!(),
            " > CAST($18 AS INTEGER) OR (",
            priority_rank!(),
            " = CAST($18 AS INTEGER) AND i.number > $6))",
            list_filters!($text),
            " ORDER BY ",
            priority_rank!(),
            ", i.number LIMIT $7"
        )
    };
}

/// Most severe first.
macro_rules! list_by_severity {
    ($from:expr, $text:expr) => {
        concat!(
            list_columns!(),
            listed_issues!($from),
            " AND (",
            severity_rank!(),
            " > CAST($18 AS INTEGER) OR (",
            severity_rank!(),
            " = CAST($18 AS INTEGER) AND i.number > $6))",
            list_filters!($text),
            " ORDER BY ",
            severity_rank!(),
            ", i.number LIMIT $7"
        )
    };
}

/// Most recently updated first.
macro_rules! list_by_updated {
    ($from:expr, $text:expr) => {
        concat!(
            list_columns!(),
            listed_issues!($from),
            " AND (i.updated_at < $18 OR (i.updated_at = $18 AND i.number > $6))",
            list_filters!($text),
            " ORDER BY i.updated_at DESC, i.number LIMIT $7"
        )
    };
}

/// By number, oldest first (the default).
macro_rules! list_by_number {
    ($from:expr, $text:expr) => {
        concat!(
            list_columns!(),
            listed_issues!($from),
            " AND i.number > $6",
            list_filters!($text),
            " ORDER BY i.number LIMIT $7"
        )
    };
}

/// How a list filters by text, which decides its statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextSearch {
    /// No text, or fewer than three characters (too short for the trigram indexes): `LIKE`, if any.
    Scan,
    /// Three characters or more: through the trigram index of the backend.
    Indexed,
}

impl TextSearch {
    fn of(text: &str) -> Self {
        if text.trim().chars().count() >= 3 {
            TextSearch::Indexed
        } else {
            TextSearch::Scan
        }
    }
}

/// The `SQLite` statements that read a project's issues in the order of an index.
macro_rules! sqlite_in_order {
    ($list:ident, $index:literal) => {
        $list!(concat!(" FROM issues i INDEXED BY ", $index), text_unless_empty!())
    };
}
/// The `SQLite` statements of a text search: the full-text matches first (`CROSS JOIN` keeps that
/// order), each issue found by its rowid (`NOT INDEXED` leaves the rowid as the only way: with
/// statistics `SQLite` otherwise walked the project's index once per match).
macro_rules! sqlite_matches {
    ($list:ident) => {
        $list!(" FROM issue_text CROSS JOIN issues i NOT INDEXED ON i.rowid = issue_text.rowid", text_match!())
    };
}

/// The statement of each order on each backend, for each kind of text search.
pub fn list_sql(sort: IssueSort, backend: Backend, text: TextSearch) -> &'static str {
    use TextSearch::Scan;
    use {Backend::Postgres as Pg, Backend::Sqlite as Lite, IssueSort as S, TextSearch::Indexed as Idx};
    match (backend, text, sort) {
        (Lite, Scan, S::Number) => sqlite_in_order!(list_by_number, "issues_by_project_number"),
        (Lite, Scan, S::Updated) => sqlite_in_order!(list_by_updated, "issues_by_project_updated"),
        (Lite, Scan, S::Priority) => sqlite_in_order!(list_by_priority, "issues_by_project_priority"),
        (Lite, Scan, S::Severity) => sqlite_in_order!(list_by_severity, "issues_by_project_severity"),
        (Lite, Idx, S::Number) => sqlite_matches!(list_by_number),
        (Lite, Idx, S::Updated) => sqlite_matches!(list_by_updated),
        (Lite, Idx, S::Priority) => sqlite_matches!(list_by_priority),
        (Lite, Idx, S::Severity) => sqlite_matches!(list_by_severity),
        (Pg, Scan, S::Number) => list_by_number!(" FROM issues i", text_unless_empty!()),
        (Pg, Scan, S::Updated) => list_by_updated!(" FROM issues i", text_unless_empty!()),
        (Pg, Scan, S::Priority) => list_by_priority!(" FROM issues i", text_unless_empty!()),
        (Pg, Scan, S::Severity) => list_by_severity!(" FROM issues i", text_unless_empty!()),
        (Pg, Idx, S::Number) => list_by_number!(" FROM issues i", text_like!()),
        (Pg, Idx, S::Updated) => list_by_updated!(" FROM issues i", text_like!()),
        (Pg, Idx, S::Priority) => list_by_priority!(" FROM issues i", text_like!()),
        (Pg, Idx, S::Severity) => list_by_severity!(" FROM issues i", text_like!()),
    }
}

/// `$8` of [`list_sql`]: the text as the statement for `text` and `backend` compares it.
pub fn text_parameter(text: &str, search: TextSearch, backend: Backend) -> String {
    match (search, backend) {
        (TextSearch::Indexed, Backend::Sqlite) => format!("\"{}\"", text.trim().replace('"', "\"\"")),
        _ => contains_pattern(text),
    }
}

/// The cursor key before the first issue of each order.
pub fn first_key(sort: IssueSort) -> i64 {
    match sort {
        IssueSort::Updated => i64::MAX,
        IssueSort::Number => 0,
        // Ranks run from 0 to 4; they are compared as 32-bit integers.
        IssueSort::Priority | IssueSort::Severity => -1,
    }
}

/// A cursor key from a client, brought into the range its order can compare.
pub fn clamp_key(sort: IssueSort, key: i64) -> i64 {
    match sort {
        IssueSort::Priority | IssueSort::Severity => key.clamp(-1, 5),
        IssueSort::Number | IssueSort::Updated => key,
    }
}

/// The sort key of an issue for `sort`, as the statements of [`list_sql`] compare it.
pub fn sort_key(sort: IssueSort, issue: &StoredIssue) -> i64 {
    match sort {
        IssueSort::Number => 0,
        IssueSort::Updated => issue.updated_at,
        IssueSort::Priority => match issue.fields.priority {
            Priority::Urgent => 0,
            Priority::High => 1,
            Priority::Medium => 2,
            Priority::Low => 3,
            Priority::None => 4,
        },
        IssueSort::Severity => match issue.fields.severity {
            Severity::Critical => 0,
            Severity::High => 1,
            Severity::Medium => 2,
            Severity::Low => 3,
        },
    }
}

/// Where a page starts: after the issue with this sort key and number.
#[derive(Clone, Copy, Debug)]
pub struct Cursor {
    pub key: i64,
    pub number: i64,
}

/// A page of the project's issues the actor may see that match `filter`, in `sort` order, after `cursor`.
pub async fn list(
    db: &Db,
    actor: &Actor,
    project_id: ProjectId,
    filter: &IssueFilter,
    sort: IssueSort,
    cursor: Cursor,
    limit: i64,
) -> Result<Vec<Visible<StoredIssue>>, DbError> {
    let search = TextSearch::of(&filter.q);
    let sql = page_sql(list_sql(sort, db.backend(), search), db.backend());
    let query = bind_scope(sqlx::query_as::<_, (String,)>(&sql), actor)
        .bind(project_id)
        .bind(cursor.number)
        .bind(limit)
        .bind(text_parameter(&filter.q, search, db.backend()))
        .bind(opt(filter.status))
        .bind(filter.category.map(|c| c.as_str().to_owned()).unwrap_or_default())
        .bind(filter.kind.map(|k| k.as_str().to_owned()).unwrap_or_default())
        .bind(filter.severity.map(|v| v.as_str().to_owned()).unwrap_or_default())
        .bind(filter.priority.map(|v| v.as_str().to_owned()).unwrap_or_default())
        .bind(filter.visibility.map(|v| v.as_str().to_owned()).unwrap_or_default())
        .bind(filter.tag.trim().to_lowercase())
        .bind(opt(filter.assignee))
        .bind(opt(filter.reporter));
    let query = if sort == IssueSort::Number { query } else { query.bind(cursor.key) };
    let (page,) = query.fetch_one(db.pool()).await?;
    let listed: Vec<ListedIssue> =
        serde_json::from_str(&page).map_err(|_| DbError::Inconsistent("the issue list's page"))?;
    let (team_id, reader) = (actor.team_id(), Reader::of(actor));
    let mut issues: Vec<Visible<StoredIssue>> =
        listed.into_iter().map(|issue| Visible { team_id, reader, value: issue.into() }).collect();
    // The aggregate keeps the statement's order in practice; sorting here makes it certain.
    issues.sort_by(|a, b| list_order(sort, a, b));
    Ok(issues)
}

/// A page of the list as one row: `list` (a statement of [`list_sql`]) wrapped so that the database
/// returns its issues, each with its tags and assignees, as one JSON array. A page of 50 then crosses
/// from the database to Moth once instead of as some 150 rows of three statements, each row a
/// hand-off between threads with `SQLite` (half the time of a list, measured: docs/performance.md).
pub fn page_sql(list: &str, backend: Backend) -> String {
    let columns = PAGE_COLUMNS.iter().map(|c| format!("page.{c}")).collect::<Vec<_>>().join(", ");
    match backend {
        Backend::Sqlite => format!(
            "SELECT json_group_array(json_array({columns}, \
             json((SELECT json_group_array(t.tag) FROM issue_tags t WHERE t.team_id = $1 AND t.issue_id = page.id)), \
             json((SELECT json_group_array(a.user_id) FROM issue_assignees a \
                   WHERE a.team_id = $1 AND a.issue_id = page.id)))) \
             FROM ({list}) AS page"
        ),
        Backend::Postgres => format!(
            "SELECT CAST(COALESCE(json_agg(json_build_array({columns}, \
             (SELECT COALESCE(json_agg(t.tag), CAST('[]' AS json)) FROM issue_tags t \
              WHERE t.team_id = $1 AND t.issue_id = page.id), \
             (SELECT COALESCE(json_agg(a.user_id), CAST('[]' AS json)) FROM issue_assignees a \
              WHERE a.team_id = $1 AND a.issue_id = page.id))), CAST('[]' AS json)) AS TEXT) \
             FROM ({list}) AS page"
        ),
    }
}

/// The columns of each issue in [`page_sql`]'s array, in the order of [`ListedIssue`]'s fields (then
/// its tags and assignees); a unit test holds the two together. No description and no environment:
/// a list shows neither.
const PAGE_COLUMNS: [&str; 14] = [
    "id",
    "project_id",
    "key",
    "number",
    "title",
    "kind",
    "severity",
    "priority",
    "visibility",
    "status_id",
    "reporter_id",
    "due_date",
    "created_at",
    "updated_at",
];

/// One issue of [`page_sql`]'s array, its values in the order of [`PAGE_COLUMNS`].
#[derive(serde::Deserialize)]
struct ListedIssue {
    id: IssueId,
    project_id: ProjectId,
    key: String,
    number: i64,
    title: String,
    kind: IssueType,
    severity: Severity,
    priority: Priority,
    visibility: IssueVisibility,
    status_id: StatusId,
    reporter_id: UserId,
    due_date: Option<String>,
    created_at: i64,
    updated_at: i64,
    tags: Vec<String>,
    assignees: Vec<UserId>,
}

impl From<ListedIssue> for StoredIssue {
    fn from(r: ListedIssue) -> Self {
        let (mut tags, mut assignees) = (r.tags, r.assignees);
        tags.sort();
        assignees.sort();
        StoredIssue {
            id: r.id,
            project_id: r.project_id,
            key: r.key,
            number: r.number,
            status_id: r.status_id,
            reporter_id: r.reporter_id,
            fields: IssueFields {
                title: r.title,
                // A list does not show descriptions; the issue page reads them.
                description: String::new(),
                kind: r.kind,
                severity: r.severity,
                priority: r.priority,
                visibility: r.visibility,
                environment: Environment::default(),
                due_date: r.due_date,
                tags,
                assignees,
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
            description_html: None,
        }
    }
}

/// The order of the list's statements for `sort`: the sort key (newest first for `Updated`), then
/// the number.
fn list_order(sort: IssueSort, a: &StoredIssue, b: &StoredIssue) -> std::cmp::Ordering {
    let (ka, kb) = (sort_key(sort, a), sort_key(sort, b));
    let by_key = if sort == IssueSort::Updated { kb.cmp(&ka) } else { ka.cmp(&kb) };
    by_key.then(a.number.cmp(&b.number))
}

/// The public issues of a published project (not archived), for anonymous readers.
macro_rules! published_issues {
    () => {
        " FROM issues i JOIN projects p ON p.team_id = i.team_id AND p.id = i.project_id \
          WHERE p.team_id = $1 AND p.id = $2 AND p.published = 1 AND p.archived = 0 \
          AND i.deleted_at IS NULL AND i.visibility = 'public'"
    };
}

/// A page of a published project's public issues, by number.
pub async fn published_list(
    db: &Db,
    project: &PublishedProject,
    after_number: i64,
    limit: i64,
) -> Result<Vec<Visible<StoredIssue>>, DbError> {
    let rows: Vec<IssueRow> =
        sqlx::query_as(concat!(issue_columns!(), published_issues!(), " AND i.number > $3 ORDER BY i.number LIMIT $4"))
            .bind(project.team_id())
            .bind(project.project.id)
            .bind(after_number)
            .bind(limit)
            .fetch_all(db.pool())
            .await?;
    hydrate(db, project.team_id(), Reader::Anonymous, rows).await
}

/// One public issue of a published project, by number.
pub async fn published_find(
    db: &Db,
    project: &PublishedProject,
    number: i64,
) -> Result<Option<Visible<StoredIssue>>, DbError> {
    let row: Option<IssueRow> = sqlx::query_as(concat!(issue_columns!(), published_issues!(), " AND i.number = $3"))
        .bind(project.team_id())
        .bind(project.project.id)
        .bind(number)
        .fetch_optional(db.pool())
        .await?;
    Ok(hydrate(db, project.team_id(), Reader::Anonymous, row).await?.pop())
}

/// Visible issues from the rows the visibility query found for `reader`, with tags and assignees,
/// loaded for the whole page in one statement. The only place a [`Visible`] is made.
async fn hydrate(
    db: &Db,
    team_id: TeamId,
    reader: Reader,
    rows: impl IntoIterator<Item = IssueRow>,
) -> Result<Vec<Visible<StoredIssue>>, DbError> {
    let mut issues: Vec<StoredIssue> = rows.into_iter().map(StoredIssue::from).collect();
    if issues.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<IssueId> = issues.iter().map(|i| i.id).collect();
    let (mut tags, mut assignees) = children_of(db, team_id, &ids).await?;
    for issue in &mut issues {
        let mut issue_tags = tags.remove(&issue.id).unwrap_or_default();
        issue_tags.sort();
        issue.fields.tags = issue_tags;
        let mut users = assignees.remove(&issue.id).unwrap_or_default();
        users.sort();
        issue.fields.assignees = users;
    }
    Ok(issues.into_iter().map(|value| Visible { team_id, reader, value }).collect())
}

/// `$first, $first+1, ...`: `count` bind parameters, for an `IN (...)` over a page (after the team's
/// `$1`) or a batch. Only the number of parameters comes from the caller; the values are always bound.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// The statement that reads the tags and the assignees of `count` issues of team `$1`, the issues
/// being `$2`..: one statement for a whole page (tags first, then assignees, told apart by `child`),
/// each half through the index led by team and issue (`*_by_issue`). Only the number of placeholders
/// varies; the values are bound.
pub fn children_sql(count: usize) -> String {
    let placeholders = placeholders(2, count);
    format!(
        "SELECT t.issue_id, CAST(0 AS BIGINT) AS child, t.tag AS value FROM issue_tags t \
         WHERE t.team_id = $1 AND t.issue_id IN ({placeholders}) \
         UNION ALL SELECT a.issue_id, CAST(1 AS BIGINT) AS child, a.user_id AS value FROM issue_assignees a \
         WHERE a.team_id = $1 AND a.issue_id IN ({placeholders})"
    )
}

/// The tags and the assignees of issues `ids` of `team_id`, by issue.
#[allow(clippy::type_complexity)]
async fn children_of(
    db: &Db,
    team_id: TeamId,
    ids: &[IssueId],
) -> Result<(HashMap<IssueId, Vec<String>>, HashMap<IssueId, Vec<UserId>>), DbError> {
    let sql = children_sql(ids.len());
    let mut query = sqlx::query_as::<_, (IssueId, i64, String)>(&sql).bind(team_id);
    for id in ids {
        query = query.bind(*id);
    }
    let (mut tags, mut assignees): (HashMap<IssueId, Vec<String>>, HashMap<IssueId, Vec<UserId>>) = Default::default();
    for (issue, child, value) in query.fetch_all(db.pool()).await? {
        if child == 0 {
            tags.entry(issue).or_default().push(value);
        } else {
            let user = Uuid::parse_str(&value).map_err(|_| DbError::Inconsistent("issue_assignees.user_id"))?;
            assignees.entry(issue).or_default().push(UserId(user));
        }
    }
    Ok((tags, assignees))
}

pub async fn status(
    db: &Db,
    actor: &impl TeamScope,
    project_id: ProjectId,
    id: StatusId,
) -> Result<Option<StatusRef>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, name, category FROM project_statuses WHERE team_id = $1 AND project_id = $2 AND id = $3",
    )
    .bind(actor.team_id())
    .bind(project_id)
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// The first status of the project's workflow, where new issues start.
async fn first_status(conn: &mut AnyConnection, actor: &Actor, project_id: ProjectId) -> Result<StatusId, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM project_statuses WHERE team_id = $1 AND project_id = $2 ORDER BY position, name LIMIT 1",
    )
    .bind(actor.team_id())
    .bind(project_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// Whether every user is a non-guest member of the project (or an owner or admin of the team).
pub async fn all_assignable(db: &Db, actor: &Actor, project_id: ProjectId, users: &[UserId]) -> Result<bool, DbError> {
    for user in users {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM memberships m WHERE m.team_id = $1 AND m.user_id = $3 AND m.role <> 'GUEST' \
             AND (m.role IN ('OWNER', 'ADMIN') OR EXISTS (SELECT 1 FROM project_members pm \
             WHERE pm.team_id = $1 AND pm.project_id = $2 AND pm.user_id = $3))",
        )
        .bind(actor.team_id())
        .bind(project_id)
        .bind(user)
        .fetch_one(db.pool())
        .await?;
        if count == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn replace_tags_and_assignees(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: IssueId,
    fields: &IssueFields,
) -> Result<(), DbError> {
    let team = actor.team_id();
    sqlx::query("DELETE FROM issue_tags WHERE team_id = $1 AND issue_id = $2")
        .bind(team)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM issue_assignees WHERE team_id = $1 AND issue_id = $2")
        .bind(team)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for tag in &fields.tags {
        sqlx::query("INSERT INTO issue_tags (team_id, issue_id, tag) VALUES ($1, $2, $3)")
            .bind(team)
            .bind(id)
            .bind(tag)
            .execute(&mut *conn)
            .await?;
    }
    for user in &fields.assignees {
        sqlx::query("INSERT INTO issue_assignees (team_id, issue_id, user_id) VALUES ($1, $2, $3)")
            .bind(team)
            .bind(id)
            .bind(user)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Files a new issue in the project with the next number and the workflow's first status. On `SQLite`
/// the write joins the group commit (see [`super::group_commit`]): it is acknowledged once the
/// transaction holding it and the creates queued with it is durable.
pub async fn create(
    db: &Db,
    actor: &Actor,
    project_id: ProjectId,
    fields: &IssueFields,
    now_ms: i64,
) -> Result<IssueId, DbError> {
    let new = NewIssue { actor: *actor, project_id, fields: fields.clone(), now_ms };
    if let Some(group) = db.group_commit() {
        return group.create_issue(new).await;
    }
    let mut tx = db.begin().await?;
    let id = insert_new(&mut tx, &new).await?;
    if db.backend() == Backend::Sqlite {
        index_text(&mut tx, &[id]).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// A create waiting for its transaction.
#[derive(Debug)]
pub(super) struct NewIssue {
    actor: Actor,
    project_id: ProjectId,
    fields: IssueFields,
    now_ms: i64,
}

/// Adds new issues to `SQLite`'s full-text index, in one statement (migration 0009: creates are indexed
/// by the group commit, edits and deletes by triggers). The last statement of its transaction, so
/// that FTS5 writes one segment for the whole batch.
pub(super) async fn index_text(conn: &mut AnyConnection, ids: &[IssueId]) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO issue_text (rowid, title, description) \
         SELECT rowid, title, description FROM issues WHERE id IN ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(id);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}

/// The statements of one create, inside the caller's transaction.
pub(super) async fn insert_new(conn: &mut AnyConnection, new: &NewIssue) -> Result<IssueId, DbError> {
    let NewIssue { actor, project_id, fields, now_ms } = new;
    // Time-ordered (UUIDv7): each new key lands at the right edge of the indexes keyed by issue id
    // (the issues' keys, tags, assignees) instead of on a random page, so a create dirties a few
    // pages rather than one per index, which is what made creates slow past 100,000 issues.
    // The 74 random bits stay; the creation time the key reveals is shown with the issue anyway.
    let id = IssueId(Uuid::now_v7());
    let team = actor.team_id();
    let (number,): (i64,) = sqlx::query_as(
        "UPDATE projects SET next_issue_number = next_issue_number + 1 WHERE team_id = $1 AND id = $2 \
         RETURNING next_issue_number - 1",
    )
    .bind(team)
    .bind(project_id)
    .fetch_one(&mut *conn)
    .await?;
    let status = first_status(conn, actor, *project_id).await?;
    sqlx::query(
        "INSERT INTO issues (id, team_id, project_id, number, title, description, kind, severity, priority, \
         status_id, reporter_id, visibility, env_browser, env_os, env_device, env_app_version, env_url, due_date, \
         created_at, updated_at, description_html) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20)",
    )
    .bind(id)
    .bind(team)
    .bind(project_id)
    .bind(number)
    .bind(&fields.title)
    .bind(&fields.description)
    .bind(fields.kind)
    .bind(fields.severity)
    .bind(fields.priority)
    .bind(status)
    .bind(actor.user_id())
    .bind(fields.visibility)
    .bind(&fields.environment.browser)
    .bind(&fields.environment.os)
    .bind(&fields.environment.device)
    .bind(&fields.environment.app_version)
    .bind(&fields.environment.url)
    .bind(fields.due_date.clone())
    .bind(*now_ms)
    .bind(to_safe_html(&fields.description))
    .execute(&mut *conn)
    .await?;
    replace_tags_and_assignees(conn, actor, id, fields).await?;
    Ok(id)
}

/// One field's change, for the history.
pub struct Change {
    pub field: &'static str,
    pub old: String,
    pub new: String,
}

/// Stores the new fields and status of an issue and the history of what changed, in one transaction.
/// Each history entry records whether the issue was public both before and after the change, which
/// decides whether guests may ever read it ([`Reader::history_of`]).
pub async fn update(
    db: &Db,
    actor: &Actor,
    issue: &Visible<StoredIssue>,
    status_id: StatusId,
    fields: &IssueFields,
    changes: &[Change],
    now_ms: i64,
) -> Result<bool, DbError> {
    let team = issue.team_id;
    let id = issue.id;
    let public_throughout =
        issue.fields.visibility == IssueVisibility::Public && fields.visibility == IssueVisibility::Public;
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE issues SET title = $3, description = $4, kind = $5, severity = $6, priority = $7, status_id = $8, \
         visibility = $9, env_browser = $10, env_os = $11, env_device = $12, env_app_version = $13, env_url = $14, \
         due_date = $15, updated_at = $16, description_html = $17 WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(team)
    .bind(id)
    .bind(&fields.title)
    .bind(&fields.description)
    .bind(fields.kind)
    .bind(fields.severity)
    .bind(fields.priority)
    .bind(status_id)
    .bind(fields.visibility)
    .bind(&fields.environment.browser)
    .bind(&fields.environment.os)
    .bind(&fields.environment.device)
    .bind(&fields.environment.app_version)
    .bind(&fields.environment.url)
    .bind(fields.due_date.clone())
    .bind(now_ms)
    .bind(to_safe_html(&fields.description))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    replace_tags_and_assignees(&mut tx, actor, id, fields).await?;
    for change in changes {
        sqlx::query(
            "INSERT INTO issue_history (id, team_id, issue_id, actor_id, field, old_value, new_value, at, \
             public_throughout) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(super::NewRowKey)
        .bind(team)
        .bind(id)
        .bind(actor.user_id())
        .bind(change.field)
        .bind(&change.old)
        .bind(&change.new)
        .bind(now_ms)
        .bind(Flag(public_throughout))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Records in an issue's history a change that is not to its fields (an attachment added or removed).
/// Guests read it only if the issue is public now, as for every other entry.
pub async fn record_history(
    conn: &mut AnyConnection,
    actor: &Actor,
    issue: &Visible<StoredIssue>,
    change: &Change,
    now_ms: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO issue_history (id, team_id, issue_id, actor_id, field, old_value, new_value, at, \
         public_throughout) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(super::NewRowKey)
    .bind(issue.team_id)
    .bind(issue.id)
    .bind(actor.user_id())
    .bind(change.field)
    .bind(&change.old)
    .bind(&change.new)
    .bind(now_ms)
    .bind(Flag(issue.fields.visibility == IssueVisibility::Public))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Soft-deletes an issue (its history stays).
pub async fn delete(db: &Db, issue: &Visible<StoredIssue>, now_ms: i64) -> Result<bool, DbError> {
    let done = sqlx::query("UPDATE issues SET deleted_at = $3 WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL")
        .bind(issue.team_id)
        .bind(issue.id)
        .bind(now_ms)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The history of a visible issue, as much of it as its reader may see ([`Reader::history_of`]).
pub async fn history(db: &Db, issue: &Visible<StoredIssue>) -> Result<Vec<HistoryEntry>, DbError> {
    let whole = match issue.reader.history_of(issue.reporter_id) {
        HistoryShown::None => return Ok(Vec::new()),
        HistoryShown::All => true,
        HistoryShown::RecordedWhilePublic => false,
    };
    Ok(sqlx::query_as(
        "SELECT h.at, u.display_name AS actor, h.field, h.old_value, h.new_value FROM issue_history h \
         LEFT JOIN users u ON u.id = h.actor_id WHERE h.team_id = $1 AND h.issue_id = $2 \
         AND ($3 = 1 OR h.public_throughout = 1) ORDER BY h.at, h.id",
    )
    .bind(issue.team_id)
    .bind(issue.id)
    .bind(Flag(whole))
    .fetch_all(db.pool())
    .await?)
}

// ---- comments ----

#[derive(sqlx::FromRow)]
struct CommentRow {
    id: CommentId,
    author_id: UserId,
    display_name: String,
    body: String,
    visibility: IssueVisibility,
    created_at: i64,
    updated_at: i64,
    body_html: Option<String>,
}

impl From<CommentRow> for Comment {
    fn from(row: CommentRow) -> Self {
        Comment {
            id: row.id,
            author: Person { id: row.author_id, display_name: row.display_name },
            body_html: row.body_html.unwrap_or_else(|| to_safe_html(&row.body)),
            body: row.body,
            visibility: row.visibility,
            created_at: row.created_at,
            updated_at: row.updated_at,
            attachments: Vec::new(),
        }
    }
}

/// The comments of issue `$2` of team `$1` that its reader sees (`$3` = public ones only).
macro_rules! readable_comments {
    () => {
        "SELECT c.id, c.author_id, u.display_name, c.body, c.visibility, c.created_at, c.updated_at, c.body_html \
         FROM comments c JOIN users u ON u.id = c.author_id WHERE c.team_id = $1 AND c.issue_id = $2 \
         AND c.deleted_at IS NULL AND ($3 = 0 OR c.visibility = 'public')"
    };
}

/// The comments of a visible issue: all of them for members, only the public ones for guests and
/// anonymous readers. A comment's visibility is fixed when it is posted, and an edit replaces its text
/// (no earlier text is kept), so nothing written as internal ever reaches a guest.
pub async fn comments(db: &Db, issue: &Visible<StoredIssue>) -> Result<Vec<Comment>, DbError> {
    let rows: Vec<CommentRow> = sqlx::query_as(concat!(readable_comments!(), " ORDER BY c.created_at, c.id"))
        .bind(issue.team_id)
        .bind(issue.id)
        .bind(Flag(!issue.reader.sees_internal()))
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(Comment::from).collect())
}

/// A comment the actor may see, with its issue: the issue is visible to them, and the comment is one
/// of those [`comments`] shows them.
pub async fn find_comment(
    db: &Db,
    actor: &Actor,
    id: CommentId,
) -> Result<Option<(Visible<StoredIssue>, Comment)>, DbError> {
    let issue_id: Option<IssueId> =
        sqlx::query_scalar("SELECT issue_id FROM comments WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL")
            .bind(actor.team_id())
            .bind(id)
            .fetch_optional(db.pool())
            .await?;
    let Some(issue_id) = issue_id else { return Ok(None) };
    let Some(issue) = find(db, actor, issue_id).await? else { return Ok(None) };
    let row: Option<CommentRow> = sqlx::query_as(concat!(readable_comments!(), " AND c.id = $4"))
        .bind(issue.team_id)
        .bind(issue.id)
        .bind(Flag(!issue.reader.sees_internal()))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|row| (issue, Comment::from(row))))
}

pub async fn add_comment(
    db: &Db,
    actor: &Actor,
    issue: &Visible<StoredIssue>,
    body: &str,
    visibility: IssueVisibility,
    now_ms: i64,
) -> Result<CommentId, DbError> {
    let id = CommentId(Uuid::now_v7()); // time-ordered, as issue ids are (see `insert_new`)
    sqlx::query(
        "INSERT INTO comments (id, team_id, issue_id, author_id, body, visibility, created_at, updated_at, \
         body_html) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
    )
    .bind(id)
    .bind(issue.team_id)
    .bind(issue.id)
    .bind(actor.user_id())
    .bind(body)
    .bind(visibility)
    .bind(now_ms)
    .bind(to_safe_html(body))
    .execute(db.pool())
    .await?;
    Ok(id)
}

/// Edits the actor's own comment on a visible issue (the author is checked here too, not only by the
/// policy). The new text replaces the old one; no earlier text is kept.
pub async fn edit_comment(
    db: &Db,
    actor: &Actor,
    issue: &Visible<StoredIssue>,
    id: CommentId,
    body: &str,
    now_ms: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE comments SET body = $3, updated_at = $4, body_html = $7 WHERE team_id = $1 AND id = $2 \
         AND author_id = $5 AND issue_id = $6 AND deleted_at IS NULL",
    )
    .bind(issue.team_id)
    .bind(id)
    .bind(body)
    .bind(now_ms)
    .bind(actor.user_id())
    .bind(issue.id)
    .bind(to_safe_html(body))
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes (softly) a comment of a visible issue; it is never shown again, to anyone.
pub async fn delete_comment(
    db: &Db,
    issue: &Visible<StoredIssue>,
    id: CommentId,
    now_ms: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE comments SET deleted_at = $3 WHERE team_id = $1 AND id = $2 AND issue_id = $4 AND deleted_at IS NULL",
    )
    .bind(issue.team_id)
    .bind(id)
    .bind(now_ms)
    .bind(issue.id)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The statuses of the projects `$2`.. of team `$1`, by id, in one statement.
/// The statuses of projects `$2`.. of team `$1` and the names of users `$n`.. as the team knows them
/// (members, reporters and authors of the team; anyone else is a "Former member"): one statement,
/// one row of two JSON arrays, however long the page.
async fn names_of(
    db: &Db,
    team_id: TeamId,
    projects: &BTreeSet<ProjectId>,
    users: &BTreeSet<UserId>,
) -> Result<Names, DbError> {
    let project_list = placeholders(2, projects.len());
    let user_list = placeholders(2 + projects.len(), users.len());
    let (array, object, empty) = match db.backend() {
        Backend::Sqlite => ("json_group_array", "json_object", "'[]'"),
        Backend::Postgres => ("json_agg", "json_build_object", "CAST('[]' AS json)"),
    };
    let sql = format!(
        "SELECT CAST(COALESCE((SELECT {array}({object}('id', s.id, 'name', s.name, 'category', s.category)) \
         FROM project_statuses s WHERE s.team_id = $1 AND s.project_id IN ({project_list})), {empty}) AS TEXT), \
         CAST(COALESCE((SELECT {array}({object}('id', u.id, 'display_name', u.display_name)) FROM users u \
         WHERE u.id IN ({user_list}) AND (EXISTS (SELECT 1 FROM memberships m WHERE m.team_id = $1 AND m.user_id = u.id) \
         OR EXISTS (SELECT 1 FROM issues i WHERE i.team_id = $1 AND i.reporter_id = u.id) \
         OR EXISTS (SELECT 1 FROM comments c WHERE c.team_id = $1 AND c.author_id = u.id))), {empty}) AS TEXT)"
    );
    let mut query = sqlx::query_as::<_, (String, String)>(&sql).bind(team_id);
    for project in projects {
        query = query.bind(project);
    }
    for user in users {
        query = query.bind(user);
    }
    let (statuses, people) = query.fetch_one(db.pool()).await?;
    let statuses: Vec<StatusRef> =
        serde_json::from_str(&statuses).map_err(|_| DbError::Inconsistent("the statuses of a page"))?;
    let people: Vec<Person> =
        serde_json::from_str(&people).map_err(|_| DbError::Inconsistent("the people of a page"))?;
    let mut names: HashMap<UserId, String> = people.into_iter().map(|p| (p.id, p.display_name)).collect();
    Ok(Names {
        statuses: statuses.into_iter().map(|status| (status.id, status)).collect(),
        people: users
            .iter()
            .map(|id| {
                let display_name = names.remove(id).unwrap_or_else(|| "Former member".to_owned());
                (*id, Person { id: *id, display_name })
            })
            .collect(),
    })
}

/// The names a page of issues shows: statuses and people, looked up for the whole page at once, not
/// once per issue.
struct Names {
    statuses: HashMap<StatusId, StatusRef>,
    people: HashMap<UserId, Person>,
}

async fn names_for(db: &Db, visible: &[Visible<StoredIssue>]) -> Result<Names, DbError> {
    let Some(team_id) = visible.first().map(|v| v.team_id) else {
        return Ok(Names { statuses: HashMap::new(), people: HashMap::new() });
    };
    // Every issue of a page comes from one finder call, so from one team.
    if visible.iter().any(|v| v.team_id != team_id) {
        return Err(DbError::Inconsistent("issues of several teams in one page"));
    }
    let projects: BTreeSet<ProjectId> = visible.iter().map(|v| v.project_id).collect();
    let users: BTreeSet<UserId> =
        visible.iter().flat_map(|v| std::iter::once(v.reporter_id).chain(v.fields.assignees.iter().copied())).collect();
    names_of(db, team_id, &projects, &users).await
}

fn summary(names: &Names, stored: &StoredIssue) -> Result<IssueSummary, DbError> {
    let known = |user: &UserId| names.people.get(user).cloned().ok_or(DbError::Inconsistent("issues people"));
    let f = &stored.fields;
    Ok(IssueSummary {
        id: stored.id,
        project_id: stored.project_id,
        reference: format!("{}-{}", stored.key, stored.number),
        number: stored.number,
        title: f.title.clone(),
        kind: f.kind,
        severity: f.severity,
        priority: f.priority,
        visibility: f.visibility,
        status: names.statuses.get(&stored.status_id).cloned().ok_or(DbError::Inconsistent("issues.status_id"))?,
        reporter: known(&stored.reporter_id)?,
        assignees: f.assignees.iter().map(known).collect::<Result<Vec<_>, _>>()?,
        tags: f.tags.clone(),
        due_date: f.due_date.clone(),
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    })
}

/// What lists show of visible issues: no descriptions, so no Markdown to render.
pub async fn to_summaries(db: &Db, visible: Vec<Visible<StoredIssue>>) -> Result<Vec<IssueSummary>, DbError> {
    let names = names_for(db, &visible).await?;
    visible.iter().map(|v| summary(&names, v)).collect()
}

/// The whole wire form of visible issues, description rendered.
pub async fn to_issues(db: &Db, visible: Vec<Visible<StoredIssue>>) -> Result<Vec<Issue>, DbError> {
    let names = names_for(db, &visible).await?;
    let mut issues = Vec::with_capacity(visible.len());
    for visible in visible {
        let s = summary(&names, &visible)?;
        let rendered = visible.value.description_html;
        let f = visible.value.fields;
        issues.push(Issue {
            id: s.id,
            project_id: s.project_id,
            reference: s.reference,
            number: s.number,
            description_html: rendered.unwrap_or_else(|| to_safe_html(&f.description)),
            title: s.title,
            description: f.description,
            kind: s.kind,
            severity: s.severity,
            priority: s.priority,
            visibility: s.visibility,
            status: s.status,
            reporter: s.reporter,
            assignees: s.assignees,
            tags: s.tags,
            environment: f.environment,
            due_date: s.due_date,
            created_at: s.created_at,
            updated_at: s.updated_at,
        });
    }
    Ok(issues)
}

/// Builds the wire form of one visible issue.
pub async fn to_issue(db: &Db, visible: Visible<StoredIssue>) -> Result<Issue, DbError> {
    to_issues(db, vec![visible]).await?.pop().ok_or(DbError::Inconsistent("issues"))
}

/// Renders the Markdown of rows written before it was rendered at write time (migration 0007), in
/// batches; answers how many rows it rendered. Run at start, so an upgrade keeps every row.
pub async fn render_missing(db: &Db) -> Result<u64, DbError> {
    let mut rendered = 0;
    for (select, update) in [
        (
            "SELECT team_id, id, description FROM issues WHERE description_html IS NULL LIMIT 500",
            "UPDATE issues SET description_html = $3 WHERE team_id = $1 AND id = $2",
        ),
        (
            "SELECT team_id, id, body FROM comments WHERE body_html IS NULL LIMIT 500",
            "UPDATE comments SET body_html = $3 WHERE team_id = $1 AND id = $2",
        ),
    ] {
        loop {
            let rows: Vec<(String, String, String)> = sqlx::query_as(select).fetch_all(db.pool()).await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = db.begin().await?;
            for (team, id, source) in rows {
                sqlx::query(update).bind(team).bind(id).bind(to_safe_html(&source)).execute(&mut *tx).await?;
                rendered += 1;
            }
            tx.commit().await?;
        }
    }
    Ok(rendered)
}

#[cfg(test)]
mod tests {
    /// Each column of the page statement lands in the field of its name: an array made from the
    /// column names (each text column holding its own name) decodes with every name in its place.
    #[test]
    fn page_columns_are_in_the_order_of_the_listed_issue() {
        let id = "00000000-0000-4000-8000-000000000001";
        let values: Vec<serde_json::Value> = super::PAGE_COLUMNS
            .iter()
            .map(|column| match *column {
                "id" | "project_id" | "status_id" | "reporter_id" => serde_json::json!(id),
                "number" => serde_json::json!(7),
                "created_at" => serde_json::json!(1),
                "updated_at" => serde_json::json!(2),
                "kind" => serde_json::json!("bug"),
                "severity" => serde_json::json!("high"),
                "priority" => serde_json::json!("low"),
                "visibility" => serde_json::json!("public"),
                text => serde_json::json!(text),
            })
            .chain([serde_json::json!(["tag"]), serde_json::json!([id])])
            .collect();
        let listed: super::ListedIssue = serde_json::from_value(serde_json::Value::Array(values)).expect("decodes");
        assert_eq!((listed.key.as_str(), listed.title.as_str()), ("key", "title"));
        assert_eq!(listed.due_date.as_deref(), Some("due_date"));
        assert_eq!((listed.number, listed.created_at, listed.updated_at), (7, 1, 2));
        assert_eq!((listed.tags, listed.assignees.len()), (vec!["tag".to_owned()], 1));
    }

    use super::contains_pattern;

    #[test]
    fn search_text_cannot_use_like_wildcards() {
        assert_eq!(contains_pattern("  "), "");
        assert_eq!(contains_pattern("Login"), "%login%");
        assert_eq!(contains_pattern("100%_done\\"), "%100\\%\\_done\\\\%");
    }
}
