//! The one door to a signed-in session. Every server function that signs someone in (sign-up,
//! sign-in, accepting an invitation with a password, the second factor, and any later one such as
//! single sign-on) hands what it proved to [`Service::sign_in_with`], which alone decides whether a
//! second factor is still owed, starts the session under a new id, and writes the `signed_in` audit
//! entry. [`SessionPolicy::begin`](crate::service::session::SessionPolicy::begin) takes a [`SignInGrant`],
//! which only this module can make, so no other code can start a session.

use app::{
    error::{AppError, ErrorCode},
    model::{TeamId, UserId},
};

use super::{Request, Service};
use crate::{
    actor::Actor,
    db::{accounts, audit},
};

/// What a request has proven about who is signing in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Proven {
    /// The right password of an existing account: a second factor may still be owed.
    Password(UserId),
    /// An account made in this request with the password just chosen: it has no second factor yet.
    NewAccount(UserId),
    /// A right second factor, after a right password in this same session (`second_factor`).
    SecondFactor(UserId, SecondFactorProof),
}

/// How a second factor was proven.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SecondFactorProof {
    Code,
    RecoveryCode,
}

impl Proven {
    fn user_id(self) -> UserId {
        match self {
            Self::Password(user) | Self::NewAccount(user) | Self::SecondFactor(user, _) => user,
        }
    }

    /// How the user signed in, for the audit entry.
    fn how(self) -> &'static str {
        match self {
            Self::Password(_) => "with a password",
            Self::NewAccount(_) => "with a new account",
            Self::SecondFactor(_, SecondFactorProof::Code) => "with an authentication code",
            Self::SecondFactor(_, SecondFactorProof::RecoveryCode) => "with a recovery code",
        }
    }
}

/// Leave to start a signed-in session for one user in one team. Its fields are private to this
/// module: holding one means [`Service::sign_in_with`] found nothing more owed.
#[derive(Debug)]
pub struct SignInGrant {
    user_id: UserId,
    team_id: TeamId,
}

impl SignInGrant {
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    pub fn team_id(&self) -> TeamId {
        self.team_id
    }
}

/// The answer of every door when a second factor is still owed.
fn second_factor_owed() -> AppError {
    AppError::new(ErrorCode::SecondFactorRequired, "Enter the code from your authenticator app, or a recovery code.")
}

impl Service {
    /// Turns proven credentials into a signed-in session with `team` active, or, when a second
    /// factor is owed, into a session that waits for it and signs nobody in
    /// (`SecondFactorRequired`). Writes the `signed_in` audit entry (`detail` says through which
    /// door). Answers the actor, or `None` when the user is not (yet) a member of `team` (an
    /// invitation accepted after the second factor).
    pub(super) async fn sign_in_with(
        &self,
        request: &Request,
        proven: Proven,
        team: TeamId,
        door: &str,
    ) -> Result<Option<Actor>, AppError> {
        let user_id = proven.user_id();
        let owed = match proven {
            // Only a factor proven in this very session settles it; a password never does.
            Proven::SecondFactor(..) => false,
            Proven::Password(_) | Proven::NewAccount(_) => self.has_two_factor(user_id).await?,
        };
        if owed {
            self.sessions.begin_pending(request.session()?, user_id, team).await?;
            return Err(second_factor_owed());
        }
        let grant = SignInGrant { user_id, team_id: team };
        self.sessions.begin(request.session()?, &grant).await?;
        let actor = self.sessions.actor(&self.db, request.session()?).await?;
        tracing::info!(user_id = %user_id, team_id = %team, door, "signed in");
        // This browser now gets through the account's failure ceiling (see `crate::bans`).
        if let Some(user) = accounts::find_user(&self.db, user_id).await? {
            self.bans.signed_in(&request.client(), &user.email).await?;
        }
        let record = audit::Record {
            event: audit::Event::SignedIn,
            success: true,
            team_id: actor.as_ref().map(Actor::team_id),
            actor_id: Some(user_id),
            detail: format!("{} ({door})", proven.how()),
            source_ip: request.source_ip.clone(),
        };
        audit::record(&self.db, record, self.now()).await;
        Ok(actor)
    }

    /// The team a sign-in starts in: the user's first, or `fallback` for one that belongs to none
    /// yet (accepting an invitation).
    pub(super) async fn first_team(&self, user_id: UserId, fallback: Option<TeamId>) -> Result<TeamId, AppError> {
        match (accounts::memberships(&self.db, user_id).await?.into_iter().next(), fallback) {
            (Some(team), _) => Ok(team.id),
            (None, Some(team)) => Ok(team),
            (None, None) => Err(AppError::new(ErrorCode::Forbidden, "Your account is not a member of any team.")),
        }
    }
}
