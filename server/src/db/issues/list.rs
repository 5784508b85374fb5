//! The issue list: one statement per page, built for the reader's [`ReadScope`], the order, the
//! filters present and the backend, and read in the order of an index that leads with the team and
//! the project. Search is a filter of the list.

use app::model::{
    Environment, IssueFields, IssueFilter, IssueId, IssueSort, IssueType, IssueVisibility, Priority, ProjectId,
    Severity, StatusId, TeamId, UserId,
};
use sqlx::{Any, Encode, Type};

use super::{StoredIssue, Visible};
use crate::{
    actor::Actor,
    db::{
        scope::{
            explain::{self, PlanReader},
            ReadScope, Statement,
        },
        Backend, Db, DbError,
    },
};

/// How a list filters by text, which decides its statement. A search is words, each of which must
/// appear (in any order, as a whole word, a prefix or any part of one) in the title, the description,
/// the tags or a comment the reader may read, or an issue's key such as `WEB-3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextSearch {
    /// No text, or a word of fewer than three characters (too short for the trigram indexes):
    /// `LIKE`, if any.
    Scan,
    /// Words of three characters or more: through the trigram index of the backend (`SQLite`'s
    /// full-text index).
    Indexed,
    /// `KEY-N`: the issue numbered N, if KEY is the project's.
    Key(i64),
}

impl TextSearch {
    fn of(text: &str) -> Self {
        if let Some(number) = key_number(text) {
            return TextSearch::Key(number);
        }
        let words = words(text);
        if !words.is_empty() && words.iter().all(|w| w.chars().count() >= 3) {
            TextSearch::Indexed
        } else {
            TextSearch::Scan
        }
    }
}

/// The words of a search, lower-cased, each once (the shared rule allows eight).
fn words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace().map(str::to_lowercase) {
        if !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

/// The number of `KEY-N` (a project key, a dash, digits), with the key left to the statement.
fn key_number(text: &str) -> Option<i64> {
    let (key, number) = text.trim().split_once('-')?;
    let key_like = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric())
        && key.len() <= 10;
    let digits = !number.is_empty() && number.len() <= 18 && number.chars().all(|c| c.is_ascii_digit());
    (key_like && digits).then(|| number.parse().ok()).flatten()
}

/// `%text%` for LIKE, with LIKE's own wildcards in `text` escaped.
pub(super) fn contains_pattern(text: &str) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    format!("%{}%", crate::db::like_literal(&text.trim().to_lowercase()))
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

/// The sort key of an issue for `sort`, as the list statements compare it.
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

/// What one page of the list asks for.
struct Page<'a> {
    project: ProjectId,
    filter: &'a IssueFilter,
    sort: IssueSort,
    cursor: Cursor,
    limit: i64,
}

/// A page of the project's issues the actor may see that match `filter`, in `sort` order, after `cursor`.
pub async fn list(
    db: &Db,
    actor: &Actor,
    project: ProjectId,
    filter: &IssueFilter,
    sort: IssueSort,
    cursor: Cursor,
    limit: i64,
) -> Result<Vec<Visible<StoredIssue>>, DbError> {
    let scope = ReadScope::of(actor);
    let page = Page { project, filter, sort, cursor, limit };
    let mut s = page_statement(Statement::new(""), &scope, db.backend(), &page);
    let (json,): (String,) = s.query_as().fetch_one(db.pool()).await?;
    let listed: Vec<ListedIssue> =
        serde_json::from_str(&json).map_err(|_| DbError::Inconsistent("the issue list's page"))?;
    let mut issues: Vec<Visible<StoredIssue>> =
        listed.into_iter().map(|issue| Visible { scope, value: issue.into() }).collect();
    // The aggregate keeps the statement's order in practice; sorting here makes it certain.
    issues.sort_by(|a, b| list_order(sort, a, b));
    Ok(issues)
}

/// The plan of a first page in `sort` order, for a `reader` of made-up `team` and `project`, with
/// no filter but the text `q` (for the plan tests and `examples/list_plans.rs`).
pub fn explain_list(
    backend: Backend,
    reader: PlanReader,
    (team, project, user): (TeamId, ProjectId, UserId),
    sort: IssueSort,
    q: &str,
) -> Statement {
    let (scope, s) = explain::start(backend, team, user, reader);
    let filter = IssueFilter { q: q.to_owned(), ..IssueFilter::default() };
    let page = Page { project, filter: &filter, sort, cursor: Cursor { key: first_key(sort), number: 0 }, limit: 51 };
    page_statement(s, &scope, backend, &page)
}

/// A page of the list as one row: the list statement wrapped so that the database returns its
/// issues, each with its tags and assignees, as one JSON array. A page of 50 then crosses from the
/// database to Moth once instead of as some 150 rows of three statements (docs/performance.md).
fn page_statement(mut s: Statement, scope: &ReadScope, backend: Backend, page: &Page<'_>) -> Statement {
    let team = scope.team();
    match backend {
        Backend::Sqlite => {
            s.push("SELECT json_group_array(json_array(").push(PAGE_COLUMN_LIST);
            s.push(", json((SELECT json_group_array(t.tag) FROM issue_tags t WHERE t.team_id = ").bind(team);
            s.push(
                " AND t.issue_id = page.id)), json((SELECT json_group_array(a.user_id) FROM issue_assignees a \
                    WHERE a.team_id = ",
            )
            .bind(team)
            .push(" AND a.issue_id = page.id)))) FROM (");
        }
        Backend::Postgres => {
            s.push("SELECT CAST(COALESCE(json_agg(json_build_array(").push(PAGE_COLUMN_LIST);
            s.push(", (SELECT COALESCE(json_agg(t.tag), CAST('[]' AS json)) FROM issue_tags t WHERE t.team_id = ")
                .bind(team);
            s.push(
                " AND t.issue_id = page.id), (SELECT COALESCE(json_agg(a.user_id), CAST('[]' AS json)) \
                    FROM issue_assignees a WHERE a.team_id = ",
            )
            .bind(team)
            .push(" AND a.issue_id = page.id))), CAST('[]' AS json)) AS TEXT) FROM (");
        }
    }
    list_statement(&mut s, scope, backend, page);
    s.push(") AS page");
    s
}

/// The rank of a priority (urgent first) and of a severity (critical first). The indexes
/// `issues_by_project_priority` and `issues_by_project_severity` hold the same expressions.
const PRIORITY_RANK: &str =
    "(CASE i.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END)";
const SEVERITY_RANK: &str =
    "(CASE i.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END)";

/// The list itself. It does not join the project: the project's key is read once per statement (a
/// subquery of values only is not run per row), and the project's rules are an `EXISTS` on the
/// project of the page, evaluated once per statement rather than once per row. Joined with
/// `projects`, or free to choose, `SQLite` read the project's issues whole and sorted them once it
/// had statistics of a small project (`tests/api/plans.rs`), so on `SQLite` the statement names the
/// index of its order (`INDEXED BY`), or, for a text search, starts at the full-text index's matches.
fn list_statement(s: &mut Statement, scope: &ReadScope, backend: Backend, page: &Page<'_>) {
    let search = TextSearch::of(&page.filter.q);
    s.push("SELECT i.id, i.project_id, (SELECT p.key FROM projects p WHERE p.team_id = ").bind(scope.team());
    s.push(" AND p.id = ").bind(page.project);
    s.push(
        ") AS key, i.number, i.title, i.kind, i.severity, i.priority, i.visibility, i.status_id, i.reporter_id, \
         i.due_date, i.created_at, i.updated_at",
    );
    s.push(match (backend, search) {
        (Backend::Sqlite, TextSearch::Indexed) => {
            // The full-text matches first (`CROSS JOIN` keeps that order), each issue found by its
            // search key (`INDEXED BY`: with statistics `SQLite` otherwise walked the project's index
            // once per match).
            FROM_TEXT_MATCHES
        }
        (Backend::Sqlite, TextSearch::Scan | TextSearch::Key(_)) => match page.sort {
            IssueSort::Number => " FROM issues i INDEXED BY issues_by_project_number",
            IssueSort::Updated => " FROM issues i INDEXED BY issues_by_project_updated",
            IssueSort::Priority => " FROM issues i INDEXED BY issues_by_project_priority",
            IssueSort::Severity => " FROM issues i INDEXED BY issues_by_project_severity",
        },
        (Backend::Postgres, _) => " FROM issues i",
    });
    s.push(" WHERE i.project_id = ").bind(page.project).push(" AND ");
    scope.issues(s);
    s.push(" AND EXISTS (SELECT 1 FROM projects p WHERE p.id = ").bind(page.project).push(" AND ");
    scope.projects(s);
    s.push(")");
    text_filter(s, scope, backend, search, page);
    filters(s, page.filter);
    order_after(s, page.sort, page.cursor);
    s.push(" LIMIT ").bind(page.limit);
}

/// The text search: `SQLite`'s full-text index, or `LIKE` patterns (which `PostgreSQL`'s trigram
/// indexes answer from three characters on), over the text columns the reader may search.
fn text_filter(s: &mut Statement, scope: &ReadScope, backend: Backend, search: TextSearch, page: &Page<'_>) {
    let (q, columns) = (&page.filter.q, scope.searched_columns());
    match (backend, search) {
        (Backend::Sqlite, TextSearch::Indexed) => {
            s.push(" AND issue_text MATCH ").bind(match_expression(columns, &words(q)));
            in_readers_team(s, scope);
        }
        (Backend::Postgres, TextSearch::Indexed) => words_like(s, columns, &words(q), false),
        (_, TextSearch::Scan) => words_like(s, columns, &words(q), true),
        (_, TextSearch::Key(number)) => {
            let key = q.trim().split_once('-').map(|(key, _)| key.to_uppercase()).unwrap_or_default();
            s.push(" AND likelihood(i.number = ").bind(number).push(", 1.0)");
            s.push(" AND EXISTS (SELECT 1 FROM projects p WHERE p.id = ").bind(page.project);
            s.push(" AND p.key = ").bind(key).push(")");
        }
    }
}

/// `SQLite`'s full-text matches `issue_text` and their issues `i`, joined by the issues' search key
/// (migration 0036).
pub(super) const FROM_TEXT_MATCHES: &str =
    " FROM issue_text CROSS JOIN issues i INDEXED BY issues_by_search_key ON i.search_key = issue_text.rowid";

/// Narrows `SQLite`'s full-text matches to the range of search keys of the reader's team (migration
/// 0036), inside the index: a search reads its own team's matches only, however many other teams
/// hold. The read scope still decides what the reader may read.
pub(super) fn in_readers_team(s: &mut Statement, scope: &ReadScope) {
    let base = "(SELECT t.search_base * 4294967296 FROM teams t WHERE t.id = ";
    s.push(" AND issue_text.rowid BETWEEN ").push(base).bind(scope.team());
    s.push(") AND ").push(base).bind(scope.team()).push(") + 4294967295");
}

/// An FTS5 query of `issue_text` for rows holding every one of `words` (in any order, each as a
/// substring: a quoted phrase of trigrams), each in any of `columns`.
pub(super) fn match_expression(columns: &[&str], words: &[String]) -> String {
    let phrases: Vec<String> = words.iter().map(|w| format!("\"{}\"", w.replace('"', "\"\""))).collect();
    format!("{{{}}} : ({})", columns.join(" "), phrases.join(" AND "))
}

/// Every one of `words` in any of the issue's `columns`, lower-cased, by `LIKE`. `hinted` wraps each
/// word's test in `likelihood(..., 1.0)` (see [`filters`]).
pub(super) fn words_like(s: &mut Statement, columns: &[&'static str], words: &[String], hinted: bool) {
    for pattern in words.iter().map(|w| contains_pattern(w)) {
        s.push(if hinted { " AND likelihood((" } else { " AND (" });
        for (n, column) in columns.iter().enumerate() {
            s.push(if n == 0 { "lower(i." } else { " OR lower(i." }).push(column);
            s.push(") LIKE ").bind(pattern.clone()).push(" ESCAPE '\\'");
        }
        s.push(if hinted { "), 1.0)" } else { ")" });
    }
}

/// The filters present. Each is wrapped in `likelihood(..., 1.0)`, the `SQLite` planner's hint that a
/// term removes no rows: without it, a fresh database with no statistics takes a filter for very
/// selective, and sorts the project's issues in a temporary B-tree instead of walking the list's
/// index (`tests/api/plans.rs`). `PostgreSQL` has the same `likelihood`, defined by migration 0006
/// as an inlined identity function.
fn filters(s: &mut Statement, filter: &IssueFilter) {
    column_is(s, "i.status_id", filter.status);
    row_exists(
        s,
        "SELECT 1 FROM project_statuses s WHERE s.project_id = i.project_id AND s.id = i.status_id AND s.category = ",
        filter.category,
    );
    column_is(s, "i.kind", filter.kind);
    column_is(s, "i.severity", filter.severity);
    column_is(s, "i.priority", filter.priority);
    column_is(s, "i.visibility", filter.visibility);
    let tag = filter.tag.trim().to_lowercase();
    row_exists(
        s,
        "SELECT 1 FROM issue_tags t WHERE t.team_id = i.team_id AND t.issue_id = i.id AND t.tag = ",
        (!tag.is_empty()).then_some(tag),
    );
    row_exists(
        s,
        "SELECT 1 FROM issue_assignees a WHERE a.team_id = i.team_id AND a.issue_id = i.id AND a.user_id = ",
        filter.assignee,
    );
    column_is(s, "i.reporter_id", filter.reporter);
}

/// When the filter has a value: ` AND likelihood((column = value), 1.0)`.
fn column_is<T>(s: &mut Statement, column: &'static str, value: Option<T>)
where
    T: 'static + Encode<'static, Any> + Type<Any>,
{
    if let Some(value) = value {
        s.push(" AND likelihood((").push(column).push(" = ").bind(value).push("), 1.0)");
    }
}

/// When the filter has a value: ` AND likelihood(EXISTS (rows value), 1.0)`, where `rows` ends in the
/// comparison the value completes.
fn row_exists<T>(s: &mut Statement, rows: &'static str, value: Option<T>)
where
    T: 'static + Encode<'static, Any> + Type<Any>,
{
    if let Some(value) = value {
        s.push(" AND likelihood(EXISTS (").push(rows).bind(value).push("), 1.0)");
    }
}

/// Where the page starts (after the cursor) and its order: the sort key (newest first for
/// `Updated`), then the number.
fn order_after(s: &mut Statement, sort: IssueSort, cursor: Cursor) {
    let rank = match sort {
        IssueSort::Number => {
            s.push(" AND i.number > ").bind(cursor.number).push(" ORDER BY i.number");
            return;
        }
        IssueSort::Updated => {
            s.push(" AND (i.updated_at < ").bind(cursor.key);
            s.push(" OR (i.updated_at = ").bind(cursor.key).push(" AND i.number > ").bind(cursor.number);
            s.push(")) ORDER BY i.updated_at DESC, i.number");
            return;
        }
        IssueSort::Priority => PRIORITY_RANK,
        IssueSort::Severity => SEVERITY_RANK,
    };
    s.push(" AND (").push(rank).push(" > CAST(").bind(cursor.key).push(" AS INTEGER) OR (").push(rank);
    s.push(" = CAST(").bind(cursor.key).push(" AS INTEGER) AND i.number > ").bind(cursor.number);
    s.push(")) ORDER BY ").push(rank).push(", i.number");
}

/// The columns of each issue in [`page_statement`]'s array, in the order of [`ListedIssue`]'s fields (then
/// its tags and assignees); a unit test holds the two together. No description and no environment:
/// a list shows neither.
#[cfg(test)]
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

/// [`PAGE_COLUMNS`] as the page's statement names them (a unit test holds the two together).
const PAGE_COLUMN_LIST: &str = "page.id, page.project_id, page.key, page.number, page.title, page.kind, \
     page.severity, page.priority, page.visibility, page.status_id, page.reporter_id, page.due_date, \
     page.created_at, page.updated_at";

/// One issue of [`page_statement`]'s array, its values in the order of [`PAGE_COLUMNS`].
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

    #[test]
    fn the_page_statement_names_the_page_columns() {
        let listed: Vec<String> = super::PAGE_COLUMNS.iter().map(|c| format!("page.{c}")).collect();
        assert_eq!(super::PAGE_COLUMN_LIST, listed.join(", "));
    }

    use super::contains_pattern;

    #[test]
    fn search_text_cannot_use_like_wildcards() {
        assert_eq!(contains_pattern("  "), "");
        assert_eq!(contains_pattern("Login"), "%login%");
        assert_eq!(contains_pattern("100%_done\\"), "%100\\%\\_done\\\\%");
    }
}
