//! The links in Moth's emails, which need no session (the signed token names the person, and only them):
//! - `/unsubscribe/<token>`, in every notification email: `GET` shows a page with one button (mail
//!   scanners that follow links change nothing); `POST` turns the person's notification email off, as
//!   a mail client's one-click unsubscribe does (RFC 8058);
//! - `GET /verify-email/<token>`, mailed on request: proves the person's address (a scanner that
//!   follows it proves only that the mail arrived, which is what is asked).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};

use super::AppState;
use crate::db::notifications;

fn page(status: StatusCode, body: &str) -> Response {
    titled(status, "Notification emails", body)
}

fn titled(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Moth: {title}</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    (status, Html(html)).into_response()
}

fn refused() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "<p>This unsubscribe link is not valid or has expired. You can turn notification emails off in your \
         account's settings.</p>",
    )
}

pub async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if state.unsubscribe.verify(&token, state.service.now_secs()).is_none() {
        return refused();
    }
    page(
        StatusCode::OK,
        "<p>Stop receiving notification emails from Moth? Your inbox in Moth keeps working.</p>\
         <form method=\"post\"><button type=\"submit\">Turn off notification emails</button></form>",
    )
}

pub async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some(user) = state.unsubscribe.verify(&token, state.service.now_secs()) else { return refused() };
    if let Err(e) = notifications::unsubscribe(&state.db, user, state.service.now_secs() * 1000).await {
        tracing::error!(error = %e, "could not turn notification email off");
        return page(StatusCode::SERVICE_UNAVAILABLE, "<p>That did not work just now. Please try again.</p>");
    }
    page(
        StatusCode::OK,
        "<p>Done: Moth will not email you notifications any more. You can turn them on again in your account.</p>",
    )
}

pub async fn verify_email(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.service.prove_address(&token).await {
        Ok(true) => titled(
            StatusCode::OK,
            "Email address",
            "<p>Done: your address is proven. Moth may email you notifications, as your account's settings say.</p>",
        ),
        Ok(false) => titled(
            StatusCode::NOT_FOUND,
            "Email address",
            "<p>This link is not valid, has expired, or is not for your current address. Ask for a new one on \
             your account page.</p>",
        ),
        Err(e) => {
            tracing::error!(error = %e.message, "could not prove an address");
            titled(
                StatusCode::SERVICE_UNAVAILABLE,
                "Email address",
                "<p>That did not work just now. Please try again.</p>",
            )
        }
    }
}
