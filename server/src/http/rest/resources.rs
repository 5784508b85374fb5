//! The REST API's resources. Each handler reads the path, query and body, calls the server
//! function's implementation (the same validation, policy and read scope), and answers JSON.

use std::collections::HashMap;

use app::{
    api::{IssuesApi, MembersApi, ProjectsApi},
    error::{AppError, ErrorCode, FieldError},
    model::{
        Comment, CommentId, CommentIdInput, EditCommentInput, Environment, Issue, IssueDetail, IssueFields,
        IssueFilter, IssueId, IssueIdInput, IssueRefInput, IssueSummary, IssueType, IssueVisibility, ListIssuesInput,
        Me, Member, NewCommentInput, NewIssueInput, Priority, Project, ProjectDetail, ProjectId, ProjectKeyInput,
        Severity, StatusId, UpdateIssueInput, UserId,
    },
};
use axum::{
    body::Bytes,
    extract::{Path, State},
    response::Response,
};
use http::{header, request::Parts, HeaderValue, StatusCode};
use serde::de::DeserializeOwned;

use super::{answer, deleted, AppState};
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

/// Refuses a body key that `parsed` (what serde made of the body) has no field for: serde's
/// `deny_unknown_fields` would change the server functions too, which share the type.
fn no_unknown_fields<T: serde::Serialize>(body: &Bytes, parsed: &T) -> Result<(), AppError> {
    let (Ok(serde_json::Value::Object(sent)), Ok(serde_json::Value::Object(known))) =
        (serde_json::from_slice::<serde_json::Value>(body), serde_json::to_value(parsed))
    else {
        return Ok(());
    };
    match sent.keys().find(|key| !known.contains_key(*key)) {
        Some(unknown) => {
            Err(AppError::new(ErrorCode::BadRequest, format!("The body has an unknown field `{unknown}`.")))
        }
        None => Ok(()),
    }
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
#[utoipa::path(get, path = "/api/v1/user", responses((status = 200, description = "The token's user, team and current role", body = Me), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn user(State(state): State<AppState>, parts: Parts) -> Response {
    answer(state.service.current_user(&parts).await, StatusCode::OK)
}

/// `GET /api/v1/members`: the team's members (not for guests).
#[utoipa::path(get, path = "/api/v1/members", responses((status = 200, description = "The team's members", body = Vec<Member>), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn members(State(state): State<AppState>, parts: Parts) -> Response {
    answer(state.service.list_members(&parts).await, StatusCode::OK)
}

/// `GET /api/v1/projects`: the projects the token's user reads.
#[utoipa::path(get, path = "/api/v1/projects", responses((status = 200, description = "The projects the user reads", body = Vec<Project>), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn projects(State(state): State<AppState>, parts: Parts) -> Response {
    answer(state.service.list_projects(&parts).await, StatusCode::OK)
}

/// `GET /api/v1/projects/{key}`: a project with its workflow and members.
#[utoipa::path(get, path = "/api/v1/projects/{key}", params(("key" = String, Path, description = "The project's key, such as WEB")), responses((status = 200, description = "The project, its workflow and members", body = ProjectDetail), (status = 404, description = "No such project the user reads", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn project(State(state): State<AppState>, Path(key): Path<String>, parts: Parts) -> Response {
    answer(state.service.get_project(&parts, ProjectKeyInput { key }).await, StatusCode::OK)
}

/// The list's query parameters, as the `OpenAPI` document describes them (the handler reads them with
/// `IssueFilter::from_query`, the app's own reader, and refuses any other name).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // described, never built: the handler reads the query itself
pub struct ListParameters {
    /// Words, all of which the title, description, tags or readable comments hold.
    q: Option<String>,
    status: Option<StatusId>,
    category: Option<app::model::StatusCategory>,
    #[param(rename = "type")]
    kind: Option<IssueType>,
    severity: Option<Severity>,
    priority: Option<Priority>,
    visibility: Option<IssueVisibility>,
    tag: Option<String>,
    assignee: Option<UserId>,
    reporter: Option<UserId>,
    sort: Option<app::model::IssueSort>,
    /// The cursor: the `after` of the `Link` header's next page.
    #[param(minimum = 0)]
    after: Option<i64>,
    after_key: Option<i64>,
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
#[utoipa::path(get, path = "/api/v1/projects/{key}/issues", params(("key" = String, Path, description = "The project's key, such as WEB"), ListParameters), responses((status = 200, description = "A page of up to 50 issues; `Link: <…>; rel=\"next\"` while there are more", body = Vec<IssueSummary>), (status = 404, description = "No such project the user reads", body = AppError), (status = 422, description = "An unknown parameter or value", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn list_issues(State(state): State<AppState>, Path(key): Path<String>, parts: Parts) -> Response {
    let Ok(axum::extract::Query(query)) = axum::extract::Query::<HashMap<String, String>>::try_from_uri(&parts.uri)
    else {
        return error_response(&AppError::new(ErrorCode::BadRequest, "The query string could not be read."));
    };
    if let Some(unknown) = query.keys().find(|k| !LIST_PARAMETERS.contains(&k.as_str())) {
        return error_response(&AppError::field(unknown, "Unknown parameter."));
    }
    // An empty id, enumeration or number is a mistake, not "no filter" (only words may be empty).
    if let Some(empty) = query.iter().find(|(k, v)| v.is_empty() && !matches!(k.as_str(), "q" | "tag")) {
        return error_response(&AppError::field(empty.0, "Give a value, or leave the parameter out."));
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
    // The project's id is filled in by the service from the key.
    let input =
        ListIssuesInput { project_id: ProjectId(uuid::Uuid::nil()), filter: filter.clone(), sort, after, after_key };
    let (project, page) = match state.service.list_issues_by_key(&parts, &key, input).await {
        Ok(answer) => answer,
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
#[utoipa::path(post, path = "/api/v1/projects/{key}/issues", params(("key" = String, Path, description = "The project's key, such as WEB"), ("Idempotency-Key" = Option<String>, Header, description = "Retries with this key and body within a day create nothing twice")), request_body = IssueFields, responses((status = 201, description = "The issue filed; its address in `Location`, its `ETag`", body = Issue), (status = 400, description = "The body is not JSON or does not fit", body = AppError), (status = 404, description = "No such project the user reads", body = AppError), (status = 409, description = "The project is archived, or a request with this key is still running", body = AppError), (status = 422, description = "A field breaks a rule, or the key was used with another request", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn create_issue(
    State(state): State<AppState>,
    Path(key): Path<String>,
    parts: Parts,
    body: Bytes,
) -> Response {
    super::idempotent::once(&state, &parts, &body, create_issue_once(&state, key, &parts, &body)).await
}

async fn create_issue_once(state: &AppState, key: String, parts: &Parts, body: &Bytes) -> Response {
    let fields: IssueFields = match json_body(body).and_then(|f| no_unknown_fields(body, &f).map(|()| f)) {
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

/// The issue `KEY-number` as its reader sees it, without its comments and history.
async fn issue_of(state: &AppState, parts: &Parts, key: String, number: i64) -> Result<Issue, AppError> {
    state.service.issue_by_ref(parts, IssueRefInput { key, number }).await
}

/// The id of the issue `KEY-number` its reader sees (404 otherwise).
pub(super) async fn issue_id_of(
    state: &AppState,
    parts: &Parts,
    key: String,
    number: i64,
) -> Result<IssueId, AppError> {
    Ok(issue_of(state, parts, key, number).await?.id)
}

/// An issue's entity tag: a digest of everything the API shows of it, so any change changes it. The
/// description's HTML is left out: it is rendered from the description, and its links to other
/// issues depend on the page that shows it, not on the issue.
fn etag(issue: &Issue) -> String {
    let json = serde_json::to_vec(&Issue { description_html: String::new(), ..issue.clone() }).unwrap_or_default();
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
#[utoipa::path(get, path = "/api/v1/projects/{key}/issues/{number}", params(("key" = String, Path, description = "The project's key, such as WEB"), ("number" = i64, Path, minimum = 1, description = "The issue's number in its project")), responses((status = 200, description = "The issue with the comments and history its reader may see, and its `ETag`", body = IssueDetail), (status = 404, description = "No such issue the user reads", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn issue(State(state): State<AppState>, Path((key, number)): Path<(String, i64)>, parts: Parts) -> Response {
    match detail(&state, &parts, key, number).await {
        Ok(detail) => {
            let issue = detail.issue.clone();
            with_etag(answer(Ok(detail), StatusCode::OK), &issue)
        }
        Err(e) => error_response(&e),
    }
}

/// What a `PATCH` of an issue may change: any of its fields, and its status (by id); what is left
/// out stays as it is. An empty `due_date` clears it.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssuePatch {
    title: Option<String>,
    description: Option<String>,
    kind: Option<IssueType>,
    severity: Option<Severity>,
    priority: Option<Priority>,
    visibility: Option<IssueVisibility>,
    environment: Option<Environment>,
    due_date: Option<String>,
    tags: Option<Vec<String>>,
    assignees: Option<Vec<UserId>>,
    status_id: Option<StatusId>,
}

impl IssuePatch {
    /// The issue's fields with the patch applied.
    fn apply(self, issue: &Issue) -> IssueFields {
        IssueFields {
            title: self.title.unwrap_or_else(|| issue.title.clone()),
            description: self.description.unwrap_or_else(|| issue.description.clone()),
            kind: self.kind.unwrap_or(issue.kind),
            severity: self.severity.unwrap_or(issue.severity),
            priority: self.priority.unwrap_or(issue.priority),
            visibility: self.visibility.unwrap_or(issue.visibility),
            environment: self.environment.unwrap_or_else(|| issue.environment.clone()),
            due_date: self.due_date.or_else(|| issue.due_date.clone()),
            tags: self.tags.unwrap_or_else(|| issue.tags.clone()),
            assignees: self.assignees.unwrap_or_else(|| issue.assignees.iter().map(|p| p.id).collect()),
        }
    }
}

/// `PATCH /api/v1/projects/{key}/issues/{number}` with the fields to change (and `status_id`);
/// honours `If-Match`. Answers the issue and its new `ETag`.
#[utoipa::path(patch, path = "/api/v1/projects/{key}/issues/{number}", params(("key" = String, Path, description = "The project's key, such as WEB"), ("number" = i64, Path, minimum = 1, description = "The issue's number in its project"), ("If-Match" = Option<String>, Header, description = "The issue's `ETag` as last read")), request_body = IssuePatch, responses((status = 200, description = "The issue as changed, with its new `ETag`", body = Issue), (status = 400, description = "The body is not JSON or does not fit", body = AppError), (status = 404, description = "No such issue the user reads", body = AppError), (status = 412, description = "The issue changed since it was read", body = AppError), (status = 422, description = "A field breaks a rule", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
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
        let current = issue_of(&state, &parts, key, number).await?;
        precondition(&parts, &current)?;
        let status_id = patch.status_id.unwrap_or(current.status.id);
        let fields = patch.apply(&current);
        let input = UpdateIssueInput { issue_id: current.id, status_id, fields };
        let updated = if parts.headers.contains_key(header::IF_MATCH) {
            // Held at the write too: a change that lands after this read is not overwritten.
            state.service.update_issue_unchanged_since(&parts, input, current.updated_at).await
        } else {
            state.service.update_issue(&parts, input).await
        };
        updated.map_err(body_fields)
    }
    .await;
    match result {
        Ok(issue) => with_etag(answer(Ok(&issue), StatusCode::OK), &issue),
        Err(e) => error_response(&e),
    }
}

/// `DELETE /api/v1/projects/{key}/issues/{number}` (OWNER and ADMIN); honours `If-Match`. 204.
#[utoipa::path(delete, path = "/api/v1/projects/{key}/issues/{number}", params(("key" = String, Path, description = "The project's key, such as WEB"), ("number" = i64, Path, minimum = 1, description = "The issue's number in its project"), ("If-Match" = Option<String>, Header, description = "The issue's `ETag` as last read")), responses((status = 204, description = "Deleted (softly: its history stays)"), (status = 404, description = "No such issue the user reads", body = AppError), (status = 412, description = "The issue changed since it was read", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn delete_issue(
    State(state): State<AppState>,
    Path((key, number)): Path<(String, i64)>,
    parts: Parts,
) -> Response {
    let result = async {
        let current = issue_of(&state, &parts, key, number).await?;
        precondition(&parts, &current)?;
        state.service.delete_issue(&parts, IssueIdInput { issue_id: current.id }).await
    }
    .await;
    deleted(result)
}

/// `GET …/issues/{number}/comments`: the comments its reader may see, oldest first.
#[utoipa::path(get, path = "/api/v1/projects/{key}/issues/{number}/comments", params(("key" = String, Path, description = "The project's key, such as WEB"), ("number" = i64, Path, minimum = 1, description = "The issue's number in its project")), responses((status = 200, description = "The comments its reader may see, oldest first", body = Vec<Comment>), (status = 404, description = "No such issue the user reads", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
pub async fn comments(
    State(state): State<AppState>,
    Path((key, number)): Path<(String, i64)>,
    parts: Parts,
) -> Response {
    answer(detail(&state, &parts, key, number).await.map(|d| d.comments), StatusCode::OK)
}

/// A new comment: its Markdown, and whether it is internal (members only; a guest's is public).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    body: String,
    #[serde(default)]
    internal: bool,
}

/// `POST …/issues/{number}/comments` with `{"body": …, "internal": false}`: 201 with the comment.
#[utoipa::path(post, path = "/api/v1/projects/{key}/issues/{number}/comments", params(("key" = String, Path, description = "The project's key, such as WEB"), ("number" = i64, Path, minimum = 1, description = "The issue's number in its project"), ("Idempotency-Key" = Option<String>, Header, description = "Retries with this key and body within a day create nothing twice")), request_body = CommentBody, responses((status = 201, description = "The comment", body = Comment), (status = 400, description = "The body is not JSON or does not fit", body = AppError), (status = 404, description = "No such issue the user reads", body = AppError), (status = 409, description = "A request with this key is still running", body = AppError), (status = 422, description = "The body breaks a rule, or the key was used with another request", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
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
        let issue_id = issue_id_of(state, parts, key, number).await?;
        let input = NewCommentInput { issue_id, body: comment.body, internal: comment.internal };
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

/// A comment's new Markdown.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentEdit {
    body: String,
}

/// `PATCH …/comments/{comment_id}` with `{"body": …}`: one's own comment.
#[utoipa::path(patch, path = "/api/v1/projects/{key}/issues/{number}/comments/{comment_id}", params(("key" = String, Path, description = "The project's key, such as WEB"), ("number" = i64, Path, minimum = 1, description = "The issue's number in its project"), ("comment_id" = CommentId, Path, description = "The comment's id")), request_body = CommentEdit, responses((status = 200, description = "The comment as changed", body = Comment), (status = 400, description = "The body is not JSON or does not fit", body = AppError), (status = 404, description = "No such comment the user reads", body = AppError), (status = 422, description = "The body breaks a rule", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
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
#[utoipa::path(delete, path = "/api/v1/projects/{key}/issues/{number}/comments/{comment_id}", params(("key" = String, Path, description = "The project's key, such as WEB"), ("number" = i64, Path, minimum = 1, description = "The issue's number in its project"), ("comment_id" = CommentId, Path, description = "The comment's id")), responses((status = 204, description = "Deleted"), (status = 404, description = "No such comment the user reads", body = AppError), (status = 401, description = "No live token", body = AppError), (status = 403, description = "The token's scope or the user's role does not allow it", body = AppError), (status = 429, description = "Over the token's or the address's rate", body = AppError)))]
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
    deleted(result)
}
