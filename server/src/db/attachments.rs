//! Attachments of issues and of their comments, and the uploads the pipeline refused. An attachment
//! is read only through an issue the caller may see ([`Visible`]), so it follows its issue's
//! visibility, and one on a comment also follows the comment's (a guest never reaches a file of an
//! internal comment); the file origin reads one by team and id alone, because the signed link it was
//! given is the proof of an earlier check.

use app::model::{Attachment, AttachmentId, CommentId, IssueVisibility, OutboxKind, RejectedUpload, TeamId, UserId};

use super::{
    issues::{self, Change, StoredIssue, Visible},
    outbox::{self, Activity},
    scope::Statement,
    Db, DbError, TeamScope,
};
use crate::actor::Actor;

/// An attachment the actor may see, with its issue, who uploaded it and, for a file of a comment,
/// that comment's visibility.
pub struct Found {
    pub issue: Visible<StoredIssue>,
    pub attachment: Attachment,
    pub uploader: UserId,
    pub comment_visibility: Option<IssueVisibility>,
}

impl Found {
    /// Whether its adding and removal may be told in the issue's history: not for a file of an
    /// internal comment, whose name guests must not learn there.
    pub fn shown_in_history(&self) -> bool {
        self.comment_visibility != Some(IssueVisibility::Internal)
    }
}

/// What the file origin needs to send one file.
#[derive(sqlx::FromRow)]
pub struct Deliverable {
    pub name: String,
    pub content_type: String,
    pub storage_key: String,
    pub key_id: String,
    pub wrapped_key: String,
}

/// The live attachments of `team`; the caller appends conditions and order.
fn attachments_of(team: TeamId) -> Statement {
    let mut s = Statement::new(
        "SELECT a.id, a.issue_id, a.comment_id, a.name, a.content_type, a.size, u.display_name AS uploaded_by, \
         a.uploaded_by AS uploader_id, a.created_at FROM attachments a JOIN users u ON u.id = a.uploaded_by \
         WHERE a.deleted_at IS NULL AND a.team_id = ",
    );
    s.bind(team);
    s
}

/// A file the pipeline has stored (encrypted), to be recorded on an issue or a comment.
pub struct StoredFile<'a> {
    pub name: &'a str,
    pub content_type: &'a str,
    pub size: u64,
    pub storage_key: &'a str,
    pub key_id: &'a str,
    pub wrapped_key: &'a str,
}

/// Records a stored file on `issue`, or on its `comment` (which the caller found through the issue),
/// with its line in the issue's history when there is one (in one transaction); answers it.
pub async fn insert(
    db: &Db,
    actor: &Actor,
    issue: &Visible<StoredIssue>,
    comment: Option<CommentId>,
    stored: &StoredFile<'_>,
    history: Option<&Change>,
    now_ms: i64,
) -> Result<Option<Attachment>, DbError> {
    let id = AttachmentId(uuid::Uuid::new_v4());
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO attachments (id, team_id, issue_id, name, content_type, size, storage_key, key_id, \
         wrapped_key, uploaded_by, created_at, comment_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id)
    .bind(issue.team_id())
    .bind(issue.id)
    .bind(stored.name)
    .bind(stored.content_type)
    .bind(i64::try_from(stored.size).unwrap_or(i64::MAX))
    .bind(stored.storage_key)
    .bind(stored.key_id)
    .bind(stored.wrapped_key)
    .bind(actor.user_id())
    .bind(now_ms)
    .bind(comment)
    .execute(&mut *tx)
    .await?;
    if let Some(change) = history {
        issues::record_history(&mut tx, actor, issue, change, now_ms).await?;
    }
    let activity = Activity {
        comment,
        attachment: Some(id),
        ..Activity::new(issue.team_id(), issue.id, actor.user_id(), OutboxKind::AttachmentAdded)
    };
    outbox::record(&mut tx, &activity, now_ms).await?;
    tx.commit().await?;
    db.ring_outbox();
    // The actor may see what they just attached to an issue (or comment) they see.
    let mut s = attachments_of(issue.team_id());
    s.push(" AND a.id = ").bind(id);
    Ok(s.query_as().fetch_optional(db.pool()).await?)
}

/// The files of an issue the caller may see (not those of its comments), oldest first.
pub async fn of_issue(db: &Db, issue: &Visible<StoredIssue>) -> Result<Vec<Attachment>, DbError> {
    let mut s = attachments_of(issue.team_id());
    s.push(" AND a.issue_id = ").bind(issue.id).push(" AND a.comment_id IS NULL ORDER BY a.created_at, a.id");
    Ok(s.query_as().fetch_all(db.pool()).await?)
}

/// The files of the comments of an issue the caller may see, of the comments they may see, oldest
/// first: one statement for the whole issue.
pub async fn of_comments(db: &Db, issue: &Visible<StoredIssue>) -> Result<Vec<Attachment>, DbError> {
    let mut s = attachments_of(issue.team_id());
    s.push(" AND a.issue_id = ").bind(issue.id);
    // Only the files of comments the reader may read ([`crate::db::scope::ReadScope::comments`]).
    s.push(" AND EXISTS (SELECT 1 FROM comments c WHERE c.id = a.comment_id AND ");
    issue.scope().comments(&mut s);
    s.push(") ORDER BY a.created_at, a.id");
    Ok(s.query_as().fetch_all(db.pool()).await?)
}

/// An attachment of the actor's team on an issue the actor may see; `None` otherwise (missing, of
/// another team, or on an issue hidden from them: all alike).
pub async fn find(db: &Db, actor: &Actor, id: AttachmentId) -> Result<Option<Found>, DbError> {
    let owner: Option<(app::model::IssueId, UserId, Option<CommentId>)> = sqlx::query_as(
        "SELECT issue_id, uploaded_by, comment_id FROM attachments \
         WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(actor.team_id())
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let Some((issue_id, uploader, comment_id)) = owner else { return Ok(None) };
    // A comment's file is found through the comment, by the rules that show the comment.
    let (issue, comment_visibility) = match comment_id {
        None => (issues::find(db, actor, issue_id).await?, None),
        Some(comment_id) => match issues::find_comment(db, actor, comment_id).await? {
            Some((issue, comment)) => (Some(issue), Some(comment.visibility)),
            None => (None, None),
        },
    };
    let Some(issue) = issue else { return Ok(None) };
    // Read within the found issue's team (the actor's), the issue's visibility already checked.
    let mut s = attachments_of(issue.team_id());
    s.push(" AND a.id = ").bind(id);
    let attachment: Option<Attachment> = s.query_as().fetch_optional(db.pool()).await?;
    Ok(attachment.map(|attachment| Found { issue, attachment, uploader, comment_visibility }))
}

/// Marks the files of a comment deleted (with the comment); answers their storage keys, so the
/// caller can remove the bytes.
pub async fn delete_of_comment(
    db: &Db,
    issue: &Visible<StoredIssue>,
    comment: CommentId,
    now_ms: i64,
) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "UPDATE attachments SET deleted_at = $4 WHERE team_id = $1 AND issue_id = $2 AND comment_id = $3 \
         AND deleted_at IS NULL RETURNING storage_key",
    )
    .bind(issue.team_id())
    .bind(issue.id)
    .bind(comment)
    .bind(now_ms)
    .fetch_all(db.pool())
    .await?)
}

/// Marks an attachment deleted, with its line in the issue's history when there is one (in one
/// transaction); answers its storage key, so the caller can remove the bytes.
pub async fn delete(
    db: &Db,
    actor: &Actor,
    found: &Found,
    history: Option<&Change>,
    now_ms: i64,
) -> Result<Option<String>, DbError> {
    let mut tx = db.begin_write().await?;
    let storage_key: Option<String> = sqlx::query_scalar(
        "UPDATE attachments SET deleted_at = $3 WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL \
         RETURNING storage_key",
    )
    .bind(found.issue.team_id())
    .bind(found.attachment.id)
    .bind(now_ms)
    .fetch_optional(&mut *tx)
    .await?;
    if let (Some(_), Some(change)) = (&storage_key, history) {
        issues::record_history(&mut tx, actor, &found.issue, change, now_ms).await?;
    }
    tx.commit().await?;
    Ok(storage_key)
}

/// A live attachment (on a live issue, and a live comment if it has one) for the file origin.
pub async fn deliverable(db: &Db, team_id: TeamId, id: AttachmentId) -> Result<Option<Deliverable>, DbError> {
    Ok(sqlx::query_as(
        "SELECT a.name, a.content_type, a.storage_key, a.key_id, a.wrapped_key FROM attachments a \
         JOIN issues i ON i.team_id = a.team_id AND i.id = a.issue_id \
         WHERE a.team_id = $1 AND a.id = $2 AND a.deleted_at IS NULL AND i.deleted_at IS NULL \
         AND (a.comment_id IS NULL OR EXISTS (SELECT 1 FROM comments c \
              WHERE c.team_id = a.team_id AND c.id = a.comment_id AND c.deleted_at IS NULL))",
    )
    .bind(team_id)
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// What the pipeline refused, for the team's Quarantine view (metadata only).
pub struct Refused<'a> {
    pub name: &'a str,
    pub size: u64,
    pub step: &'a str,
    pub reason: &'a str,
    pub signature: Option<&'a str>,
}

pub async fn record_rejection(db: &Db, actor: &Actor, refused: &Refused<'_>, now_ms: i64) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO upload_rejections (id, team_id, uploaded_by, name, size, step, reason, signature, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(super::NewRowKey)
    .bind(actor.team_id())
    .bind(actor.user_id())
    .bind(refused.name.chars().take(255).collect::<String>())
    .bind(i64::try_from(refused.size).unwrap_or(i64::MAX))
    .bind(refused.step)
    .bind(refused.reason.chars().take(500).collect::<String>())
    .bind(refused.signature)
    .bind(now_ms)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The team's refused uploads, newest first.
pub async fn quarantine(db: &Db, actor: &Actor, limit: i64) -> Result<Vec<RejectedUpload>, DbError> {
    Ok(sqlx::query_as(
        "SELECT r.at, u.display_name AS uploader, r.name, r.size, r.step, r.reason, r.signature \
         FROM upload_rejections r LEFT JOIN users u ON u.id = r.uploaded_by \
         WHERE r.team_id = $1 ORDER BY r.at DESC, r.id LIMIT $2",
    )
    .bind(actor.team_id())
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}
