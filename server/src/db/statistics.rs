//! The query planner's statistics on `SQLite`, kept by the server itself (a user must never have to
//! run `ANALYZE`), and never of the full-text index's own tables.
//!
//! FTS5 keeps its index in ordinary "shadow" tables (`issue_text_data`, ...) and runs statements of
//! its own on them, such as `DELETE FROM issue_text_data WHERE id >= ? AND id <= ?` whenever a merge
//! of its segments completes. `PRAGMA optimize` analyses every table, these included; on a new
//! installation it found `issue_text_data` with 2 rows, and with that statistic `SQLite` plans the
//! range delete as a scan of the whole index. At 400,000 issues each merge step then read about 2 GB
//! and held the writer for up to 1.8 s (and, most likely, at 900,000 long enough for a session write
//! to give up). Without statistics `SQLite` assumes a large table and always seeks by rowid, which is
//! what FTS5's statements, all key look-ups and ranges, want at every size.
//!
//! So the server analyses its own tables only, with a bounded `analysis_limit` (12 ms at a million
//! issues, 170 ms cold), on a connection of its own that is closed afterwards; deletes any
//! statistics of shadow tables (an older Moth's `PRAGMA optimize` or an operator's `ANALYZE` wrote
//! them); and touches the schema so that every pooled connection loads the new statistics with its
//! next statement (`SQLite` reloads them only with the schema).

use sqlx::{AnyConnection, ConnectOptions, Connection, Executor};

use super::{Db, DbError};

/// Rows of each index that `ANALYZE` examines: enough for the planner's estimates, bounded in cost.
const ANALYSIS_LIMIT: u32 = 1000;

/// Moth's own tables: not `SQLite`'s, not sqlx's migration record, not the full-text index's shadows.
const OWN_TABLES: &str = "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_sqlx\\_%' ESCAPE '\\' ORDER BY name";

/// Analyses Moth's tables, forgets any statistics of shadow tables and makes every connection reload.
pub(super) async fn refresh(db: &Db) -> Result<(), DbError> {
    let mut conn: AnyConnection = db.pool().connect_options().connect().await?;
    let refreshed = refresh_on(&mut conn).await;
    conn.close().await?;
    refreshed
}

async fn refresh_on(conn: &mut AnyConnection) -> Result<(), DbError> {
    conn.execute("PRAGMA busy_timeout = 5000").await?;
    conn.execute("PRAGMA synchronous = FULL").await?;
    conn.execute(format!("PRAGMA analysis_limit = {ANALYSIS_LIMIT}").as_str()).await?;
    let tables: Vec<(String,)> = sqlx::query_as(OWN_TABLES).fetch_all(&mut *conn).await?;
    let mut tx = conn.begin().await?;
    for (table,) in &tables {
        // A name from the schema, quoted as an identifier; never input.
        tx.execute(format!("ANALYZE \"{}\"", table.replace('"', "\"\"")).as_str()).await?;
    }
    // `ANALYZE` of any table creates `sqlite_stat1` (so this table exists now).
    tx.execute("DELETE FROM sqlite_stat1 WHERE tbl IN (SELECT name FROM pragma_table_list WHERE type = 'shadow')")
        .await?;
    // A schema change, so that every other connection reparses the schema, and with it the statistics.
    tx.execute("CREATE VIEW moth_statistics_changed AS SELECT 1").await?;
    tx.execute("DROP VIEW moth_statistics_changed").await?;
    tx.commit().await?;
    Ok(())
}
