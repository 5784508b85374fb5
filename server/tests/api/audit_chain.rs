//! The audit log cannot be quietly rewritten: an edited, a removed and a cut-off entry are each
//! found by the verification `moth audit verify` runs, with the key only the server holds.

use server::db::{audit_chain, Db};

use crate::helpers::{launch, test_config, TestApp};

/// A running Moth with a few audit entries, the database under it (through Moth's data layer and a
/// plain pool, for tampering) and its chain key.
async fn audited() -> (TestApp, Db, sqlx::AnyPool, audit_chain::ChainKey, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let config = test_config(dir.path()).await;
    let (app, _running) = launch(config.clone(), std::future::pending()).await;
    let (owner, _) = app.owner("audited").await;
    for role in ["NORMAL", "GUEST", "ADMIN"] {
        app.new_member(&owner.cookie, role).await;
    }
    let db = Db::connect(&config.database_url).await.expect("db");
    // The key as the server settled it at start (a key per team's chain).
    let key = audit_chain::load(&db, config.audit_key().expect("key")).await.expect("scheme");
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&config.database_url).await.expect("pool");
    (app, db, pool, key, dir)
}

async fn team_chain(pool: &sqlx::AnyPool) -> (String, i64) {
    let (chain, head): (String, i64) = sqlx::query_as(
        "SELECT chain, MAX(seq) FROM audit_log WHERE chain <> '' GROUP BY chain ORDER BY 2 DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .expect("a team's chain");
    (chain, head)
}

#[tokio::test]
async fn an_intact_log_verifies_and_an_edited_entry_is_found() {
    let (_app, db, pool, key, _dir) = audited().await;
    assert_eq!(audit_chain::verify(&db, &key).await.expect("verify"), []);
    let (chain, head) = team_chain(&pool).await;
    assert!(head >= 4, "sign-up and three invitations at least: {head}");
    sqlx::query("UPDATE audit_log SET detail = 'nothing happened' WHERE chain = $1 AND seq = 2")
        .bind(&chain)
        .execute(&pool)
        .await
        .expect("edit");
    let problems = audit_chain::verify(&db, &key).await.expect("verify");
    assert_eq!(problems, [audit_chain::Problem { chain, seq: 2, what: "altered" }]);
    // Without the key, the log cannot be re-sealed to hide it: another key finds every entry altered.
    let other = audit_chain::ChainKey::new([9; 32]);
    assert!(!audit_chain::verify(&db, &other).await.expect("verify").is_empty());
}

#[tokio::test]
async fn a_removed_entry_and_a_cut_off_end_are_found() {
    let (_app, db, pool, key, _dir) = audited().await;
    let (chain, head) = team_chain(&pool).await;
    audit_chain::checkpoint(&db, &key, 1).await.expect("checkpoint");

    // The newest entries removed: the checkpoint says there were more.
    sqlx::query("DELETE FROM audit_log WHERE chain = $1 AND seq = $2")
        .bind(&chain)
        .bind(head)
        .execute(&pool)
        .await
        .expect("delete newest");
    let problems = audit_chain::verify(&db, &key).await.expect("verify");
    assert_eq!(problems, [audit_chain::Problem { chain: chain.clone(), seq: head, what: "truncated" }]);

    // One from the middle: a gap.
    sqlx::query("DELETE FROM audit_log WHERE chain = $1 AND seq = 2")
        .bind(&chain)
        .execute(&pool)
        .await
        .expect("delete");
    let problems = audit_chain::verify(&db, &key).await.expect("verify");
    assert_eq!(problems, [audit_chain::Problem { chain, seq: 2, what: "missing" }]);
}

/// `moth audit verify` on the test's database and keys: whether it passed, and what it printed.
fn cli_verifies(config: &server::config::Config) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_moth"))
        .args(["audit", "verify"])
        .env_clear()
        .env("DATABASE_URL", &config.database_url)
        .env("MOTH_MASTER_KEY_FILE", &config.master_key_file)
        .env("MOTH_AUDIT_KEY_FILE", &config.audit_key_file)
        .output()
        .expect("moth runs");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The team's audit page as its owner reads it: the details shown.
async fn shown_details(app: &TestApp, cookie: &str) -> Vec<String> {
    let page: serde_json::Value = app.call("audit_log", &[], Some(cookie)).await.json().await.expect("json");
    page["entries"].as_array().expect("entries").iter().map(|e| e["detail"].as_str().unwrap_or("").to_owned()).collect()
}

/// Three forgeries that need no key: a row inserted with no place in the chain, and the newest entry
/// edited after clearing its place and MAC (before and after a checkpoint). Each is reported by the
/// CLI's verification, never shown on the audit page or in the export as part of the log, and not
/// sealed into the chain by the next start.
#[tokio::test]
async fn rows_outside_the_chain_are_reported_never_shown_and_never_sealed() {
    let dir = tempfile::tempdir().expect("dir");
    let config = test_config(dir.path()).await;
    let (app, _running) = launch(config.clone(), std::future::pending()).await;
    let (owner, team) = app.owner("forged").await;
    app.new_member(&owner.cookie, "NORMAL").await;
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&config.database_url).await.expect("pool");
    assert!(cli_verifies(&config).0, "an untouched log verifies");

    // 1. A row inserted with no chain position.
    sqlx::query(
        "INSERT INTO audit_log (id, team_id, actor_id, event, outcome, detail, source_ip, at) \
         VALUES ('00000000-0000-4000-8000-00000000f0f0', $1, $2, 'role_changed', 'success', 'FABRICATED: made the intruder an owner', '192.0.2.9', 1)",
    )
    .bind(&team)
    .bind(&owner.user_id)
    .execute(&pool)
    .await
    .expect("insert");
    let (verified, output) = cli_verifies(&config);
    assert!(!verified && output.contains("outside the chain (not written by Moth): 1"), "{output}");
    assert!(!shown_details(&app, &owner.cookie).await.iter().any(|d| d.starts_with("FABRICATED")), "shown as logged");
    let export = app.audit_export(&owner.cookie).await;
    assert!(!export.to_string().contains("FABRICATED"), "exported as logged");

    // 2. The newest entry edited after clearing its place and MAC.
    let (chain, head) = team_chain(&pool).await;
    sqlx::query("UPDATE audit_log SET seq = NULL, mac = NULL, detail = 'FABRICATED: nothing happened' WHERE chain = $1 AND seq = $2")
        .bind(&chain)
        .bind(head)
        .execute(&pool)
        .await
        .expect("edit newest");
    let (verified, output) = cli_verifies(&config);
    assert!(!verified && output.contains("outside the chain (not written by Moth): 2"), "{output}");

    // 3. A start does not seal them: they are still outside the chain, and still reported.
    let (_again, _running_again) = launch(config.clone(), std::future::pending()).await;
    let unchained: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE seq IS NULL").fetch_one(&pool).await.expect("count");
    assert_eq!(unchained, 2, "the start sealed rows it cannot vouch for");
    assert!(!cli_verifies(&config).0);
    // Entries written since still chain and verify as a chain.
    app.new_member(&owner.cookie, "GUEST").await;
    let db = Db::connect(&config.database_url).await.expect("db");
    let key = audit_chain::load(&db, config.audit_key().expect("key")).await.expect("scheme");
    let problems = audit_chain::verify(&db, &key).await.expect("verify");
    assert!(problems.iter().all(|p| p.what == audit_chain::UNCHAINED), "{problems:?}");
}

/// A flood of audited events at once (as a sign-in flood makes): every entry is written, in its
/// chain, and the chain verifies; none is lost to a race for the head.
#[tokio::test]
async fn concurrent_entries_are_all_chained_and_verify() {
    let dir = tempfile::tempdir().expect("dir");
    let config = test_config(dir.path()).await;
    let (_app, _running) = launch(config.clone(), std::future::pending()).await;
    let db = crate::helpers::data_layer(&config).await;
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&config.database_url).await.expect("pool");
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(&pool).await.expect("count");
    let writers: Vec<_> = (0..64)
        .map(|n| {
            let db = db.clone();
            tokio::spawn(async move {
                let record = server::db::audit::Record {
                    event: server::db::audit::Event::SignInFailed,
                    success: false,
                    team_id: None,
                    actor_id: None,
                    detail: format!("attempt {n}"),
                    source_ip: Some("192.0.2.1".into()),
                };
                server::db::audit::record(&db, record, 1_000 + n).await;
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE seq IS NOT NULL")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(after - before, 64, "entries were lost");
    let key = audit_chain::load(&db, config.audit_key().expect("key")).await.expect("scheme");
    assert_eq!(audit_chain::verify(&db, &key).await.expect("verify"), []);
}
