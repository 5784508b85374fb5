//! The REST API's resources. Each handler reads the path, query and body, calls the server
//! function's implementation (the same validation, policy and read scope), and answers JSON.

use std::collections::HashMap;

use app::{
    api::{IssuesApi, MembersApi, ProjectsApi},
    error::{AppError, ErrorCode, FieldError},
    model::{
        CommentId, CommentIdInput, EditCommentInput, Issue, IssueDetail, IssueFields, IssueFilter, IssueIdInput,
        IssueRefInput, ListIssuesInput, NewCommentInput, NewIssueInput, ProjectKeyInput, StatusId, UpdateIssueInput,
    },
};
use axum::{
    body::Bytes,
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use http::{header, request::Parts, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;

use super::{answer, AppState};
use crate::http::error_response;

/// A JSON body as `T`, or a specific `bad_request` (never a type name of the code).
fn json_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, AppError> {
    serde_json::from_slice(body).map_err(|e| {
        let message = match e.classify() {
            serde_json::error::Category::Data => {
                let text = e.to_string();
                let text = text.split(", expected struct").next().unwrap_or_default().to_owned();
                format!("The body does not fit this request: {text}.")
            }
            _ => format!("The body is not JSON (line {}, column {}).", e.line(), e.column()),
        };
        AppError::new(ErrorCode::BadRequest, message)
    })
}

/// Field errors of an issue's fields as the REST body names them (`title`, not `fields.title`).
fn body_fields(mut error: AppError) -> AppError {
    for field in &mut error.fields {
        if let Some(rest) = field.field.strip_prefix("fields.") {
            *field = FieldError { field: rest.to_owned(), message: std::mem::take(&mut field.message) };
        }
    }
    error
}

/// `GET /api/v1/user`: the token's user, team and role now.
pub async fn user(State(state): State<AppState>, parts: Parts) -> Response {
    answer(state.service.current_user(&parts).await, StatusCode::OK)
}

/// `GET /api/v1/members`: the team's members (not for guests).
pub async fn members(State(state): State<AppState>, parts: Parts) -> Response {
    answer(state.service.list_members(&parts).await, StatusCode::OK)
}

/// `GET /api/v1/projects`: the projects the token's user reads.
pub async fn projects(State(state): State<AppState>, parts: Parts) -> Response {
    answer(state.service.list_projects(&parts).await, StatusCode::OK)
}

/// `GET /api/v1/projects/{key}`: a project with its workflow and members.
pub async fn project(State(state): State<AppState>, Path(key): Path<String>, parts: Parts) -> Response {
    answer(state.service.get_project(&parts, ProjectKeyInput { key }).await, StatusCode::OK)
}

/// The list's query parameters: the app's filter and order, and the cursor.
const LIST_PARAMETERS: [&str; 13] = [
    "q",
    "status",
    "category",
    "type",
    "severity",
    "priority",
    "visibility",
    "tag",
    "assignee",
    "reporter",
    "sort",
    "after",
    "after_key",
];

/// `GET /api/v1/projects/{key}/issues?q=…&severity=…&sort=…&after=…`: a page of 50, newest cursor in
/// an RFC 8288 `Link: <…>; rel="next"` header while there are more.
pub async fn list_issues(State(state): State<AppState>, Path(key): Path<String>, parts: Parts) -> Response {
    let Ok(axum::extract::Query(query)) = axum::extract::Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
    else {
        return error_response(&AppError::new(ErrorCode::BadRequest, "The query string could not be read."));
    };
    if let Some(unknown) = query.keys().find(|k| !LIST_PARAMETERS.contains(&k.as_str())) {
        return error_response(&AppError::field(unknown, "Unknown parameter."));
    }
    let (filter, sort, unknown) = IssueFilter::from_query(|k| query.get(k).cloned());
    if let Some(name) = unknown {
        return error_response(&AppError::field(name, "Unknown value."));
    }
    let number =
        |name: &str| query.get(name).map(|v| v.parse::<i64>().map_err(|_| AppError::field(name, "Not a number.")));
    let (after, after_key) = match (number("after").transpose(), number("after_key").transpose()) {
        (Ok(after), Ok(after_key)) => (after.unwrap_or(0), after_key),
        (Err(e), _) | (_, Err(e)) => return error_response(&e),
    };
    let project = match state.service.get_project(&parts, ProjectKeyInput { key }).await {
        Ok(detail) => detail.project,
        Err(e) => return error_response(&e),
    };
    let input = ListIssuesInput { project_id: project.id, filter: filter.clone(), sort, after, after_key };
    let page = match state.service.list_issues(&parts, input).await {
        Ok(page) => page,
        Err(e) => return error_response(&e),
    };
    let next = page.next_after.map(|after| {
        let filter = filter.query(sort);
        let joint = if filter.is_empty() { "" } else { "&" };
        let after_key = page.next_after_key.map(|key| format!("&after_key={key}")).unwrap_or_default();
        format!("</api/v1/projects/{}/issues?{filter}{joint}after={after}{after_key}>; rel=\"next\"", project.key)
    });
    let mut response = answer(Ok(page.issues), StatusCode::OK);
    if let Some(link) = next.and_then(|l| HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LINK, link);
    }
    response
}

/// `POST /api/v1/projects/{key}/issues` with the issue's fields (`{"title": …}` at least): 201 with
/// the issue, its address in `Location` and its `ETag`.
pub async fn create_issue(
    State(state): State<AppState>,
    Path(key): Path<String>,
    parts: Parts,
    body: Bytes,
) -> Response {
    super::idempotent::once(&state, &parts, &body, create_issue_once(&state, key, &parts, &body)).await
}

async fn create_issue_once(state: &AppState, key: String, parts: &Parts, body: &Bytes) -> Response {
    let fields: IssueFields = match json_body(body) {
        Ok(fields) => fields,
        Err(e) => return error_response(&e),
    };
    let project = match state.service.get_project(parts, ProjectKeyInput { key }).await {
        Ok(detail) => detail.project,
        Err(e) => return error_response(&e),
    };
    match state.service.create_issue(parts, NewIssueInput { project_id: project.id, fields }).await {
        Ok(issue) => {
            let location = format!("/api/v1/projects/{}/issues/{}", project.key, issue.number);
            let mut response = with_etag(answer(Ok(&issue), StatusCode::CREATED), &issue);
            if let Ok(location) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(e) => error_response(&body_fields(e)),
    }
}

async fn detail(state: &AppState, parts: &Parts, key: String, number: i64) -> Result<IssueDetail, AppError> {
    state.service.get_issue(parts, IssueRefInput { key, number }).await
}

/// An issue's entity tag: a digest of everything the API shows of it, so any change changes it.
fn etag(issue: &Issue) -> String {
    let json = serde_json::to_vec(issue).unwrap_or_default();
    format!("\"{}\"", &crate::digest::sha256_hex(&json)[..32])
}

fn with_etag(mut response: Response, issue: &Issue) -> Response {
    if let Ok(value) = HeaderValue::from_str(&etag(issue)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// `If-Match`, when sent, must name the issue as it is now (412 otherwise): two scripts cannot
/// silently overwrite each other.
fn precondition(parts: &Parts, issue: &Issue) -> Result<(), AppError> {
    let Some(wanted) = parts.headers.get(header::IF_MATCH) else { return Ok(()) };
    let current = etag(issue);
    let matches = wanted.to_str().is_ok_and(|v| v.split(',').any(|tag| tag.trim() == "*" || tag.trim() == current));
    if matches {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::PreconditionFailed,
            "The issue changed since you read it (If-Match does not match its ETag): read it again.",
        ))
    }
}

/// `GET /api/v1/projects/{key}/issues/{number}`: the issue with the comments and history its reader
/// may see, and its `ETag`.
pub async fn issue(State(state): State<AppState>, Path((key, number)): Path<(String, i64)>, parts: Parts) -> Response {
    match detail(&state, &parts, key, number).await {
        Ok(detail) => {
            let issue = detail.issue.clone();
            with_etag(answer(Ok(detail), StatusCode::OK), &issue)
        }
        Err(e) => error_response(&e),
    }
}

/// What a `PATCH` may change: any of the issue's fields, and its status (by id). (Unknown keys are
/// refused by [`patched`]: serde's `deny_unknown_fields` does not work beside `flatten`.)
#[derive(serde::Deserialize)]
struct IssuePatch {
    #[serde(default)]
    status_id: Option<StatusId>,
    #[serde(flatten)]
    fields: serde_json::Map<String, serde_json::Value>,
}

/// The issue's fields with `patch` applied; a key that is not a field is refused.
fn patched(issue: &Issue, patch: serde_json::Map<String, serde_json::Value>) -> Result<IssueFields, AppError> {
    let current = IssueFields {
        title: issue.title.clone(),
        description: issue.description.clone(),
        kind: issue.kind,
        severity: issue.severity,
        priority: issue.priority,
        visibility: issue.visibility,
        environment: issue.environment.clone(),
        due_date: issue.due_date.clone(),
        tags: issue.tags.clone(),
        assignees: issue.assignees.iter().map(|p| p.id).collect(),
    };
    let mut merged = match serde_json::to_value(&current) {
        Ok(serde_json::Value::Object(fields)) => fields,
        Ok(other) => return Err(crate::error::internal("an issue's fields are not a JSON object", other)),
        Err(e) => return Err(crate::error::internal("an issue's fields did not serialise", e)),
    };
    for (name, value) in patch {
        if !merged.contains_key(&name) {
            return Err(AppError::field(&name, "Unknown field."));
        }
        merged.insert(name, value);
    }
    json_body(&Bytes::from(serde_json::to_vec(&merged).unwrap_or_default()))
}

/// `PATCH /api/v1/projects/{key}/issues/{number}` with the fields to change (and `status_id`);
/// honours `If-Match`. Answers the issue and its new `ETag`.
pub async fn update_issue(
    State(state): State<AppState>,
    Path((key, number)): Path<(String, i64)>,
    parts: Parts,
    body: Bytes,
) -> Response {
    let patch: IssuePatch = match json_body(&body) {
        Ok(patch) => patch,
        Err(e) => return error_response(&e),
    };
    let result = async {
        let current = detail(&state, &parts, key, number).await?.issue;
        precondition(&parts, &current)?;
        let fields = patched(&current, patch.fields)?;
        let status_id = patch.status_id.unwrap_or(current.status.id);
        let input = UpdateIssueInput { issue_id: current.id, status_id, fields };
        state.service.update_issue(&parts, input).await.map_err(body_fields)
    }
    .await;
    match result {
        Ok(issue) => with_etag(answer(Ok(&issue), StatusCode::OK), &issue),
        Err(e) => error_response(&e),
    }
}

/// `DELETE /api/v1/projects/{key}/issues/{number}` (OWNER and ADMIN); honours `If-Match`. 204.
pub async fn delete_issue(
    State(state): State<AppState>,
    Path((key, number)): Path<(String, i64)>,
    parts: Parts,
) -> Response {
    let result = async {
        let current = detail(&state, &parts, key, number).await?.issue;
        precondition(&parts, &current)?;
        state.service.delete_issue(&parts, IssueIdInput { issue_id: current.id }).await
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&e),
    }
}

/// `GET …/issues/{number}/comments`: the comments its reader may see, oldest first.
pub async fn comments(
    State(state): State<AppState>,
    Path((key, number)): Path<(String, i64)>,
    parts: Parts,
) -> Response {
    answer(detail(&state, &parts, key, number).await.map(|d| d.comments), StatusCode::OK)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    body: String,
    #[serde(default)]
    internal: bool,
}

/// `POST …/issues/{number}/comments` with `{"body": …, "internal": false}`: 201 with the comment.
pub async fn add_comment(
    State(state): State<AppState>,
    Path((key, number)): Path<(String, i64)>,
    parts: Parts,
    body: Bytes,
) -> Response {
    super::idempotent::once(&state, &parts, &body, add_comment_once(&state, key, number, &parts, &body)).await
}

async fn add_comment_once(state: &AppState, key: String, number: i64, parts: &Parts, body: &Bytes) -> Response {
    let comment: CommentBody = match json_body(body) {
        Ok(comment) => comment,
        Err(e) => return error_response(&e),
    };
    let result = async {
        let issue = detail(state, parts, key, number).await?.issue;
        let input = NewCommentInput { issue_id: issue.id, body: comment.body, internal: comment.internal };
        state.service.add_comment(parts, input).await
    }
    .await;
    answer(result, StatusCode::CREATED)
}

/// The comment `id` of the issue, as its reader sees it (404 if it is not one of them).
async fn comment_of(state: &AppState, parts: &Parts, key: String, number: i64, id: CommentId) -> Result<(), AppError> {
    let detail = detail(state, parts, key, number).await?;
    detail.comments.iter().any(|c| c.id == id).then_some(()).ok_or_else(AppError::not_found)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CommentEdit {
    body: String,
}

/// `PATCH …/comments/{comment_id}` with `{"body": …}`: one's own comment.
pub async fn edit_comment(
    State(state): State<AppState>,
    Path((key, number, comment_id)): Path<(String, i64, CommentId)>,
    parts: Parts,
    body: Bytes,
) -> Response {
    let edit: CommentEdit = match json_body(&body) {
        Ok(edit) => edit,
        Err(e) => return error_response(&e),
    };
    let result = async {
        comment_of(&state, &parts, key, number, comment_id).await?;
        state.service.edit_comment(&parts, EditCommentInput { comment_id, body: edit.body }).await
    }
    .await;
    answer(result, StatusCode::OK)
}

/// `DELETE …/comments/{comment_id}`: one's own (OWNER and ADMIN: any). 204.
pub async fn delete_comment(
    State(state): State<AppState>,
    Path((key, number, comment_id)): Path<(String, i64, CommentId)>,
    parts: Parts,
) -> Response {
    let result = async {
        comment_of(&state, &parts, key, number, comment_id).await?;
        state.service.delete_comment(&parts, CommentIdInput { comment_id }).await
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&e),
    }
}
