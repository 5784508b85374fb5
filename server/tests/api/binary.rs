//! The `moth` binary itself: it runs on the embedded defaults with no configuration, in a fresh folder,
//! and stops gracefully on SIGTERM.

use std::{process::Command, time::Duration};

use crate::helpers::spawn_binary;

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
