//! Who is acting: a signed-in member in their active team, with the role the database holds now.
//! Only `SessionPolicy::actor` (in `session`) and the token door (`service::tokens`) make one, from the
//! server-side session or a stored token and the membership table; nothing in a request can. The data
//! layer and the policy take it as proof of the team and the role, so it lives here, below both,
//! rather than in `session`, which reads the data layer to make it.

use app::model::{Role, TeamId, TokenId, TokenScope, UserId};

#[derive(Clone, Copy, Debug)]
pub struct Actor {
    user_id: UserId,
    team_id: TeamId,
    role: Role,
    team_requires_two_factor: bool,
    door: Door,
}

/// How the actor came in: a browser session (everything the role allows) or a personal access token
/// (what the role allows, within the token's scopes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Door {
    Session,
    Token { id: TokenId, scopes: Scopes },
}

/// A token's scopes, as flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scopes {
    pub read: bool,
    pub write: bool,
    pub admin: bool,
}

impl Scopes {
    pub fn of(scopes: &[TokenScope]) -> Self {
        Self {
            read: scopes.contains(&TokenScope::Read),
            write: scopes.contains(&TokenScope::Write),
            admin: scopes.contains(&TokenScope::Admin),
        }
    }

    pub fn allows(self, scope: TokenScope) -> bool {
        match scope {
            TokenScope::Read => self.read,
            TokenScope::Write => self.write,
            TokenScope::Admin => self.admin,
        }
    }
}

impl Actor {
    /// For `session` alone: the user of a live session, and their membership of its active team.
    pub(crate) fn from_session(user_id: UserId, team_id: TeamId, role: Role, team_requires_two_factor: bool) -> Self {
        Self { user_id, team_id, role, team_requires_two_factor, door: Door::Session }
    }

    /// For the token door alone: the user of a live token, and their membership of its team now.
    pub(crate) fn from_token(
        user_id: UserId,
        team_id: TeamId,
        role: Role,
        team_requires_two_factor: bool,
        token: TokenId,
        scopes: Scopes,
    ) -> Self {
        Self { user_id, team_id, role, team_requires_two_factor, door: Door::Token { id: token, scopes } }
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

    pub fn door(&self) -> Door {
        self.door
    }

    /// Whether the door lets the actor use `scope` at all: a session always, a token if it has it.
    pub fn has_scope(&self, scope: TokenScope) -> bool {
        match self.door {
            Door::Session => true,
            Door::Token { scopes, .. } => scopes.allows(scope),
        }
    }
}
