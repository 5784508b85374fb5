//! Leases: who does the work that must run once across the cluster, and which instances are alive.
//!
//! A lease is a row naming its holder and when it expires, by the database's clock. Its holder
//! renews it; another instance may take it only once it has expired, and then its `term` goes up.
//! The rule is one statement ([`hold`]), so two instances racing for an expired lease cannot both
//! win: the upsert's condition is checked against the row as the database has it.

use super::{Backend, Db, DbError};

/// The lease of the cluster's scheduled work (see `cluster::Leadership`).
pub const CHORES: &str = "chores";

/// The lease an instance holds while it lives.
pub fn instance(id: &str) -> String {
    format!("instance:{id}")
}

/// The database's clock, in Unix milliseconds: leases are compared against it alone.
pub async fn now_ms(db: &Db) -> Result<i64, DbError> {
    let statement = match db.backend() {
        Backend::Sqlite => "SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
        Backend::Postgres => "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    };
    Ok(sqlx::query_scalar(statement).fetch_one(db.pool()).await?)
}

/// Takes or renews lease `name` for `holder` until `ttl_ms` from now; answers its term when
/// `holder` holds it afterwards, `None` when another holder's lease has not expired.
pub async fn hold(db: &Db, name: &str, holder: &str, ttl_ms: i64) -> Result<Option<i64>, DbError> {
    let now = now_ms(db).await?;
    let term: Option<i64> = sqlx::query_scalar(
        "INSERT INTO leases (name, holder, term, expires_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (name) DO UPDATE SET \
           term = CASE WHEN leases.holder = excluded.holder THEN leases.term ELSE leases.term + 1 END, \
           holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE leases.holder = excluded.holder OR leases.expires_at <= $4 \
         RETURNING term",
    )
    .bind(name)
    .bind(holder)
    .bind(now + ttl_ms)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    Ok(term)
}

/// Gives lease `name` up at once if `holder` holds it (a clean stop), so another takes it now.
pub async fn release(db: &Db, name: &str, holder: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
        .bind(name)
        .bind(holder)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Removes leases that expired more than an hour ago (instances long gone).
pub async fn forget_expired(db: &Db) -> Result<u64, DbError> {
    let now = now_ms(db).await?;
    let done = sqlx::query("DELETE FROM leases WHERE expires_at < $1").bind(now - 3_600_000).execute(db.pool()).await?;
    Ok(done.rows_affected())
}
