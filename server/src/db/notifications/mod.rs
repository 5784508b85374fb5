//! Notifications (migration 0031). A change to an issue writes one `outbox` row in its own
//! transaction ([`record`]); nothing else happens on the request path. A worker fans each event out
//! ([`fan_out`]) into inbox entries and pending mail, and sends due mail ([`mail`]). Every step that
//! shows something to a recipient reads it through the recipient's [`ReadScope`], made from their
//! membership as it is at that moment: a removed member reads nothing, a guest no internal text.
//!
//! Here: recording, watching, settings and the inbox; in `fan_out` the delivery of events; in `mail`
//! the batches of email; in `mentions` how `@name` in text finds a member.

pub mod fan_out;
pub mod mail;
mod mentions;

pub use mentions::{candidates as mention_candidates, people_mentioned};

use app::model::{
    ActivityKind, Inbox, IssueId, NotificationLevel, NotificationPreferences, NotificationReason, ProjectId, Role,
    TeamId, UserId, INBOX_PAGE,
};

use super::{
    issues::{self, StoredIssue, Visible},
    scope::{ReadScope, Statement},
    Db, DbError, TeamScope,
};
use crate::actor::Actor;

/// The scope of `user` in `team` as their membership is now; `None` if they are not a member.
pub(in crate::db) async fn recipient_scope(db: &Db, team: TeamId, user: UserId) -> Result<Option<ReadScope>, DbError> {
    let role: Option<Role> = sqlx::query_scalar("SELECT role FROM memberships WHERE team_id = $1 AND user_id = $2")
        .bind(team)
        .bind(user)
        .fetch_optional(db.pool())
        .await?;
    Ok(role.map(|role| ReadScope::recipient(team, user, role)))
}

/// Watches (or, with `watching` false, unwatches) a visible issue. An explicit unwatch is kept, so
/// that being assigned or mentioned later does not undo it.
pub async fn watch_issue(
    db: &Db,
    actor: &Actor,
    issue: &Visible<StoredIssue>,
    watching: bool,
    now_ms: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO issue_watchers (team_id, issue_id, user_id, watching, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (team_id, issue_id, user_id) DO UPDATE SET watching = excluded.watching",
    )
    .bind(issue.team_id())
    .bind(issue.id)
    .bind(actor.user_id())
    .bind(i64::from(watching))
    .bind(now_ms)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Whether the actor watches a visible issue.
pub async fn is_watching(db: &Db, actor: &Actor, issue: &Visible<StoredIssue>) -> Result<bool, DbError> {
    let watching: Option<i64> =
        sqlx::query_scalar("SELECT watching FROM issue_watchers WHERE team_id = $1 AND issue_id = $2 AND user_id = $3")
            .bind(issue.team_id())
            .bind(issue.id)
            .bind(actor.user_id())
            .fetch_optional(db.pool())
            .await?;
    Ok(watching == Some(1))
}

/// Whether the actor watches a project they read (the caller found it through their scope).
pub async fn is_watching_project(db: &Db, actor: &Actor, project: ProjectId) -> Result<bool, DbError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM project_watchers WHERE team_id = $1 AND project_id = $2 AND user_id = $3")
            .bind(actor.team_id())
            .bind(project)
            .bind(actor.user_id())
            .fetch_optional(db.pool())
            .await?;
    Ok(found.is_some())
}

/// Watches or unwatches a project the actor reads (the caller found it through their scope).
pub async fn watch_project(
    db: &Db,
    actor: &Actor,
    project: ProjectId,
    watching: bool,
    now_ms: i64,
) -> Result<(), DbError> {
    let statement = if watching {
        "INSERT INTO project_watchers (team_id, project_id, user_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM project_watchers WHERE team_id = $1 AND project_id = $2 AND user_id = $3 AND $4 >= 0"
    };
    sqlx::query(statement)
        .bind(actor.team_id())
        .bind(project)
        .bind(actor.user_id())
        .bind(now_ms)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Marks `address` of `user` proven (a link mailed there was opened); false if it is not their
/// address (any more).
pub async fn prove_address(db: &Db, user: UserId, address: &str, now_ms: i64) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $3) WHERE id = $1 AND lower(email) = $2",
    )
    .bind(user)
    .bind(address)
    .bind(now_ms)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A person's settings (the defaults if they never saved any).
pub async fn settings(db: &Db, user: UserId) -> Result<NotificationPreferences, DbError> {
    let row: Option<(NotificationLevel, i64, Option<i64>)> = sqlx::query_as(
        "SELECT COALESCE(s.level, 'all'), COALESCE(s.email, 1), u.email_verified_at FROM users u \
         LEFT JOIN notification_settings s ON s.user_id = u.id WHERE u.id = $1",
    )
    .bind(user)
    .fetch_optional(db.pool())
    .await?;
    let (level, email, verified) = row.unwrap_or((NotificationLevel::All, 1, None));
    Ok(NotificationPreferences { level, email: email == 1, email_verified: verified.is_some() })
}

pub async fn save_settings(
    db: &Db,
    user: UserId,
    settings: &NotificationPreferences,
    now_ms: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO notification_settings (user_id, level, email, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET level = excluded.level, email = excluded.email, \
         updated_at = excluded.updated_at",
    )
    .bind(user)
    .bind(settings.level)
    .bind(i64::from(settings.email))
    .bind(now_ms)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Turns email off for a person (a one-click unsubscribe).
pub async fn unsubscribe(db: &Db, user: UserId, now_ms: i64) -> Result<(), DbError> {
    let mut current = settings(db, user).await?;
    current.email = false;
    save_settings(db, user, &current, now_ms).await
}

/// The entries of `user` in `team` that their scope reads now: the issue, and the comment of a
/// comment's entry. The caller appends its conditions and order.
fn readable_entries(columns: &'static str, scope: &ReadScope, user: UserId) -> Statement {
    let mut s = issues::readable_from(
        columns,
        " FROM notifications n JOIN issues i ON i.team_id = n.team_id AND i.id = n.issue_id \
          JOIN outbox o ON o.seq = n.event_seq LEFT JOIN users ua ON ua.id = o.actor_id",
        scope,
    );
    s.push(" AND n.team_id = ").bind(scope.team()).push(" AND n.user_id = ").bind(user);
    s.push(" AND (o.comment_id IS NULL OR EXISTS (SELECT 1 FROM comments c WHERE c.id = o.comment_id AND ");
    scope.comments(&mut s);
    s.push("))");
    s
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    issue_id: IssueId,
    key: String,
    number: i64,
    title: String,
    actor: Option<String>,
    kind: ActivityKind,
    fields: String,
    reason: NotificationReason,
    created_at: i64,
    read_at: Option<i64>,
}

/// A page of the actor's inbox, newest first, read with their scope now.
pub async fn inbox(db: &Db, actor: &Actor, before: Option<i64>, unread_only: bool) -> Result<Inbox, DbError> {
    let scope = ReadScope::of(actor);
    let mut s = readable_entries(
        "SELECT n.id, n.issue_id, p.key, i.number, i.title, ua.display_name AS actor, o.kind, o.fields, n.reason, \
         n.created_at, n.read_at",
        &scope,
        actor.user_id(),
    );
    if let Some(before) = before {
        s.push(" AND n.id < ").bind(before);
    }
    if unread_only {
        s.push(" AND n.read_at IS NULL");
    }
    s.push(" ORDER BY n.id DESC LIMIT ").bind(i64::try_from(INBOX_PAGE + 1).unwrap_or(51));
    let mut rows: Vec<EntryRow> = s.query_as().fetch_all(db.pool()).await?;
    let more = rows.len() > INBOX_PAGE;
    rows.truncate(INBOX_PAGE);
    let next_before = if more { rows.last().map(|r| r.id) } else { None };
    let entries = rows
        .into_iter()
        .map(|r| app::model::Notification {
            id: r.id,
            issue_id: r.issue_id,
            issue_key: format!("{}-{}", r.key, r.number),
            issue_title: r.title,
            actor: r.actor.unwrap_or_default(),
            kind: r.kind,
            fields: r.fields.split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect(),
            reason: r.reason,
            created_at: r.created_at,
            read: r.read_at.is_some(),
        })
        .collect();
    Ok(Inbox { entries, unread: unread(db, &scope, actor.user_id()).await?, next_before })
}

/// How many of a reader's entries are unread and readable now.
pub(crate) async fn unread(db: &Db, scope: &ReadScope, user: UserId) -> Result<i64, DbError> {
    let mut s = readable_entries("SELECT COUNT(*)", scope, user);
    s.push(" AND n.read_at IS NULL");
    Ok(s.query_scalar().fetch_one(db.pool()).await?)
}

/// The newest readable entry of a reader (0 if none): what a live connection compares.
pub(crate) async fn newest(db: &Db, scope: &ReadScope, user: UserId) -> Result<i64, DbError> {
    let mut s = readable_entries("SELECT COALESCE(MAX(n.id), 0)", scope, user);
    Ok(s.query_scalar().fetch_one(db.pool()).await?)
}

/// The scope of a signed-in actor, for the live connection (re-made on every wake from the session).
pub(crate) fn scope_of(actor: &Actor) -> ReadScope {
    ReadScope::of(actor)
}

/// The latest activity on an issue that the reader may hear of (0 if none, or if they cannot read
/// the issue): an activity on a comment they cannot read does not count.
pub(crate) async fn issue_activity(db: &Db, scope: &ReadScope, issue: IssueId) -> Result<i64, DbError> {
    let mut s = issues::readable_from(
        "SELECT COALESCE(MAX(o.seq), 0)",
        " FROM outbox o JOIN issues i ON i.team_id = o.team_id AND i.id = o.issue_id",
        scope,
    );
    s.push(" AND o.issue_id = ").bind(issue);
    s.push(" AND (o.comment_id IS NULL OR EXISTS (SELECT 1 FROM comments c WHERE c.id = o.comment_id AND ");
    scope.comments(&mut s);
    s.push("))");
    Ok(s.query_scalar().fetch_one(db.pool()).await?)
}

/// Marks entries of the actor read: `ids`, or every entry of the active team.
pub async fn mark_read(db: &Db, actor: &Actor, ids: Option<&[i64]>, now_ms: i64) -> Result<(), DbError> {
    let mut s = Statement::new("UPDATE notifications SET read_at = ");
    s.bind(now_ms).push(" WHERE team_id = ").bind(actor.team_id()).push(" AND user_id = ").bind(actor.user_id());
    s.push(" AND read_at IS NULL");
    if let Some(ids) = ids {
        if ids.is_empty() {
            return Ok(());
        }
        s.push(" AND id IN (").bind_list(ids.iter().copied()).push(")");
    }
    s.query().execute(db.pool()).await?;
    Ok(())
}

/// Forgets delivered events and entries older than `cutoff_ms` (the sweeper's round).
pub async fn forget_old(db: &Db, cutoff_ms: i64) -> Result<(), DbError> {
    sqlx::query("DELETE FROM notifications WHERE created_at < $1").bind(cutoff_ms).execute(db.pool()).await?;
    sqlx::query(
        "DELETE FROM outbox WHERE delivered_at IS NOT NULL AND hooks_done_at IS NOT NULL AND created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.event_seq = outbox.seq)",
    )
    .bind(cutoff_ms)
    .execute(db.pool())
    .await?;
    Ok(())
}
