//! Sign-up, sign-in and teams: A1, A2, A3, R3 (and the database repeating the rules).

use std::time::{Duration, Instant};

use argon2::PasswordHash;
use reqwest::StatusCode;
use sqlx::Row;

use crate::helpers::{error_body, input, session_cookie, spawn_app, spawn_app_with, PASSWORD};

#[tokio::test]
async fn sign_up_creates_the_user_and_a_team_they_own() {
    let app = spawn_app().await;
    let response = app.sign_up_as("Ann@Example.org", "Ann's team").await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = session_cookie(&response).expect("signed in after sign-up");
    let me: serde_json::Value = response.json().await.expect("json");
    assert_eq!(me["user"]["email"], "ann@example.org");
    assert_eq!(me["team"]["name"], "Ann's team");
    assert_eq!(me["team"]["role"], "OWNER");

    let teams: serde_json::Value = app.call("my_teams", &[], Some(&cookie)).await.json().await.expect("json");
    assert_eq!(teams.as_array().map(Vec::len), Some(1));
    assert_eq!(teams[0]["role"], "OWNER");
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_with_at_least_the_owasp_parameters() {
    let app = spawn_app().await;
    app.signed_up("ann@example.org").await;
    let mut db = app.db().await;
    let row = sqlx::query("SELECT password_hash FROM users WHERE email = $1")
        .bind("ann@example.org")
        .fetch_one(&mut db)
        .await
        .expect("user row");
    let phc: String = row.get(0);
    let hash = PasswordHash::new(&phc).expect("a PHC string");
    assert_eq!(hash.algorithm.as_str(), "argon2id");
    let param = |name: &str| hash.params.get_decimal(name).expect(name);
    assert!(param("m") >= 19_456, "memory {phc}");
    assert!(param("t") >= 2, "iterations {phc}");
    assert_eq!(param("p"), 1, "parallelism {phc}");
    assert!(!phc.contains(PASSWORD));
}

#[tokio::test]
async fn passwords_of_8_to_128_characters_are_accepted_exactly_as_typed() {
    let app = spawn_app().await;
    let passwords = [
        "Xq7!vb2k".to_owned(),                                                        // 8
        " leading and trailing spaces are part of it, with ünïcödé too  ".to_owned(), // 64
        "ü".repeat(128),                                                              // 128 characters
    ];
    for (i, password) in passwords.iter().enumerate() {
        let email = format!("user{i}@example.org");
        let form = input(&[("email", &email), ("display_name", "U"), ("password", password), ("team_name", "T")]);
        assert_eq!(app.call("sign_up", &form, None).await.status(), StatusCode::OK, "{password:?}");
        assert_eq!(app.sign_in_as(&email, password, None).await.status(), StatusCode::OK, "{password:?}");
        let altered = if password.trim() == password {
            let mut changed = password.clone();
            changed.pop();
            changed.push('#');
            changed
        } else {
            password.trim().to_owned()
        };
        assert_eq!(app.sign_in_as(&email, &altered, None).await.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn short_long_and_common_passwords_are_refused_on_the_password_field() {
    let app = spawn_app().await;
    for password in ["Xq7!vb2".to_owned(), "ü".repeat(129), "password".into(), "Password123".into(), "iloveyou".into()]
    {
        let form = input(&[
            ("email", "ann@example.org"),
            ("display_name", "Ann"),
            ("password", &password),
            ("team_name", "T"),
        ]);
        let response = app.call("sign_up", &form, None).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{password:?}");
        let body = error_body(response).await;
        assert_eq!(body["code"], "invalid_input");
        assert_eq!(body["fields"][0]["field"], "password", "{body}");
    }
    assert_eq!(app.sign_in_as("ann@example.org", "password", None).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_server_refuses_what_the_browser_would_refuse_with_field_errors() {
    let app = spawn_app().await;
    let long = "x".repeat(101);
    let cases: [(&str, &str, &str, &str); 6] = [
        ("not-an-email", "Ann", "Team", "email"),
        ("ann@example.org", "", "Team", "display_name"),
        ("ann@example.org", "   ", "Team", "display_name"),
        ("ann@example.org", "Ann", &long, "team_name"),
        ("ann@example.org", "Ann\u{0007}", "Team", "display_name"),
        ("ann@example.org", "Ann", "", "team_name"),
    ];
    for (email, name, team, field) in cases {
        let form = input(&[("email", email), ("display_name", name), ("password", PASSWORD), ("team_name", team)]);
        let response = app.call("sign_up", &form, None).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{email} {name:?} {team:?}");
        let body = error_body(response).await;
        let fields: Vec<&str> =
            body["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
        assert_eq!(fields, vec![field], "{body}");
        // The app's shared rules give the same verdict the browser shows.
        let local = app::model::parse(app::model::SignUpInput {
            email: email.into(),
            display_name: name.into(),
            password: PASSWORD.into(),
            team_name: team.into(),
        });
        assert_eq!(local.expect_err("browser refuses too").fields[0].field, field);
    }
}

#[tokio::test]
async fn an_email_can_hold_only_one_account_whatever_its_case() {
    let app = spawn_app().await;
    app.signed_up("ann@example.org").await;
    let response = app.sign_up_as("ANN@example.org", "Other").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(response).await;
    assert_eq!(body["fields"][0]["field"], "email");
}

#[tokio::test]
async fn the_database_repeats_the_rules_as_constraints() {
    let app = spawn_app().await;
    let mut db = app.db().await;
    let bad_users = [
        ("00000000-0000-0000-0000-000000000001", "UPPER@example.org", "Ann"),
        ("00000000-0000-0000-0000-000000000002", "ann@example.org", ""),
        ("short-id", "bob@example.org", "Bob"),
    ];
    for (id, email, name) in bad_users {
        let inserted = sqlx::query(
            "INSERT INTO users (id, email, display_name, password_hash, created_at) VALUES ($1, $2, $3, $4, 0)",
        )
        .bind(id)
        .bind(email)
        .bind(name)
        .bind("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g")
        .execute(&mut db)
        .await;
        assert!(inserted.is_err(), "database accepted {id} {email} {name:?}");
    }
    let bad_role =
        sqlx::query("INSERT INTO memberships (team_id, user_id, role, joined_at) VALUES ($1, $2, 'ROOT', 0)")
            .bind("00000000-0000-0000-0000-00000000000a")
            .bind("00000000-0000-0000-0000-00000000000b")
            .execute(&mut db)
            .await;
    assert!(bad_role.is_err());
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer_in_similar_time() {
    // Timing needs many failures from one address: no ban here (bans.rs tests them).
    let app = spawn_app_with(|config| {
        config.ban_failures = i64::MAX;
        config.account_failures_per_hour = i64::MAX;
    })
    .await;
    app.signed_up("ann@example.org").await;

    let wrong = app.sign_in_as("ann@example.org", "not the password", None).await;
    let unknown = app.sign_in_as("nobody@example.org", "not the password", None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), wrong.status());
    assert!(session_cookie(&wrong).is_none() && session_cookie(&unknown).is_none());
    assert_eq!(wrong.text().await.expect("body"), unknown.text().await.expect("body"));

    // A3 by measurement: both paths run one argon2 verification (without the dummy hash the unknown
    // email would answer in a small fraction of the time). 200 tries each, interleaved so that any
    // drift of the machine's load falls on both alike; their medians differ by less than 10%.
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        known.push(sign_in_time(&app, "ann@example.org").await);
        unknown.push(sign_in_time(&app, "nobody@example.org").await);
    }
    let (known, unknown) = (median(known), median(unknown));
    let difference = (unknown.as_secs_f64() - known.as_secs_f64()).abs() / known.as_secs_f64();
    println!(
        "A3: median {known:?} for a wrong password, {unknown:?} for an unknown email ({:.1}%)",
        difference * 100.0
    );
    assert!(difference < 0.10, "unknown {unknown:?} vs wrong password {known:?}");
}

async fn sign_in_time(app: &crate::helpers::TestApp, email: &str) -> Duration {
    let start = Instant::now();
    let answer = app.sign_in_as(email, "not the password", None).await;
    let elapsed = start.elapsed();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    elapsed
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::test]
async fn switching_team_works_only_for_teams_of_ones_own() {
    let app = spawn_app().await;
    let ann = app.signed_up("ann@example.org").await;
    let bob = app.signed_up("bob@example.org").await;
    let teams = |cookie: String| {
        let app = &app;
        async move {
            let v: serde_json::Value = app.call("my_teams", &[], Some(&cookie)).await.json().await.expect("json");
            v.as_array().expect("list").iter().map(|t| t["id"].as_str().expect("id").to_owned()).collect::<Vec<_>>()
        }
    };
    let ann_team = teams(ann.clone()).await.remove(0);
    let bob_team = teams(bob.clone()).await.remove(0);

    // Ann may not switch to Bob's team, and the answer is the same as for a team that does not exist.
    let foreign = app.call("switch_team", &input(&[("team_id", &bob_team)]), Some(&ann)).await;
    let missing = app.call("switch_team", &input(&[("team_id", &uuid::Uuid::new_v4().to_string())]), Some(&ann)).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(foreign.text().await.expect("body"), missing.text().await.expect("body"));

    // Once Ann is a member of Bob's team (as an invitation will make her), she can switch to it.
    let mut db = app.db().await;
    let ann_id: String = sqlx::query("SELECT id FROM users WHERE email = 'ann@example.org'")
        .fetch_one(&mut db)
        .await
        .expect("ann")
        .get(0);
    sqlx::query("INSERT INTO memberships (team_id, user_id, role, joined_at) VALUES ($1, $2, 'NORMAL', 1)")
        .bind(&bob_team)
        .bind(&ann_id)
        .execute(&mut db)
        .await
        .expect("membership");
    let switched = app.call("switch_team", &input(&[("team_id", &bob_team)]), Some(&ann)).await;
    assert_eq!(switched.status(), StatusCode::OK);
    let me: serde_json::Value = app.call("who_am_i", &[], Some(&ann)).await.json().await.expect("json");
    assert_eq!(me["team"]["id"], bob_team.as_str());
    assert_eq!(me["team"]["role"], "NORMAL");
    assert_eq!(teams(ann.clone()).await.len(), 2);

    // And back.
    let back = app.call("switch_team", &input(&[("team_id", &ann_team)]), Some(&ann)).await;
    assert_eq!(back.status(), StatusCode::OK);
}

#[tokio::test]
async fn identity_fields_smuggled_into_requests_are_ignored() {
    let app = spawn_app().await;
    let mut form =
        input(&[("email", "ann@example.org"), ("display_name", "Ann"), ("password", PASSWORD), ("team_name", "T")]);
    form.extend(input(&[("role", "GUEST"), ("user_id", "00000000-0000-0000-0000-000000000001")]));
    form.push(("team_id".into(), "00000000-0000-0000-0000-000000000002".into()));
    let response = app.call("sign_up", &form, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let me: serde_json::Value = response.json().await.expect("json");
    assert_eq!(me["team"]["role"], "OWNER");
    assert_ne!(me["user"]["id"], "00000000-0000-0000-0000-000000000001");
    assert_ne!(me["team"]["id"], "00000000-0000-0000-0000-000000000002");
}

/// The peak resident memory of this process (the test and the server it runs), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_failed_sign_ins_hashes_at_most_one_password_per_core() {
    // The hashing pool is what is measured, so the flood must reach it: no ban here.
    let app = std::sync::Arc::new(
        spawn_app_with(|config| {
            config.ban_failures = i64::MAX;
            config.account_failures_per_hour = i64::MAX;
        })
        .await,
    );
    app.signed_up("ann@example.org").await;
    let before = peak_rss_kib();
    let flood = (0..64).map(|n| {
        let app = app.clone();
        tokio::spawn(async move {
            let email = if n % 2 == 0 { "ann@example.org".to_owned() } else { format!("nobody{n}@example.org") };
            let response = app.sign_in_as(&email, "wrong password, wrong password", None).await;
            let status = response.status();
            let retry_after = response.headers().get("retry-after").is_some();
            let body: serde_json::Value = response.json().await.expect("json");
            (status, retry_after, body["code"].as_str().unwrap_or_default().to_owned())
        })
    });
    let mut busy = 0;
    for answer in flood {
        let (status, retry_after, code) = answer.await.expect("request task");
        match (status, code.as_str()) {
            (StatusCode::UNAUTHORIZED, "invalid_credentials") => {}
            (StatusCode::SERVICE_UNAVAILABLE, "busy") => {
                assert!(retry_after, "a busy answer says when to retry");
                busy += 1;
            }
            other => panic!("a failed sign-in answered {other:?}"),
        }
    }
    let peak = server::password::peak_in_flight();
    let grown = peak_rss_kib().saturating_sub(before);
    println!("64 concurrent failed sign-ins: {busy} busy, peak {peak} hashes at once, peak RSS grew {grown} KiB");
    assert!(peak >= 1 && peak <= server::password::threads(), "{peak} hashes ran at once");
    // Each hashing thread reuses one 19 MiB buffer, allocated by the sign-up above: a flood allocates
    // next to nothing (a buffer per hash once grew this by hundreds of MiB).
    assert!(grown < 64 * 1024, "the flood grew the peak RSS by {grown} KiB");
}
