//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// Accounts and sessions: sign-up, sign-in and out, who is signed in, the active team.
    pub trait AccountsApi {
        /// Creates an account and a new team with the user as its OWNER, and signs the user in.
        #[server(endpoint = "sign_up")]
        fn sign_up(input: SignUpInput) -> Me;

        /// Signs in with email and password; the session id is replaced.
        #[server(endpoint = "sign_in")]
        fn sign_in(input: SignInInput) -> Me;

        /// Ends the session: its server-side record is deleted.
        #[server(endpoint = "sign_out")]
        fn sign_out() -> ();

        /// The signed-in user, active team and role; `null` when not signed in.
        #[server(endpoint = "who_am_i")]
        fn who_am_i() -> Option<Me>;

        /// The teams the signed-in user belongs to, with their role in each.
        #[server(endpoint = "my_teams")]
        fn my_teams() -> Vec<TeamMembership>;

        /// Makes another of the user's teams the active one; any other team id is "not found".
        #[server(endpoint = "switch_team")]
        fn switch_team(input: SwitchTeamInput) -> Me;
    }
}
