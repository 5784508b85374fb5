//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// Single sign-on with a team's OpenID Connect provider. The sign-in itself is not a server
    /// function: it is the browser's round trip `GET /sso/<team>/start` → the provider →
    /// `GET /sso/callback` (see `docs/api.md`).
    pub trait SsoApi {
        /// The active team's single sign-on, or `None` when it has none (OWNER).
        #[server(endpoint = "sso_settings")]
        fn sso_settings() -> Option<SsoConfiguration>;

        /// Configures the active team's OpenID Connect provider (OWNER); the issuer's discovery document
        /// must answer. Requiring single sign-on needs the OWNER's two-factor authentication (the
        /// break-glass account).
        #[server(endpoint = "configure_sso")]
        fn configure_sso(input: ConfigureSsoInput) -> SsoConfiguration;

        /// What a team's sign-in page offers: its provider's button, or `None` (anyone, signed in or not).
        #[server(endpoint = "sso_sign_in_option")]
        fn sso_sign_in_option(input: SsoTeamInput) -> Option<SsoButton>;
    }
}
