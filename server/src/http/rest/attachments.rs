//! An issue's attachments through the REST API: listed with their signed links, uploaded with the raw
//! body as the browser does (the same authorisation before the body is read, the same pipeline, fair
//! places and pace as `http::upload`), one read again for a fresh link, and deleted. A file is found
//! only among the attachments its reader sees on that issue.

use app::{
    api::FilesApi,
    error::{AppError, ErrorCode},
    model::{Attachment, AttachmentId, AttachmentIdInput, IssueIdInput},
};
use axum::{
    body::Body,
    extract::{Path, Query, Request, State},
    response::Response,
};
use http::{header, request::Parts, HeaderValue, StatusCode};

use super::{answer, deleted, resources::issue_id_of, AppState};
use crate::http::{error_response, upload};

/// The attachments of issue `number` its reader sees, each with a link.
async fn listed(state: &AppState, parts: &Parts, key: String, number: i64) -> Result<Vec<Attachment>, AppError> {
    let issue_id = issue_id_of(state, parts, key, number).await?;
    state.service.list_attachments(parts, IssueIdInput { issue_id }).await
}

/// The attachment `id` of issue `number`, as its reader sees it (404 if it is not one of them).
async fn one_of(
    state: &AppState,
    parts: &Parts,
    key: String,
    number: i64,
    id: AttachmentId,
) -> Result<Attachment, AppError> {
    let files = listed(state, parts, key, number).await?;
    files.into_iter().find(|file| file.id == id).ok_or_else(AppError::not_found)
}

/// `GET …/issues/{number}/attachments`: the files its reader sees, each with a signed, expiring link.
#[utoipa::path(get, path = "/api/v1/projects/{key}/issues/{number}/attachments", params(("key" = String, Path, description = "The project's key, such as WEB"), ("number" = i64, Path, minimum = 1, description = "The issue's number in its project")), responses((status = 200, description = "The files its reader sees, each with a signed link to the file origin that expires", body = Vec<Attachment>), (status = 404, description = "No such issue the user reads", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn attachments(
    State(state): State<AppState>,
    Path((key, number)): Path<(String, i64)>,
    parts: Parts,
) -> Response {
    answer(listed(&state, &parts, key, number).await, StatusCode::OK)
}

/// `GET …/attachments/{attachment_id}`: the file with a fresh signed link.
#[utoipa::path(get, path = "/api/v1/projects/{key}/issues/{number}/attachments/{attachment_id}", params(("key" = String, Path, description = "The project's key, such as WEB"), ("number" = i64, Path, minimum = 1, description = "The issue's number in its project"), ("attachment_id" = AttachmentId, Path, description = "The file's id")), responses((status = 200, description = "The file, with a fresh signed link to the file origin (`link.url`, valid until `link.expires_at`)", body = Attachment), (status = 404, description = "No such file the user sees on this issue", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn attachment(
    State(state): State<AppState>,
    Path((key, number, attachment_id)): Path<(String, i64, AttachmentId)>,
    parts: Parts,
) -> Response {
    answer(one_of(&state, &parts, key, number, attachment_id).await, StatusCode::OK)
}

/// `DELETE …/attachments/{attachment_id}`: one's own file (OWNER and ADMIN: any). 204.
#[utoipa::path(delete, path = "/api/v1/projects/{key}/issues/{number}/attachments/{attachment_id}", params(("key" = String, Path, description = "The project's key, such as WEB"), ("number" = i64, Path, minimum = 1, description = "The issue's number in its project"), ("attachment_id" = AttachmentId, Path, description = "The file's id")), responses((status = 204, description = "Deleted, its bytes removed from the store"), (status = 404, description = "No such file the user sees on this issue", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn delete_attachment(
    State(state): State<AppState>,
    Path((key, number, attachment_id)): Path<(String, i64, AttachmentId)>,
    parts: Parts,
) -> Response {
    let result = async {
        let file = one_of(&state, &parts, key, number, attachment_id).await?;
        state.service.delete_attachment(&parts, AttachmentIdInput { attachment_id: file.id }).await
    }
    .await;
    deleted(result)
}

/// `POST …/issues/{number}/attachments?name=<file name>` with the file's bytes as the body: 201 with
/// the stored file, or why it was refused (422 with the step's reason, 413 over the size limit).
#[utoipa::path(post, path = "/api/v1/projects/{key}/issues/{number}/attachments", params(("key" = String, Path, description = "The project's key, such as WEB"), ("number" = i64, Path, minimum = 1, description = "The issue's number in its project"), ("name" = String, Query, description = "The file's name, with the extension of an accepted type (such as `trace.log`)")), request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"), responses((status = 201, description = "The file stored (type checked, scanned, encrypted), with a signed link; its address in `Location`", body = Attachment), (status = 400, description = "An `Idempotency-Key` was sent (uploads do not take one: list the files to see whether a retry is needed)", body = AppError), (status = 404, description = "No such issue the user reads", body = AppError), (status = 408, description = "The body came too slowly", body = AppError), (status = 413, description = "The file is larger than the limit", body = AppError), (status = 422, description = "The file has no name, or was refused: its type, content or a virus", body = AppError), (status = 503, description = "Every upload place is taken, or the scanner is unavailable: try again", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    Path((key, number)): Path<(String, i64)>,
    Query(query): Query<upload::UploadQuery>,
    request: Request<Body>,
) -> Response {
    let (parts, body) = request.into_parts();
    // The pipeline streams the body, so a key could not be checked against it before the upload
    // runs: refused rather than ignored, so that no client believes its retry is safe.
    if parts.headers.contains_key("idempotency-key") {
        let message =
            "Uploads do not take an Idempotency-Key: list the issue's attachments to see whether a retry is needed.";
        return error_response(&AppError::new(ErrorCode::BadRequest, message));
    }
    let Some(name) = upload::file_name(query) else { return upload::nameless() };
    if let Some(refused) = crate::http::over_limit(&state, &crate::http::limits::Limit::Upload, &parts) {
        return refused;
    }
    let target = async {
        let issue_id = issue_id_of(&state, &parts, key.clone(), number).await?;
        state.service.upload_target(&parts, issue_id).await
    };
    let received = match target.await {
        Ok(target) => upload::receive(&state, target, &name, &parts, body).await,
        Err(e) => Err(e),
    };
    match received {
        Ok(file) => {
            let mut response = answer(Ok(&file), StatusCode::CREATED);
            let location = format!("/api/v1/projects/{key}/issues/{number}/attachments/{}", file.id);
            if let Ok(location) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(e) => error_response(&e),
    }
}
