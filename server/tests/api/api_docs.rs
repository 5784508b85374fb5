//! `docs/api.md` is checked against the code: every server function (`#[server(endpoint = "...")]` in
//! `app/src/api/`) and every fixed route of the router is documented, and the page documents none
//! that does not exist.

use std::collections::BTreeSet;

fn read(path: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The text between each `start` and the next `end`.
fn between<'a>(text: &'a str, start: &'a str, end: char) -> impl Iterator<Item = &'a str> + 'a {
    text.split(start).skip(1).filter_map(move |rest| rest.split(end).next())
}

#[test]
fn every_server_function_and_route_is_documented_and_nothing_else() {
    let code = crate::helpers::api_declarations();
    let in_code: BTreeSet<&str> = between(&code, "#[server(endpoint = \"", '"').collect();
    assert!(in_code.len() > 30, "found only {} server functions: has the declaration changed?", in_code.len());

    let docs = read("docs/api.md");
    // `POST /api/<endpoint>` names them in general.
    let documented: BTreeSet<&str> =
        between(&docs, "POST /api/", '`').filter(|name| !name.starts_with('<') && !name.starts_with("v1/")).collect();
    let missing: Vec<_> = in_code.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&in_code).collect();
    assert!(missing.is_empty(), "server functions missing from docs/api.md: {missing:?}");
    assert!(stale.is_empty(), "docs/api.md documents server functions that do not exist: {stale:?}");

    // The router's fixed paths (the server functions' `/api/{*fn_name}` aside; `/` and `/index.html`
    // are the app's page, documented with the client-side routes).
    let router =
        read("server/src/http/mod.rs") + &read("server/src/http/site.rs") + &read("server/src/files/delivery.rs");
    for route in between(&router, ".route(\"", '"') {
        if route.starts_with("/api/") || route == "/" || route == "/index.html" {
            continue;
        }
        let documented_as = route.replace("{script}", "boot-N.js");
        let documented = ["GET", "POST"].iter().any(|method| docs.contains(&format!("{method} {documented_as}")));
        assert!(documented, "route {route} is missing from docs/api.md");
    }

    // The REST API: every route under `/api/v1` with each of its methods.
    for operation in crate::helpers::rest_operations() {
        assert!(docs.contains(&format!("`{operation}`")), "`{operation}` is missing from docs/api.md");
    }
}
