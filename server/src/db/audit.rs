//! The audit log: security events with actor, team, time (UTC), source address and outcome.
//! Writing never fails a request (a failure is logged); reading is scoped to the actor's team.

use app::model::{AuditEntry, AuditQuery, Flag, TeamId, UserId};

use super::{Db, DbError};
use crate::actor::Actor;

/// The kinds of audit event, declared once in `app::model` (the audit page lists them too).
pub use app::model::AuditEvent as Event;

pub struct Record {
    pub event: Event,
    pub success: bool,
    pub team_id: Option<TeamId>,
    pub actor_id: Option<UserId>,
    pub detail: String,
    pub source_ip: Option<String>,
}

/// Writes an audit entry at the head of its chain, in one transaction (see [`super::audit_chain`]):
/// an entry is never stored outside the chain, so one that is was not written by Moth. Writing never
/// fails the request; a failure is logged.
pub async fn record(db: &Db, record: Record, now_ms: i64) {
    let link = super::audit_chain::Link {
        id: uuid::Uuid::new_v4().to_string(),
        team_id: record.team_id.map(|t| t.to_string()),
        actor_id: record.actor_id.map(|u| u.to_string()),
        event: record.event.as_str().to_owned(),
        outcome: (if record.success { "success" } else { "failure" }).to_owned(),
        detail: record.detail.chars().take(1000).collect(),
        source_ip: record.source_ip,
        at: now_ms,
    };
    let Some(key) = db.audit_key() else {
        tracing::error!(event = record.event.as_str(), "audit event not written: no audit key");
        return;
    };
    if let Err(e) = super::audit_chain::append_with_retries(db, key, &link).await {
        tracing::error!(error = %e, event = record.event.as_str(), "audit event not written");
    }
}

/// The team's events that `query` selects, newest first, at most `limit`, continuing after the
/// query's `before_at`/`before_id` (keyset paging: any page is one walk of an index).
pub async fn for_team(db: &Db, actor: &Actor, query: &AuditQuery, limit: i64) -> Result<Vec<AuditEntry>, DbError> {
    Ok(sqlx::query_as(
        "SELECT a.id, a.at, a.event, a.outcome, \
         CASE WHEN u.id IS NULL THEN NULL ELSE u.display_name || ' <' || u.email || '>' END AS actor, \
         a.actor_id, a.detail, a.source_ip, a.seq, a.mac \
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id \
         WHERE a.team_id = $1 AND a.seq IS NOT NULL AND ($2 = 0 OR a.event = $3) AND ($4 = 0 OR a.actor_id = $5) \
         AND a.at >= $6 AND a.at < $7 AND (a.at < $8 OR (a.at = $8 AND a.id > $9)) \
         ORDER BY a.at DESC, a.id LIMIT $10",
    )
    .bind(actor.team_id())
    .bind(Flag(query.event.is_some()))
    .bind(query.event.as_deref())
    .bind(Flag(query.actor_id.is_some()))
    .bind(query.actor_id)
    .bind(query.from.unwrap_or(i64::MIN))
    .bind(query.to.unwrap_or(i64::MAX))
    .bind(query.before_at.unwrap_or(i64::MAX))
    .bind(query.before_id.as_deref().unwrap_or(""))
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}
