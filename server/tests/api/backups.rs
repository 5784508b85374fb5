//! D2: snapshots of a running Moth, made through `server::backup` as the scheduler and the
//! `moth backup` commands make them, on the suite's database (`SQLite` or `PostgreSQL`), with files
//! stored through the real upload pipeline (clamd) and, where asked, a second destination on the
//! test S3 server. A restored snapshot is served by a new Moth and must hold the same data.

use std::{path::Path, sync::Arc};

use reqwest::StatusCode;
use server::{
    backup::{Backups, RestoreTarget},
    clock::ManualClock,
    config::Config,
};
use sqlx::Row;

use crate::helpers::{input, launch, png, test_config, TestApp, PASSWORD};

const CANARY: &str = "canary-7f3c1e-the-backup-must-not-show-this";

async fn backups_of(config: &Config, clock: Arc<ManualClock>) -> Backups {
    let db = crate::helpers::data_layer(config).await;
    Backups::new(config, db, config.object_store().expect("store"), clock).expect("backups")
}

/// A running Moth in `dir` with an owner, a project, an issue carrying the canary in a comment and an
/// attached image; answers the app, its config, the owner's email, the issue's reference and the image.
async fn app_with_data(dir: &Path) -> (TestApp, Config, String, String, Vec<u8>) {
    let mut config = test_config(dir).await;
    config.metrics_token = Some("scrape".into());
    let (app, _running) = launch(config.clone(), std::future::pending()).await;
    assert!(app.scans, "the backup tests store files: run scripts/test, or set MOTH_TEST_CLAMD_URL");
    let (owner, _) = app.owner("backup").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "internal").await;
    app.comment(&owner.cookie, &issue.id, &format!("The secret is {CANARY}"), true).await;
    let image = png(40, 30);
    let uploaded = app.upload(Some(&owner.cookie), &issue.id, "shot.png", image.clone()).await;
    assert_eq!(uploaded.status(), StatusCode::OK);
    (app, config, owner.email, issue.reference, image)
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let mut conn = app.db().await;
    // The table names are this test's own constants.
    let row = sqlx::query(&format!("SELECT count(*) FROM {table}")).fetch_one(&mut conn).await.expect("count");
    row.try_get(0).expect("n")
}

#[tokio::test]
async fn a_snapshot_restored_into_a_fresh_instance_serves_the_same_data_and_files() {
    let dir = tempfile::tempdir().expect("dir");
    let (app, config, email, reference, image) = app_with_data(dir.path()).await;
    let backups = backups_of(&config, app.clock.clone()).await;
    let snapshot = backups.create().await.expect("snapshot");
    let sealed = std::fs::read(config.backup_dir.join(&snapshot.name)).expect("archive");
    assert!(!contains(&sealed, CANARY.as_bytes()), "the archive holds the canary in the clear");
    assert!(!contains(&sealed, &image[..]), "the archive holds the image in the clear");

    let report = backups.drill(&snapshot, None).await.expect("drill");
    assert!(report.passed, "{}", report.detail);
    assert!(report.detail.contains("restore points: 1 snapshots"), "{}", report.detail);

    // Restore into a new folder (and, on PostgreSQL, a new empty database).
    let restored_dir = tempfile::tempdir().expect("dir");
    let into = restored_dir.path().join("restored");
    let database_url = match std::env::var("MOTH_TEST_POSTGRES_URL") {
        Ok(server) if !server.is_empty() => Some(crate::helpers::fresh_postgres_database(&server).await),
        _ => None,
    };
    let target = RestoreTarget { into: into.clone(), database_url: database_url.clone(), at: None };
    backups.restore(&snapshot, &target, None).await.expect("restore");
    if database_url.is_none() {
        let copy = std::fs::read(into.join("moth.db")).expect("restored file");
        assert!(contains(&copy, CANARY.as_bytes()), "the restored database lacks the comment");
    }

    // A new Moth on the restored data: same rows, the comment, and the file decrypts to the image.
    let mut restored_config = test_config(restored_dir.path()).await;
    restored_config.database_url = database_url.unwrap_or_else(|| format!("sqlite:{}", into.join("moth.db").display()));
    restored_config.files_dir = into.join("files");
    restored_config.master_key_file = into.join("master.key");
    restored_config.audit_key_file = into.join("audit.key");
    let (restored, _running) = launch(restored_config, std::future::pending()).await;
    for table in ["users", "teams", "projects", "issues", "comments", "attachments", "issue_history"] {
        assert_eq!(count(&restored, table).await, count(&app, table).await, "{table}");
    }
    let signed_in = restored.sign_in_as(&email, PASSWORD, None).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let cookie = crate::helpers::session_cookie(&signed_in).expect("session");
    let (key, number) = reference.split_once('-').expect("reference");
    let detail = restored.call("get_issue", &input(&[("key", key), ("number", number)]), Some(&cookie)).await;
    assert_eq!(detail.status(), StatusCode::OK);
    let detail: serde_json::Value = detail.json().await.expect("json");
    let issue_id = detail["issue"]["id"].as_str().or(detail["id"].as_str()).expect("issue id").to_owned();
    let comments = restored.call("list_comments", &input(&[("issue_id", &issue_id)]), Some(&cookie)).await;
    let comments = comments.text().await.expect("body");
    assert!(comments.contains(CANARY) || detail.to_string().contains(CANARY), "the comment did not come back");
    let listed: serde_json::Value = restored
        .call("list_attachments", &input(&[("issue_id", &issue_id)]), Some(&cookie))
        .await
        .json()
        .await
        .expect("json");
    let url = listed[0]["link"]["url"].as_str().expect("link");
    let served = restored.http.get(url).send().await.expect("file");
    assert_eq!(served.bytes().await.expect("bytes").as_ref(), image.as_slice());
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_damaged_or_wrongly_keyed_snapshot_fails_the_drill_and_the_failure_is_recorded() {
    let dir = tempfile::tempdir().expect("dir");
    let (app, config, ..) = app_with_data(dir.path()).await;
    let backups = backups_of(&config, app.clock.clone()).await;
    let snapshot = backups.create().await.expect("snapshot");
    let path = config.backup_dir.join(&snapshot.name);
    let original = std::fs::read(&path).expect("archive");

    // One byte changed in the middle, with the checksum file made to match: age's authentication
    // is what catches it.
    let mut damaged = original.clone();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0x01;
    std::fs::write(&path, &damaged).expect("write");
    let sidecar = config.backup_dir.join(format!("{}.sha256", snapshot.name));
    let digest = server::digest::sha256_hex(&damaged);
    std::fs::write(&sidecar, format!("{digest}  {}\n", snapshot.name)).expect("sidecar");
    let report = backups.drill(&snapshot, None).await.expect("drill ran");
    assert!(!report.passed, "a damaged archive passed: {}", report.detail);

    // The same byte changed without touching the checksum file: caught before decrypting.
    std::fs::write(&sidecar, format!("{}  {}\n", server::digest::sha256_hex(&original), snapshot.name))
        .expect("sidecar");
    let report = backups.drill(&snapshot, None).await.expect("drill ran");
    assert!(!report.passed && report.detail.contains("SHA-256"), "{}", report.detail);

    // The intact archive, opened with another identity, fails; with the right one, passes.
    std::fs::write(&path, &original).expect("write");
    let stranger = dir.path().join("stranger.txt");
    let other = age::x25519::Identity::generate();
    std::fs::write(&stranger, format!("{}\n", age::secrecy::ExposeSecret::expose_secret(&other.to_string())))
        .expect("identity");
    let report = backups.drill(&snapshot, Some(&stranger)).await.expect("drill ran");
    assert!(!report.passed, "another identity opened the snapshot");
    let figures = metrics(&app).await;
    assert!(figures.contains("moth_backup_last_drill_passed 0"), "{figures}");
    assert!(figures.contains("moth_backup_last_verified_timestamp_seconds 0"), "{figures}");
    let report = backups.drill(&snapshot, None).await.expect("drill ran");
    assert!(report.passed, "{}", report.detail);
    let figures = metrics(&app).await;
    assert!(figures.contains("moth_backup_last_drill_passed 1"), "{figures}");
    assert!(figures.contains("moth_backup_last_snapshot_passed 1"), "{figures}");
    assert!(figures.contains("moth_dependency_up{dependency=\"clamd\"} 1"), "{figures}");
    assert!(figures.contains("moth_dependency_up{dependency=\"storage\"} 1"), "{figures}");
    assert!(!figures.contains("moth_backup_last_verified_timestamp_seconds 0"), "{figures}");

    // Every drill is recorded, and each failure is an audit event.
    let db = crate::helpers::data_layer(&config).await;
    let drills =
        server::db::backup::recent_runs(&db, server::db::backup::RunKind::Drill, false, 10).await.expect("runs");
    assert_eq!(drills.iter().filter(|r| !r.passed).count(), 3);
    assert!(drills[0].passed, "the newest drill is the passing one");
    let mut conn = app.db().await;
    let failures: i64 = sqlx::query(
        "SELECT count(*) FROM audit_log WHERE event = 'backup_drill' AND outcome = 'failure' AND team_id IS NULL",
    )
    .fetch_one(&mut conn)
    .await
    .expect("audit")
    .get(0);
    assert_eq!(failures, 3);
}

async fn metrics(app: &TestApp) -> String {
    let response = app.http.get(app.url("/metrics")).bearer_auth("scrape").send().await.expect("metrics");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("text")
}

#[tokio::test]
async fn a_restore_never_goes_over_existing_data() {
    let dir = tempfile::tempdir().expect("dir");
    let (app, config, ..) = app_with_data(dir.path()).await;
    let backups = backups_of(&config, app.clock.clone()).await;
    let snapshot = backups.create().await.expect("snapshot");
    // Into the live data folder: refused, and nothing there changed.
    let before = std::fs::read(&config.master_key_file).expect("key");
    let target = RestoreTarget { into: dir.path().to_owned(), database_url: None, at: None };
    let refused = backups.restore(&snapshot, &target, None).await.expect_err("refused");
    assert!(refused.to_string().contains("not empty"), "{refused}");
    assert_eq!(std::fs::read(&config.master_key_file).expect("key"), before);
    if config.database_url.starts_with("postgres") {
        // Into the live database: refused too.
        let target =
            RestoreTarget { into: dir.path().join("new"), database_url: Some(config.database_url.clone()), at: None };
        let refused = backups.restore(&snapshot, &target, None).await.expect_err("refused");
        assert!(refused.to_string().contains("empty database"), "{refused}");
    }
}

#[tokio::test]
async fn the_schedule_snapshots_when_due_drills_and_a_second_destination_restores_alone() {
    let endpoint = std::env::var("MOTH_TEST_S3_URL").ok().filter(|url| !url.is_empty());
    let endpoint = endpoint.expect("the backup S3 test needs an S3-compatible server: run scripts/test");
    let bucket = format!("moth-backups-{}", uuid::Uuid::new_v4().simple());
    let dir = tempfile::tempdir().expect("dir");
    let (app, mut config, ..) = app_with_data(dir.path()).await;
    config.backup_s3_bucket = Some(bucket.clone());
    config.backup_s3_endpoint = Some(endpoint);
    config.backup_s3_access_key_id = Some("moth-test".into());
    config.backup_s3_secret_access_key = Some("moth-test-secret".into());
    let s3 = server::files::store::s3_client(&config.backup_s3().expect("s3"));
    s3.create_bucket().bucket(&bucket).send().await.expect("bucket");
    let backups = backups_of(&config, app.clock.clone()).await;
    let hours = |h: u64| std::time::Duration::from_secs(h * 3600);

    // Nothing yet: a snapshot and a drill. An hour on: nothing is due. Six hours on: a new snapshot.
    backups.scheduled_round(Some(hours(24))).await.expect("round");
    let first = backups.list().await.expect("list");
    assert_eq!(first.len(), 1);
    app.clock.advance(hours(1));
    backups.scheduled_round(Some(hours(24))).await.expect("round");
    assert_eq!(backups.list().await.expect("list"), first);
    app.clock.advance(hours(6));
    backups.scheduled_round(Some(hours(24))).await.expect("round");
    let snapshots = backups.list().await.expect("list");
    assert_eq!(snapshots.len(), 2);
    let db = crate::helpers::data_layer(&config).await;
    let drills =
        server::db::backup::recent_runs(&db, server::db::backup::RunKind::Drill, true, 10).await.expect("runs");
    assert_eq!(drills.len(), 1, "one drill a day");

    // Both snapshots are in the bucket, encrypted, each with its checksum file.
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.expect("list");
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    for snapshot in &snapshots {
        let key = format!("moth-backups/{}", snapshot.name);
        let object = s3.get_object().bucket(&bucket).key(&key).send().await.expect("object");
        let bytes = object.body.collect().await.expect("body").into_bytes();
        assert!(!contains(&bytes, CANARY.as_bytes()));
    }

    // The folder is lost: the bucket's copy alone restores and passes the drill.
    std::fs::remove_dir_all(&config.backup_dir).expect("lose the folder");
    let newest = snapshots.last().expect("newest");
    let report = backups.drill(newest, None).await.expect("drill");
    assert!(report.passed, "{}", report.detail);
}

#[tokio::test]
async fn the_owner_sees_the_last_backup_and_its_proof_and_nothing_of_the_installation() {
    let dir = tempfile::tempdir().expect("dir");
    let (app, config, email, ..) = app_with_data(dir.path()).await;
    let owner = crate::helpers::session_cookie(&app.sign_in_as(&email, PASSWORD, None).await).expect("session");
    let status = |cookie: String| {
        let app = &app;
        async move {
            let response = app.call("backup_status", &[], Some(&cookie)).await;
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<serde_json::Value>().await.expect("json")
        }
    };
    let before = status(owner.clone()).await;
    assert!(before["last_backup_at"].is_null() && before["last_verified_at"].is_null(), "{before}");
    assert_eq!(before["restore_points"], serde_json::json!([]));

    let backups = backups_of(&config, app.clock.clone()).await;
    let snapshot = backups.create().await.expect("snapshot");
    let after_backup = status(owner.clone()).await;
    assert!(after_backup["last_backup_at"].is_i64(), "{after_backup}");
    assert!(after_backup["last_verified_at"].is_null(), "not proven before a drill: {after_backup}");
    assert_eq!(after_backup["restore_points"], serde_json::json!([snapshot.taken_at]));

    backups.drill(&snapshot, None).await.expect("drill");
    let proven = status(owner).await;
    assert!(proven["last_verified_at"].is_i64(), "{proven}");
    assert_eq!(proven["last_drill_passed"], true);
    assert!(proven["last_restore_ms"].as_i64().is_some_and(|ms| ms >= 0), "{proven}");
    // The owner learns times, not the installation's snapshot names or figures.
    assert!(!proven.to_string().contains("moth-"), "{proven}");
    assert!(!proven.to_string().contains("tables"), "{proven}");
}
