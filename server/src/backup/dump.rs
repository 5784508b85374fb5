//! A consistent copy of the database, and loading one back.
//!
//! - `SQLite`: `VACUUM INTO` writes a compact copy as of one read transaction while Moth keeps
//!   serving; the copy is switched out of WAL mode so that it is one self-contained file.
//! - `PostgreSQL`: `pg_dump` of a snapshot exported by a repeatable-read transaction, in which the
//!   table digests and the list of stored files are read too, so all three agree to the row.
//!
//! `pg_dump`/`pg_restore` get the connection through `PG*` environment variables, never on their
//! command line (where `ps` would show a password).

use std::{path::Path, process::Stdio, str::FromStr};

use sqlx::{AnyConnection, ConnectOptions, Connection};

use super::BackupError;
use crate::db::{
    self,
    backup::{StoredObject, TableDigest},
    Backend, Db,
};

pub struct Copy {
    pub tables: Vec<TableDigest>,
    pub objects: Vec<StoredObject>,
}

/// Writes the database's copy to `to` (a new file) and reads, from that same state, the digests and
/// the stored files it refers to.
pub async fn take(db: &Db, database_url: &str, to: &Path) -> Result<Copy, BackupError> {
    match db.backend() {
        Backend::Sqlite => {
            let mut conn = db.acquire().await?;
            sqlx::query("VACUUM INTO $1").bind(to.to_string_lossy().into_owned()).execute(&mut *conn).await?;
            drop(conn);
            let mut copy = open_sqlite(to).await?;
            sqlx::query("PRAGMA journal_mode = DELETE").execute(&mut copy).await?;
            let tables = db::backup::digests(&mut copy, Backend::Sqlite).await?;
            let objects = db::backup::stored_objects(&mut copy).await?;
            copy.close().await?;
            Ok(Copy { tables, objects })
        }
        Backend::Postgres => {
            let mut conn = db.acquire().await?;
            let mut tx = conn.begin().await?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
            let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()").fetch_one(&mut *tx).await?;
            let to = to.to_string_lossy().into_owned();
            let args = ["--format=custom", "--no-owner", "--no-privileges", "--snapshot", &snapshot, "--file", &to];
            run_pg_tool("pg_dump", &args, database_url).await?;
            let tables = db::backup::digests(&mut tx, Backend::Postgres).await?;
            let objects = db::backup::stored_objects(&mut tx).await?;
            tx.commit().await?;
            Ok(Copy { tables, objects })
        }
    }
}

/// Opens one connection to the database at `url`, outside Moth's pool.
pub async fn open(url: &str) -> Result<AnyConnection, BackupError> {
    sqlx::any::install_default_drivers();
    let options = sqlx::any::AnyConnectOptions::from_str(url)?.disable_statement_logging();
    Ok(options.connect().await?)
}

/// Opens a `SQLite` file by itself (not through Moth's pool: no migrations, no writer task).
pub async fn open_sqlite(path: &Path) -> Result<AnyConnection, BackupError> {
    open(&format!("sqlite:{}", path.display())).await
}

/// `PRAGMA integrity_check` on a restored `SQLite` file: `ok`, or what is wrong.
pub async fn sqlite_integrity(conn: &mut AnyConnection) -> Result<(), BackupError> {
    let result: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&mut *conn).await?;
    if result == ["ok"] {
        Ok(())
    } else {
        Err(BackupError::Damaged(format!("integrity check: {}", result.join("; "))))
    }
}

/// Loads a `pg_dump` archive into the (empty) database at `database_url`, all or nothing.
pub async fn pg_restore(dump: &Path, database_url: &str) -> Result<(), BackupError> {
    let dump = dump.to_string_lossy().into_owned();
    // pg_restore writes a script unless given `--dbname`; the name is no secret (the rest stays in PG*).
    let database = pg_environment(database_url)?
        .into_iter()
        .find_map(|(k, v)| (k == "PGDATABASE").then_some(v))
        .ok_or_else(|| BackupError::Tool("the database URL names no database".into()))?;
    let database = format!("--dbname={database}");
    let args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", &database, &dump];
    run_pg_tool("pg_restore", &args, database_url).await
}

async fn run_pg_tool(tool: &str, args: &[&str], database_url: &str) -> Result<(), BackupError> {
    let mut command = tokio::process::Command::new(tool);
    command.args(args);
    for (key, value) in pg_environment(database_url)? {
        command.env(key, value);
    }
    run_tool(tool, command).await.map(|_| ())
}

/// Runs an external tool to its end (killed if the caller goes away) and answers its standard
/// output; a tool that cannot start or fails is a [`BackupError::Tool`] with the start of what it
/// said (standard error, then output: pgBackRest writes its errors to the latter).
pub(super) async fn run_tool(tool: &str, mut command: tokio::process::Command) -> Result<String, BackupError> {
    let output = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| BackupError::Tool(format!("{tool} could not be started: {e}")))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let said = [output.stderr, output.stdout].concat();
    let said = String::from_utf8_lossy(&said);
    Err(BackupError::Tool(format!("{tool} failed: {}", said.trim().chars().take(500).collect::<String>())))
}

/// The libpq environment for `postgres://user:password@host:port/database?sslmode=...`.
pub fn pg_environment(url: &str) -> Result<Vec<(&'static str, String)>, BackupError> {
    let bad = || BackupError::Tool("the database URL is not postgres://user@host:port/database".into());
    let rest = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://")).ok_or_else(bad)?;
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, database) = rest.split_once('/').unwrap_or((rest, ""));
    let (user_info, host_port) = authority.rsplit_once('@').unwrap_or(("", authority));
    let (user, password) = user_info.split_once(':').map_or((user_info, None), |(u, p)| (u, Some(p)));
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || host_port.starts_with('[') => (host, Some(port)),
        _ => (host_port, None),
    };
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let mut env = Vec::new();
    if !host.is_empty() {
        env.push(("PGHOST", decode(host.trim_start_matches('[').trim_end_matches(']'))));
    }
    if let Some(port) = port {
        env.push(("PGPORT", port.to_owned()));
    }
    if !user.is_empty() {
        env.push(("PGUSER", decode(user)));
    }
    if let Some(password) = password {
        env.push(("PGPASSWORD", decode(password)));
    }
    if !database.is_empty() {
        env.push(("PGDATABASE", decode(database)));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("sslmode", v)) => env.push(("PGSSLMODE", decode(v))),
            Some(("host", v)) => env.push(("PGHOST", decode(v))),
            Some(("port", v)) => env.push(("PGPORT", decode(v))),
            _ => {}
        }
    }
    Ok(env)
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{database}?{query}"),
        None => format!("{base}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_carries_every_part_of_the_url() {
        let env = pg_environment("postgres://moth:p%40ss@db.example:5433/moth_prod?sslmode=require").expect("valid");
        assert_eq!(
            env,
            vec![
                ("PGHOST", "db.example".to_owned()),
                ("PGPORT", "5433".to_owned()),
                ("PGUSER", "moth".to_owned()),
                ("PGPASSWORD", "p@ss".to_owned()),
                ("PGDATABASE", "moth_prod".to_owned()),
                ("PGSSLMODE", "require".to_owned()),
            ]
        );
        assert!(pg_environment("mysql://x").is_err());
    }

    #[test]
    fn another_database_on_the_same_server() {
        assert_eq!(with_database("postgres://u@h:1/a?sslmode=disable", "b"), "postgres://u@h:1/b?sslmode=disable");
        assert_eq!(with_database("postgres://u@h:1", "b"), "postgres://u@h:1/b");
    }
}
