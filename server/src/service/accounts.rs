//! Signing up, in and out, and choosing the active team.

use app::{
    api::{AccountsApi, RequestParts},
    error::{AppError, ErrorCode},
    model::{parse, Me, SignInInput, SignUpInput, SwitchTeamInput, TeamMembership},
};

use super::Service;
use crate::{
    db::{accounts, audit},
    password, policy,
};

impl Service {}

#[async_trait::async_trait]
impl AccountsApi for Service {
    #[tracing::instrument(skip_all)]
    async fn sign_up(&self, req: &RequestParts, input: SignUpInput) -> Result<Me, AppError> {
        let input = parse(input)?;
        let request = self.request(req)?;
        let hash = password::hash(input.password.clone()).await?;
        let (user_id, team_id) = match accounts::create_account(&self.db, &input, &hash, self.now()).await {
            Ok(ids) => ids,
            Err(e) if e.is_unique_violation() => {
                return Err(AppError::field("email", "An account with this email already exists."));
            }
            Err(e) => return Err(e.into()),
        };
        self.sessions.begin(&request.session, user_id, team_id).await?;
        let actor = self.sessions.actor(&self.db, &request.session).await?.ok_or_else(AppError::internal)?;
        tracing::info!(user_id = %user_id, team_id = %team_id, "account created");
        self.audit(&request, audit::Event::AccountCreated, Some(&actor), String::new()).await;
        self.me(&actor).await
    }

    #[tracing::instrument(skip_all)]
    async fn sign_in(&self, req: &RequestParts, input: SignInInput) -> Result<Me, AppError> {
        let input = parse(input)?;
        let request = self.request(req)?;
        self.not_banned(&request, Some(&input.email)).await?;
        let credentials = accounts::find_credentials(&self.db, &input.email).await?;
        let (user_id, stored) = match credentials {
            Some(c) => (Some(c.user_id), Some(c.password_hash)),
            None => (None, None),
        };
        // Unknown emails are checked against a dummy hash: same answer, similar time.
        let valid = password::verify(input.password.clone(), stored).await?;
        let Some(user_id) = user_id.filter(|_| valid) else {
            tracing::info!("sign-in refused");
            self.bans.failed(request.address(), "sign_in", &input.email).await?;
            let record = audit::Record {
                event: audit::Event::SignInFailed,
                success: false,
                team_id: None,
                actor_id: user_id,
                detail: format!("email {}", input.email),
                source_ip: request.source_ip.clone(),
            };
            audit::record(&self.db, record, self.now()).await;
            return Err(AppError::invalid_credentials());
        };
        let Some(team) = accounts::memberships(&self.db, user_id).await?.into_iter().next() else {
            return Err(AppError::new(ErrorCode::Forbidden, "Your account is not a member of any team."));
        };
        if self.has_two_factor(user_id).await? {
            // Nobody is signed in until the second factor is right (`second_factor`).
            self.sessions.begin_pending(&request.session, user_id, team.id).await?;
            let message = "Enter the code from your authenticator app, or a recovery code.";
            return Err(AppError::new(ErrorCode::SecondFactorRequired, message));
        }
        self.sessions.begin(&request.session, user_id, team.id).await?;
        let actor = self.sessions.actor(&self.db, &request.session).await?.ok_or_else(AppError::internal)?;
        tracing::info!(user_id = %user_id, team_id = %team.id, "signed in");
        self.audit(&request, audit::Event::SignedIn, Some(&actor), String::new()).await;
        self.me(&actor).await
    }

    async fn sign_out(&self, req: &RequestParts) -> Result<(), AppError> {
        let request = self.request(req)?;
        if let Some(actor) = self.sessions.actor(&self.db, &request.session).await? {
            self.audit(&request, audit::Event::SignedOut, Some(&actor), String::new()).await;
        }
        self.sessions.end(&request.session).await?;
        Ok(())
    }

    async fn who_am_i(&self, req: &RequestParts) -> Result<Option<Me>, AppError> {
        let request = self.request(req)?;
        match self.sessions.actor(&self.db, &request.session).await? {
            Some(actor) => self.me(&actor).await.map(Some),
            None => Ok(None),
        }
    }

    async fn my_teams(&self, req: &RequestParts) -> Result<Vec<TeamMembership>, AppError> {
        let (_, actor) = self.actor_setting_up(req).await?;
        Ok(accounts::memberships(&self.db, actor.user_id()).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn switch_team(&self, req: &RequestParts, input: SwitchTeamInput) -> Result<Me, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_setting_up(req).await?;
        // Only a team the user belongs to; any other id is "not found", whether it exists or not.
        let membership = accounts::membership(&self.db, actor.user_id(), input.team_id).await?;
        if !policy::may_enter_team(membership.as_ref()) {
            return Err(AppError::not_found());
        }
        self.sessions.set_team(&request.session, &actor, input.team_id).await?;
        let actor = self.sessions.actor(&self.db, &request.session).await?.ok_or_else(AppError::unauthenticated)?;
        tracing::info!(user_id = %actor.user_id(), team_id = %actor.team_id(), "switched team");
        self.audit(&request, audit::Event::TeamSwitched, Some(&actor), String::new()).await;
        self.me(&actor).await
    }
}
