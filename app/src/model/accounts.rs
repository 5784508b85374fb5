//! Accounts and sessions on the wire: signing up and in, the signed-in user and their teams.

use garde::Validate;
use serde::{Deserialize, Serialize};

#[allow(clippy::wildcard_imports)] // the shared ids, roles and rules of the model
use super::*;
use crate::rules;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct SignUpInput {
    #[garde(custom(rules::email))]
    pub email: String,
    #[garde(custom(rules::name))]
    pub display_name: String,
    /// Taken exactly as typed: passwords are never trimmed or changed.
    #[garde(custom(rules::new_password))]
    pub password: String,
    #[garde(custom(rules::name))]
    pub team_name: String,
}

impl Normalize for SignUpInput {
    fn normalize(self) -> Self {
        Self {
            email: rules::normalize_email(&self.email),
            display_name: self.display_name.trim().to_owned(),
            password: self.password,
            team_name: self.team_name.trim().to_owned(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct SignInInput {
    #[garde(custom(rules::email))]
    pub email: String,
    #[garde(custom(rules::password_given))]
    pub password: String,
}

impl Normalize for SignInInput {
    fn normalize(self) -> Self {
        Self { email: rules::normalize_email(&self.email), password: self.password }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct SwitchTeamInput {
    #[garde(skip)]
    pub team_id: TeamId,
}

#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
}

/// A team the user belongs to, with the user's role in it.
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamMembership {
    pub id: TeamId,
    pub name: String,
    pub role: Role,
    /// The team requires two-factor authentication of its members.
    #[cfg_attr(feature = "ssr", sqlx(try_from = "Flag"))]
    #[serde(default)]
    pub requires_two_factor: bool,
    /// The team signs its members in through its identity provider (single sign-on).
    #[cfg_attr(feature = "ssr", sqlx(try_from = "Flag"))]
    #[serde(default)]
    pub requires_single_sign_on: bool,
}

/// The signed-in user and their active team, as the server's session sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    pub user: UserSummary,
    pub team: TeamMembership,
    /// The team requires two-factor authentication and this user has not set it up: until they do,
    /// only the account page works.
    #[serde(default)]
    pub two_factor_setup_required: bool,
}
