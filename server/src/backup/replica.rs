//! Continuous protection of the embedded database: Litestream (a proven WAL-shipping engine, run and
//! watched by Moth) replicates every commit within a second to a local folder replica; Moth encrypts
//! each replica file with age, to the backup recipients, and ships it to the backup destinations
//! under `replica/` every few seconds. Nothing leaves the machine unencrypted; the remote copy trails
//! the database by at most a sync and a shipping interval (the RPO, measured by the benchmark).
//!
//! A point-in-time restore fetches and decrypts the shipped replica into a scratch folder and asks
//! `litestream restore -timestamp` for the database as it was at that moment.

use std::{
    collections::{BTreeMap, HashMap},
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, SystemTime},
};

use super::{destination::Destination, BackupError};

/// Where shipped replica files go at each destination.
pub const PREFIX: &str = "replica/";

pub struct Replica {
    pub litestream: PathBuf,
    pub database: PathBuf,
    /// Litestream's own replica (plain, on this machine), under `<replica_dir>/ltx`.
    pub dir: PathBuf,
    /// What was shipped, by path relative to `dir`: its size and modification time.
    shipped: Mutex<HashMap<String, (u64, SystemTime)>>,
    /// When the last shipping round finished with everything shipped (for `/metrics`).
    pub last_shipped: Mutex<Option<SystemTime>>,
}

impl Replica {
    pub fn new(litestream: PathBuf, database: PathBuf, dir: PathBuf) -> Self {
        Self { litestream, database, dir, shipped: Mutex::default(), last_shipped: Mutex::default() }
    }

    fn config_file(&self) -> PathBuf {
        self.dir.join("litestream.yml")
    }

    /// Writes Litestream's configuration: this database, a file replica synced every second.
    fn write_config(&self) -> Result<(), BackupError> {
        std::fs::create_dir_all(&self.dir)?;
        let yaml = format!(
            "# Written by Moth at each start; changes here are lost.\ndbs:\n  - path: {}\n    replicas:\n      - type: file\n        path: {}\n        sync-interval: 1s\n",
            quoted(&self.database),
            quoted(&self.dir.join("files"))
        );
        std::fs::write(self.config_file(), yaml)?;
        Ok(())
    }

    /// Runs `litestream replicate` until the returned guard is dropped, starting it again (after
    /// five seconds) whenever it stops.
    pub fn supervise(self: &Arc<Self>) -> Result<AbortOnDrop, BackupError> {
        self.write_config()?;
        let me = self.clone();
        Ok(AbortOnDrop(tokio::spawn(async move {
            loop {
                let child = tokio::process::Command::new(&me.litestream)
                    .arg("replicate")
                    .arg("-config")
                    .arg(me.config_file())
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .kill_on_drop(true)
                    .spawn();
                match child {
                    Ok(mut child) => {
                        tracing::info!("litestream replicates the database");
                        let status = child.wait().await;
                        tracing::error!(?status, "litestream stopped; starting it again in 5 s");
                    }
                    Err(e) => tracing::error!(error = %e, "litestream could not be started; trying again in 5 s"),
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        })))
    }

    /// The replica's files (relative paths), with their size and modification time.
    /// Litestream's finished files under the replica folder, in name order: within a level the
    /// names are zero-padded transaction ids, so shipping in this order leaves the destination a
    /// contiguous run even when a round is cut short (a round in hash order once left a gap that
    /// made the whole replica unrestorable after a SIGKILL).
    fn local_files(&self) -> Result<BTreeMap<String, (u64, SystemTime)>, BackupError> {
        let root = self.dir.join("files");
        let mut found = BTreeMap::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            for entry in entries {
                let entry = entry?;
                let meta = entry.metadata()?;
                if meta.is_dir() {
                    stack.push(entry.path());
                } else if let Ok(relative) = entry.path().strip_prefix(&root) {
                    let name = relative.to_string_lossy().into_owned();
                    // Litestream writes under temporary names and renames: only finished files.
                    let temporary = Path::new(&name).extension().is_some_and(|e| e.eq_ignore_ascii_case("tmp"));
                    if !temporary {
                        found.insert(name, (meta.len(), meta.modified()?));
                    }
                }
            }
        }
        Ok(found)
    }

    /// Encrypts and sends every replica file that is new or changed since the last round, and
    /// removes at the destinations what Litestream removed here (after its compaction); answers how
    /// many files were sent.
    pub async fn ship(
        &self,
        destinations: &[Destination],
        recipients: &[age::x25519::Recipient],
        scratch: &Path,
    ) -> Result<usize, BackupError> {
        let local = self.local_files()?;
        let shipped = self.shipped.lock().map(|s| s.clone()).unwrap_or_default();
        let mut sent = 0;
        std::fs::create_dir_all(scratch)?;
        for (name, stamp) in &local {
            if shipped.get(name) == Some(stamp) {
                continue;
            }
            let sealed = scratch.join("replica-file.age");
            seal_file(&self.dir.join("files").join(name), &sealed, recipients)?;
            for destination in destinations {
                destination.put(&format!("{PREFIX}{name}.age"), &sealed).await?;
            }
            sent += 1;
            if let Ok(mut s) = self.shipped.lock() {
                s.insert(name.clone(), *stamp);
            }
        }
        // Mirror Litestream's removals, but never empty a destination because the local folder is gone.
        if !local.is_empty() {
            let gone: Vec<String> = shipped.keys().filter(|n| !local.contains_key(*n)).cloned().collect();
            for name in gone {
                for destination in destinations {
                    destination.delete_object(&format!("{PREFIX}{name}.age")).await?;
                }
                if let Ok(mut s) = self.shipped.lock() {
                    s.remove(&name);
                }
            }
        }
        if let Ok(mut last) = self.last_shipped.lock() {
            *last = Some(SystemTime::now());
        }
        Ok(sent)
    }
}

/// Restores the database as it was at `at` (Unix ms; `None`: the newest) from the replica shipped to
/// `destination` into the new file `to`; answers the times of the replica's oldest and newest files
/// (the span a restore to a moment can reach).
pub async fn restore(
    litestream: &Path,
    destination: &Destination,
    identities: Vec<age::x25519::Identity>,
    scratch: &Path,
    at: Option<i64>,
    to: &Path,
) -> Result<(i64, i64), BackupError> {
    let files = destination.list_objects(PREFIX).await?;
    if files.is_empty() {
        return Err(BackupError::Refused("no continuous replica was shipped to this destination".into()));
    }
    let replica = scratch.join("replica");
    let mut newest = SystemTime::UNIX_EPOCH;
    let mut oldest = SystemTime::now();
    for name in files {
        let Some(relative) = name.strip_suffix(".age") else { continue };
        if relative.split('/').any(|part| part == ".." || part.is_empty()) {
            return Err(BackupError::Damaged(format!("the replica holds an unsafe name: {name}")));
        }
        let sealed = scratch.join("fetched.age");
        destination.fetch(&format!("{PREFIX}{name}"), &sealed).await?;
        let plain = replica.join(relative);
        if let Some(parent) = plain.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let modified = open_file(&sealed, &plain, &identities)?;
        newest = newest.max(modified);
        oldest = oldest.min(modified);
    }
    // Litestream refuses a moment after its newest file ("timestamp does not exist"): for such a
    // moment the newest state is the answer.
    let newest_ms = newest.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let at = at.filter(|at| u128::try_from(*at).unwrap_or(0) < newest_ms);
    let mut command = tokio::process::Command::new(litestream);
    command.arg("restore").arg("-o").arg(to);
    if let Some(at) = at {
        command.arg("-timestamp").arg(rfc3339_millis(at));
    }
    command.arg(format!("file://{}", replica.display()));
    let output = command
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| BackupError::Tool(format!("litestream could not be started: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(BackupError::Tool(format!("litestream restore failed: {}", stderr.trim())));
    }
    let millis = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    Ok((i64::try_from(millis(oldest)).unwrap_or(0), i64::try_from(millis(newest)).unwrap_or(0)))
}

/// `2026-11-30T18:15:00.123Z`, as `litestream restore -timestamp` reads it.
fn rfc3339_millis(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

fn quoted(path: &Path) -> String {
    serde_json::to_string(&path.to_string_lossy()).unwrap_or_default()
}

/// Encrypts a replica file. Litestream's file replica dates each file by its modification time (a
/// restore to a moment picks files by it), so the time travels inside the encryption, as the first
/// eight bytes (Unix milliseconds, big-endian), and is put back on restore.
fn seal_file(plain: &Path, sealed: &Path, recipients: &[age::x25519::Recipient]) -> Result<(), BackupError> {
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
        .map_err(|e| BackupError::Crypto(e.to_string()))?;
    let mut input = std::fs::File::open(plain)?;
    let modified = input.metadata()?.modified()?;
    let millis = modified.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let output = std::fs::File::create(sealed)?;
    let mut writer = encryptor.wrap_output(std::io::BufWriter::new(output))?;
    std::io::Write::write_all(&mut writer, &u64::try_from(millis).unwrap_or(0).to_be_bytes())?;
    std::io::copy(&mut input, &mut writer)?;
    let mut inner = writer.finish()?;
    std::io::Write::flush(&mut inner)?;
    Ok(())
}

/// Decrypts a replica file and puts its modification time back; answers that time.
fn open_file(sealed: &Path, plain: &Path, identities: &[age::x25519::Identity]) -> Result<SystemTime, BackupError> {
    let decryptor = age::Decryptor::new(std::io::BufReader::new(std::fs::File::open(sealed)?))
        .map_err(|e| BackupError::Crypto(e.to_string()))?;
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        .map_err(|e| BackupError::Crypto(e.to_string()))?;
    let mut stamp = [0_u8; 8];
    std::io::Read::read_exact(&mut reader, &mut stamp)?;
    let mut output = std::fs::File::create(plain)?;
    std::io::copy(&mut reader, &mut output)?;
    let modified = SystemTime::UNIX_EPOCH + Duration::from_millis(u64::from_be_bytes(stamp));
    output.set_modified(modified)?;
    Ok(modified)
}

/// Stops a task (and so a child process it holds with `kill_on_drop`) when dropped.
pub struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
