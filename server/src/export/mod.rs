//! Team exports: all of one team's data, as its owner asked for it, in an archive encrypted with the
//! owner's passphrase or age recipient, to download or written straight into the team's own
//! S3-compatible bucket ([`ssrf`] guards the connections to it).
//!
//! The archive (tar inside age, the same format as backups) holds `data/<table>.json` for every
//! table with team rows, `data/team.json` and `data/members.json`, `issues.csv`, every live
//! attachment decrypted under `files/<id>/<name>`, and `manifest.json` (counts and SHA-256s). It is
//! built on disk in a scratch folder, one export at a time for the whole server; progress is written
//! to the export's record as it goes, so the owner's page can follow it.

pub mod ssrf;

use std::{path::PathBuf, sync::Arc};

use age::secrecy::SecretString;
use app::model::{ExportStatus, TeamId};
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::{
    backup::archive::{Entry, Lock, Writer},
    clock::{unix_millis, Clock},
    db::{team_export, Db, TeamScope as _},
    files::{store::S3Settings, Files},
};

/// How long a downloadable export is kept.
pub const DOWNLOAD_TTL_MS: i64 = 24 * 3_600_000;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Rows(#[from] team_export::ExportIoError),
    #[error("{0}")]
    Db(#[from] crate::db::DbError),
    #[error("{0}")]
    Archive(#[from] crate::backup::BackupError),
    #[error("a stored file could not be read")]
    File,
    #[error("the bucket refused or could not be reached: {0}")]
    Bucket(String),
    #[error("{0}")]
    Refused(#[from] ssrf::Refused),
}

/// The team an export reads: the owner's, from the session ([`ExportScope::of`]), or a team whose
/// own schedule is due ([`Exporter::scheduled_round`]). Nothing a request sends names it.
#[derive(Clone, Copy, Debug)]
pub struct ExportScope(TeamId);

impl ExportScope {
    pub fn of(actor: &crate::actor::Actor) -> Self {
        Self(actor.team_id())
    }
}

impl crate::db::TeamScope for ExportScope {
    fn team_id(&self) -> TeamId {
        self.0
    }
}

/// Where the archive goes, with what it takes to get there.
pub enum Target {
    Download,
    Bucket(S3Settings, String),
}

pub struct Exporter {
    db: Db,
    files: Arc<Files>,
    /// Scratch space (`.work/<export>`); downloads of earlier releases were kept in `<team>/`.
    dir: PathBuf,
    allow_private: bool,
    clock: Arc<dyn Clock>,
    /// One export runs at a time; the others wait (shown as "waiting").
    running: tokio::sync::Semaphore,
}

#[derive(Serialize)]
struct Manifest {
    format: u32,
    team_id: String,
    exported_at: String,
    tables: Vec<(String, u64)>,
    entries: Vec<Entry>,
}

impl Exporter {
    pub fn new(db: Db, files: Arc<Files>, dir: PathBuf, allow_private: bool, clock: Arc<dyn Clock>) -> Self {
        Self { db, files, dir, allow_private, clock, running: tokio::sync::Semaphore::new(1) }
    }

    pub fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// Where the downloadable archive of export `id` is kept: in the object store, which every
    /// instance shares (S3), so that whichever instance the download reaches can serve it. The key
    /// is the export's own id in the store's form (`None` for an id that is not a UUID).
    pub fn archive_key(id: &str) -> Option<String> {
        let id = uuid::Uuid::parse_str(id).ok()?.simple().to_string();
        Some(format!("{}/{id}", &id[..2]))
    }

    /// The downloadable archive of export `id`, being read.
    pub async fn archive(&self, id: &str) -> Option<crate::files::store::ObjectReader> {
        self.files.store.reader(&Self::archive_key(id)?).await.ok()
    }

    fn now(&self) -> i64 {
        unix_millis(self.clock.now())
    }

    /// Runs export `id` for the scope's team to its end, recording progress and the outcome.
    pub async fn run(self: Arc<Self>, scope: ExportScope, id: String, lock: Lock, target: Target) {
        let team = scope.team_id();
        let _turn = self.running.acquire().await;
        let outcome = self.export(&scope, &id, lock, target).await;
        let (status, detail, bytes) = match outcome {
            Ok((detail, bytes)) => (ExportStatus::Done, detail, bytes),
            Err(e) => {
                tracing::warn!(error = %e, export = %id, "a team export failed");
                (ExportStatus::Failed, format!("Failed: {e}"), 0)
            }
        };
        if let Err(e) = team_export::finish(&self.db, team, &id, status, &detail, bytes, self.now()).await {
            tracing::error!(error = %e, export = %id, "the end of a team export was not recorded");
        }
    }

    async fn progress(&self, team: TeamId, id: &str, percent: i64, detail: &str) {
        if let Err(e) = team_export::set_progress(&self.db, team, id, percent, detail).await {
            tracing::warn!(error = %e, "an export's progress was not recorded");
        }
    }

    async fn export(
        &self,
        scope: &ExportScope,
        id: &str,
        lock: Lock,
        target: Target,
    ) -> Result<(String, i64), ExportError> {
        let team = scope.team_id();
        if let Target::Bucket(settings, _) = &target {
            // Checked now as well as at each connection: an endpoint saved under other rules fails here.
            ssrf::check_endpoint(&settings.endpoint, self.allow_private).await?;
        }
        let scratch = Scratch(self.dir.join(".work").join(id));
        tokio::fs::create_dir_all(&scratch.0).await?;
        self.progress(team, id, 1, "reading the team's data").await;
        let (tables, mut staged) = self.stage_rows(scope, id, &scratch.0).await?;
        self.progress(team, id, 40, "writing issues.csv").await;
        staged.push(self.stage_csv(scope, &scratch.0).await?);
        let files = team_export::files(&self.db, scope).await?;
        let sealed = scratch.0.join("export.tar.age");
        let (writer, entries) = self.pack(scope, id, &files, staged, lock, &sealed).await?;
        let manifest = Manifest {
            format: 1,
            team_id: team.to_string(),
            exported_at: crate::clock::iso8601(self.now()),
            tables,
            entries,
        };
        let finished = {
            let manifest = serde_json::to_value(&manifest).map_err(std::io::Error::other)?;
            tokio::task::spawn_blocking(move || writer.finish(&manifest))
        };
        finished.await.map_err(std::io::Error::other)??;
        let bytes = i64::try_from(tokio::fs::metadata(&sealed).await?.len()).unwrap_or(i64::MAX);
        self.progress(team, id, 92, "sending the archive").await;
        let summary = format!(
            "{} tables, {} rows, {} files",
            manifest.tables.len(),
            manifest.tables.iter().map(|(_, n)| n).sum::<u64>(),
            files.len()
        );
        match target {
            Target::Download => {
                let key = Self::archive_key(id).ok_or(ExportError::File)?;
                self.files.store.put_file(&key, &sealed).await.map_err(|_| ExportError::File)?;
                Ok((format!("{summary}; ready to download for a day"), bytes))
            }
            Target::Bucket(settings, prefix) => {
                let key = format!("{prefix}moth-export-{}.tar.age", manifest.exported_at.replace(':', ""));
                self.upload(&settings, &key, &sealed).await?;
                Ok((format!("{summary}; written to s3://{}/{key}", settings.bucket), bytes))
            }
        }
    }

    /// Packs the staged files and the team's stored files (decrypted) into the encrypted archive at
    /// `sealed`. The writing (and age's scrypt for a passphrase) runs on a blocking thread; files reach
    /// it through a channel of two, so at most a few are in memory at once.
    async fn pack(
        &self,
        scope: &ExportScope,
        id: &str,
        files: &[team_export::TeamFile],
        staged: Vec<(String, PathBuf)>,
        lock: Lock,
        sealed: &std::path::Path,
    ) -> Result<(Writer, Vec<Entry>), ExportError> {
        let (send, mut receive) = tokio::sync::mpsc::channel::<(String, Vec<u8>)>(2);
        let writing = {
            let sealed = sealed.to_owned();
            tokio::task::spawn_blocking(move || -> Result<(Writer, Vec<Entry>), crate::backup::BackupError> {
                let mut writer = Writer::create(&sealed, &lock)?;
                let mut entries = Vec::new();
                for (name, path) in &staged {
                    entries.push(writer.add_file(name, path)?);
                }
                while let Some((name, bytes)) = receive.blocking_recv() {
                    entries.push(writer.add_bytes(&name, &bytes)?);
                }
                Ok((writer, entries))
            })
        };
        let total = files.len().max(1);
        for (done, file) in files.iter().enumerate() {
            let sealed_bytes = self.files.store.get(&file.storage_key).await.map_err(|_| ExportError::File)?;
            let plain =
                self.files.keys.open(&file.key_id, &file.wrapped_key, &sealed_bytes).map_err(|_| ExportError::File)?;
            let name = format!("files/{}/{}", file.id, sanitize_filename::sanitize(&file.name));
            if send.send((name, plain)).await.is_err() {
                break; // the writer stopped; its error says why
            }
            if done % 10 == 9 {
                let percent = 45 + i64::try_from(done * 45 / total).unwrap_or(45);
                self.progress(scope.team_id(), id, percent, &format!("files: {} of {}", done + 1, files.len())).await;
            }
        }
        drop(send);
        Ok(writing.await.map_err(std::io::Error::other)??)
    }

    /// Writes every team table, the team and its members as JSON files; answers the row counts and
    /// the files to pack.
    async fn stage_rows(
        &self,
        scope: &ExportScope,
        id: &str,
        scratch: &std::path::Path,
    ) -> Result<(Vec<(String, u64)>, Vec<(String, PathBuf)>), ExportError> {
        let team = scope.team_id();
        let tables = team_export::team_tables(&self.db).await?;
        let mut counts = Vec::new();
        let mut staged = Vec::new();
        let (team_row, members) = team_export::team_and_members(&self.db, scope).await?;
        for (name, value) in [("team", team_row), ("members", serde_json::Value::Array(members))] {
            let path = scratch.join(format!("{name}.json"));
            tokio::fs::write(&path, serde_json::to_vec_pretty(&value).map_err(std::io::Error::other)?).await?;
            staged.push((format!("data/{name}.json"), path));
        }
        let total = tables.len().max(1);
        for (done, table) in tables.iter().enumerate() {
            let path = scratch.join(format!("table-{done}.json"));
            let mut out = tokio::io::BufWriter::new(tokio::fs::File::create(&path).await?);
            let n = team_export::write_rows(&self.db, scope, table, &mut out).await?;
            out.flush().await?;
            counts.push((table.clone(), n));
            staged.push((format!("data/{table}.json"), path));
            let percent = 1 + i64::try_from(done * 39 / total).unwrap_or(0);
            self.progress(team, id, percent, &format!("tables: {} of {}", done + 1, tables.len())).await;
        }
        Ok((counts, staged))
    }

    async fn stage_csv(
        &self,
        scope: &ExportScope,
        scratch: &std::path::Path,
    ) -> Result<(String, PathBuf), ExportError> {
        let issues = team_export::csv_issues(&self.db, scope).await?;
        let csv_error = |e: csv::Error| std::io::Error::other(e.to_string());
        let (first, last) = (["project", "number", "title"], ["created_at", "updated_at", "description"]);
        let header = [&first[..], &crate::spreadsheet::ISSUE_PROPERTY_COLUMNS, &last].concat();
        let mut csv = crate::spreadsheet::SafeCsv::new(&header).map_err(csv_error)?;
        for i in issues {
            let row = [
                i.project_key,
                i.number.to_string(),
                i.title,
                i.kind,
                i.severity,
                i.priority,
                i.status,
                i.visibility,
                i.reporter,
                crate::clock::iso8601(i.created_at),
                crate::clock::iso8601(i.updated_at),
                i.description,
            ];
            csv.row(row).map_err(csv_error)?;
        }
        let bytes = csv.finish().map_err(csv_error)?;
        let path = scratch.join("issues.csv");
        tokio::fs::write(&path, bytes).await?;
        Ok(("issues.csv".to_owned(), path))
    }

    async fn upload(&self, settings: &S3Settings, key: &str, file: &std::path::Path) -> Result<(), ExportError> {
        let client = guarded_client(settings, self.allow_private);
        let body = aws_sdk_s3::primitives::ByteStream::from_path(file)
            .await
            .map_err(|e| ExportError::Bucket(e.to_string()))?;
        client
            .put_object()
            .bucket(&settings.bucket)
            .key(key)
            .body(body)
            .send()
            .await
            .map_err(|e| ExportError::Bucket(aws_sdk_s3::error::DisplayErrorContext(e).to_string()))?;
        Ok(())
    }

    /// The team's bucket with its secret opened, and the key prefix.
    pub async fn bucket(&self, scope: &ExportScope) -> Result<Option<(S3Settings, String)>, ExportError> {
        use base64::{engine::general_purpose::STANDARD, Engine};
        let Some(stored) = team_export::bucket(&self.db, scope).await? else { return Ok(None) };
        let sealed = STANDARD.decode(&stored.secret).map_err(|_| ExportError::File)?;
        let secret =
            self.files.keys.open(&stored.key_id, &stored.wrapped_key, &sealed).map_err(|_| ExportError::File)?;
        let settings = S3Settings {
            endpoint: stored.endpoint,
            region: stored.region,
            bucket: stored.bucket,
            access_key_id: stored.access_key_id,
            secret_access_key: String::from_utf8(secret).map_err(|_| ExportError::File)?,
            path_style: stored.path_style,
        };
        Ok(Some((settings, stored.prefix)))
    }

    /// Starts the exports whose team schedule is due (its last export to the bucket is older than a
    /// day or a week, and none runs), encrypted to the team's scheduled recipient. Audited as the
    /// owner's own exports are. Answers how many started.
    pub async fn scheduled_round(self: &Arc<Self>) -> Result<usize, ExportError> {
        let now = self.now();
        let mut started = 0;
        for due in team_export::due_schedules(&self.db, now).await? {
            let scope = ExportScope(due.team_id);
            let (Some(target), Some(lock)) = (self.bucket(&scope).await?, lock("", &due.recipient)) else { continue };
            let id =
                team_export::start(&self.db, &scope, due.owner_id, app::model::ExportDestination::Bucket, now).await?;
            let record = crate::db::audit::Record {
                event: crate::db::audit::Event::TeamExported,
                success: true,
                team_id: Some(due.team_id),
                actor_id: None,
                detail: format!("export {id} to bucket (scheduled)"),
                source_ip: None,
            };
            crate::db::audit::record(&self.db, record, now).await;
            tokio::spawn(self.clone().run(scope, id, lock, Target::Bucket(target.0, target.1)));
            started += 1;
        }
        Ok(started)
    }

    /// Removes the downloadable archives older than [`DOWNLOAD_TTL_MS`] from the object store (the
    /// cluster's leader does this; a week of them is looked at each round, so a round missed while
    /// no instance led is made up; removing one already gone is no error).
    pub async fn forget_old_archives(&self) -> Result<usize, ExportError> {
        let cutoff = self.now() - DOWNLOAD_TTL_MS;
        let ids = team_export::finished_downloads(&self.db, cutoff - 7 * DOWNLOAD_TTL_MS, cutoff).await?;
        for id in &ids {
            if let Some(key) = Self::archive_key(id) {
                self.files.store.delete(&key).await.map_err(|_| ExportError::File)?;
            }
        }
        Ok(ids.len())
    }

    /// Removes this instance's local downloadable exports older than [`DOWNLOAD_TTL_MS`] (by the
    /// file's age): those earlier releases kept in `exports_dir/<team>/`.
    pub async fn forget_old(&self) {
        let Ok(mut teams) = tokio::fs::read_dir(&self.dir).await else { return };
        let ttl = std::time::Duration::from_millis(u64::try_from(DOWNLOAD_TTL_MS).unwrap_or(u64::MAX));
        while let Ok(Some(team)) = teams.next_entry().await {
            let Ok(mut files) = tokio::fs::read_dir(team.path()).await else { continue };
            while let Ok(Some(file)) = files.next_entry().await {
                let old = file.metadata().await.ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok());
                if old.is_some_and(|age| age > ttl) {
                    let _ = tokio::fs::remove_file(file.path()).await;
                }
            }
        }
    }
}

/// An S3 client whose every connection goes through [`ssrf::GuardedResolver`].
fn guarded_client(settings: &S3Settings, allow_private: bool) -> aws_sdk_s3::Client {
    crate::files::store::s3_client_resolving(settings, ssrf::GuardedResolver { allow_private })
}

/// The lock an owner chose, as age wants it.
pub fn lock(passphrase: &str, recipient: &str) -> Option<Lock> {
    if !passphrase.is_empty() {
        return Some(Lock::Passphrase(SecretString::from(passphrase.to_owned())));
    }
    recipient.parse::<age::x25519::Recipient>().ok().map(|r| Lock::Recipients(vec![r]))
}

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
