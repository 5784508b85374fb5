//! `POST /upload/issues/<issue id>?name=<file name>` and `POST /upload/comments/<comment id>?name=...`:
//! an attachment's bytes as the raw body. Routes of their own rather than server functions, so that
//! the browser can show progress and the server can refuse before reading: the actor and the issue
//! (or comment) are checked first, then the declared length, then the body is read only up to the
//! limit (at a minimum rate, and within `UPLOAD_TIMEOUT`), then the pipeline runs.

use app::{
    error::{AppError, ErrorCode},
    model::{Attachment, CommentId, IssueId, MAX_UPLOAD_BYTES},
};
use axum::{
    body::Body,
    extract::{Path, Query, Request, State},
    response::{IntoResponse, Response},
    Json,
};
use serde::Deserialize;

use super::{error_response, AppState};
use crate::{
    files::{Rejection, Step},
    service::UploadTarget,
};

/// The upload's query: the file's name.
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
    let Some(name) = file_name(query) else { return nameless() };
    let (parts, body) = request.into_parts();
    if let Some(refused) = super::over_limit(&state, &super::limits::Limit::Upload, &parts) {
        return refused;
    }
    match state.service.upload_target(&parts, issue_id).await {
        Ok(target) => answer(receive(&state, target, &name, &parts, body).await),
        Err(e) => error_response(&e),
    }
}

pub async fn upload_to_comment(
    State(state): State<AppState>,
    Path(comment_id): Path<String>,
    Query(query): Query<UploadQuery>,
    request: Request<Body>,
) -> Response {
    let Ok(comment_id) = comment_id.parse::<CommentId>() else { return error_response(&AppError::not_found()) };
    let Some(name) = file_name(query) else { return nameless() };
    let (parts, body) = request.into_parts();
    if let Some(refused) = super::over_limit(&state, &super::limits::Limit::Upload, &parts) {
        return refused;
    }
    match state.service.comment_upload_target(&parts, comment_id).await {
        Ok(target) => answer(receive(&state, target, &name, &parts, body).await),
        Err(e) => error_response(&e),
    }
}

pub(super) fn file_name(query: UploadQuery) -> Option<String> {
    query.name.filter(|n| !n.is_empty() && n.len() <= 4096)
}

pub(super) fn nameless() -> Response {
    error_response(&AppError::field("file", "The file needs a name."))
}

/// The browser's answer: the stored file, never cached.
fn answer(received: Result<Attachment, AppError>) -> Response {
    match received {
        Ok(attachment) => {
            let mut response = Json(attachment).into_response();
            response.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => error_response(&e),
    }
}

/// The body of an authorised upload: refused on its declared length, then run through the pipeline
/// as it arrives (cut at its type's limit, at `files::intake::Pace`, within `UPLOAD_TIMEOUT`) while it
/// holds a place in the pipeline. The browser's routes and the REST API's both come here.
pub(super) async fn receive(
    state: &AppState,
    target: UploadTarget,
    name: &str,
    parts: &http::request::Parts,
    body: Body,
) -> Result<Attachment, AppError> {
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(length) = declared.filter(|length| *length > MAX_UPLOAD_BYTES) {
        let rejection = Rejection::new(Step::Size, too_large());
        return Err(state.service.refuse(&target, name, length, &rejection).await);
    }
    // A place in the pipeline before the body is read: waiting uploads hold no file in memory, so at
    // most `CONCURRENT_UPLOADS` bodies (and their sealed copies) are in memory at once.
    // Within the fair shares of the client's address and team: no one fills every place.
    let Some(_slot) = state.service.upload_slot(&target).await else {
        return Err(AppError::new(ErrorCode::Busy, "Moth is busy with other uploads. Please try again."));
    };
    state.service.upload(target, name, body.into_data_stream()).await
}
