//! Single sign-on (OpenID Connect) on the wire: a team's provider, as its OWNER configures it, and
//! what the sign-in page shows of it.

use garde::Validate;
use serde::{Deserialize, Serialize};

#[allow(clippy::wildcard_imports)] // the shared ids, roles and rules of the model
use super::*;
use crate::rules;

/// A team's OpenID Connect provider (OWNER). The client secret is write-only: an empty one keeps the
/// stored secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ConfigureSsoInput {
    /// The provider's issuer, whose `/.well-known/openid-configuration` Moth reads.
    #[garde(custom(rules::sso_issuer))]
    pub issuer: String,
    /// The provider's name on the sign-in button ("Sign in with …").
    #[garde(custom(rules::name))]
    pub display_name: String,
    #[garde(custom(rules::sso_client_field))]
    pub client_id: String,
    /// Empty keeps the stored secret (required the first time).
    #[garde(length(max = rules::SSO_SECRET_MAX_CHARS), custom(rules::sso_secret))]
    pub client_secret: String,
    /// The email domains the team claims; an operator proves each (`moth sso prove-domain`) before an
    /// email of it can link an existing account.
    #[garde(length(max = rules::SSO_DOMAINS_MAX), inner(custom(rules::email_domain)))]
    #[serde(default)]
    pub domains: Vec<String>,
    /// The role of people who arrive through the provider for the first time: NORMAL or GUEST.
    #[garde(custom(arriving_role))]
    pub new_member_role: Role,
    /// Members must sign in through the provider; password sign-in is refused them, except the
    /// OWNER's with two-factor authentication (the break-glass account).
    #[garde(skip)]
    pub required: bool,
    /// Whether the provider's sign-in button works at all.
    #[garde(skip)]
    pub enabled: bool,
}

impl Normalize for ConfigureSsoInput {
    fn normalize(mut self) -> Self {
        self.issuer = self.issuer.trim().trim_end_matches('/').to_owned();
        self.display_name = self.display_name.trim().to_owned();
        self.client_id = self.client_id.trim().to_owned();
        self.domains = self.domains.iter().map(|d| d.trim().to_lowercase()).filter(|d| !d.is_empty()).collect();
        self.domains.sort();
        self.domains.dedup();
        self
    }
}

/// garde rule: people who arrive through a provider come in as NORMAL or GUEST, never above.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn arriving_role(role: &Role, _: &()) -> garde::Result {
    if matches!(role, Role::Normal | Role::Guest) {
        Ok(())
    } else {
        Err(garde::Error::new("People arriving through single sign-on come in as NORMAL or GUEST."))
    }
}

/// A claimed email domain and whether an operator has proven it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoDomain {
    pub domain: String,
    pub proven: bool,
}

/// A team's single sign-on as its OWNER sees it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoConfiguration {
    pub issuer: String,
    pub display_name: String,
    pub client_id: String,
    pub has_client_secret: bool,
    pub domains: Vec<SsoDomain>,
    pub new_member_role: Role,
    pub required: bool,
    pub enabled: bool,
    /// The address to register at the provider as the redirect URI.
    pub redirect_uri: String,
    /// The team's sign-in page, with the provider's button, to share with members.
    pub sign_in_url: String,
}

/// Which team's sign-in page is asked for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct SsoTeamInput {
    #[garde(skip)]
    pub team_id: TeamId,
}

impl Normalize for SsoTeamInput {
    fn normalize(self) -> Self {
        self
    }
}

/// What the sign-in page of a team shows: "Sign in with …" and the `display_name`, which goes to `start_url`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoButton {
    pub display_name: String,
    pub start_url: String,
}
