//! The REST API, `/api/v1`: JSON resources for scripts, CI jobs and test suites, authenticated by a
//! personal access token (`Authorization: Bearer moth_pat_…`) and by nothing else.
//!
//! It is a second door to the same service: each handler (in [`resources`]) calls the server
//! function's implementation with the request, into which [`token_door`] has put the token's grant.
//! `Service::actor` turns that grant into an actor with the user's current role, and `policy::may`
//! holds it to the token's scopes as well; the read scopes, garde rules and audit are the server
//! functions' own. This router has no session layer, so a session cookie is inert here, and the server
//! functions refuse an `Authorization` header: neither door widens the other.

mod attachments;
mod idempotent;
pub mod openapi;
mod resources;

use app::{
    error::{AppError, ErrorCode},
    model::TokenScope,
};
use axum::{
    body::Body,
    extract::{Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, patch, post},
    Router,
};
use http::{header, HeaderValue, Method, StatusCode};

use super::{error_response, AppState};

/// The REST routes, each behind the token door and the rate limits; all but the upload behind the
/// body limit too (an upload reads its own body, with its own limit, as `http::upload` does).
pub fn router(state: &AppState) -> Router<AppState> {
    use attachments as a;
    use resources as r;
    let json = Router::new()
        .route("/api/v1/user", get(r::user))
        .route("/api/v1/members", get(r::members))
        .route("/api/v1/projects", get(r::projects))
        .route("/api/v1/projects/{key}", get(r::project))
        .route("/api/v1/projects/{key}/issues", get(r::list_issues).post(r::create_issue))
        .route("/api/v1/projects/{key}/issues/{number}", get(r::issue).patch(r::update_issue).delete(r::delete_issue))
        .route("/api/v1/projects/{key}/issues/{number}/comments", get(r::comments).post(r::add_comment))
        .route(
            "/api/v1/projects/{key}/issues/{number}/comments/{comment_id}",
            patch(r::edit_comment).delete(r::delete_comment),
        )
        .route("/api/v1/projects/{key}/issues/{number}/attachments", get(a::attachments))
        .route(
            "/api/v1/projects/{key}/issues/{number}/attachments/{attachment_id}",
            get(a::attachment).delete(a::delete_attachment),
        )
        .route("/api/v1/{*rest}", axum::routing::any(no_such_route))
        .layer(middleware::from_fn_with_state(state.clone(), token_door))
        // The description needs no token: it holds no data.
        .route("/api/v1/openapi.json", get(openapi::document))
        .layer(middleware::from_fn(super::explain_framework_errors))
        .layer(middleware::from_fn_with_state(state.config.clone(), super::limit_body));
    let upload = Router::new()
        .route("/api/v1/projects/{key}/issues/{number}/attachments", post(a::upload_attachment))
        .layer(middleware::from_fn_with_state(state.clone(), token_door))
        .layer(middleware::from_fn(super::explain_framework_errors));
    json.merge(upload).layer(middleware::from_fn_with_state(state.clone(), super::limit_api_rate))
}

async fn no_such_route() -> Response {
    error_response(&AppError::new(ErrorCode::NotFound, "No such REST endpoint: see /api/v1/openapi.json."))
}

/// The token in `Authorization: Bearer <token>`, if the request sends one.
fn bearer(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The scope a request needs: reading for `GET` and `HEAD`, writing for everything else. (Member and
/// audit calls need `admin` besides, which `policy::may` asks of the actor.)
fn scope_needed(method: &Method) -> TokenScope {
    if matches!(*method, Method::GET | Method::HEAD) {
        TokenScope::Read
    } else {
        TokenScope::Write
    }
}

/// Every REST request passes here: a live token or nothing (401), then the token's own rate (429) and
/// the scope the method needs (403). The grant goes into the request for `Service::actor`.
async fn token_door(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let Some(presented) = bearer(&parts.headers) else {
        let message = "The REST API needs a personal access token: send `Authorization: Bearer moth_pat_…` \
                       (a browser session is not accepted here). Make one with `create_access_token`.";
        return with_challenge(error_response(&AppError::new(ErrorCode::Unauthenticated, message)));
    };
    let address = state.service.client_address(&parts).map(|ip| ip.to_string());
    let grant = match state.service.authenticate_token(presented, address.as_deref()).await {
        Ok(grant) => grant,
        Err(e) if e.code == ErrorCode::Unauthenticated => return with_challenge(error_response(&e)),
        Err(e) => return error_response(&e),
    };
    if let Err(seconds) = state.limits.check_token(grant.id()) {
        state.metrics.count_limited("token");
        let mut error = AppError::new(
            ErrorCode::RateLimited,
            format!("Too many requests with this token: try again in {seconds} s."),
        );
        error.retry_after = Some(seconds);
        return error_response(&error);
    }
    let needed = scope_needed(&parts.method);
    if !grant.scopes().allows(needed) {
        let message = format!("This token does not have the `{}` scope.", needed.as_str());
        return error_response(&AppError::new(ErrorCode::Forbidden, message));
    }
    parts.extensions.insert(grant);
    let mut response = next.run(Request::from_parts(parts, body)).await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A 401 of the token door names the scheme it wants (RFC 6750).
fn with_challenge(mut response: Response) -> Response {
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"moth\""));
    response
}

/// An answer of the REST API: the value as JSON with `status`, or the error in Moth's shape.
fn answer<T: serde::Serialize>(result: Result<T, AppError>, status: StatusCode) -> Response {
    match result {
        Ok(value) => (status, axum::Json(value)).into_response(),
        Err(error) => error_response(&error),
    }
}

/// The answer of a deletion: 204 with no body, or the error in Moth's shape.
fn deleted(result: Result<(), AppError>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => error_response(&error),
    }
}
