//! Who is making a request, as only the server-side session can say. The session keeps the user id,
//! the active team, and when the user signed in and was last seen; the role is read from the database
//! on every request, so that a changed role applies at once. Idle and absolute timeouts are checked
//! against the injectable [`Clock`].

use std::{sync::Arc, time::Duration};

use app::model::{Role, TeamId, TeamMembership, UserId};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::{
    actor::Actor,
    clock::{unix_millis, Clock},
    db::{accounts, sessions::AUTH_KEY, Db},
    error::ServiceError,
    service::SignInGrant,
};

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct AuthRecord {
    user_id: UserId,
    team_id: TeamId,
    signed_in_at: i64,
    last_seen_at: i64,
    /// The team whose identity provider signed this session in (single sign-on), if one did.
    #[serde(default)]
    sso_team: Option<TeamId>,
    /// A second factor was proven at sign-in.
    #[serde(default)]
    second_factor: bool,
}

/// A sign-in waiting for its second factor: the password was right, nobody is signed in yet.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct PendingRecord {
    user_id: UserId,
    team_id: TeamId,
    since: i64,
    /// The first factor was the team's identity provider (single sign-on), not a password.
    #[serde(default)]
    through_sso: bool,
}

const PENDING_KEY: &str = "moth.second_factor";

/// A single sign-on round trip this browser started: what checks the provider's answer. One use:
/// the callback takes it out whatever it finds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SsoFlow {
    pub team_id: TeamId,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The redirect URI the round trip began with, which the code exchange must repeat.
    pub redirect_uri: String,
    pub since: i64,
}

const SSO_FLOW_KEY: &str = "moth.sso_flow";

/// An identity of a team's provider whose email names an existing account: linked once that
/// account's owner signs in with it in this session, within [`SSO_WINDOW_MS`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SsoLink {
    pub team_id: TeamId,
    pub issuer: String,
    pub subject: String,
    pub user_id: UserId,
    pub role: Role,
    pub since: i64,
}

const SSO_LINK_KEY: &str = "moth.sso_link";

/// How long a single sign-on round trip, or a link waiting for its confirmation, may take.
pub const SSO_WINDOW_MS: i64 = 10 * 60_000;

/// Whether a session may act in a team: a team that requires single sign-on admits a session its
/// provider signed in, and its OWNER's break-glass session (a password with a second factor); any
/// other team admits every session. The one rule every door asks (sign-in, the actor of each
/// request, switching teams).
pub fn sso_admits(membership: &TeamMembership, sso_team: Option<TeamId>, second_factor: bool) -> bool {
    !membership.requires_single_sign_on
        || sso_team == Some(membership.id)
        || (membership.role == Role::Owner && second_factor)
}

/// How long a sign-in waits for its second factor.
pub const SECOND_FACTOR_WINDOW_MS: i64 = 5 * 60_000;

pub struct SessionPolicy {
    clock: Arc<dyn Clock>,
    idle: i64,
    absolute: i64,
}

/// Activity is written to the session at most this often, so that reading a session costs no write;
/// the idle timeout therefore counts from activity up to a minute old.
pub const ACTIVITY_GRANULARITY_MS: i64 = 60_000;

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl SessionPolicy {
    pub fn new(clock: Arc<dyn Clock>, idle: Duration, absolute: Duration) -> Self {
        Self { clock, idle: millis(idle), absolute: millis(absolute) }
    }

    fn now(&self) -> i64 {
        unix_millis(self.clock.now())
    }

    /// Signs the grant's user in with its team active, under a new session id (no fixation). Only the
    /// sign-in gate (`service::sign_in`) can make a grant.
    pub async fn begin(&self, session: &Session, grant: &SignInGrant) -> Result<(), ServiceError> {
        session.cycle_id().await?;
        session.remove::<PendingRecord>(PENDING_KEY).await?;
        let now = self.now();
        let (user_id, team_id) = (grant.user_id(), grant.team_id());
        let record = AuthRecord {
            user_id,
            team_id,
            signed_in_at: now,
            last_seen_at: now,
            sso_team: grant.through_sso().then_some(team_id),
            second_factor: grant.second_factor(),
        };
        session.insert(AUTH_KEY, record).await?;
        Ok(())
    }

    /// The password was right and a second factor is needed: the session (under a new id) holds who
    /// is signing in, and signs nobody in.
    pub async fn begin_pending(
        &self,
        session: &Session,
        user_id: UserId,
        team_id: TeamId,
        through_sso: bool,
    ) -> Result<(), ServiceError> {
        session.cycle_id().await?;
        session.remove::<AuthRecord>(AUTH_KEY).await?;
        session.insert(PENDING_KEY, PendingRecord { user_id, team_id, since: self.now(), through_sso }).await?;
        Ok(())
    }

    /// Whether the sign-in waiting for its second factor came through single sign-on.
    pub async fn pending_through_sso(&self, session: &Session) -> Result<bool, ServiceError> {
        Ok(session.get::<PendingRecord>(PENDING_KEY).await?.is_some_and(|r| r.through_sso))
    }

    /// Keeps a started single sign-on round trip in the session (replacing any earlier one).
    pub async fn begin_sso(&self, session: &Session, flow: &SsoFlow) -> Result<(), ServiceError> {
        session.insert(SSO_FLOW_KEY, flow).await?;
        Ok(())
    }

    /// Takes the started round trip out of the session: a second callback finds none. `None` also
    /// when it is older than [`SSO_WINDOW_MS`].
    pub async fn take_sso(&self, session: &Session) -> Result<Option<SsoFlow>, ServiceError> {
        let flow = session.remove::<SsoFlow>(SSO_FLOW_KEY).await?;
        Ok(flow.filter(|f| self.now() - f.since < SSO_WINDOW_MS))
    }

    /// Offers a link, which the account's next sign-in in this session confirms.
    pub async fn offer_link(&self, session: &Session, link: &SsoLink) -> Result<(), ServiceError> {
        session.insert(SSO_LINK_KEY, link).await?;
        Ok(())
    }

    /// The link waiting for `user_id`'s sign-in in this session, if it is still within
    /// [`SSO_WINDOW_MS`]; it stays until [`SessionPolicy::forget_link`].
    pub async fn pending_link(&self, session: &Session, user_id: UserId) -> Result<Option<SsoLink>, ServiceError> {
        let link = session.get::<SsoLink>(SSO_LINK_KEY).await?;
        Ok(link.filter(|l| l.user_id == user_id && self.now() - l.since < SSO_WINDOW_MS))
    }

    pub async fn forget_link(&self, session: &Session) -> Result<(), ServiceError> {
        session.remove::<SsoLink>(SSO_LINK_KEY).await?;
        Ok(())
    }

    /// Records that the signed-in user proved a second factor in this session (turning two-factor
    /// authentication on proves a code from the new key).
    pub async fn second_factor_proven(&self, session: &Session) -> Result<(), ServiceError> {
        if let Some(mut record) = session.get::<AuthRecord>(AUTH_KEY).await? {
            record.second_factor = true;
            session.insert(AUTH_KEY, record).await?;
        }
        Ok(())
    }

    /// Whether this session may act in the team of `membership` (see [`sso_admits`]).
    pub async fn admitted(&self, session: &Session, membership: &TeamMembership) -> Result<bool, ServiceError> {
        let record = session.get::<AuthRecord>(AUTH_KEY).await?;
        Ok(record.is_some_and(|r| sso_admits(membership, r.sso_team, r.second_factor)))
    }

    /// The sign-in waiting for its second factor in this session, if it is still within
    /// [`SECOND_FACTOR_WINDOW_MS`].
    pub async fn pending(&self, session: &Session) -> Result<Option<(UserId, TeamId)>, ServiceError> {
        let Some(record) = session.get::<PendingRecord>(PENDING_KEY).await? else { return Ok(None) };
        if self.now() - record.since >= SECOND_FACTOR_WINDOW_MS {
            session.remove::<PendingRecord>(PENDING_KEY).await?;
            return Ok(None);
        }
        Ok(Some((record.user_id, record.team_id)))
    }

    /// Ends the session: the record is deleted and the cookie cleared.
    pub async fn end(&self, session: &Session) -> Result<(), ServiceError> {
        session.flush().await?;
        Ok(())
    }

    /// The signed-in user and active team, or `None`: never signed in, or timed out (then the session
    /// is ended here). Counts as activity for the idle timeout, recorded (written) at most once per
    /// [`ACTIVITY_GRANULARITY_MS`].
    async fn signed_in(&self, session: &Session) -> Result<Option<AuthRecord>, ServiceError> {
        let Some(mut record) = session.get::<AuthRecord>(AUTH_KEY).await? else { return Ok(None) };
        let now = self.now();
        if now - record.signed_in_at >= self.absolute || now - record.last_seen_at >= self.idle {
            self.end(session).await?;
            return Ok(None);
        }
        if now - record.last_seen_at >= ACTIVITY_GRANULARITY_MS {
            record.last_seen_at = now;
            session.insert(AUTH_KEY, record).await?;
        }
        Ok(Some(record))
    }

    /// The signed-in user, whatever their team memberships (accepting an invitation needs no team).
    pub async fn signed_in_user(&self, session: &Session) -> Result<Option<UserId>, ServiceError> {
        Ok(self.signed_in(session).await?.map(|record| record.user_id))
    }

    /// The actor of this request: the session's user in its active team, with the role the database
    /// holds now. `None` when not signed in, or no longer a member of the active team.
    pub async fn actor(&self, db: &Db, session: &Session) -> Result<Option<Actor>, ServiceError> {
        let Some(record) = self.signed_in(session).await? else { return Ok(None) };
        let Some(membership) = accounts::membership(db, record.user_id, record.team_id).await? else {
            return Ok(None);
        };
        // Every request asks again: a team that starts requiring single sign-on stops admitting
        // password sessions at once.
        if !sso_admits(&membership, record.sso_team, record.second_factor) {
            return Ok(None);
        }
        // The team's provider signed this session in: its sign-in stands for the second factor the
        // team requires (an account made by single sign-on has no password to turn Moth's on with).
        let two_factor_required = membership.requires_two_factor && record.sso_team != Some(membership.id);
        Ok(Some(Actor::from_session(record.user_id, record.team_id, membership.role, two_factor_required)))
    }

    /// Moves the signed-in `user_id` to `team_id`, which they have just joined, under a new session
    /// id. Signs nobody in: a session of another user, or of nobody, is left as it is.
    pub async fn join_team(&self, session: &Session, user_id: UserId, team_id: TeamId) -> Result<(), ServiceError> {
        let Some(mut record) = session.get::<AuthRecord>(AUTH_KEY).await? else { return Ok(()) };
        if record.user_id == user_id {
            session.cycle_id().await?;
            record.team_id = team_id;
            session.insert(AUTH_KEY, record).await?;
        }
        Ok(())
    }

    /// Makes `team_id` the active team. The caller has checked that the user is a member.
    pub async fn set_team(&self, session: &Session, actor: &Actor, team_id: TeamId) -> Result<(), ServiceError> {
        let Some(mut record) = session.get::<AuthRecord>(AUTH_KEY).await? else { return Ok(()) };
        if record.user_id == actor.user_id() {
            record.team_id = team_id;
            session.insert(AUTH_KEY, record).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sessions::ACTIVITY_FIELD;

    /// The session store tells an activity-only save by this field's name (`db::sessions`).
    #[test]
    fn the_activity_field_is_the_one_the_store_ignores() {
        let record = AuthRecord {
            user_id: UserId(uuid::Uuid::nil()),
            team_id: TeamId(uuid::Uuid::nil()),
            signed_in_at: 1,
            last_seen_at: 2,
            sso_team: None,
            second_factor: false,
        };
        let json = serde_json::to_value(record).expect("serialises");
        assert_eq!(json[ACTIVITY_FIELD], 2);
    }
}
