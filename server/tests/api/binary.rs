//! The `moth` binary itself: it runs on the embedded defaults with no configuration, in a fresh folder,
//! and stops gracefully on SIGTERM.

use std::{process::Command, time::Duration};

use crate::helpers::{spawn_binary, spawn_binary_logged};

#[tokio::test]
async fn the_binary_runs_on_embedded_defaults_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, address) = spawn_binary(dir.path(), &[]).await;

    let health = reqwest::get(format!("{address}/healthz")).await.expect("healthz");
    assert_eq!(health.status(), reqwest::StatusCode::OK);
    assert!(dir.path().join("data/moth.db").exists(), "SQLite file under ./data by default");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    let mut waited = Duration::ZERO;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(waited < Duration::from_secs(15), "moth did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += Duration::from_millis(100);
    };
    assert!(status.success(), "graceful stop exits 0: {status}");
}

#[tokio::test]
async fn unknown_session_cookies_cost_no_log_lines() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, address, log) = spawn_binary_logged(dir.path(), &[]).await;
    let client = reqwest::Client::new();
    for n in 0..50 {
        // Malformed ids, and well-formed ones no session has.
        let id = if n % 2 == 0 { format!("{n}-not-an-id") } else { format!("{n:A>22}") };
        let cookie = format!("moth_session={id}");
        let answer =
            client.post(format!("{address}/api/who_am_i")).header("cookie", cookie).send().await.expect("post");
        assert_eq!(answer.status(), reqwest::StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    let lines = log.lock().expect("log").clone();
    let noisy: Vec<&String> = lines.iter().filter(|l| l.contains("WARN") || l.contains("suspicious")).collect();
    assert!(noisy.is_empty(), "50 unknown cookies wrote {} warnings, such as {:?}", noisy.len(), noisy.first());
}
