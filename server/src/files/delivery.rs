//! The file origin: a listener of its own (`files_bind`, reached as `files_url`) that serves stored
//! files and nothing else, so that no uploaded byte is ever served from the app's origin. It reads no
//! cookie and knows no session: the signed link is the whole authority, and it is short-lived.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

use super::Files;
use crate::{clock::Clock, db::Db};

#[derive(Clone)]
pub struct FileOrigin {
    pub files: Arc<Files>,
    pub db: Db,
    pub clock: Arc<dyn Clock>,
}

pub fn router(origin: FileOrigin) -> Router {
    Router::new()
        .route("/f/{token}", get(deliver))
        .fallback(|| async { refused(StatusCode::NOT_FOUND, "Not found.") })
        .with_state(origin)
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

fn refused(status: StatusCode, message: &'static str) -> Response {
    let mut response = (status, message).into_response();
    harden(response.headers_mut());
    response
}

/// Headers every answer of the file origin carries: nothing it sends may run or be sniffed.
fn harden(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
}

async fn deliver(State(origin): State<FileOrigin>, Path(token): Path<String>) -> Response {
    let now = crate::clock::unix_millis(origin.clock.now()) / 1000;
    let Some(claims) = origin.files.links.verify(&token, now) else {
        return refused(StatusCode::FORBIDDEN, "This link is not valid, or it has expired.");
    };
    let found = match crate::db::attachments::deliverable(&origin.db, claims.team_id, claims.attachment_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return refused(StatusCode::NOT_FOUND, "Not found."),
        Err(e) => {
            tracing::error!(error = %e, "file origin: database");
            return refused(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.");
        }
    };
    // Each delivery holds its file twice (sealed and opened): a bounded number at once.
    let Some(_slot) = origin.files.delivery_slot().await else {
        return refused(StatusCode::SERVICE_UNAVAILABLE, "Busy. Please try again in a moment.");
    };
    let plain = match origin.files.store.get(&found.storage_key).await {
        Ok(sealed) => {
            let keys = origin.files.keys.clone();
            let (key_id, wrapped) = (found.key_id.clone(), found.wrapped_key.clone());
            tokio::task::spawn_blocking(move || keys.open(&key_id, &wrapped, &sealed)).await
        }
        Err(e) => {
            tracing::error!(error = %e, "file origin: object store");
            return refused(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.");
        }
    };
    let Ok(Ok(plain)) = plain else {
        tracing::error!(key = %found.storage_key, "file origin: a stored object did not decrypt");
        return refused(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.");
    };
    let mut response = Response::new(Body::from(plain));
    let headers = response.headers_mut();
    harden(headers);
    if let Ok(kind) = HeaderValue::from_str(&found.content_type) {
        headers.insert(header::CONTENT_TYPE, kind);
    }
    if let Ok(disposition) = HeaderValue::from_str(&content_disposition(claims.inline, &found.name)) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    response
}

/// RFC 6266: a plain ASCII `filename` for old clients and the exact name as `filename*` (RFC 8187).
pub fn content_disposition(inline: bool, name: &str) -> String {
    let kind = if inline { "inline" } else { "attachment" };
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' }).collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}", utf8_percent_encode(name, NON_ALPHANUMERIC))
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn names_are_quoted_safely_and_kept_exactly() {
        assert_eq!(
            content_disposition(false, "Rapport \"final\" é.pdf"),
            "attachment; filename=\"Rapport _final_ _.pdf\"; filename*=UTF-8''Rapport%20%22final%22%20%C3%A9%2Epdf"
        );
        assert!(content_disposition(true, "a.png").starts_with("inline; "));
    }
}
