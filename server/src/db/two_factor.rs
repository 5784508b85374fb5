//! Two-factor authentication records: a user's sealed TOTP key (in force once enabled), the newest
//! time step a code was accepted for (so no code is accepted twice), and recovery code hashes.

use app::model::UserId;

use super::{Db, DbError};

/// A user's key as stored (sealed) and whether it is in force.
#[derive(sqlx::FromRow)]
pub struct Stored {
    pub secret: String,
    pub key_id: String,
    pub wrapped_key: String,
    pub enabled_at: Option<i64>,
}

pub async fn find(db: &Db, user: UserId) -> Result<Option<Stored>, DbError> {
    Ok(sqlx::query_as("SELECT secret, key_id, wrapped_key, enabled_at FROM two_factor WHERE user_id = $1")
        .bind(user)
        .fetch_optional(db.pool())
        .await?)
}

/// Keeps a new key for `user`, not in force yet; `false` when one is in force already.
pub async fn start(db: &Db, user: UserId, secret: &str, key_id: &str, wrapped_key: &str) -> Result<bool, DbError> {
    let done = sqlx::query(
        "INSERT INTO two_factor (user_id, secret, key_id, wrapped_key) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET secret = $2, key_id = $3, wrapped_key = $4, last_step = 0 \
         WHERE two_factor.enabled_at IS NULL",
    )
    .bind(user)
    .bind(secret)
    .bind(key_id)
    .bind(wrapped_key)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Puts the key in force, with the step its first code was accepted for and fresh recovery codes
/// (their hashes); `false` when it was in force already or there is none.
pub async fn enable(db: &Db, user: UserId, step: i64, code_hashes: &[String], now_ms: i64) -> Result<bool, DbError> {
    let mut tx = db.begin_write().await?;
    let done =
        sqlx::query("UPDATE two_factor SET enabled_at = $2, last_step = $3 WHERE user_id = $1 AND enabled_at IS NULL")
            .bind(user)
            .bind(now_ms)
            .bind(step)
            .execute(&mut *tx)
            .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user).execute(&mut *tx).await?;
    for hash in code_hashes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Takes the key and the recovery codes away.
pub async fn disable(db: &Db, user: UserId) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM two_factor WHERE user_id = $1").bind(user).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Records that a code of time step `step` was used: `false` when that step (or a later one) was
/// used already, which is how a replayed code is refused (one statement, so two requests racing
/// with the same code cannot both win).
pub async fn use_step(db: &Db, user: UserId, step: i64) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE two_factor SET last_step = $2 WHERE user_id = $1 AND last_step < $2 AND enabled_at IS NOT NULL",
    )
    .bind(user)
    .bind(step)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Uses a recovery code (by its hash): `false` when it is not one of the user's unused codes.
pub async fn use_recovery_code(db: &Db, user: UserId, hash: &str, now_ms: i64) -> Result<bool, DbError> {
    let done =
        sqlx::query("UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL")
            .bind(user)
            .bind(hash)
            .bind(now_ms)
            .execute(db.pool())
            .await?;
    Ok(done.rows_affected() == 1)
}
