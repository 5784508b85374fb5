//! The one door to a signed-in session. Every server function that signs someone in (sign-up,
//! sign-in, accepting an invitation with a password, the second factor, and any later one such as
//! single sign-on) hands what it proved to [`Service::sign_in_with`], which alone decides whether a
//! second factor is still owed, starts the session under a new id, and writes the `signed_in` audit
//! entry. [`SessionPolicy::begin`](crate::service::session::SessionPolicy::begin) takes a [`SignInGrant`],
//! which only this module can make, so no other code can start a session.

use app::{
    error::{AppError, ErrorCode},
    model::{Role, TeamId, TeamMembership, UserId},
};

use super::{session, Request, Service};
use crate::{
    actor::Actor,
    db::{accounts, audit, sso},
};

/// What a request has proven about who is signing in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Proven {
    /// The right password of an existing account: a second factor may still be owed.
    Password(UserId),
    /// An account made in this request with the password just chosen: it has no second factor yet.
    NewAccount(UserId),
    /// A right second factor, after a right password or single sign-on in this same session
    /// (`second_factor`).
    SecondFactor(UserId, SecondFactorProof),
    /// An ID token of the team's identity provider, verified, naming an identity linked to this
    /// account (`service::sso`).
    SingleSignOn(UserId),
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
            Self::Password(user) | Self::NewAccount(user) | Self::SecondFactor(user, _) | Self::SingleSignOn(user) => {
                user
            }
        }
    }

    /// How the user signed in, for the audit entry.
    fn how(self) -> &'static str {
        match self {
            Self::Password(_) => "with a password",
            Self::NewAccount(_) => "with a new account",
            Self::SecondFactor(_, SecondFactorProof::Code) => "with an authentication code",
            Self::SecondFactor(_, SecondFactorProof::RecoveryCode) => "with a recovery code",
            Self::SingleSignOn(_) => "through single sign-on",
        }
    }
}

/// Leave to start a signed-in session for one user in one team. Its fields are private to this
/// module: holding one means [`Service::sign_in_with`] found nothing more owed.
#[derive(Debug)]
pub struct SignInGrant {
    user_id: UserId,
    team_id: TeamId,
    through_sso: bool,
    second_factor: bool,
}

impl SignInGrant {
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    pub fn team_id(&self) -> TeamId {
        self.team_id
    }

    /// The team's identity provider signed the user in (single sign-on).
    pub fn through_sso(&self) -> bool {
        self.through_sso
    }

    /// A second factor was proven.
    pub fn second_factor(&self) -> bool {
        self.second_factor
    }
}

/// The answer of every door when the team signs its members in through its provider.
pub(super) fn sso_required() -> AppError {
    AppError::new(
        ErrorCode::SingleSignOnRequired,
        "Your team signs in through its identity provider: use the single sign-on button on its sign-in page.",
    )
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
        let session = request.session()?;
        let user_id = proven.user_id();
        // An identity of a provider waiting for this account's confirmation: this sign-in confirms
        // it, and the session enters that team as the provider's.
        let link = self.sessions.pending_link(session, user_id).await?;
        let team = link.as_ref().map_or(team, |l| l.team_id);
        let through_sso = match proven {
            Proven::SingleSignOn(_) => true,
            Proven::SecondFactor(..) => self.sessions.pending_through_sso(session).await?,
            Proven::Password(_) | Proven::NewAccount(_) => link.is_some(),
        };
        let owed = match proven {
            // Only a factor proven in this very session settles it; a password never does.
            Proven::SecondFactor(..) => false,
            Proven::Password(_) | Proven::NewAccount(_) | Proven::SingleSignOn(_) => {
                self.has_two_factor(user_id).await?
            }
        };
        let second_factor = matches!(proven, Proven::SecondFactor(..));
        if let Some(membership) = accounts::membership(&self.db, user_id, team).await? {
            // The owner's break-glass passes with a second factor, proven or still owed.
            if !session::sso_admits(&membership, through_sso.then_some(team), second_factor || owed) {
                self.refuse_sso_required(request, user_id, team, door).await;
                return Err(sso_required());
            }
        }
        if owed {
            self.sessions.begin_pending(session, user_id, team, through_sso).await?;
            return Err(second_factor_owed());
        }
        if let Some(link) = link {
            self.confirm_link(request, &link).await?;
        }
        let grant = SignInGrant { user_id, team_id: team, through_sso, second_factor };
        self.sessions.begin(session, &grant).await?;
        let actor = self.sessions.actor(&self.db, session).await?;
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

    /// Audits a sign-in refused because the team requires single sign-on.
    async fn refuse_sso_required(&self, request: &Request, user_id: UserId, team: TeamId, door: &str) {
        tracing::info!(user_id = %user_id, team_id = %team, door, "sign-in refused: the team requires single sign-on");
        let record = audit::Record {
            event: audit::Event::SignInFailed,
            success: false,
            team_id: Some(team),
            actor_id: Some(user_id),
            detail: format!("the team requires single sign-on ({door})"),
            source_ip: request.source_ip.clone(),
        };
        audit::record(&self.db, record, self.now()).await;
    }

    /// Links a provider's identity to the account that has just confirmed it by signing in.
    async fn confirm_link(&self, request: &Request, link: &session::SsoLink) -> Result<(), AppError> {
        let identity = sso::Identity { team: link.team_id, issuer: &link.issuer, subject: &link.subject };
        match sso::link(&self.db, &identity, link.user_id, link.role, self.now()).await {
            Ok(()) => {}
            // Linked meanwhile (two tabs): the identity is the account's already.
            Err(e) if e.is_unique_violation() => {}
            Err(e) => return Err(e.into()),
        }
        self.sessions.forget_link(request.session()?).await?;
        let record = audit::Record {
            event: audit::Event::SsoLinked,
            success: true,
            team_id: Some(link.team_id),
            actor_id: Some(link.user_id),
            detail: format!("subject {} of {} linked after the account signed in", link.subject, link.issuer),
            source_ip: request.source_ip.clone(),
        };
        audit::record(&self.db, record, self.now()).await;
        Ok(())
    }

    /// The team a sign-in starts in: the user's first that admits a password (a team that requires
    /// single sign-on admits only its OWNER's), else their first, or `fallback` for one that belongs
    /// to none yet (accepting an invitation).
    pub(super) async fn first_team(&self, user_id: UserId, fallback: Option<TeamId>) -> Result<TeamId, AppError> {
        let teams = accounts::memberships(&self.db, user_id).await?;
        let admits_password = |m: &&TeamMembership| !m.requires_single_sign_on || m.role == Role::Owner;
        match (teams.iter().find(admits_password).or(teams.first()), fallback) {
            (Some(team), _) => Ok(team.id),
            (None, Some(team)) => Ok(team),
            (None, None) => Err(AppError::new(ErrorCode::Forbidden, "Your account is not a member of any team.")),
        }
    }
}
