//! The audit log: security events with actor, team, time (UTC), source address and outcome.
//! Writing never fails a request (a failure is logged); reading is scoped to the actor's team.

use app::model::{AuditEntry, TeamId, UserId};
use uuid::Uuid;

use super::{Db, DbError};
use crate::session::Actor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    AccountCreated,
    SignedIn,
    SignInFailed,
    SignedOut,
    TeamSwitched,
    InvitationSent,
    InvitationAccepted,
    InvitationRevoked,
    RoleChanged,
    MemberRemoved,
    MemberLeft,
    OwnershipTransferred,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::AccountCreated => "account_created",
            Event::SignedIn => "signed_in",
            Event::SignInFailed => "sign_in_failed",
            Event::SignedOut => "signed_out",
            Event::TeamSwitched => "team_switched",
            Event::InvitationSent => "invitation_sent",
            Event::InvitationAccepted => "invitation_accepted",
            Event::InvitationRevoked => "invitation_revoked",
            Event::RoleChanged => "role_changed",
            Event::MemberRemoved => "member_removed",
            Event::MemberLeft => "member_left",
            Event::OwnershipTransferred => "ownership_transferred",
        }
    }
}

pub struct Record {
    pub event: Event,
    pub success: bool,
    pub team_id: Option<TeamId>,
    pub actor_id: Option<UserId>,
    pub detail: String,
    pub source_ip: Option<String>,
}

pub async fn record(db: &Db, record: Record, now_ms: i64) {
    let detail: String = record.detail.chars().take(1000).collect();
    let written = sqlx::query(
        "INSERT INTO audit_log (id, team_id, actor_id, event, outcome, detail, source_ip, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(record.team_id.map(|t| t.to_string()))
    .bind(record.actor_id.map(|u| u.to_string()))
    .bind(record.event.as_str())
    .bind(if record.success { "success" } else { "failure" })
    .bind(detail)
    .bind(record.source_ip)
    .bind(now_ms)
    .execute(db.pool())
    .await;
    if let Err(e) = written {
        tracing::error!(error = %e, event = record.event.as_str(), "audit event not written");
    }
}

/// The team's newest events, newest first.
pub async fn for_team(db: &Db, actor: &Actor, limit: i64) -> Result<Vec<AuditEntry>, DbError> {
    type Row = (i64, String, String, Option<String>, Option<String>, String, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.at, a.event, a.outcome, u.display_name, u.email, a.detail, a.source_ip \
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id \
         WHERE a.team_id = $1 ORDER BY a.at DESC, a.id LIMIT $2",
    )
    .bind(actor.team_id().to_string())
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, event, outcome, name, email, detail, source_ip)| AuditEntry {
            at,
            event,
            outcome,
            actor: name.map(|n| format!("{n} <{}>", email.unwrap_or_default())),
            detail,
            source_ip,
        })
        .collect())
}
