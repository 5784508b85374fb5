//! Requests and responses: R1 (cross-site refusal, no state change by GET), R2 (security headers),
//! R6 (errors carry a code and a message, never internals), health checks and the app's page.

use std::os::unix::fs::PermissionsExt;

use reqwest::{Method, StatusCode};
use sqlx::{Executor, Row};

use crate::helpers::{error_body, input, spawn_app, spawn_app_with, TestApp, PASSWORD};

fn sign_up_form(email: &str) -> Vec<(String, String)> {
    input(&[("email", email), ("display_name", "Ann"), ("password", PASSWORD), ("team_name", "T")])
}

async fn user_count(app: &TestApp) -> i64 {
    let mut db = app.db().await;
    sqlx::query("SELECT COUNT(*) FROM users").fetch_one(&mut db).await.expect("count").get(0)
}

#[tokio::test]
async fn a_state_changing_request_from_a_foreign_origin_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let attacks: [(&str, &str); 5] = [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("origin", "http://127.0.0.1.evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ];
    for (header, value) in attacks {
        let response = app
            .http
            .post(app.url("/api/sign_up"))
            .header(header, value)
            .form(&sign_up_form("ann@example.org"))
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{header}: {value}");
        assert_eq!(error_body(response).await["code"], "cross_origin");
    }
    assert_eq!(user_count(&app).await, 0);
}

#[tokio::test]
async fn a_request_from_the_apps_own_origin_is_accepted() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(app.url("/api/sign_up"))
        .header("origin", &app.address)
        .header("sec-fetch-site", "same-origin")
        .form(&sign_up_form("ann@example.org"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(user_count(&app).await, 1);
}

#[tokio::test]
async fn with_a_public_url_only_that_origin_may_change_state() {
    let app = spawn_app_with(|c| c.public_url = Some("https://moth.example.com".into())).await;
    let own_host = app.address.clone();
    let refused = app
        .http
        .post(app.url("/api/sign_up"))
        .header("origin", own_host)
        .form(&sign_up_form("a@example.org"))
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let accepted = app
        .http
        .post(app.url("/api/sign_up"))
        .header("origin", "https://moth.example.com")
        .form(&sign_up_form("a@example.org"))
        .send()
        .await
        .expect("sent");
    assert_eq!(accepted.status(), StatusCode::OK);
}

#[tokio::test]
async fn no_get_changes_state() {
    let app = spawn_app().await;
    let query: Vec<(String, String)> = sign_up_form("ann@example.org");
    for endpoint in ["sign_up", "sign_in", "sign_out", "switch_team", "who_am_i", "my_teams"] {
        let response = app.http.get(app.url(&format!("/api/{endpoint}"))).query(&query).send().await.expect("sent");
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{endpoint}");
    }
    assert_eq!(user_count(&app).await, 0);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    let requests = [
        (Method::GET, "/healthz"),
        (Method::GET, "/readyz"),
        (Method::GET, "/"),
        (Method::GET, "/some/client/route"),
        (Method::POST, "/api/who_am_i"),
        (Method::POST, "/api/no_such_function"),
        (Method::GET, "/api/who_am_i"),
        (Method::DELETE, "/api/sign_up"),
    ];
    for (method, path) in requests {
        let response = app.http.request(method.clone(), app.url(path)).send().await.expect("sent");
        let h = response.headers();
        let csp = h.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{method} {path}: CSP {csp:?} lacks {directive}");
        }
        assert!(!csp.contains("unsafe-inline"), "{method} {path}");
        assert_eq!(
            h.get("x-content-type-options").map(reqwest::header::HeaderValue::as_bytes),
            Some(&b"nosniff"[..]),
            "{method} {path}"
        );
        assert!(h.contains_key("referrer-policy"), "{method} {path}");
        assert!(!h.contains_key("strict-transport-security"), "no HSTS over plain HTTP");
    }
}

#[tokio::test]
async fn over_https_responses_carry_hsts_of_at_least_a_year() {
    let app = spawn_app_with(|c| c.public_url = Some("https://moth.example.com".into())).await;
    for path in ["/healthz", "/"] {
        let response = app.http.get(app.url(path)).send().await.expect("sent");
        let hsts = response.headers().get("strict-transport-security").and_then(|v| v.to_str().ok()).expect("HSTS");
        let max_age: u64 = hsts
            .split(';')
            .find_map(|p| p.trim().strip_prefix("max-age="))
            .and_then(|v| v.parse().ok())
            .expect("max-age");
        assert!(max_age >= 31_536_000, "{hsts}");
    }
}

/// Words that would betray internals in an error body.
const INTERNALS: [&str; 9] = ["sqlx", "sqlite", "postgres", "select ", "insert ", "panicked", "/root", ".rs", "stack"];

fn assert_no_internals(body: &serde_json::Value) {
    let text = body.to_string().to_lowercase();
    for word in INTERNALS {
        assert!(!text.contains(word), "error body reveals {word:?}: {body}");
    }
}

#[tokio::test]
async fn errors_carry_a_code_and_a_message_and_never_internals() {
    let app = spawn_app().await;
    // (endpoint, form, expected status, expected code)
    #[allow(clippy::type_complexity)]
    let cases: Vec<(&str, Vec<(String, String)>, StatusCode, &str)> = vec![
        ("no_such_function", vec![], StatusCode::NOT_FOUND, "not_found"),
        ("sign_in", vec![("garbage".into(), "x".into())], StatusCode::BAD_REQUEST, "bad_request"),
        ("sign_up", input(&[("email", "x")]), StatusCode::BAD_REQUEST, "bad_request"),
        ("switch_team", input(&[("team_id", "not-a-uuid")]), StatusCode::BAD_REQUEST, "bad_request"),
        (
            "sign_in",
            input(&[("email", "a@example.org"), ("password", "wrong password")]),
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        ),
        ("my_teams", vec![], StatusCode::UNAUTHORIZED, "unauthenticated"),
        ("sign_up", sign_up_form("bad email"), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
    ];
    for (endpoint, form, status, code) in cases {
        let response = app.call(endpoint, &form, None).await;
        assert_eq!(response.status(), status, "{endpoint} {form:?}");
        let body = error_body(response).await;
        assert_eq!(body["code"], code, "{body}");
        assert_no_internals(&body);
    }
}

/// The upload routes read their path and query themselves: what the framework refuses there (a
/// repeated or malformed parameter, a path that is no id, a wrong method) still answers Moth's shape.
#[tokio::test]
async fn every_error_of_the_upload_and_export_routes_has_moths_shape() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("shapes").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    let probes = [
        (reqwest::Method::POST, format!("/upload/issues/{}?name=a.txt&name=b.exe", issue.id)),
        (reqwest::Method::POST, format!("/upload/comments/{}?name=a.txt&name=b.exe", issue.id)),
        (reqwest::Method::POST, format!("/upload/issues/{}?name=%ZZ", issue.id)),
        (reqwest::Method::GET, format!("/upload/issues/{}?name=a.txt", issue.id)),
        (reqwest::Method::GET, "/export/issues.csv?project_id=1&project_id=2".to_owned()),
        (reqwest::Method::GET, "/export/team/not-an-id".to_owned()),
    ];
    for (method, path) in probes {
        let response = app
            .http
            .request(method.clone(), app.url(&path))
            .header("cookie", &owner.cookie)
            .body("hello")
            .send()
            .await
            .expect("request");
        let status = response.status();
        assert!(status.is_client_error(), "{method} {path}: {status}");
        let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert!(kind.starts_with("application/json"), "{method} {path}: {status} {kind}");
        let body = error_body(response).await;
        assert_no_internals(&body);
        assert!(!body.to_string().contains("Failed to deserialize"), "{body}");
    }
}

#[tokio::test]
async fn a_failing_database_gives_a_generic_internal_error() {
    let app = spawn_app().await;
    let mut db = app.db().await;
    db.execute("ALTER TABLE teams RENAME TO teams_elsewhere").await.expect("rename");
    let response = app.call("sign_up", &sign_up_form("ann@example.org"), None).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = error_body(response).await;
    assert_eq!(body["code"], "internal");
    assert_no_internals(&body);
    assert!(!body.to_string().contains("teams"), "{body}");
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let health = app.http.get(app.url("/healthz")).send().await.expect("sent");
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.http.get(app.url("/readyz")).send().await.expect("sent");
    assert_eq!(ready.status(), StatusCode::OK);
    let ready: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(ready["checks"]["database"], "ok", "{ready}");
    assert_eq!(ready["checks"]["storage"], "ok", "{ready}");
    if app.scans {
        assert_eq!(ready["status"], "ready", "{ready}");
        assert_eq!(ready["checks"]["clamd"], "ok", "{ready}");
    }
}

#[tokio::test]
async fn readiness_reports_a_missing_scanner_and_an_unwritable_store_as_degraded() {
    // A port that was free a moment ago: nothing answers there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr");
    let app = spawn_app_with(|config| config.clamd_url = Some(closed.to_string())).await;
    let files = app.files_dir.clone();
    let read_only = std::fs::Permissions::from_mode(0o555);
    std::fs::set_permissions(&files, read_only).expect("chmod");
    let ready = app.http.get(app.url("/readyz")).send().await.expect("sent");
    std::fs::set_permissions(&files, std::fs::Permissions::from_mode(0o755)).expect("chmod back");
    assert_eq!(ready.status(), StatusCode::OK, "the tracker still works without them");
    let ready: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(ready["status"], "degraded", "{ready}");
    assert_eq!(ready["checks"]["clamd"], "unreachable", "{ready}");
    assert_eq!(ready["checks"]["storage"], "unavailable", "{ready}");
    assert_eq!(ready["checks"]["database"], "ok", "{ready}");
}

#[tokio::test]
async fn client_routes_get_their_bundles_page_with_its_loader_moved_out_of_line() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("index.html"),
        r#"<html><head><link rel="stylesheet" href="/main.css"><script type="module" nonce="abc">import init from '/frontend.js';await init();</script></head><body data-ready="false"></body></html>"#,
    )
    .expect("index");
    std::fs::write(dir.path().join("main.css"), "body{}").expect("css");
    // The settings bundle's page (app::bundles), in its own folder.
    let settings = dir.path().join(app::bundles::Bundle::SETTINGS_FOLDER);
    std::fs::create_dir(&settings).expect("settings folder");
    std::fs::write(
        settings.join("index.html"),
        r#"<html><head><script type="module">import init from '/settings-bundle/frontend-settings.js';await init();</script></head><body data-ready="false"></body></html>"#,
    )
    .expect("settings index");
    let site = dir.path().to_owned();
    let app = spawn_app_with(move |c| c.site_dir = site).await;

    // A bundle's own index.html is a page like any other address (the raw file's inline loader would
    // be blocked by the CSP): the main bundle's, which says there is no such page.
    let main_pages = [
        "/",
        "/signin",
        "/deep/client/route",
        "/projects/WEB",
        "/projects/WEB/issues/3",
        "/members/x",
        "/index.html",
        "/settings-bundle/index.html",
        "/settings-bundle/",
    ];
    let settings_pages = ["/members", "/audit", "/quarantine", "/account", "/backups", "/projects/WEB/settings"];
    for (paths, loader) in [(&main_pages[..], "/_moth/boot-0.js"), (&settings_pages[..], "/_moth/boot-1.js")] {
        for path in paths {
            let response = app.http.get(app.url(path)).send().await.expect("sent");
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let html = response.text().await.expect("html");
            assert!(html.contains(&format!(r#"<script type="module" src="{loader}"></script>"#)), "{path}: {html}");
            assert!(!html.contains("import init"), "no inline script remains");
        }
    }
    let boot = app.http.get(app.url("/_moth/boot-0.js")).send().await.expect("sent");
    assert_eq!(boot.status(), StatusCode::OK);
    assert!(boot.headers()["content-type"].to_str().expect("type").starts_with("text/javascript"));
    assert_eq!(boot.text().await.expect("js"), "import init from '/frontend.js';await init();");
    let boot = app.http.get(app.url("/_moth/boot-1.js")).send().await.expect("sent");
    assert_eq!(
        boot.text().await.expect("js"),
        "import init from '/settings-bundle/frontend-settings.js';await init();"
    );
    let css = app.http.get(app.url("/main.css")).send().await.expect("sent");
    assert_eq!(css.text().await.expect("css"), "body{}");
    let missing = app.http.get(app.url("/_moth/boot-7.js")).send().await.expect("sent");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413_before_it_is_read() {
    let app = spawn_app().await;
    let huge = "x".repeat(server::http::MAX_BODY_BYTES + 1);
    let response = app
        .http
        .post(app.url("/api/sign_in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("input[email]={huge}"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(crate::helpers::error_body(response).await["code"], "too_large");
}

/// Opens a raw (blocking) connection to the app and sends `head`, and nothing more yet.
fn raw(app: &TestApp, head: &str) -> std::net::TcpStream {
    use std::io::Write;
    let address = app.address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream.write_all(head.as_bytes()).expect("send");
    stream
}

/// What the server sends until it closes the connection, waiting at most `limit`; `None` when the
/// connection is still open then.
async fn answer_within(mut stream: std::net::TcpStream, limit: std::time::Duration) -> Option<String> {
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        stream.set_read_timeout(Some(limit)).expect("timeout");
        let mut answer = Vec::new();
        // Closed by the server (or reset by it): whatever arrived before. Timed out: still open.
        match stream.read_to_end(&mut answer) {
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => None,
            _ => Some(String::from_utf8_lossy(&answer).into_owned()),
        }
    })
    .await
    .expect("reader")
}

#[tokio::test]
async fn a_client_that_sends_its_headers_slowly_is_cut_off() {
    let app = spawn_app_with(|c| c.request_header_timeout_secs = 1).await;
    let half_sent = raw(&app, "POST /api/sign_in HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    let answer = answer_within(half_sent, std::time::Duration::from_secs(10)).await;
    assert!(answer.is_some(), "a half-sent request was still held after 10 s");
    // A connection that sends nothing is closed as well, and so is one kept alive after a request.
    let idle = raw(&app, "");
    assert!(answer_within(idle, std::time::Duration::from_secs(10)).await.is_some(), "an idle connection was held");
    let kept = raw(&app, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let answer = answer_within(kept, std::time::Duration::from_secs(10)).await;
    assert!(answer.is_some_and(|a| a.starts_with("HTTP/1.1 200")), "a kept-alive connection was held");
}

#[tokio::test]
async fn a_body_that_arrives_slowly_is_refused_with_408() {
    let app = spawn_app_with(|c| c.request_body_timeout_secs = 1).await;
    let head = "POST /api/sign_in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: 100\r\nConnection: close\r\n\r\ninput[email";
    let stream = raw(&app, head);
    let answer = answer_within(stream, std::time::Duration::from_secs(10)).await.expect("an answer in time");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
}

#[tokio::test]
async fn a_body_of_undeclared_length_over_the_limit_is_refused_with_413() {
    let app = spawn_app().await;
    let head = "POST /api/sign_in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    let stream = raw(&app, head);
    let writer = stream.try_clone().expect("clone");
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut writer = writer;
        let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "x".repeat(64 * 1024));
        for _ in 0..(server::http::MAX_BODY_BYTES / (64 * 1024) + 2) {
            // The server may answer and stop reading before everything is sent.
            if writer.write_all(chunk.as_bytes()).is_err() {
                return;
            }
        }
        let _ = writer.write_all(b"0\r\n\r\n");
    })
    .await
    .expect("writer");
    let answer = answer_within(stream, std::time::Duration::from_secs(10)).await.expect("an answer in time");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn hashed_assets_are_served_precompressed_and_cached_for_good() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("index.html"), "<html><body></body></html>").expect("index");
    let name = "frontend-0123456789abcdef_bg.wasm";
    std::fs::write(dir.path().join(name), b"plain wasm").expect("wasm");
    std::fs::write(dir.path().join(format!("{name}.br")), b"brotli bytes").expect("br");
    std::fs::write(dir.path().join(format!("{name}.gz")), b"gzip bytes").expect("gz");
    std::fs::write(dir.path().join("robots.txt"), "User-agent: *").expect("txt");
    let site = dir.path().to_owned();
    let app = spawn_app_with(move |c| c.site_dir = site).await;
    let get = |path: &str, accept: &'static str| app.http.get(app.url(path)).header("accept-encoding", accept).send();

    let br = get(&format!("/{name}"), "gzip, br").await.expect("sent");
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(br.bytes().await.expect("body").as_ref(), b"brotli bytes", "the stored file, not compressed again");
    let gz = get(&format!("/{name}"), "gzip").await.expect("sent");
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_eq!(gz.bytes().await.expect("body").as_ref(), b"gzip bytes");
    let plain = get(&format!("/{name}"), "identity").await.expect("sent");
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.bytes().await.expect("body").as_ref(), b"plain wasm");
    let unhashed = get("/robots.txt", "identity").await.expect("sent");
    assert_eq!(unhashed.headers()["cache-control"], "public, max-age=3600");
}

#[tokio::test]
async fn every_response_carries_moths_own_request_id_never_the_clients() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let response = app
            .http
            .get(app.url("/healthz"))
            .header("x-request-id", "client-chosen text for the logs")
            .send()
            .await
            .expect("healthz");
        let id = response.headers().get("x-request-id").and_then(|v| v.to_str().ok()).expect("an id").to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        seen.push(id);
    }
    assert_ne!(seen[0], seen[1], "each request has its own id");
}
