//! Restore drills: a snapshot (and the continuous replica) restored into a scratch place and checked.

#[allow(clippy::wildcard_imports)] // the methods of one type, split by task
use super::*;

impl Backups {
    pub(super) fn identities(&self, identity_file: Option<&Path>) -> Result<Vec<age::x25519::Identity>, BackupError> {
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
        db::backup::record_run(&self.db, &run).await?;
        let record = db::audit::Record {
            event: db::audit::Event::BackupDrill,
            success: passed,
            team_id: None,
            actor_id: None,
            detail: format!("{}: {}", report.snapshot, report.detail),
            source_ip: None,
        };
        db::audit::record(&self.db, record, self.now_ms()).await;
        if passed {
            tracing::info!(snapshot = %report.snapshot, duration_ms, "restore drill passed");
        } else {
            tracing::error!(snapshot = %report.snapshot, detail = %report.detail, "restore drill FAILED");
        }
        Ok(report)
    }

    /// The replica's part of a drill: its newest state, then a moment halfway through what it holds,
    /// each restored and checked; `detail` says what was tested.
    pub(super) async fn drill_replica(
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
    pub(super) async fn replica_ever_restored(&self) -> Result<bool, BackupError> {
        let passed = db::backup::recent_runs(&self.db, RunKind::Drill, true, 10_000).await?;
        Ok(passed.iter().any(|run| run.detail.contains(REPLICA_TESTED)))
    }

    /// Downloads a snapshot, checks its sidecar checksum and unpacks it; returns the manifest, the
    /// unpacked folder and the archive's size.
    pub(super) async fn fetch_and_unpack(
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
    pub(super) async fn check_restored(&self, manifest: &Manifest, unpacked: &Path) -> Result<String, BackupError> {
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
}

/// What a drill's report says of the replica when it restored it.
pub(super) const REPLICA_TESTED: &str =
    "; the continuous replica restored to its newest state and passed the integrity check";
/// ... and when there was nothing to restore yet.
pub(super) const REPLICA_NOT_YET: &str =
    "; the continuous replica holds no restorable state yet (a new installation): not tested";

/// Whether a replica restore failed because nothing restorable was shipped yet: no file at all, or
/// files from which Litestream finds nothing to restore.
pub(super) fn replica_not_there_yet(error: &BackupError) -> bool {
    match error {
        BackupError::Refused(reason) => {
            reason.starts_with("no continuous replica")
                || reason.starts_with("no destination holds a continuous replica")
        }
        BackupError::Tool(reason) => reason.contains("no matching backup files available"),
        _ => false,
    }
}
