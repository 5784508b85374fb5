//! Comments and the history of an issue, each read through the issue's [`Visible`] proof with the
//! reader's [`ReadScope`] rules.

use app::model::{
    ActivityKind, Comment, CommentId, HistoryEntry, IssueId, IssueVisibility, OutboxKind, Person, UserId,
};
use uuid::Uuid;

use super::{StoredIssue, Visible};
use crate::{
    actor::Actor,
    db::{
        outbox::{self, Activity},
        scope::Statement,
        Db, DbError, TeamScope, WriteTransaction,
    },
    markdown::to_safe_html,
    policy::HistoryShown,
};

/// The history of a visible issue, as much of it as its reader may see ([`crate::policy::Reader::history_of`]).
pub async fn history(db: &Db, issue: &Visible<StoredIssue>) -> Result<Vec<HistoryEntry>, DbError> {
    if issue.reader().history_of(issue.reporter_id) == HistoryShown::None {
        return Ok(Vec::new());
    }
    let mut s = Statement::new(
        "SELECT h.at, u.display_name AS actor, h.field, h.old_value, h.new_value FROM issue_history h \
         LEFT JOIN users u ON u.id = h.actor_id WHERE h.issue_id = ",
    );
    s.bind(issue.id).push(" AND ");
    issue.scope().history(&mut s, issue.reporter_id);
    s.push(" ORDER BY h.at, h.id");
    Ok(s.query_as().fetch_all(db.pool()).await?)
}

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

/// The comments of a visible issue that its reader may read; the caller appends conditions and order.
fn readable_comments(issue: &Visible<StoredIssue>) -> Statement {
    let mut s = Statement::new(
        "SELECT c.id, c.author_id, u.display_name, c.body, c.visibility, c.created_at, c.updated_at, c.body_html \
         FROM comments c JOIN users u ON u.id = c.author_id WHERE c.issue_id = ",
    );
    s.bind(issue.id).push(" AND ");
    issue.scope().comments(&mut s);
    s
}

/// The comments of a visible issue: all of them for members, only the public ones for guests and
/// anonymous readers. A comment's visibility is fixed when it is posted, and an edit replaces its text
/// (no earlier text is kept), so nothing written as internal ever reaches a guest.
pub async fn comments(db: &Db, issue: &Visible<StoredIssue>) -> Result<Vec<Comment>, DbError> {
    let mut s = readable_comments(issue);
    s.push(" ORDER BY c.created_at, c.id");
    let rows: Vec<CommentRow> = s.query_as().fetch_all(db.pool()).await?;
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
    let Some(issue) = super::find(db, actor, issue_id).await? else { return Ok(None) };
    let comment = readable_comment(db, &issue, id).await?;
    Ok(comment.map(|comment| (issue, comment)))
}

/// A comment of a visible issue that its reader may read, by id.
pub(in crate::db) async fn readable_comment(
    db: &Db,
    issue: &Visible<StoredIssue>,
    id: CommentId,
) -> Result<Option<Comment>, DbError> {
    let mut s = readable_comments(issue);
    s.push(" AND c.id = ").bind(id);
    let row: Option<CommentRow> = s.query_as().fetch_optional(db.pool()).await?;
    Ok(row.map(Comment::from))
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
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO comments (id, team_id, issue_id, author_id, body, visibility, created_at, updated_at, \
         body_html) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
    )
    .bind(id)
    .bind(issue.team_id())
    .bind(issue.id)
    .bind(actor.user_id())
    .bind(body)
    .bind(visibility)
    .bind(now_ms)
    .bind(to_safe_html(body))
    .execute(&mut *tx)
    .await?;
    let activity = Activity {
        comment: Some(id),
        ..Activity::new(issue.team_id(), issue.id, actor.user_id(), OutboxKind::Activity(ActivityKind::Commented))
    };
    outbox::record(&mut tx, &activity, now_ms).await?;
    tx.commit().await?;
    db.ring_outbox();
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
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE comments SET body = $3, updated_at = $4, body_html = $7 WHERE team_id = $1 AND id = $2 \
         AND author_id = $5 AND issue_id = $6 AND deleted_at IS NULL",
    )
    .bind(issue.team_id())
    .bind(id)
    .bind(body)
    .bind(now_ms)
    .bind(actor.user_id())
    .bind(issue.id)
    .bind(to_safe_html(body))
    .execute(&mut *tx)
    .await?;
    let activity = Activity {
        comment: Some(id),
        ..Activity::new(issue.team_id(), issue.id, actor.user_id(), OutboxKind::CommentEdited)
    };
    comment_event(db, tx, activity, done.rows_affected(), now_ms).await
}

/// Writes the webhook event of a comment's edit or deletion when it happened (`changed` rows), and
/// commits; answers whether it happened.
async fn comment_event(
    db: &Db,
    mut tx: WriteTransaction,
    activity: Activity,
    changed: u64,
    now_ms: i64,
) -> Result<bool, DbError> {
    if changed != 1 {
        return Ok(false);
    }
    outbox::record(&mut tx, &activity, now_ms).await?;
    tx.commit().await?;
    db.ring_outbox();
    Ok(true)
}

/// Deletes (softly) a comment of a visible issue; it is never shown again, to anyone.
pub async fn delete_comment(
    db: &Db,
    actor: &Actor,
    issue: &Visible<StoredIssue>,
    id: CommentId,
    now_ms: i64,
) -> Result<bool, DbError> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE comments SET deleted_at = $3 WHERE team_id = $1 AND id = $2 AND issue_id = $4 AND deleted_at IS NULL",
    )
    .bind(issue.team_id())
    .bind(id)
    .bind(now_ms)
    .bind(issue.id)
    .execute(&mut *tx)
    .await?;
    let activity = Activity {
        comment: Some(id),
        ..Activity::new(issue.team_id(), issue.id, actor.user_id(), OutboxKind::CommentDeleted)
    };
    comment_event(db, tx, activity, done.rows_affected(), now_ms).await
}
