//! Idempotency keys of the REST API's creating requests, kept per token for a day (see
//! `http::rest::idempotent`). A key is claimed before the request runs, so two requests with one key
//! at once cannot both create: the second finds the claim (the primary key) and is told to wait.

use app::model::TokenId;

use super::{Db, DbError};

/// How long a key is remembered.
pub const KEPT_MS: i64 = 86_400_000;
/// The most keys one token claims in a day.
pub const KEYS_PER_TOKEN_PER_DAY: i64 = 10_000;

/// What a claimed key finds.
pub enum Claim {
    /// The first request with this key: run it, then [`complete`] (or [`release`]).
    New,
    /// An earlier request with this key and body finished: its answer.
    Replay { status: u16, body: String, location: Option<String> },
    /// An earlier request with this key had another body.
    Mismatch,
    /// An earlier request with this key is still running.
    InFlight,
    /// The token claimed [`KEYS_PER_TOKEN_PER_DAY`] keys today.
    TooMany,
}

#[derive(sqlx::FromRow)]
struct Stored {
    request_hash: String,
    status: Option<i64>,
    response: Option<String>,
    location: Option<String>,
}

/// Claims `key` for `token` with the request's hash, or says what an earlier request with it left.
pub async fn claim(db: &Db, token: TokenId, key: &str, request_hash: &str, now_ms: i64) -> Result<Claim, DbError> {
    // A key older than a day is forgotten: the next request with it is new.
    sqlx::query("DELETE FROM idempotency_keys WHERE token_id = $1 AND created_at < $2")
        .bind(token)
        .bind(now_ms - KEPT_MS)
        .execute(db.pool())
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (token_id, request_key, request_hash, created_at) \
         SELECT $1, $2, $3, $4 WHERE (SELECT COUNT(*) FROM idempotency_keys WHERE token_id = $1) < $5 \
         ON CONFLICT DO NOTHING",
    )
    .bind(token)
    .bind(key)
    .bind(request_hash)
    .bind(now_ms)
    .bind(KEYS_PER_TOKEN_PER_DAY)
    .execute(db.pool())
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::New);
    }
    let stored: Option<Stored> = sqlx::query_as(
        "SELECT request_hash, status, response, location FROM idempotency_keys WHERE token_id = $1 AND request_key = $2",
    )
    .bind(token)
    .bind(key)
    .fetch_optional(db.pool())
    .await?;
    Ok(match stored {
        None => Claim::TooMany,
        Some(row) if !crate::digest::constant_time_eq(row.request_hash.as_bytes(), request_hash.as_bytes()) => {
            Claim::Mismatch
        }
        Some(Stored { status: Some(status), response, location, .. }) => Claim::Replay {
            status: u16::try_from(status).map_err(|_| DbError::Inconsistent("an idempotency key's status"))?,
            body: response.unwrap_or_default(),
            location,
        },
        Some(_) => Claim::InFlight,
    })
}

/// Keeps the answer of the request that claimed `key`.
pub async fn complete(
    db: &Db,
    token: TokenId,
    key: &str,
    status: u16,
    body: &str,
    location: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $3, response = $4, location = $5 WHERE token_id = $1 AND request_key = $2",
    )
    .bind(token)
    .bind(key)
    .bind(i64::from(status))
    .bind(body)
    .bind(location)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Forgets a claim whose request failed on the server's side (5xx), so that a retry runs it again.
pub async fn release(db: &Db, token: TokenId, key: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM idempotency_keys WHERE token_id = $1 AND request_key = $2 AND status IS NULL")
        .bind(token)
        .bind(key)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Forgets every key older than a day (the periodic sweep).
pub async fn forget_old(db: &Db, now_ms: i64) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(now_ms - KEPT_MS)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}
