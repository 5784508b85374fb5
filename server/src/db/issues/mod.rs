//! Issues, their tags, assignees, comments and history. What a caller may read is the
//! [`ReadScope`] of its [`Actor`] (or of a [`PublishedProject`]), which writes its own SQL: a guest
//! sees only public issues and their own reports, in public projects they belong to, only public
//! comments, and only the history recorded while the issue was visible to them. Anything else is
//! "not found".
//!
//! The finders answer [`Visible`] issues: the proof that the reader may see them. Comments, history and
//! every write to an issue take that proof, so nothing hanging off an issue can be read or changed
//! through an issue the caller has not found visible, and the reader's rules are applied once.
//!
//! Here: the finders; in `across` issues across projects (palette, start page); in `list` the issue
//! list (search, filters, orders); in `write` creates, edits and deletes; in `comments` comments and
//! history; in `wire` the wire forms the service answers.

mod across;
mod comments;
mod list;
mod wire;
mod write;

pub use across::{across_projects, explain_start_page, Across};
pub(in crate::db) use comments::readable_comment;
pub use comments::{add_comment, comments, delete_comment, edit_comment, find_comment, history};
pub use list::{clamp_key, explain_list, first_key, list, sort_key, Cursor, TextSearch};
pub use wire::{to_issue, to_issues, to_summaries};
pub use write::{
    all_assignable, create, delete, index_missing_text, record_history, render_missing, status, update, Change, Update,
};
pub(super) use write::{index_text, insert_new, NewIssue};

use std::collections::HashMap;

use app::model::{
    Environment, IssueFields, IssueId, IssueType, IssueVisibility, Priority, ProjectId, Severity, StatusId, TeamId,
    UserId,
};
use uuid::Uuid;

use super::{
    projects::PublishedProject,
    scope::{explain, ReadScope, Statement},
    Backend, Db, DbError, TeamScope,
};
use crate::{actor::Actor, policy::Reader};

/// Proof that a reader may see the issue it holds. Only this module's finders make one, right after
/// the visibility query; it remembers the reader's scope, so that what hangs off the issue is read
/// by the same rules.
pub struct Visible<T> {
    scope: ReadScope,
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
        self.scope.reader()
    }

    pub(crate) fn scope(&self) -> &ReadScope {
        &self.scope
    }
}

impl<T> TeamScope for Visible<T> {
    fn team_id(&self) -> TeamId {
        self.scope.team()
    }
}

/// The columns of an issue row, the issue `i` joined with its project `p`.
const ISSUE_COLUMNS: &str = "SELECT i.id, i.project_id, p.key, i.number, i.title, i.description, i.kind, \
     i.severity, i.priority, i.visibility, i.status_id, i.reporter_id, i.env_browser, i.env_os, i.env_device, \
     i.env_app_version, i.env_url, i.due_date, i.created_at, i.updated_at, i.description_html";

/// The issues the scope may read, each joined with its project; the caller appends its conditions
/// (` AND ...`) and order.
fn readable_issues(scope: &ReadScope) -> Statement {
    readable_issues_onto(Statement::new(""), scope)
}

/// As [`readable_issues`], after `start` (an empty statement or an `EXPLAIN`).
fn readable_issues_onto(start: Statement, scope: &ReadScope) -> Statement {
    readable_joined(start, ISSUE_COLUMNS, text(" FROM issues i"), " JOIN", scope)
}

/// As [`readable_issues_onto`], the issues `i` being those of the reader's team that `matches`
/// keeps (conditions on `i`, each starting ` AND`), found before any project is read. For
/// `PostgreSQL`'s text searches across projects: joined with the projects, its planner estimated a
/// large team's project at a handful of rows and read the whole project instead of the trigram
/// indexes' matches (docs/performance.md). `OFFSET 0` keeps it from merging the two again.
fn readable_matches_first(start: Statement, scope: &ReadScope, matches: impl FnOnce(&mut Statement)) -> Statement {
    let from = |s: &mut Statement| {
        s.push(" FROM (SELECT * FROM issues i WHERE i.team_id = ").bind(scope.team());
        matches(s);
        s.push(" OFFSET 0) i");
    };
    readable_joined(start, ISSUE_COLUMNS, from, " JOIN", scope)
}

/// `columns` of the issues `i` (with their projects `p`) that the scope's reader may read.
fn readable(columns: &'static str, scope: &ReadScope) -> Statement {
    readable_from(columns, " FROM issues i", scope)
}

/// As [`readable_issues`], with `SQLite`'s planner told to read the issues before their projects
/// (`CROSS JOIN` fixes the order of its loops there; `PostgreSQL` plans by its statistics): for lists
/// whose order an index of `issues` gives, so that they stop at their limit instead of sorting every
/// match of a reader's thousands of issues in one project.
/// `start` is an empty statement or an `EXPLAIN`.
fn readable_issues_first(start: Statement, scope: &ReadScope, backend: Backend) -> Statement {
    let join = match backend {
        Backend::Sqlite => " CROSS JOIN",
        Backend::Postgres => " JOIN",
    };
    readable_joined(start, ISSUE_COLUMNS, text(" FROM issues i"), join, scope)
}

/// As [`readable`], the issues `i` coming from `from` (which may start at another table).
pub(in crate::db) fn readable_from(columns: &'static str, from: &'static str, scope: &ReadScope) -> Statement {
    readable_joined(Statement::new(""), columns, text(from), " JOIN", scope)
}

/// A `FROM` of fixed text, for [`readable_joined`].
fn text(from: &'static str) -> impl FnOnce(&mut Statement) {
    move |s| {
        s.push(from);
    }
}

/// The one place the read scope is applied to issues and their projects: `columns`, the issues `i`
/// that `from` writes, `join`ed with their projects `p`, where the scope allows both.
fn readable_joined(
    mut s: Statement,
    columns: &'static str,
    from: impl FnOnce(&mut Statement),
    join: &'static str,
    scope: &ReadScope,
) -> Statement {
    s.push(columns);
    from(&mut s);
    s.push(join);
    s.push(" projects p ON p.team_id = i.team_id AND p.id = i.project_id WHERE ");
    scope.projects(&mut s);
    s.push(" AND ");
    scope.issues(&mut s);
    s
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
    find_in_scope(db, ReadScope::of(actor), id).await
}

/// An issue the scope's reader may see, by id.
pub(in crate::db) async fn find_in_scope(
    db: &Db,
    scope: ReadScope,
    id: IssueId,
) -> Result<Option<Visible<StoredIssue>>, DbError> {
    let mut s = readable_issues(&scope);
    s.push(" AND i.id = ").bind(id);
    let row: Option<IssueRow> = s.query_as().fetch_optional(db.pool()).await?;
    Ok(with_tags_and_assignees(db, scope, row).await?.pop())
}

/// Whether the scope's reader may read the issue `id` (nothing of it is loaded).
pub(in crate::db) async fn readable_by(db: &Db, scope: ReadScope, id: IssueId) -> Result<bool, DbError> {
    let mut s = readable("SELECT 1", &scope);
    s.push(" AND i.id = ").bind(id);
    Ok(s.query_scalar::<i64>().fetch_optional(db.pool()).await?.is_some())
}

/// An issue the actor may see, by `KEY-number`.
pub async fn find_by_ref(
    db: &Db,
    actor: &Actor,
    key: &str,
    number: i64,
) -> Result<Option<Visible<StoredIssue>>, DbError> {
    let scope = ReadScope::of(actor);
    let mut s = readable_issues(&scope);
    s.push(" AND p.key = ").bind(key.to_owned()).push(" AND i.number = ").bind(number);
    let row: Option<IssueRow> = s.query_as().fetch_optional(db.pool()).await?;
    Ok(with_tags_and_assignees(db, scope, row).await?.pop())
}

/// Which of `refs` (project key, issue number) the scope's reader may open, in one statement; the
/// caller bounds how many it asks about.
pub async fn readable_refs(db: &Db, scope: &ReadScope, refs: &[(String, i64)]) -> Result<Vec<(String, i64)>, DbError> {
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let mut s = readable("SELECT p.key, i.number", scope);
    s.push(" AND (");
    for (n, (key, number)) in refs.iter().enumerate() {
        s.push(if n == 0 { "(p.key = " } else { " OR (p.key = " });
        s.bind(key.clone()).push(" AND i.number = ").bind(*number).push(")");
    }
    s.push(")");
    Ok(s.query_as().fetch_all(db.pool()).await?)
}

/// A page of a published project's public issues, by number.
pub async fn published_list(
    db: &Db,
    project: &PublishedProject,
    after_number: i64,
    limit: i64,
) -> Result<Vec<Visible<StoredIssue>>, DbError> {
    let scope = ReadScope::published(project);
    let mut s = readable_issues(&scope);
    s.push(" AND i.number > ").bind(after_number).push(" ORDER BY i.number LIMIT ").bind(limit);
    let rows: Vec<IssueRow> = s.query_as().fetch_all(db.pool()).await?;
    with_tags_and_assignees(db, scope, rows).await
}

/// One public issue of a published project, by number.
pub async fn published_find(
    db: &Db,
    project: &PublishedProject,
    number: i64,
) -> Result<Option<Visible<StoredIssue>>, DbError> {
    let scope = ReadScope::published(project);
    let mut s = readable_issues(&scope);
    s.push(" AND i.number = ").bind(number);
    let row: Option<IssueRow> = s.query_as().fetch_optional(db.pool()).await?;
    Ok(with_tags_and_assignees(db, scope, row).await?.pop())
}

/// Visible issues from the rows the scope's query found, with tags and assignees, loaded for the
/// whole page in one statement. With [`list::list`], the only places a [`Visible`] is made.
async fn with_tags_and_assignees(
    db: &Db,
    scope: ReadScope,
    rows: impl IntoIterator<Item = IssueRow>,
) -> Result<Vec<Visible<StoredIssue>>, DbError> {
    let mut issues: Vec<StoredIssue> = rows.into_iter().map(StoredIssue::from).collect();
    if issues.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<IssueId> = issues.iter().map(|i| i.id).collect();
    let (mut tags, mut assignees) = children_of(db, scope.team(), &ids).await?;
    for issue in &mut issues {
        let mut issue_tags = tags.remove(&issue.id).unwrap_or_default();
        issue_tags.sort();
        issue.fields.tags = issue_tags;
        let mut users = assignees.remove(&issue.id).unwrap_or_default();
        users.sort();
        issue.fields.assignees = users;
    }
    Ok(issues.into_iter().map(|value| Visible { scope, value }).collect())
}

/// The statement that reads the tags and the assignees of issues `ids` of `team`: one statement for
/// a whole page (tags first, then assignees, told apart by `child`), each half through the index led
/// by team and issue (`*_by_issue`).
fn children_statement(mut s: Statement, team: TeamId, ids: &[IssueId]) -> Statement {
    s.push("SELECT t.issue_id, CAST(0 AS BIGINT) AS child, t.tag AS value FROM issue_tags t WHERE t.team_id = ")
        .bind(team)
        .push(" AND t.issue_id IN (")
        .bind_list(ids.iter().copied())
        .push(
            ") UNION ALL SELECT a.issue_id, CAST(1 AS BIGINT) AS child, a.user_id AS value FROM issue_assignees a \
               WHERE a.team_id = ",
        )
        .bind(team)
        .push(" AND a.issue_id IN (")
        .bind_list(ids.iter().copied())
        .push(")");
    s
}

/// The plan of the statement that reads the tags and assignees of `count` issues (for the plan tests).
pub fn explain_children(backend: Backend, count: usize) -> Statement {
    let ids: Vec<IssueId> = (0..count).map(|_| IssueId(Uuid::new_v4())).collect();
    children_statement(explain::statement(backend), TeamId(Uuid::nil()), &ids)
}

/// The tags and the assignees of issues `ids` of `team`, by issue.
#[allow(clippy::type_complexity)]
async fn children_of(
    db: &Db,
    team: TeamId,
    ids: &[IssueId],
) -> Result<(HashMap<IssueId, Vec<String>>, HashMap<IssueId, Vec<UserId>>), DbError> {
    let mut s = children_statement(Statement::new(""), team, ids);
    let (mut tags, mut assignees): (HashMap<IssueId, Vec<String>>, HashMap<IssueId, Vec<UserId>>) = Default::default();
    for (issue, child, value) in s.query_as::<(IssueId, i64, String)>().fetch_all(db.pool()).await? {
        if child == 0 {
            tags.entry(issue).or_default().push(value);
        } else {
            let user = Uuid::parse_str(&value).map_err(|_| DbError::Inconsistent("issue_assignees.user_id"))?;
            assignees.entry(issue).or_default().push(UserId(user));
        }
    }
    Ok((tags, assignees))
}
