//! Sessions: A4 (new id at sign-in), A5 (sign-out deletes), A6 (timeouts, with the test clock),
//! A7 (cookie attributes, over HTTP and HTTPS).

use std::time::Duration;

use reqwest::StatusCode;
use sqlx::Row;

use crate::helpers::{session_cookie, set_cookie_headers, spawn_app, spawn_app_with, PASSWORD};

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_the_old_one_stops_working() {
    let app = spawn_app().await;
    let first = app.signed_up("ann@example.org").await;
    let response = app.sign_in_as("ann@example.org", PASSWORD, Some(&first)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = session_cookie(&response).expect("sign-in sets a cookie");
    assert_ne!(first, second);
    assert_eq!(app.whoami_email(&second).await.as_deref(), Some("ann@example.org"));
    assert_eq!(app.whoami_email(&first).await, None, "the pre-sign-in id must be dead");
}

#[tokio::test]
async fn a_session_id_the_server_did_not_issue_is_not_adopted() {
    let app = spawn_app().await;
    app.signed_up("ann@example.org").await;
    let planted = "moth_session=AAAAAAAAAAAAAAAAAAAAAA";
    let response = app.sign_in_as("ann@example.org", PASSWORD, Some(planted)).await;
    let issued = session_cookie(&response).expect("cookie");
    assert_ne!(issued, planted);
    assert_eq!(app.whoami_email(planted).await, None);
}

#[tokio::test]
async fn after_sign_out_the_old_cookie_is_refused_and_its_record_is_gone() {
    let app = spawn_app().await;
    let cookie = app.signed_up("ann@example.org").await;
    let out = app.call("sign_out", &[], Some(&cookie)).await;
    assert_eq!(out.status(), StatusCode::OK);
    assert_eq!(app.whoami_email(&cookie).await, None);
    let refused = app.call("my_teams", &[], Some(&cookie)).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let mut db = app.db().await;
    let left: i64 = sqlx::query("SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL")
        .fetch_one(&mut db)
        .await
        .expect("count")
        .get(0);
    assert_eq!(left, 0);
}

#[tokio::test]
async fn an_idle_session_ends_after_thirty_minutes() {
    let app = spawn_app().await;
    let cookie = app.signed_up("ann@example.org").await;
    app.clock.advance(29 * MINUTE);
    assert!(app.whoami_email(&cookie).await.is_some(), "29 idle minutes are fine");
    app.clock.advance(29 * MINUTE);
    assert!(app.whoami_email(&cookie).await.is_some(), "activity reset the idle timer");
    app.clock.advance(31 * MINUTE);
    assert_eq!(app.whoami_email(&cookie).await, None, "31 idle minutes end the session");
    app.clock.advance(MINUTE);
    assert_eq!(app.whoami_email(&cookie).await, None, "and it stays ended");
}

#[tokio::test]
async fn a_busy_session_still_ends_twelve_hours_after_sign_in() {
    let app = spawn_app().await;
    let cookie = app.signed_up("ann@example.org").await;
    for _ in 0..(12 * 60 / 20 - 1) {
        app.clock.advance(20 * MINUTE);
        assert!(app.whoami_email(&cookie).await.is_some());
    }
    app.clock.advance(20 * MINUTE);
    assert_eq!(app.whoami_email(&cookie).await, None, "12 hours after sign-in");
}

#[tokio::test]
async fn session_timeouts_are_configurable() {
    let app = spawn_app_with(|c| {
        c.session_idle_timeout_secs = 5 * 60;
        c.session_absolute_timeout_secs = 60 * 60;
    })
    .await;
    let cookie = app.signed_up("ann@example.org").await;
    app.clock.advance(4 * MINUTE);
    assert!(app.whoami_email(&cookie).await.is_some());
    app.clock.advance(6 * MINUTE);
    assert_eq!(app.whoami_email(&cookie).await, None);

    let cookie = app.sign_in_as("ann@example.org", PASSWORD, None).await;
    let cookie = session_cookie(&cookie).expect("cookie");
    for _ in 0..14 {
        app.clock.advance(4 * MINUTE);
        assert!(app.whoami_email(&cookie).await.is_some());
    }
    // Four idle minutes are within the idle timeout, but the hour since sign-in is up.
    app.clock.advance(4 * MINUTE);
    assert_eq!(app.whoami_email(&cookie).await, None, "the absolute lifetime of one hour has passed");
}

#[tokio::test]
async fn the_cookie_is_http_only_lax_host_wide_and_has_no_domain() {
    let app = spawn_app().await;
    let response = app.sign_up_as("ann@example.org", "T").await;
    let cookie = set_cookie_headers(&response).into_iter().find(|c| c.starts_with("moth_session=")).expect("cookie");
    let attributes: Vec<String> = cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
    assert!(attributes.contains(&"httponly".into()), "{cookie}");
    assert!(attributes.contains(&"samesite=lax".into()), "{cookie}");
    assert!(attributes.contains(&"path=/".into()), "{cookie}");
    assert!(!attributes.iter().any(|a| a.starts_with("domain")), "{cookie}");
    assert!(!attributes.contains(&"secure".into()), "plain HTTP: not Secure");
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_and_host_prefixed() {
    let app = spawn_app_with(|c| c.public_url = Some("https://moth.example.com".into())).await;
    // The test talks plain HTTP to the listener, as a TLS-terminating proxy would.
    let form = crate::helpers::input(&[
        ("email", "ann@example.org"),
        ("display_name", "Ann"),
        ("password", PASSWORD),
        ("team_name", "T"),
    ]);
    let response = app
        .http
        .post(app.url("/api/sign_up"))
        .header("origin", "https://moth.example.com")
        .form(&form)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = set_cookie_headers(&response).into_iter().next().expect("cookie");
    assert!(cookie.starts_with("__Host-moth_session="), "{cookie}");
    let attributes: Vec<String> = cookie.split(';').skip(1).map(|a| a.trim().to_ascii_lowercase()).collect();
    for required in ["secure", "httponly", "samesite=lax", "path=/"] {
        assert!(attributes.contains(&required.to_owned()), "{required} missing in {cookie}");
    }
    assert!(!attributes.iter().any(|a| a.starts_with("domain")), "{cookie}");
}

/// The stored session records, to see whether a request wrote one.
async fn session_rows(app: &crate::helpers::TestApp) -> Vec<(String, String, i64)> {
    let mut db = app.db().await;
    sqlx::query_as("SELECT id, data, expires_at FROM sessions ORDER BY id").fetch_all(&mut db).await.expect("sessions")
}

#[tokio::test]
async fn reading_a_session_writes_it_at_most_once_a_minute() {
    let app = spawn_app().await;
    let cookie = app.signed_up("ann@example.org").await;
    app.clock.advance(2 * MINUTE);
    assert!(app.whoami_email(&cookie).await.is_some());
    let before = session_rows(&app).await;
    for _ in 0..20 {
        app.clock.advance(Duration::from_secs(2));
        assert!(app.whoami_email(&cookie).await.is_some());
    }
    assert_eq!(session_rows(&app).await, before, "40 seconds of reads wrote the session");
    app.clock.advance(MINUTE);
    assert!(app.whoami_email(&cookie).await.is_some());
    assert_ne!(session_rows(&app).await, before, "activity a minute later is recorded");
}

/// A long write holding `SQLite`'s lock (here a transaction of the test's own) past the server's
/// `busy_timeout` makes session writes fail. Recording activity is not worth the answer of a request
/// whose work is done; a session that must be stored (here a team switch) fails with Moth's error
/// shape, never a bare 500. (`PostgreSQL` has no such lock: a row write there waits for its row.)
#[tokio::test]
async fn a_session_write_the_database_cannot_take_never_leaves_a_bare_error() {
    let app = spawn_app().await;
    if !app.database_url.starts_with("sqlite:") {
        return;
    }
    let (ann, _) = app.owner("ann").await;
    let (_, bob_team) = app.owner("bob").await;
    let mut writer = app.db().await;
    sqlx::query("INSERT INTO memberships (team_id, user_id, role, joined_at) VALUES ($1, $2, 'NORMAL', 1)")
        .bind(&bob_team)
        .bind(&ann.user_id)
        .execute(&mut writer)
        .await
        .expect("Ann joins Bob's team");
    let cookie = ann.cookie;
    app.clock.advance(2 * MINUTE);

    sqlx::Executor::execute(&mut writer, "BEGIN IMMEDIATE").await.expect("take the write lock");
    assert_eq!(
        app.whoami_email(&cookie).await.as_deref(),
        Some(ann.email.as_str()),
        "activity that cannot be written must not cost the answer"
    );
    let switched =
        app.call("switch_team", &crate::helpers::input(&[("team_id", bob_team.as_str())]), Some(&cookie)).await;
    // The session's store was busy: the client is told to try again.
    assert_eq!(switched.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(switched.headers().contains_key(reqwest::header::RETRY_AFTER));
    let body = crate::helpers::error_body(switched).await;
    assert_eq!(body["code"], "unavailable", "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("session")), "{body}");
    sqlx::Executor::execute(&mut writer, "ROLLBACK").await.expect("release the lock");

    // The activity was not stored, so it is due again, and stored now.
    assert!(app.whoami_email(&cookie).await.is_some());
    let stored: String = sqlx::query("SELECT data FROM sessions WHERE user_id = $1")
        .bind(&ann.user_id)
        .fetch_one(&mut writer)
        .await
        .expect("the session")
        .get(0);
    let stored: serde_json::Value = serde_json::from_str(&stored).expect("json");
    let signed_in_at = stored["auth"]["signed_in_at"].as_i64().expect("signed_in_at");
    let last_seen_at = stored["auth"]["last_seen_at"].as_i64().expect("last_seen_at");
    assert!(last_seen_at - signed_in_at >= 2 * 60_000, "{stored}");
}
