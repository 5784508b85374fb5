//! Moth's implementation of the server functions ([`app::api::Backend`]). Each method validates its
//! input with the shared rules, establishes the actor from the session, asks [`crate::policy`], and
//! calls the tenant-scoped data layer. The trait impl below only routes calls to the modules.

mod accounts;
mod issues;
mod members;
mod projects;

use std::{net::SocketAddr, sync::Arc};

#[allow(clippy::wildcard_imports)] // the backend speaks the whole model
use app::{
    api::{Backend, RequestParts},
    error::AppError,
    model::*,
};
use axum::extract::ConnectInfo;
use tower_sessions::Session;

use crate::{
    clock::{unix_millis, Clock},
    db::{accounts as account_rows, audit, Db},
    error::ServiceError,
    mail::Mailer,
    policy::{self, Action},
    session::{Actor, SessionPolicy},
};

pub struct MothBackend {
    db: Db,
    clock: Arc<dyn Clock>,
    sessions: SessionPolicy,
    mailer: Mailer,
    invitation_ttl_ms: i64,
}

/// What a service method knows about the request besides its input.
struct Request {
    session: Session,
    source_ip: Option<String>,
}

impl MothBackend {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        sessions: SessionPolicy,
        mailer: Mailer,
        invitation_ttl: std::time::Duration,
    ) -> Self {
        let invitation_ttl_ms = i64::try_from(invitation_ttl.as_millis()).unwrap_or(i64::MAX);
        Self { db, clock, sessions, mailer, invitation_ttl_ms }
    }

    fn now(&self) -> i64 {
        unix_millis(self.clock.now())
    }

    fn request(req: &RequestParts) -> Result<Request, ServiceError> {
        let session = req.extensions.get::<Session>().cloned().ok_or(ServiceError::NoSession)?;
        let source_ip = req.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(Request { session, source_ip })
    }

    /// The signed-in actor, or `Unauthenticated`.
    async fn actor(&self, req: &RequestParts) -> Result<(Request, Actor), AppError> {
        let request = Self::request(req)?;
        match self.sessions.actor(&self.db, &request.session).await? {
            Some(actor) => Ok((request, actor)),
            None => Err(AppError::unauthenticated()),
        }
    }

    /// The signed-in actor if `policy` allows them `action`. Refusals are "not found" for members who
    /// may not even see the thing, "forbidden" for those who see it but may not change it.
    async fn actor_for(&self, req: &RequestParts, action: Action) -> Result<(Request, Actor), AppError> {
        let (request, actor) = self.actor(req).await?;
        if !policy::may(&actor, action) {
            return Err(AppError::new(app::error::ErrorCode::Forbidden, "You may not do this in this team."));
        }
        Ok((request, actor))
    }

    async fn me(&self, actor: &Actor) -> Result<Me, AppError> {
        let user = account_rows::find_user(&self.db, actor.user_id()).await?;
        let team = account_rows::membership(&self.db, actor.user_id(), actor.team_id()).await?;
        match (user, team) {
            (Some(user), Some(team)) => Ok(Me { user, team }),
            _ => Err(AppError::unauthenticated()),
        }
    }

    async fn audit(&self, request: &Request, event: audit::Event, actor: Option<&Actor>, detail: String) {
        let record = audit::Record {
            event,
            success: true,
            team_id: actor.map(Actor::team_id),
            actor_id: actor.map(Actor::user_id),
            detail,
            source_ip: request.source_ip.clone(),
        };
        audit::record(&self.db, record, self.now()).await;
    }
}

#[async_trait::async_trait]
impl Backend for MothBackend {
    async fn sign_up(&self, req: &RequestParts, input: SignUpInput) -> Result<Me, AppError> {
        self.sign_up_impl(req, input).await
    }
    async fn sign_in(&self, req: &RequestParts, input: SignInInput) -> Result<Me, AppError> {
        self.sign_in_impl(req, input).await
    }
    async fn sign_out(&self, req: &RequestParts) -> Result<(), AppError> {
        self.sign_out_impl(req).await
    }
    async fn who_am_i(&self, req: &RequestParts) -> Result<Option<Me>, AppError> {
        self.who_am_i_impl(req).await
    }
    async fn my_teams(&self, req: &RequestParts) -> Result<Vec<TeamMembership>, AppError> {
        self.my_teams_impl(req).await
    }
    async fn switch_team(&self, req: &RequestParts, input: SwitchTeamInput) -> Result<Me, AppError> {
        self.switch_team_impl(req, input).await
    }
    async fn list_members(&self, req: &RequestParts) -> Result<Vec<Member>, AppError> {
        self.list_members_impl(req).await
    }
    async fn list_invitations(&self, req: &RequestParts) -> Result<Vec<Invitation>, AppError> {
        self.list_invitations_impl(req).await
    }
    async fn invite(&self, req: &RequestParts, input: InviteInput) -> Result<CreatedInvitation, AppError> {
        self.invite_impl(req, input).await
    }
    async fn revoke_invitation(&self, req: &RequestParts, input: RevokeInvitationInput) -> Result<(), AppError> {
        self.revoke_invitation_impl(req, input).await
    }
    async fn invitation_info(
        &self,
        req: &RequestParts,
        input: InvitationTokenInput,
    ) -> Result<InvitationOffer, AppError> {
        self.invitation_info_impl(req, input).await
    }
    async fn accept_invitation(&self, req: &RequestParts, input: AcceptInvitationInput) -> Result<Me, AppError> {
        self.accept_invitation_impl(req, input).await
    }
    async fn sign_up_with_invitation(&self, req: &RequestParts, input: InvitedSignUpInput) -> Result<Me, AppError> {
        self.sign_up_with_invitation_impl(req, input).await
    }
    async fn change_role(&self, req: &RequestParts, input: ChangeRoleInput) -> Result<Member, AppError> {
        self.change_role_impl(req, input).await
    }
    async fn remove_member(&self, req: &RequestParts, input: MemberInput) -> Result<(), AppError> {
        self.remove_member_impl(req, input).await
    }
    async fn transfer_ownership(&self, req: &RequestParts, input: MemberInput) -> Result<Me, AppError> {
        self.transfer_ownership_impl(req, input).await
    }
    async fn leave_team(&self, req: &RequestParts) -> Result<Option<Me>, AppError> {
        self.leave_team_impl(req).await
    }
    async fn audit_log(&self, req: &RequestParts) -> Result<Vec<AuditEntry>, AppError> {
        self.audit_log_impl(req).await
    }
    async fn list_projects(&self, req: &RequestParts) -> Result<Vec<Project>, AppError> {
        self.list_projects_impl(req).await
    }
    async fn create_project(&self, req: &RequestParts, input: NewProjectInput) -> Result<Project, AppError> {
        self.create_project_impl(req, input).await
    }
    async fn get_project(&self, req: &RequestParts, input: ProjectKeyInput) -> Result<ProjectDetail, AppError> {
        self.get_project_impl(req, input).await
    }
    async fn update_project(&self, req: &RequestParts, input: UpdateProjectInput) -> Result<Project, AppError> {
        self.update_project_impl(req, input).await
    }
    async fn archive_project(&self, req: &RequestParts, input: ArchiveProjectInput) -> Result<Project, AppError> {
        self.archive_project_impl(req, input).await
    }
    async fn add_project_member(&self, req: &RequestParts, input: ProjectMemberInput) -> Result<(), AppError> {
        self.add_project_member_impl(req, input).await
    }
    async fn remove_project_member(&self, req: &RequestParts, input: ProjectMemberInput) -> Result<(), AppError> {
        self.remove_project_member_impl(req, input).await
    }
    async fn add_status(&self, req: &RequestParts, input: AddStatusInput) -> Result<ProjectStatus, AppError> {
        self.add_status_impl(req, input).await
    }
    async fn edit_status(&self, req: &RequestParts, input: EditStatusInput) -> Result<Vec<ProjectStatus>, AppError> {
        self.edit_status_impl(req, input).await
    }
    async fn published_project(
        &self,
        req: &RequestParts,
        input: PublishedProjectInput,
    ) -> Result<ProjectDetail, AppError> {
        self.published_project_impl(req, input).await
    }
    async fn published_issues(&self, req: &RequestParts, input: PublishedProjectInput) -> Result<IssuePage, AppError> {
        self.published_issues_impl(req, input).await
    }
    async fn published_issue(&self, req: &RequestParts, input: PublishedIssueInput) -> Result<IssueDetail, AppError> {
        self.published_issue_impl(req, input).await
    }
    async fn create_issue(&self, req: &RequestParts, input: NewIssueInput) -> Result<Issue, AppError> {
        self.create_issue_impl(req, input).await
    }
    async fn get_issue(&self, req: &RequestParts, input: IssueRefInput) -> Result<IssueDetail, AppError> {
        self.get_issue_impl(req, input).await
    }
    async fn list_issues(&self, req: &RequestParts, input: ListIssuesInput) -> Result<IssuePage, AppError> {
        self.list_issues_impl(req, input).await
    }
    async fn open_project(&self, req: &RequestParts, input: OpenProjectInput) -> Result<ProjectPage, AppError> {
        self.open_project_impl(req, input).await
    }
    async fn update_issue(&self, req: &RequestParts, input: UpdateIssueInput) -> Result<Issue, AppError> {
        self.update_issue_impl(req, input).await
    }
    async fn change_status(&self, req: &RequestParts, input: ChangeStatusInput) -> Result<Issue, AppError> {
        self.change_status_impl(req, input).await
    }
    async fn delete_issue(&self, req: &RequestParts, input: IssueIdInput) -> Result<(), AppError> {
        self.delete_issue_impl(req, input).await
    }
    async fn add_comment(&self, req: &RequestParts, input: NewCommentInput) -> Result<Comment, AppError> {
        self.add_comment_impl(req, input).await
    }
    async fn edit_comment(&self, req: &RequestParts, input: EditCommentInput) -> Result<Comment, AppError> {
        self.edit_comment_impl(req, input).await
    }
    async fn delete_comment(&self, req: &RequestParts, input: CommentIdInput) -> Result<(), AppError> {
        self.delete_comment_impl(req, input).await
    }
}
