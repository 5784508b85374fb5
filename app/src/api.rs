//! Server functions: Moth's HTTP API, each at `POST /api/<endpoint>` with a stable endpoint name
//! (documented in `docs/api.md`). Their bodies only hand the call to the server's [`Backend`]: the data
//! layer, sessions and policy live in the `server` crate, which provides the backend as context.
//!
//! Every function is a POST, so no GET ever changes state. Arguments are URL-encoded form fields
//! (`input[email]=...`); answers and errors are JSON.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{Me, SignInInput, SignUpInput, SwitchTeamInput, TeamMembership},
};

#[cfg(feature = "ssr")]
pub use backend::{Backend, RequestParts};

#[cfg(feature = "ssr")]
mod backend {
    use std::sync::Arc;

    use leptos::prelude::use_context;

    use crate::{
        error::AppError,
        model::{Me, SignInInput, SignUpInput, SwitchTeamInput, TeamMembership},
    };

    /// The request as the server saw it: headers, extensions (session, peer address).
    pub type RequestParts = http::request::Parts;

    /// What the server implements for the server functions. Inputs arrive unvalidated: the backend
    /// must validate them (with [`crate::model::parse`]) before using them.
    #[async_trait::async_trait]
    pub trait Backend: Send + Sync + 'static {
        async fn sign_up(&self, req: &RequestParts, input: SignUpInput) -> Result<Me, AppError>;
        async fn sign_in(&self, req: &RequestParts, input: SignInInput) -> Result<Me, AppError>;
        async fn sign_out(&self, req: &RequestParts) -> Result<(), AppError>;
        async fn who_am_i(&self, req: &RequestParts) -> Result<Option<Me>, AppError>;
        async fn my_teams(&self, req: &RequestParts) -> Result<Vec<TeamMembership>, AppError>;
        async fn switch_team(&self, req: &RequestParts, input: SwitchTeamInput) -> Result<Me, AppError>;
    }

    /// The backend and the request of the current server-function call.
    pub(super) fn context() -> Result<(Arc<dyn Backend>, RequestParts), AppError> {
        let backend = use_context::<Arc<dyn Backend>>();
        let parts = use_context::<RequestParts>();
        if let (Some(backend), Some(parts)) = (backend, parts) {
            Ok((backend, parts))
        } else {
            tracing::error!("server function called without a backend or request in context");
            Err(AppError::internal())
        }
    }
}

/// Creates an account and a new team with the user as its OWNER, and signs the user in.
#[server(endpoint = "sign_up")]
pub async fn sign_up(input: SignUpInput) -> Result<Me, AppError> {
    let (backend, req) = backend::context()?;
    backend.sign_up(&req, input).await
}

/// Signs in with email and password; the session id is replaced.
#[server(endpoint = "sign_in")]
pub async fn sign_in(input: SignInInput) -> Result<Me, AppError> {
    let (backend, req) = backend::context()?;
    backend.sign_in(&req, input).await
}

/// Ends the session: its server-side record is deleted.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let (backend, req) = backend::context()?;
    backend.sign_out(&req).await
}

/// The signed-in user, active team and role; `null` when not signed in.
#[server(endpoint = "who_am_i")]
pub async fn who_am_i() -> Result<Option<Me>, AppError> {
    let (backend, req) = backend::context()?;
    backend.who_am_i(&req).await
}

/// The teams the signed-in user belongs to, with their role in each.
#[server(endpoint = "my_teams")]
pub async fn my_teams() -> Result<Vec<TeamMembership>, AppError> {
    let (backend, req) = backend::context()?;
    backend.my_teams(&req).await
}

/// Makes another of the user's teams the active one; any other team id is "not found".
#[server(endpoint = "switch_team")]
pub async fn switch_team(input: SwitchTeamInput) -> Result<Me, AppError> {
    let (backend, req) = backend::context()?;
    backend.switch_team(&req, input).await
}
