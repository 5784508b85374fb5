//! Failed attempts at a credential, counted in the database so that every server instance on it
//! sees the same ones (see `crate::bans`).

use super::{Db, DbError, NewRowKey};

pub async fn record_failure(
    db: &Db,
    address: &str,
    account: &str,
    device: Option<&str>,
    now_ms: i64,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO credential_failures (id, address, account, device, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(NewRowKey)
        .bind(address)
        .bind(account)
        .bind(device)
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

/// The end of the address's ban in force at `now_ms`, if any.
pub async fn banned_until(db: &Db, address: &str, now_ms: i64) -> Result<Option<i64>, DbError> {
    Ok(sqlx::query_scalar("SELECT MAX(until) FROM address_bans WHERE address = $1 AND until > $2")
        .bind(address)
        .bind(now_ms)
        .fetch_one(db.pool())
        .await?)
}

/// Bans the address until `until_ms`.
pub async fn ban(db: &Db, address: &str, until_ms: i64) -> Result<(), DbError> {
    sqlx::query("INSERT INTO address_bans (address, until) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(address)
        .bind(until_ms)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn is_known_device(db: &Db, device: &str, account: &str) -> Result<bool, DbError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM known_devices WHERE device = $1 AND account = $2")
        .bind(device)
        .bind(account)
        .fetch_optional(db.pool())
        .await?;
    Ok(found.is_some())
}

/// The most browsers kept per account: a client that signs in without keeping its cookie (a script)
/// makes a new one each time, and must not grow the table without bound.
pub const DEVICES_PER_ACCOUNT: i64 = 20;

/// Remembers that `device` signed in to `account`, keeping the account's most recent
/// [`DEVICES_PER_ACCOUNT`] browsers only.
pub async fn remember_device(db: &Db, device: &str, account: &str, now_ms: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO known_devices (device, account, seen_at) VALUES ($1, $2, $3) \
         ON CONFLICT (account, device) DO UPDATE SET seen_at = excluded.seen_at",
    )
    .bind(device)
    .bind(account)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM known_devices WHERE account = $1 AND device NOT IN \
         (SELECT device FROM known_devices WHERE account = $1 ORDER BY seen_at DESC LIMIT $2)",
    )
    .bind(account)
    .bind(DEVICES_PER_ACCOUNT)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How many failures at `account` came from this browser since `since_ms`, and when the oldest did.
pub async fn from_device(db: &Db, device: &str, account: &str, since_ms: i64) -> Result<(i64, Option<i64>), DbError> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM credential_failures WHERE device = $1 AND account = $2 AND at >= $3",
    )
    .bind(device)
    .bind(account)
    .bind(since_ms)
    .fetch_one(db.pool())
    .await?)
}

/// Forgets failures older than `before_ms` (they no longer count toward anything), bans ended by
/// `now_ms`, and browsers not seen signing in since `devices_before_ms`.
pub async fn forget_before(db: &Db, before_ms: i64, now_ms: i64, devices_before_ms: i64) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM credential_failures WHERE at < $1").bind(before_ms).execute(db.pool()).await?;
    sqlx::query("DELETE FROM address_bans WHERE until <= $1").bind(now_ms).execute(db.pool()).await?;
    sqlx::query("DELETE FROM known_devices WHERE seen_at < $1").bind(devices_before_ms).execute(db.pool()).await?;
    Ok(done.rows_affected())
}
