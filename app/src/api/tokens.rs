//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// Personal access tokens for the REST API (`/api/v1`), made and revoked on the Account page.
    /// These are server functions like the others: a session's, never a token's.
    pub trait TokensApi {
        /// Makes a token for the active team: its name, scopes (`admin` for OWNER and ADMIN only) and
        /// expiry in days (1 to 365, 90 by default). The answer holds the secret, shown this once.
        #[server(endpoint = "create_access_token")]
        fn create_access_token(input: NewTokenInput) -> CreatedToken;

        /// The actor's tokens in the active team (OWNER and ADMIN: every member's), newest first, with
        /// their last use, and whether the team allows tokens.
        #[server(endpoint = "list_access_tokens")]
        fn list_access_tokens() -> AccessTokens;

        /// Revokes one of the actor's tokens (OWNER and ADMIN: any of the team's); refused at once.
        #[server(endpoint = "revoke_access_token")]
        fn revoke_access_token(input: TokenIdInput) -> AccessTokens;

        /// Allows tokens in the team, or refuses every one of them while off (OWNER).
        #[server(endpoint = "set_token_policy")]
        fn set_token_policy(input: TokenPolicyInput) -> AccessTokens;
    }
}
