//! Attachments through the REST API, against the running server, a real clamd and the local object
//! store: a token uploads with the raw body as the browser does, through the same pipeline (a virus is
//! refused and quarantined), lists files with signed links that the file origin serves, reads one again
//! for a fresh link and deletes it; the browser's upload route refuses a token and the REST upload
//! refuses a session.

use reqwest::{header, Method, StatusCode};
use serde_json::Value;

use crate::{
    helpers::{eicar, spawn_app, TestApp},
    tokens::{make_token, refused, rest},
};

/// The rows of `upload_rejections` (the Quarantine), all teams.
async fn quarantined(app: &TestApp) -> i64 {
    let mut db = app.db().await;
    sqlx::query_scalar("SELECT COUNT(*) FROM upload_rejections").fetch_one(&mut db).await.expect("count")
}

/// The names of the files of the issue at `path` (`/projects/KEY/issues/N`), as `token` lists them.
async fn file_names(app: &TestApp, path: &str, token: &str) -> Vec<String> {
    let listed = rest(app, Method::GET, &format!("{path}/attachments"), token).send().await.expect("list");
    assert_eq!(listed.status(), StatusCode::OK);
    let files: Vec<Value> = listed.json().await.expect("json");
    files.iter().map(|f| f["name"].as_str().expect("name").to_owned()).collect()
}

async fn upload(app: &TestApp, path: &str, token: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    rest(app, Method::POST, &format!("{path}/attachments?name={name}"), token)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .expect("upload")
}

#[tokio::test]
async fn a_token_uploads_lists_links_and_deletes_files_through_the_pipeline() {
    let app = spawn_app().await;
    assert!(app.scans, "the upload tests need clamd: run scripts/test, or set MOTH_TEST_CLAMD_URL");
    let (owner, _) = app.owner("restfiles").await;
    let (project, key) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    let other = app.issue(&owner.cookie, &project, "public").await;
    let (_, number) = issue.reference.split_once('-').expect("KEY-n");
    let path = format!("/projects/{key}/issues/{number}");
    let (_, token) = make_token(&app, &owner.cookie, &["read", "write"]).await;

    // Stored: 201, its address, and a signed link the file origin serves with the exact bytes.
    let log = b"panic at step 3\n".to_vec();
    let stored = upload(&app, &path, &token, "nightly.log", log.clone()).await;
    assert_eq!(stored.status(), StatusCode::CREATED);
    let location = stored.headers()[header::LOCATION].to_str().expect("location").to_owned();
    let file: Value = stored.json().await.expect("json");
    let id = file["id"].as_str().expect("id");
    assert_eq!(location, format!("/api/v1{path}/attachments/{id}"));
    assert_eq!(file["name"], "nightly.log");
    assert_eq!(file_names(&app, &path, &token).await, vec!["nightly.log"]);
    let one: Value =
        app.http.get(app.url(&location)).bearer_auth(&token).send().await.expect("one").json().await.expect("json");
    let url = one["link"]["url"].as_str().expect("a fresh link");
    assert!(url.starts_with(&format!("{}/f/", app.files_address)), "{url}");
    let served = app.http.get(url).send().await.expect("file origin");
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.bytes().await.expect("bytes").to_vec(), log);

    // The file is found only on its own issue.
    let (_, other_number) = other.reference.split_once('-').expect("KEY-n");
    let elsewhere = rest(&app, Method::GET, &format!("/projects/{key}/issues/{other_number}/attachments/{id}"), &token);
    refused(elsewhere.send().await.expect("get"), StatusCode::NOT_FOUND, "not_found").await;

    // The same pipeline: a virus is refused on the field and quarantined; nothing is listed.
    let before = quarantined(&app).await;
    let virus = upload(&app, &path, &token, "eicar.txt", eicar()).await;
    let message = refused(virus, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
    assert!(!message.is_empty());
    assert_eq!(quarantined(&app).await, before + 1);
    // No name: a specific refusal.
    let nameless =
        rest(&app, Method::POST, &format!("{path}/attachments"), &token).body("x").send().await.expect("post");
    refused(nameless, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input").await;
    // An Idempotency-Key is refused rather than silently ignored, and nothing is stored.
    let keyed = rest(&app, Method::POST, &format!("{path}/attachments?name=again.log"), &token)
        .header("idempotency-key", "nightly-42")
        .body(log.clone());
    let message = refused(keyed.send().await.expect("post"), StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(message.contains("Idempotency-Key"), "{message}");
    assert_eq!(file_names(&app, &path, &token).await, vec!["nightly.log"], "the refused uploads stored nothing");

    // Deleted: 204, then gone, and its link stops working.
    let deleted = app.http.delete(app.url(&location)).bearer_auth(&token).send().await.expect("delete");
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app.http.get(app.url(&location)).bearer_auth(&token).send().await.expect("get");
    refused(gone, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(app.http.get(url).send().await.expect("file origin").status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn scopes_roles_and_doors_hold_for_uploads() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("restdoors").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    let (project, key) = app.project(&owner.cookie, "public").await;
    app.add_to_project(&owner.cookie, &project, &guest.user_id).await;
    let internal = app.issue(&owner.cookie, &project, "internal").await;
    let public = app.issue(&owner.cookie, &project, "public").await;
    let path_of = |issue: &crate::helpers::TestIssue| {
        format!("/projects/{key}/issues/{}", issue.reference.split_once('-').expect("KEY-n").1)
    };
    let (_, read_only) = make_token(&app, &owner.cookie, &["read"]).await;
    let (_, guests) = make_token(&app, &guest.cookie, &["read", "write"]).await;
    let before = quarantined(&app).await;

    // A read-only token may not upload; a guest's token cannot find an internal issue.
    let response = upload(&app, &path_of(&public), &read_only, "a.log", b"a".to_vec()).await;
    refused(response, StatusCode::FORBIDDEN, "forbidden").await;
    let response = upload(&app, &path_of(&internal), &guests, "a.log", b"a".to_vec()).await;
    refused(response, StatusCode::NOT_FOUND, "not_found").await;
    // The guest uploads to the public issue, as in the browser.
    assert_eq!(upload(&app, &path_of(&public), &guests, "a.log", b"a".to_vec()).await.status(), StatusCode::CREATED);

    // The browser's upload route refuses a token, even beside a session; the REST upload a session.
    let browser = app
        .http
        .post(app.url(&format!("/upload/issues/{}?name=b.log", public.id)))
        .bearer_auth(&guests)
        .header(header::COOKIE, &owner.cookie)
        .body("b")
        .send()
        .await
        .expect("post");
    refused(browser, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let session = app
        .http
        .post(app.url(&format!("/api/v1{}/attachments?name=c.log", path_of(&public))))
        .header(header::COOKIE, &owner.cookie)
        .body("c")
        .send()
        .await
        .expect("post");
    refused(session, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    let names = file_names(&app, &path_of(&public), &read_only).await;
    assert_eq!(names, vec!["a.log"], "only the guest's one upload was stored");
    assert_eq!(quarantined(&app).await, before, "a refused door quarantines nothing");
}
