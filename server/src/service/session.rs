//! Who is making a request, as only the server-side session can say. The session keeps the user id,
//! the active team, and when the user signed in and was last seen; the role is read from the database
//! on every request, so that a changed role applies at once. Idle and absolute timeouts are checked
//! against the injectable [`Clock`].

use std::{sync::Arc, time::Duration};

use app::model::{TeamId, UserId};
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
}

/// A sign-in waiting for its second factor: the password was right, nobody is signed in yet.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct PendingRecord {
    user_id: UserId,
    team_id: TeamId,
    since: i64,
}

const PENDING_KEY: &str = "moth.second_factor";

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
        session.insert(AUTH_KEY, AuthRecord { user_id, team_id, signed_in_at: now, last_seen_at: now }).await?;
        Ok(())
    }

    /// The password was right and a second factor is needed: the session (under a new id) holds who
    /// is signing in, and signs nobody in.
    pub async fn begin_pending(&self, session: &Session, user_id: UserId, team_id: TeamId) -> Result<(), ServiceError> {
        session.cycle_id().await?;
        session.remove::<AuthRecord>(AUTH_KEY).await?;
        session.insert(PENDING_KEY, PendingRecord { user_id, team_id, since: self.now() }).await?;
        Ok(())
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
        Ok(Some(Actor::from_session(record.user_id, record.team_id, membership.role, membership.requires_two_factor)))
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
        };
        let json = serde_json::to_value(record).expect("serialises");
        assert_eq!(json[ACTIVITY_FIELD], 2);
    }
}
