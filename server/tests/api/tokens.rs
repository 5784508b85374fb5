//! Personal access tokens and the REST API's door (`/api/v1`): a token acts as its user with the role
//! they hold now, within its scopes; revoked, expired, mistyped and turned-off tokens are refused on
//! the next request; the secret is shown once and never stored or logged; the two doors (server
//! functions with a session, REST with a token) do not open each other.

use std::time::Duration;

use reqwest::{header, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{error_body, input, spawn_app, spawn_app_with, Person, TestApp};

/// `cookie` makes a token with `scopes`: its id and secret.
pub async fn make_token(app: &TestApp, cookie: &str, scopes: &[&str]) -> (String, String) {
    let mut form = input(&[("name", "CI nightly"), ("expires_in_days", "30")]);
    for (i, scope) in scopes.iter().enumerate() {
        form.push((format!("input[scopes][{i}]"), (*scope).to_owned()));
    }
    let response = app.call("create_access_token", &form, Some(cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "create token {scopes:?}");
    let made: Value = response.json().await.expect("json");
    let secret = made["secret"].as_str().expect("secret").to_owned();
    (made["token"]["id"].as_str().expect("id").to_owned(), secret)
}

/// A REST request with `token` (no cookie).
pub fn rest(app: &TestApp, method: reqwest::Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    app.http.request(method, app.url(&format!("/api/v1{path}"))).bearer_auth(token)
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    rest(app, reqwest::Method::GET, path, token).send().await.expect("get")
}

pub async fn refused(response: reqwest::Response, status: StatusCode, code: &str) -> String {
    assert_eq!(response.status(), status, "{}", response.url());
    let body = error_body(response).await;
    assert_eq!(body["code"], code, "{body}");
    body["message"].as_str().expect("message").to_owned()
}

async fn issue_count(app: &TestApp) -> i64 {
    let mut db = app.db().await;
    sqlx::query_scalar("SELECT COUNT(*) FROM issues").fetch_one(&mut db).await.expect("count")
}

#[tokio::test]
async fn a_token_acts_as_its_user_within_its_scopes() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("tokens").await;
    let (_, key) = app.project(&owner.cookie, "private").await;
    let (_, read_only) = make_token(&app, &owner.cookie, &["read"]).await;
    let (_, writer) = make_token(&app, &owner.cookie, &["read", "write"]).await;

    let me: Value = get(&app, "/user", &read_only).await.json().await.expect("json");
    assert_eq!(me["user"]["email"], owner.email.as_str());
    assert_eq!(me["team"]["role"], "OWNER");

    // Reading works; writing with a read-only token is refused and files nothing.
    assert_eq!(get(&app, &format!("/projects/{key}/issues"), &read_only).await.status(), StatusCode::OK);
    let before = issue_count(&app).await;
    let post = rest(&app, reqwest::Method::POST, &format!("/projects/{key}/issues"), &read_only)
        .json(&json!({"title": "Nightly run failed"}));
    let message = refused(post.send().await.expect("post"), StatusCode::FORBIDDEN, "forbidden").await;
    assert!(message.contains("`write` scope"), "{message}");
    assert_eq!(issue_count(&app).await, before);

    // The writer files one: 201, its address, its ETag.
    let post = rest(&app, reqwest::Method::POST, &format!("/projects/{key}/issues"), &writer)
        .json(&json!({"title": "Nightly run failed", "severity": "high"}));
    let created = post.send().await.expect("post");
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()[header::LOCATION].to_str().expect("location").to_owned();
    assert_eq!(location, format!("/api/v1/projects/{key}/issues/1"));
    let etag = created.headers()[header::ETAG].to_str().expect("etag").to_owned();
    let issue: Value = created.json().await.expect("json");
    assert_eq!(issue["severity"], "high");

    // A validation error names the body's field, with Moth's shape.
    let blank =
        rest(&app, reqwest::Method::POST, &format!("/projects/{key}/issues"), &writer).json(&json!({"title": " "}));
    let answer = blank.send().await.expect("post");
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(answer).await;
    assert_eq!(body["fields"][0]["field"], "title", "{body}");

    // If-Match: the current ETag updates, a stale one is refused (412) and changes nothing.
    let issue_path = format!("/projects/{key}/issues/1");
    let patch = rest(&app, reqwest::Method::PATCH, &issue_path, &writer)
        .header(header::IF_MATCH, &etag)
        .json(&json!({"title": "Nightly run failed on ARM"}));
    let patched = patch.send().await.expect("patch");
    assert_eq!(patched.status(), StatusCode::OK);
    assert_ne!(patched.headers()[header::ETAG].to_str().expect("etag"), etag);
    let stale = rest(&app, reqwest::Method::PATCH, &issue_path, &writer)
        .header(header::IF_MATCH, &etag)
        .json(&json!({"title": "Overwritten"}));
    refused(stale.send().await.expect("patch"), StatusCode::PRECONDITION_FAILED, "precondition_failed").await;
    let now: Value = get(&app, &issue_path, &read_only).await.json().await.expect("json");
    assert_eq!(now["issue"]["title"], "Nightly run failed on ARM");

    // Unknown fields and parameters are refused by name, never ignored.
    let unknown = rest(&app, reqwest::Method::PATCH, &issue_path, &writer).json(&json!({"titel": "x"}));
    let message = refused(unknown.send().await.expect("patch"), StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(message.contains("titel"), "{message}");
    let unknown = rest(&app, reqwest::Method::POST, &format!("/projects/{key}/issues"), &writer)
        .json(&json!({"title": "x", "serverity": "high"}));
    let message = refused(unknown.send().await.expect("post"), StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(message.contains("serverity"), "{message}");
    let answer = get(&app, &format!("/projects/{key}/issues?severty=high"), &read_only).await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_list_pages_with_a_link_header() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("paging").await;
    let (_, key) = app.project(&owner.cookie, "private").await;
    let (_, token) = make_token(&app, &owner.cookie, &["read", "write"]).await;
    for n in 0..52 {
        let post = rest(&app, reqwest::Method::POST, &format!("/projects/{key}/issues"), &token)
            .json(&json!({"title": format!("Flaky test {n}"), "tags": ["ci"]}));
        assert_eq!(post.send().await.expect("post").status(), StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut next = Some(format!("/api/v1/projects/{key}/issues?tag=ci"));
    while let Some(path) = next.take() {
        let answer = app.http.get(app.url(&path)).bearer_auth(&token).send().await.expect("get");
        assert_eq!(answer.status(), StatusCode::OK);
        next = answer.headers().get(header::LINK).map(|link| {
            let link = link.to_str().expect("text");
            assert!(link.ends_with("; rel=\"next\""), "{link}");
            link.trim_start_matches('<').split('>').next().expect("target").to_owned()
        });
        let page: Vec<Value> = answer.json().await.expect("json");
        seen.extend(page.iter().map(|i| i["number"].as_i64().expect("number")));
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=52).collect::<Vec<i64>>(), "every issue once, over two pages");
}

#[tokio::test]
async fn the_secret_is_shown_once_and_only_its_hash_is_stored() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("hash").await;
    let (id, secret) = make_token(&app, &owner.cookie, &["read"]).await;
    assert!(secret.starts_with("moth_pat_") && secret.len() == 58, "{secret}");
    let listed = app.call("list_access_tokens", &[], Some(&owner.cookie)).await.text().await.expect("text");
    assert!(listed.contains(&id) && !listed.contains(&secret[9..]), "the list never holds the secret");
    let mut db = app.db().await;
    let stored: (String, String) = sqlx::query_as("SELECT secret_hash, scopes FROM access_tokens WHERE id = $1")
        .bind(&id)
        .fetch_one(&mut db)
        .await
        .expect("row");
    assert_eq!(stored.0, server::digest::sha256_hex(secret.as_bytes()));
    assert_eq!(stored.1, "read");
}

#[tokio::test]
async fn mistyped_and_malformed_tokens_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("typo").await;
    let (_, secret) = make_token(&app, &owner.cookie, &["read"]).await;
    let mut typo = secret.clone().into_bytes();
    typo[20] = if typo[20] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).expect("text");
    let message = refused(get(&app, "/user", &typo).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert!(message.contains("checksum"), "{message}");
    let message = refused(get(&app, "/user", "ghp_abc").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert!(message.contains("moth_pat_"), "{message}");
    let cut = &secret[..secret.len() - 1];
    refused(get(&app, "/user", cut).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    // No header at all: the challenge names the scheme.
    let bare = app.http.get(app.url("/api/v1/user")).send().await.expect("get");
    assert_eq!(bare.headers()[header::WWW_AUTHENTICATE], "Bearer realm=\"moth\"");
    refused(bare, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert_eq!(get(&app, "/user", &secret).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn revoked_and_expired_tokens_are_refused_on_the_next_request() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("revoke").await;
    let (id, secret) = make_token(&app, &owner.cookie, &["read"]).await;
    assert_eq!(get(&app, "/user", &secret).await.status(), StatusCode::OK);
    let revoked = app.call("revoke_access_token", &input(&[("token_id", &id)]), Some(&owner.cookie)).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    refused(get(&app, "/user", &secret).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    // A 30-day token, 31 days on: refused, and audited once however often it is tried.
    let (_, secret) = make_token(&app, &owner.cookie, &["read"]).await;
    app.clock.advance(Duration::from_secs(31 * 86_400));
    for _ in 0..3 {
        let message = refused(get(&app, "/user", &secret).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
        assert!(message.contains("expired"), "{message}");
    }
    // The owner's session has timed out over those days: they sign in again to read the log.
    let signed_in = app.sign_in_as(&owner.email, crate::helpers::PASSWORD, None).await;
    let cookie = crate::helpers::session_cookie(&signed_in).expect("signed in");
    let audit = app.audit_export(&cookie).await;
    let events: Vec<&str> =
        audit["entries"].as_array().expect("entries").iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(events.iter().filter(|e| **e == "token_expired").count(), 1, "{events:?}");
    assert_eq!(events.iter().filter(|e| **e == "token_created").count(), 2, "{events:?}");
    assert_eq!(events.iter().filter(|e| **e == "token_revoked").count(), 1, "{events:?}");
}

#[tokio::test]
async fn a_lowered_role_and_a_removed_member_apply_on_the_next_request() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("roles").await;
    let normal: Person = app.new_member(&owner.cookie, "NORMAL").await;
    let (_, secret) = make_token(&app, &normal.cookie, &["read"]).await;
    assert_eq!(get(&app, "/members", &secret).await.status(), StatusCode::OK);

    let form = input(&[("user_id", &normal.user_id), ("role", "GUEST")]);
    assert_eq!(app.call("change_role", &form, Some(&owner.cookie)).await.status(), StatusCode::OK);
    let me: Value = get(&app, "/user", &secret).await.json().await.expect("json");
    assert_eq!(me["team"]["role"], "GUEST");
    refused(get(&app, "/members", &secret).await, StatusCode::FORBIDDEN, "forbidden").await;

    let gone = app.call("remove_member", &input(&[("user_id", &normal.user_id)]), Some(&owner.cookie)).await;
    assert_eq!(gone.status(), StatusCode::OK);
    refused(get(&app, "/user", &secret).await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn the_admin_scope_is_for_owners_and_admins_and_scopes_never_exceed_the_role() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("scopes").await;
    let normal = app.new_member(&owner.cookie, "NORMAL").await;
    let form = input(&[("name", "x"), ("scopes][0", "admin")]);
    let answer = app.call("create_access_token", &form, Some(&normal.cookie)).await;
    let message = refused(answer, StatusCode::FORBIDDEN, "forbidden").await;
    assert!(message.contains("admin scope"), "{message}");
    // A NORMAL member's write token still cannot delete an issue (OWNER and ADMIN only).
    let (project, key) = app.project(&owner.cookie, "private").await;
    app.add_to_project(&owner.cookie, &project, &normal.user_id).await;
    let (_, token) = make_token(&app, &normal.cookie, &["read", "write"]).await;
    let post =
        rest(&app, reqwest::Method::POST, &format!("/projects/{key}/issues"), &token).json(&json!({"title": "A"}));
    assert_eq!(post.send().await.expect("post").status(), StatusCode::CREATED);
    let delete = rest(&app, reqwest::Method::DELETE, &format!("/projects/{key}/issues/1"), &token);
    refused(delete.send().await.expect("delete"), StatusCode::FORBIDDEN, "forbidden").await;
    assert_eq!(issue_count(&app).await, 1);
}

#[tokio::test]
async fn server_functions_refuse_tokens_and_the_rest_api_refuses_sessions() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("doors").await;
    let (_, secret) = make_token(&app, &owner.cookie, &["read", "write"]).await;
    // A token at a server function, even beside a live session: refused.
    let answer = app
        .http
        .post(app.url("/api/who_am_i"))
        .bearer_auth(&secret)
        .header(header::COOKIE, &owner.cookie)
        .send()
        .await
        .expect("post");
    refused(answer, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    // A session at the REST API: refused.
    let answer = app.http.get(app.url("/api/v1/user")).header(header::COOKIE, &owner.cookie).send().await.expect("get");
    refused(answer, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    // And a token cannot make tokens (the token functions are server functions).
    let answer = app.http.post(app.url("/api/create_access_token")).bearer_auth(&secret).send().await.expect("post");
    refused(answer, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn an_owner_turns_tokens_off_for_the_team() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("policy").await;
    let admin = app.new_member(&owner.cookie, "ADMIN").await;
    let (_, secret) = make_token(&app, &admin.cookie, &["read"]).await;
    let off = input(&[("allowed", "false")]);
    let answer = app.call("set_token_policy", &off, Some(&admin.cookie)).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN, "only the owner");
    assert_eq!(app.call("set_token_policy", &off, Some(&owner.cookie)).await.status(), StatusCode::OK);
    refused(get(&app, "/user", &secret).await, StatusCode::FORBIDDEN, "forbidden").await;
    let form = input(&[("name", "x"), ("scopes][0", "read")]);
    refused(app.call("create_access_token", &form, Some(&admin.cookie)).await, StatusCode::FORBIDDEN, "forbidden")
        .await;
    let on = input(&[("allowed", "true")]);
    assert_eq!(app.call("set_token_policy", &on, Some(&owner.cookie)).await.status(), StatusCode::OK);
    assert_eq!(get(&app, "/user", &secret).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn each_token_has_its_own_rate() {
    let app = spawn_app_with(|config| config.token_rate_per_minute = 3).await;
    let (owner, _) = app.owner("rate").await;
    let (_, first) = make_token(&app, &owner.cookie, &["read"]).await;
    let (_, second) = make_token(&app, &owner.cookie, &["read"]).await;
    for _ in 0..3 {
        assert_eq!(get(&app, "/user", &first).await.status(), StatusCode::OK);
    }
    let limited = get(&app, "/user", &first).await;
    assert!(limited.headers().contains_key(header::RETRY_AFTER));
    refused(limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    assert_eq!(get(&app, "/user", &second).await.status(), StatusCode::OK, "another token is not held back");
}

#[tokio::test]
async fn a_guests_token_reads_what_a_guest_reads() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("guest").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    let (project, key) = app.project(&owner.cookie, "public").await;
    app.add_to_project(&owner.cookie, &project, &guest.user_id).await;
    let public = app.issue(&owner.cookie, &project, "public").await;
    let internal = app.issue(&owner.cookie, &project, "internal").await;
    app.comment(&owner.cookie, &public.id, "walrus internal note", true).await;
    app.comment(&owner.cookie, &public.id, "public answer", false).await;
    let (_, token) = make_token(&app, &guest.cookie, &["read", "write"]).await;

    let list: Vec<Value> = get(&app, &format!("/projects/{key}/issues"), &token).await.json().await.expect("json");
    let numbers: Vec<&str> = list.iter().filter_map(|i| i["reference"].as_str()).collect();
    assert_eq!(numbers, vec![public.reference.as_str()]);
    let (_, number) = internal.reference.split_once('-').expect("KEY-n");
    let hidden = get(&app, &format!("/projects/{key}/issues/{number}"), &token).await;
    refused(hidden, StatusCode::NOT_FOUND, "not_found").await;
    let (_, number) = public.reference.split_once('-').expect("KEY-n");
    let comments =
        get(&app, &format!("/projects/{key}/issues/{number}/comments"), &token).await.text().await.expect("text");
    assert!(comments.contains("public answer") && !comments.contains("walrus"), "{comments}");
    let searched = get(&app, &format!("/projects/{key}/issues?q=walrus"), &token).await.text().await.expect("text");
    assert_eq!(searched, "[]");
}

#[tokio::test]
async fn tokens_never_reach_the_log() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, address, log) = crate::helpers::spawn_binary_logged(dir.path(), &[("MOTH_LOG", "debug")]).await;
    let app = TestApp::client_of(&address);
    let (owner, _) = app.owner("logs").await;
    let (_, secret) = make_token(&app, &owner.cookie, &["read"]).await;
    let mut typo = secret.clone().into_bytes();
    typo[30] = if typo[30] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).expect("text");
    for token in [&secret, &typo] {
        get(&app, "/user", token).await;
        get(&app, "/no-such-route", token).await;
        rest(&app, reqwest::Method::POST, "/projects/NONE/issues", token).body("{not json").send().await.expect("post");
        app.http.post(app.url("/api/who_am_i")).bearer_auth(token).send().await.expect("post");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    let lines = log.lock().expect("log").clone();
    assert!(lines.len() > 10, "the server logged ({} lines)", lines.len());
    for secret in [&secret, &typo] {
        let body = &secret[9..40];
        assert!(!lines.iter().any(|l| l.contains(body)), "a token reached the log");
    }
}

#[tokio::test]
async fn a_create_retried_with_the_same_idempotency_key_files_one_issue() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("idempotent").await;
    let (_, key) = app.project(&owner.cookie, "private").await;
    let (_, token) = make_token(&app, &owner.cookie, &["read", "write"]).await;
    let path = format!("/projects/{key}/issues");
    let post = |idempotency_key: &str, title: &str| {
        rest(&app, reqwest::Method::POST, &path, &token)
            .header("Idempotency-Key", idempotency_key)
            .json(&json!({"title": title}))
            .send()
    };
    let first = post("nightly-42", "Nightly run 42 failed").await.expect("post");
    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()[header::LOCATION].clone();
    let first: Value = first.json().await.expect("json");
    let again = post("nightly-42", "Nightly run 42 failed").await.expect("post");
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()[header::LOCATION], location);
    assert_eq!(again.json::<Value>().await.expect("json")["id"], first["id"]);
    assert_eq!(issue_count(&app).await, 1, "the retry filed nothing");

    // The key with another body is refused, and files nothing.
    let other = post("nightly-42", "Something else").await.expect("post");
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(issue_count(&app).await, 1);

    // Eight retries at once: one issue; the others replay or are told to retry.
    let mut tries = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let request = rest(&app, reqwest::Method::POST, &path, &token)
            .header("Idempotency-Key", "nightly-43")
            .json(&json!({"title": "Nightly run 43 failed"}));
        tries.spawn(async move { request.send().await.expect("post").status() });
    }
    let statuses = tries.join_all().await;
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT), "{statuses:?}");
    assert_eq!(issue_count(&app).await, 2, "{statuses:?}");

    // Keys belong to their token: another token's same key is its own request.
    let (_, second) = make_token(&app, &owner.cookie, &["read", "write"]).await;
    let theirs = rest(&app, reqwest::Method::POST, &path, &second)
        .header("Idempotency-Key", "nightly-42")
        .json(&json!({"title": "Nightly run 42 failed"}))
        .send()
        .await
        .expect("post");
    assert_eq!(theirs.status(), StatusCode::CREATED);
    assert!(theirs.headers().get("idempotent-replayed").is_none());
    assert_eq!(issue_count(&app).await, 3);

    // A malformed key is refused before anything runs.
    let bad = post("line\nbreak", "x").await;
    assert!(bad.is_err() || bad.expect("post").status() == StatusCode::BAD_REQUEST);
    let spaced = post("has space", "x").await.expect("post");
    assert_eq!(spaced.status(), StatusCode::BAD_REQUEST);
    assert_eq!(issue_count(&app).await, 3);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let answer = app.http.get(app.url("/api/v1/openapi.json")).send().await.expect("get");
    assert_eq!(answer.status(), StatusCode::OK, "served without a token");
    let document: Value = answer.json().await.expect("json");
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{}", document["openapi"]);
    let mut described = std::collections::BTreeSet::new();
    for (path, operations) in document["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            described.insert(format!("{} {path}", method.to_uppercase()));
            assert!(operation["responses"].as_object().is_some_and(|r| r.len() >= 2), "{method} {path}");
        }
    }
    let mut routes = crate::helpers::rest_operations();
    assert!(routes.remove("GET /api/v1/openapi.json"), "the document's own route");
    let missing: Vec<&String> = routes.difference(&described).collect();
    assert!(missing.is_empty(), "routes missing from the OpenAPI document: {missing:?}");
    let stale: Vec<&String> = described.difference(&routes).collect();
    assert!(stale.is_empty(), "the document describes routes that do not exist: {stale:?}");
    assert_eq!(document["components"]["securitySchemes"]["token"]["scheme"], "bearer");
    assert!(document["components"]["schemas"]["Issue"].is_object(), "the model's types are described");
}

/// An issue's `ETag` is the same whether a read or a write answers it, even when its description
/// names another issue (the rendered description links it for a reader, not for a write's answer).
#[tokio::test]
async fn a_writes_etag_is_the_next_reads_etag() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("etags").await;
    let (_, key) = app.project(&owner.cookie, "private").await;
    let (_, token) = make_token(&app, &owner.cookie, &["read", "write"]).await;
    let issues = format!("/projects/{key}/issues");
    let first = rest(&app, reqwest::Method::POST, &issues, &token).json(&json!({"title": "First"}));
    assert_eq!(first.send().await.expect("post").status(), StatusCode::CREATED);
    let second = rest(&app, reqwest::Method::POST, &issues, &token)
        .json(&json!({"title": "Second", "description": format!("Follows {key}-1.")}));
    assert_eq!(second.send().await.expect("post").status(), StatusCode::CREATED);

    let read = get(&app, &format!("{issues}/2"), &token).await;
    let etag = read.headers()[header::ETAG].to_str().expect("etag").to_owned();
    let body: Value = read.json().await.expect("json");
    assert!(body["issue"]["description_html"].as_str().expect("html").contains("href"), "{body}");
    let mut current = etag;
    for title in ["Second, renamed", "Second, renamed again"] {
        let patch = rest(&app, reqwest::Method::PATCH, &format!("{issues}/2"), &token)
            .header(header::IF_MATCH, &current)
            .json(&json!({"title": title}));
        let patched = patch.send().await.expect("patch");
        assert_eq!(patched.status(), StatusCode::OK, "{title}");
        current = patched.headers()[header::ETAG].to_str().expect("etag").to_owned();
        let reread = get(&app, &format!("{issues}/2"), &token).await;
        assert_eq!(reread.headers()[header::ETAG].to_str().expect("etag"), current, "the write's ETag is the read's");
    }
}

/// `If-Match` holds at the write, not only at the read: scripts that read the same `ETag` and write
/// at once change the issue once; every other write is refused with 412 and changes nothing.
#[tokio::test]
async fn concurrent_writes_with_one_etag_change_the_issue_once() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("race").await;
    let (_, key) = app.project(&owner.cookie, "private").await;
    let (_, token) = make_token(&app, &owner.cookie, &["read", "write"]).await;
    let issues = format!("/projects/{key}/issues");
    let created = rest(&app, reqwest::Method::POST, &issues, &token).json(&json!({"title": "Shared"}));
    let etag = created.send().await.expect("post").headers()[header::ETAG].to_str().expect("etag").to_owned();

    let mut writes = tokio::task::JoinSet::new();
    for n in 0..12 {
        let patch = rest(&app, reqwest::Method::PATCH, &format!("{issues}/1"), &token)
            .header(header::IF_MATCH, &etag)
            .json(&json!({"title": format!("Writer {n}")}));
        writes.spawn(async move {
            let answer = patch.send().await.expect("patch");
            let status = answer.status();
            // SQLite may also answer `busy` (503, retryable) to writers that meet at its write lock.
            let code = if status.is_success() { String::new() } else { error_body(answer).await["code"].to_string() };
            (status, code)
        });
    }
    let answers: Vec<(StatusCode, String)> = writes.join_all().await;
    let won = answers.iter().filter(|(status, _)| *status == StatusCode::OK).count();
    assert_eq!(won, 1, "{answers:?}");
    let refused = |(status, code): &(StatusCode, String)| {
        *status == StatusCode::OK || code == "\"precondition_failed\"" || code == "\"busy\""
    };
    assert!(answers.iter().all(refused), "{answers:?}");
    let history: i64 = {
        let mut db = app.db().await;
        sqlx::query_scalar("SELECT COUNT(*) FROM issue_history WHERE field = 'title'")
            .fetch_one(&mut db)
            .await
            .expect("history")
    };
    assert_eq!(history, 1, "one title change was recorded");
}
