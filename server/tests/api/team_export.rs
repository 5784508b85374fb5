//! D3 and the SSRF guard: a team owner's export of all the team's data, attacked and read back the
//! way a customer would (the archive decrypted with the age crate, as `age -d` would), against the
//! running server, its real upload pipeline (clamd) and the test S3 server.

use std::{collections::HashMap, io::Read, time::Duration};

use reqwest::StatusCode;
use sqlx::Row;

use crate::helpers::{input, png, spawn_app_with, TestApp};

const PASSPHRASE: &str = "a long export passphrase";

async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("json")
}

/// A team with a project, an internal and a public issue, a comment carrying `canary`, and a file.
async fn team_with_data(app: &TestApp, who: &str, canary: &str) -> (String, String, Vec<u8>) {
    static WIDTH: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(20);
    let (owner, _) = app.owner(who).await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let internal = app.issue(&owner.cookie, &project, "internal").await;
    app.issue(&owner.cookie, &project, "public").await;
    app.comment(&owner.cookie, &internal.id, &format!("note {canary}"), true).await;
    // Each team's image is its own (a width no other has).
    let image = png(WIDTH.fetch_add(1, std::sync::atomic::Ordering::Relaxed), 10);
    let uploaded = app.upload(Some(&owner.cookie), &internal.id, "team shot.png", image.clone()).await;
    assert_eq!(uploaded.status(), StatusCode::OK);
    (owner.cookie, owner.user_id, image)
}

/// Starts an export and waits for it to end; answers its record.
async fn export(app: &TestApp, cookie: &str, fields: &[(&str, &str)]) -> serde_json::Value {
    let started = app.call("export_team", &input(fields), Some(cookie)).await;
    assert_eq!(started.status(), StatusCode::OK, "{:?}", started.text().await);
    let started = json(started).await;
    let id = started["id"].as_str().expect("id").to_owned();
    for _ in 0..300 {
        let list = json(app.call("team_exports", &[], Some(cookie)).await).await;
        let this = list.as_array().expect("list").iter().find(|e| e["id"] == id.as_str()).cloned().expect("listed");
        if this["status"] != "running" {
            return this;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the export did not finish");
}

/// The archive's entries by path.
fn open_archive(bytes: &[u8], identity: &dyn age::Identity) -> HashMap<String, Vec<u8>> {
    let decryptor = age::Decryptor::new(bytes).expect("an age file");
    let reader = decryptor.decrypt(std::iter::once(identity)).expect("opens");
    let mut archive = tar::Archive::new(reader);
    let mut entries = HashMap::new();
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("read");
        entries.insert(path, data);
    }
    entries
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn an_export_holds_every_row_of_its_team_and_none_of_another() {
    let app = spawn_app_with(|_| {}).await;
    assert!(app.scans, "the export tests store files: run scripts/test, or set MOTH_TEST_CLAMD_URL");
    let (a, a_user, a_image) = team_with_data(&app, "export-a", "canary-of-team-a").await;
    let (b, _, b_image) = team_with_data(&app, "export-b", "canary-of-team-b").await;
    let a_team = json(app.call("who_am_i", &[], Some(&a)).await).await["team"]["id"].as_str().expect("team").to_owned();
    let b_team = json(app.call("who_am_i", &[], Some(&b)).await).await["team"]["id"].as_str().expect("team").to_owned();

    let done = export(&app, &a, &[("destination", "download"), ("passphrase", PASSPHRASE), ("recipient", "")]).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["progress"], 100);
    let id = done["id"].as_str().expect("id");
    let path = format!("/export/team/{id}");

    // Only team A's owner downloads it.
    let b_tries = app.http.get(app.url(&path)).header("cookie", &b).send().await.expect("get");
    assert_eq!(b_tries.status(), StatusCode::NOT_FOUND);
    let anonymous = app.http.get(app.url(&path)).send().await.expect("get");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let downloaded = app.http.get(app.url(&path)).header("cookie", &a).send().await.expect("get");
    assert_eq!(downloaded.status(), StatusCode::OK);
    let sealed = downloaded.bytes().await.expect("bytes");
    assert!(!contains(&sealed, b"canary-of-team-a"), "the archive holds the team's text in the clear");

    let identity = age::scrypt::Identity::new(PASSPHRASE.to_owned().into());
    let entries = open_archive(&sealed, &identity);
    let everything: Vec<u8> = entries.values().flatten().copied().collect();
    assert!(contains(&everything, b"canary-of-team-a"));
    assert!(!contains(&everything, b"canary-of-team-b"), "team B's text is in team A's export");
    assert!(!contains(&everything, b_team.as_bytes()), "team B's id is in team A's export");
    assert!(!contains(&everything, &b_image), "team B's file is in team A's export");
    for secret in ["password_hash", "token_hash", "wrapped_key", "storage_key"] {
        assert!(!contains(&everything, secret.as_bytes()), "{secret} was exported");
    }
    // Every row of every team table, counted against the database.
    let mut conn = app.db().await;
    let tables: Vec<String> = entries
        .keys()
        .filter_map(|k| k.strip_prefix("data/")?.strip_suffix(".json").map(str::to_owned))
        .filter(|t| t != "team" && t != "members")
        .collect();
    for table in ["issues", "comments", "issue_history", "attachments", "audit_log", "projects", "memberships"] {
        assert!(tables.iter().any(|t| t == table), "{table} is missing: {tables:?}");
    }
    for table in &tables {
        let exported: serde_json::Value =
            serde_json::from_slice(&entries[&format!("data/{table}.json")]).expect("json");
        // The table names come from the archive this test just checked against the schema's.
        let sql = format!("SELECT count(*) FROM {table} WHERE team_id = $1");
        let in_db: i64 = sqlx::query(&sql).bind(&a_team).fetch_one(&mut conn).await.expect("count").get(0);
        assert_eq!(exported.as_array().map(Vec::len), Some(usize::try_from(in_db).expect("n")), "{table}");
    }
    let members = String::from_utf8_lossy(&entries["data/members.json"]).into_owned();
    assert!(members.contains(&a_user), "{members}");
    let csv = String::from_utf8_lossy(&entries["issues.csv"]).into_owned();
    assert_eq!(csv.lines().filter(|l| l.contains("Team issue")).count(), 2, "{csv}");
    let files: Vec<&String> = entries.keys().filter(|k| k.starts_with("files/")).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(entries[files[0]], a_image);
    assert!(entries.contains_key("manifest.json"));

    // The export is an audit event of team A.
    let audited: i64 = sqlx::query("SELECT count(*) FROM audit_log WHERE team_id = $1 AND event = 'team_exported'")
        .bind(&a_team)
        .fetch_one(&mut conn)
        .await
        .expect("audit")
        .get(0);
    assert_eq!(audited, 1);

    // The archive waits in the object store, which every instance shares, for a day.
    let key = server::export::Exporter::archive_key(id).expect("key");
    assert!(app.files_dir.join(&key).exists(), "the archive is in the object store under {key}");
    let email =
        json(app.call("who_am_i", &[], Some(&a)).await).await["user"]["email"].as_str().expect("email").to_owned();
    app.clock.advance(Duration::from_secs(24 * 3600 + 1));
    let signed_in = app.sign_in_as(&email, crate::helpers::PASSWORD, None).await;
    let a = crate::helpers::session_cookie(&signed_in).expect("a day later, signed in again");
    let late = app.http.get(app.url(&path)).header("cookie", &a).send().await.expect("get");
    assert_eq!(late.status(), StatusCode::NOT_FOUND);
    assert!(json(late).await["message"].as_str().expect("message").contains("expired"));
}

fn bucket_fields<'a>(endpoint: &'a str, bucket: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("endpoint", endpoint),
        ("region", "us-east-1"),
        ("bucket", bucket),
        ("prefix", "moth/"),
        ("access_key_id", "moth-test"),
        ("secret_access_key", "moth-test-secret"),
        ("path_style", "true"),
    ]
}

#[tokio::test]
async fn endpoints_inside_the_network_are_refused_when_saved_and_when_connecting() {
    let endpoint = std::env::var("MOTH_TEST_S3_URL").ok().filter(|url| !url.is_empty());
    let endpoint = endpoint.expect("the export bucket tests need an S3-compatible server: run scripts/test");
    let app = spawn_app_with(|_| {}).await;
    let (owner, _, _) = team_with_data(&app, "ssrf", "canary-ssrf").await;
    for target in [
        endpoint.as_str(),
        "http://169.254.169.254",
        "http://[::1]:9000",
        "http://[::ffff:127.0.0.1]:9000",
        "http://[fd00::1]",
        "http://10.0.0.8",
        "http://192.168.1.1:9000",
        "http://localhost:9000",
    ] {
        let refused = app.call("set_export_bucket", &input(&bucket_fields(target, "moth-exports")), Some(&owner)).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{target}");
        let body = json(refused).await;
        assert_eq!(body["code"], "invalid_input", "{target}: {body}");
        assert!(body.to_string().contains("endpoint"), "{target}: {body}");
    }
    assert_eq!(json(app.call("export_bucket", &[], Some(&owner)).await).await, serde_json::Value::Null);

    // A bucket saved under other rules (or a name that now resolves inside): refused at connection.
    let s3 = server::files::store::s3_client(&server::files::store::S3Settings {
        endpoint: endpoint.clone(),
        region: "us-east-1".into(),
        bucket: String::new(),
        access_key_id: "moth-test".into(),
        secret_access_key: "moth-test-secret".into(),
        path_style: true,
    });
    let bucket = format!("moth-ssrf-{}", uuid::Uuid::new_v4().simple());
    s3.create_bucket().bucket(&bucket).send().await.expect("bucket");
    let local = endpoint.replace("127.0.0.1", "localhost");
    let trusting = spawn_app_with(|config| config.allow_private_endpoints = true).await;
    let (owner, _, _) = team_with_data(&trusting, "ssrf-saved", "canary-ssrf-saved").await;
    let saved = trusting.call("set_export_bucket", &input(&bucket_fields(&local, &bucket)), Some(&owner)).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let email = json(trusting.call("who_am_i", &[], Some(&owner)).await).await["user"]["email"]
        .as_str()
        .expect("email")
        .to_owned();
    // The same data and keys, served by a Moth that keeps the default rule.
    let data_dir = trusting.files_dir.parent().expect("data dir").to_owned();
    let guarded = spawn_app_with(|config| {
        config.database_url = trusting.database_url.clone();
        config.master_key_file = data_dir.join("master.key");
        config.audit_key_file = data_dir.join("audit.key");
    })
    .await;
    let signed_in = guarded.sign_in_as(&email, crate::helpers::PASSWORD, None).await;
    let cookie = crate::helpers::session_cookie(&signed_in).expect("session");
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    let failed =
        export(&guarded, &cookie, &[("destination", "bucket"), ("passphrase", ""), ("recipient", &recipient)]).await;
    assert_eq!(failed["status"], "failed", "{failed}");
    let detail = failed["detail"].as_str().expect("detail");
    assert!(detail.contains("not resolve to a public address"), "{failed}");
    // The owner does not learn what the name resolves to.
    assert!(!detail.contains("127.0.0.1") && !detail.contains("::1"), "{failed}");
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.expect("list");
    assert_eq!(listed.key_count(), Some(0), "something reached the bucket");
}

#[tokio::test]
async fn an_export_to_the_team_bucket_arrives_encrypted_to_the_owners_key() {
    let endpoint = std::env::var("MOTH_TEST_S3_URL").ok().filter(|url| !url.is_empty());
    let endpoint = endpoint.expect("the export bucket tests need an S3-compatible server: run scripts/test");
    let app = spawn_app_with(|config| config.allow_private_endpoints = true).await;
    let (owner, _, image) = team_with_data(&app, "to-bucket", "canary-to-bucket").await;
    let bucket = format!("moth-team-{}", uuid::Uuid::new_v4().simple());
    let s3 = server::files::store::s3_client(&server::files::store::S3Settings {
        endpoint: endpoint.clone(),
        region: "us-east-1".into(),
        bucket: bucket.clone(),
        access_key_id: "moth-test".into(),
        secret_access_key: "moth-test-secret".into(),
        path_style: true,
    });
    s3.create_bucket().bucket(&bucket).send().await.expect("bucket");
    let saved = app.call("set_export_bucket", &input(&bucket_fields(&endpoint, &bucket)), Some(&owner)).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let shown = json(saved).await;
    assert!(!shown.to_string().contains("moth-test-secret"), "the secret came back: {shown}");
    let mut conn = app.db().await;
    let stored: String =
        sqlx::query("SELECT secret FROM team_export_buckets").fetch_one(&mut conn).await.expect("row").get(0);
    assert!(!stored.contains("moth-test-secret"), "the secret is stored in the clear");

    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let done = export(&app, &owner, &[("destination", "bucket"), ("passphrase", ""), ("recipient", &recipient)]).await;
    assert_eq!(done["status"], "done", "{done}");
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.expect("list");
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("moth/moth-export-") && keys[0].ends_with(".tar.age"), "{keys:?}");
    let object = s3.get_object().bucket(&bucket).key(keys[0]).send().await.expect("get");
    let bytes = object.body.collect().await.expect("body").into_bytes();
    assert!(!contains(&bytes, b"canary-to-bucket"));
    let entries = open_archive(&bytes, &identity);
    let files: Vec<&Vec<u8>> = entries.iter().filter(|(k, _)| k.starts_with("files/")).map(|(_, v)| v).collect();
    assert_eq!(files, vec![&image]);
}

#[tokio::test]
async fn a_scheduled_export_runs_by_itself_to_the_bucket_and_not_again_before_it_is_due() {
    let endpoint = std::env::var("MOTH_TEST_S3_URL").ok().filter(|url| !url.is_empty());
    let endpoint = endpoint.expect("the export bucket tests need an S3-compatible server: run scripts/test");
    let dir = tempfile::tempdir().expect("dir");
    let mut config = crate::helpers::test_config(dir.path()).await;
    config.allow_private_endpoints = true;
    let (stop_first, stopped) = tokio::sync::oneshot::channel::<()>();
    let (app, running) = crate::helpers::launch(config.clone(), async {
        let _ = stopped.await;
    })
    .await;
    let (owner, _, image) = team_with_data(&app, "scheduled", "canary-scheduled").await;
    let bucket = format!("moth-scheduled-{}", uuid::Uuid::new_v4().simple());
    let s3 = server::files::store::s3_client(&server::files::store::S3Settings {
        endpoint: endpoint.clone(),
        region: "us-east-1".into(),
        bucket: bucket.clone(),
        access_key_id: "moth-test".into(),
        secret_access_key: "moth-test-secret".into(),
        path_style: true,
    });
    s3.create_bucket().bucket(&bucket).send().await.expect("bucket");
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    let mut fields = bucket_fields(&endpoint, &bucket);
    fields.push(("schedule", "daily"));
    // A schedule without a recipient is refused: nothing secret is kept to encrypt with.
    let refused = app.call("set_export_bucket", &input(&fields), Some(&owner)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    fields.push(("schedule_recipient", &recipient));
    let saved = json(app.call("set_export_bucket", &input(&fields), Some(&owner)).await).await;
    assert_eq!(saved["schedule"], "daily", "{saved}");

    // The scheduler's round runs when a server starts (and every ten minutes after), on the instance
    // that leads the cluster: the first one gives the lease up as it stops, and the next takes it.
    stop_first.send(()).expect("stop");
    running.await.expect("stopped").expect("served");
    let (stop_again, again_stopped) = tokio::sync::oneshot::channel::<()>();
    let (again, running_again) = crate::helpers::launch(config.clone(), async {
        let _ = again_stopped.await;
    })
    .await;
    let mut done = serde_json::Value::Null;
    for _ in 0..300 {
        let list = json(again.call("team_exports", &[], Some(&owner)).await).await;
        if let Some(first) = list.as_array().and_then(|l| l.first()).filter(|e| e["status"] != "running") {
            done = first.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["destination"], "bucket");
    let listed = s3.list_objects_v2().bucket(&bucket).send().await.expect("list");
    let key = listed.contents()[0].key().expect("key").to_owned();
    let bytes = s3.get_object().bucket(&bucket).key(&key).send().await.expect("get").body.collect().await.expect("b");
    let entries = open_archive(&bytes.into_bytes(), &identity);
    assert!(entries.values().any(|v| v == &image), "the scheduled export lacks the team's file");

    // Not due again within the day: another start, leading in its turn, exports nothing.
    stop_again.send(()).expect("stop");
    running_again.await.expect("stopped").expect("served");
    let (third, _running_third) = crate::helpers::launch(config, std::future::pending()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let list = json(third.call("team_exports", &[], Some(&owner)).await).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}
