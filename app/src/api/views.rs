//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// Saved views of a project's list (`open_project` answers them with the list).
    pub trait ViewsApi {
        /// Saves a filter and order of a project the actor reads under a name, for themselves or shared
        /// with the team's members (not guests, who save for themselves only); answers the project's
        /// views as the actor sees them.
        #[server(endpoint = "save_view")]
        fn save_view(input: SaveViewInput) -> Vec<SavedView>;

        /// Deletes a view: one's own, or a shared one as OWNER or ADMIN; answers the project's views.
        #[server(endpoint = "delete_view")]
        fn delete_view(input: ViewIdInput) -> Vec<SavedView>;
    }
}
