//! Refuses state-changing requests that another site made a browser send (cross-site request forgery).
//! A request is refused when `Sec-Fetch-Site` says it did not come from this very origin, or when its
//! `Origin` is not Moth's. Requests without either header (scripts, curl) carry no browser cookies by
//! accident and pass; SameSite=Lax cookies are the second line.

use std::sync::Arc;

use app::error::{AppError, ErrorCode};
use axum::{extract::Request, extract::State, middleware::Next, response::Response};
use http::{header, Method};

use super::error_response;
use crate::config::Config;

pub async fn refuse_cross_site(State(config): State<Arc<Config>>, request: Request, next: Next) -> Response {
    if is_safe(request.method()) || comes_from_this_origin(&config, &request) {
        return next.run(request).await;
    }
    tracing::warn!(method = %request.method(), path = %request.uri().path(), "cross-site request refused");
    error_response(&AppError::new(ErrorCode::CrossOrigin, "Requests from other sites are not allowed."))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn comes_from_this_origin(config: &Config, request: &Request) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        // `same-site` is refused too: the user-content origin is same-site with the app.
        if !matches!(site.to_str(), Ok("same-origin" | "none")) {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Ok(origin) = origin.to_str() else { return false };
    let expected = if let Some(o) = config.public_origin() {
        o
    } else {
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
        format!("{}://{}", if config.https() { "https" } else { "http" }, host.to_ascii_lowercase())
    };
    origin.eq_ignore_ascii_case(&expected)
}
