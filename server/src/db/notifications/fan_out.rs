//! Delivering an outbox event: who hears of it, each checked with their own read scope as their
//! membership is now, written as inbox entries and pending mail in one transaction with the mark
//! that the event is delivered. A redelivered event (a worker stopped half-way, or two instances)
//! writes nothing twice: an entry is unique per recipient and event.

use std::collections::{BTreeMap, BTreeSet};

use app::model::{ActivityKind, NotificationReason, ProjectId, Role, UserId};

use super::{mentions, settings};
use crate::db::{
    issues::{self},
    scope::ReadScope,
    Db, DbError,
};

/// An event a worker holds for a while (`claimed_until`).
pub use crate::db::outbox::Event;

/// After this many tries an event is set aside (marked delivered, logged).
pub const MAX_ATTEMPTS: i64 = 5;

/// Claims up to `limit` undelivered events that no worker holds, until `until_ms`. The claim is a
/// compare-and-set on the row, so two instances never hold the same event at once.
pub async fn claim(db: &Db, now_ms: i64, until_ms: i64, limit: i64) -> Result<Vec<Event>, DbError> {
    Ok(sqlx::query_as(
        "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 WHERE seq IN (SELECT seq FROM outbox \
         WHERE delivered_at IS NULL AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY seq LIMIT $3) \
         AND delivered_at IS NULL AND (claimed_until IS NULL OR claimed_until < $2) \
         RETURNING seq, team_id, issue_id, actor_id, kind, comment_id, attachment_id, fields, created_at, attempts",
    )
    .bind(until_ms)
    .bind(now_ms)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

/// Marks an event delivered without delivering it (its issue is gone, or it failed too often).
pub async fn set_aside(db: &Db, seq: i64, now_ms: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE outbox SET delivered_at = $2 WHERE seq = $1").bind(seq).bind(now_ms).execute(db.pool()).await?;
    Ok(())
}

/// Who may hear of an event, and why, before each one's read rules are applied.
struct Audience {
    reasons: BTreeMap<UserId, NotificationReason>,
    /// Those who start watching the issue now (reporter, commenter, assignees, mentioned).
    new_watchers: BTreeSet<UserId>,
}

#[derive(sqlx::FromRow)]
struct IssueFacts {
    project_id: ProjectId,
    reporter_id: UserId,
    description: String,
}

/// Delivers one event; answers who got a new inbox entry.
pub async fn deliver(db: &Db, event: &Event, now_ms: i64, mail_delay_ms: i64) -> Result<Vec<UserId>, DbError> {
    let facts: Option<IssueFacts> = sqlx::query_as(
        "SELECT project_id, reporter_id, description FROM issues WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(event.team_id)
    .bind(event.issue_id)
    .fetch_optional(db.pool())
    .await?;
    // Events only hooks hear of are written delivered; one that is not is set aside too.
    let (Some(facts), Some(_)) = (facts, event.kind.notifies()) else {
        set_aside(db, event.seq, now_ms).await?;
        return Ok(Vec::new());
    };
    let members: Vec<(UserId, String, Role)> = sqlx::query_as(
        "SELECT m.user_id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.team_id = $1",
    )
    .bind(event.team_id)
    .fetch_all(db.pool())
    .await?;
    let audience = audience(db, event, &facts, &members).await?;
    let roles: BTreeMap<UserId, Role> = members.iter().map(|(id, _, role)| (*id, *role)).collect();
    let mut deliveries = Vec::new();
    let mut watchers = Vec::new();
    for (user, reason) in &audience.reasons {
        // Not a member now: nothing (the membership is read at this moment, not when the event happened).
        let Some(role) = roles.get(user) else { continue };
        let scope = ReadScope::recipient(event.team_id, *user, *role);
        let Some(issue) = issues::find_in_scope(db, scope, event.issue_id).await? else { continue };
        if audience.new_watchers.contains(user) {
            watchers.push(*user);
        }
        if *user == event.actor_id {
            continue;
        }
        if let Some(comment) = event.comment_id {
            if issues::readable_comment(db, &issue, comment).await?.is_none() {
                continue;
            }
        }
        let wants = settings(db, *user).await?;
        if wants.level.admits(*reason) {
            deliveries.push((*user, *reason, wants.email && wants.email_verified));
        }
    }
    write(db, event, &watchers, &deliveries, now_ms, mail_delay_ms).await
}

/// Gathers who may hear of an event: watchers, the project's watchers (of a new issue), assignees
/// and the members mentioned, each with the strongest reason.
async fn audience(
    db: &Db,
    event: &Event,
    facts: &IssueFacts,
    members: &[(UserId, String, Role)],
) -> Result<Audience, DbError> {
    let (team, issue) = (event.team_id, event.issue_id);
    let watch_rows: Vec<(UserId, i64)> =
        sqlx::query_as("SELECT user_id, watching FROM issue_watchers WHERE team_id = $1 AND issue_id = $2")
            .bind(team)
            .bind(issue)
            .fetch_all(db.pool())
            .await?;
    let assignees: Vec<UserId> =
        sqlx::query_scalar("SELECT user_id FROM issue_assignees WHERE team_id = $1 AND issue_id = $2")
            .bind(team)
            .bind(issue)
            .fetch_all(db.pool())
            .await?;
    let addresses: Vec<(UserId, String)> = members.iter().map(|(id, email, _)| (*id, email.clone())).collect();
    let mentioned = mentions::resolve(&mentioned_names(db, event, facts).await?, &addresses);

    let mut reasons = BTreeMap::new();
    let mut add = |user: UserId, reason: NotificationReason| {
        let entry = reasons.entry(user).or_insert(reason);
        *entry = (*entry).max(reason);
    };
    for (user, watching) in &watch_rows {
        if *watching == 1 {
            add(*user, NotificationReason::Watching);
        }
    }
    if event.kind.notifies() == Some(ActivityKind::Created) {
        let project_watchers: Vec<UserId> =
            sqlx::query_scalar("SELECT user_id FROM project_watchers WHERE team_id = $1 AND project_id = $2")
                .bind(team)
                .bind(facts.project_id)
                .fetch_all(db.pool())
                .await?;
        for user in project_watchers {
            add(user, NotificationReason::Watching);
        }
    }
    for user in &assignees {
        add(*user, NotificationReason::Assigned);
    }
    for user in &mentioned {
        add(*user, NotificationReason::Mentioned);
    }
    add(event.actor_id, NotificationReason::Watching);

    let known: BTreeSet<UserId> = watch_rows.iter().map(|(user, _)| *user).collect();
    let mut automatic: BTreeSet<UserId> = assignees.into_iter().chain(mentioned).collect();
    if matches!(event.kind.notifies(), Some(ActivityKind::Created | ActivityKind::Commented)) {
        automatic.insert(event.actor_id);
    }
    if event.kind.notifies() == Some(ActivityKind::Created) {
        automatic.insert(facts.reporter_id);
    }
    // An explicit unwatch (a row with `watching = 0`) stays.
    let new_watchers = automatic.difference(&known).copied().collect();
    Ok(Audience { reasons, new_watchers })
}

/// The names the event's text mentions: a new issue's description, a comment, or the mentions a
/// change added to the description.
async fn mentioned_names(db: &Db, event: &Event, facts: &IssueFacts) -> Result<BTreeSet<String>, DbError> {
    match (event.kind.notifies(), event.comment_id) {
        (Some(ActivityKind::Created), _) => Ok(mentions::names(&facts.description)),
        (Some(ActivityKind::Commented), Some(comment)) => {
            let body: Option<String> = sqlx::query_scalar("SELECT body FROM comments WHERE team_id = $1 AND id = $2")
                .bind(event.team_id)
                .bind(comment)
                .fetch_optional(db.pool())
                .await?;
            Ok(body.map(|body| mentions::names(&body)).unwrap_or_default())
        }
        (Some(ActivityKind::Changed), _) if event.fields.split(',').any(|f| f == "description") => {
            let change: Option<(String, String)> = sqlx::query_as(
                "SELECT old_value, new_value FROM issue_history WHERE team_id = $1 AND issue_id = $2 \
                 AND field = 'description' AND at = $3 AND actor_id = $4",
            )
            .bind(event.team_id)
            .bind(event.issue_id)
            .bind(event.created_at)
            .bind(event.actor_id)
            .fetch_optional(db.pool())
            .await?;
            Ok(change
                .map(|(old, new)| mentions::names(&new).difference(&mentions::names(&old)).cloned().collect())
                .unwrap_or_default())
        }
        _ => Ok(BTreeSet::new()),
    }
}

/// Writes the new watchers, the inbox entries and the pending mail, and marks the event delivered.
async fn write(
    db: &Db,
    event: &Event,
    watchers: &[UserId],
    deliveries: &[(UserId, NotificationReason, bool)],
    now_ms: i64,
    mail_delay_ms: i64,
) -> Result<Vec<UserId>, DbError> {
    let (team, issue) = (event.team_id, event.issue_id);
    let mut tx = db.begin_write().await?;
    for user in watchers {
        sqlx::query(
            "INSERT INTO issue_watchers (team_id, issue_id, user_id, watching, created_at) VALUES ($1, $2, $3, 1, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(team)
        .bind(issue)
        .bind(user)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    }
    let mut notified = Vec::new();
    for (user, reason, mail) in deliveries {
        let done = sqlx::query(
            "INSERT INTO notifications (team_id, user_id, event_seq, issue_id, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(team)
        .bind(user)
        .bind(event.seq)
        .bind(issue)
        .bind(reason)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            notified.push(*user);
        }
        if *mail {
            // A pending batch keeps its time: a burst of events is one mail.
            sqlx::query(
                "INSERT INTO mail_batches (team_id, user_id, issue_id, due_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(team)
            .bind(user)
            .bind(issue)
            .bind(now_ms + mail_delay_ms)
            .execute(&mut *tx)
            .await?;
        }
    }
    sqlx::query("UPDATE outbox SET delivered_at = $2 WHERE seq = $1")
        .bind(event.seq)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(notified)
}
