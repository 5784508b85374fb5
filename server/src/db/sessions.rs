//! The tower-sessions store over [`Db`], for both backends. Records are JSON; the signed-in user's id
//! is copied into its own column so that a user's sessions can be found (and, with account removal,
//! ended at once).
//!
//! Expiry here is real (wall-clock) time and only decides when a record is garbage. The idle and
//! absolute session timeouts are enforced by `crate::session` against the injectable clock.

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};

use super::{Db, DbError};
use crate::clock::unix_millis;

/// The session-data key under which `crate::session` keeps the signed-in user.
pub const AUTH_KEY: &str = "auth";

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Deletes records whose wall-clock expiry has passed.
    pub async fn delete_expired(&self) -> Result<u64, DbError> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(unix_millis(OffsetDateTime::now_utc()))
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected())
    }

    async fn insert(&self, record: &Record) -> Result<(), DbError> {
        let (data, user_id) = encode(record)?;
        sqlx::query("INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(record.id.to_string())
            .bind(user_id)
            .bind(data)
            .bind(unix_millis(record.expiry_date))
            .execute(self.db.pool())
            .await?;
        if let Some(cache) = self.db.auth_cache() {
            cache.saved_session(record);
        }
        Ok(())
    }
}

fn encode(record: &Record) -> Result<(String, Option<String>), DbError> {
    let data = serde_json::to_string(&record.data)?;
    let user_id =
        record.data.get(AUTH_KEY).and_then(|auth| auth.get("user_id")).and_then(|id| id.as_str()).map(str::to_owned);
    Ok((data, user_id))
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(backend)`
fn backend(e: DbError) -> session_store::Error {
    tracing::error!(error = %e, "session store");
    session_store::Error::Backend("session store unavailable".into())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Ids are 128 random bits; a collision is astronomically unlikely but must not overwrite.
        loop {
            match self.insert(record).await {
                Ok(()) => return Ok(()),
                Err(e) if e.is_unique_violation() => record.id = Id::default(),
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (data, user_id) = encode(record).map_err(backend)?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, \
             expires_at = excluded.expires_at",
        )
        .bind(record.id.to_string())
        .bind(user_id)
        .bind(data)
        .bind(unix_millis(record.expiry_date))
        .execute(self.db.pool())
        .await
        .map_err(|e| backend(e.into()))?;
        if let Some(cache) = self.db.auth_cache() {
            cache.saved_session(record);
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let since = match self.db.auth_cache().map(|cache| cache.session(id)) {
            Some(Ok(record)) if record.expiry_date > OffsetDateTime::now_utc() => return Ok(Some(record)),
            Some(Err(since)) => Some(since),
            // Expired (the database answers nothing) or no cache.
            Some(Ok(_)) | None => None,
        };
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id.to_string())
                .bind(unix_millis(OffsetDateTime::now_utc()))
                .fetch_optional(self.db.pool())
                .await
                .map_err(|e| backend(e.into()))?;
        let Some((data, expires_at)) = row else { return Ok(None) };
        let data = serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp_nanos(i128::from(expires_at) * 1_000_000)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let record = Record { id: *id, data, expiry_date };
        if let (Some(cache), Some(since)) = (self.db.auth_cache(), since) {
            cache.fill_session(since, &record);
        }
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        // Forgotten before and after: no request of this process may use it once the delete began.
        if let Some(cache) = self.db.auth_cache() {
            cache.deleted_session(id);
        }
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(self.db.pool())
            .await
            .map_err(|e| backend(e.into()))?;
        if let Some(cache) = self.db.auth_cache() {
            cache.deleted_session(id);
        }
        Ok(())
    }
}
