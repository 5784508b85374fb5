//! Types that cross the wire between the browser and the server, with their garde rules.
//! Inputs are validated on both sides; outputs are plain data.

use garde::Validate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{error::AppError, rules};

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// A user account.
    UserId
);
typed_id!(
    /// A team: the tenant.
    TeamId
);
typed_id!(
    /// An invitation to a team.
    InvitationId
);
typed_id!(
    /// A project of a team.
    ProjectId
);
typed_id!(
    /// A status of a project's workflow.
    StatusId
);

/// Who can see a project: its members only, or also guests who are members.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    #[default]
    Private,
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Visibility::Private, Visibility::Public].into_iter().find(|v| v.as_str() == s)
    }
}

/// The kind of a workflow status, which boards and filters group by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCategory {
    Open,
    InProgress,
    Done,
}

impl StatusCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCategory::Open => "open",
            StatusCategory::InProgress => "in_progress",
            StatusCategory::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [StatusCategory::Open, StatusCategory::InProgress, StatusCategory::Done].into_iter().find(|c| c.as_str() == s)
    }
}

/// The workflow every new project starts with.
pub const DEFAULT_WORKFLOW: [(&str, StatusCategory); 5] = [
    ("New", StatusCategory::Open),
    ("In progress", StatusCategory::InProgress),
    ("In review", StatusCategory::InProgress),
    ("Done", StatusCategory::Done),
    ("Closed", StatusCategory::Done),
];

/// A member's role in a team, from most to least powerful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Owner,
    Admin,
    Normal,
    Guest,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Normal, Role::Guest];

    /// The spelling used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "OWNER",
            Role::Admin => "ADMIN",
            Role::Normal => "NORMAL",
            Role::Guest => "GUEST",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// How the role is shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Normal => "Member",
            Role::Guest => "Guest",
        }
    }
}

/// Inputs that are tidied (trimmed, lower-cased) the same way on both sides before validation.
pub trait Normalize {
    #[must_use]
    fn normalize(self) -> Self;
}

/// garde rule: roles that can be given by invitation or role change. OWNER only moves by transfer.
/// (Here rather than in `rules`, which knows no model type.)
#[allow(clippy::trivially_copy_pass_by_ref)]
fn invitable_role(role: &Role, _: &()) -> garde::Result {
    if *role == Role::Owner {
        return Err(garde::Error::new("Ownership is transferred, not given as a role."));
    }
    Ok(())
}

/// Tidies and validates an input: the one entry point both the forms and the server functions use.
pub fn parse<T>(input: T) -> Result<garde::Valid<T>, AppError>
where
    T: Normalize + Validate<Context = ()>,
{
    Ok(garde::Unvalidated::new(input.normalize()).validate()?)
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct SignUpInput {
    #[garde(custom(rules::email))]
    pub email: String,
    #[garde(custom(rules::name))]
    pub display_name: String,
    /// Taken exactly as typed: passwords are never trimmed or changed.
    #[garde(custom(rules::new_password))]
    pub password: String,
    #[garde(custom(rules::name))]
    pub team_name: String,
}

impl Normalize for SignUpInput {
    fn normalize(self) -> Self {
        Self {
            email: rules::normalize_email(&self.email),
            display_name: self.display_name.trim().to_owned(),
            password: self.password,
            team_name: self.team_name.trim().to_owned(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct SignInInput {
    #[garde(custom(rules::email))]
    pub email: String,
    #[garde(custom(rules::password_given))]
    pub password: String,
}

impl Normalize for SignInInput {
    fn normalize(self) -> Self {
        Self { email: rules::normalize_email(&self.email), password: self.password }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct SwitchTeamInput {
    #[garde(skip)]
    pub team_id: TeamId,
}

/// Inputs with nothing to tidy.
/// An enumeration with a lower-case spelling on the wire and in the database.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$variant_doc:meta])* $variant:ident => $text:literal),+ $(,)? } $(default $default:ident)?) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$variant_doc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        $(
            impl Default for $name {
                fn default() -> Self {
                    $name::$default
                }
            }
        )?
    };
}

macro_rules! no_normalization {
    ($($t:ty),*) => {
        $(impl Normalize for $t {
            fn normalize(self) -> Self {
                self
            }
        })*
    };
}

no_normalization!(
    ArchiveProjectInput,
    ProjectMemberInput,
    SwitchTeamInput,
    ChangeRoleInput,
    MemberInput,
    RevokeInvitationInput,
    InvitationTokenInput,
    AcceptInvitationInput
);

// The tracker's types use the macros above, so they are declared after them.
mod data_safety;
mod files;
mod issues;
#[cfg(feature = "ssr")]
mod sql;
pub use data_safety::*;
pub use files::*;
pub use issues::*;
#[cfg(feature = "ssr")]
pub use sql::Flag;

/// Invite an email address to the active team with a role (never OWNER).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct InviteInput {
    #[garde(custom(rules::email))]
    pub email: String,
    #[garde(custom(invitable_role))]
    pub role: Role,
}

impl Normalize for InviteInput {
    fn normalize(self) -> Self {
        Self { email: rules::normalize_email(&self.email), role: self.role }
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

/// A new project (OWNER and ADMIN).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct NewProjectInput {
    #[garde(custom(rules::name))]
    pub name: String,
    #[garde(custom(rules::project_key))]
    pub key: String,
    #[garde(custom(rules::description))]
    #[serde(default)]
    pub description: String,
    #[garde(skip)]
    #[serde(default)]
    pub visibility: Visibility,
}

impl Normalize for NewProjectInput {
    fn normalize(self) -> Self {
        Self {
            name: self.name.trim().to_owned(),
            key: self.key.trim().to_uppercase(),
            description: self.description,
            visibility: self.visibility,
        }
    }
}

/// Rename, describe, change visibility or publish a project (OWNER and ADMIN).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct UpdateProjectInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(custom(rules::name))]
    pub name: String,
    #[garde(custom(rules::description))]
    #[serde(default)]
    pub description: String,
    #[garde(skip)]
    pub visibility: Visibility,
    /// Anyone with the project's public address may read its public issues. Public projects only.
    #[garde(skip)]
    #[serde(default)]
    pub published: bool,
}

impl Normalize for UpdateProjectInput {
    fn normalize(self) -> Self {
        Self { name: self.name.trim().to_owned(), ..self }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ArchiveProjectInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(skip)]
    pub archived: bool,
}

/// Names a project by its key (`WEB`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ProjectKeyInput {
    #[garde(custom(rules::project_key))]
    pub key: String,
}

impl Normalize for ProjectKeyInput {
    fn normalize(self) -> Self {
        Self { key: self.key.trim().to_uppercase() }
    }
}

/// Adds a status at the end of a project's workflow (OWNER and ADMIN).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct AddStatusInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(custom(rules::status_name))]
    pub name: String,
    #[garde(skip)]
    pub category: StatusCategory,
}

impl Normalize for AddStatusInput {
    fn normalize(self) -> Self {
        Self { name: self.name.trim().to_owned(), ..self }
    }
}

/// Renames a status, or moves it to another place (0 = first) in its workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct EditStatusInput {
    #[garde(skip)]
    pub status_id: StatusId,
    #[garde(custom(rules::status_name))]
    pub name: String,
    #[garde(range(min = 0, max = 100))]
    pub position: i64,
}

impl Normalize for EditStatusInput {
    fn normalize(self) -> Self {
        Self { name: self.name.trim().to_owned(), ..self }
    }
}

/// Adds a team member to a project, or removes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ProjectMemberInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(skip)]
    pub user_id: UserId,
}

#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub key: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "Flag"))]
    pub published: bool,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "Flag"))]
    pub archived: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectStatus {
    pub id: StatusId,
    pub name: String,
    pub category: StatusCategory,
    pub position: i64,
}

/// A project with its workflow and (for members who may see them) its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectDetail {
    pub project: Project,
    pub statuses: Vec<ProjectStatus>,
    pub members: Vec<Member>,
}

/// A member of the active team, as the members page shows them.
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: UserId,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    /// Unix milliseconds.
    pub joined_at: i64,
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
}

/// A new invitation with its secret link, shown once to the inviter.
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
        RoleChanged => "role_changed",
        MemberRemoved => "member_removed",
        MemberLeft => "member_left",
        OwnershipTransferred => "ownership_transferred",
        FileAttached => "file_attached",
        UploadRejected => "upload_rejected",
        AttachmentDeleted => "attachment_deleted",
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
    }
);

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

/// Whether the signed-in user has two-factor authentication on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorInfo {
    pub enabled: bool,
}

/// A new authenticator key, shown once while two-factor authentication is being turned on: the key
/// to type, the `otpauth://` address, and that address as a QR code (SVG markup made by the server).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorSetup {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

/// The ten single-use recovery codes, shown once when two-factor authentication is turned on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// An authentication code (6 digits) or a recovery code (`xxxxx-xxxxx`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct TwoFactorCodeInput {
    #[garde(length(chars, min = 1, max = 32), custom(crate::rules::one_time_code))]
    pub code: String,
}

impl Normalize for TwoFactorCodeInput {
    fn normalize(self) -> Self {
        Self { code: self.code.chars().filter(|c| !c.is_whitespace()).collect() }
    }
}

/// Turning two-factor authentication on changes how one signs in, so it asks for the password again
/// (re-authentication), besides a code from the new key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct EnableTwoFactorInput {
    #[garde(length(chars, min = 1, max = 32), custom(crate::rules::one_time_code))]
    pub code: String,
    #[garde(custom(rules::password_given))]
    pub password: String,
}

impl Normalize for EnableTwoFactorInput {
    fn normalize(self) -> Self {
        Self { code: self.code.chars().filter(|c| !c.is_whitespace()).collect(), password: self.password }
    }
}

/// A page of the audit log, newest first; `next` continues it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// `(before_at, before_id)` for the next page, when there is one.
    pub next: Option<(i64, String)>,
}

#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
}

/// A team the user belongs to, with the user's role in it.
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMembership {
    pub id: TeamId,
    pub name: String,
    pub role: Role,
    /// The team requires two-factor authentication of its members.
    #[cfg_attr(feature = "ssr", sqlx(try_from = "Flag"))]
    #[serde(default)]
    pub requires_two_factor: bool,
}

/// The signed-in user and their active team, as the server's session sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub user: UserSummary,
    pub team: TeamMembership,
    /// The team requires two-factor authentication and this user has not set it up: until they do,
    /// only the account page works.
    #[serde(default)]
    pub two_factor_setup_required: bool,
}

/// Whether the active team requires two-factor authentication of its members.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct TwoFactorRequirementInput {
    #[garde(skip)]
    pub required: bool,
}

impl Normalize for TwoFactorRequirementInput {
    fn normalize(self) -> Self {
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sign_up() -> SignUpInput {
        SignUpInput {
            email: "  Ann@Example.ORG ".into(),
            display_name: " Ann ".into(),
            password: "  a strong passphrase  ".into(),
            team_name: "Ann's team".into(),
        }
    }

    #[test]
    fn sign_up_is_normalized_but_the_password_is_kept_as_typed() {
        let valid = parse(sign_up()).expect("valid");
        assert_eq!(valid.email, "ann@example.org");
        assert_eq!(valid.display_name, "Ann");
        assert_eq!(valid.password, "  a strong passphrase  ");
    }

    #[test]
    fn a_short_password_is_reported_on_its_field() {
        let err = parse(SignUpInput { password: "short".into(), ..sign_up() }).unwrap_err();
        assert!(err.field_message("password").is_some(), "{err:?}");
        assert!(err.field_message("email").is_none());
    }

    #[test]
    fn a_password_of_128_characters_is_accepted_and_129_is_not() {
        let p128: String = "é".repeat(128);
        assert!(parse(SignUpInput { password: p128, ..sign_up() }).is_ok());
        let p129: String = "é".repeat(129);
        assert!(parse(SignUpInput { password: p129, ..sign_up() }).is_err());
    }

    #[test]
    fn a_malformed_email_is_refused() {
        let err = parse(SignUpInput { email: "not-an-email".into(), ..sign_up() }).unwrap_err();
        assert!(err.field_message("email").is_some());
    }

    #[test]
    fn roles_round_trip_through_their_spelling() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("owner"), None);
    }
}
