//! Rate limits on every API call (per address and per session) and `/metrics`: what an operator sees
//! of bans and limits, behind its token. And the audit log's kinds of event, which the database lists.

use reqwest::StatusCode;
use server::db::audit::Event;
use sqlx::Row;

use crate::helpers::{error_body, input, session_cookie, spawn_app_with, TestApp, PASSWORD};

async fn who_am_i(app: &TestApp, cookie: Option<&str>) -> reqwest::Response {
    app.call("who_am_i", &[], cookie).await
}

async fn metrics(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app.http.get(app.url("/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("metrics")
}

#[tokio::test]
async fn every_api_call_counts_against_its_session_and_its_address() {
    let app = spawn_app_with(|config| {
        config.session_rate_per_minute = 5;
        config.api_rate_per_minute = 20;
        config.metrics_token = Some("scrape-token".into());
    })
    .await;
    let cookie = app.signed_up("ann@example.org").await;
    for _ in 0..5 {
        assert_eq!(who_am_i(&app, Some(&cookie)).await.status(), StatusCode::OK);
    }
    let limited = who_am_i(&app, Some(&cookie)).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=13).contains(&wait), "Retry-After {wait}");
    assert_eq!(limited.json::<serde_json::Value>().await.expect("json")["code"], "rate_limited");

    // Another session from the same address is not held back by the first one's limit ...
    let other = session_cookie(&app.sign_in_as("ann@example.org", PASSWORD, None).await).expect("cookie");
    assert_eq!(who_am_i(&app, Some(&other)).await.status(), StatusCode::OK);
    // ... but the address's limit holds whatever the cookie (none, or new ones).
    let mut answered = 9; // sign-up, 6 + 2 calls, the sign-in
    while who_am_i(&app, None).await.status() != StatusCode::TOO_MANY_REQUESTS {
        answered += 1;
        assert!(answered <= 20, "more than the address's 20 calls a minute were answered");
    }
    assert_eq!(answered, 20);

    let text = metrics(&app, Some("scrape-token")).await.text().await.expect("text");
    assert!(text.contains("moth_rate_limited_total{limit=\"session\"} 1"), "{text}");
    assert!(text.contains("moth_rate_limited_total{limit=\"address\"} 1"), "{text}");
    assert!(text.contains("moth_http_responses_total{code=\"429\"} 2"), "{text}");
}

#[tokio::test]
async fn metrics_need_their_token_and_show_bans_which_the_audit_log_records() {
    let app = spawn_app_with(|config| {
        config.ban_failures = 3;
        config.metrics_token = Some("scrape-token".into());
    })
    .await;
    assert_eq!(metrics(&app, None).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(metrics(&app, Some("scrape-tokeN")).await.status(), StatusCode::UNAUTHORIZED);
    app.signed_up("ann@example.org").await;
    for _ in 0..3 {
        let failed = app.sign_in_as("ann@example.org", "wrong password", None).await;
        assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    }
    let banned = app.sign_in_as("ann@example.org", PASSWORD, None).await;
    assert_eq!(banned.status(), StatusCode::TOO_MANY_REQUESTS);

    // An invented path makes no series of its own.
    let invented = app.http.post(app.url("/api/made_up_endpoint")).send().await.expect("sent");
    assert_eq!(invented.status(), StatusCode::NOT_FOUND);
    let answer = metrics(&app, Some("scrape-token")).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let text = answer.text().await.expect("text");
    assert!(text.contains("moth_request_duration_seconds_count{route=\"/api/sign_in\"} 4"), "{text}");
    assert!(text.contains("moth_request_duration_seconds_bucket{le=\"0.001\",route=\"/api/sign_in\"}"), "{text}");
    assert!(!text.contains("made_up"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("moth_db_pool_connections ")), "{text}");
    for line in
        ["moth_bans_total 1", "moth_credential_failures_total{endpoint=\"sign_in\"} 3", "moth_banned_refusals_total 1"]
    {
        assert!(text.lines().any(|l| l == line), "{line} missing from:\n{text}");
    }

    let mut db = app.db().await;
    let banned: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT detail, source_ip FROM audit_log WHERE event = 'address_banned'")
            .fetch_all(&mut db)
            .await
            .expect("audit");
    assert_eq!(banned.len(), 1, "one ban, one entry: {banned:?}");
    assert_eq!(banned[0].1.as_deref(), Some("127.0.0.1"));

    // Without a configured token, there is no /metrics at all.
    let closed = spawn_app_with(|_| {}).await;
    assert_eq!(metrics(&closed, Some("")).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_kind_of_audit_event_is_known_to_the_database_and_no_other() {
    let app = spawn_app_with(|_| {}).await;
    let mut db = app.db().await;
    let rows = sqlx::query("SELECT name FROM audit_events ORDER BY name").fetch_all(&mut db).await.expect("events");
    let known: Vec<String> = rows.iter().map(|r| r.get::<String, _>(0)).collect();
    let mut ours: Vec<&str> = Event::ALL.iter().map(|e| e.as_str()).collect();
    ours.sort_unstable();
    assert_eq!(known, ours, "the audit_events table and app::model::AuditEvent (which the audit page lists)");
    let unknown = sqlx::query(
        "INSERT INTO audit_log (id, event, outcome, detail, at) \
         VALUES ('00000000-0000-4000-8000-000000000001', 'made_up', 'success', '', 0)",
    )
    .execute(&mut db)
    .await;
    assert!(unknown.is_err(), "the database took an unknown kind of event");
}

/// A write that cannot get `SQLite`'s write lock within `busy_timeout` (held here by another
/// connection, as a long write or a flood of creates would hold it) answers `busy`, 503 with
/// `Retry-After`, not an internal error; nothing of it is stored, and once the lock is free the same
/// write goes through. `PostgreSQL` has no database-wide write lock: the test is for `SQLite`.
#[tokio::test]
async fn a_write_the_database_cannot_take_in_time_answers_busy_and_stores_nothing() {
    if std::env::var("MOTH_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        return;
    }
    let app = crate::helpers::spawn_app().await;
    let (owner, _) = app.owner("busy").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    let mut holder = app.db().await;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.expect("take the write lock");

    let form = input(&[("issue_id", &issue.id), ("body", "Written while locked"), ("internal", "false")]);
    let response = app.call("add_comment", &form, Some(&owner.cookie)).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key(reqwest::header::RETRY_AFTER), "{:?}", response.headers());
    let body = error_body(response).await;
    assert_eq!(body["code"], "busy", "{body}");
    assert_eq!(body["message"], "Moth is busy. Please try again in a moment.");

    sqlx::query("ROLLBACK").execute(&mut holder).await.expect("free the lock");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM comments WHERE body = 'Written while locked'")
        .fetch_one(&mut holder)
        .await
        .expect("count");
    assert_eq!(stored, 0, "the refused write stored nothing");
    let response = app.call("add_comment", &form, Some(&owner.cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// A client that gives up while its write waits for `SQLite`'s write lock cancels the request inside
/// sqlx's `BEGIN IMMEDIATE` (`SQLite` only: the lock is its own). Nothing of it is stored, and every
/// later write goes through: no connection is left inside its transaction. (`Db::begin_write`
/// begins in a task of its own, so the cancellation reaches the request, not the begin; the state a
/// cancelled begin could leave is made directly in `db::tests` and met by the pool's guard.)
#[tokio::test]
async fn a_write_cancelled_while_it_waits_for_the_lock_leaves_no_transaction_behind() {
    if std::env::var("MOTH_TEST_POSTGRES_URL").is_ok_and(|v| !v.is_empty()) {
        return;
    }
    let app = crate::helpers::spawn_app().await;
    let (owner, _) = app.owner("cancelled").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    let mut holder = app.db().await;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut holder).await.expect("take the write lock");

    let form = input(&[("issue_id", &issue.id), ("body", "Given up on"), ("internal", "false")]);
    let given_up = app
        .http
        .post(app.url("/api/add_comment"))
        .header(reqwest::header::COOKIE, &owner.cookie)
        .form(&form)
        .timeout(std::time::Duration::from_millis(800))
        .send()
        .await;
    assert!(given_up.is_err_and(|e| e.is_timeout()), "the client gives up while the write waits");
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    sqlx::query("ROLLBACK").execute(&mut holder).await.expect("free the lock");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM comments WHERE body = 'Given up on'")
        .fetch_one(&mut holder)
        .await
        .expect("count");
    assert_eq!(stored, 0, "the request was cancelled before it wrote");

    for n in 0..8 {
        let form = input(&[("issue_id", &issue.id), ("body", &format!("Comment {n}")), ("internal", "false")]);
        let response = app.call("add_comment", &form, Some(&owner.cookie)).await;
        assert_eq!(response.status(), StatusCode::OK, "write {n} after the cancelled one");
    }
}
