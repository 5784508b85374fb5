//! The browser's round trip of single sign-on (see `service::sso`):
//! - `GET /sso/<team>/start` keeps a fresh `state`, `nonce` and PKCE verifier in the session and
//!   sends the browser to the team's provider (303);
//! - `GET /sso/callback?code&state` (the redirect URI registered at the provider) checks the answer
//!   and sends the browser on: to the app when signed in, to the sign-in page when a second factor
//!   or a link's confirmation is owed, or shows why not.
//!
//! Both are top-level navigations, so they answer redirects and pages rather than JSON; both sit
//! behind the session layer and the rate limits of the server functions.

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{header, Request},
    response::{Html, IntoResponse, Redirect, Response},
};

use super::AppState;
use crate::service::sso::{Callback, Finished};

fn page(error: &app::error::AppError) -> Response {
    let message = error.message.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Moth: single sign-on</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
         <body><main><h1>Single sign-on</h1><p role=\"alert\">{message}</p>\
         <p><a href=\"/signin\">Back to signing in</a></p></main></body></html>"
    );
    let mut response = (error.code.status(), Html(html)).into_response();
    response.extensions_mut().insert(super::OwnPage);
    if let Some(wait) = error.retry_after_header() {
        response.headers_mut().insert(header::RETRY_AFTER, wait);
    }
    response
}

pub async fn start(State(state): State<AppState>, Path(team): Path<String>, req: Request<Body>) -> Response {
    let Ok(team) = team.parse() else {
        return page(&app::error::AppError::not_found());
    };
    let (parts, _) = req.into_parts();
    match state.service.start_sso(&parts, team).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => page(&e),
    }
}

pub async fn callback(State(state): State<AppState>, Query(answer): Query<Callback>, req: Request<Body>) -> Response {
    let (parts, _) = req.into_parts();
    match state.service.finish_sso(&parts, answer).await {
        Ok(Finished::SignedIn) => Redirect::to("/").into_response(),
        Ok(Finished::SecondFactorOwed) => Redirect::to("/signin?second_factor=1").into_response(),
        Ok(Finished::LinkOffered) => Redirect::to("/signin?link=1").into_response(),
        Err(e) => page(&e),
    }
}
