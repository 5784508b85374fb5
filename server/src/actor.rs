//! Who is acting: a signed-in member in their active team, with the role the database holds now.
//! Only `SessionPolicy::actor` (in `session`) makes one, from the server-side session and the
//! membership table; nothing in a request can. The data layer and the policy take it as proof of the
//! team and the role, so it lives here, below both, rather than in `session`, which reads the data
//! layer to make it.

use app::model::{Role, TeamId, UserId};

#[derive(Clone, Copy, Debug)]
pub struct Actor {
    user_id: UserId,
    team_id: TeamId,
    role: Role,
    team_requires_two_factor: bool,
}

impl Actor {
    /// For `session` alone: the user of a live session, and their membership of its active team.
    pub(crate) fn from_session(user_id: UserId, team_id: TeamId, role: Role, team_requires_two_factor: bool) -> Self {
        Self { user_id, team_id, role, team_requires_two_factor }
    }

    /// Whether the active team requires two-factor authentication of its members.
    pub fn team_requires_two_factor(&self) -> bool {
        self.team_requires_two_factor
    }

    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    pub fn team_id(&self) -> TeamId {
        self.team_id
    }

    pub fn role(&self) -> Role {
        self.role
    }
}
