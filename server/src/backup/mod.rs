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
//! None of it is on the HTTP surface: operators use the `moth backup` commands; the server itself
//! only runs the schedule.

pub mod archive;
pub mod destination;
pub mod dump;
pub mod keys;
pub mod pitr;
pub mod replica;
pub mod retention;

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
        backup::{self as runs, Run, RunKind},
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

    /// Takes a snapshot and writes it to every destination; records the run, failed or not.
    pub async fn create(&self) -> Result<Snapshot, BackupError> {
        let started = self.now_ms();
        let name = snapshot_name(self.clock.now());
        let made = self.make(&name).await;
        let run = |passed: bool, detail: String, bytes: i64| Run {
            kind: RunKind::Snapshot,
            snapshot: name.clone(),
            started_at: started,
            finished_at: self.now_ms().max(started),
            passed,
            detail,
            bytes,
        };
        match made {
            Ok((bytes, detail)) => {
                runs::record_run(&self.db, &run(true, detail, bytes)).await?;
                Ok(Snapshot { taken_at: taken_at(&name).unwrap_or(started), name })
            }
            Err(e) => {
                runs::record_run(&self.db, &run(false, e.to_string(), 0)).await?;
                Err(e)
            }
        }
    }

    async fn make(&self, name: &str) -> Result<(i64, String), BackupError> {
        let scratch = self.scratch()?;
        let database_file = match self.db.backend() {
            Backend::Sqlite => "database.sqlite3",
            Backend::Postgres => "database.pgdump",
        };
        let copy_path = scratch.0.join(database_file);
        let copy = dump::take(&self.db, &self.database_url, &copy_path).await?;
        let sealed = scratch.0.join(name);
        let manifest = Manifest {
            format: archive::FORMAT,
            moth_version: env!("CARGO_PKG_VERSION").to_owned(),
            backend: backend_name(self.db.backend()).to_owned(),
            taken_at: taken_at(name).unwrap_or_else(|| self.now_ms()),
            database: Entry { path: database_file.to_owned(), bytes: 0, sha256: String::new() },
            tables: copy.tables,
            files: Vec::new(),
            missing_files: Vec::new(),
            keys: Vec::new(),
        };
        // The archive is written on a blocking thread; stored objects reach it through a channel of
        // two, so that at most a few objects are in memory at once.
        let (send, mut receive) = tokio::sync::mpsc::channel::<(String, bytes::Bytes)>(2);
        let lock = Lock::Recipients(self.recipients.clone());
        let key_files = self.key_files.clone();
        let writing = {
            let sealed = sealed.clone();
            tokio::task::spawn_blocking(move || -> Result<Manifest, BackupError> {
                let mut manifest = manifest;
                let mut writer = archive::Writer::create(&sealed, &lock)?;
                manifest.database = writer.add_file(database_file, &copy_path)?;
                while let Some((key, bytes)) = receive.blocking_recv() {
                    manifest.files.push(writer.add_bytes(&format!("files/{key}"), &bytes)?);
                }
                for (name, path) in &key_files {
                    manifest.keys.push(writer.add_file(&format!("keys/{name}"), path)?);
                }
                writer.finish(&manifest)?;
                Ok(manifest)
            })
        };
        let mut missing = Vec::new();
        for object in copy.objects {
            match self.files.get(&object.storage_key).await {
                Ok(bytes) => {
                    if send.send((object.storage_key, bytes)).await.is_err() {
                        break; // the writer stopped; its error says why
                    }
                }
                Err(crate::files::store::StoreError::Missing(_)) if object.deleted => {}
                Err(crate::files::store::StoreError::Missing(key)) => missing.push(key),
                Err(e) => return Err(BackupError::Destination(e.to_string())),
            }
        }
        drop(send);
        let manifest = writing.await.map_err(|e| BackupError::Io(std::io::Error::other(e)))??;
        if !missing.is_empty() {
            tracing::error!(?missing, "stored files the database refers to are missing from the object store");
        }
        let sha256 = archive::file_sha256(&sealed)?;
        let bytes = i64::try_from(std::fs::metadata(&sealed)?.len()).unwrap_or(i64::MAX);
        for destination in &self.destinations {
            destination.put(name, &sealed).await?;
            destination.put_text(&format!("{name}{SIDECAR}"), &format!("{sha256}  {name}\n")).await?;
        }
        let detail = format!(
            "{} tables, {} rows, {} files{}; to {}",
            manifest.tables.len(),
            manifest.tables.iter().map(|t| t.rows).sum::<i64>(),
            manifest.files.len(),
            if missing.is_empty() { String::new() } else { format!(", {} missing from the store", missing.len()) },
            self.destinations.iter().map(Destination::describe).collect::<Vec<_>>().join(", ")
        );
        Ok((bytes, detail))
    }

    /// The snapshots at any destination, oldest first. A destination that cannot be listed is
    /// logged and skipped, so that losing one never hides what another holds.
    pub async fn list(&self) -> Result<Vec<Snapshot>, BackupError> {
        let mut all: Vec<Snapshot> = Vec::new();
        let mut failures = Vec::new();
        for destination in &self.destinations {
            match list_at(destination).await {
                Ok(found) => all.extend(found),
                Err(e) => {
                    tracing::warn!(destination = %destination.describe(), error = %e, "snapshots could not be listed");
                    failures.push(e);
                }
            }
        }
        if all.is_empty() {
            if let Some(e) = failures.pop() {
                return Err(e);
            }
        }
        all.sort_by(|a, b| a.taken_at.cmp(&b.taken_at).then_with(|| a.name.cmp(&b.name)));
        all.dedup_by(|a, b| a.name == b.name);
        Ok(all)
    }

    /// Applies retention at every destination; returns how many snapshots went.
    pub async fn prune(&self) -> Result<usize, BackupError> {
        let now = self.now_ms();
        let mut removed = 0;
        for destination in &self.destinations {
            let snapshots = list_at(destination).await?;
            let taken: Vec<i64> = snapshots.iter().map(|s| s.taken_at).collect();
            let kept = retention::keep(&taken, now, &self.tiers);
            for snapshot in snapshots.iter().filter(|s| !kept.contains(&s.taken_at)) {
                destination.delete(&snapshot.name).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// The snapshot to restore for `at` (the newest taken at or before it), or the newest.
    pub async fn pick(&self, name: Option<&str>, at: Option<i64>) -> Result<Snapshot, BackupError> {
        let snapshots = self.list().await?;
        let found = match (name, at) {
            (Some(name), _) => snapshots.into_iter().find(|s| s.name == name),
            (None, Some(at)) => snapshots.into_iter().rev().find(|s| s.taken_at <= at),
            (None, None) => snapshots.into_iter().next_back(),
        };
        found.ok_or_else(|| BackupError::Refused("no such snapshot (see `moth backup list`)".into()))
    }

    fn identities(&self, identity_file: Option<&Path>) -> Result<Vec<age::x25519::Identity>, BackupError> {
        keys::identities(identity_file.unwrap_or(&self.identity_file))
    }

    /// Restores `snapshot` into a scratch place and checks it: the archive's checksum and
    /// authentication, every entry against the manifest, the database's integrity and every table's
    /// rows, every live attachment's object. Records the result (and an audit event).
    pub async fn drill(&self, snapshot: &Snapshot, identity_file: Option<&Path>) -> Result<DrillReport, BackupError> {
        let started_ms = self.now_ms();
        let started = Instant::now();
        let checked = async {
            let identities = self.identities(identity_file)?;
            let scratch = self.scratch()?;
            let (manifest, unpacked, bytes) = self.fetch_and_unpack(snapshot, identities, &scratch.0).await?;
            let mut detail = self.check_restored(&manifest, &unpacked).await?;
            self.drill_replica(&scratch.0, identity_file, &mut detail).await?;
            let points = self.list().await?;
            if let (Some(oldest), Some(newest)) = (points.first(), points.last()) {
                let through_replica =
                    if self.replicates() { ", and any moment since the oldest through the replica" } else { "" };
                let _ = write!(
                    detail,
                    "; restore points: {} snapshots from {} to {}{through_replica}",
                    points.len(),
                    crate::clock::iso8601(oldest.taken_at),
                    crate::clock::iso8601(newest.taken_at),
                );
            }
            Ok::<_, BackupError>((detail, bytes))
        }
        .await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (passed, detail, bytes) = match checked {
            Ok((detail, bytes)) => (true, format!("{detail}; restored and checked in {duration_ms} ms"), bytes),
            Err(e) => (false, e.to_string(), 0),
        };
        let report = DrillReport { snapshot: snapshot.name.clone(), passed, detail, duration_ms, bytes };
        let run = Run {
            kind: RunKind::Drill,
            snapshot: report.snapshot.clone(),
            started_at: started_ms,
            finished_at: self.now_ms().max(started_ms),
            passed,
            detail: report.detail.clone(),
            bytes,
        };
        runs::record_run(&self.db, &run).await?;
        let record = crate::db::audit::Record {
            event: crate::db::audit::Event::BackupDrill,
            success: passed,
            team_id: None,
            actor_id: None,
            detail: format!("{}: {}", report.snapshot, report.detail),
            source_ip: None,
        };
        crate::db::audit::record(&self.db, record, self.now_ms()).await;
        if passed {
            tracing::info!(snapshot = %report.snapshot, duration_ms, "restore drill passed");
        } else {
            tracing::error!(snapshot = %report.snapshot, detail = %report.detail, "restore drill FAILED");
        }
        Ok(report)
    }

    /// The replica's part of a drill: its newest state, then a moment halfway through what it holds,
    /// each restored and checked; `detail` says what was tested.
    async fn drill_replica(
        &self,
        scratch: &Path,
        identity_file: Option<&Path>,
        detail: &mut String,
    ) -> Result<(), BackupError> {
        if !self.replicates() {
            return Ok(());
        }
        let newest = RestoreTarget { into: scratch.join("replica-drill"), database_url: None, at: None };
        match self.restore_from_replica(&newest, identity_file).await {
            Ok(_) => {}
            // A drill tests what exists: a replica that has never held a restorable state (a new
            // installation, before Litestream's first snapshot is shipped) is not failed. Once a
            // drill has restored it, the same answer is a failure.
            Err(e) if replica_not_there_yet(&e) && !self.replica_ever_restored().await? => {
                detail.push_str(REPLICA_NOT_YET);
                return Ok(());
            }
            Err(e) => return Err(e),
        }
        detail.push_str(REPLICA_TESTED);
        // And to a moment halfway through what it holds: restoring by time is what a Litestream
        // problem (after a compaction, say) would break first.
        let span = self.replica_span.lock().ok().and_then(|s| *s);
        if let Some((oldest, newest_file)) = span.filter(|(o, n)| n > o) {
            let moment = oldest + (newest_file - oldest) / 2;
            let at = RestoreTarget { into: scratch.join("replica-moment"), database_url: None, at: Some(moment) };
            self.restore_from_replica(&at, identity_file).await?;
            let _ = write!(detail, ", and to {} too", crate::clock::iso8601(moment));
        }
        Ok(())
    }

    /// Whether a drill ever restored the continuous replica.
    async fn replica_ever_restored(&self) -> Result<bool, BackupError> {
        let passed = runs::recent_runs(&self.db, RunKind::Drill, true, 10_000).await?;
        Ok(passed.iter().any(|run| run.detail.contains(REPLICA_TESTED)))
    }

    /// Downloads a snapshot, checks its sidecar checksum and unpacks it; returns the manifest, the
    /// unpacked folder and the archive's size.
    async fn fetch_and_unpack(
        &self,
        snapshot: &Snapshot,
        identities: Vec<age::x25519::Identity>,
        scratch: &Path,
    ) -> Result<(Manifest, PathBuf, i64), BackupError> {
        let sealed = scratch.join(&snapshot.name);
        // The first destination that has it whole (with its checksum file) serves it.
        let mut fetched = None;
        let mut last_error = BackupError::Refused(format!("{} is at no destination", snapshot.name));
        for destination in &self.destinations {
            let got = async {
                destination.fetch(&snapshot.name, &sealed).await?;
                destination
                    .text(&format!("{}{SIDECAR}", snapshot.name))
                    .await?
                    .ok_or_else(|| BackupError::Damaged("its checksum file is missing".into()))
            }
            .await;
            match got {
                Ok(sidecar) => {
                    fetched = Some(sidecar);
                    break;
                }
                Err(e) => last_error = e,
            }
        }
        let sidecar = fetched.ok_or(last_error)?;
        let expected = sidecar.split_whitespace().next().unwrap_or_default().to_owned();
        let actual = archive::file_sha256(&sealed)?;
        if actual != expected {
            return Err(BackupError::Damaged("the archive's SHA-256 differs from its checksum file".into()));
        }
        let bytes = i64::try_from(std::fs::metadata(&sealed)?.len()).unwrap_or(i64::MAX);
        let unpacked = scratch.join("unpacked");
        std::fs::create_dir_all(&unpacked)?;
        let manifest = {
            let unpacked = unpacked.clone();
            tokio::task::spawn_blocking(move || archive::unpack(&sealed, &Key::Identities(identities), &unpacked))
                .await
                .map_err(|e| BackupError::Io(std::io::Error::other(e)))??
        };
        Ok((manifest, unpacked, bytes))
    }

    /// Loads the unpacked database into a scratch database of its kind and compares it with the
    /// manifest; returns a one-line summary.
    async fn check_restored(&self, manifest: &Manifest, unpacked: &Path) -> Result<String, BackupError> {
        let database = unpacked.join(&manifest.database.path);
        match manifest.backend.as_str() {
            "sqlite" => {
                let mut conn = dump::open_sqlite(&database).await?;
                let checked = check_database(&mut conn, Backend::Sqlite, manifest).await;
                sqlx::Connection::close(conn).await?;
                checked
            }
            "postgres" if self.db.backend() == Backend::Postgres => {
                let scratch_db = format!("moth_drill_{}", uuid::Uuid::new_v4().simple());
                // The name is made here (hex), never taken from input; identifiers cannot be bound.
                sqlx::query(&format!("CREATE DATABASE {scratch_db}")).execute(self.db.pool()).await?;
                let checked = async {
                    let url = dump::with_database(&self.database_url, &scratch_db);
                    dump::pg_restore(&database, &url).await?;
                    let mut conn = dump::open(&url).await?;
                    let checked = check_database(&mut conn, Backend::Postgres, manifest).await;
                    sqlx::Connection::close(conn).await?;
                    checked
                }
                .await;
                let dropped = sqlx::query(&format!("DROP DATABASE IF EXISTS {scratch_db} WITH (FORCE)"))
                    .execute(self.db.pool())
                    .await;
                if let Err(e) = dropped {
                    tracing::warn!(error = %e, database = %scratch_db, "the drill's scratch database was not dropped");
                }
                checked
            }
            other => Err(BackupError::Refused(format!("a {other} snapshot is drilled by a Moth running on {other}"))),
        }
    }

    /// Restores `snapshot` into `target` (never over existing data), then checks it as a drill does.
    pub async fn restore(
        &self,
        snapshot: &Snapshot,
        target: &RestoreTarget,
        identity_file: Option<&Path>,
    ) -> Result<String, BackupError> {
        if target.into.exists() && std::fs::read_dir(&target.into)?.next().is_some() {
            return Err(BackupError::Refused(format!(
                "{} is not empty: a restore goes into a new folder, never over data",
                target.into.display()
            )));
        }
        let identities = self.identities(identity_file)?;
        let scratch = self.scratch()?;
        let (manifest, unpacked, _) = self.fetch_and_unpack(snapshot, identities, &scratch.0).await?;
        std::fs::create_dir_all(&target.into)?;
        let database = unpacked.join(&manifest.database.path);
        let summary = match (manifest.backend.as_str(), &target.database_url) {
            ("sqlite", None) => {
                let path = target.into.join("moth.db");
                std::fs::copy(&database, &path)?;
                let mut conn = dump::open_sqlite(&path).await?;
                let checked = check_database(&mut conn, Backend::Sqlite, &manifest).await;
                sqlx::Connection::close(conn).await?;
                let checked = checked?;
                match target.at {
                    Some(_) => self
                        .roll_forward(target, identity_file, &path)
                        .await
                        .unwrap_or_else(|e| format!("{checked}; the snapshot's moment, not the one asked for ({e})")),
                    None => checked,
                }
            }
            ("postgres", Some(url)) => {
                let mut conn = dump::open(url).await?;
                if !runs::is_empty(&mut conn, Backend::Postgres).await? {
                    return Err(BackupError::Refused(
                        "the target database has tables: a restore goes into an empty database".into(),
                    ));
                }
                dump::pg_restore(&database, url).await?;
                let checked = check_database(&mut conn, Backend::Postgres, &manifest).await;
                sqlx::Connection::close(conn).await?;
                checked?
            }
            (backend, _) => {
                return Err(BackupError::Refused(format!(
                    "a {backend} snapshot restores into {}",
                    if backend == "sqlite" {
                        "a folder only (no --database-url)"
                    } else {
                        "an empty database given by --database-url"
                    }
                )))
            }
        };
        copy_tree(&unpacked.join("files"), &target.into.join("files"))?;
        for entry in &manifest.keys {
            let name = entry.path.trim_start_matches("keys/");
            copy_private(&unpacked.join(&entry.path), &target.into.join(name))?;
        }
        Ok(summary)
    }
}

/// What a drill's report says of the replica when it restored it.
const REPLICA_TESTED: &str = "; the continuous replica restored to its newest state and passed the integrity check";
/// ... and when there was nothing to restore yet.
const REPLICA_NOT_YET: &str = "; the continuous replica holds no restorable state yet (a new installation): not tested";

/// Whether a replica restore failed because nothing restorable was shipped yet: no file at all, or
/// files from which Litestream finds nothing to restore.
fn replica_not_there_yet(error: &BackupError) -> bool {
    match error {
        BackupError::Refused(reason) => {
            reason.starts_with("no continuous replica")
                || reason.starts_with("no destination holds a continuous replica")
        }
        BackupError::Tool(reason) => reason.contains("no matching backup files available"),
        _ => false,
    }
}

impl Backups {
    /// The server's schedule: a minute after start and every ten minutes after, a snapshot when the
    /// newest is older than the shortest tier's interval (then retention), and a drill of the newest
    /// when the last drill is older than `drill_every` and the identity is on this machine.
    pub async fn run_schedule(self: Arc<Self>, drill_every: Option<std::time::Duration>) {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = self.scheduled_round(drill_every).await {
                tracing::error!(error = %e, "scheduled backup failed");
            }
        }
    }

    /// One round of the schedule (public so that tests can run it with their own clock).
    pub async fn scheduled_round(&self, drill_every: Option<std::time::Duration>) -> Result<(), BackupError> {
        let now = self.now_ms();
        let interval = i64::try_from(retention::interval(&self.tiers).as_millis()).unwrap_or(i64::MAX);
        let newest = self.list().await?.pop();
        let newest = match newest {
            Some(snapshot) if now - snapshot.taken_at < interval => snapshot,
            _ => {
                let snapshot = self.create().await?;
                let removed = self.prune().await?;
                tracing::info!(snapshot = %snapshot.name, removed, "scheduled snapshot written");
                snapshot
            }
        };
        let Some(drill_every) = drill_every else { return Ok(()) };
        if !self.identity_file.exists() {
            return Ok(());
        }
        let last = runs::recent_runs(&self.db, RunKind::Drill, false, 1).await?;
        let every = i64::try_from(drill_every.as_millis()).unwrap_or(i64::MAX);
        if last.first().is_none_or(|run| now - run.finished_at >= every) {
            self.drill(&newest, None).await?;
        }
        Ok(())
    }
}

impl Backups {
    /// Whether continuous replication is configured.
    pub fn replicates(&self) -> bool {
        self.replica.is_some()
    }

    /// When the continuous replica was last shipped whole (Unix ms), for `/metrics`.
    pub fn replica_shipped_at(&self) -> Option<i64> {
        let replica = self.replica.as_ref()?;
        let at = (*replica.last_shipped.lock().ok()?)?;
        Some(unix_millis(at.into()))
    }

    /// Encrypts and sends what Litestream added to the replica since the last time.
    pub async fn ship_replica(&self) -> Result<usize, BackupError> {
        let Some(replica) = &self.replica else { return Ok(0) };
        replica.ship(&self.destinations, &self.recipients, &self.work_dir.join("replica-ship")).await
    }

    /// Runs Litestream and ships its replica every five seconds, until dropped.
    pub async fn run_replica(self: Arc<Self>) {
        let Some(replica) = self.replica.clone() else { return };
        let _litestream = match replica.supervise() {
            Ok(guard) => guard,
            Err(e) => {
                tracing::error!(error = %e, "continuous replication could not start");
                return;
            }
        };
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            if let Err(e) = self.ship_replica().await {
                tracing::warn!(error = %e, "the replica could not be shipped; trying again");
            }
        }
    }

    /// The `SQLite` database as it was at `target.at` (or its newest state), from the replica shipped
    /// to the first destination that has one, into `target.into/moth.db` (a new file), checked.
    pub async fn restore_from_replica(
        &self,
        target: &RestoreTarget,
        identity_file: Option<&Path>,
    ) -> Result<String, BackupError> {
        let database = target.into.join("moth.db");
        if database.exists() {
            return Err(BackupError::Refused(format!("{} exists: a restore never overwrites", database.display())));
        }
        let identities = self.identities(identity_file)?;
        let mut last_error = BackupError::Refused("no destination holds a continuous replica".into());
        for destination in &self.destinations {
            let scratch = self.scratch()?;
            let restored = scratch.0.join("moth.db");
            let at = target.at;
            match replica::restore(&self.litestream, destination, identities.clone(), &scratch.0, at, &restored).await {
                Ok(span) => {
                    if let Ok(mut last) = self.replica_span.lock() {
                        *last = Some(span);
                    }
                    let mut conn = dump::open_sqlite(&restored).await?;
                    let checked = dump::sqlite_integrity(&mut conn).await;
                    sqlx::Connection::close(conn).await?;
                    checked?;
                    std::fs::create_dir_all(&target.into)?;
                    std::fs::copy(&restored, &database)?;
                    let moment = at.map_or_else(|| "its newest state".to_owned(), crate::clock::iso8601);
                    return Ok(format!("the database as at {moment}, from the replica at {}", destination.describe()));
                }
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }
}

impl Backups {
    /// Replaces the restored snapshot's database at `path` with the replica's state at `target.at`.
    async fn roll_forward(
        &self,
        target: &RestoreTarget,
        identity_file: Option<&Path>,
        path: &Path,
    ) -> Result<String, BackupError> {
        let staging = target.into.join(".replica");
        let staged = RestoreTarget { into: staging.clone(), database_url: None, at: target.at };
        let restored = self.restore_from_replica(&staged, identity_file).await;
        if restored.is_ok() {
            std::fs::rename(staging.join("moth.db"), path)?;
        }
        let _ = std::fs::remove_dir_all(&staging);
        restored
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
    let restored = runs::digests(conn, backend).await?;
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
    let objects = runs::stored_objects(conn).await?;
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

fn copy_tree(from: &Path, to: &Path) -> Result<(), BackupError> {
    if !from.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn copy_private(from: &Path, to: &Path) -> Result<(), BackupError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::copy(from, to)?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
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
