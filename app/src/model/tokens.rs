//! Personal access tokens: a user's key to the REST API (`/api/v1`) in one team, with scopes and an
//! expiry. The secret is shown once, when the token is made.

use garde::Validate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Normalize, Person};
use crate::rules;

typed_id!(
    /// A personal access token (its id, never its secret).
    TokenId
);

string_enum!(
    /// What a token may do, on top of its user's current role (never more than the role allows).
    TokenScope {
        /// Read what the user reads.
        Read => "read",
        /// Create, change and delete what the user may.
        Write => "write",
        /// Member and audit calls (OWNER and ADMIN only).
        Admin => "admin",
    }
);

/// Scopes as stored: their names in the order of [`TokenScope::ALL`], separated by spaces.
pub fn scopes_text(scopes: &[TokenScope]) -> String {
    TokenScope::ALL.iter().filter(|s| scopes.contains(s)).map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

/// Scopes from their stored text; unknown words are dropped (the database allows none).
pub fn scopes_from_text(text: &str) -> Vec<TokenScope> {
    text.split(' ').filter_map(TokenScope::parse).collect()
}

/// The days a token lives when nothing else is asked.
pub const TOKEN_DEFAULT_DAYS: i64 = 90;
/// The longest a token may live.
pub const TOKEN_MAX_DAYS: i64 = 365;
/// The most live tokens one person keeps in one team.
pub const TOKENS_PER_PERSON: usize = 50;

fn default_days() -> i64 {
    TOKEN_DEFAULT_DAYS
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct NewTokenInput {
    #[garde(custom(rules::token_name))]
    pub name: String,
    #[garde(custom(rules::token_scopes))]
    #[serde(default)]
    pub scopes: Vec<TokenScope>,
    /// 1 to 365 days; 90 when not given.
    #[garde(range(min = 1, max = TOKEN_MAX_DAYS))]
    #[serde(default = "default_days")]
    pub expires_in_days: i64,
}

impl Normalize for NewTokenInput {
    fn normalize(mut self) -> Self {
        self.name = self.name.trim().to_owned();
        self.scopes.sort_by_key(|s| TokenScope::ALL.iter().position(|known| known == s));
        self.scopes.dedup();
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct TokenIdInput {
    #[garde(skip)]
    pub token_id: TokenId,
}

no_normalization!(TokenIdInput);

/// Turns the token API on or off for the whole team (OWNER).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct TokenPolicyInput {
    #[garde(skip)]
    pub allowed: bool,
}

no_normalization!(TokenPolicyInput);

/// A token as its list shows it: never its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessToken {
    pub id: TokenId,
    pub name: String,
    pub scopes: Vec<TokenScope>,
    /// Whose token it is (OWNER and ADMIN see the whole team's).
    pub user: Person,
    /// Unix milliseconds, UTC.
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    /// The address of the last use.
    pub last_used_from: Option<String>,
}

/// What `list_access_tokens` answers: the tokens the actor may see and revoke, newest first, and
/// whether the team allows tokens at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokens {
    pub tokens: Vec<AccessToken>,
    pub allowed: bool,
    /// Whether the actor may turn tokens on and off for the team (OWNER).
    pub may_change_policy: bool,
}

/// A token just made: the only answer that ever holds its secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub token: AccessToken,
    /// `moth_pat_...`: shown once; only its hash is kept.
    pub secret: String,
}
