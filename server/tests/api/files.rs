//! F1-F7: attachments against the running server, a real clamd (started by `scripts/test`, named by
//! `MOTH_TEST_CLAMD_URL`) and the local object store. Each test attacks the upload route or the file
//! origin the way a client could, and looks at what was stored.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{eicar, input, launch, png, png_header, spawn_app, spawn_app_with, test_config, TestApp};

/// An app that scans, with a project and an issue of `visibility` filed by its owner.
async fn app_with_issue(visibility: &str) -> (TestApp, String, String) {
    let app = spawn_app().await;
    assert!(app.scans, "the upload tests need clamd: run scripts/test, or set MOTH_TEST_CLAMD_URL");
    let (owner, _) = app.owner("files").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, visibility).await;
    (app, owner.cookie, issue.id)
}

async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("json")
}

async fn link(app: &TestApp, cookie: &str, attachment: &str) -> reqwest::Response {
    app.call("attachment_link", &input(&[("attachment_id", attachment)]), Some(cookie)).await
}

#[tokio::test]
async fn a_clean_file_is_sealed_in_storage_and_served_only_from_the_file_origin() {
    let (app, owner, issue) = app_with_issue("public").await;
    let image = png(64, 48);
    let stored = app.upload(Some(&owner), &issue, "Screen shot.png", image.clone()).await;
    assert_eq!(stored.status(), StatusCode::OK);
    let attachment = json(stored).await;
    assert_eq!(attachment["name"], "Screen shot.png");
    assert_eq!(attachment["content_type"], "image/png");
    assert_eq!(attachment["size"], image.len());

    // F7: one object, and its bytes are not the upload's.
    let objects = app.stored_objects();
    assert_eq!(objects.len(), 1);
    assert!(objects[0].windows(image.len()).all(|w| w != image.as_slice()), "stored in the clear");
    assert!(!objects[0].windows(4).any(|w| w == b"IHDR"), "the PNG header is readable in storage");

    let listed = json(app.call("list_attachments", &input(&[("issue_id", &issue)]), Some(&owner)).await).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    // The list carries a link to each file, so a page of files needs no request per file.
    let listed_url = listed[0]["link"]["url"].as_str().expect("a link with the list");
    assert!(listed_url.starts_with(&format!("{}/f/", app.files_address)), "{listed_url}");
    let by_list = app.http.get(listed_url).send().await.expect("get");
    assert_eq!(by_list.bytes().await.expect("body").as_ref(), image.as_slice());

    // F6: the link points at the file origin, which serves the exact bytes with its hardening.
    let id = attachment["id"].as_str().expect("id");
    let file_link = json(link(&app, &owner, id).await).await;
    let url = file_link["url"].as_str().expect("url");
    assert!(url.starts_with(&format!("{}/f/", app.files_address)), "{url}");
    let served = app.http.get(url).send().await.expect("get");
    assert_eq!(served.status(), StatusCode::OK);
    let headers = served.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-security-policy"], "default-src 'none'; sandbox");
    assert_eq!(headers["content-type"], "image/png");
    assert!(headers["content-disposition"]
        .to_str()
        .expect("ascii")
        .starts_with("inline; filename=\"Screen shot.png\""));
    assert!(headers.get("set-cookie").is_none());
    assert_eq!(served.bytes().await.expect("body").as_ref(), image.as_slice());

    // The app's origin does not serve it under the same path.
    let path = url.trim_start_matches(&app.files_address);
    let from_app = app.http.get(app.url(path)).send().await.expect("get");
    let body = from_app.bytes().await.expect("body");
    assert!(body.windows(image.len()).all(|w| w != image.as_slice()), "the app origin served user bytes");
}

#[tokio::test]
async fn the_eicar_file_is_refused_leaves_nothing_stored_and_is_audited_and_quarantined() {
    let (app, owner, issue) = app_with_issue("public").await;
    let refused = app.upload(Some(&owner), &issue, "eicar.txt", eicar()).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error = json(refused).await;
    assert_eq!(error["code"], "invalid_input");
    assert!(error["fields"][0]["message"].as_str().expect("message").contains("malware"), "{error}");
    assert!(app.stored_objects().is_empty(), "F1: nothing of it reaches storage");
    let listed = json(app.call("list_attachments", &input(&[("issue_id", &issue)]), Some(&owner)).await).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(0));

    let quarantine = json(app.call("quarantine", &[], Some(&owner)).await).await;
    let entry = &quarantine[0];
    assert_eq!(entry["name"], "eicar.txt");
    assert_eq!(entry["step"], "scan");
    assert!(entry["signature"].as_str().expect("signature").contains("Eicar"), "{entry}");
    let audit = json(app.call("audit_log", &[], Some(&owner)).await).await;
    let events: Vec<&str> =
        audit["entries"].as_array().expect("list").iter().filter_map(|e| e["event"].as_str()).collect();
    assert!(events.contains(&"upload_rejected"), "{events:?}");
}

#[tokio::test]
async fn with_clamd_unreachable_uploads_are_refused_and_nothing_is_stored() {
    // A port that was free a moment ago: nothing answers there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let app = spawn_app_with(|config| config.clamd_url = Some(closed.to_string())).await;
    let (owner, _) = app.owner("files").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    let refused = app.upload(Some(&owner.cookie), &issue.id, "notes.txt", b"plain text".to_vec()).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(json(refused).await["code"], "unavailable");
    assert!(app.stored_objects().is_empty());
}

#[tokio::test]
async fn disguised_and_disallowed_files_are_refused() {
    let (app, owner, issue) = app_with_issue("public").await;
    let html = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>".to_vec();
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("page.jpg.html", html.clone()),
        ("shot.png", html.clone()),
        ("shot.png", gif),
        ("logo.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec()),
        ("notes.txt", png(10, 10)),
        ("notes.txt", vec![0xff, 0xfe, 0x00, 0x41]),
        ("report.pdf", b"just text, not a PDF".to_vec()),
        ("tool.exe", b"MZ\x90\x00\x03\x00\x00\x00".to_vec()),
        ("notes.txt\0.png", b"text behind a NUL".to_vec()),
    ];
    for (name, bytes) in cases {
        let refused = app.upload(Some(&owner), &issue, name, bytes).await;
        let status = refused.status();
        let error = json(refused).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}: {error}");
        assert_eq!(error["fields"][0]["field"], "file", "{name:?}");
    }
    assert!(app.stored_objects().is_empty());
    let quarantine = json(app.call("quarantine", &[], Some(&owner)).await).await;
    assert_eq!(quarantine.as_array().map(Vec::len), Some(9));
}

#[tokio::test]
async fn a_pixel_flood_and_bodies_over_the_limits_are_refused() {
    let (app, owner, issue) = app_with_issue("public").await;
    let flood = app.upload(Some(&owner), &issue, "flood.png", png_header(100_000, 100_000)).await;
    assert_eq!(flood.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Over the type's limit (10 MB for images), under the route's.
    let mut big = png(100, 100);
    big.resize(11 * 1024 * 1024, 0);
    let too_big = app.upload(Some(&owner), &issue, "big.png", big).await;
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Text streams through the pipeline: cut at its type's limit (5 MB) while it arrives.
    let too_long = app.upload(Some(&owner), &issue, "big.log", vec![b'a'; 6 * 1024 * 1024]).await;
    assert_eq!(too_long.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Declared over 20 MB: refused on the headers, while almost none of the body has been sent.
    let address = app.address.trim_start_matches("http://").to_owned();
    let request = format!(
        "POST /upload/issues/{issue}?name=big.txt HTTP/1.1\r\nHost: {address}\r\nCookie: {owner}\r\n\
         Content-Length: 50000000\r\n\r\nonly a little"
    );
    let answer = tokio::time::timeout(Duration::from_secs(10), raw_exchange(&address, request.as_bytes()))
        .await
        .expect("answered without the rest of the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(app.stored_objects().is_empty());
}

async fn raw_exchange(address: &str, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut answer = vec![0_u8; 4096];
    let read = stream.read(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

#[tokio::test]
async fn hostile_names_are_sanitised_and_sent_back_rfc_6266_encoded() {
    let (app, owner, issue) = app_with_issue("public").await;
    let hostile = format!("../../etc/pass\r\nwd\u{202E}{}.txt", "x".repeat(1000));
    let attachment = json(app.upload(Some(&owner), &issue, &hostile, b"text".to_vec()).await).await;
    let name = attachment["name"].as_str().expect("name");
    assert!(name.starts_with("passwdx") && name.rsplit('.').next() == Some("txt"), "{name}");
    assert!(name.chars().count() <= 120 && !name.contains(['/', '\r', '\n', '\u{202E}']), "{name}");

    // Full-width dots and slash are a path once normalised (NFKC), so they go like one; a long name
    // of three-byte characters is cut at 255 bytes.
    let wide = json(app.upload(Some(&owner), &issue, "．．／．．／evil.txt", b"text".to_vec()).await).await;
    assert_eq!(wide["name"], "evil.txt");
    let long =
        json(app.upload(Some(&owner), &issue, &format!("{}.txt", "漢".repeat(120)), b"text".to_vec()).await).await;
    let long = long["name"].as_str().expect("name");
    assert!(long.len() <= 255 && long.ends_with("漢.txt"), "{} bytes: {long}", long.len());

    let accented = json(app.upload(Some(&owner), &issue, "Café \"menu\".txt", b"text".to_vec()).await).await;
    let url = json(link(&app, &owner, accented["id"].as_str().expect("id")).await).await["url"].clone();
    let served = app.http.get(url.as_str().expect("url")).send().await.expect("get");
    let disposition = served.headers()["content-disposition"].to_str().expect("ascii").to_owned();
    // The quotes were dropped from the name (they are special on some file systems); the accent stays,
    // exactly in `filename*` and replaced in the ASCII fallback.
    assert_eq!(disposition, "attachment; filename=\"Caf_ menu.txt\"; filename*=UTF-8''Caf%C3%A9%20menu%2Etxt");
}

#[tokio::test]
async fn links_expire_and_altered_links_are_refused() {
    let (app, owner, issue) = app_with_issue("public").await;
    let id = app.attach(&owner, &issue).await;
    let url = json(link(&app, &owner, &id).await).await["url"].as_str().expect("url").to_owned();
    assert_eq!(app.http.get(&url).send().await.expect("get").status(), StatusCode::OK);

    let (claims, signature) = url.rsplit_once('.').expect("signed");
    let mut altered = signature.to_owned();
    let first = if altered.starts_with('A') { "B" } else { "A" };
    altered.replace_range(0..1, first);
    let tampered = app.http.get(format!("{claims}.{altered}")).send().await.expect("get");
    assert_eq!(tampered.status(), StatusCode::FORBIDDEN);

    app.clock.advance(Duration::from_secs(301));
    assert_eq!(app.http.get(&url).send().await.expect("get").status(), StatusCode::FORBIDDEN, "expired");
}

#[tokio::test]
async fn guests_and_other_teams_reach_no_file_they_may_not_see() {
    let (app, owner, public_issue) = app_with_issue("public").await;
    let listed = json(app.call("list_projects", &[], Some(&owner)).await).await;
    let project = listed[0]["id"].as_str().expect("project").to_owned();
    let internal_issue = app.issue(&owner, &project, "internal").await.id;
    let guest = app.new_member(&owner, "GUEST").await;
    app.add_to_project(&owner, &project, &guest.user_id).await;
    let internal_file = app.attach(&owner, &internal_issue).await;
    let public_file = app.attach(&owner, &public_issue).await;

    // T5: the guest sees the public issue's file, and nothing of the internal one.
    assert_eq!(link(&app, &guest.cookie, &public_file).await.status(), StatusCode::OK);
    assert_eq!(link(&app, &guest.cookie, &internal_file).await.status(), StatusCode::NOT_FOUND);
    let listed = app.call("list_attachments", &input(&[("issue_id", &internal_issue)]), Some(&guest.cookie)).await;
    assert_eq!(listed.status(), StatusCode::NOT_FOUND);
    let upload = app.upload(Some(&guest.cookie), &internal_issue, "notes.txt", b"x".to_vec()).await;
    assert_eq!(upload.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.upload(Some(&guest.cookie), &public_issue, "notes.txt", b"x".to_vec()).await.status(),
        StatusCode::OK
    );

    // T1: another team's member: not found, whatever the id.
    let (other, _) = app.owner("other").await;
    assert_eq!(link(&app, &other.cookie, &public_file).await.status(), StatusCode::NOT_FOUND);
    let foreign = app.upload(Some(&other.cookie), &public_issue, "notes.txt", b"x".to_vec()).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let delete = app.call("delete_attachment", &input(&[("attachment_id", &public_file)]), Some(&other.cookie)).await;
    assert_eq!(delete.status(), StatusCode::NOT_FOUND);
    // Without a session: 401 before the body is read.
    assert_eq!(app.upload(None, &public_issue, "notes.txt", b"x".to_vec()).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_deleted_attachment_is_gone_from_storage_and_its_links_stop_working() {
    let (app, owner, _) = app_with_issue("public").await;
    let listed = json(app.call("list_projects", &[], Some(&owner)).await).await;
    let issue = app.issue(&owner, listed[0]["id"].as_str().expect("project"), "public").await;
    let (key, number) = issue.reference.split_once('-').expect("KEY-n");
    let issue = issue.id.clone();
    let id = app.attach(&owner, &issue).await;
    let url = json(link(&app, &owner, &id).await).await["url"].as_str().expect("url").to_owned();
    assert_eq!(app.stored_objects().len(), 1);
    let deleted = app.call("delete_attachment", &input(&[("attachment_id", &id)]), Some(&owner)).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert!(app.stored_objects().is_empty(), "the bytes went with it");
    assert_eq!(app.http.get(&url).send().await.expect("get").status(), StatusCode::NOT_FOUND);
    assert_eq!(link(&app, &owner, &id).await.status(), StatusCode::NOT_FOUND);

    // Both are in the issue's history.
    let detail = json(app.call("get_issue", &input(&[("key", key), ("number", number)]), Some(&owner)).await).await;
    let changes: Vec<(&str, &str)> = detail["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|h| h["field"] == "attachment")
        .map(|h| (h["old_value"].as_str().unwrap_or_default(), h["new_value"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(changes, [("", "notes.txt"), ("notes.txt", "")]);
}

#[tokio::test]
async fn the_master_key_rotates_and_every_stored_file_still_opens() {
    let dir = tempfile::tempdir().expect("dir");
    let config = test_config(dir.path()).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (app, running) = launch(config.clone(), async move {
        let _ = stopped.await;
    })
    .await;
    let (owner, _) = app.owner("rotation").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    let attachment = app.attach(&owner.cookie, &issue.id).await;
    assert!(app.scans, "the upload tests need clamd: run scripts/test, or set MOTH_TEST_CLAMD_URL");
    // A two-factor key is sealed the same way and must survive the rotation too.
    app.enable_two_factor(&owner.cookie).await;
    // So is a team's export bucket secret (a public address: saving it connects nowhere).
    let bucket = input(&[
        ("endpoint", "https://52.95.110.1"),
        ("region", "eu-west-1"),
        ("bucket", "team-exports"),
        ("prefix", ""),
        ("access_key_id", "AKIA"),
        ("secret_access_key", "the-bucket-secret"),
        ("path_style", "false"),
    ]);
    assert_eq!(app.call("set_export_bucket", &bucket, Some(&owner.cookie)).await.status(), StatusCode::OK);
    let _ = stop.send(());
    running.await.expect("joined").expect("stopped");
    let old_key = std::fs::read_to_string(&config.master_key_file).expect("key");

    let db = server::db::Db::connect(&config.database_url).await.expect("db");
    let rotated = server::files::rotate::rotate(&db, &config.master_key_file).await.expect("rotates");
    db.close().await;
    assert_eq!(rotated.rewrapped, 3, "the file's data key, the two-factor key and the bucket secret's key");
    assert_ne!(std::fs::read_to_string(&config.master_key_file).expect("key"), old_key, "a new key");
    let previous = server::files::crypto::sibling(&config.master_key_file, "previous");
    assert_eq!(std::fs::read_to_string(previous).expect("previous key"), old_key, "the old key is kept beside");

    // Started again: the session is in the database, and the file opens under the new key.
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (app, running) = launch(config, async move {
        let _ = stopped.await;
    })
    .await;
    let link = app.call("attachment_link", &input(&[("attachment_id", &attachment)]), Some(&owner.cookie)).await;
    let url = json(link).await["url"].as_str().expect("url").to_owned();
    let served = app.http.get(&url).send().await.expect("get");
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.bytes().await.expect("body").as_ref(), b"Team attachment");
    let status = app.call("two_factor_status", &[], Some(&owner.cookie)).await;
    assert_eq!(status.json::<serde_json::Value>().await.expect("json")["enabled"], true);
    // The bucket secret opens (an export to the bucket starts; it would answer 500 otherwise).
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    let export = input(&[("destination", "bucket"), ("passphrase", ""), ("recipient", &recipient)]);
    assert_eq!(app.call("export_team", &export, Some(&owner.cookie)).await.status(), StatusCode::OK);
    let _ = stop.send(());
    running.await.expect("joined").expect("stopped");
}

/// A client of the S3-compatible server the test script starts (`MOTH_TEST_S3_URL`).
fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    server::files::store::s3_client(&server::files::store::S3Settings {
        endpoint: endpoint.to_owned(),
        region: "us-east-1".into(),
        bucket: String::new(),
        access_key_id: "moth-test".into(),
        secret_access_key: "moth-test-secret".into(),
        path_style: true,
    })
}

/// The bytes of every object in `bucket`.
async fn objects_in(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<Vec<u8>> {
    let listed = s3.list_objects_v2().bucket(bucket).send().await.expect("list");
    let mut objects = Vec::new();
    for object in listed.contents() {
        let key = object.key().expect("key");
        let got = s3.get_object().bucket(bucket).key(key).send().await.expect("get");
        objects.push(got.body.collect().await.expect("body").into_bytes().to_vec());
    }
    objects
}

#[tokio::test]
async fn with_s3_files_are_sealed_in_the_bucket_and_leave_it_when_refused_or_deleted() {
    let endpoint = std::env::var("MOTH_TEST_S3_URL").ok().filter(|url| !url.is_empty());
    let endpoint =
        endpoint.expect("the S3 test needs an S3-compatible server: run scripts/test, or set MOTH_TEST_S3_URL");
    let s3 = s3_client(&endpoint);
    let bucket = format!("moth-test-{}", uuid::Uuid::new_v4().simple());
    s3.create_bucket().bucket(&bucket).send().await.expect("bucket");
    let app = spawn_app_with(|config| {
        config.s3_bucket = Some(bucket.clone());
        config.s3_endpoint = Some(endpoint.clone());
        config.s3_access_key_id = Some("moth-test".into());
        config.s3_secret_access_key = Some("moth-test-secret".into());
    })
    .await;
    assert!(app.scans, "the upload tests need clamd: run scripts/test, or set MOTH_TEST_CLAMD_URL");
    // Readiness asks the bucket (HeadBucket); one that does not exist is reported.
    let ready: serde_json::Value =
        app.http.get(app.url("/readyz")).send().await.expect("ready").json().await.expect("json");
    assert_eq!(ready["checks"]["storage"], "ok", "{ready}");
    let missing = spawn_app_with(|config| {
        config.s3_bucket = Some(format!("moth-missing-{}", uuid::Uuid::new_v4().simple()));
        config.s3_endpoint = Some(endpoint.clone());
        config.s3_access_key_id = Some("moth-test".into());
        config.s3_secret_access_key = Some("moth-test-secret".into());
    })
    .await;
    let ready: serde_json::Value =
        missing.http.get(missing.url("/readyz")).send().await.expect("ready").json().await.expect("json");
    assert_eq!(ready["checks"]["storage"], "unavailable", "{ready}");
    let (owner, _) = app.owner("s3").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await.id;

    let image = png(32, 32);
    let stored = json(app.upload(Some(&owner.cookie), &issue, "shot.png", image.clone()).await).await;
    let objects = objects_in(&s3, &bucket).await;
    assert_eq!(objects.len(), 1, "one object in the bucket");
    assert!(objects[0].windows(image.len()).all(|w| w != image.as_slice()), "stored in the clear");
    assert!(app.stored_objects().is_empty(), "nothing in the local folder");
    let id = stored["id"].as_str().expect("id");
    let url = json(link(&app, &owner.cookie, id).await).await["url"].as_str().expect("url").to_owned();
    assert_eq!(app.http.get(&url).send().await.expect("get").bytes().await.expect("body").as_ref(), image.as_slice());

    let refused = app.upload(Some(&owner.cookie), &issue, "eicar.txt", eicar()).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(objects_in(&s3, &bucket).await.len(), 1, "nothing of the refused file reached the bucket");

    let deleted = app.call("delete_attachment", &input(&[("attachment_id", id)]), Some(&owner.cookie)).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert!(objects_in(&s3, &bucket).await.is_empty(), "deleting removes the object");
}
