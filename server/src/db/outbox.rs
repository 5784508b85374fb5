//! The outbox (migration 0031): each change to an issue that people hear about writes one row here,
//! in the transaction of the change, and nothing more on the request path. `notifications` delivers
//! the rows.

use app::model::{AttachmentId, CommentId, IssueId, OutboxKind, TeamId, UserId};
use sqlx::AnyConnection;

use super::DbError;

/// Something that happened to an issue, as the outbox keeps it: ids and field names, never text.
pub(in crate::db) struct Activity {
    pub team: TeamId,
    pub issue: IssueId,
    pub actor: UserId,
    pub kind: OutboxKind,
    pub comment: Option<CommentId>,
    /// The file of an `AttachmentAdded`.
    pub attachment: Option<AttachmentId>,
    /// The fields a change touched.
    pub fields: Vec<&'static str>,
}

impl Activity {
    /// An activity of `kind` on an issue, of no comment, file or field.
    pub fn new(team: TeamId, issue: IssueId, actor: UserId, kind: OutboxKind) -> Self {
        Activity { team, issue, actor, kind, comment: None, attachment: None, fields: Vec::new() }
    }
}

/// An outbox row as its workers read it (notifications and webhooks each claim it on their own).
#[derive(Debug, sqlx::FromRow)]
pub struct Event {
    pub seq: i64,
    pub team_id: TeamId,
    pub issue_id: IssueId,
    pub actor_id: UserId,
    pub kind: OutboxKind,
    pub comment_id: Option<CommentId>,
    pub attachment_id: Option<AttachmentId>,
    pub fields: String,
    pub created_at: i64,
    /// How often the worker that claimed it (notifications or hooks) has tried it, this time included.
    pub attempts: i64,
}

/// Writes an activity to the outbox, inside the transaction of the change it reports. One that no
/// one is notified of is written delivered, so that only the hook worker reads it.
pub(in crate::db) async fn record(conn: &mut AnyConnection, activity: &Activity, now_ms: i64) -> Result<(), DbError> {
    let delivered_at = activity.kind.notifies().is_none().then_some(now_ms);
    sqlx::query(
        "INSERT INTO outbox (team_id, issue_id, actor_id, kind, comment_id, attachment_id, fields, created_at, \
         delivered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(activity.team)
    .bind(activity.issue)
    .bind(activity.actor)
    .bind(activity.kind)
    .bind(activity.comment)
    .bind(activity.attachment)
    .bind(activity.fields.join(","))
    .bind(now_ms)
    .bind(delivered_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
