//! `Idempotency-Key` on the REST API's creating requests: a CI job that retries after a timeout must
//! not file two issues. The same key and request within a day answer what the first answered, and
//! create nothing; the same key with another request is refused (422); one still running answers 409.
//! Keys belong to the token (`db::idempotency`); server errors are not kept, so a retry runs again.

use app::error::{AppError, ErrorCode};
use axum::{
    body::Bytes,
    response::{IntoResponse, Response},
};
use http::{header, request::Parts, HeaderValue, StatusCode};

use super::AppState;
use crate::{
    db::idempotency::{self, Claim},
    http::error_response,
    service::TokenGrant,
};

/// The largest answer kept for a replay; a larger one is answered but not kept.
const MAX_KEPT_BYTES: usize = 256 * 1024;

/// The key a request sends, if any: 1 to 255 visible ASCII characters.
fn key_of(parts: &Parts) -> Result<Option<String>, AppError> {
    let Some(value) = parts.headers.get("idempotency-key") else { return Ok(None) };
    let key = value.to_str().ok().filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
    key.map(|k| Some(k.to_owned())).ok_or_else(|| {
        AppError::new(ErrorCode::BadRequest, "Idempotency-Key must be 1 to 255 visible ASCII characters.")
    })
}

/// Runs `create` once per `Idempotency-Key` (and always when none is sent).
pub async fn once(
    state: &AppState,
    parts: &Parts,
    body: &Bytes,
    create: impl std::future::Future<Output = Response>,
) -> Response {
    let key = match key_of(parts) {
        Ok(Some(key)) => key,
        Ok(None) => return create.await,
        Err(e) => return error_response(&e),
    };
    let Some(grant) = parts.extensions.get::<TokenGrant>().copied() else {
        return error_response(&AppError::unauthenticated());
    };
    let mut request = format!("{} {}\n", parts.method, parts.uri.path()).into_bytes();
    request.extend_from_slice(body);
    let hash = crate::digest::sha256_hex(&request);
    let now = crate::clock::unix_millis(time::OffsetDateTime::now_utc());
    let claim = match idempotency::claim(&state.db, grant.id(), &key, &hash, now).await {
        Ok(claim) => claim,
        Err(e) => return error_response(&e.into()),
    };
    match claim {
        Claim::New => run_and_keep(state, grant, &key, create).await,
        Claim::Replay { status, body, location } => replay(status, body, location.as_deref()),
        Claim::Mismatch => error_response(&AppError::new(
            ErrorCode::InvalidInput,
            "This Idempotency-Key was used with another request in the last day: use a new key.",
        )),
        Claim::InFlight => {
            let mut error = AppError::new(
                ErrorCode::Conflict,
                "A request with this Idempotency-Key is still being processed: retry in a moment.",
            );
            error.retry_after = Some(1);
            error_response(&error)
        }
        Claim::TooMany => {
            let mut error = AppError::new(
                ErrorCode::RateLimited,
                format!("This token used {} idempotency keys today.", idempotency::KEYS_PER_TOKEN_PER_DAY),
            );
            error.retry_after = Some(3600);
            error_response(&error)
        }
    }
}

async fn run_and_keep(
    state: &AppState,
    grant: TokenGrant,
    key: &str,
    create: impl std::future::Future<Output = Response>,
) -> Response {
    let response = create.await;
    let status = response.status();
    // Server errors and "try later" answers are not kept: a retry must run again.
    let keep = !(status.is_server_error()
        || matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::REQUEST_TIMEOUT | StatusCode::CONFLICT));
    let (head, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 4 * MAX_KEPT_BYTES).await.unwrap_or_default();
    let location = head.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = std::str::from_utf8(&bytes).ok().filter(|t| t.len() <= MAX_KEPT_BYTES);
    let kept = match text.filter(|_| keep) {
        Some(text) => {
            idempotency::complete(&state.db, grant.id(), key, status.as_u16(), text, location.as_deref()).await
        }
        None => idempotency::release(&state.db, grant.id(), key).await,
    };
    if let Err(e) = kept {
        tracing::warn!(error = %e, "an idempotency key's answer could not be kept");
    }
    Response::from_parts(head, axum::body::Body::from(bytes))
}

fn replay(status: u16, body: String, location: Option<&str>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    response
}
