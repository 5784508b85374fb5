//! `GET /export/issues.csv`: the issue list of a project, with the same filters as the app's URL, as
//! a CSV download. Reading only, but refused when another site asks (`Sec-Fetch-Site: cross-site`).

use std::collections::HashMap;

use app::{
    error::{AppError, ErrorCode},
    model::{IssueFilter, ProjectId},
};
use axum::{
    body::Body,
    extract::{Query, Request, State},
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
};

use super::{error_response, AppState};

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
