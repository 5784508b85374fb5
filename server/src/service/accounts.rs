//! Signing up, in and out, and choosing the active team.

use app::{
    api::{AccountsApi, RequestParts},
    error::AppError,
    model::{parse, Me, SignInInput, SignUpInput, SwitchTeamInput, TeamMembership},
};

use super::{sign_in::Proven, Service};
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
        tracing::info!(user_id = %user_id, team_id = %team_id, "account created");
        let actor = self
            .sign_in_with(&request, Proven::NewAccount(user_id), team_id, "sign_up")
            .await?
            .ok_or_else(AppError::internal)?;
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
            self.bans.failed(&request.client(), "sign_in", &input.email).await?;
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
        let team = self.first_team(user_id, None).await?;
        // With two-factor authentication on, this answers `SecondFactorRequired` and signs nobody in.
        let actor = self
            .sign_in_with(&request, Proven::Password(user_id), team, "sign_in")
            .await?
            .ok_or_else(AppError::internal)?;
        self.me(&actor).await
    }

    async fn sign_out(&self, req: &RequestParts) -> Result<(), AppError> {
        let request = self.request(req)?;
        if let Some(actor) = self.sessions.actor(&self.db, request.session()?).await? {
            self.audit(&request, audit::Event::SignedOut, Some(&actor), String::new()).await;
        }
        self.sessions.end(request.session()?).await?;
        Ok(())
    }

    async fn who_am_i(&self, req: &RequestParts) -> Result<Option<Me>, AppError> {
        let request = self.request(req)?;
        match self.sessions.actor(&self.db, request.session()?).await? {
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
        let Some(membership) = membership.filter(|m| policy::may_enter_team(Some(m))) else {
            return Err(AppError::not_found());
        };
        // A team that requires single sign-on admits only sessions its provider signed in (and its
        // OWNER's break-glass); the actor of every request asks again.
        if !self.sessions.admitted(request.session()?, &membership).await? {
            return Err(super::sign_in::sso_required());
        }
        self.sessions.set_team(request.session()?, &actor, input.team_id).await?;
        let actor = self.sessions.actor(&self.db, request.session()?).await?.ok_or_else(AppError::unauthenticated)?;
        tracing::info!(user_id = %actor.user_id(), team_id = %actor.team_id(), "switched team");
        self.audit(&request, audit::Event::TeamSwitched, Some(&actor), String::new()).await;
        self.me(&actor).await
    }
}
