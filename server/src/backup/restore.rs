//! Restores into a fresh data directory or an empty database, from a snapshot or the replica.

#[allow(clippy::wildcard_imports)] // the methods of one type, split by task
use super::*;

impl Backups {
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
                if !db::backup::is_empty(&mut conn, Backend::Postgres).await? {
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

impl Backups {
    /// Replaces the restored snapshot's database at `path` with the replica's state at `target.at`.
    pub(super) async fn roll_forward(
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

pub(super) fn copy_tree(from: &Path, to: &Path) -> Result<(), BackupError> {
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

pub(super) fn copy_private(from: &Path, to: &Path) -> Result<(), BackupError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::copy(from, to)?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}
