//! Server functions: Moth's HTTP API, each at `POST /api/<endpoint>` with a stable endpoint name
//! (documented in `docs/api.md`, which a test checks against this file). Their bodies hand the call to
//! the server's implementation of [`Api`]: the data layer, sessions and policy live in the `server`
//! crate, which provides it as context.
//!
//! Every function is a POST, so no GET ever changes state. Arguments are URL-encoded form fields
//! (`input[email]=...`); answers and errors are JSON.

use leptos::prelude::*;

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::{error::AppError, model::*};

#[cfg(feature = "ssr")]
pub use backend::{
    AccountsApi, Api, DataSafetyApi, FilesApi, IssuesApi, MembersApi, ProjectsApi, RequestParts, TwoFactorApi,
};

#[cfg(feature = "ssr")]
mod backend {
    use std::sync::Arc;

    use leptos::prelude::use_context;

    #[allow(clippy::wildcard_imports)]
    use crate::{error::AppError, model::*};

    /// The request as the server saw it: headers, extensions (session, peer address).
    pub type RequestParts = http::request::Parts;

    /// What the server implements for the server functions, one trait per area, each implemented
    /// directly by the code that does the work (`server/src/service/<area>.rs`). Inputs arrive
    /// unvalidated: the implementation must validate them (with [`crate::model::parse`]) first.
    pub trait Api:
        AccountsApi + TwoFactorApi + MembersApi + ProjectsApi + IssuesApi + FilesApi + DataSafetyApi
    {
    }

    /// Accounts and sessions: sign-up, sign-in and out, who is signed in, the active team.
    #[async_trait::async_trait]
    pub trait AccountsApi: Send + Sync + 'static {
        async fn sign_up(&self, req: &RequestParts, input: SignUpInput) -> Result<Me, AppError>;
        async fn sign_in(&self, req: &RequestParts, input: SignInInput) -> Result<Me, AppError>;
        async fn sign_out(&self, req: &RequestParts) -> Result<(), AppError>;
        async fn who_am_i(&self, req: &RequestParts) -> Result<Option<Me>, AppError>;
        async fn my_teams(&self, req: &RequestParts) -> Result<Vec<TeamMembership>, AppError>;
        async fn switch_team(&self, req: &RequestParts, input: SwitchTeamInput) -> Result<Me, AppError>;
    }

    /// The team: members, invitations, roles, the audit log.
    #[async_trait::async_trait]
    pub trait MembersApi: Send + Sync + 'static {
        async fn list_members(&self, req: &RequestParts) -> Result<Vec<Member>, AppError>;
        async fn list_invitations(&self, req: &RequestParts) -> Result<Vec<Invitation>, AppError>;
        async fn invite(&self, req: &RequestParts, input: InviteInput) -> Result<CreatedInvitation, AppError>;
        async fn revoke_invitation(&self, req: &RequestParts, input: RevokeInvitationInput) -> Result<(), AppError>;
        async fn invitation_info(
            &self,
            req: &RequestParts,
            input: InvitationTokenInput,
        ) -> Result<InvitationOffer, AppError>;
        async fn accept_invitation(&self, req: &RequestParts, input: AcceptInvitationInput) -> Result<Me, AppError>;
        async fn sign_up_with_invitation(&self, req: &RequestParts, input: InvitedSignUpInput) -> Result<Me, AppError>;
        async fn change_role(&self, req: &RequestParts, input: ChangeRoleInput) -> Result<Member, AppError>;
        async fn remove_member(&self, req: &RequestParts, input: MemberInput) -> Result<(), AppError>;
        async fn transfer_ownership(&self, req: &RequestParts, input: MemberInput) -> Result<Me, AppError>;
        async fn leave_team(&self, req: &RequestParts) -> Result<Option<Me>, AppError>;
        async fn audit_log(&self, req: &RequestParts, input: AuditQuery) -> Result<AuditPage, AppError>;
    }

    /// Projects, their workflow and members.
    #[async_trait::async_trait]
    pub trait ProjectsApi: Send + Sync + 'static {
        async fn list_projects(&self, req: &RequestParts) -> Result<Vec<Project>, AppError>;
        async fn create_project(&self, req: &RequestParts, input: NewProjectInput) -> Result<Project, AppError>;
        async fn get_project(&self, req: &RequestParts, input: ProjectKeyInput) -> Result<ProjectDetail, AppError>;
        async fn update_project(&self, req: &RequestParts, input: UpdateProjectInput) -> Result<Project, AppError>;
        async fn archive_project(&self, req: &RequestParts, input: ArchiveProjectInput) -> Result<Project, AppError>;
        async fn add_project_member(&self, req: &RequestParts, input: ProjectMemberInput) -> Result<(), AppError>;
        async fn remove_project_member(&self, req: &RequestParts, input: ProjectMemberInput) -> Result<(), AppError>;
        async fn add_status(&self, req: &RequestParts, input: AddStatusInput) -> Result<ProjectStatus, AppError>;
        async fn edit_status(&self, req: &RequestParts, input: EditStatusInput)
            -> Result<Vec<ProjectStatus>, AppError>;
    }

    /// Issues and comments, and the published (anonymous) reading of them.
    #[async_trait::async_trait]
    pub trait IssuesApi: Send + Sync + 'static {
        async fn create_issue(&self, req: &RequestParts, input: NewIssueInput) -> Result<Issue, AppError>;
        async fn get_issue(&self, req: &RequestParts, input: IssueRefInput) -> Result<IssueDetail, AppError>;
        async fn list_issues(&self, req: &RequestParts, input: ListIssuesInput) -> Result<IssuePage, AppError>;
        async fn open_project(&self, req: &RequestParts, input: OpenProjectInput) -> Result<ProjectPage, AppError>;
        async fn update_issue(&self, req: &RequestParts, input: UpdateIssueInput) -> Result<Issue, AppError>;
        async fn change_status(&self, req: &RequestParts, input: ChangeStatusInput) -> Result<Issue, AppError>;
        async fn delete_issue(&self, req: &RequestParts, input: IssueIdInput) -> Result<(), AppError>;
        async fn add_comment(&self, req: &RequestParts, input: NewCommentInput) -> Result<Comment, AppError>;
        async fn edit_comment(&self, req: &RequestParts, input: EditCommentInput) -> Result<Comment, AppError>;
        async fn delete_comment(&self, req: &RequestParts, input: CommentIdInput) -> Result<(), AppError>;
        async fn published_project(
            &self,
            req: &RequestParts,
            input: PublishedProjectInput,
        ) -> Result<ProjectDetail, AppError>;
        async fn published_issues(
            &self,
            req: &RequestParts,
            input: PublishedProjectInput,
        ) -> Result<IssuePage, AppError>;
        async fn published_issue(
            &self,
            req: &RequestParts,
            input: PublishedIssueInput,
        ) -> Result<IssueDetail, AppError>;
    }

    /// Attachments: their list, links to them on the file origin, deleting them, and the refused
    /// uploads. (Uploading is the route `POST /upload/issues/<id>`, which streams a body no server
    /// function could.)
    #[async_trait::async_trait]
    pub trait FilesApi: Send + Sync + 'static {
        async fn list_attachments(&self, req: &RequestParts, input: IssueIdInput) -> Result<Vec<Attachment>, AppError>;
        async fn attachment_link(&self, req: &RequestParts, input: AttachmentIdInput) -> Result<FileLink, AppError>;
        async fn delete_attachment(&self, req: &RequestParts, input: AttachmentIdInput) -> Result<(), AppError>;
        async fn quarantine(&self, req: &RequestParts) -> Result<Vec<RejectedUpload>, AppError>;
    }

    /// Data safety: what the team's owner sees of backups, and the team's exports.
    #[async_trait::async_trait]
    pub trait DataSafetyApi: Send + Sync + 'static {
        async fn backup_status(&self, req: &RequestParts) -> Result<BackupOverview, AppError>;
        async fn export_team(&self, req: &RequestParts, input: TeamExportInput) -> Result<TeamExport, AppError>;
        async fn team_exports(&self, req: &RequestParts) -> Result<Vec<TeamExport>, AppError>;
        async fn set_export_bucket(&self, req: &RequestParts, input: TeamBucketInput) -> Result<TeamBucket, AppError>;
        async fn export_bucket(&self, req: &RequestParts) -> Result<Option<TeamBucket>, AppError>;
    }

    /// Two-factor authentication (TOTP, RFC 6238): turning it on and off, and the second step of
    /// signing in.
    #[async_trait::async_trait]
    pub trait TwoFactorApi: Send + Sync + 'static {
        async fn two_factor_status(&self, req: &RequestParts) -> Result<TwoFactorInfo, AppError>;
        async fn start_two_factor(&self, req: &RequestParts) -> Result<TwoFactorSetup, AppError>;
        async fn enable_two_factor(
            &self,
            req: &RequestParts,
            input: EnableTwoFactorInput,
        ) -> Result<RecoveryCodes, AppError>;
        async fn disable_two_factor(&self, req: &RequestParts, input: TwoFactorCodeInput) -> Result<(), AppError>;
        async fn second_factor(&self, req: &RequestParts, input: TwoFactorCodeInput) -> Result<Me, AppError>;
        async fn set_two_factor_requirement(
            &self,
            req: &RequestParts,
            input: TwoFactorRequirementInput,
        ) -> Result<Me, AppError>;
    }

    /// The backend and the request of the current server-function call.
    pub(super) fn context() -> Result<(Arc<dyn Api>, RequestParts), AppError> {
        let backend = use_context::<Arc<dyn Api>>();
        let parts = use_context::<RequestParts>();
        if let (Some(backend), Some(parts)) = (backend, parts) {
            Ok((backend, parts))
        } else {
            tracing::error!("server function called without a backend or request in context");
            Err(AppError::internal())
        }
    }
}

/// Creates an account and a new team with the user as its OWNER, and signs the user in.
#[server(endpoint = "sign_up")]
pub async fn sign_up(input: SignUpInput) -> Result<Me, AppError> {
    let (backend, req) = backend::context()?;
    backend.sign_up(&req, input).await
}

/// Signs in with email and password; the session id is replaced.
#[server(endpoint = "sign_in")]
pub async fn sign_in(input: SignInInput) -> Result<Me, AppError> {
    let (backend, req) = backend::context()?;
    backend.sign_in(&req, input).await
}

/// Ends the session: its server-side record is deleted.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let (backend, req) = backend::context()?;
    backend.sign_out(&req).await
}

/// The signed-in user, active team and role; `null` when not signed in.
#[server(endpoint = "who_am_i")]
pub async fn who_am_i() -> Result<Option<Me>, AppError> {
    let (backend, req) = backend::context()?;
    backend.who_am_i(&req).await
}

/// Whether the signed-in user has two-factor authentication on.
#[server(endpoint = "two_factor_status")]
pub async fn two_factor_status() -> Result<TwoFactorInfo, AppError> {
    let (backend, req) = backend::context()?;
    backend.two_factor_status(&req).await
}

/// A new authenticator key for the signed-in user, not yet in force (until `enable_two_factor`).
#[server(endpoint = "start_two_factor")]
pub async fn start_two_factor() -> Result<TwoFactorSetup, AppError> {
    let (backend, req) = backend::context()?;
    backend.start_two_factor(&req).await
}

/// Turns two-factor authentication on, confirmed by a code from the new key and the account's password
/// (re-authentication); answers the recovery codes.
#[server(endpoint = "enable_two_factor")]
pub async fn enable_two_factor(input: EnableTwoFactorInput) -> Result<RecoveryCodes, AppError> {
    let (backend, req) = backend::context()?;
    backend.enable_two_factor(&req, input).await
}

/// Turns two-factor authentication off, confirmed by a current code (or a recovery code).
#[server(endpoint = "disable_two_factor")]
pub async fn disable_two_factor(input: TwoFactorCodeInput) -> Result<(), AppError> {
    let (backend, req) = backend::context()?;
    backend.disable_two_factor(&req, input).await
}

/// The second step of signing in, after `sign_in` answered `second_factor_required`.
#[server(endpoint = "second_factor")]
pub async fn second_factor(input: TwoFactorCodeInput) -> Result<Me, AppError> {
    let (backend, req) = backend::context()?;
    backend.second_factor(&req, input).await
}

/// Requires two-factor authentication of every member of the active team, or stops requiring it
/// (OWNER and ADMIN).
#[server(endpoint = "set_two_factor_requirement")]
pub async fn set_two_factor_requirement(input: TwoFactorRequirementInput) -> Result<Me, AppError> {
    let (backend, req) = backend::context()?;
    backend.set_two_factor_requirement(&req, input).await
}

/// When the team's data was last backed up and last proven restorable, and the restore points (OWNER).
#[server(endpoint = "backup_status")]
pub async fn backup_status() -> Result<BackupOverview, AppError> {
    let (backend, req) = backend::context()?;
    backend.backup_status(&req).await
}

/// Starts an export of all of the team's data, encrypted with a passphrase or to an age recipient,
/// to download or to the team's bucket (OWNER). It runs on; `team_exports` shows its progress.
#[server(endpoint = "export_team")]
pub async fn export_team(input: TeamExportInput) -> Result<TeamExport, AppError> {
    let (backend, req) = backend::context()?;
    backend.export_team(&req, input).await
}

/// The team's exports, newest first, with the progress of a running one (OWNER).
#[server(endpoint = "team_exports")]
pub async fn team_exports() -> Result<Vec<TeamExport>, AppError> {
    let (backend, req) = backend::context()?;
    backend.team_exports(&req).await
}

/// Sets the team's own S3-compatible bucket for exports (OWNER).
#[server(endpoint = "set_export_bucket")]
pub async fn set_export_bucket(input: TeamBucketInput) -> Result<TeamBucket, AppError> {
    let (backend, req) = backend::context()?;
    backend.set_export_bucket(&req, input).await
}

/// The team's bucket for exports, without its secret (OWNER).
#[server(endpoint = "export_bucket")]
pub async fn export_bucket() -> Result<Option<TeamBucket>, AppError> {
    let (backend, req) = backend::context()?;
    backend.export_bucket(&req).await
}

/// The teams the signed-in user belongs to, with their role in each.
#[server(endpoint = "my_teams")]
pub async fn my_teams() -> Result<Vec<TeamMembership>, AppError> {
    let (backend, req) = backend::context()?;
    backend.my_teams(&req).await
}

/// Makes another of the user's teams the active one; any other team id is "not found".
#[server(endpoint = "switch_team")]
pub async fn switch_team(input: SwitchTeamInput) -> Result<Me, AppError> {
    let (backend, req) = backend::context()?;
    backend.switch_team(&req, input).await
}

/// The members of the active team. OWNER, ADMIN and NORMAL members; guests may not list members.
#[server(endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<Member>, AppError> {
    let (backend, req) = backend::context()?;
    backend.list_members(&req).await
}

/// Pending invitations of the active team (OWNER and ADMIN).
#[server(endpoint = "list_invitations")]
pub async fn list_invitations() -> Result<Vec<Invitation>, AppError> {
    let (backend, req) = backend::context()?;
    backend.list_invitations(&req).await
}

/// Invites an email address with a role; answers the single-use link (and emails it when SMTP is set).
#[server(endpoint = "invite")]
pub async fn invite(input: InviteInput) -> Result<CreatedInvitation, AppError> {
    let (backend, req) = backend::context()?;
    backend.invite(&req, input).await
}

/// Revokes a pending invitation of the active team.
#[server(endpoint = "revoke_invitation")]
pub async fn revoke_invitation(input: RevokeInvitationInput) -> Result<(), AppError> {
    let (backend, req) = backend::context()?;
    backend.revoke_invitation(&req, input).await
}

/// What an invitation link offers (team, role, email); needs no session, only the token.
#[server(endpoint = "invitation_info")]
pub async fn invitation_info(input: InvitationTokenInput) -> Result<InvitationOffer, AppError> {
    let (backend, req) = backend::context()?;
    backend.invitation_info(&req, input).await
}

/// The signed-in user accepts an invitation addressed to their email and joins the team.
#[server(endpoint = "accept_invitation")]
pub async fn accept_invitation(input: AcceptInvitationInput) -> Result<Me, AppError> {
    let (backend, req) = backend::context()?;
    backend.accept_invitation(&req, input).await
}

/// A new visitor creates an account through an invitation and joins the team (no team of their own).
#[server(endpoint = "sign_up_with_invitation")]
pub async fn sign_up_with_invitation(input: InvitedSignUpInput) -> Result<Me, AppError> {
    let (backend, req) = backend::context()?;
    backend.sign_up_with_invitation(&req, input).await
}

/// Gives a member of the active team another role.
#[server(endpoint = "change_role")]
pub async fn change_role(input: ChangeRoleInput) -> Result<Member, AppError> {
    let (backend, req) = backend::context()?;
    backend.change_role(&req, input).await
}

/// Removes a member from the active team; their sessions lose access to it at once.
#[server(endpoint = "remove_member")]
pub async fn remove_member(input: MemberInput) -> Result<(), AppError> {
    let (backend, req) = backend::context()?;
    backend.remove_member(&req, input).await
}

/// The OWNER makes another member the owner and becomes an ADMIN.
#[server(endpoint = "transfer_ownership")]
pub async fn transfer_ownership(input: MemberInput) -> Result<Me, AppError> {
    let (backend, req) = backend::context()?;
    backend.transfer_ownership(&req, input).await
}

/// Leaves the active team (not the OWNER); another team of the user becomes active, if any.
#[server(endpoint = "leave_team")]
pub async fn leave_team() -> Result<Option<Me>, AppError> {
    let (backend, req) = backend::context()?;
    backend.leave_team(&req).await
}

/// A page of the active team's security events, newest first, filtered by kind, actor and time
/// (OWNER and ADMIN).
#[server(endpoint = "audit_log")]
pub async fn audit_log(#[server(default)] input: AuditQuery) -> Result<AuditPage, AppError> {
    let (backend, req) = backend::context()?;
    backend.audit_log(&req, input).await
}

/// The projects the actor may see: all of the team's for OWNER and ADMIN, the ones they belong to for
/// NORMAL members, and the public ones they belong to for guests.
#[server(endpoint = "list_projects")]
pub async fn list_projects() -> Result<Vec<Project>, AppError> {
    let (backend, req) = backend::context()?;
    backend.list_projects(&req).await
}

/// Creates a project with the default workflow (OWNER and ADMIN).
#[server(endpoint = "create_project")]
pub async fn create_project(input: NewProjectInput) -> Result<Project, AppError> {
    let (backend, req) = backend::context()?;
    backend.create_project(&req, input).await
}

/// A project the actor may see, by key, with its workflow and members.
#[server(endpoint = "get_project")]
pub async fn get_project(input: ProjectKeyInput) -> Result<ProjectDetail, AppError> {
    let (backend, req) = backend::context()?;
    backend.get_project(&req, input).await
}

/// Renames, describes, changes the visibility of or publishes a project (OWNER and ADMIN).
#[server(endpoint = "update_project")]
pub async fn update_project(input: UpdateProjectInput) -> Result<Project, AppError> {
    let (backend, req) = backend::context()?;
    backend.update_project(&req, input).await
}

/// Archives or restores a project (OWNER and ADMIN).
#[server(endpoint = "archive_project")]
pub async fn archive_project(input: ArchiveProjectInput) -> Result<Project, AppError> {
    let (backend, req) = backend::context()?;
    backend.archive_project(&req, input).await
}

/// Adds a team member to a project (OWNER and ADMIN); guests only to public projects.
#[server(endpoint = "add_project_member")]
pub async fn add_project_member(input: ProjectMemberInput) -> Result<(), AppError> {
    let (backend, req) = backend::context()?;
    backend.add_project_member(&req, input).await
}

/// Removes a member from a project (OWNER and ADMIN).
#[server(endpoint = "remove_project_member")]
pub async fn remove_project_member(input: ProjectMemberInput) -> Result<(), AppError> {
    let (backend, req) = backend::context()?;
    backend.remove_project_member(&req, input).await
}

/// Files an issue in a project the actor sees (guests too; their reports stay internal).
#[server(endpoint = "create_issue")]
pub async fn create_issue(input: NewIssueInput) -> Result<Issue, AppError> {
    let (backend, req) = backend::context()?;
    backend.create_issue(&req, input).await
}

/// An issue by `KEY-number`, with the comments and history the actor may see.
#[server(endpoint = "get_issue")]
pub async fn get_issue(input: IssueRefInput) -> Result<IssueDetail, AppError> {
    let (backend, req) = backend::context()?;
    backend.get_issue(&req, input).await
}

/// A page of a project's issues the actor may see, by number (keyset: pass `after`).
#[server(endpoint = "list_issues")]
pub async fn list_issues(input: ListIssuesInput) -> Result<IssuePage, AppError> {
    let (backend, req) = backend::context()?;
    backend.list_issues(&req, input).await
}

/// A project's issues page in one round trip: the project (as `get_project`) and the first page of
/// its issues (as `list_issues`).
#[server(endpoint = "open_project")]
pub async fn open_project(input: OpenProjectInput) -> Result<ProjectPage, AppError> {
    let (backend, req) = backend::context()?;
    backend.open_project(&req, input).await
}

/// Edits an issue (members, not guests); every changed field goes to the history.
#[server(endpoint = "update_issue")]
pub async fn update_issue(input: UpdateIssueInput) -> Result<Issue, AppError> {
    let (backend, req) = backend::context()?;
    backend.update_issue(&req, input).await
}

/// Moves an issue to another status of its project's workflow (members, not guests).
#[server(endpoint = "change_status")]
pub async fn change_status(input: ChangeStatusInput) -> Result<Issue, AppError> {
    let (backend, req) = backend::context()?;
    backend.change_status(&req, input).await
}

/// Deletes an issue softly; its history stays (OWNER and ADMIN).
#[server(endpoint = "delete_issue")]
pub async fn delete_issue(input: IssueIdInput) -> Result<(), AppError> {
    let (backend, req) = backend::context()?;
    backend.delete_issue(&req, input).await
}

/// Comments on an issue the actor sees; guests' comments are public.
#[server(endpoint = "add_comment")]
pub async fn add_comment(input: NewCommentInput) -> Result<Comment, AppError> {
    let (backend, req) = backend::context()?;
    backend.add_comment(&req, input).await
}

/// Edits one's own comment.
#[server(endpoint = "edit_comment")]
pub async fn edit_comment(input: EditCommentInput) -> Result<Comment, AppError> {
    let (backend, req) = backend::context()?;
    backend.edit_comment(&req, input).await
}

/// Deletes one's own comment; OWNER and ADMIN may delete any.
#[server(endpoint = "delete_comment")]
pub async fn delete_comment(input: CommentIdInput) -> Result<(), AppError> {
    let (backend, req) = backend::context()?;
    backend.delete_comment(&req, input).await
}

/// A published project's name, description and workflow; needs no session.
#[server(endpoint = "published_project")]
pub async fn published_project(input: PublishedProjectInput) -> Result<ProjectDetail, AppError> {
    let (backend, req) = backend::context()?;
    backend.published_project(&req, input).await
}

/// The public issues of a published project, by number; needs no session.
#[server(endpoint = "published_issues")]
pub async fn published_issues(input: PublishedProjectInput) -> Result<IssuePage, AppError> {
    let (backend, req) = backend::context()?;
    backend.published_issues(&req, input).await
}

/// One public issue of a published project with its public comments; needs no session.
#[server(endpoint = "published_issue")]
pub async fn published_issue(input: PublishedIssueInput) -> Result<IssueDetail, AppError> {
    let (backend, req) = backend::context()?;
    backend.published_issue(&req, input).await
}

/// Adds a status at the end of a project's workflow (OWNER and ADMIN).
#[server(endpoint = "add_status")]
pub async fn add_status(input: AddStatusInput) -> Result<ProjectStatus, AppError> {
    let (backend, req) = backend::context()?;
    backend.add_status(&req, input).await
}

/// Renames a status and moves it to a place in its workflow (OWNER and ADMIN); answers the workflow.
#[server(endpoint = "edit_status")]
pub async fn edit_status(input: EditStatusInput) -> Result<Vec<ProjectStatus>, AppError> {
    let (backend, req) = backend::context()?;
    backend.edit_status(&req, input).await
}

/// The files attached to an issue the actor may see, oldest first.
#[server(endpoint = "list_attachments")]
pub async fn list_attachments(input: IssueIdInput) -> Result<Vec<Attachment>, AppError> {
    let (backend, req) = backend::context()?;
    backend.list_attachments(&req, input).await
}

/// A short-lived signed link to one attachment on the file origin, for those who may see its issue.
#[server(endpoint = "attachment_link")]
pub async fn attachment_link(input: AttachmentIdInput) -> Result<FileLink, AppError> {
    let (backend, req) = backend::context()?;
    backend.attachment_link(&req, input).await
}

/// Deletes an attachment (its uploader, OWNER and ADMIN); the stored bytes go with it.
#[server(endpoint = "delete_attachment")]
pub async fn delete_attachment(input: AttachmentIdInput) -> Result<(), AppError> {
    let (backend, req) = backend::context()?;
    backend.delete_attachment(&req, input).await
}

/// The team's refused uploads, newest first (OWNER and ADMIN): metadata only.
#[server(endpoint = "quarantine")]
pub async fn quarantine() -> Result<Vec<RejectedUpload>, AppError> {
    let (backend, req) = backend::context()?;
    backend.quarantine(&req).await
}
