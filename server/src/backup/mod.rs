//! Backups: encrypted snapshots of the whole installation, kept in tiers, proven by restore drills.
//!
//! A snapshot ([`Backups::create`]) is a consistent database copy ([`dump`]), every stored file
//! object and the key files, packed and encrypted to age recipients ([`archive`], [`keys`]) and
//! written to every destination ([`destination`]): a folder, and an S3-compatible bucket when one is
//! configured. Retention ([`retention`]) prunes by tiers. A drill ([`Backups::drill`]) restores a
//! snapshot into a scratch place and checks it against its manifest, table by table and file by
//! file; a restore ([`Backups::restore`]) does the same into a fresh data directory or an empty
//! database, never over a live one. Runs are recorded in `backup_runs` for operators
//! (`moth backup list`, `/metrics`) and team owners (the last backup and the last proof).
//!
//! Here the types and shared helpers; the methods of [`Backups`] by task in `snapshot`, `drill`,
//! `restore` and `schedule`.
//!
//! None of it is on the HTTP surface: operators use the `moth backup` commands; the server itself
//! only runs the schedule.

pub mod archive;
pub mod destination;
mod drill;
pub mod dump;
pub mod keys;
pub mod pitr;
pub mod replica;
mod restore;
pub mod retention;
mod schedule;
mod snapshot;

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    sync::Arc,
    time::Instant,
};

use time::{format_description::FormatItem, macros::format_description, OffsetDateTime, PrimitiveDateTime};

use crate::{
    clock::{unix_millis, Clock},
    config::Config,
    db::{
        self,
        backup::{Run, RunKind},
        Backend, Db, DbError,
    },
    files::store::ObjectStore,
};
use archive::{Entry, Key, Lock, Manifest};
use destination::{Destination, SIDECAR, SUFFIX};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("backup: {0}")]
    Io(#[from] std::io::Error),
    #[error("backup: database: {0}")]
    Db(#[from] DbError),
    #[error("backup: encryption: {0}")]
    Crypto(String),
    #[error("backup: keys: {0}")]
    Keys(String),
    #[error("backup: manifest: {0}")]
    Manifest(String),
    #[error("backup: the snapshot is damaged: {0}")]
    Damaged(String),
    #[error("backup: {0}")]
    Destination(String),
    #[error("backup: {0}")]
    Tool(String),
    #[error("backup: {0}")]
    Refused(String),
}

impl From<sqlx::Error> for BackupError {
    fn from(e: sqlx::Error) -> Self {
        BackupError::Db(DbError::from(e))
    }
}

/// A snapshot as its destinations hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub name: String,
    /// Unix milliseconds, from the name.
    pub taken_at: i64,
}

/// What a drill found.
#[derive(Clone, Debug)]
pub struct DrillReport {
    pub snapshot: String,
    pub passed: bool,
    pub detail: String,
    /// The time the restore and the checks took (the RTO of this snapshot on this machine).
    pub duration_ms: i64,
    pub bytes: i64,
}

/// Where a restore puts things.
pub struct RestoreTarget {
    /// A new or empty folder: the database file (`SQLite`), `files/` and the key files go here.
    pub into: PathBuf,
    /// An empty `PostgreSQL` database to load a `PostgreSQL` snapshot into.
    pub database_url: Option<String>,
    /// The moment to bring back (Unix ms): with a continuous replica, the database as it was then;
    /// otherwise the newest snapshot taken at or before it.
    pub at: Option<i64>,
}

pub struct Backups {
    db: Db,
    database_url: String,
    files: Arc<dyn ObjectStore>,
    destinations: Vec<Destination>,
    recipients: Vec<age::x25519::Recipient>,
    identity_file: PathBuf,
    /// (name in the archive, file): the master key (and a rotation's previous one), the audit key.
    key_files: Vec<(String, PathBuf)>,
    work_dir: PathBuf,
    tiers: Vec<retention::Tier>,
    clock: Arc<dyn Clock>,
    /// Continuous replication of the `SQLite` database (with `replica_dir`).
    replica: Option<Arc<replica::Replica>>,
    /// The Litestream program, for restores from a shipped replica.
    litestream: PathBuf,
    /// The oldest and newest replica files the last replica restore saw (Unix ms).
    replica_span: std::sync::Mutex<Option<(i64, i64)>>,
}

const STAMP: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second][subsecond digits:3]Z");

impl Backups {
    /// Sets backups up from the configuration; generates a key pair on first use (logged).
    pub fn new(
        config: &Config,
        db: Db,
        files: Arc<dyn ObjectStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, BackupError> {
        let (recipients, generated) = keys::recipients(&config.backup_recipients_file, &config.backup_identity_file)?;
        if generated {
            tracing::warn!(
                identity = %config.backup_identity_file.display(),
                recipients = %config.backup_recipients_file.display(),
                "generated a key pair for backups; move the identity (private key) off this server and keep it \
                 safe: backups are encrypted to the recipient and only the identity opens them"
            );
        }
        let mut destinations = vec![Destination::Folder(config.backup_dir.clone())];
        if let Some(s3) = config.backup_s3() {
            destinations.push(Destination::s3(&s3, &config.backup_s3_prefix));
        }
        let mut key_files = vec![("master.key".to_owned(), config.master_key_file.clone())];
        let previous = crate::files::crypto::sibling(&config.master_key_file, "previous");
        if previous.exists() {
            key_files.push(("master.key.previous".to_owned(), previous));
        }
        key_files.push(("audit.key".to_owned(), config.audit_key_file.clone()));
        let tiers = retention::parse(&config.backup_tiers).map_err(BackupError::Refused)?;
        let replica = match (&config.replica_dir, db.backend()) {
            (Some(dir), Backend::Sqlite) => Some(Arc::new(replica::Replica::new(
                config.litestream_bin.clone(),
                sqlite_path(&config.database_url),
                dir.clone(),
            ))),
            (Some(_), Backend::Postgres) => {
                tracing::warn!("replica_dir is for SQLite; PostgreSQL's continuous archiving is pgBackRest's (README)");
                None
            }
            (None, _) => None,
        };
        Ok(Self {
            db,
            database_url: config.database_url.clone(),
            files,
            destinations,
            recipients,
            identity_file: config.backup_identity_file.clone(),
            key_files,
            work_dir: config.backup_dir.join(".work"),
            tiers,
            clock,
            replica,
            litestream: config.litestream_bin.clone(),
            replica_span: std::sync::Mutex::default(),
        })
    }

    pub fn tiers(&self) -> &[retention::Tier] {
        &self.tiers
    }

    fn now_ms(&self) -> i64 {
        unix_millis(self.clock.now())
    }

    /// A fresh scratch folder under the backup folder, removed when the guard goes.
    fn scratch(&self) -> Result<Scratch, BackupError> {
        let dir = self.work_dir.join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&dir)?;
        Ok(Scratch(dir))
    }
}

async fn list_at(destination: &Destination) -> Result<Vec<Snapshot>, BackupError> {
    let mut snapshots: Vec<Snapshot> = destination
        .list()
        .await?
        .into_iter()
        .filter_map(|name| Some(Snapshot { taken_at: taken_at(&name)?, name }))
        .collect();
    snapshots.sort_by_key(|s| s.taken_at);
    Ok(snapshots)
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// `moth-20261130T181500123Z-1a2b.tar.age`: sortable by time; the suffix keeps two snapshots of the
/// same millisecond apart.
fn snapshot_name(at: OffsetDateTime) -> String {
    let stamp = at.format(STAMP).unwrap_or_default();
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..4];
    format!("moth-{stamp}-{tag}{SUFFIX}")
}

/// The time in a snapshot's name (Unix milliseconds); `None` for names Moth did not make.
pub fn taken_at(name: &str) -> Option<i64> {
    let stamp = name.strip_prefix("moth-")?.strip_suffix(SUFFIX)?.split('-').next()?;
    let at = PrimitiveDateTime::parse(stamp, STAMP).ok()?.assume_utc();
    Some(unix_millis(at))
}

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The file of a `sqlite:PATH[?options]` URL.
fn sqlite_path(url: &str) -> PathBuf {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    PathBuf::from(path.split('?').next().unwrap_or(path))
}

/// Compares a restored database with the manifest: integrity (`SQLite`), then every table's rows.
async fn check_database(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    manifest: &Manifest,
) -> Result<String, BackupError> {
    if backend == Backend::Sqlite {
        dump::sqlite_integrity(conn).await?;
    }
    let restored = db::backup::digests(conn, backend).await?;
    if restored != manifest.tables {
        let differing: Vec<&str> = manifest
            .tables
            .iter()
            .filter(|t| !restored.contains(t))
            .map(|t| t.table.as_str())
            .chain(restored.iter().filter(|t| !manifest.tables.contains(t)).map(|t| t.table.as_str()))
            .collect();
        return Err(BackupError::Damaged(format!("tables differ from the manifest: {}", differing.join(", "))));
    }
    let objects = db::backup::stored_objects(conn).await?;
    let archived: std::collections::HashSet<&str> =
        manifest.files.iter().map(|f| f.path.trim_start_matches("files/")).collect();
    let lost: Vec<&str> = objects
        .iter()
        .filter(|o| !o.deleted && !archived.contains(o.storage_key.as_str()))
        .filter(|o| !manifest.missing_files.contains(&o.storage_key))
        .map(|o| o.storage_key.as_str())
        .collect();
    if !lost.is_empty() {
        return Err(BackupError::Damaged(format!("{} stored files are not in the archive", lost.len())));
    }
    Ok(format!(
        "{} tables and {} rows equal the manifest, {} files intact",
        restored.len(),
        restored.iter().map(|t| t.rows).sum::<i64>(),
        manifest.files.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_their_time() {
        let at = time::macros::datetime!(2026-11-30 18:15:00.123 UTC);
        let name = snapshot_name(at);
        assert!(name.starts_with("moth-20261130T181500123Z-") && name.ends_with(".tar.age"), "{name}");
        assert_eq!(taken_at(&name), Some(unix_millis(at)));
        assert_eq!(taken_at("moth-notatime-1a2b.tar.age"), None);
        assert_eq!(taken_at("other.tar.age"), None);
    }
}
