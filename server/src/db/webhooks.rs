//! Webhooks (migration 0032): a project's hooks, and the deliveries of its events to them.
//!
//! The events are the `outbox` rows notifications use (written in the transaction of each change):
//! [`claim_events`] takes the rows no hook worker has handled (`hooks_done_at`), and [`fan_out`]
//! writes one delivery per hook that names the event, with the payload rendered by the hook's read
//! rule ([`HookReader`]), in one transaction with the mark that the row is handled. A delivery keeps
//! its payload and id for every attempt; [`claim_due`] hands out those that are due, never one of an
//! issue before an earlier one of the same issue to the same hook has been received or given up.

use app::model::{
    ActivityKind, AttachmentId, Flag, OutboxKind, ProjectId, TeamId, Webhook, WebhookDelivery, WebhookEvent, WebhookId,
};

use super::{Db, DbError, TeamScope};
use crate::actor::Actor;

/// A hook's signing secret, sealed with the master key (see `files::crypto::Keys::seal`).
pub struct SealedSecret {
    /// Base64 of the sealed bytes.
    pub secret: String,
    pub key_id: String,
    pub wrapped_key: String,
}

/// A hook to make, of a project the actor manages (the caller found the project through the actor).
pub struct NewHook<'a> {
    pub project: ProjectId,
    pub url: &'a str,
    pub events: &'a [WebhookEvent],
    pub internal: bool,
    pub secret: SealedSecret,
}

#[derive(sqlx::FromRow)]
struct HookRow {
    id: WebhookId,
    project_id: ProjectId,
    url: String,
    events: String,
    #[sqlx(try_from = "Flag")]
    internal: bool,
    created_at: i64,
    paused_reason: Option<String>,
}

impl From<HookRow> for Webhook {
    fn from(r: HookRow) -> Self {
        Webhook {
            id: r.id,
            project_id: r.project_id,
            url: r.url,
            events: events_of(&r.events),
            internal: r.internal,
            created_at: r.created_at,
            paused_reason: r.paused_reason,
        }
    }
}

fn events_of(stored: &str) -> Vec<WebhookEvent> {
    stored.split(',').filter_map(WebhookEvent::parse).collect()
}

const HOOK_COLUMNS: &str = "SELECT id, project_id, url, events, internal, created_at, paused_reason FROM webhooks";

pub async fn create(db: &Db, actor: &Actor, hook: NewHook<'_>, now_ms: i64) -> Result<Webhook, DbError> {
    let id = WebhookId(uuid::Uuid::new_v4());
    let events: Vec<&str> = hook.events.iter().map(|e| e.as_str()).collect();
    sqlx::query(
        "INSERT INTO webhooks (id, team_id, project_id, url, events, internal, secret, key_id, wrapped_key, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(actor.team_id())
    .bind(hook.project)
    .bind(hook.url)
    .bind(events.join(","))
    .bind(Flag(hook.internal))
    .bind(&hook.secret.secret)
    .bind(&hook.secret.key_id)
    .bind(&hook.secret.wrapped_key)
    .bind(actor.user_id())
    .bind(now_ms)
    .execute(db.pool())
    .await?;
    Ok(Webhook {
        id,
        project_id: hook.project,
        url: hook.url.to_owned(),
        events: hook.events.to_vec(),
        internal: hook.internal,
        created_at: now_ms,
        paused_reason: None,
    })
}

/// The most hooks one project may have: each event is one delivery per hook.
pub const MAX_PER_PROJECT: usize = 20;

/// The most hooks one team may have: the delivery worker's claim probes every live hook, so one
/// team's hooks are bounded as well as each project's.
pub const MAX_PER_TEAM: i64 = 100;

/// How many hooks the actor's team has.
pub async fn count_of_team(db: &Db, actor: &Actor) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM webhooks WHERE team_id = $1")
        .bind(actor.team_id())
        .fetch_one(db.pool())
        .await?)
}

/// The hooks of a project of the actor's team, oldest first.
pub async fn list(db: &Db, actor: &Actor, project: ProjectId) -> Result<Vec<Webhook>, DbError> {
    let rows: Vec<HookRow> =
        sqlx::query_as(&format!("{HOOK_COLUMNS} WHERE team_id = $1 AND project_id = $2 ORDER BY created_at, id"))
            .bind(actor.team_id())
            .bind(project)
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(Webhook::from).collect())
}

/// A hook of the actor's team.
pub async fn find(db: &Db, actor: &Actor, id: WebhookId) -> Result<Option<Webhook>, DbError> {
    let row: Option<HookRow> = sqlx::query_as(&format!("{HOOK_COLUMNS} WHERE team_id = $1 AND id = $2"))
        .bind(actor.team_id())
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(Webhook::from))
}

/// Deletes a hook of the actor's team with its deliveries; answers whether there was one.
pub async fn delete(db: &Db, actor: &Actor, id: WebhookId) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM webhooks WHERE team_id = $1 AND id = $2")
        .bind(actor.team_id())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The last 50 deliveries of a hook found through [`find`], newest first.
pub async fn deliveries(db: &Db, actor: &Actor, hook: &Webhook) -> Result<Vec<WebhookDelivery>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id AS message_id, event_type AS event, created_at, attempts, delivered_at, status_code, latency_ms, \
         last_error, next_attempt_at FROM webhook_deliveries WHERE team_id = $1 AND hook_id = $2 \
         ORDER BY created_at DESC, event_seq DESC LIMIT 50",
    )
    .bind(actor.team_id())
    .bind(hook.id)
    .fetch_all(db.pool())
    .await?)
}

/// The issue id a test event carries (it is of no issue).
const NO_ISSUE: &str = "00000000-0000-0000-0000-000000000000";

/// Queues a `webhook.test` delivery for a hook found through [`find`]. Test events count down from
/// -1, so that they never meet an outbox event's number.
pub async fn queue_test(db: &Db, actor: &Actor, hook: &Webhook, now_ms: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    let lowest: Option<i64> = sqlx::query_scalar("SELECT MIN(event_seq) FROM webhook_deliveries WHERE hook_id = $1")
        .bind(hook.id)
        .fetch_one(&mut *tx)
        .await?;
    let seq = lowest.unwrap_or(0).min(0) - 1;
    let id = uuid::Uuid::new_v4().to_string();
    let payload = serde_json::json!({
        "type": "webhook.test",
        "timestamp": time::OffsetDateTime::from_unix_timestamp(now_ms / 1000)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
        "data": { "webhook": { "id": hook.id, "project_id": hook.project_id } },
    });
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, team_id, hook_id, event_seq, event_type, issue_id, payload, created_at, \
         next_attempt_at) VALUES ($1, $2, $3, $4, 'webhook.test', $5, $6, $7, $7)",
    )
    .bind(id)
    .bind(actor.team_id())
    .bind(hook.id)
    .bind(seq)
    .bind(NO_ISSUE)
    .bind(payload.to_string())
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Makes a delivery of a hook found through [`find`] due now (received or given up before), and
/// resumes the hook; answers whether the delivery exists.
pub async fn redeliver(db: &Db, actor: &Actor, hook: &Webhook, message_id: &str, now_ms: i64) -> Result<bool, DbError> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE webhook_deliveries SET next_attempt_at = $4, delivered_at = NULL, claimed_until = NULL \
         WHERE team_id = $1 AND hook_id = $2 AND id = $3",
    )
    .bind(actor.team_id())
    .bind(hook.id)
    .bind(message_id)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE webhooks SET paused_at = NULL, paused_reason = NULL WHERE team_id = $1 AND id = $2")
        .bind(actor.team_id())
        .bind(hook.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(done.rows_affected() == 1)
}

/// An outbox row a hook worker holds for a while.
pub use super::outbox::Event;

impl Event {
    /// The webhook event this activity is.
    pub fn webhook_event(&self) -> WebhookEvent {
        match self.kind {
            OutboxKind::Activity(ActivityKind::Created) => WebhookEvent::IssueCreated,
            OutboxKind::Activity(ActivityKind::Changed) if self.fields.split(',').any(|f| f == "status") => {
                WebhookEvent::IssueStatusChanged
            }
            OutboxKind::Activity(ActivityKind::Changed) => WebhookEvent::IssueUpdated,
            OutboxKind::Activity(ActivityKind::Commented) => WebhookEvent::CommentCreated,
            OutboxKind::Deleted => WebhookEvent::IssueDeleted,
            OutboxKind::CommentEdited => WebhookEvent::CommentUpdated,
            OutboxKind::CommentDeleted => WebhookEvent::CommentDeleted,
            OutboxKind::AttachmentAdded => WebhookEvent::AttachmentCreated,
        }
    }
}

/// Claims up to `limit` outbox rows no hook worker has handled or holds, until `until_ms`; each
/// event's `attempts` is then the hook worker's tries of it, this one included.
pub async fn claim_events(db: &Db, now_ms: i64, until_ms: i64, limit: i64) -> Result<Vec<Event>, DbError> {
    Ok(sqlx::query_as(
        "UPDATE outbox SET hooks_claimed_until = $1, hooks_attempts = hooks_attempts + 1 WHERE seq IN ( \
         SELECT seq FROM outbox WHERE hooks_done_at IS NULL \
         AND (hooks_claimed_until IS NULL OR hooks_claimed_until < $2) ORDER BY seq LIMIT $3) \
         AND hooks_done_at IS NULL AND (hooks_claimed_until IS NULL OR hooks_claimed_until < $2) \
         RETURNING seq, team_id, issue_id, actor_id, kind, comment_id, attachment_id, fields, created_at, \
         hooks_attempts AS attempts",
    )
    .bind(until_ms)
    .bind(now_ms)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Leaves an event that could not be fanned out to be claimed again at `retry_at_ms`.
pub async fn retry_event_at(db: &Db, seq: i64, retry_at_ms: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE outbox SET hooks_claimed_until = $2 WHERE seq = $1 AND hooks_done_at IS NULL")
        .bind(seq)
        .bind(retry_at_ms)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Marks an event handled without writing its deliveries (it failed too often).
pub async fn set_aside(db: &Db, seq: i64, now_ms: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE outbox SET hooks_done_at = $2 WHERE seq = $1")
        .bind(seq)
        .bind(now_ms)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// A hook that hears of an event, as the worker needs it.
#[derive(sqlx::FromRow)]
pub struct Listener {
    pub id: WebhookId,
    pub team_id: TeamId,
    pub project_id: ProjectId,
    pub events: String,
    #[sqlx(try_from = "Flag")]
    pub internal: bool,
}

impl TeamScope for Listener {
    fn team_id(&self) -> TeamId {
        self.team_id
    }
}

/// The live hooks of the event's issue's project that name the event.
pub async fn listeners(db: &Db, event: &Event) -> Result<Vec<Listener>, DbError> {
    let hooks: Vec<Listener> = sqlx::query_as(
        "SELECT w.id, w.team_id, w.project_id, w.events, w.internal FROM webhooks w \
         JOIN issues i ON i.team_id = w.team_id AND i.project_id = w.project_id \
         WHERE w.team_id = $1 AND i.id = $2 AND w.paused_at IS NULL",
    )
    .bind(event.team_id)
    .bind(event.issue_id)
    .fetch_all(db.pool())
    .await?;
    let wanted = event.webhook_event();
    Ok(hooks.into_iter().filter(|h| events_of(&h.events).contains(&wanted)).collect())
}

/// Writes the deliveries of an event (a hook and its payload each; one per hook and event whoever
/// writes it) and marks the event handled, in one transaction.
pub async fn fan_out(db: &Db, event: &Event, deliveries: &[(WebhookId, String)], now_ms: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    for (hook, payload) in deliveries {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, team_id, hook_id, event_seq, event_type, issue_id, payload, \
             created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT (hook_id, event_seq) DO NOTHING",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(event.team_id)
        .bind(*hook)
        .bind(event.seq)
        .bind(event.webhook_event().as_str())
        .bind(event.issue_id)
        .bind(payload)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("UPDATE outbox SET hooks_done_at = $2 WHERE seq = $1")
        .bind(event.seq)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A delivery a worker holds, with what sending it needs.
#[derive(sqlx::FromRow)]
pub struct Due {
    pub id: String,
    pub hook_id: WebhookId,
    pub team_id: TeamId,
    pub payload: String,
    pub created_at: i64,
    pub attempts: i64,
    pub url: String,
    pub secret: String,
    pub key_id: String,
    pub wrapped_key: String,
}

/// Deliveries of one hook in flight at once, across every instance (a hook's claims not yet run out).
pub const PER_HOOK: i64 = 2;

/// Claims up to `limit` due deliveries of live hooks until `until_ms`: for each hook with fewer than
/// [`PER_HOOK`] in flight, its earliest due delivery that no earlier one of the same issue is still
/// waiting for (so that an issue's events arrive in order), the hooks whose delivery has waited
/// longest first. One per hook per claim keeps hooks taking turns; each is an index probe, so the
/// cost grows with the hooks, not with the deliveries waiting.
pub async fn claim_due(db: &Db, now_ms: i64, until_ms: i64, limit: i64) -> Result<Vec<Due>, DbError> {
    let claimed: Vec<(String,)> = sqlx::query_as(
        "UPDATE webhook_deliveries SET claimed_until = $1, attempts = attempts + 1 WHERE id IN ( \
         SELECT f.first_due FROM (SELECT (SELECT d.id FROM webhook_deliveries d WHERE d.hook_id = w.id \
         AND d.next_attempt_at <= $2 AND (d.claimed_until IS NULL OR d.claimed_until < $2) \
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.hook_id = d.hook_id \
         AND e.issue_id = d.issue_id AND e.event_seq < d.event_seq AND e.next_attempt_at IS NOT NULL) \
         ORDER BY d.next_attempt_at, d.event_seq LIMIT 1) AS first_due FROM webhooks w \
         WHERE w.paused_at IS NULL AND (SELECT COUNT(*) FROM webhook_deliveries b \
         WHERE b.hook_id = w.id AND b.claimed_until >= $2) < $4) f \
         JOIN webhook_deliveries o ON o.id = f.first_due ORDER BY o.next_attempt_at, o.event_seq LIMIT $3) \
         AND (claimed_until IS NULL OR claimed_until < $2) RETURNING id",
    )
    .bind(until_ms)
    .bind(now_ms)
    .bind(limit)
    .bind(PER_HOOK)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(claimed.len());
    for (id,) in claimed {
        let due: Option<Due> = sqlx::query_as(
            "SELECT d.id, d.hook_id, d.team_id, d.payload, d.created_at, d.attempts, w.url, w.secret, w.key_id, \
             w.wrapped_key FROM webhook_deliveries d JOIN webhooks w ON w.team_id = d.team_id AND w.id = d.hook_id \
             WHERE d.id = $1",
        )
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
        out.extend(due);
    }
    Ok(out)
}

/// How an attempt went.
pub struct Attempt {
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    /// Why it failed, in words a hook's owner may read (never a response body).
    pub error: Option<String>,
}

/// Records an attempt: received (a 2xx answer), due again at `retry_at`, or (with neither) given
/// up, which pauses the hook with `error` as the reason.
pub async fn record_attempt(
    db: &Db,
    due: &Due,
    attempt: &Attempt,
    retry_at: Option<i64>,
    now_ms: i64,
) -> Result<(), DbError> {
    let received = attempt.error.is_none();
    sqlx::query(
        "UPDATE webhook_deliveries SET claimed_until = NULL, status_code = $2, latency_ms = $3, last_error = $4, \
         delivered_at = $5, next_attempt_at = $6 WHERE id = $1",
    )
    .bind(&due.id)
    .bind(attempt.status_code)
    .bind(attempt.latency_ms)
    .bind(attempt.error.as_deref())
    .bind(received.then_some(now_ms))
    .bind(if received { None } else { retry_at })
    .execute(db.pool())
    .await?;
    if !received && retry_at.is_none() {
        let reason = format!("Deliveries failed for a day; the last: {}", attempt.error.as_deref().unwrap_or(""));
        sqlx::query("UPDATE webhooks SET paused_at = $3, paused_reason = $4 WHERE team_id = $1 AND id = $2")
            .bind(due.team_id)
            .bind(due.hook_id)
            .bind(now_ms)
            .bind(reason.chars().take(300).collect::<String>())
            .execute(db.pool())
            .await?;
    }
    Ok(())
}

/// What a hook may read of the event's issue and comment: everything when it is internal, else only
/// what a guest of the project could (a public issue of a public project, a public comment).
#[derive(sqlx::FromRow)]
pub struct IssueFacts {
    pub project_key: String,
    pub number: i64,
    pub title: String,
    pub description: String,
    pub visibility: String,
    pub status: String,
    pub severity: String,
    pub priority: String,
    pub actor: Option<String>,
}

/// The event's issue as `hook` may read it now, or `None` (not for this hook). A deleted issue is
/// read too: its events, the deletion's included, are still delivered.
pub async fn issue_for(db: &Db, hook: &Listener, event: &Event) -> Result<Option<IssueFacts>, DbError> {
    Ok(sqlx::query_as(
        "SELECT p.key AS project_key, i.number, i.title, i.description, i.visibility, s.name AS status, \
         i.severity, i.priority, (SELECT u.display_name FROM users u WHERE u.id = $4) AS actor \
         FROM issues i JOIN projects p ON p.team_id = i.team_id AND p.id = i.project_id \
         JOIN project_statuses s ON s.project_id = i.project_id AND s.id = i.status_id \
         WHERE i.team_id = $1 AND i.id = $2 AND i.project_id = $3 \
         AND ($5 = 1 OR (p.visibility = 'public' AND i.visibility = 'public'))",
    )
    .bind(hook.team_id)
    .bind(event.issue_id)
    .bind(hook.project_id)
    .bind(event.actor_id)
    .bind(Flag(hook.internal))
    .fetch_optional(db.pool())
    .await?)
}

/// The event's comment as `hook` may read it now (its visibility, and its body unless it has been
/// deleted since: a deleted comment is shown to no one), or `None`.
pub async fn comment_for(db: &Db, hook: &Listener, event: &Event) -> Result<Option<(Option<String>, String)>, DbError> {
    let Some(comment) = event.comment_id else { return Ok(None) };
    Ok(sqlx::query_as(
        "SELECT CASE WHEN deleted_at IS NULL THEN body END, visibility FROM comments \
         WHERE team_id = $1 AND issue_id = $2 AND id = $3 AND ($4 = 1 OR visibility = 'public')",
    )
    .bind(hook.team_id)
    .bind(event.issue_id)
    .bind(comment)
    .bind(Flag(hook.internal))
    .fetch_optional(db.pool())
    .await?)
}

/// A file as a hook reads of it: its name, type and size unless it has been deleted since.
#[derive(sqlx::FromRow)]
pub struct FileFacts {
    pub name: Option<String>,
    pub content_type: Option<String>,
    pub size: Option<i64>,
}

/// The event's file as `hook` may read it now, or `None` (on a comment the hook may not read).
pub async fn attachment_for(db: &Db, hook: &Listener, event: &Event) -> Result<Option<FileFacts>, DbError> {
    let Some(attachment): Option<AttachmentId> = event.attachment_id else { return Ok(None) };
    Ok(sqlx::query_as(
        "SELECT CASE WHEN a.deleted_at IS NULL THEN a.name END AS name, \
         CASE WHEN a.deleted_at IS NULL THEN a.content_type END AS content_type, \
         CASE WHEN a.deleted_at IS NULL THEN a.size END AS size FROM attachments a \
         LEFT JOIN comments c ON c.team_id = a.team_id AND c.id = a.comment_id \
         WHERE a.team_id = $1 AND a.issue_id = $2 AND a.id = $3 \
         AND ($4 = 1 OR a.comment_id IS NULL OR c.visibility = 'public')",
    )
    .bind(hook.team_id)
    .bind(event.issue_id)
    .bind(attachment)
    .bind(Flag(hook.internal))
    .fetch_optional(db.pool())
    .await?)
}
