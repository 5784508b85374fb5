//! The `moth` binary itself: it runs on the embedded defaults with no configuration, in a fresh folder,
//! and stops gracefully on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

#[tokio::test]
async fn the_binary_runs_on_embedded_defaults_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_moth"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("MOTH_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("moth starts");
    let stdout = child.stdout.take().expect("stdout");
    let address = tokio::task::spawn_blocking(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find_map(|line| line.split("Moth is running at ").nth(1).map(str::to_owned))
    })
    .await
    .expect("reader")
    .expect("moth prints its address");

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
