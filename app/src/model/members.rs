//! The team on the wire: members, invitations, roles and the audit log.

use garde::Validate;
use serde::{Deserialize, Serialize};

#[allow(clippy::wildcard_imports)] // the shared ids, roles and rules of the model
use super::*;
use crate::rules;

/// Invite an email address to the active team with a role (never OWNER), and to some of its
/// projects (a guest: public ones only), which they join when they accept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct InviteInput {
    #[garde(custom(rules::email))]
    pub email: String,
    #[garde(custom(invitable_role))]
    pub role: Role,
    #[garde(length(max = INVITATION_PROJECTS_MAX))]
    #[serde(default)]
    pub project_ids: Vec<ProjectId>,
}

/// The most projects one invitation may name.
pub const INVITATION_PROJECTS_MAX: usize = 50;

impl Normalize for InviteInput {
    fn normalize(mut self) -> Self {
        self.project_ids.sort();
        self.project_ids.dedup();
        Self { email: rules::normalize_email(&self.email), role: self.role, project_ids: self.project_ids }
    }
}

/// Give a member another role (never OWNER: ownership is transferred instead).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ChangeRoleInput {
    #[garde(skip)]
    pub user_id: UserId,
    #[garde(custom(invitable_role))]
    pub role: Role,
}

/// Names one member of the active team (remove, transfer ownership).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct MemberInput {
    #[garde(skip)]
    pub user_id: UserId,
}

/// Names a pending invitation of the active team (revoke it, or issue its link again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct RevokeInvitationInput {
    #[garde(skip)]
    pub invitation_id: InvitationId,
}

/// The secret of an invitation link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct InvitationTokenInput {
    #[garde(custom(rules::invitation_token))]
    pub token: String,
}

/// Accept an invitation addressed to one's own email: signed in already, or with the account's password
/// (which also signs in, and works for an account that belongs to no team any more).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct AcceptInvitationInput {
    #[garde(custom(rules::invitation_token))]
    pub token: String,
    #[garde(inner(custom(rules::password_given)))]
    pub password: Option<String>,
}

/// A new visitor signs up through an invitation: the email is the invitation's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct InvitedSignUpInput {
    #[garde(custom(rules::invitation_token))]
    pub token: String,
    #[garde(custom(rules::name))]
    pub display_name: String,
    #[garde(custom(rules::new_password))]
    pub password: String,
}

impl Normalize for InvitedSignUpInput {
    fn normalize(self) -> Self {
        Self { token: self.token, display_name: self.display_name.trim().to_owned(), password: self.password }
    }
}

/// A member of the active team, as the members page shows them.
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Member {
    pub user_id: UserId,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    /// Unix milliseconds.
    pub joined_at: i64,
    /// How the member signs in through the team's identity provider, if they have (the OWNER sees
    /// this; everyone else gets `None`).
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    #[serde(default)]
    pub single_sign_on: Option<MemberSso>,
}

/// A member's single sign-on, as the OWNER sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemberSso {
    /// Single sign-on made the account (it has no password anyone knows); otherwise it links an
    /// account that also has a password.
    pub made_account: bool,
    /// The last sign-in through the provider, Unix milliseconds.
    pub last_sign_in_at: i64,
}

/// A pending invitation of the active team.
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: InvitationId,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub expires_at: i64,
    /// The projects the invitee joins on accepting, as "KEY · Name", by key.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    #[serde(default)]
    pub projects: Vec<String>,
}

/// A new invitation (or a pending one's new link) with its secret link, shown once to the inviter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedInvitation {
    pub invitation: Invitation,
    /// The path of the link, `/invite/<token>`.
    pub path: String,
    /// Whether the link was also emailed.
    pub emailed: bool,
}

/// What an invitation link offers, shown before accepting it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationOffer {
    pub team_name: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    /// Whether an account with the invitation's email exists (then the visitor signs in to accept).
    pub account_exists: bool,
    /// The projects they join on accepting, as "KEY · Name" (a guest: those still public).
    #[serde(default)]
    pub projects: Vec<String>,
}

/// One security event of the audit log, with its place in the team's chain.
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    /// Unix milliseconds, UTC.
    pub at: i64,
    pub event: String,
    pub outcome: String,
    /// "Name <email>" of who acted, while their account exists.
    pub actor: Option<String>,
    pub actor_id: Option<UserId>,
    pub detail: String,
    pub source_ip: Option<String>,
    /// The entry's place in the team's chain and its MAC (`None` until it is chained).
    pub seq: Option<i64>,
    pub mac: Option<String>,
}

string_enum!(
    /// The kinds of audit event, as the server writes them and the audit page lists them (the
    /// `audit_events` table of the migrations lists the same: a server test holds the two together).
    AuditEvent {
        AccountCreated => "account_created",
        SignedIn => "signed_in",
        SignInFailed => "sign_in_failed",
        SignedOut => "signed_out",
        TeamSwitched => "team_switched",
        InvitationSent => "invitation_sent",
        InvitationAccepted => "invitation_accepted",
        InvitationRevoked => "invitation_revoked",
        /// A pending invitation's link was issued again; the old link no longer works.
        InvitationRenewed => "invitation_renewed",
        RoleChanged => "role_changed",
        MemberRemoved => "member_removed",
        MemberLeft => "member_left",
        OwnershipTransferred => "ownership_transferred",
        FileAttached => "file_attached",
        UploadRejected => "upload_rejected",
        AttachmentDeleted => "attachment_deleted",
        /// An issue was deleted; the detail names its key and title.
        IssueDeleted => "issue_deleted",
        /// A comment was deleted (with its files); the detail names the issue's key and the author.
        CommentDeleted => "comment_deleted",
        /// A saved view was deleted; the detail names it, its project and whether it was shared.
        ViewDeleted => "view_deleted",
        /// An address reached the failure limit and is refused for a while (see `crate::bans`).
        AddressBanned => "address_banned",
        /// The team's audit log was exported.
        AuditExported => "audit_exported",
        ProjectCreated => "project_created",
        /// A project's name, description, audience or publishing changed.
        ProjectChanged => "project_changed",
        /// A project was archived or restored.
        ProjectArchived => "project_archived",
        ProjectMemberAdded => "project_member_added",
        ProjectMemberRemoved => "project_member_removed",
        TwoFactorEnabled => "two_factor_enabled",
        TwoFactorDisabled => "two_factor_disabled",
        /// A wrong second factor at sign-in (or when turning it off).
        TwoFactorFailed => "two_factor_failed",
        RecoveryCodeUsed => "recovery_code_used",
        TwoFactorRequirementChanged => "two_factor_requirement_changed",
        /// A project's issues were exported as CSV.
        IssuesExported => "issues_exported",
        /// A restore drill ran (installation-wide: no team); `success` says whether it passed.
        BackupDrill => "backup_drill",
        /// A team's whole data was exported by its owner.
        TeamExported => "team_exported",
        /// A personal access token was made; the detail names it, its scopes and expiry.
        TokenCreated => "token_created",
        /// A token was revoked, by its user or by an OWNER or ADMIN.
        TokenRevoked => "token_revoked",
        /// An expired token was presented (written once per token).
        TokenExpired => "token_expired",
        /// The team's OWNER turned the token API on or off.
        TokensPolicyChanged => "tokens_policy_changed",
        /// A project's webhook was made; the detail names the project, the address and the events.
        WebhookCreated => "webhook_created",
        WebhookDeleted => "webhook_deleted",
        /// A webhook's deliveries failed for a day, and it stopped.
        WebhookPaused => "webhook_paused",
        /// The team's OWNER configured single sign-on; the detail names the issuer, the domains, the
        /// role of newcomers and whether it is required.
        SsoConfigured => "sso_configured",
        /// An identity of the team's provider was linked to an existing account, which confirmed by
        /// signing in.
        SsoLinked => "sso_linked",
        /// A single sign-on round trip was refused; the detail says why.
        SsoRefused => "sso_refused",
    }
);

impl AuditEvent {
    /// The event in words, as the audit page shows it: "Issue deleted", "Two-factor enabled".
    pub fn label(self) -> String {
        let words = self.as_str().replace("two_factor", "two-factor").replace("sso", "SSO").replace('_', " ");
        let mut chars = words.chars();
        chars.next().map(|first| std::iter::once(first.to_ascii_uppercase()).chain(chars).collect()).unwrap_or_default()
    }
}

/// Which audit entries to show: all fields optional; `before_at`/`before_id` continue after the last
/// entry of the previous page (newest first).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct AuditQuery {
    #[garde(inner(custom(known_audit_event)))]
    #[serde(default)]
    pub event: Option<String>,
    #[garde(skip)]
    #[serde(default)]
    pub actor_id: Option<UserId>,
    /// From this time (Unix milliseconds, inclusive).
    #[garde(skip)]
    #[serde(default)]
    pub from: Option<i64>,
    /// Until this time (Unix milliseconds, exclusive).
    #[garde(skip)]
    #[serde(default)]
    pub to: Option<i64>,
    #[garde(skip)]
    #[serde(default)]
    pub before_at: Option<i64>,
    #[garde(inner(length(max = 36)))]
    #[serde(default)]
    pub before_id: Option<String>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // garde's signature for custom rules
fn known_audit_event(event: &str, _: &()) -> garde::Result {
    if AuditEvent::parse(event).is_some() {
        Ok(())
    } else {
        Err(garde::Error::new("Unknown kind of event."))
    }
}

impl Normalize for AuditQuery {
    fn normalize(self) -> Self {
        Self {
            event: self.event.filter(|e| !e.is_empty()),
            before_id: self.before_id.filter(|i| !i.is_empty()),
            ..self
        }
    }
}

/// A page of the audit log, newest first; `next` continues it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// `(before_at, before_id)` for the next page, when there is one.
    pub next: Option<(i64, String)>,
}
