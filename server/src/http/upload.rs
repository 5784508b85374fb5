//! `POST /upload/issues/<issue id>?name=<file name>`: an attachment's bytes as the raw body. A route
//! of its own rather than a server function, so that the browser can show progress and the server
//! can refuse before reading: the actor and the issue are checked first, then the declared length,
//! then the body is read only up to the limit (and within `upload_timeout`), then the pipeline runs.

use app::{
    error::{AppError, ErrorCode},
    model::{IssueId, MAX_UPLOAD_BYTES},
};
use axum::{
    body::Body,
    extract::{Path, Query, Request, State},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use super::{error_response, AppState};
use crate::files::{Rejection, Step};

/// How long an upload's body may take to arrive whole.
const UPLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

#[derive(Deserialize)]
pub struct UploadQuery {
    name: Option<String>,
}

fn too_large() -> String {
    format!("A file may be at most {} MB.", MAX_UPLOAD_BYTES / (1024 * 1024))
}

pub async fn upload_to_issue(
    State(state): State<AppState>,
    Path(issue_id): Path<String>,
    Query(query): Query<UploadQuery>,
    request: Request<Body>,
) -> Response {
    let Ok(issue_id) = issue_id.parse::<IssueId>() else { return error_response(&AppError::not_found()) };
    let Some(name) = query.name.filter(|n| !n.is_empty() && n.len() <= 4096) else {
        return error_response(&AppError::field("file", "The file needs a name."));
    };
    let (parts, body) = request.into_parts();
    if let Some(refused) = super::over_limit(&state, &super::limits::Limit::Upload, &parts) {
        return refused;
    }
    let target = match state.service.upload_target(&parts, issue_id).await {
        Ok(target) => target,
        Err(e) => return error_response(&e),
    };
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared.filter(|length| *length > MAX_UPLOAD_BYTES) {
        let rejection = Rejection::new(Step::Size, too_large());
        return error_response(&state.service.refuse(&target, &name, length, &rejection).await);
    }
    // A place in the pipeline before the body is read: waiting uploads hold no file in memory, so at
    // most `CONCURRENT_UPLOADS` bodies (and their sealed copies) are in memory at once.
    let Some(_slot) = state.service.upload_slot().await else {
        return error_response(&AppError::new(ErrorCode::Busy, "Moth is busy with other uploads. Please try again."));
    };
    let limit = usize::try_from(MAX_UPLOAD_BYTES).unwrap_or(usize::MAX);
    let bytes = match tokio::time::timeout(UPLOAD_TIMEOUT, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            // Cut off at the limit (or the client went away): nothing more is read.
            let rejection = Rejection::new(Step::Size, too_large());
            return error_response(&state.service.refuse(&target, &name, MAX_UPLOAD_BYTES, &rejection).await);
        }
        Err(_) => {
            let message = "The file did not arrive in time.";
            return error_response(&AppError::new(ErrorCode::RequestTimeout, message));
        }
    };
    match state.service.upload(target, &name, bytes).await {
        Ok(attachment) => {
            let mut response = Json(attachment).into_response();
            response.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => error_response(&e),
    }
}
