//! Issues across every project a reader reads: the command palette's jumps and the start page's
//! lists. Each statement starts from the reader's [`ReadScope`] and ends in a limit.

use app::model::{ProjectId, StatusCategory, TeamId, UserId};

// The data layer's names (`Actor`, `Db`, `ReadScope`, `Statement`...) as this module's parent imports them.
use super::{
    explain,
    list::{in_readers_team, match_expression, words_like, FROM_TEXT_MATCHES},
    readable_from, readable_issues_first, readable_issues_onto, readable_matches_first, with_tags_and_assignees, Actor,
    Backend, Db, DbError, IssueRow, ReadScope, Statement, StoredIssue, Visible, ISSUE_COLUMNS,
};
use crate::db::scope::explain::PlanReader;

/// Which issues, across projects.
#[derive(Clone, Copy, Debug)]
pub enum Across<'a> {
    /// The issue `KEY-N`.
    Key(&'a str, i64),
    /// The issues numbered N, one per project at most.
    Number(i64),
    /// Issues whose title holds every one of these words (lower-case, three characters or more).
    TitleWords(&'a [String]),
    /// Issues whose text the reader may search (title, description, tags, readable comments) holds
    /// every one of these words, each anywhere (lower-case, three characters or more).
    TextWords(&'a [String]),
    /// Open issues assigned to the reader.
    AssignedToReader,
    /// Open issues the reader reported.
    ReportedByReader,
}

/// At most `limit` issues the actor may read that match `find`: jumps newest first, the start page's
/// lists most recently changed first.
pub async fn across_projects(
    db: &Db,
    actor: &Actor,
    find: Across<'_>,
    limit: i64,
) -> Result<Vec<Visible<StoredIssue>>, DbError> {
    let scope = ReadScope::of(actor);
    let words_in = match find {
        Across::TitleWords(words) => Some((words, &["title"][..])),
        Across::TextWords(words) => Some((words, scope.searched_columns())),
        _ => None,
    };
    if let (Some((words, columns)), Backend::Sqlite) = (words_in, db.backend()) {
        // The full-text index's matches come newest first, as the index holds them (its keys count
        // down within a team, migration 0036), so a common word stops at the limit instead of
        // sorting every match.
        let mut s = readable_from(ISSUE_COLUMNS, FROM_TEXT_MATCHES, &scope);
        s.push(" AND issue_text MATCH ").bind(match_expression(columns, words));
        in_readers_team(&mut s, &scope);
        s.push(" ORDER BY issue_text.rowid LIMIT ").bind(limit);
        let rows: Vec<IssueRow> = s.query_as().fetch_all(db.pool()).await?;
        return with_tags_and_assignees(db, scope, rows).await;
    }
    let mut s = across_statement(Statement::new(""), &scope, db.backend(), actor.user_id(), find);
    s.push(" LIMIT ").bind(limit);
    let rows: Vec<IssueRow> = s.query_as().fetch_all(db.pool()).await?;
    with_tags_and_assignees(db, scope, rows).await
}

/// The plan of the start page's list of issues `reported` by a `reader` (or assigned to them), of a
/// made-up team, for the plan tests.
pub fn explain_start_page(
    backend: Backend,
    reader: PlanReader,
    (team, _, user): (TeamId, ProjectId, UserId),
    reported: bool,
) -> Statement {
    let (scope, start) = explain::start(backend, team, user, reader);
    let find = if reported { Across::ReportedByReader } else { Across::AssignedToReader };
    let mut s = across_statement(start, &scope, backend, user, find);
    s.push(" LIMIT 20");
    s
}

/// The statement of `find` (but a full-text search on `SQLite`) for `user`'s `scope`, in its order,
/// after `start` (an empty statement or an `EXPLAIN`); the caller adds the limit.
fn across_statement(
    start: Statement,
    scope: &ReadScope,
    backend: Backend,
    user: UserId,
    find: Across<'_>,
) -> Statement {
    let mut s = match (find, backend) {
        // They start at the reader's own issues (by reporter, or by assignee), not at every project.
        (Across::AssignedToReader | Across::ReportedByReader, _) => readable_issues_first(start, scope, backend),
        // On PostgreSQL, the trigram indexes' matches in the reader's team first, then their
        // projects.
        (Across::TitleWords(words), Backend::Postgres) => {
            readable_matches_first(start, scope, |s| words_like(s, &["title"], words, false))
        }
        (Across::TextWords(words), Backend::Postgres) => {
            readable_matches_first(start, scope, |s| words_like(s, scope.searched_columns(), words, false))
        }
        _ => readable_issues_onto(start, scope),
    };
    match find {
        Across::Key(key, number) => {
            s.push(" AND p.key = ").bind(key.to_owned()).push(" AND i.number = ").bind(number);
        }
        Across::Number(number) => {
            s.push(" AND i.number = ").bind(number);
        }
        // Matched above on PostgreSQL (testing them again here would make its planner expect a
        // handful of rows where there are hundreds). SQLite reads its full-text index instead, in
        // `across_projects`; this LIKE is the same test without it.
        Across::TitleWords(_) | Across::TextWords(_) if backend == Backend::Postgres => {}
        Across::TitleWords(words) => words_like(&mut s, &["title"], words, false),
        Across::TextWords(words) => words_like(&mut s, scope.searched_columns(), words, false),
        Across::AssignedToReader => {
            s.push(" AND i.id IN (SELECT a.issue_id FROM issue_assignees a WHERE a.team_id = ").bind(scope.team());
            s.push(" AND a.user_id = ").bind(user).push(")");
            not_done(&mut s);
        }
        Across::ReportedByReader => {
            s.push(" AND i.reporter_id = ").bind(user);
            not_done(&mut s);
        }
    }
    // Jumps come newest first; the start page's lists by their latest change, ties by id: an order
    // `issues_by_reporter` gives whole (on PostgreSQL it holds the id), so that the list stops at
    // its limit instead of sorting every one of a reader's issues.
    match find {
        Across::AssignedToReader | Across::ReportedByReader => s.push(" ORDER BY i.updated_at DESC, i.id"),
        _ => s.push(" ORDER BY i.created_at DESC, p.key, i.number"),
    };
    s
}

/// Issues whose status is not in the "done" category of their project's workflow.
fn not_done(s: &mut crate::db::scope::Statement) {
    s.push(
        " AND NOT EXISTS (SELECT 1 FROM project_statuses st WHERE st.team_id = i.team_id \
         AND st.project_id = i.project_id AND st.id = i.status_id AND st.category = ",
    )
    .bind(StatusCategory::Done.as_str().to_owned())
    .push(")");
}
