//! `GET /export/issues.csv`: the issue list of a project, with the same filters as the app's URL, as
//! a CSV download. Reading only, but refused when another site asks (`Sec-Fetch-Site: cross-site`).

use app::{
    error::{AppError, ErrorCode},
    model::{IssueFilter, IssueSort, IssueType, IssueVisibility, Priority, ProjectId, Severity, StatusCategory},
};
use axum::{
    body::Body,
    extract::{Query, Request, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{error_response, AppState};

/// The query of the export link: the app's filter parameters plus the project.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    project: ProjectId,
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    reporter: Option<String>,
    #[serde(default)]
    sort: Option<String>,
}

/// Parses an optional query value; an unknown one is an error, never silently ignored.
fn value<T>(raw: Option<&String>, parse: impl Fn(&str) -> Option<T>, name: &str) -> Result<Option<T>, AppError> {
    match raw.map(String::as_str).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| AppError::field(name, "Unknown value.")),
    }
}

impl ExportQuery {
    fn filter(&self) -> Result<IssueFilter, AppError> {
        Ok(IssueFilter {
            q: self.q.clone(),
            status: value(self.status.as_ref(), |v| v.parse().ok(), "status")?,
            category: value(self.category.as_ref(), StatusCategory::parse, "category")?,
            kind: value(self.kind.as_ref(), IssueType::parse, "type")?,
            severity: value(self.severity.as_ref(), Severity::parse, "severity")?,
            priority: value(self.priority.as_ref(), Priority::parse, "priority")?,
            visibility: value(self.visibility.as_ref(), IssueVisibility::parse, "visibility")?,
            tag: self.tag.clone(),
            assignee: value(self.assignee.as_ref(), |v| v.parse().ok(), "assignee")?,
            reporter: value(self.reporter.as_ref(), |v| v.parse().ok(), "reporter")?,
        })
    }
}

pub async fn issues_csv(State(state): State<AppState>, request: Request<Body>) -> Response {
    let cross_site = request.headers().get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site");
    if cross_site {
        return error_response(&AppError::new(ErrorCode::CrossOrigin, "Exports cannot be started by other sites."));
    }
    let Ok(Query(query)) = Query::<ExportQuery>::try_from_uri(request.uri()) else {
        return error_response(&AppError::new(ErrorCode::BadRequest, "The export link is not valid."));
    };
    let filter = match query.filter() {
        Ok(f) => f,
        Err(e) => return error_response(&e),
    };
    let (parts, _) = request.into_parts();
    let sort = match value(query.sort.as_ref(), IssueSort::parse, "sort") {
        Ok(sort) => sort.unwrap_or_default(),
        Err(e) => return error_response(&e),
    };
    match state.service.export_issues_csv(&parts, query.project, filter, sort).await {
        Ok(csv) => {
            let mut response = csv.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            headers
                .insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"issues.csv\""));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => error_response(&e),
    }
}
