//! The REST API's `OpenAPI` 3.1 document, derived by utoipa from the handlers' `#[utoipa::path]` and the
//! model's types, so it cannot drift from the code; served at `GET /api/v1/openapi.json` to anyone
//! (it describes the API, not the data). A test holds every route of the router to it.

use std::sync::OnceLock;

use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue};
use utoipa::{
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use super::resources;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Moth REST API",
        version = "1",
        description = "Issues, comments and projects of one team, for scripts and CI jobs. Every request \
                       sends a personal access token (`Authorization: Bearer moth_pat_…`), made on the \
                       Account page; it acts as its user with their current role, within its scopes. \
                       Errors are `AppError`: a stable `code`, a `message`, and the `fields` at fault."
    ),
    paths(
        resources::user,
        resources::members,
        resources::projects,
        resources::project,
        resources::list_issues,
        resources::create_issue,
        resources::issue,
        resources::update_issue,
        resources::delete_issue,
        resources::comments,
        resources::add_comment,
        resources::edit_comment,
        resources::delete_comment,
    ),
    modifiers(&BearerToken),
    security(("token" = []))
)]
pub struct RestApi;

/// The one way in: a bearer token.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("moth_pat_…").build();
        components.add_security_scheme("token", SecurityScheme::Http(scheme));
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let json = DOCUMENT.get_or_init(|| RestApi::openapi().to_json().unwrap_or_default());
    let mut response = json.clone().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
