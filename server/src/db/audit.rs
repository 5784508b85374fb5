//! The audit log: security events with actor, team, time (UTC), source address and outcome.
//! Writing never fails a request (a failure is logged); reading is scoped to the actor's team.

use app::model::{AuditEntry, AuditQuery, Flag, TeamId, UserId};

use super::{Db, DbError};
use crate::actor::Actor;

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
    FileAttached,
    UploadRejected,
    AttachmentDeleted,
    /// An address reached the failure limit and is refused for a while (see `crate::bans`).
    AddressBanned,
    /// The team's audit log was exported.
    AuditExported,
    ProjectCreated,
    /// A project's name, description, audience or publishing changed.
    ProjectChanged,
    /// A project was archived or restored.
    ProjectArchived,
    ProjectMemberAdded,
    ProjectMemberRemoved,
    TwoFactorEnabled,
    TwoFactorDisabled,
    /// A wrong second factor at sign-in (or when turning it off).
    TwoFactorFailed,
    RecoveryCodeUsed,
    TwoFactorRequirementChanged,
    /// A project's issues were exported as CSV.
    IssuesExported,
    /// A restore drill ran (installation-wide: no team); `success` says whether it passed.
    BackupDrill,
    /// A team's whole data was exported by its owner.
    TeamExported,
}

impl sqlx::Type<sqlx::Any> for Event {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <&str as sqlx::Type<sqlx::Any>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Any> for Event {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<'q, sqlx::Any>>::encode(self.as_str(), buf)
    }
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
            Event::FileAttached => "file_attached",
            Event::UploadRejected => "upload_rejected",
            Event::AttachmentDeleted => "attachment_deleted",
            Event::AddressBanned => "address_banned",
            Event::AuditExported => "audit_exported",
            Event::ProjectCreated => "project_created",
            Event::ProjectChanged => "project_changed",
            Event::ProjectArchived => "project_archived",
            Event::ProjectMemberAdded => "project_member_added",
            Event::ProjectMemberRemoved => "project_member_removed",
            Event::TwoFactorEnabled => "two_factor_enabled",
            Event::TwoFactorDisabled => "two_factor_disabled",
            Event::TwoFactorFailed => "two_factor_failed",
            Event::RecoveryCodeUsed => "recovery_code_used",
            Event::TwoFactorRequirementChanged => "two_factor_requirement_changed",
            Event::IssuesExported => "issues_exported",
            Event::BackupDrill => "backup_drill",
            Event::TeamExported => "team_exported",
        }
    }

    /// Every kind, as the `audit_events` table lists them (a test holds the two together).
    pub const ALL: [Event; 30] = [
        Event::AccountCreated,
        Event::SignedIn,
        Event::SignInFailed,
        Event::SignedOut,
        Event::TeamSwitched,
        Event::InvitationSent,
        Event::InvitationAccepted,
        Event::InvitationRevoked,
        Event::RoleChanged,
        Event::MemberRemoved,
        Event::MemberLeft,
        Event::OwnershipTransferred,
        Event::FileAttached,
        Event::UploadRejected,
        Event::AttachmentDeleted,
        Event::AddressBanned,
        Event::AuditExported,
        Event::ProjectCreated,
        Event::ProjectChanged,
        Event::ProjectArchived,
        Event::ProjectMemberAdded,
        Event::ProjectMemberRemoved,
        Event::TwoFactorEnabled,
        Event::TwoFactorDisabled,
        Event::TwoFactorFailed,
        Event::RecoveryCodeUsed,
        Event::TwoFactorRequirementChanged,
        Event::IssuesExported,
        Event::BackupDrill,
        Event::TeamExported,
    ];
}

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
