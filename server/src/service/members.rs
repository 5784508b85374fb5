//! Members, invitations and the audit log of the active team.

use app::{
    api::{MembersApi, RequestParts},
    error::{AppError, ErrorCode},
    model::{
        parse, AcceptInvitationInput, AuditPage, AuditQuery, ChangeRoleInput, CreatedInvitation, Invitation,
        InvitationId, InvitationOffer, InvitationTokenInput, InviteInput, InvitedSignUpInput, Me, Member, MemberInput,
        ProjectId, RevokeInvitationInput, Role,
    },
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;

use super::{sign_in::Proven, Service};
use crate::error::ServiceError;
use crate::{
    actor::Actor,
    db::{
        accounts,
        audit::{self, Event},
        invitations::{self, NewInvitation, TokenInvitation},
        members, projects,
    },
    mail::InvitationMail,
    password,
    policy::{self, Action},
};

/// Audit entries per page.
const AUDIT_PAGE: i64 = 100;
const AUDIT_PAGE_LEN: usize = 100;
/// The most entries one export holds (a narrower time range exports more in several files).
pub const MAX_AUDIT_EXPORT: usize = 20_000;

/// The formats the audit log is exported in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditFormat {
    Csv,
    Json,
}

impl Service {
    /// What `query` selects of the team's audit log (OWNER and ADMIN), newest first, as CSV or as a
    /// JSON array, each entry with its place in the team's chain and its MAC. At most
    /// [`MAX_AUDIT_EXPORT`] entries: beyond that the export is refused with a clear message, never cut.
    /// The export itself is audited.
    pub async fn export_audit(
        &self,
        req: &RequestParts,
        query: AuditQuery,
        format: AuditFormat,
    ) -> Result<Vec<u8>, AppError> {
        let mut page_query = parse(query)?.into_inner();
        let (request, actor) = self.actor_for(req, Action::ReadAuditLog).await?;
        let mut entries = Vec::new();
        loop {
            let page = audit::for_team(&self.db, &actor, &page_query, 1_000).await?;
            let Some(last) = page.last() else { break };
            (page_query.before_at, page_query.before_id) = (Some(last.at), Some(last.id.clone()));
            entries.extend(page);
            if entries.len() > MAX_AUDIT_EXPORT {
                let message = format!(
                    "More than {MAX_AUDIT_EXPORT} entries match. Choose a shorter time range and export it in parts."
                );
                return Err(AppError::new(ErrorCode::TooLarge, message));
            }
        }
        let body = match format {
            AuditFormat::Json => {
                // With the team's chain key, so that the team can check the MACs itself
                // (docs/verify-audit-export.py); `null` while the database is on one key for all.
                let team = actor.team_id().to_string();
                let chain_key = self.db.audit_key().and_then(|key| key.team_key(&team));
                let export = serde_json::json!({ "team_id": team, "chain_key": chain_key, "entries": entries });
                serde_json::to_vec(&export)
                    .map_err(|e| crate::error::internal("the audit export could not be written as JSON", e))?
            }
            AuditFormat::Csv => audit_csv(&entries)?,
        };
        let detail = format!("{} entries as {format:?}", entries.len());
        self.audit(&request, audit::Event::AuditExported, Some(&actor), detail).await;
        Ok(body)
    }
}

fn audit_csv(entries: &[app::model::AuditEntry]) -> Result<Vec<u8>, AppError> {
    let header = ["seq", "at_ms", "event", "outcome", "actor", "actor_id", "source_ip", "detail", "id", "mac"];
    let mut csv = crate::spreadsheet::SafeCsv::new(&header).map_err(ServiceError::from)?;
    for e in entries {
        let row = [
            e.seq.map(|s| s.to_string()).unwrap_or_default(),
            e.at.to_string(),
            e.event.clone(),
            e.outcome.clone(),
            e.actor.clone().unwrap_or_default(),
            e.actor_id.map(|a| a.to_string()).unwrap_or_default(),
            e.source_ip.clone().unwrap_or_default(),
            e.detail.clone(),
            e.id.clone(),
            e.mac.clone().unwrap_or_default(),
        ];
        csv.row(row).map_err(ServiceError::from)?;
    }
    Ok(csv.finish().map_err(ServiceError::from)?)
}

/// A new invitation secret: 256 random bits, and the SHA-256 that is stored instead of it.
fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

fn token_hash(token: &str) -> String {
    crate::digest::sha256_hex(token.as_bytes())
}

fn forbidden(message: &str) -> AppError {
    AppError::new(ErrorCode::Forbidden, message)
}

impl Service {
    /// The invitation behind a token if it can still be used, else a clear refusal.
    /// The invitation a link's token names. Guessing tokens counts toward the address's ban, like
    /// guessing passwords.
    async fn usable_invitation(&self, request: &super::Request, token: &str) -> Result<TokenInvitation, AppError> {
        self.not_banned(request, None).await?;
        let Some(invitation) = invitations::find_by_token(&self.db, &token_hash(token)).await? else {
            self.bans.failed(&request.client(), "invitation", "(invitation token)").await?;
            return Err(AppError::new(ErrorCode::NotFound, "This invitation link is not valid."));
        };
        if invitation.revoked {
            return Err(AppError::new(ErrorCode::Gone, "This invitation was revoked."));
        }
        if invitation.accepted {
            return Err(AppError::new(ErrorCode::Gone, "This invitation has already been used."));
        }
        if invitation.expires_at <= self.now() {
            return Err(AppError::new(ErrorCode::Gone, "This invitation has expired. Ask for a new one."));
        }
        // A team that requires single sign-on is joined through its provider: every door that uses
        // an invitation (reading it, accepting it, signing up with it) passes here.
        if crate::db::sso::required(&self.db, invitation.team_id).await? {
            return Err(super::sign_in::sso_required());
        }
        Ok(invitation)
    }

    /// The projects an invitation names, each one of the team's that the actor reads, not archived,
    /// and one the invited role may join ([`policy::may_join_project`]); a clear refusal otherwise.
    async fn invited_projects(&self, actor: &Actor, role: Role, ids: &[ProjectId]) -> Result<(), AppError> {
        for id in ids {
            let project = projects::find(&self.db, actor, *id)
                .await?
                .ok_or_else(|| AppError::field("project_ids", "A project named is not one of the team's."))?;
            if project.archived {
                return Err(AppError::field("project_ids", format!("{} is archived.", project.key)));
            }
            if !policy::may_join_project(role, project.visibility) {
                let message = format!("Guests can only join public projects: {} is not public.", project.key);
                return Err(AppError::field("project_ids", message));
            }
        }
        Ok(())
    }

    /// A pending invitation of the actor's team that the actor may revoke (and so renew).
    async fn manageable_invitation(&self, actor: &Actor, id: InvitationId, now: i64) -> Result<Invitation, AppError> {
        let Some(invitation) = invitations::find_pending(&self.db, actor, id, now).await? else {
            return Err(AppError::not_found());
        };
        if !policy::may(actor, Action::RevokeInvitation(invitation.role)) {
            return Err(forbidden("Only the owner may revoke or renew an invitation for an admin."));
        }
        Ok(invitation)
    }
}

#[async_trait::async_trait]
impl MembersApi for Service {
    async fn list_members(&self, req: &RequestParts) -> Result<Vec<Member>, AppError> {
        let (_, actor) = self.actor_for(req, Action::ListMembers).await?;
        let mut list = members::list(&self.db, &actor).await?;
        if crate::policy::may(&actor, Action::ConfigureSso) {
            let sign_ins = crate::db::sso::member_sign_ins(&self.db, &actor).await?;
            for member in &mut list {
                member.single_sign_on = sign_ins
                    .iter()
                    .find(|(user, ..)| *user == member.user_id)
                    .map(|&(_, made_account, last_sign_in_at)| app::model::MemberSso { made_account, last_sign_in_at });
            }
        }
        Ok(list)
    }

    async fn list_invitations(&self, req: &RequestParts) -> Result<Vec<Invitation>, AppError> {
        let (_, actor) = self.actor_for(req, Action::ListInvitations).await?;
        Ok(invitations::pending(&self.db, &actor, self.now()).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn invite(&self, req: &RequestParts, input: InviteInput) -> Result<CreatedInvitation, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::Invite(input.role)).await?;
        if members::find_by_email(&self.db, &actor, &input.email).await?.is_some() {
            return Err(AppError::field("email", "This person is already a member of the team."));
        }
        self.invited_projects(&actor, input.role, &input.project_ids).await?;
        let (token, token_hash) = new_token();
        let now = self.now();
        let new = NewInvitation {
            email: &input.email,
            role: input.role,
            token_hash: &token_hash,
            now_ms: now,
            expires_at: now.saturating_add(self.invitation_ttl_ms),
            projects: &input.project_ids,
        };
        let invitation = invitations::create(&self.db, &actor, &new).await?;
        let detail = format!("{} invited as {}", invitation.email, invitation.role.label());
        self.audit(&request, Event::InvitationSent, Some(&actor), detail).await;
        let path = format!("/invite/{token}");
        let me = self.me(&actor).await?;
        let mail = InvitationMail {
            to: &invitation.email,
            team: &me.team.name,
            inviter: &me.user.display_name,
            role: invitation.role.label(),
            path: &path,
        };
        let emailed = self.mailer.send_invitation(&mail).await;
        if emailed {
            invitations::mark_emailed(&self.db, &actor, invitation.id).await?;
        }
        Ok(CreatedInvitation { invitation, path, emailed })
    }

    async fn revoke_invitation(&self, req: &RequestParts, input: RevokeInvitationInput) -> Result<(), AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::ListInvitations).await?;
        let now = self.now();
        let invitation = self.manageable_invitation(&actor, input.invitation_id, now).await?;
        if !invitations::revoke(&self.db, &actor, invitation.id, now).await? {
            return Err(AppError::not_found());
        }
        self.audit(&request, Event::InvitationRevoked, Some(&actor), format!("invitation of {}", invitation.email))
            .await;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn renew_invitation(
        &self,
        req: &RequestParts,
        input: RevokeInvitationInput,
    ) -> Result<CreatedInvitation, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::ListInvitations).await?;
        let now = self.now();
        let invitation = self.manageable_invitation(&actor, input.invitation_id, now).await?;
        // Only the token's hash is kept, so the link cannot be shown again: a new one replaces it.
        let (token, token_hash) = new_token();
        let expires_at = now.saturating_add(self.invitation_ttl_ms);
        if !invitations::renew(&self.db, &actor, invitation.id, &token_hash, now, expires_at).await? {
            return Err(AppError::not_found());
        }
        let detail = format!("new link for the invitation of {}", invitation.email);
        self.audit(&request, Event::InvitationRenewed, Some(&actor), detail).await;
        let invitation =
            invitations::find_pending(&self.db, &actor, invitation.id, now).await?.ok_or_else(AppError::not_found)?;
        Ok(CreatedInvitation { invitation, path: format!("/invite/{token}"), emailed: false })
    }

    async fn invitation_info(
        &self,
        req: &RequestParts,
        input: InvitationTokenInput,
    ) -> Result<InvitationOffer, AppError> {
        let input = parse(input)?;
        let request = self.request(req)?;
        let invitation = self.usable_invitation(&request, &input.token).await?;
        let account_exists = accounts::email_exists(&self.db, &invitation.email).await?;
        let mut conn = self.db.pool().acquire().await.map_err(crate::db::DbError::from)?;
        let projects = invitations::joinable_projects(&mut conn, &invitation).await?;
        Ok(InvitationOffer {
            projects: projects.into_iter().map(|(_, name)| name).collect(),
            team_name: invitation.team_name,
            email: invitation.email,
            role: invitation.role,
            invited_by: invitation.invited_by,
            account_exists,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn accept_invitation(&self, req: &RequestParts, input: AcceptInvitationInput) -> Result<Me, AppError> {
        let input = parse(input)?;
        let request = self.request(req)?;
        let invitation = self.usable_invitation(&request, &input.token).await?;
        // Who accepts: the signed-in user, or the invitation's account proven by its password.
        let user_id = match (self.sessions.signed_in_user(request.session()?).await?, &input.password) {
            (Some(user_id), _) => {
                let user = accounts::find_user(&self.db, user_id).await?.ok_or_else(AppError::unauthenticated)?;
                if !policy::may_accept_invitation(&user.email, &invitation.email) {
                    return Err(forbidden("This invitation is for another email address."));
                }
                user_id
            }
            (None, Some(password)) => {
                let credentials = accounts::find_credentials(&self.db, &invitation.email).await?;
                let (user_id, stored) = match credentials {
                    Some(c) => (Some(c.user_id), Some(c.password_hash)),
                    None => (None, None),
                };
                self.not_banned(&request, Some(&invitation.email)).await?;
                let valid = password::verify(password.clone(), stored).await?;
                if !valid {
                    self.bans.failed(&request.client(), "accept_invitation", &invitation.email).await?;
                }
                let user_id = user_id.filter(|_| valid).ok_or_else(AppError::invalid_credentials)?;
                // The password signs in only through the gate: with two-factor authentication on, this
                // answers `SecondFactorRequired`, accepts nothing and signs nobody in.
                self.sign_in_with(&request, Proven::Password(user_id), invitation.team_id, "accept_invitation").await?;
                user_id
            }
            (None, None) => return Err(AppError::unauthenticated()),
        };
        let mut tx = self.db.begin_write().await?;
        match invitations::accept(&mut tx, &invitation, user_id, self.now()).await {
            Ok(true) => {}
            Ok(false) => return Err(AppError::new(ErrorCode::Gone, "This invitation has already been used.")),
            Err(e) if e.is_unique_violation() => {
                return Err(AppError::new(ErrorCode::Conflict, "You are already a member of this team."));
            }
            Err(e) => return Err(e.into()),
        }
        tx.commit().await?;
        // Joining moves the session to the new team, under a new session id.
        self.sessions.join_team(request.session()?, user_id, invitation.team_id).await?;
        let joined = self.sessions.actor(&self.db, request.session()?).await?.ok_or_else(AppError::internal)?;
        let detail = format!("joined as {}", invitation.role.as_str());
        self.audit(&request, Event::InvitationAccepted, Some(&joined), detail).await;
        self.me(&joined).await
    }

    #[tracing::instrument(skip_all)]
    async fn sign_up_with_invitation(&self, req: &RequestParts, input: InvitedSignUpInput) -> Result<Me, AppError> {
        let input = parse(input)?;
        let request = self.request(req)?;
        let invitation = self.usable_invitation(&request, &input.token).await?;
        if accounts::email_exists(&self.db, &invitation.email).await? {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "An account with this email exists already: sign in to accept the invitation.",
            ));
        }
        let hash = password::hash(input.password.clone()).await?;
        let now = self.now();
        let mut tx = self.db.begin_write().await?;
        let user_id = match accounts::insert_user(&mut tx, &invitation.email, &input.display_name, &hash, now).await {
            Ok(id) => id,
            Err(e) if e.is_unique_violation() => {
                return Err(AppError::new(ErrorCode::Conflict, "An account with this email exists already."));
            }
            Err(e) => return Err(e.into()),
        };
        if !invitations::accept(&mut tx, &invitation, user_id, now).await? {
            return Err(AppError::new(ErrorCode::Gone, "This invitation has already been used."));
        }
        tx.commit().await?;
        let actor = self
            .sign_in_with(&request, Proven::NewAccount(user_id), invitation.team_id, "sign_up_with_invitation")
            .await?
            .ok_or_else(AppError::internal)?;
        self.audit(
            &request,
            Event::InvitationAccepted,
            Some(&actor),
            format!("new account, joined as {}", invitation.role.as_str()),
        )
        .await;
        self.me(&actor).await
    }

    #[tracing::instrument(skip_all)]
    async fn change_role(&self, req: &RequestParts, input: ChangeRoleInput) -> Result<Member, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::ManageMembers).await?;
        let Some(target) = members::find(&self.db, &actor, input.user_id).await? else {
            return Err(AppError::not_found());
        };
        if target.user_id == actor.user_id() {
            return Err(forbidden("You cannot change your own role."));
        }
        if !policy::may(&actor, Action::ChangeRole { from: target.role, to: input.role }) {
            return Err(forbidden("Only the owner may change an admin or make someone an admin."));
        }
        if !members::set_role(&self.db, &actor, target.user_id, input.role).await? {
            return Err(AppError::not_found());
        }
        let detail = format!("{}: {} to {}", target.email, target.role.label(), input.role.label());
        self.audit(&request, Event::RoleChanged, Some(&actor), detail).await;
        members::find(&self.db, &actor, target.user_id).await?.ok_or_else(AppError::not_found)
    }

    #[tracing::instrument(skip_all)]
    async fn remove_member(&self, req: &RequestParts, input: MemberInput) -> Result<(), AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::ManageMembers).await?;
        let Some(target) = members::find(&self.db, &actor, input.user_id).await? else {
            return Err(AppError::not_found());
        };
        if target.user_id == actor.user_id() {
            return Err(forbidden("To leave the team, use \"Leave team\"."));
        }
        if !policy::may(&actor, Action::RemoveMember(target.role)) {
            return Err(forbidden("Only the owner may remove an admin; the owner cannot be removed."));
        }
        if !members::remove(&self.db, &actor, target.user_id).await? {
            return Err(AppError::not_found());
        }
        self.audit(&request, Event::MemberRemoved, Some(&actor), format!("{} ({})", target.email, target.role.label()))
            .await;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn transfer_ownership(&self, req: &RequestParts, input: MemberInput) -> Result<Me, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::ManageMembers).await?;
        let Some(target) = members::find(&self.db, &actor, input.user_id).await? else {
            return Err(AppError::not_found());
        };
        if !policy::may(&actor, Action::TransferOwnership) {
            return Err(forbidden("Only the owner may transfer ownership."));
        }
        if !policy::may_receive_ownership(&actor, target.user_id, target.role) {
            return Err(forbidden("Ownership can go only to another admin or member (not a guest)."));
        }
        if !members::transfer_ownership(&self.db, &actor, target.user_id).await? {
            return Err(AppError::new(ErrorCode::Conflict, "Ownership could not be transferred. Please reload."));
        }
        self.audit(&request, Event::OwnershipTransferred, Some(&actor), format!("to {}", target.email)).await;
        let actor = self.sessions.actor(&self.db, request.session()?).await?.ok_or_else(AppError::unauthenticated)?;
        self.me(&actor).await
    }

    #[tracing::instrument(skip_all)]
    async fn leave_team(&self, req: &RequestParts) -> Result<Option<Me>, AppError> {
        let (request, actor) = self.actor(req).await?;
        if !policy::may(&actor, Action::LeaveTeam) {
            return Err(forbidden("The owner must transfer ownership before leaving the team."));
        }
        if !members::leave(&self.db, &actor).await? {
            return Err(AppError::not_found());
        }
        self.audit(&request, Event::MemberLeft, Some(&actor), String::new()).await;
        // The next team this session may enter (a team that requires single sign-on admits only
        // sessions its provider signed in); with none, the session ends.
        let mut next = None;
        for team in accounts::memberships(&self.db, actor.user_id()).await? {
            if self.sessions.admitted(request.session()?, &team).await? {
                next = Some(team);
                break;
            }
        }
        if let Some(team) = next {
            self.sessions.set_team(request.session()?, &actor, team.id).await?;
            let actor =
                self.sessions.actor(&self.db, request.session()?).await?.ok_or_else(AppError::unauthenticated)?;
            self.me(&actor).await.map(Some)
        } else {
            self.sessions.end(request.session()?).await?;
            Ok(None)
        }
    }

    async fn audit_log(&self, req: &RequestParts, input: AuditQuery) -> Result<AuditPage, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor_for(req, Action::ReadAuditLog).await?;
        let mut entries = audit::for_team(&self.db, &actor, &input, AUDIT_PAGE + 1).await?;
        let next = if entries.len() > AUDIT_PAGE_LEN {
            entries.truncate(AUDIT_PAGE_LEN);
            entries.last().map(|e| (e.at, e.id.clone()))
        } else {
            None
        };
        Ok(AuditPage { entries, next })
    }
}
