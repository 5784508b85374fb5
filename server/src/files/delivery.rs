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
    /// Proxies that may name the client (`trusted_proxies`), for the fair shares of deliveries.
    pub trusted_proxies: Vec<std::net::IpAddr>,
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

async fn deliver(
    State(origin): State<FileOrigin>,
    Path(token): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let now = crate::clock::unix_millis(origin.clock.now()) / 1000;
    let Some(claims) = origin.files.links.verify(&token, now) else {
        return refused(StatusCode::FORBIDDEN, "This link is not valid, or it has expired.");
    };
    let found = match crate::db::attachments::deliverable(&origin.db, claims.team_id, claims.attachment_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return refused(StatusCode::NOT_FOUND, "Not found."),
        // The database away (a failover) or busy: the reader tries again, as the app's doors say.
        Err(e) if e.is_unavailable() || e.is_busy() => {
            tracing::warn!(error = %e, "file origin: the database cannot be reached");
            let mut response = refused(StatusCode::SERVICE_UNAVAILABLE, "Please try again in a moment.");
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return response;
        }
        Err(e) => {
            tracing::error!(error = %e, "file origin: database");
            return refused(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.");
        }
    };
    // A bounded number at once, each holding its place until its last byte is sent: the place goes
    // with the body, not with the handler's return.
    let peer = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let forwarded_for = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let client = crate::bans::client_address(peer, forwarded_for, &origin.trusted_proxies)
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let Some(place) = origin.files.delivery_slot(&client, &claims.team_id.to_string()).await else {
        return refused(StatusCode::SERVICE_UNAVAILABLE, "Busy. Please try again in a moment.");
    };
    let reader = match origin.files.store.reader(&found.storage_key).await {
        Ok(reader) => reader,
        Err(e) => {
            tracing::error!(error = %e, "file origin: object store");
            return refused(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.");
        }
    };
    let opener = match origin.files.keys.stream_opener(&found.key_id, &found.wrapped_key, reader).await {
        Ok(opener) => opener,
        Err(e) => {
            tracing::error!(key = %found.storage_key, error = %e, "file origin: a stored object did not open");
            return refused(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.");
        }
    };
    let body = send_opened(opener, place, origin.files.delivery_stall, found.storage_key.clone());
    let mut response = Response::new(body);
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

/// The body of a delivery: the object read from the store and opened a segment at a time (64 KiB) by
/// a task of its own, which holds the delivery's place and hands each segment on only as the client
/// reads, so a delivery holds a few segments, never the file. A client that takes nothing for
/// `stall` is cut off and the place freed; a cut or altered object ends the body with an error,
/// never as if it were whole.
fn send_opened(
    mut opener: super::crypto::StreamOpener<super::store::ObjectReader>,
    place: super::fair::Place,
    stall: std::time::Duration,
    storage_key: String,
) -> Body {
    let (pieces, received) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
    let complete = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let completed = complete.clone();
    tokio::spawn(async move {
        let _place = place;
        loop {
            // A segment opens in well under a millisecond: no blocking thread is needed.
            let next = match opener.next_segment().await {
                Some(Ok(segment)) => Ok(bytes::Bytes::from(segment)),
                Some(Err(e)) => {
                    tracing::error!(key = %storage_key, error = %e, "file origin: a stored object did not open");
                    Err(std::io::Error::other("the stored object did not open"))
                }
                None => {
                    completed.store(true, std::sync::atomic::Ordering::Release);
                    return;
                }
            };
            let failed = next.is_err();
            match pieces.send_timeout(next, stall).await {
                Ok(()) if !failed => {}
                Err(tokio::sync::mpsc::error::SendTimeoutError::Timeout(_)) => {
                    tracing::info!(key = %storage_key, "file origin: a reader stalled; cut off");
                    return;
                }
                // Sent the error, or the client went away.
                Ok(()) | Err(tokio::sync::mpsc::error::SendTimeoutError::Closed(_)) => return,
            }
        }
    });
    Body::from_stream(Opened { received, complete, ended: false })
}

/// The receiving end of [`send_opened`]: a channel closed before the last segment was handed on
/// (the sender gave up on a stalled reader) is an error, so the client sees a cut transfer.
struct Opened {
    received: tokio::sync::mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>,
    complete: Arc<std::sync::atomic::AtomicBool>,
    ended: bool,
}

impl tokio_stream::Stream for Opened {
    type Item = Result<bytes::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        if self.ended {
            return std::task::Poll::Ready(None);
        }
        match self.received.poll_recv(cx) {
            std::task::Poll::Ready(None) => {
                self.ended = true;
                if self.complete.load(std::sync::atomic::Ordering::Acquire) {
                    std::task::Poll::Ready(None)
                } else {
                    std::task::Poll::Ready(Some(Err(std::io::Error::other("the delivery was cut off"))))
                }
            }
            other => other,
        }
    }
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
