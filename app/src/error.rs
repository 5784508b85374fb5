//! The one error type that crosses the wire: a stable machine-readable code, a human message, and for
//! invalid input the message of each offending field. It never carries internals (SQL, paths, traces):
//! the server logs those and sends `Internal` with a generic message.

use std::fmt;

use http::StatusCode;
use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
    ServerFnError,
};

/// Stable error codes; clients and end-to-end suites may match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    /// One or more fields broke a validation rule; see `fields`.
    InvalidInput,
    /// Email and password do not match an account (also for unknown emails), or a second factor is wrong.
    InvalidCredentials,
    /// The password was right and the account has two-factor authentication: send the code
    /// (`second_factor`) within five minutes, from the same session.
    SecondFactorRequired,
    /// The request needs a signed-in session.
    Unauthenticated,
    /// The actor may not do this.
    Forbidden,
    /// The team requires two-factor authentication and the user has not set it up (account page).
    TwoFactorRequired,
    /// The team signs its members in through its identity provider (single sign-on); a password
    /// session is refused there, but for the OWNER's break-glass account with two-factor authentication.
    SingleSignOnRequired,
    /// A single sign-on round trip was refused: a forged, replayed or late `state`, a token that does
    /// not verify, an account the provider refused, or one Moth may not link.
    SingleSignOnFailed,
    /// No such object, or it belongs to someone else: the two are never told apart.
    NotFound,
    /// The request collides with existing data (for example an email already registered).
    Conflict,
    /// A conditional request's `If-Match` names another version than the current one (REST API).
    PreconditionFailed,
    /// The thing existed but can no longer be used (an expired, revoked or used invitation).
    Gone,
    /// A state-changing request came from another site.
    CrossOrigin,
    /// The request could not be read (malformed body, unknown endpoint).
    BadRequest,
    /// The request body is larger than the server accepts.
    TooLarge,
    /// The request body did not arrive within the server's time limit.
    RequestTimeout,
    /// Too many failed attempts from this address (or at this account): wait `retry_after` seconds.
    RateLimited,
    /// The server is at capacity for this kind of work (for example password hashing); retry after
    /// the `Retry-After` seconds.
    Busy,
    /// A service Moth needs (the virus scanner, the file store) cannot be reached; nothing was
    /// stored. Retry after the `Retry-After` seconds.
    Unavailable,
    /// Something failed on the server; details are in the server's log only.
    Internal,
    /// The browser could not reach the server or read its answer.
    Network,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InvalidCredentials
            | Self::Unauthenticated
            | Self::SecondFactorRequired
            | Self::SingleSignOnFailed => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::CrossOrigin | Self::TwoFactorRequired | Self::SingleSignOnRequired => {
                StatusCode::FORBIDDEN
            }
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict => StatusCode::CONFLICT,
            Self::Gone => StatusCode::GONE,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Busy | Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Network => StatusCode::BAD_GATEWAY,
        }
    }
}

/// A message attached to one input field, named as in the request (`email`, `password`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// For `rate_limited`: how many seconds to wait (also sent as `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), fields: Vec::new(), retry_after: None }
    }

    pub fn invalid_credentials() -> Self {
        Self::new(ErrorCode::InvalidCredentials, "The email or password is not correct.")
    }

    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, "Please sign in to continue.")
    }

    /// Too many failures: the address (or the account) may try again after `seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        let minutes = seconds.div_ceil(60);
        let message = format!(
            "Too many failed attempts. Please try again in {minutes} minute{}.",
            if minutes == 1 { "" } else { "s" }
        );
        Self { retry_after: Some(seconds), ..Self::new(ErrorCode::RateLimited, message) }
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "Not found.")
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "Something went wrong on our side. Please try again.")
    }

    /// A single-field validation error, as when the database refuses a duplicate.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            code: ErrorCode::InvalidInput,
            message: "Please correct the highlighted fields.".into(),
            fields: vec![FieldError { field: field.into(), message }],
            retry_after: None,
        }
    }

    /// The message for one field, if any.
    pub fn field_message(&self, field: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.field == field).map(|f| f.message.as_str())
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for AppError {}

impl From<garde::Report> for AppError {
    fn from(report: garde::Report) -> Self {
        let fields = report
            .iter()
            .map(|(path, error)| FieldError { field: path.to_string(), message: error.message().to_string() })
            .collect();
        Self {
            code: ErrorCode::InvalidInput,
            message: "Please correct the highlighted fields.".into(),
            fields,
            retry_after: None,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// Failures of the server-function machinery itself: on the server a request it could not decode,
    /// in the browser a request that did not reach the server. Their text is not shown to users.
    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => {
                Self::new(ErrorCode::Network, "The server could not be reached. Please try again.")
            }
            ServerFnErrorErr::Registration(_) => Self::new(ErrorCode::BadRequest, "No such endpoint."),
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::UnsupportedRequestMethod(_) => {
                Self::new(ErrorCode::BadRequest, "The request could not be read.")
            }
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function machinery failed");
                #[cfg(not(feature = "ssr"))]
                let _ = other;
                Self::internal()
            }
        }
    }

    /// The one place where an error becomes an answer: every error a server function returns, and every
    /// request the machinery could not decode, is serialised here. On the server it also sets the
    /// answer's status (and `Retry-After` for `busy`), so no later layer has to read the body again.
    #[cfg(feature = "ssr")]
    fn ser(&self) -> server_fn::Bytes {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(self.code.status());
            if let Some(wait) = self.retry_after_header() {
                response.insert_header(http::header::RETRY_AFTER, wait);
            }
        }
        serde_json::to_vec(self).map_or_else(
            |_| server_fn::Bytes::from_static(br#"{"code":"internal","message":"Something went wrong."}"#),
            server_fn::Bytes::from,
        )
    }
}

impl AppError {
    /// The `Retry-After` of an answer with this error: its own wait, or the fixed one of `busy` and
    /// `unavailable`. Every answer of an error (server functions, routes) takes it from here.
    #[cfg(feature = "ssr")]
    pub fn retry_after_header(&self) -> Option<http::HeaderValue> {
        match (self.retry_after, self.code) {
            (Some(seconds), _) => Some(http::HeaderValue::from(seconds)),
            (None, ErrorCode::Busy | ErrorCode::Unavailable) => Some(http::HeaderValue::from_static(RETRY_AFTER_SECS)),
            (None, _) => None,
        }
    }
}

/// What a `busy` answer asks the client to wait before trying again, in seconds.
pub const RETRY_AFTER_SECS: &str = "2";

impl From<ServerFnError> for AppError {
    fn from(_: ServerFnError) -> Self {
        Self::internal()
    }
}
