//! Upgrades keep every row: a database filled through the migrations of the previous release (up to
//! 0009) is upgraded by Moth itself, and every audit entry is still there, unchanged (0010 rebuilds
//! `audit_log` on `SQLite`, which cannot change a CHECK in place).

use sqlx::{any::AnyPoolOptions, migrate::Migrator, Row};

use crate::helpers::test_config;

/// The last migration of the release before files.
const PREVIOUS: u32 = 9;

#[tokio::test]
async fn upgrading_keeps_every_audit_entry() {
    let dir = tempfile::tempdir().expect("dir");
    let url = test_config(dir.path()).await.database_url;
    let backend = if url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
    let url = if backend == "sqlite" { format!("{url}?mode=rwc") } else { url };

    let previous = previous_migrations(dir.path(), backend);
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new().max_connections(1).connect(&url).await.expect("connect");
    Migrator::new(previous.as_path()).await.expect("migrator").run(&pool).await.expect("previous migrations");

    fill(&pool).await;
    pool.close().await;

    // Moth's own start: every migration since.
    let db = server::db::Db::connect(&test_url(&url)).await.expect("connect");
    db.migrate().await.expect("upgrade");
    db.close().await;

    let pool = AnyPoolOptions::new().max_connections(1).connect(&url).await.expect("connect");
    let rows =
        sqlx::query("SELECT id, team_id, actor_id, event, outcome, detail, source_ip, at FROM audit_log ORDER BY at")
            .fetch_all(&pool)
            .await
            .expect("audit rows");
    assert_eq!(rows.len(), ENTRIES.len(), "every entry is kept");
    for (row, expected) in rows.iter().zip(ENTRIES) {
        let got = (
            row.get::<String, _>(0),
            row.get::<Option<String>, _>(1),
            row.get::<Option<String>, _>(2),
            row.get::<String, _>(3),
            row.get::<String, _>(4),
            row.get::<String, _>(5),
            row.get::<Option<String>, _>(6),
            row.get::<i64, _>(7),
        );
        let (id, team_id, actor_id, event, outcome, detail, source_ip, at) = expected;
        let expected = (
            id.to_owned(),
            team_id.map(str::to_owned),
            actor_id.map(str::to_owned),
            event.to_owned(),
            outcome.to_owned(),
            detail.to_owned(),
            source_ip.map(str::to_owned),
            at,
        );
        assert_eq!(got, expected);
    }
    // And the new events are accepted after it.
    sqlx::query(
        "INSERT INTO audit_log (id, team_id, actor_id, event, outcome, detail, source_ip, at) \
         VALUES ('33333333-3333-4333-8333-333333333304', NULL, NULL, 'upload_rejected', 'failure', '', NULL, 40)",
    )
    .execute(&pool)
    .await
    .expect("a new event");
    pool.close().await;
}

/// The URL as Moth's configuration takes it (without the create mode the test added).
fn test_url(url: &str) -> String {
    url.trim_end_matches("?mode=rwc").to_owned()
}

/// The previous release's migrations, copied as they are (their checksums must still match).
fn previous_migrations(dir: &std::path::Path, backend: &str) -> std::path::PathBuf {
    let previous = dir.join("previous-migrations");
    std::fs::create_dir_all(&previous).expect("dir");
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(backend);
    for entry in std::fs::read_dir(&all).expect("migrations").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let version: u32 = name.split('_').next().and_then(|v| v.parse().ok()).expect("numbered migration");
        if version <= PREVIOUS {
            std::fs::copy(entry.path(), previous.join(&name)).expect("copy");
        }
    }
    previous
}

type Entry = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    i64,
);

const TEAM: &str = "11111111-1111-4111-8111-111111111111";
const USER: &str = "22222222-2222-4222-8222-222222222222";
const ENTRIES: [Entry; 3] = [
    ("33333333-3333-4333-8333-333333333301", Some(TEAM), Some(USER), "signed_in", "success", "", Some("192.0.2.1"), 10),
    ("33333333-3333-4333-8333-333333333302", None, None, "sign_in_failed", "failure", "email x@example.org", None, 20),
    ("33333333-3333-4333-8333-333333333303", Some(TEAM), Some(USER), "role_changed", "success", "to ADMIN", None, 30),
];

/// A team, a user and audit entries, written as the previous release's schema takes them.
async fn fill(pool: &sqlx::AnyPool) {
    sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, 'Old team', 1)")
        .bind(TEAM)
        .execute(pool)
        .await
        .expect("team");
    sqlx::query(
        "INSERT INTO users (id, email, display_name, password_hash, created_at) \
         VALUES ($1, 'old@example.org', 'Old', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 1)",
    )
    .bind(USER)
    .execute(pool)
    .await
    .expect("user");
    for (id, team_id, actor_id, event, outcome, detail, source_ip, at) in ENTRIES {
        sqlx::query(
            "INSERT INTO audit_log (id, team_id, actor_id, event, outcome, detail, source_ip, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(team_id)
        .bind(actor_id)
        .bind(event)
        .bind(outcome)
        .bind(detail)
        .bind(source_ip)
        .bind(at)
        .execute(pool)
        .await
        .expect("audit entry");
    }
}
