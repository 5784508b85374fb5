//! Server functions: Moth's HTTP API, each at `POST /api/<endpoint>` with a stable endpoint name
//! (documented in `docs/api.md`, which a test checks against these files). Their bodies hand the call to
//! the server's implementation of [`Api`]: the data layer, sessions and policy live in the `server`
//! crate, which provides it as context.
//!
//! Every function is a POST, so no GET ever changes state. Arguments are URL-encoded form fields
//! (`input[email]=...`); answers and errors are JSON.

//!
//! Each area of the API is declared once, in `api/<area>.rs`, with [`api_area!`]: the declaration
//! makes the area's trait (which the server implements, in `server/src/service/<area>.rs`) and each
//! function's `#[server]` forward to it. In the browser each function is instead a call through
//! [`client`], which speaks the same wire format.

/// Declares an area of the API: for each function its documentation, its endpoint and its
/// signature without the request. Emits the area's trait (server only), whose methods also take the
/// request, and the `#[server]` functions that hand each call to the server's implementation.
macro_rules! api_area {
    (
        $(#[doc = $area_doc:tt])*
        pub trait $area:ident {
            $(
                $(#[doc = $doc:tt])*
                #[server(endpoint = $endpoint:tt)]
                fn $name:ident($($(#[$($arg_attr:tt)*])* $arg:ident: $arg_type:ty)?) -> $answer:ty;
            )*
        }
    ) => {
        $(#[doc = $area_doc])*
        #[cfg(feature = "ssr")]
        #[async_trait::async_trait]
        pub trait $area: Send + Sync + 'static {
            $(
                $(#[doc = $doc])*
                async fn $name(
                    &self,
                    req: &crate::api::RequestParts
                    $(, $arg: $arg_type)?
                ) -> Result<$answer, crate::error::AppError>;
            )*
        }

        $(
            $(#[doc = $doc])*
            #[cfg(not(all(feature = "csr", not(feature = "ssr"))))]
            #[leptos::server(endpoint = $endpoint)]
            pub async fn $name($($(#[$($arg_attr)*])* $arg: $arg_type)?) -> Result<$answer, crate::error::AppError> {
                let (backend, req) = crate::api::backend::context()?;
                backend.$name(&req $(, $arg)?).await
            }

            $(#[doc = $doc])*
            #[cfg(all(feature = "csr", not(feature = "ssr")))]
            pub async fn $name($($arg: $arg_type)?) -> Result<$answer, crate::error::AppError> {
                let fields = encode_arguments!($($arg: $arg_type)?)?;
                crate::api::client::call(concat!("/api/", $endpoint), fields).await
            }
        )*
    };
}

/// A browser call's arguments as the URL-encoded fields `#[server]` reads: a struct of the function's
/// parameters (`input[email]=…`), or nothing.
#[cfg(all(feature = "csr", not(feature = "ssr")))]
macro_rules! encode_arguments {
    () => {
        Ok::<String, crate::error::AppError>(String::new())
    };
    ($arg:ident: $arg_type:ty) => {{
        #[derive(serde::Serialize)]
        struct Arguments {
            $arg: $arg_type,
        }
        crate::api::client::encode(&Arguments { $arg })
    }};
}

#[cfg(all(feature = "csr", not(feature = "ssr")))]
mod client;

mod accounts;
mod data_safety;
mod files;
mod issues;
mod members;
mod notifications;
mod projects;
mod sso;
mod tokens;
mod two_factor;
mod views;
mod webhooks;

pub use accounts::*;
pub use data_safety::*;
pub use files::*;
pub use issues::*;
pub use members::*;
pub use notifications::*;
pub use projects::*;
pub use sso::*;
pub use tokens::*;
pub use two_factor::*;
pub use views::*;
pub use webhooks::*;

#[cfg(feature = "ssr")]
pub use backend::{Api, RequestParts};

#[cfg(feature = "ssr")]
mod backend {
    use std::sync::Arc;

    use leptos::prelude::use_context;

    use super::{
        AccountsApi, DataSafetyApi, FilesApi, IssuesApi, MembersApi, NotificationsApi, ProjectsApi, SsoApi, TokensApi,
        TwoFactorApi, ViewsApi, WebhooksApi,
    };
    use crate::error::AppError;

    /// The request as the server saw it: headers, extensions (session, peer address).
    pub type RequestParts = http::request::Parts;

    /// What the server implements for the server functions, one trait per area, each implemented
    /// directly by the code that does the work (`server/src/service/<area>.rs`). Inputs arrive
    /// unvalidated: the implementation must validate them (with [`crate::model::parse`]) first.
    pub trait Api:
        AccountsApi
        + TwoFactorApi
        + MembersApi
        + ProjectsApi
        + IssuesApi
        + FilesApi
        + DataSafetyApi
        + ViewsApi
        + TokensApi
        + NotificationsApi
        + WebhooksApi
        + SsoApi
    {
    }

    /// The backend and the request of the current server-function call.
    pub(in crate::api) fn context() -> Result<(Arc<dyn Api>, RequestParts), AppError> {
        let backend = use_context::<Arc<dyn Api>>();
        let parts = use_context::<RequestParts>();
        if let (Some(backend), Some(parts)) = (backend, parts) {
            Ok((backend, parts))
        } else {
            tracing::error!("server function called without a backend or request in context");
            Err(AppError::internal())
        }
    }
}
