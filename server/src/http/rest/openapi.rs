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

use super::{attachments, resources};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Moth REST API",
        version = "1",
        description = "Issues, comments and projects of one team, for scripts and CI jobs. Every request \
                       sends a personal access token (`Authorization: Bearer moth_pat_…`), made with the \
                       server function `create_access_token`; it acts as its user with their current role, within its scopes. \
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
        attachments::attachments,
        attachments::upload_attachment,
        attachments::attachment,
        attachments::delete_attachment,
    ),
    components(schemas(app::model::IssueSort)),
    modifiers(&BearerToken, &Links, &ReadErrors, &ClosedBodies),
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

/// `OpenAPI` links from what a create answers to what can be done with it, so that a client (and the
/// fuzzer's stateful phase) can follow a new issue or comment to its reads, edits and deletion.
struct Links;

/// A created resource's path, how its link parameters are found, and the operations it links to.
type Follow<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);

impl Modify for Links {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let issue_from_body = [("key", "$request.path.key"), ("number", "$response.body#/number")];
        let comment_from_body =
            [("key", "$request.path.key"), ("number", "$request.path.number"), ("comment_id", "$response.body#/id")];
        let file_from_body =
            [("key", "$request.path.key"), ("number", "$request.path.number"), ("attachment_id", "$response.body#/id")];
        let follow: [Follow; 3] = [
            (
                "/api/v1/projects/{key}/issues",
                &issue_from_body,
                &["issue", "update_issue", "delete_issue", "comments", "add_comment"],
            ),
            (
                "/api/v1/projects/{key}/issues/{number}/comments",
                &comment_from_body,
                &["edit_comment", "delete_comment"],
            ),
            (
                "/api/v1/projects/{key}/issues/{number}/attachments",
                &file_from_body,
                &["attachment", "delete_attachment"],
            ),
        ];
        for (path, parameters, targets) in follow {
            let Some(created) = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
                .and_then(|post| post.responses.responses.get_mut("201"))
            else {
                continue;
            };
            let utoipa::openapi::RefOr::T(response) = created else { continue };
            for target in targets {
                let link = parameters
                    .iter()
                    .fold(utoipa::openapi::link::LinkBuilder::new().operation_id(*target), |link, (name, value)| {
                        link.parameter(*name, *value)
                    })
                    .build();
                response.links.insert((*target).to_owned(), link.into());
            }
        }
    }
}

/// Every operation that reads a path or query parameter may answer 400 (the path or query cannot be
/// read, say a number beyond 64 bits) and 422 (a value breaks a rule): said once here rather than on
/// each handler.
struct ReadErrors;

impl Modify for ReadErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = |description: &str| {
            utoipa::openapi::ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    utoipa::openapi::ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("AppError")))
                        .build(),
                )
                .build()
        };
        for (path, item) in &mut openapi.paths.paths {
            let operations = [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                if !path.contains('{') && operation.parameters.as_ref().is_none_or(Vec::is_empty) {
                    continue;
                }
                let responses = &mut operation.responses.responses;
                responses.entry("400".into()).or_insert_with(|| error("The path or query could not be read").into());
                responses.entry("422".into()).or_insert_with(|| error("A parameter breaks a rule").into());
            }
        }
    }
}

/// An issue's fields refuse keys they do not have (`resources::no_unknown_fields`), which serde's
/// derive cannot say for a type the server functions share.
struct ClosedBodies;

impl Modify for ClosedBodies {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        let Some(components) = openapi.components.as_mut() else { return };
        if let Some(utoipa::openapi::RefOr::T(Schema::Object(fields))) = components.schemas.get_mut("IssueFields") {
            fields.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        }
    }
}

/// utoipa 5.5 writes a link's fields in snake case (`operation_id`, `request_body`); the
/// specification spells them `operationId` and `requestBody`, which clients and the fuzzer read.
fn spell_links_as_the_specification(document: &mut serde_json::Value) {
    let Some(paths) = document.get_mut("paths").and_then(serde_json::Value::as_object_mut) else { return };
    let responses = paths
        .values_mut()
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|item| item.values_mut())
        .filter_map(|operation| operation.get_mut("responses").and_then(serde_json::Value::as_object_mut))
        .flat_map(|responses| responses.values_mut());
    for response in responses {
        let Some(links) = response.get_mut("links").and_then(serde_json::Value::as_object_mut) else { continue };
        for link in links.values_mut().filter_map(serde_json::Value::as_object_mut) {
            for (snake, camel) in
                [("operation_id", "operationId"), ("operation_ref", "operationRef"), ("request_body", "requestBody")]
            {
                if let Some(value) = link.remove(snake) {
                    link.insert(camel.to_owned(), value);
                }
            }
        }
    }
}

/// `GET /api/v1/openapi.json`.
pub async fn document() -> Response {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    let json = DOCUMENT.get_or_init(|| {
        let mut document = serde_json::to_value(RestApi::openapi()).unwrap_or_default();
        spell_links_as_the_specification(&mut document);
        document.to_string()
    });
    let mut response = json.clone().into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
