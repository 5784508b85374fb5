//! A rolling upgrade (issue 29): an instance of the previous release (`scripts/previous-release`,
//! built by `scripts/test`, named in `MOTH_TEST_PREVIOUS_MOTH`) serves the database while an instance
//! of this release starts beside it and migrates it; the old one goes on with the main reads and
//! writes, and each reads what the other wrote. And this release starts against a schema that a
//! later release has migrated further, as its instances must while the next upgrade rolls.

use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection as _;

use crate::helpers::{input, launch, session_cookie, spawn_binary, spawn_program, test_config, TestApp, PASSWORD};

fn previous_release() -> std::path::PathBuf {
    std::env::var("MOTH_TEST_PREVIOUS_MOTH")
        .expect("scripts/test builds the previous release and names its binary in MOTH_TEST_PREVIOUS_MOTH")
        .into()
}

async fn connect(url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url).await.expect("connect")
}

async fn listed(app: &TestApp, cookie: &str, project: &str) -> Vec<String> {
    let page: Value =
        app.call("list_issues", &input(&[("project_id", project)]), Some(cookie)).await.json().await.expect("json");
    page["issues"].as_array().expect("issues").iter().filter_map(|i| i["title"].as_str()).map(str::to_owned).collect()
}

/// The issue `reference` as `app` shows it to `cookie`: its status and comments' bodies.
async fn shown(app: &TestApp, cookie: &str, reference: &str) -> (StatusCode, Value) {
    let (key, number) = reference.split_once('-').expect("KEY-n");
    let response = app.call("get_issue", &input(&[("key", key), ("number", number)]), Some(cookie)).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_previous_release_keeps_working_while_this_one_migrates_the_database() {
    let root = tempfile::tempdir().expect("dir");
    let url = test_config(root.path()).await.database_url;
    let url = if url.starts_with("sqlite:") { format!("{url}?mode=rwc") } else { url };
    let at = |name: &str| root.path().join(name).display().to_string();
    let (master, audit, files) = (at("master.key"), at("audit.key"), at("files"));
    let env = [
        ("MOTH_DATABASE_URL", url.as_str()),
        ("MOTH_MASTER_KEY_FILE", master.as_str()),
        ("MOTH_AUDIT_KEY_FILE", audit.as_str()),
        ("MOTH_FILES_DIR", files.as_str()),
    ];
    let (old_dir, new_dir) = (root.path().join("old"), root.path().join("new"));
    std::fs::create_dir_all(&old_dir).expect("dir");
    std::fs::create_dir_all(&new_dir).expect("dir");
    let (mut old_child, old_address, _) = spawn_program(&previous_release(), &old_dir, &env).await;
    let old = TestApp::client_of(&old_address);
    let (owner, _) = old.owner("rolling").await;
    let (project, _) = old.project(&owner.cookie, "public").await;
    let before = old.issue(&owner.cookie, &project, "public").await;
    old.comment(&owner.cookie, &before.id, "written by the previous release", false).await;

    // This release starts beside it and migrates the database.
    let (mut new_child, new_address) = spawn_binary(&new_dir, &env).await;
    let new = TestApp::client_of(&new_address);
    let mut db = connect(&url).await;
    let newest: i64 =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&mut db).await.expect("v");
    let backend = if url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    let files =
        std::fs::read_dir(format!("{}/../migrations/{backend}", env!("CARGO_MANIFEST_DIR"))).expect("dir").count();
    assert_eq!(usize::try_from(newest).expect("v"), files, "this release's migrations ran");

    // The previous release goes on: sign-in, lists, reads, creates, comments, updates, sign-out.
    let signed_in = old.sign_in_as(&owner.email, PASSWORD, None).await;
    assert_eq!(signed_in.status(), StatusCode::OK, "the previous release signs in");
    let cookie = session_cookie(&signed_in).expect("cookie");
    assert_eq!(listed(&old, &cookie, &project).await, vec![before.title.clone()]);
    let during = old.issue(&cookie, &project, "public").await;
    old.comment(&cookie, &during.id, "written by the previous release after the migration", false).await;
    let (status, detail) = shown(&old, &cookie, &during.reference).await;
    assert_eq!(status, StatusCode::OK);
    let state = detail["issue"]["status"]["id"].as_str().expect("status").to_owned();
    let update = vec![
        ("input[issue_id]".to_owned(), during.id.clone()),
        ("input[status_id]".to_owned(), state),
        ("input[fields][title]".to_owned(), "Renamed by the previous release".to_owned()),
        ("input[fields][visibility]".to_owned(), "public".to_owned()),
    ];
    assert_eq!(old.call("update_issue", &update, Some(&cookie)).await.status(), StatusCode::OK);

    // Each reads what the other wrote.
    let made_new = new.issue(&owner.cookie, &project, "public").await;
    let mut seen_by_old = listed(&old, &cookie, &project).await;
    let mut seen_by_new = listed(&new, &owner.cookie, &project).await;
    seen_by_old.sort();
    seen_by_new.sort();
    let mut expected = vec![before.title.clone(), "Renamed by the previous release".to_owned(), made_new.title.clone()];
    expected.sort();
    assert_eq!(seen_by_old, expected);
    assert_eq!(seen_by_new, expected);
    let (status, detail) = shown(&new, &owner.cookie, &during.reference).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["comments"][0]["body"], "written by the previous release after the migration");
    assert_eq!(old.call("sign_out", &[], Some(&cookie)).await.status(), StatusCode::OK);
    assert!(old.whoami_email(&cookie).await.is_none());
    for child in [&mut old_child, &mut new_child] {
        child.kill().expect("stop");
        let _ = child.wait();
    }
}

#[tokio::test]
async fn this_release_starts_against_a_schema_a_later_release_migrated() {
    let dir = tempfile::tempdir().expect("dir");
    let config = test_config(dir.path()).await;
    let (first, running) = launch(config.clone(), async {}).await;
    drop(first);
    running.await.expect("stopped").expect("served");
    let mut db = connect(&config.database_url).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (999999, 'a later release', TRUE, $1, 0)",
    )
    .bind(vec![0_u8; 48])
    .execute(&mut db)
    .await
    .expect("a later migration");
    let (app, _running) = launch(config, std::future::pending()).await;
    let (owner, _) = app.owner("later").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    app.issue(&owner.cookie, &project, "public").await;
}
