//! `GET /export/issues.csv`: the issue list of a project, with the same filters as the app's URL, as
//! a CSV download; `GET /export/audit.csv` and `/export/audit.json`: the team's audit log, filtered
//! like the audit page; `GET /export/team/<id>`: a finished team export's encrypted archive (OWNER).
//! Reading only, but refused when another site asks (`Sec-Fetch-Site:
//! cross-site`), and rate-limited per address.

use std::collections::HashMap;

use app::{
    error::{AppError, ErrorCode},
    model::{AuditQuery, IssueFilter, ProjectId},
};
use axum::{
    body::Body,
    extract::{Path, Query, Request, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};

use super::{error_response, AppState};
use crate::service::AuditFormat;

pub async fn issues_csv(State(state): State<AppState>, request: Request<Body>) -> Response {
    let cross_site = request.headers().get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site");
    if cross_site {
        return error_response(&AppError::new(ErrorCode::CrossOrigin, "Exports cannot be started by other sites."));
    }
    let Ok(Query(query)) = Query::<HashMap<String, String>>::try_from_uri(request.uri()) else {
        return error_response(&AppError::new(ErrorCode::BadRequest, "The export link is not valid."));
    };
    let Some(project) = query.get("project").and_then(|p| p.parse::<ProjectId>().ok()) else {
        return error_response(&AppError::new(ErrorCode::BadRequest, "The export link is not valid."));
    };
    // The same parameters as the list's address; an unknown value is refused, never ignored.
    let (filter, sort, unknown) = IssueFilter::from_query(|k| query.get(k).cloned());
    if let Some(name) = unknown {
        return error_response(&AppError::field(name, "Unknown value."));
    }
    let (parts, _) = request.into_parts();
    if let Some(refused) = super::over_limit(&state, &super::limits::Limit::Export, &parts) {
        return refused;
    }
    match state.service.export_issues_csv(&parts, project, filter, sort).await {
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

/// `GET /export/audit.{csv,json}?event=&actor=&from=&to=` (OWNER and ADMIN).
pub async fn audit_csv(state: State<AppState>, request: Request<Body>) -> Response {
    audit_export(state, request, AuditFormat::Csv).await
}

pub async fn audit_json(state: State<AppState>, request: Request<Body>) -> Response {
    audit_export(state, request, AuditFormat::Json).await
}

async fn audit_export(State(state): State<AppState>, request: Request<Body>, format: AuditFormat) -> Response {
    let cross_site = request.headers().get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site");
    if cross_site {
        return error_response(&AppError::new(ErrorCode::CrossOrigin, "Exports cannot be started by other sites."));
    }
    let Ok(Query(params)) = Query::<HashMap<String, String>>::try_from_uri(request.uri()) else {
        return error_response(&AppError::new(ErrorCode::BadRequest, "The export link is not valid."));
    };
    let query = match audit_query(&params) {
        Ok(query) => query,
        Err(name) => return error_response(&AppError::field(name, "Unknown value.")),
    };
    let (parts, _) = request.into_parts();
    if let Some(refused) = super::over_limit(&state, &super::limits::Limit::Export, &parts) {
        return refused;
    }
    match state.service.export_audit(&parts, query, format).await {
        Ok(body) => {
            let (content_type, name) = match format {
                AuditFormat::Csv => ("text/csv; charset=utf-8", "attachment; filename=\"audit.csv\""),
                AuditFormat::Json => ("application/json", "attachment; filename=\"audit.json\""),
            };
            let mut response = body.into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static(name));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => error_response(&e),
    }
}

/// The audit page's filters from an export address; the name of a parameter whose value is not
/// understood (never ignored).
fn audit_query(params: &HashMap<String, String>) -> Result<AuditQuery, &'static str> {
    let get = |name: &str| params.get(name).filter(|v| !v.is_empty());
    let number = |name: &'static str| get(name).map(|v| v.parse::<i64>().map_err(|_| name)).transpose();
    Ok(AuditQuery {
        event: get("event").cloned(),
        actor_id: get("actor").map(|v| v.parse().map_err(|_| "actor")).transpose()?,
        from: number("from")?,
        to: number("to")?,
        ..AuditQuery::default()
    })
}

/// `GET /export/team/<export id>`: the encrypted archive of a finished export of the actor's team,
/// streamed from disk (it may be large). OWNER only; another team's export is "not found".
pub async fn team_archive(
    State(state): State<AppState>,
    Path(export_id): Path<String>,
    request: Request<Body>,
) -> Response {
    let cross_site = request.headers().get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site");
    if cross_site {
        return error_response(&AppError::new(ErrorCode::CrossOrigin, "Exports cannot be started by other sites."));
    }
    let (parts, _) = request.into_parts();
    if let Some(refused) = super::over_limit(&state, &super::limits::Limit::Export, &parts) {
        return refused;
    }
    let archive = match state.service.team_export_file(&parts, &export_id).await {
        Ok(archive) => archive,
        Err(e) => return error_response(&e),
    };
    let mut response = Body::from_stream(tokio_util::io::ReaderStream::new(archive)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"moth-team-export.tar.age\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
