//! Sizing by the machine, proven on the `moth` binary: pools follow the cores the settings name, and
//! password hashing holds one 19 MiB buffer per thread during a flood of sign-ins, however many
//! threads there are, and gives them back to the system after a quiet period.

use std::time::Duration;

use crate::helpers::{fresh_postgres_database, spawn_binary, TestApp};

const MIB: u64 = 1024 * 1024;
/// What one hashing buffer takes (argon2id, m = 19456 KiB).
const BUFFER: u64 = 19 * MIB;

/// `moth serve` with these settings and a metrics token, on the test's database (a new `PostgreSQL`
/// database when `MOTH_TEST_POSTGRES_URL` names a server, else `SQLite` in `dir`).
async fn moth(dir: &std::path::Path, settings: &[(&str, &str)]) -> (std::process::Child, String, bool) {
    let postgres = match std::env::var("MOTH_TEST_POSTGRES_URL") {
        Ok(server) if !server.is_empty() => Some(fresh_postgres_database(&server).await),
        _ => None,
    };
    let mut env = vec![("MOTH_METRICS_TOKEN", "scrape")];
    if let Some(url) = &postgres {
        env.push(("DATABASE_URL", url.as_str()));
    }
    env.extend_from_slice(settings);
    let (child, address) = spawn_binary(dir, &env).await;
    (child, address, postgres.is_some())
}

/// The value of the gauge `name` at a scrape of `/metrics`.
async fn gauge(address: &str, name: &str) -> i64 {
    let text = reqwest::Client::new()
        .get(format!("{address}/metrics"))
        .bearer_auth("scrape")
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let line = text.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap_or_else(|| panic!("no {name}"));
    line.split_whitespace().nth(1).expect("value").parse().expect("a whole number")
}

/// The process's anonymous resident memory (heap, stacks, buffers), in bytes.
fn resident_anonymous(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let line = status.lines().find(|l| l.starts_with("RssAnon:")).expect("RssAnon");
    line.split_whitespace().nth(1).expect("kB").parse::<u64>().expect("number") * 1024
}

fn stop(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn pools_are_sized_from_the_cores_the_settings_name_or_from_their_own_settings() {
    let dir = tempfile::tempdir().expect("dir");
    // As on a 16-core machine.
    let (child, address, postgres) = moth(dir.path(), &[("MOTH_PARALLELISM", "16")]).await;
    assert_eq!(gauge(&address, "moth_db_pool_max_connections").await, if postgres { 32 } else { 18 });
    assert_eq!(gauge(&address, "moth_password_hashing_threads").await, 2, "memory, not the cores, bounds hashing");
    stop(child);

    let dir = tempfile::tempdir().expect("dir");
    let (child, address, postgres) = moth(dir.path(), &[("MOTH_PARALLELISM", "1")]).await;
    assert_eq!(gauge(&address, "moth_db_pool_max_connections").await, if postgres { 16 } else { 4 });
    assert_eq!(gauge(&address, "moth_password_hashing_threads").await, 1);
    stop(child);

    let dir = tempfile::tempdir().expect("dir");
    let settings = [("MOTH_DATABASE_POOL_SIZE", "3"), ("MOTH_PASSWORD_HASHING_THREADS", "5")];
    let (child, address, _) = moth(dir.path(), &settings).await;
    assert_eq!(gauge(&address, "moth_db_pool_max_connections").await, 3);
    assert_eq!(gauge(&address, "moth_password_hashing_threads").await, 5);
    stop(child);
}

/// Signs in `count` times at once (all with the right password, so that no ban interferes); answers
/// how many were let in. The others may only be told that the server is busy (503), when the tests
/// running beside this one slow the hashing down past the queue's wait.
async fn sign_in_flood(address: &str, email: &str, count: usize) -> usize {
    let mut attempts = tokio::task::JoinSet::new();
    for _ in 0..count {
        let (app, email) = (TestApp::client_of(address), email.to_owned());
        attempts.spawn(async move { app.sign_in_as(&email, crate::helpers::PASSWORD, None).await.status() });
    }
    let statuses = attempts.join_all().await;
    let busy = reqwest::StatusCode::SERVICE_UNAVAILABLE;
    assert!(statuses.iter().all(|s| *s == reqwest::StatusCode::OK || *s == busy), "{statuses:?}");
    statuses.iter().filter(|s| **s == reqwest::StatusCode::OK).count()
}

/// Waits until the hashing threads hold no buffer (at most 15 s).
async fn buffers_released(address: &str) {
    for _ in 0..150 {
        if gauge(address, "moth_password_hashing_buffers").await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the hashing buffers were not released after the quiet period");
}

#[tokio::test]
async fn a_flood_of_sign_ins_holds_one_buffer_per_hashing_thread_and_gives_them_back() {
    let dir = tempfile::tempdir().expect("dir");
    // More hashing threads than this machine's cores, released after one quiet second.
    let settings = [("MOTH_PASSWORD_HASHING_THREADS", "4"), ("MOTH_PASSWORD_HASHING_RELEASE_SECS", "1")];
    let (child, address, _) = moth(dir.path(), &settings).await;
    let pid = child.id();
    let app = TestApp::client_of(&address);
    let email = crate::helpers::fresh_email("flood");
    app.signed_up(&email).await;
    // A first, smaller flood brings the rest of the server (connections, caches) to its working size.
    assert!(sign_in_flood(&address, &email, 8).await >= 4);
    buffers_released(&address).await;
    let before = resident_anonymous(pid);

    let let_in = sign_in_flood(&address, &email, 24).await;
    assert!(let_in >= 8, "{let_in} of 24 sign-ins got in");
    let during = resident_anonymous(pid);
    let held = gauge(&address, "moth_password_hashing_buffers").await;
    assert!(held <= 4, "at most one buffer per thread: {held}");
    let grown = during.saturating_sub(before);
    assert!(
        (2 * BUFFER..=4 * BUFFER + 24 * MIB).contains(&grown),
        "the flood grew the resident set by {} MiB from {} MiB with {held} buffers held",
        grown / MIB,
        before / MIB
    );
    assert!(during < 150 * MIB, "resident set {} MiB during the flood", during / MIB);

    buffers_released(&address).await;
    let after = resident_anonymous(pid);
    assert!(
        after <= before + 12 * MIB,
        "after the quiet period the resident set is {} MiB, {} MiB before the flood",
        after / MIB,
        before / MIB
    );
    stop(child);
}
