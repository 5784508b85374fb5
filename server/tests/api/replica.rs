//! Continuous protection of the embedded database: a real Litestream (installed by `scripts/test`,
//! named by `MOTH_TEST_LITESTREAM`) replicating a running Moth, the replica shipped encrypted by
//! Moth, and restored to a moment: what was written before it is back, what came after is not.
//! (`PostgreSQL`'s point-in-time recovery belongs to pgBackRest, which Moth does not run yet: these
//! tests are for `SQLite` and say so when the suite runs on `PostgreSQL`.)

use std::{sync::Arc, time::Duration};

use reqwest::StatusCode;
use server::{
    backup::{Backups, RestoreTarget},
    config::Config,
};

use crate::helpers::{files_under, launch, test_config, TestApp};

fn litestream() -> String {
    std::env::var("MOTH_TEST_LITESTREAM")
        .ok()
        .filter(|p| !p.is_empty())
        .expect("the replica tests need Litestream: run scripts/test, or set MOTH_TEST_LITESTREAM")
}

fn on_postgres() -> bool {
    std::env::var("MOTH_TEST_POSTGRES_URL").is_ok_and(|url| !url.is_empty())
}

async fn titles(database: &std::path::Path) -> Vec<String> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&format!("sqlite:{}", database.display())).await.expect("open");
    sqlx::query_scalar("SELECT title FROM issues ORDER BY number").fetch_all(&mut conn).await.expect("titles")
}

async fn file_issue(app: &TestApp, cookie: &str, project: &str, title: &str) {
    let form = vec![
        ("input[project_id]".to_owned(), project.to_owned()),
        ("input[fields][title]".to_owned(), title.to_owned()),
        ("input[fields][visibility]".to_owned(), "internal".to_owned()),
    ];
    assert_eq!(app.call("create_issue", &form, Some(cookie)).await.status(), StatusCode::OK);
}

/// Ships until the newest state restored from the shipped replica holds `titles` (Litestream syncs
/// every second; under load it may take longer), within 30 seconds.
async fn replicated(backups: &Backups, scratch: &std::path::Path, expected: &[&str]) {
    for attempt in 0..60 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        backups.ship_replica().await.expect("shipped");
        let into = scratch.join(format!("poll-{attempt}"));
        let target = RestoreTarget { into: into.clone(), database_url: None, at: None };
        if backups.restore_from_replica(&target, None).await.is_ok() && titles(&into.join("moth.db")).await == expected
        {
            return;
        }
    }
    panic!("the replica never held {expected:?}");
}

#[tokio::test]
async fn the_replica_restores_the_database_as_it_was_at_a_moment() {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: continuous replication is Litestream's, for SQLite");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let mut config: Config = test_config(dir.path()).await;
    config.replica_dir = Some(dir.path().join("replica"));
    config.litestream_bin = litestream().into();
    config.metrics_token = Some("scrape".into());
    let (app, _running) = launch(config.clone(), std::future::pending()).await;
    let (owner, _) = app.owner("replica").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let db = crate::helpers::data_layer(&config).await;
    let backups = Backups::new(&config, db, config.object_store().expect("store"), app.clock.clone()).expect("b");
    // The server's own replication runs; this handle only ships on demand.
    let backups = Arc::new(backups);

    let first = "before the moment canary-replica";
    file_issue(&app, &owner.cookie, &project, first).await;
    replicated(&backups, dir.path(), &[first]).await;
    // Litestream restores by time from its first snapshot on, which it takes about a second after it
    // starts: the moment is chosen after that.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let moment = server::clock::unix_millis(time::OffsetDateTime::now_utc());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    file_issue(&app, &owner.cookie, &project, "after the moment").await;
    replicated(&backups, dir.path(), &[first, "after the moment"]).await;

    // Shipped, and encrypted: the canary is in no shipped file.
    let shipped = dir.path().join("backups").join("replica");
    let mut found = 0;
    for entry in files_under(&shipped) {
        found += 1;
        let bytes = std::fs::read(&entry).expect("read");
        assert!(!bytes.windows(14).any(|w| w == b"canary-replica"), "{} is not encrypted", entry.display());
    }
    assert!(found > 0, "nothing was shipped");

    // The server's own replication ships every five seconds; /metrics says when it last did.
    let mut shipped = false;
    for _ in 0..40 {
        let figures =
            app.http.get(app.url("/metrics")).bearer_auth("scrape").send().await.expect("m").text().await.expect("t");
        if figures
            .lines()
            .any(|l| l.starts_with("moth_backup_replica_shipped_timestamp_seconds ") && !l.ends_with(" 0"))
        {
            shipped = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(shipped, "the server never shipped its replica");
    let ready: serde_json::Value = app.http.get(app.url("/readyz")).send().await.expect("r").json().await.expect("j");
    assert_eq!(ready["checks"]["replica"], "ok", "{ready}");

    let at_moment = dir.path().join("at-moment");
    let target = RestoreTarget { into: at_moment.clone(), database_url: None, at: Some(moment) };
    backups.restore_from_replica(&target, None).await.expect("restore at the moment");
    assert_eq!(titles(&at_moment.join("moth.db")).await, ["before the moment canary-replica"]);

    // A full restore to the moment: the snapshot's files and keys, the replica's database.
    let snapshot = backups.create().await.expect("snapshot");
    let full = dir.path().join("full");
    let target = RestoreTarget { into: full.clone(), database_url: None, at: Some(moment) };
    let summary = backups.restore(&snapshot, &target, None).await.expect("full restore");
    assert!(summary.contains("from the replica"), "{summary}");
    assert_eq!(titles(&full.join("moth.db")).await, ["before the moment canary-replica"]);
    assert!(full.join("master.key").exists());

    // The drill restores the replica too.
    let report = backups.drill(&snapshot, None).await.expect("drill");
    assert!(report.passed && report.detail.contains("continuous replica"), "{}", report.detail);
    assert!(report.detail.contains(", and to "), "the drill did not restore to a moment: {}", report.detail);
}

/// A new installation's first drill finds no replica shipped yet: it tests the snapshot and says the
/// replica was not tested, rather than failing for a day. Once a drill has restored the replica, a
/// replica that is gone fails the drill.
#[tokio::test]
async fn a_drill_tests_only_the_replica_that_exists() {
    if on_postgres() {
        eprintln!("skipped on PostgreSQL: continuous replication is Litestream's, for SQLite");
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let served: Config = test_config(dir.path()).await;
    // The server does not replicate; this handle is configured to, and replicates only when told.
    let (app, _running) = launch(served.clone(), std::future::pending()).await;
    let mut config = served.clone();
    config.replica_dir = Some(dir.path().join("replica"));
    config.litestream_bin = litestream().into();
    let db = crate::helpers::data_layer(&config).await;
    let backups =
        Arc::new(Backups::new(&config, db, config.object_store().expect("store"), app.clock.clone()).expect("b"));
    let (owner, _) = app.owner("drill").await;
    let (project, _) = app.project(&owner.cookie, "public").await;

    let snapshot = backups.create().await.expect("snapshot");
    let first = backups.drill(&snapshot, None).await.expect("drill");
    assert!(first.passed, "a new installation's drill failed: {}", first.detail);
    assert!(
        first.detail.contains("no restorable state yet") && first.detail.contains("not tested"),
        "{}",
        first.detail
    );

    let replicating = tokio::spawn(backups.clone().run_replica());
    file_issue(&app, &owner.cookie, &project, "replicated").await;
    replicated(&backups, dir.path(), &["replicated"]).await;
    let tested = backups.drill(&snapshot, None).await.expect("drill");
    assert!(tested.passed && tested.detail.contains("continuous replica restored"), "{}", tested.detail);

    // The replica gone from the destination, after it was restored once: a failure.
    replicating.abort();
    let _ = replicating.await;
    std::fs::remove_dir_all(dir.path().join("backups").join("replica")).expect("remove the shipped replica");
    let gone = backups.drill(&snapshot, None).await.expect("drill");
    assert!(!gone.passed, "a vanished replica passed the drill: {}", gone.detail);
}
