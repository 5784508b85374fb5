//! The device cookie (OWASP, "Slow down online guessing attacks with device cookies"): every browser
//! that calls the API gets a random, long-lived, `HttpOnly` cookie. The server keeps only its SHA-256,
//! and only for browsers that signed in to an account (`crate::bans`); at an account's failure
//! ceiling those browsers still get through, so an attacker who fails at an account from elsewhere
//! cannot lock its owner out.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;

use crate::{bans::Device, config::Config};

/// 32 random bytes, base64url without padding.
const TOKEN_CHARS: usize = 43;
/// About 400 days, the longest a browser keeps a cookie.
const MAX_AGE_SECS: u64 = 400 * 24 * 3600;

fn cookie_name(config: &Config) -> &'static str {
    if config.https() {
        "__Host-moth_device"
    } else {
        "moth_device"
    }
}

/// The device cookie's value in the request, when it has the shape Moth gives it.
fn sent_token<'a>(req: &'a Request<Body>, name: &str) -> Option<&'a str> {
    req.headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| value.len() == TOKEN_CHARS && URL_SAFE_NO_PAD.decode(value).is_ok())
}

pub async fn device_cookie(State(config): State<Arc<Config>>, mut req: Request<Body>, next: Next) -> Response {
    let name = cookie_name(&config);
    let sent = sent_token(&req, name).map(str::to_owned);
    let new = sent.is_none();
    let token = sent.unwrap_or_else(|| {
        let mut bytes = [0_u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    });
    req.extensions_mut().insert(Device(crate::digest::sha256_hex(token.as_bytes())));
    let mut response = next.run(req).await;
    if new {
        let secure = if config.https() { "; Secure" } else { "" };
        let cookie = format!("{name}={token}; Path=/; Max-Age={MAX_AGE_SECS}; HttpOnly; SameSite=Lax{secure}");
        if let Ok(value) = http::HeaderValue::from_str(&cookie) {
            response.headers_mut().append(http::header::SET_COOKIE, value);
        }
    }
    response
}
