//! The browser's half of every server function: the arguments URL-encoded (`input[email]=…`), a POST
//! to `/api/<endpoint>`, and a JSON answer or a JSON [`AppError`]: the wire format of `#[server]`'s own
//! client, which the server's half reads. One request path serves every function: `#[server]`'s client
//! is generic over each function, and its request code was compiled into every caller's future
//! (docs/performance.md, "The front end on the wire").

use std::{future::Future, pin::Pin};

use serde::{de::DeserializeOwned, Serialize};
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

use crate::error::AppError;

/// A function's arguments as the body of its request.
pub fn encode(arguments: &impl Serialize) -> Result<String, AppError> {
    serde_qs::to_string(arguments)
        .map_err(|e| AppError::from_server_fn_error(ServerFnErrorErr::Serialization(e.to_string())))
}

/// Calls the server function at `path` with the URL-encoded `fields` and decodes its answer. Only the
/// decoding is generic: the request and its errors are one boxed future, whatever the answer's type.
pub async fn call<T: DeserializeOwned>(path: &'static str, fields: String) -> Result<T, AppError> {
    let body = post(path, fields).await?;
    serde_json::from_str(&body).map_err(undecodable)
}

#[allow(clippy::needless_pass_by_value)] // the shape `map_err` takes
fn undecodable(e: serde_json::Error) -> AppError {
    AppError::from_server_fn_error(ServerFnErrorErr::Deserialization(e.to_string()))
}

/// The body of a successful answer, or the error the server answered.
type Answer = Pin<Box<dyn Future<Output = Result<String, AppError>>>>;

/// One POST. Not generic and boxed, so that its code exists once rather than inside each caller's
/// future.
fn post(path: &'static str, fields: String) -> Answer {
    Box::pin(async move {
        let abort = AbortOnDrop(web_sys::AbortController::new().ok());
        let signal = abort.0.as_ref().map(web_sys::AbortController::signal);
        let request = gloo_net::http::Request::post(path)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json")
            .abort_signal(signal.as_ref())
            .body(fields)
            .map_err(unreachable)?;
        let response = request.send().await.map_err(unreachable)?;
        let body = response.text().await.map_err(unreachable)?;
        abort.disarm();
        if (400..=599).contains(&response.status()) {
            return Err(AppError::de(body.into()));
        }
        Ok(body)
    })
}

/// A request whose caller stopped waiting (a page left, a search replaced) is cancelled.
struct AbortOnDrop(Option<web_sys::AbortController>);

impl AbortOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = self.0.take() {
            controller.abort();
        }
    }
}

/// The request did not reach the server or its answer did not arrive whole (what the browser says of
/// it is not shown to users).
fn unreachable(_: gloo_net::Error) -> AppError {
    AppError::from_server_fn_error(ServerFnErrorErr::Request(String::new()))
}
