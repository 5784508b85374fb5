//! Pending email: one batch per recipient and issue. A batch is claimed for a while (so that two
//! instances do not both send it), rendered for its recipient as they are at that moment, and
//! removed once sent.

use app::model::{ActivityKind, CommentId, IssueId, TeamId, UserId};

use super::{recipient_scope, settings};
use crate::db::{issues, Db, DbError};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Batch {
    pub team_id: TeamId,
    pub user_id: UserId,
    pub issue_id: IssueId,
    pub due_at: i64,
}

/// Claims due batches until `until_ms`: each is a compare-and-set on its time, so it has one sender.
pub async fn claim_due(db: &Db, now_ms: i64, until_ms: i64, limit: i64) -> Result<Vec<Batch>, DbError> {
    let due: Vec<Batch> = sqlx::query_as(
        "SELECT team_id, user_id, issue_id, due_at FROM mail_batches WHERE due_at <= $1 ORDER BY due_at LIMIT $2",
    )
    .bind(now_ms)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut claimed = Vec::new();
    for batch in due {
        let done = sqlx::query(
            "UPDATE mail_batches SET due_at = $5 WHERE team_id = $1 AND user_id = $2 AND issue_id = $3 AND due_at = $4",
        )
        .bind(batch.team_id)
        .bind(batch.user_id)
        .bind(batch.issue_id)
        .bind(batch.due_at)
        .bind(until_ms)
        .execute(db.pool())
        .await?;
        if done.rows_affected() == 1 {
            claimed.push(Batch { due_at: until_ms, ..batch });
        }
    }
    Ok(claimed)
}

/// One activity in a mail, as its recipient may read it.
pub struct MailItem {
    pub kind: ActivityKind,
    pub actor: String,
    pub fields: Vec<String>,
    /// The comment's text (a comment the recipient reads).
    pub comment: Option<String>,
    pub at: i64,
}

/// What a batch's mail says, rendered for its recipient now.
pub struct MailContent {
    pub to: String,
    pub user_id: UserId,
    pub team: String,
    pub issue_id: IssueId,
    pub issue_key: String,
    /// The issue page's path (`/projects/WEB/issues/7`).
    pub issue_path: String,
    pub issue_title: String,
    pub items: Vec<MailItem>,
    /// The entries it covers, to mark emailed once sent.
    pub entries: Vec<i64>,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    kind: ActivityKind,
    actor: Option<String>,
    fields: String,
    comment_id: Option<CommentId>,
    created_at: i64,
}

/// The mail of a batch for its recipient as they are now, or `None` when nothing of it may be sent:
/// no longer a member, no verified address, email off, the issue out of their reach, or no entry
/// they may read. Entries they may no longer read are marked so that no later mail carries them.
pub async fn render(db: &Db, batch: &Batch, now_ms: i64) -> Result<Option<MailContent>, DbError> {
    let pending: Vec<EntryRow> = sqlx::query_as(
        "SELECT n.id, o.kind, ua.display_name AS actor, o.fields, o.comment_id, n.created_at FROM notifications n \
         JOIN outbox o ON o.seq = n.event_seq LEFT JOIN users ua ON ua.id = o.actor_id \
         WHERE n.team_id = $1 AND n.user_id = $2 AND n.issue_id = $3 AND n.emailed_at IS NULL ORDER BY n.id LIMIT 50",
    )
    .bind(batch.team_id)
    .bind(batch.user_id)
    .bind(batch.issue_id)
    .fetch_all(db.pool())
    .await?;
    let all: Vec<i64> = pending.iter().map(|row| row.id).collect();
    let wants = settings(db, batch.user_id).await?;
    let scope = recipient_scope(db, batch.team_id, batch.user_id).await?;
    let issue = match scope {
        Some(scope) if wants.email && wants.email_verified => issues::find_in_scope(db, scope, batch.issue_id).await?,
        _ => None,
    };
    let Some(issue) = issue else {
        mark_emailed(db, &all, now_ms).await?;
        return Ok(None);
    };
    let mut items = Vec::new();
    let mut entries = Vec::new();
    for row in pending {
        let comment = match row.comment_id {
            Some(id) => match issues::readable_comment(db, &issue, id).await? {
                Some(comment) => Some(comment.body),
                None => continue,
            },
            None => None,
        };
        entries.push(row.id);
        let fields = row.fields.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect();
        items.push(MailItem {
            kind: row.kind,
            actor: row.actor.unwrap_or_default(),
            fields,
            comment,
            at: row.created_at,
        });
    }
    let unread: Vec<i64> = all.iter().copied().filter(|id| !entries.contains(id)).collect();
    mark_emailed(db, &unread, now_ms).await?;
    if items.is_empty() {
        return Ok(None);
    }
    let (to, team): (String, String) =
        sqlx::query_as("SELECT u.email, t.name FROM users u JOIN teams t ON t.id = $2 WHERE u.id = $1")
            .bind(batch.user_id)
            .bind(batch.team_id)
            .fetch_one(db.pool())
            .await?;
    Ok(Some(MailContent {
        to,
        user_id: batch.user_id,
        team,
        issue_id: issue.id,
        issue_key: format!("{}-{}", issue.key, issue.number),
        issue_path: format!("/projects/{}/issues/{}", issue.key, issue.number),
        issue_title: issue.fields.title.clone(),
        items,
        entries,
    }))
}

/// Marks entries as mailed (or as never to be mailed).
pub async fn mark_emailed(db: &Db, entries: &[i64], now_ms: i64) -> Result<(), DbError> {
    for chunk in entries.chunks(100) {
        let mut s = crate::db::scope::Statement::new("UPDATE notifications SET emailed_at = ");
        s.bind(now_ms).push(" WHERE emailed_at IS NULL AND id IN (").bind_list(chunk.iter().copied()).push(")");
        s.query().execute(db.pool()).await?;
    }
    Ok(())
}

/// Ends a claimed batch: removes it, and queues a new one (due at `next_due_ms`) if entries came in
/// while it was being sent or it failed and is to be tried again.
pub async fn finish(db: &Db, batch: &Batch, next_due_ms: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM mail_batches WHERE team_id = $1 AND user_id = $2 AND issue_id = $3 AND due_at = $4")
        .bind(batch.team_id)
        .bind(batch.user_id)
        .bind(batch.issue_id)
        .bind(batch.due_at)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO mail_batches (team_id, user_id, issue_id, due_at) SELECT $1, $2, $3, $4 \
         WHERE EXISTS (SELECT 1 FROM notifications WHERE team_id = $1 AND user_id = $2 AND issue_id = $3 \
         AND emailed_at IS NULL) ON CONFLICT DO NOTHING",
    )
    .bind(batch.team_id)
    .bind(batch.user_id)
    .bind(batch.issue_id)
    .bind(next_due_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
