//! A3, A8, A9: failed sign-ins ban the address they come from (on every instance sharing the
//! database), never the account for everyone; only a trusted proxy may name the client; the failure
//! lines feed a real fail2ban (`fail2ban-regex`, Debian's `fail2ban`).

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{input, launch, spawn_app_with, test_config, TestApp, PASSWORD};

async fn sign_in_from(app: &TestApp, email: &str, password: &str, forwarded_for: Option<&str>) -> reqwest::Response {
    let mut request = app.http.post(app.url("/api/sign_in")).form(&input(&[("email", email), ("password", password)]));
    if let Some(address) = forwarded_for {
        request = request.header("x-forwarded-for", address);
    }
    request.send().await.expect("sign in")
}

#[tokio::test]
async fn ten_failures_ban_the_address_for_fifteen_minutes_even_with_the_right_password() {
    let app = spawn_app_with(|_| {}).await;
    app.signed_up("ann@example.org").await;
    for _ in 0..10 {
        assert_eq!(
            sign_in_from(&app, "ann@example.org", "wrong password", None).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let banned = sign_in_from(&app, "ann@example.org", PASSWORD, None).await;
    assert_eq!(banned.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = banned.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((850..=900).contains(&retry), "Retry-After {retry}");
    let body: serde_json::Value = banned.json().await.expect("json");
    assert_eq!(body["code"], "rate_limited");
    // An unknown account from the same address: banned alike (nothing to learn about accounts).
    let unknown = sign_in_from(&app, "nobody@example.org", "x", None).await;
    assert_eq!(unknown.status(), StatusCode::TOO_MANY_REQUESTS);

    app.clock.advance(Duration::from_secs(901));
    assert_eq!(sign_in_from(&app, "ann@example.org", PASSWORD, None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_client_cannot_choose_its_address_and_a_trusted_proxy_can_name_it() {
    // Without a trusted proxy, X-Forwarded-For is ignored: changing it does not escape the ban.
    let app = spawn_app_with(|_| {}).await;
    app.signed_up("ann@example.org").await;
    for n in 0..10 {
        let address = format!("203.0.113.{n}");
        sign_in_from(&app, "ann@example.org", "wrong password", Some(&address)).await;
    }
    let escaped = sign_in_from(&app, "ann@example.org", PASSWORD, Some("198.51.100.99")).await;
    assert_eq!(escaped.status(), StatusCode::TOO_MANY_REQUESTS);

    // Behind a trusted proxy (here: the loopback peer), the right-most untrusted hop is the client:
    // one client's ban is not another's, and the account is not locked for the other.
    let app = spawn_app_with(|config| config.trusted_proxies = vec!["127.0.0.1".parse().expect("ip")]).await;
    app.signed_up("bob@example.org").await;
    for _ in 0..10 {
        sign_in_from(&app, "bob@example.org", "wrong password", Some("1.2.3.4, 203.0.113.7")).await;
    }
    let attacker = sign_in_from(&app, "bob@example.org", PASSWORD, Some("203.0.113.7")).await;
    assert_eq!(attacker.status(), StatusCode::TOO_MANY_REQUESTS);
    let owner = sign_in_from(&app, "bob@example.org", PASSWORD, Some("198.51.100.20")).await;
    assert_eq!(owner.status(), StatusCode::OK, "the account's owner signs in from elsewhere");
}

#[tokio::test]
async fn a_ban_made_through_one_instance_holds_on_another_sharing_the_database() {
    let dir = tempfile::tempdir().expect("dir");
    let config = test_config(dir.path()).await;
    let (first, _running) = launch(config.clone(), std::future::pending()).await;
    let mut second_config = config;
    second_config.master_key_file = dir.path().join("second.key");
    let (second, _running) = launch(second_config, std::future::pending()).await;
    first.signed_up("ann@example.org").await;
    for _ in 0..10 {
        sign_in_from(&first, "ann@example.org", "wrong password", None).await;
    }
    let on_second = sign_in_from(&second, "ann@example.org", PASSWORD, None).await;
    assert_eq!(on_second.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn guessing_invitation_tokens_counts_toward_the_ban() {
    let app = spawn_app_with(|_| {}).await;
    for n in 0..10 {
        let token = format!("{n:0>43}");
        let guessed = app.call("invitation_info", &input(&[("token", &token)]), None).await;
        assert_eq!(guessed.status(), StatusCode::NOT_FOUND);
    }
    let banned = app.call("invitation_info", &input(&[("token", &"x".repeat(43))]), None).await;
    assert_eq!(banned.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_failure_lines_feed_a_real_fail2ban_and_a_typed_address_cannot_steer_it() {
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("auth.log");
    let log_path = log.clone();
    let app = spawn_app_with(move |config| config.auth_log_file = Some(log_path)).await;
    app.signed_up("ann@example.org").await;
    sign_in_from(&app, "ann@example.org", "wrong password", None).await;
    // An email address that is valid and carries an address of its own.
    sign_in_from(&app, "ip=1.2.3.4@example.org", "wrong password", None).await;
    let guessed = app.call("invitation_info", &input(&[("token", &"0".repeat(43))]), None).await;
    assert_eq!(guessed.status(), StatusCode::NOT_FOUND);
    assert_eq!(sign_in_from(&app, "ann@example.org", PASSWORD, None).await.status(), StatusCode::OK);

    let text = std::fs::read_to_string(&log).expect("auth log");
    assert_eq!(text.lines().count(), 3, "one line per failure, none for the success:\n{text}");
    let filter = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/fail2ban/filter.d/moth.conf");
    let output = std::process::Command::new("fail2ban-regex")
        .arg("-v")
        .arg(&log)
        .arg(&filter)
        .output()
        .expect("fail2ban-regex runs (Debian's fail2ban; scripts/test installs it)");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("Lines: 3 lines, 0 ignored, 3 matched, 0 missed"), "{report}");
    let hosts: Vec<&str> =
        report.lines().filter_map(|l| l.trim_start_matches(['|', ' ']).split_whitespace().next()).collect();
    assert_eq!(hosts.iter().filter(|h| **h == "127.0.0.1").count(), 3, "{report}");
    assert!(!hosts.contains(&"1.2.3.4"), "a typed address was read: {report}");
}

#[tokio::test]
async fn uploads_and_exports_are_rate_limited_per_address() {
    let app = spawn_app_with(|config| {
        config.upload_rate_per_minute = 3;
        config.export_rate_per_minute = 2;
    })
    .await;
    let (owner, _) = app.owner("limits").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await.id;
    for _ in 0..3 {
        let upload = app.upload(Some(&owner.cookie), &issue, "notes.txt", b"text".to_vec()).await;
        assert_ne!(upload.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let limited = app.upload(Some(&owner.cookie), &issue, "notes.txt", b"text".to_vec()).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=21).contains(&wait), "Retry-After {wait}");
    assert_eq!(limited.json::<serde_json::Value>().await.expect("json")["code"], "rate_limited");

    for expected in [StatusCode::OK, StatusCode::OK, StatusCode::TOO_MANY_REQUESTS] {
        assert_eq!(export_status(&app, &owner.cookie, &project).await, expected);
    }
}

async fn export_status(app: &TestApp, cookie: &str, project: &str) -> StatusCode {
    let url = app.url(&format!("/export/issues.csv?project={project}"));
    app.http.get(url).header("cookie", cookie).send().await.expect("export").status()
}

/// The `moth_device` cookie a response gives the browser, as `name=value`.
fn device_cookie(response: &reqwest::Response) -> Option<String> {
    crate::helpers::set_cookie_headers(response)
        .into_iter()
        .find(|c| c.starts_with("moth_device="))
        .and_then(|c| c.split(';').next().map(str::to_owned))
}

async fn sign_in_with_cookie(app: &TestApp, email: &str, password: &str, from: &str, cookie: &str) -> StatusCode {
    app.http
        .post(app.url("/api/sign_in"))
        .form(&input(&[("email", email), ("password", password)]))
        .header("x-forwarded-for", from)
        .header("cookie", cookie)
        .send()
        .await
        .expect("sign in")
        .status()
}

#[tokio::test]
async fn a_ban_lasts_its_full_time_from_the_failure_that_started_it() {
    let app = spawn_app_with(|config| {
        config.ban_failures = 3;
        config.ban_window_secs = 20;
        config.ban_secs = 120;
    })
    .await;
    app.signed_up("ann@example.org").await;
    for _ in 0..3 {
        sign_in_from(&app, "ann@example.org", "wrong password", None).await;
    }
    // The failures have left the window; the ban has not ended.
    app.clock.advance(Duration::from_secs(23));
    let banned = sign_in_from(&app, "ann@example.org", PASSWORD, None).await;
    assert_eq!(banned.status(), StatusCode::TOO_MANY_REQUESTS, "the ban ended with the window");
    let retry: u64 = banned.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((95..=97).contains(&retry), "Retry-After {retry}");
    app.clock.advance(Duration::from_secs(96));
    assert_eq!(sign_in_from(&app, "ann@example.org", PASSWORD, None).await.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(Duration::from_secs(2));
    assert_eq!(sign_in_from(&app, "ann@example.org", PASSWORD, None).await.status(), StatusCode::OK);
}

/// OWASP's device cookies: an attacker who fails at an account from many addresses reaches its hourly
/// ceiling, but the browser its owner signed in with before still gets in, and has a ceiling of its
/// own; a browser the account has never signed in from (or a made-up cookie) does not.
#[tokio::test]
async fn a_browser_that_signed_in_before_gets_through_the_account_ceiling() {
    let app = spawn_app_with(|config| {
        config.account_failures_per_hour = 4;
        config.trusted_proxies = vec!["127.0.0.1".parse().expect("address")];
    })
    .await;
    app.signed_up("ann@example.org").await;
    let owners = sign_in_from(&app, "ann@example.org", PASSWORD, Some("198.51.100.1")).await;
    assert_eq!(owners.status(), StatusCode::OK);
    let known = device_cookie(&owners).expect("a device cookie");
    let strangers = sign_in_from(&app, "nobody@example.org", "x", Some("198.51.100.2")).await;
    let stranger = device_cookie(&strangers).expect("a device cookie");

    for n in 0..4 {
        let from = format!("203.0.113.{n}");
        assert_eq!(
            sign_in_with_cookie(&app, "ann@example.org", "guess", &from, &stranger).await,
            StatusCode::UNAUTHORIZED
        );
    }
    // The ceiling holds for every browser but the owner's.
    assert_eq!(
        sign_in_with_cookie(&app, "ann@example.org", PASSWORD, "203.0.113.9", &stranger).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        sign_in_from(&app, "ann@example.org", PASSWORD, Some("198.51.100.3")).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let forged = "moth_device=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(
        sign_in_with_cookie(&app, "ann@example.org", PASSWORD, "198.51.100.4", forged).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(sign_in_with_cookie(&app, "ann@example.org", PASSWORD, "198.51.100.5", &known).await, StatusCode::OK);

    // The known browser's own failures meet a ceiling of their own (a stolen cookie is no master key).
    for _ in 0..4 {
        sign_in_with_cookie(&app, "ann@example.org", "typo", "198.51.100.6", &known).await;
    }
    assert_eq!(
        sign_in_with_cookie(&app, "ann@example.org", PASSWORD, "198.51.100.7", &known).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// A client that keeps no cookie (a script) gets a new browser each sign-in: the account keeps only
/// its most recent ones, so the table does not grow with every sign-in.
#[tokio::test]
async fn an_account_remembers_a_bounded_number_of_browsers() {
    let app = spawn_app_with(|_| {}).await;
    app.signed_up("ann@example.org").await;
    for _ in 0..25 {
        assert_eq!(sign_in_from(&app, "ann@example.org", PASSWORD, None).await.status(), StatusCode::OK);
    }
    let mut db = app.db().await;
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM known_devices").fetch_one(&mut db).await.expect("count");
    assert_eq!(kept, server::db::bans::DEVICES_PER_ACCOUNT);
}
