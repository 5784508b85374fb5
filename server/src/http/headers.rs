//! Security headers on every response of the app's origin.

use std::sync::Arc;

use axum::{extract::Request, extract::State, middleware::Next, response::Response};
use http::{header, HeaderValue};

use crate::config::Config;

/// Lets the WASM app run and nothing else: no inline scripts, no plugins, no framing, no `<base>`.
/// Images may also come from the file origin (attachments' thumbnails), and from nowhere else.
pub fn content_security_policy(files_origin: &str) -> String {
    format!(
        "default-src 'self'; img-src 'self' {files_origin}; script-src 'self' 'wasm-unsafe-eval'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )
}

/// What [`security_headers`] sends: fixed at start.
#[derive(Clone)]
pub struct HeaderPolicy {
    pub config: Arc<Config>,
    pub csp: HeaderValue,
}

pub async fn security_headers(State(policy): State<HeaderPolicy>, request: Request, next: Next) -> Response {
    let config = policy.config;
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut http::HeaderMap, name, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    headers.insert(header::CONTENT_SECURITY_POLICY, policy.csp);
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, http::HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(headers, http::HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    set(headers, http::HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()");
    if config.https() {
        set(headers, header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains");
    }
    response
}
