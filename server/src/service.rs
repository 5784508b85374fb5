//! Moth's implementation of the server functions ([`app::api::Backend`]). Each method validates its
//! input with the shared rules, establishes the actor from the session, and calls the data layer.

use std::sync::Arc;

use app::{
    api::{Backend, RequestParts},
    error::{AppError, ErrorCode},
    model::{parse, Me, SignInInput, SignUpInput, SwitchTeamInput, TeamMembership},
};
use tower_sessions::Session;

use crate::{
    clock::{unix_millis, Clock},
    db::{accounts, Db},
    error::ServiceError,
    password,
    session::{Actor, SessionPolicy},
};

pub struct MothBackend {
    db: Db,
    clock: Arc<dyn Clock>,
    sessions: SessionPolicy,
}

impl MothBackend {
    pub fn new(db: Db, clock: Arc<dyn Clock>, sessions: SessionPolicy) -> Self {
        Self { db, clock, sessions }
    }

    fn session(req: &RequestParts) -> Result<Session, ServiceError> {
        req.extensions.get::<Session>().cloned().ok_or(ServiceError::NoSession)
    }

    /// The signed-in actor, or `Unauthenticated`.
    async fn actor(&self, req: &RequestParts) -> Result<(Session, Actor), AppError> {
        let session = Self::session(req)?;
        match self.sessions.actor(&self.db, &session).await? {
            Some(actor) => Ok((session, actor)),
            None => Err(AppError::unauthenticated()),
        }
    }

    async fn me(&self, actor: &Actor) -> Result<Me, AppError> {
        let user = accounts::find_user(&self.db, actor.user_id()).await?;
        let team = accounts::membership(&self.db, actor.user_id(), actor.team_id()).await?;
        match (user, team) {
            (Some(user), Some(team)) => Ok(Me { user, team }),
            _ => Err(AppError::unauthenticated()),
        }
    }
}

#[async_trait::async_trait]
impl Backend for MothBackend {
    #[tracing::instrument(skip_all)]
    async fn sign_up(&self, req: &RequestParts, input: SignUpInput) -> Result<Me, AppError> {
        let input = parse(input)?;
        let session = Self::session(req)?;
        let hash = password::hash(input.password.clone()).await?;
        let now = unix_millis(self.clock.now());
        let (user_id, team_id) = match accounts::create_account(&self.db, &input, &hash, now).await {
            Ok(ids) => ids,
            Err(e) if e.is_unique_violation() => {
                return Err(AppError::field("email", "An account with this email already exists."));
            }
            Err(e) => return Err(e.into()),
        };
        self.sessions.begin(&session, user_id, team_id).await?;
        tracing::info!(user_id = %user_id, team_id = %team_id, "account created");
        let actor = self.sessions.actor(&self.db, &session).await?.ok_or_else(AppError::internal)?;
        self.me(&actor).await
    }

    #[tracing::instrument(skip_all)]
    async fn sign_in(&self, req: &RequestParts, input: SignInInput) -> Result<Me, AppError> {
        let input = parse(input)?;
        let session = Self::session(req)?;
        let credentials = accounts::find_credentials(&self.db, &input.email).await?;
        let (user_id, stored) = match credentials {
            Some(c) => (Some(c.user_id), Some(c.password_hash)),
            None => (None, None),
        };
        // Unknown emails are checked against a dummy hash: same answer, similar time.
        let valid = password::verify(input.password.clone(), stored).await?;
        let Some(user_id) = user_id.filter(|_| valid) else {
            tracing::info!("sign-in refused");
            return Err(AppError::invalid_credentials());
        };
        let Some(team) = accounts::memberships(&self.db, user_id).await?.into_iter().next() else {
            return Err(AppError::new(ErrorCode::Forbidden, "Your account is not a member of any team."));
        };
        self.sessions.begin(&session, user_id, team.id).await?;
        tracing::info!(user_id = %user_id, team_id = %team.id, "signed in");
        let actor = self.sessions.actor(&self.db, &session).await?.ok_or_else(AppError::internal)?;
        self.me(&actor).await
    }

    async fn sign_out(&self, req: &RequestParts) -> Result<(), AppError> {
        let session = Self::session(req)?;
        self.sessions.end(&session).await?;
        Ok(())
    }

    async fn who_am_i(&self, req: &RequestParts) -> Result<Option<Me>, AppError> {
        let session = Self::session(req)?;
        match self.sessions.actor(&self.db, &session).await? {
            Some(actor) => self.me(&actor).await.map(Some),
            None => Ok(None),
        }
    }

    async fn my_teams(&self, req: &RequestParts) -> Result<Vec<TeamMembership>, AppError> {
        let (_, actor) = self.actor(req).await?;
        Ok(accounts::memberships(&self.db, actor.user_id()).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn switch_team(&self, req: &RequestParts, input: SwitchTeamInput) -> Result<Me, AppError> {
        let input = parse(input)?;
        let (session, actor) = self.actor(req).await?;
        // Only a team the user belongs to; any other id is "not found", whether it exists or not.
        if accounts::membership(&self.db, actor.user_id(), input.team_id).await?.is_none() {
            return Err(AppError::not_found());
        }
        self.sessions.set_team(&session, &actor, input.team_id).await?;
        tracing::info!(user_id = %actor.user_id(), team_id = %input.team_id, "switched team");
        let actor = self.sessions.actor(&self.db, &session).await?.ok_or_else(AppError::unauthenticated)?;
        self.me(&actor).await
    }
}
