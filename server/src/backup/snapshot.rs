//! Taking snapshots, listing, pruning and picking them.

#[allow(clippy::wildcard_imports)] // the methods of one type, split by task
use super::*;

impl Backups {
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
                db::backup::record_run(&self.db, &run(true, detail, bytes)).await?;
                Ok(Snapshot { taken_at: taken_at(&name).unwrap_or(started), name })
            }
            Err(e) => {
                db::backup::record_run(&self.db, &run(false, e.to_string(), 0)).await?;
                Err(e)
            }
        }
    }

    pub(super) async fn make(&self, name: &str) -> Result<(i64, String), BackupError> {
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
}
