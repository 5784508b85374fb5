//! Failed attempts at a credential, counted in the database so that every server instance on it
//! sees the same ones (see `crate::bans`).

use super::{Db, DbError, NewRowKey};

pub async fn record_failure(db: &Db, address: &str, account: &str, now_ms: i64) -> Result<(), DbError> {
    sqlx::query("INSERT INTO credential_failures (id, address, account, at) VALUES ($1, $2, $3, $4)")
        .bind(NewRowKey)
        .bind(address)
        .bind(account)
        .bind(now_ms)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// How many failures came from `address` since `since_ms`, and when the newest did.
pub async fn from_address(db: &Db, address: &str, since_ms: i64) -> Result<(i64, Option<i64>), DbError> {
    Ok(sqlx::query_as("SELECT COUNT(*), MAX(at) FROM credential_failures WHERE address = $1 AND at >= $2")
        .bind(address)
        .bind(since_ms)
        .fetch_one(db.pool())
        .await?)
}

/// How many failures named `account` since `since_ms`, and when the oldest of them was.
pub async fn for_account(db: &Db, account: &str, since_ms: i64) -> Result<(i64, Option<i64>), DbError> {
    Ok(sqlx::query_as("SELECT COUNT(*), MIN(at) FROM credential_failures WHERE account = $1 AND at >= $2")
        .bind(account)
        .bind(since_ms)
        .fetch_one(db.pool())
        .await?)
}

/// Forgets failures older than `before_ms` (they no longer count toward anything).
pub async fn forget_before(db: &Db, before_ms: i64) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM credential_failures WHERE at < $1").bind(before_ms).execute(db.pool()).await?;
    Ok(done.rows_affected())
}
