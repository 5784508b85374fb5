//! What backups read from a database: its tables, a digest of each table's rows, the stored files'
//! keys, and the record of snapshots and drills (`backup_runs`).
//!
//! The digest functions take a bare connection so that they read the same thing everywhere: the
//! live database inside the snapshot's own transaction, the snapshot file, and a restored copy.
//! Table names are read from the database's own catalogue (never from a request) and quoted.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use super::{Backend, Db, DbError};

/// One table's row count and a digest of its rows, independent of their physical order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDigest {
    pub table: String,
    pub rows: i64,
    /// `SQLite`: SHA-256 over every row as `quote(column)|...` lines in sorted order. `PostgreSQL`:
    /// MD5 over the sorted MD5s of each row's text form. Only compared within one backend.
    pub digest: String,
}

/// The tables of the schema (on `SQLite` without the full-text index's virtual table, whose rows
/// live in its shadow tables, which are included).
pub async fn tables(conn: &mut AnyConnection, backend: Backend) -> Result<Vec<String>, DbError> {
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
    };
    Ok(sqlx::query_scalar(sql).fetch_all(&mut *conn).await?)
}

/// Every table's [`TableDigest`], in name order.
pub async fn digests(conn: &mut AnyConnection, backend: Backend) -> Result<Vec<TableDigest>, DbError> {
    let mut all = Vec::new();
    for table in tables(conn, backend).await? {
        all.push(digest(conn, backend, table).await?);
    }
    Ok(all)
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

async fn digest(conn: &mut AnyConnection, backend: Backend, table: String) -> Result<TableDigest, DbError> {
    match backend {
        Backend::Postgres => {
            let sql = format!(
                "SELECT count(*), coalesce(md5(string_agg(md5(CAST(t AS TEXT)), '' ORDER BY md5(CAST(t AS TEXT)))), '') \
                 FROM {} AS t",
                quoted(&table)
            );
            let row = sqlx::query(&sql).fetch_one(&mut *conn).await?;
            Ok(TableDigest { rows: row.try_get(0)?, digest: row.try_get(1)?, table })
        }
        Backend::Sqlite => {
            let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                .bind(&table)
                .fetch_all(&mut *conn)
                .await?;
            let line = columns.iter().map(|c| format!("quote({})", quoted(c))).collect::<Vec<_>>().join(" || '|' || ");
            let sql = format!("SELECT {line} AS r FROM {} ORDER BY r", quoted(&table));
            let lines: Vec<String> = sqlx::query_scalar(&sql).fetch_all(&mut *conn).await?;
            let mut hash = Sha256::new();
            for line in &lines {
                hash.update(line.as_bytes());
                hash.update(b"\n");
            }
            let rows = i64::try_from(lines.len()).unwrap_or(i64::MAX);
            Ok(TableDigest { table, rows, digest: crate::digest::hex(&hash.finalize()) })
        }
    }
}

/// A stored file the database refers to.
pub struct StoredObject {
    pub storage_key: String,
    /// Deleted attachments may already be gone from the store; a live one must be there.
    pub deleted: bool,
}

pub async fn stored_objects(conn: &mut AnyConnection) -> Result<Vec<StoredObject>, DbError> {
    let rows = sqlx::query(
        "SELECT storage_key, CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END FROM attachments ORDER BY storage_key",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| Ok(StoredObject { storage_key: row.try_get(0)?, deleted: row.try_get::<i64, _>(1)? == 1 }))
        .collect()
}

/// Whether the database has any table of its own (a restore goes only into an empty one).
pub async fn is_empty(conn: &mut AnyConnection, backend: Backend) -> Result<bool, DbError> {
    Ok(tables(conn, backend).await?.is_empty())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunKind {
    Snapshot,
    Drill,
}

impl RunKind {
    fn as_str(self) -> &'static str {
        match self {
            RunKind::Snapshot => "snapshot",
            RunKind::Drill => "drill",
        }
    }
}

/// A snapshot made or a drill run, as `backup_runs` holds it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Run {
    pub kind: RunKind,
    pub snapshot: String,
    pub started_at: i64,
    pub finished_at: i64,
    pub passed: bool,
    pub detail: String,
    pub bytes: i64,
}

pub async fn record_run(db: &Db, run: &Run) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO backup_runs (id, kind, snapshot, started_at, finished_at, outcome, detail, bytes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(run.kind.as_str())
    .bind(&run.snapshot)
    .bind(run.started_at)
    .bind(run.finished_at)
    .bind(if run.passed { "passed" } else { "failed" })
    .bind(run.detail.chars().take(2000).collect::<String>())
    .bind(run.bytes)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The newest runs of `kind`, newest first; `passed_only` skips failures.
pub async fn recent_runs(db: &Db, kind: RunKind, passed_only: bool, limit: i64) -> Result<Vec<Run>, DbError> {
    let rows = sqlx::query(
        "SELECT snapshot, started_at, finished_at, outcome, detail, bytes FROM backup_runs \
         WHERE kind = $1 AND ($2 = 0 OR outcome = 'passed') ORDER BY finished_at DESC LIMIT $3",
    )
    .bind(kind.as_str())
    .bind(i64::from(passed_only))
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Run {
                kind,
                snapshot: row.try_get(0)?,
                started_at: row.try_get(1)?,
                finished_at: row.try_get(2)?,
                passed: row.try_get::<String, _>(3)? == "passed",
                detail: row.try_get(4)?,
                bytes: row.try_get(5)?,
            })
        })
        .collect()
}
