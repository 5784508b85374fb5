//! The HTTP surface: the router, and the policies every request passes through
//! (security headers, cross-site refusal, sessions).

mod device;
mod email_links;
mod export;
mod headers;
pub mod limits;
mod live;
mod origin;
mod rest;
mod site;
mod sso;
mod upload;

use std::sync::Arc;

use app::{api::Api, error::AppError};
use axum::{
    body::Body,
    extract::{Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use leptos::prelude::provide_context;
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};
use tracing::Instrument;

pub use site::Site;

use crate::{config::Config, db::sessions::DbSessionStore, db::Db};

#[derive(Clone)]
pub struct AppState {
    pub api: Arc<dyn Api>,
    /// The same service as `api`, for the routes that are not server functions (exports).
    pub service: Arc<crate::service::Service>,
    pub db: Db,
    pub config: Arc<Config>,
    /// Rate limits of the API and of the expensive routes.
    pub limits: Arc<limits::Limits>,
    /// Counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    pub site: Arc<Site>,
    /// Live connections and the hints they wait on (see `live`).
    pub live: Arc<crate::notify::live::Hub>,
    /// Verifies the unsubscribe links of notification emails.
    pub unsubscribe: Arc<crate::notify::unsubscribe::Links>,
    /// Where a live connection reads its session again.
    pub session_store: DbSessionStore,
}

/// The name of the session cookie: `__Host-` prefixed when served over HTTPS.
pub fn session_cookie_name(config: &Config) -> &'static str {
    if config.https() {
        "__Host-moth_session"
    } else {
        "moth_session"
    }
}

pub fn router(state: AppState, store: DbSessionStore) -> Router {
    let config = state.config.clone();
    let idle = time::Duration::seconds(i64::try_from(config.session_idle_timeout_secs).unwrap_or(i64::MAX));
    let sessions = SessionManagerLayer::new(store)
        .with_name(session_cookie_name(&config))
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(config.https())
        .with_expiry(Expiry::OnInactivity(idle));

    let csp = headers::content_security_policy(state.service.files_url());
    let header_policy = headers::HeaderPolicy {
        config: config.clone(),
        csp: http::HeaderValue::from_str(&csp).unwrap_or_else(|_| http::HeaderValue::from_static("default-src 'self'")),
    };
    let api = Router::new()
        .route("/api/{*fn_name}", post(call_server_fn).fallback(method_not_allowed))
        .route("/export/issues.csv", get(export::issues_csv))
        .route("/export/audit.csv", get(export::audit_csv))
        .route("/export/audit.json", get(export::audit_json))
        .route("/export/team/{export_id}", get(export::team_archive))
        .route("/live", get(live::live))
        .route("/sso/{team_id}/start", get(sso::start))
        .route("/sso/callback", get(sso::callback))
        .layer(sessions.clone())
        .layer(middleware::from_fn_with_state(config.clone(), device::device_cookie))
        .layer(middleware::from_fn(explain_framework_errors))
        .layer(middleware::from_fn_with_state(config.clone(), limit_body))
        .layer(middleware::from_fn_with_state(state.clone(), limit_api_rate))
        .layer(middleware::from_fn(sessions_only));
    // Uploads read their own body, with their own limit (see `upload`).
    let uploads = Router::new()
        .route("/upload/issues/{issue_id}", post(upload::upload_to_issue))
        .route("/upload/comments/{comment_id}", post(upload::upload_to_comment))
        .layer(sessions)
        .layer(middleware::from_fn(explain_framework_errors))
        .layer(middleware::from_fn_with_state(state.clone(), limit_api_rate))
        .layer(middleware::from_fn(sessions_only));
    let metrics = state.metrics.clone();

    let rest = rest::router(&state);

    Router::new()
        .merge(api)
        .merge(uploads)
        .merge(rest)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(serve_metrics))
        .route("/unsubscribe/{token}", get(email_links::confirm).post(email_links::unsubscribe))
        .route("/verify-email/{token}", get(email_links::verify_email))
        .merge(site::routes())
        .with_state(state)
        .layer(middleware::from_fn_with_state(metrics, count_responses))
        .layer(middleware::from_fn_with_state(config.clone(), origin::refuse_cross_site))
        .layer(middleware::from_fn_with_state(header_policy, headers::security_headers))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
        .layer(tower_http::request_id::PropagateRequestIdLayer::x_request_id())
        .layer(tower_http::request_id::SetRequestIdLayer::x_request_id(tower_http::request_id::MakeRequestUuid))
        .layer(middleware::map_request(forget_client_request_id))
}

/// Every request gets Moth's own id (a UUID in `X-Request-Id`, answered too), whatever the client
/// sent: log lines then never carry text a client chose.
async fn forget_client_request_id(mut req: Request<Body>) -> Request<Body> {
    req.headers_mut().remove("x-request-id");
    req
}

/// The span every log line of a request is written in: its method and id (not its path, which may
/// hold an invitation token).
fn request_span(req: &Request<Body>) -> tracing::Span {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    tracing::info_span!("request", method = %req.method(), request_id = %id)
}

/// Every error of the API and upload routes has Moth's shape, a code and a message. What answers
/// otherwise is the framework's: `tower-sessions`' bare 500 when it cannot store the session after
/// the handler ran (say a new session at sign-in while the database is locked), or axum's plain-text
/// rejection of a path or query it cannot read (`?name=a&name=b`). Those are replaced here; their
/// text, which may name types or fields of the code, never reaches the client.
async fn explain_framework_errors(req: Request<Body>, next: Next) -> Response {
    use app::error::ErrorCode;
    let response = next.run(req).await;
    if response.extensions().get::<OwnPage>().is_some() {
        return response;
    }
    let status = response.status();
    let is_json = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let error = match status {
        // `tower-sessions` has logged why it could not save the session: its store is the database,
        // which was busy or away (a failover), so the client is told to try again (503, `Retry-After`).
        StatusCode::INTERNAL_SERVER_ERROR => {
            let unsaved = AppError::new(ErrorCode::Unavailable, "Your session could not be saved. Please try again.");
            let mut answer = error_response(&unsaved);
            copy_cookies(&response, &mut answer);
            return answer;
        }
        StatusCode::NOT_FOUND => AppError::not_found(),
        StatusCode::PAYLOAD_TOO_LARGE => AppError::new(ErrorCode::TooLarge, "The request is too large."),
        StatusCode::REQUEST_TIMEOUT => AppError::new(ErrorCode::RequestTimeout, "The request did not arrive in time."),
        status if status.is_server_error() => crate::error::internal("the framework answered a server error", status),
        _ => AppError::new(ErrorCode::BadRequest, "The request could not be read: check its address and parameters."),
    };
    let mut answer = error_response(&error);
    *answer.status_mut() = status;
    copy_cookies(&response, &mut answer);
    answer
}

/// Marks an error page Moth wrote itself (the single sign-on pages), which
/// [`explain_framework_errors`] leaves as it is.
#[derive(Clone, Copy)]
struct OwnPage;

/// Keeps the framework's `Set-Cookie` and `Retry-After` on the answer that replaces its own.
fn copy_cookies(from: &Response, to: &mut Response) {
    for (name, value) in from.headers() {
        if name == http::header::SET_COOKIE || name == http::header::RETRY_AFTER {
            to.headers_mut().append(name, value.clone());
        }
    }
}

/// The largest request body Moth reads. The largest valid input, a 20,000-character description sent
/// as a form, takes at most 240 KB even when every character is a percent-encoded emoji.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// Refuses a body declared larger than [`MAX_BODY_BYTES`] with 413 before reading any of it; reads
/// the rest whole, cut off at the limit (413) and at `request_body_timeout_secs` (408), so that no
/// handler ever waits on a slow or endless body.
async fn limit_body(State(config): State<Arc<Config>>, req: Request<Body>, next: Next) -> Response {
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        let message = format!("The request is larger than {} KB.", MAX_BODY_BYTES / 1024);
        return error_response(&AppError::new(app::error::ErrorCode::TooLarge, message));
    }
    let (parts, body) = req.into_parts();
    let deadline = std::time::Duration::from_secs(config.request_body_timeout_secs.max(1));
    let bytes = match tokio::time::timeout(deadline, axum::body::to_bytes(body, MAX_BODY_BYTES)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            let message = format!("The request is larger than {} KB.", MAX_BODY_BYTES / 1024);
            return error_response(&AppError::new(app::error::ErrorCode::TooLarge, message));
        }
        Err(_) => {
            let message = "The request's body did not arrive in time.";
            return error_response(&AppError::new(app::error::ErrorCode::RequestTimeout, message));
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// Runs a server function, with the service provided as context (as `Arc<dyn Api>`); unknown names get a JSON 404.
/// The browser's doors (server functions, uploads, exports) take a browser session only; a token
/// belongs to the REST API (`rest`), and is refused here rather than ignored.
async fn sessions_only(req: Request<Body>, next: Next) -> Response {
    if req.headers().contains_key(http::header::AUTHORIZATION) {
        let message = "This endpoint takes a browser session, not an Authorization header: \
                       access tokens work with the REST API under /api/v1.";
        return error_response(&AppError::new(app::error::ErrorCode::Unauthenticated, message));
    }
    next.run(req).await
}

async fn call_server_fn(State(state): State<AppState>, req: Request<Body>) -> Response {
    let known =
        server_fn::axum::server_fn_paths().any(|(path, method)| path == req.uri().path() && method == req.method());
    if !known {
        return error_response(&AppError::new(app::error::ErrorCode::NotFound, "No such endpoint."));
    }
    // Always answer JSON: leptos would answer a request that accepts HTML with a redirect.
    let mut req = req;
    req.headers_mut().insert(http::header::ACCEPT, http::HeaderValue::from_static("application/json"));
    let api = state.api.clone();
    // Internals are logged once, where the error is turned into an `AppError`; this span gives those
    // lines the endpoint, and the team and user once the service has established the actor.
    let span = tracing::error_span!(
        "server_fn",
        endpoint = req.uri().path().trim_start_matches("/api/"),
        team = tracing::field::Empty,
        user = tracing::field::Empty
    );
    let mut response = leptos_axum::handle_server_fns_with_context(move || provide_context(api.clone()), req)
        .instrument(span)
        .await
        .into_response();
    response.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}

async fn method_not_allowed() -> Response {
    let mut response =
        error_response(&AppError::new(app::error::ErrorCode::BadRequest, "Server functions are called with POST."));
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}

/// An [`AppError`] as the JSON body server functions use, with its status.
pub fn error_response(error: &AppError) -> Response {
    let mut response = (error.code.status(), Json(error)).into_response();
    if let Some(wait) = error.retry_after_header() {
        response.headers_mut().insert(http::header::RETRY_AFTER, wait);
    }
    response
}

/// Answers 429 when `address` (the request's client) is over `limit`.
pub fn over_limit(state: &AppState, limit: &limits::Limit, parts: &http::request::Parts) -> Option<Response> {
    let address = state.service.client_address(parts)?;
    let seconds = state.limits.check(limit, address).err()?;
    state.metrics.count_limited(limit.name());
    Some(error_response(&AppError::rate_limited(seconds)))
}

/// Every API request counts against its client address's and its session's rate (429 beyond).
async fn limit_api_rate(State(state): State<AppState>, req: Request<Body>, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let address = state.service.client_address(&parts);
    let cookie = session_cookie_value(&parts.headers, session_cookie_name(&state.config));
    if let Err((limit, seconds)) = state.limits.check_api(address, cookie) {
        state.metrics.count_limited(limit);
        return error_response(&AppError::rate_limited(seconds));
    }
    next.run(Request::from_parts(parts, body)).await
}

/// The value of the cookie `name`, if the request sends one.
fn session_cookie_value<'h>(headers: &'h http::HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// Counts every answer by its status, and times it by route, for `/metrics`.
async fn count_responses(
    State(metrics): State<Arc<crate::metrics::Metrics>>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let route = route_label(req.uri().path());
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    metrics.responses.get_or_create(&crate::metrics::Status { code: response.status().as_u16() }).inc();
    metrics.durations.get_or_create(&crate::metrics::Route { route }).observe(started.elapsed().as_secs_f64());
    response
}

/// The route a path is timed under: a known server function or route, else `other` (so that no
/// client can make new series by inventing paths).
fn route_label(path: &str) -> String {
    const ROUTES: [&str; 8] = [
        "/export/issues.csv",
        "/export/audit.csv",
        "/export/audit.json",
        "/export/team/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/_moth/boot",
    ];
    if path.starts_with("/api/") && server_fn::axum::server_fn_paths().any(|(known, _)| known == path) {
        return path.to_owned();
    }
    if let Some(upload) = ["/upload/issues/", "/upload/comments/"].iter().find(|p| path.starts_with(**p)) {
        return format!("{upload}{{id}}");
    }
    ROUTES.iter().find(|r| path.starts_with(**r)).map_or_else(|| "other".to_owned(), |r| (*r).to_owned())
}

/// `/metrics` for a scraper that presents `Authorization: Bearer <metrics_token>`; without a
/// configured token it is not served (404), and a wrong token gets 401.
async fn serve_metrics(State(state): State<AppState>, headers: http::HeaderMap) -> Response {
    let Some(token) = state.config.metrics_token.as_deref().filter(|t| !t.is_empty()) else {
        return error_response(&AppError::not_found());
    };
    let presented = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !crate::digest::constant_time_eq(presented.as_bytes(), token.as_bytes()) {
        return error_response(&AppError::new(app::error::ErrorCode::Unauthenticated, "A valid token is needed."));
    }
    let (open, idle) = state.db.pool_use();
    state.metrics.pool_connections.set(i64::from(open));
    state.metrics.pool_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
    state.metrics.pool_max.set(i64::from(state.db.pool_max()));
    state.metrics.hashing_threads.set(i64::try_from(crate::password::threads()).unwrap_or(i64::MAX));
    state.metrics.hashing_buffers.set(i64::try_from(crate::password::buffers_held()).unwrap_or(i64::MAX));
    let now = crate::clock::unix_millis(time::OffsetDateTime::now_utc());
    let replica = state.service.replica_check(now).map(|r| ("replica", r));
    for (name, result) in state.service.file_checks().await.into_iter().chain(replica) {
        let dependency = crate::metrics::Dependency { dependency: name.to_owned() };
        state.metrics.dependency_up.get_or_create(&dependency).set(i64::from(result.is_ok()));
    }
    if let Err(e) = backup_figures(&state).await {
        tracing::warn!(error = %e, "the backup figures could not be read for /metrics");
    }
    let mut response = state.metrics.encode().into_response();
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}

/// The newest snapshot and drill, as `/metrics` reports them.
async fn backup_figures(state: &AppState) -> Result<(), crate::db::DbError> {
    use crate::db::backup::{recent_runs, RunKind};
    let metrics = &state.metrics;
    let snapshot = recent_runs(&state.db, RunKind::Snapshot, false, 1).await?;
    let written = recent_runs(&state.db, RunKind::Snapshot, true, 1).await?;
    let drill = recent_runs(&state.db, RunKind::Drill, false, 1).await?;
    let verified = recent_runs(&state.db, RunKind::Drill, true, 1).await?;
    metrics.backup_last_snapshot_seconds.set(written.first().map_or(0, |r| r.finished_at / 1000));
    metrics.backup_last_snapshot_passed.set(snapshot.first().map_or(-1, |r| i64::from(r.passed)));
    metrics.backup_last_verified_seconds.set(verified.first().map_or(0, |r| r.finished_at / 1000));
    metrics.backup_last_drill_passed.set(drill.first().map_or(-1, |r| i64::from(r.passed)));
    metrics.backup_last_restore_milliseconds.set(verified.first().map_or(0, |r| r.finished_at - r.started_at));
    metrics.backup_replica_shipped_seconds.set(state.service.replica_shipped_at().map_or(0, |ms| ms / 1000));
    Ok(())
}

/// Liveness: the process is up and answering.
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the database answers (503 when it does not: nothing works without it). clamd and the
/// object store are checked too and reported; without them uploads (and downloads) fail but the
/// tracker works, so they make the answer "degraded" rather than taking the instance out of service.
async fn readyz(State(state): State<AppState>) -> Response {
    let (database, files) = tokio::join!(state.db.ping(), state.service.file_checks());
    let mut checks = serde_json::Map::new();
    let database_ok = match database {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            false
        }
    };
    checks.insert("database".into(), (if database_ok { "ok" } else { "unavailable" }).into());
    let mut degraded = false;
    for (name, result) in files {
        degraded |= result.is_err();
        checks.insert(name.into(), result.err().unwrap_or_else(|| "ok".into()).into());
    }
    if let Some(replica) = state.service.replica_check(crate::clock::unix_millis(time::OffsetDateTime::now_utc())) {
        degraded |= replica.is_err();
        checks.insert("replica".into(), replica.err().unwrap_or_else(|| "ok".into()).into());
    }
    let status = match (database_ok, degraded) {
        (false, _) => "unavailable",
        (true, true) => "degraded",
        (true, false) => "ready",
    };
    let body = Json(serde_json::json!({ "status": status, "checks": checks }));
    if database_ok {
        return (StatusCode::OK, body).into_response();
    }
    // A load balancer takes the instance out; a client told to wait may try again (through another).
    (StatusCode::SERVICE_UNAVAILABLE, [(http::header::RETRY_AFTER, "5")], body).into_response()
}
