//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// Two-factor authentication (TOTP, RFC 6238): turning it on and off, and the second step of
    /// signing in.
    pub trait TwoFactorApi {
        /// Whether the signed-in user has two-factor authentication on.
        #[server(endpoint = "two_factor_status")]
        fn two_factor_status() -> TwoFactorInfo;

        /// A new authenticator key for the signed-in user, not yet in force (until `enable_two_factor`).
        #[server(endpoint = "start_two_factor")]
        fn start_two_factor() -> TwoFactorSetup;

        /// Turns two-factor authentication on, confirmed by a code from the new key and the account's password
        /// (re-authentication); answers the recovery codes.
        #[server(endpoint = "enable_two_factor")]
        fn enable_two_factor(input: EnableTwoFactorInput) -> RecoveryCodes;

        /// Turns two-factor authentication off, confirmed by a current code (or a recovery code).
        #[server(endpoint = "disable_two_factor")]
        fn disable_two_factor(input: TwoFactorCodeInput) -> ();

        /// The second step of signing in, after `sign_in` answered `second_factor_required`.
        #[server(endpoint = "second_factor")]
        fn second_factor(input: TwoFactorCodeInput) -> Me;

        /// Requires two-factor authentication of every member of the active team, or stops requiring it
        /// (OWNER and ADMIN).
        #[server(endpoint = "set_two_factor_requirement")]
        fn set_two_factor_requirement(input: TwoFactorRequirementInput) -> Me;
    }
}
