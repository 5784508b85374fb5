//! Issues across every project a reader reads: the command palette's jumps and the start page's
//! lists. Each statement starts from the reader's [`ReadScope`] and ends in a limit.

use app::model::StatusCategory;

use super::{
    list::{match_expression, words_like},
    readable_from, readable_issues, with_tags_and_assignees, IssueRow, StoredIssue, Visible, ISSUE_COLUMNS,
};
use crate::{
    actor::Actor,
    db::{scope::ReadScope, Backend, Db, DbError},
};

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
        // The full-text index's matches come newest first, as the index holds them, so a common word
        // stops at the limit instead of sorting every match.
        let from = " FROM issue_text CROSS JOIN issues i ON i.rowid = issue_text.rowid";
        let mut s = readable_from(ISSUE_COLUMNS, from, &scope);
        s.push(" AND issue_text MATCH ").bind(match_expression(columns, words));
        s.push(" ORDER BY issue_text.rowid DESC LIMIT ").bind(limit);
        let rows: Vec<IssueRow> = s.query_as().fetch_all(db.pool()).await?;
        return with_tags_and_assignees(db, scope, rows).await;
    }
    let mut s = readable_issues(&scope);
    match find {
        Across::Key(key, number) => {
            s.push(" AND p.key = ").bind(key.to_owned()).push(" AND i.number = ").bind(number);
        }
        Across::Number(number) => {
            s.push(" AND i.number = ").bind(number);
        }
        // The trigram indexes of the lowered text, one LIKE per word (SQLite: above).
        Across::TitleWords(words) => words_like(&mut s, &["title"], words, false),
        Across::TextWords(words) => words_like(&mut s, scope.searched_columns(), words, false),
        Across::AssignedToReader => {
            s.push(" AND i.id IN (SELECT a.issue_id FROM issue_assignees a WHERE a.team_id = ").bind(scope.team());
            s.push(" AND a.user_id = ").bind(actor.user_id()).push(")");
            not_done(&mut s);
        }
        Across::ReportedByReader => {
            s.push(" AND i.reporter_id = ").bind(actor.user_id());
            not_done(&mut s);
        }
    }
    // Jumps come newest first; the start page's lists by their latest change.
    match find {
        Across::AssignedToReader | Across::ReportedByReader => s.push(" ORDER BY i.updated_at DESC, p.key, i.number"),
        _ => s.push(" ORDER BY i.created_at DESC, p.key, i.number"),
    };
    s.push(" LIMIT ").bind(limit);
    let rows: Vec<IssueRow> = s.query_as().fetch_all(db.pool()).await?;
    with_tags_and_assignees(db, scope, rows).await
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
