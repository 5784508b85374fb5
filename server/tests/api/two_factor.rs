//! Two-factor sign-in (TOTP, RFC 6238) against the running server: turned on only with a code from
//! the new key; then a right password signs nobody in until the second factor is right, under a new
//! session id; a code is never accepted twice, a recovery code once; wrong codes count toward the
//! address's ban; turning it off needs a current code. Codes are computed here from the shown key.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{input, session_cookie, spawn_app, spawn_app_with, totp_code, TestApp, PASSWORD};

async fn second_factor(app: &TestApp, cookie: &str, code: &str) -> reqwest::Response {
    app.call("second_factor", &input(&[("code", code)]), Some(cookie)).await
}

/// Signs in with the password: the answer asks for the second factor and carries the pending session.
async fn password_step(app: &TestApp, email: &str) -> String {
    let answer = app.sign_in_as(email, PASSWORD, None).await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let pending = session_cookie(&answer).expect("a pending session");
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body["code"], "second_factor_required", "{body}");
    pending
}

async fn who(app: &TestApp, cookie: &str) -> serde_json::Value {
    app.call("who_am_i", &[], Some(cookie)).await.json().await.expect("json")
}

#[tokio::test]
async fn a_code_from_the_new_key_turns_it_on_and_sign_in_then_asks_for_one() {
    let app = spawn_app().await;
    let cookie = app.signed_up("ann@example.org").await;
    let setup: serde_json::Value = app.call("start_two_factor", &[], Some(&cookie)).await.json().await.expect("json");
    assert!(setup["uri"].as_str().expect("uri").starts_with("otpauth://totp/Moth:ann%40example.org?"), "{setup}");
    assert!(setup["qr_svg"].as_str().expect("svg").contains("<svg"));
    let secret = setup["secret"].as_str().expect("secret").to_owned();
    let right = totp_code(&secret, app.unix_secs());
    let wrong = format!("{:06}", (right.parse::<u32>().expect("digits") + 1) % 1_000_000);
    let refused =
        app.call("enable_two_factor", &input(&[("code", &wrong), ("password", PASSWORD)]), Some(&cookie)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Re-authentication: the session alone, or with a wrong password, turns nothing on.
    for password in ["", "not the password at all"] {
        let refused =
            app.call("enable_two_factor", &input(&[("code", &right), ("password", password)]), Some(&cookie)).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "password {password:?}");
        let body = crate::helpers::error_body(refused).await;
        assert_eq!(body["fields"][0]["field"], "password", "{body}");
    }
    let status: serde_json::Value = app.call("two_factor_status", &[], Some(&cookie)).await.json().await.expect("json");
    assert_eq!(status["enabled"], false, "not in force before a right code");
    let codes: serde_json::Value = app
        .call("enable_two_factor", &input(&[("code", &right), ("password", PASSWORD)]), Some(&cookie))
        .await
        .json()
        .await
        .expect("json");
    let recovery: Vec<String> =
        codes["codes"].as_array().expect("codes").iter().map(|c| c.as_str().expect("code").to_owned()).collect();
    assert_eq!(recovery.len(), 10);

    // The password alone signs nobody in.
    let pending = password_step(&app, "ann@example.org").await;
    assert!(who(&app, &pending).await.is_null());
    assert_eq!(app.call("list_projects", &[], Some(&pending)).await.status(), StatusCode::UNAUTHORIZED);
    // The code that turned it on was used: not again.
    assert_eq!(second_factor(&app, &pending, &right).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.clock.advance(Duration::from_secs(30));
    let fresh = totp_code(&secret, app.unix_secs());
    let signed_in = second_factor(&app, &pending, &fresh).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let session = session_cookie(&signed_in).expect("a new session id");
    assert_ne!(session, pending, "the session id changes again after the second factor");
    assert_eq!(who(&app, &session).await["user"]["email"], "ann@example.org");

    // Replay: the same code in another sign-in is refused.
    let again = password_step(&app, "ann@example.org").await;
    assert_eq!(second_factor(&app, &again, &fresh).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A recovery code works once.
    assert_eq!(second_factor(&app, &again, &recovery[0]).await.status(), StatusCode::OK);
    let third = password_step(&app, "ann@example.org").await;
    assert_eq!(second_factor(&app, &third, &recovery[0]).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(second_factor(&app, &third, &recovery[1].to_uppercase()).await.status(), StatusCode::OK);

    let log: serde_json::Value = app.call("audit_log", &[], Some(&session)).await.json().await.expect("json");
    let events: Vec<&str> =
        log["entries"].as_array().expect("log").iter().filter_map(|e| e["event"].as_str()).collect();
    for expected in ["two_factor_enabled", "recovery_code_used", "signed_in"] {
        assert!(events.contains(&expected), "{expected} missing from {events:?}");
    }
}

#[tokio::test]
async fn wrong_second_factors_ban_the_address_and_a_late_one_finds_no_sign_in() {
    let app = spawn_app_with(|config| config.ban_failures = 3).await;
    let cookie = app.signed_up("bob@example.org").await;
    let (secret, _) = app.enable_two_factor(&cookie).await;
    app.clock.advance(Duration::from_secs(30));
    let pending = password_step(&app, "bob@example.org").await;
    for wrong in ["000000", "111111", "222222"] {
        assert_ne!(second_factor(&app, &pending, wrong).await.status(), StatusCode::OK);
    }
    let banned = second_factor(&app, &pending, &totp_code(&secret, app.unix_secs())).await;
    assert_eq!(banned.status(), StatusCode::TOO_MANY_REQUESTS);

    // Guesses spread over many addresses meet the account's ceiling (here 3 an hour).
    let spread = spawn_app_with(|config| {
        config.account_failures_per_hour = 3;
        config.trusted_proxies = vec!["127.0.0.1".parse().expect("address")];
    })
    .await;
    let cookie = spread.signed_up("eve@example.org").await;
    let (secret, _) = spread.enable_two_factor(&cookie).await;
    spread.clock.advance(Duration::from_secs(30));
    let pending = password_step(&spread, "eve@example.org").await;
    for (n, wrong) in ["000000", "111111", "222222"].into_iter().enumerate() {
        let guess = spread
            .http
            .post(spread.url("/api/second_factor"))
            .header("cookie", &pending)
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .form(&input(&[("code", wrong)]))
            .send()
            .await
            .expect("guess");
        assert_ne!(guess.status(), StatusCode::OK);
    }
    let right = spread
        .http
        .post(spread.url("/api/second_factor"))
        .header("cookie", &pending)
        .header("x-forwarded-for", "198.51.100.9")
        .form(&input(&[("code", &totp_code(&secret, spread.unix_secs()))]))
        .send()
        .await
        .expect("right code");
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS, "the account's ceiling did not hold");

    // After five minutes the pending sign-in is gone.
    let other = spawn_app().await;
    let cookie = other.signed_up("cy@example.org").await;
    let (secret, _) = other.enable_two_factor(&cookie).await;
    let pending = password_step(&other, "cy@example.org").await;
    other.clock.advance(Duration::from_secs(6 * 60));
    let late = second_factor(&other, &pending, &totp_code(&secret, other.unix_secs())).await;
    assert_eq!(late.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn turning_it_off_needs_a_current_code_and_then_the_password_is_enough() {
    let app = spawn_app().await;
    let cookie = app.signed_up("dee@example.org").await;
    let (secret, _) = app.enable_two_factor(&cookie).await;
    let refused = app.call("disable_two_factor", &input(&[("code", "123456")]), Some(&cookie)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.clock.advance(Duration::from_secs(30));
    let code = totp_code(&secret, app.unix_secs());
    assert_eq!(
        app.call("disable_two_factor", &input(&[("code", &code)]), Some(&cookie)).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.sign_in_as("dee@example.org", PASSWORD, None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_team_that_requires_it_admits_members_only_once_they_have_set_it_up() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("strict").await;
    let normal = app.new_member(&owner.cookie, "NORMAL").await;
    let require = |on: &str| input(&[("required", on)]);
    let first = app.call("set_two_factor_requirement", &require("true"), Some(&owner.cookie)).await;
    assert_eq!(first.status(), StatusCode::CONFLICT, "the owner must have it first");
    app.enable_two_factor(&owner.cookie).await;
    let required = app.call("set_two_factor_requirement", &require("true"), Some(&owner.cookie)).await;
    assert_eq!(required.status(), StatusCode::OK);
    let refused = app.call("set_two_factor_requirement", &require("false"), Some(&normal.cookie)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // The member without it can do nothing but set it up (and see who they are and their teams).
    let blocked = app.call("list_projects", &[], Some(&normal.cookie)).await;
    assert_eq!(blocked.status(), StatusCode::FORBIDDEN);
    assert_eq!(blocked.json::<serde_json::Value>().await.expect("json")["code"], "two_factor_required");
    let me = who(&app, &normal.cookie).await;
    assert_eq!(me["two_factor_setup_required"], true, "{me}");
    assert_eq!(app.call("my_teams", &[], Some(&normal.cookie)).await.status(), StatusCode::OK);
    app.enable_two_factor(&normal.cookie).await;
    assert_eq!(app.call("list_projects", &[], Some(&normal.cookie)).await.status(), StatusCode::OK);
    assert_eq!(who(&app, &normal.cookie).await["two_factor_setup_required"], false);

    let log: serde_json::Value = app
        .call("audit_log", &input(&[("event", "two_factor_requirement_changed")]), Some(&owner.cookie))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(log["entries"].as_array().map(Vec::len), Some(1));
}
