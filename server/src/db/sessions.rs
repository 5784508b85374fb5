//! The tower-sessions store over [`Db`], for both backends. Records are JSON; the signed-in user's id
//! is copied into its own column so that a user's sessions can be found (and, with account removal,
//! ended at once).
//!
//! Expiry here is real (wall-clock) time and only decides when a record is garbage. The idle and
//! absolute session timeouts are enforced by `crate::service::session` against the injectable clock.

use std::collections::HashMap;

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    session::{Id, Record},
    session_store::{self, SessionStore},
};

use super::{Db, DbError};
use crate::clock::unix_millis;

/// The session-data key under which `crate::service::session` keeps the signed-in user.
pub const AUTH_KEY: &str = "auth";

/// The field of that record that says when the user was last active.
pub const ACTIVITY_FIELD: &str = "last_seen_at";

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
        self.write(record, "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4)").await?;
        if let Some(cache) = self.db.auth_cache() {
            cache.saved_session(record);
        }
        Ok(())
    }

    async fn upsert(&self, record: &Record) -> Result<(), DbError> {
        self.write(
            record,
            "INSERT INTO sessions (id, user_id, data, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, \
             expires_at = excluded.expires_at",
        )
        .await
    }

    /// Runs `sql` with the record's id, user, data and expiry as `$1` to `$4`.
    async fn write(&self, record: &Record, sql: &'static str) -> Result<(), DbError> {
        let (data, user_id) = encode(record)?;
        sqlx::query(sql)
            .bind(record.id.to_string())
            .bind(user_id)
            .bind(data)
            .bind(unix_millis(record.expiry_date))
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Whether `record` differs from the stored one only in the time of the last activity (a
    /// read, which a busy writer does not block). Any doubt answers `false`: then the save fails.
    async fn only_activity_changed(&self, record: &Record) -> bool {
        let stored: Result<Option<(String,)>, sqlx::Error> =
            sqlx::query_as("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(record.id.to_string())
                .bind(unix_millis(OffsetDateTime::now_utc()))
                .fetch_optional(self.db.pool())
                .await;
        let Ok(Some((stored,))) = stored else { return false };
        let Ok(stored) = serde_json::from_str::<HashMap<String, serde_json::Value>>(&stored) else { return false };
        without_activity(stored) == without_activity(record.data.clone())
    }
}

fn without_activity(mut data: HashMap<String, serde_json::Value>) -> HashMap<String, serde_json::Value> {
    if let Some(serde_json::Value::Object(auth)) = data.get_mut(AUTH_KEY) {
        auth.remove(ACTIVITY_FIELD);
    }
    data
}

fn encode(record: &Record) -> Result<(String, Option<String>), DbError> {
    let data = serde_json::to_string(&record.data)?;
    let user_id =
        record.data.get(AUTH_KEY).and_then(|auth| auth.get("user_id")).and_then(|id| id.as_str()).map(str::to_owned);
    Ok((data, user_id))
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(backend)`
fn backend(e: DbError) -> session_store::Error {
    if e.is_unavailable() {
        tracing::warn!(error = %e, "session store: the database cannot be reached");
        return session_store::Error::Backend(DATABASE_UNAVAILABLE.into());
    }
    tracing::error!(error = %e, "session store");
    session_store::Error::Backend("session store unavailable".into())
}

/// The session store's error when the database cannot be reached (answered 503, not 500).
pub const DATABASE_UNAVAILABLE: &str = "database unavailable";

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
        match self.upsert(record).await {
            Ok(()) => {
                if let Some(cache) = self.db.auth_cache() {
                    cache.saved_session(record);
                }
                Ok(())
            }
            // Recording activity is worth no answer: when the database is too busy to take it (a
            // long write holds SQLite's lock past `busy_timeout`), the request's answer, whose work
            // is done, stands. The stored activity stays older, so the idle timeout can only come
            // sooner (and the next request tries again: the cache keeps the stored record).
            Err(e) if self.only_activity_changed(record).await => {
                tracing::warn!(error = %e, "could not record session activity; the answer stands");
                Ok(())
            }
            Err(e) => Err(backend(e)),
        }
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
