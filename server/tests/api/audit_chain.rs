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
