//! A snapshot's archive: a tar stream encrypted with age, written and read as a stream (nothing is
//! held whole in memory). Inside: the database copy, every stored file object as it is stored
//! (already sealed by the master key), the key files needed to open them, and `manifest.json` last.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Read, Write},
    path::{Path, PathBuf},
};

use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::BackupError;
use crate::{
    db::backup::TableDigest,
    digest::{hex, sha256_hex},
};

/// Bumped when the archive's layout changes; a restore refuses formats it does not know.
pub const FORMAT: u32 = 1;
pub const MANIFEST: &str = "manifest.json";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// The path inside the archive.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub moth_version: String,
    /// `sqlite` or `postgres`: a snapshot restores into the same kind of database.
    pub backend: String,
    /// Unix milliseconds when the database copy was taken.
    pub taken_at: i64,
    /// The database copy (`database.sqlite3` or `database.pgdump`).
    pub database: Entry,
    pub tables: Vec<TableDigest>,
    /// Stored file objects, under `files/<storage key>`.
    pub files: Vec<Entry>,
    /// Live attachments whose object was not in the store when the snapshot was taken.
    pub missing_files: Vec<String>,
    /// Key files, under `keys/`.
    pub keys: Vec<Entry>,
}

/// Who can open an archive: the installation's age recipients, or a passphrase (team exports).
pub enum Lock {
    Recipients(Vec<age::x25519::Recipient>),
    Passphrase(SecretString),
}

/// Who opens it.
pub enum Key {
    Identities(Vec<age::x25519::Identity>),
    Passphrase(SecretString),
}

/// Writes entries into a new encrypted archive at `path`.
pub struct Writer {
    tar: tar::Builder<age::stream::StreamWriter<BufWriter<File>>>,
}

impl Writer {
    pub fn create(path: &Path, lock: &Lock) -> Result<Self, BackupError> {
        let encryptor = match lock {
            Lock::Recipients(recipients) => {
                age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                    .map_err(|e| BackupError::Crypto(e.to_string()))?
            }
            Lock::Passphrase(passphrase) => age::Encryptor::with_user_passphrase(passphrase.clone()),
        };
        let file = File::create(path)?;
        let stream = encryptor.wrap_output(BufWriter::new(file))?;
        let mut tar = tar::Builder::new(stream);
        tar.mode(tar::HeaderMode::Deterministic);
        Ok(Self { tar })
    }

    /// Adds `bytes` as `path`, returning its manifest entry.
    pub fn add_bytes(&mut self, path: &str, bytes: &[u8]) -> Result<Entry, BackupError> {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        self.tar.append_data(&mut header, path, bytes)?;
        Ok(Entry { path: path.to_owned(), bytes: bytes.len() as u64, sha256: sha256_hex(bytes) })
    }

    /// Adds the local file `source` as `path`, hashing it on the way.
    pub fn add_file(&mut self, path: &str, source: &Path) -> Result<Entry, BackupError> {
        let file = File::open(source)?;
        let bytes = file.metadata()?.len();
        let mut hashing = HashingReader { inner: BufReader::new(file), hash: Sha256::new() };
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes);
        header.set_mode(0o600);
        self.tar.append_data(&mut header, path, &mut hashing)?;
        Ok(Entry { path: path.to_owned(), bytes, sha256: hex(&hashing.hash.finalize()) })
    }

    /// Writes the manifest and closes the archive (until this returns, the file cannot be opened).
    pub fn finish(mut self, manifest: &impl Serialize) -> Result<(), BackupError> {
        let json = serde_json::to_vec_pretty(manifest).map_err(|e| BackupError::Manifest(e.to_string()))?;
        self.add_bytes(MANIFEST, &json)?;
        let stream = self.tar.into_inner()?;
        let mut file = stream.finish()?;
        file.flush()?;
        file.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()?;
        Ok(())
    }
}

struct HashingReader<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Decrypts the archive at `path` into the empty folder `into` and returns its manifest, after
/// checking every entry the manifest lists against its size and SHA-256. Fails on a wrong key, on
/// any altered byte (age authenticates every chunk) and on a missing or different entry.
pub fn unpack(path: &Path, key: &Key, into: &Path) -> Result<Manifest, BackupError> {
    let file = BufReader::new(File::open(path)?);
    let decryptor = age::Decryptor::new(file).map_err(|e| BackupError::Crypto(e.to_string()))?;
    let reader = match key {
        Key::Identities(identities) => decryptor.decrypt(identities.iter().map(|i| i as &dyn age::Identity)),
        Key::Passphrase(passphrase) => {
            let identity = age::scrypt::Identity::new(passphrase.clone());
            decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity))
        }
    }
    .map_err(|e| BackupError::Crypto(e.to_string()))?;
    let mut tar = tar::Archive::new(reader);
    // `unpack_in` refuses entries that would land outside `into` (`..`, absolute paths, links out).
    for entry in tar.entries()? {
        let mut entry = entry?;
        if !entry.unpack_in(into)? {
            return Err(BackupError::Damaged("an entry points outside the archive".into()));
        }
    }
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(into.join(MANIFEST))?)
        .map_err(|e| BackupError::Manifest(e.to_string()))?;
    if manifest.format != FORMAT {
        return Err(BackupError::Manifest(format!("format {} is not known to this Moth", manifest.format)));
    }
    let listed = std::iter::once(&manifest.database).chain(&manifest.files).chain(&manifest.keys);
    for entry in listed {
        check_entry(into, entry)?;
    }
    Ok(manifest)
}

fn check_entry(root: &Path, entry: &Entry) -> Result<(), BackupError> {
    let path: PathBuf = root.join(&entry.path);
    let mut file = File::open(&path).map_err(|_| BackupError::Damaged(format!("{} is missing", entry.path)))?;
    let mut hash = Sha256::new();
    let bytes = std::io::copy(&mut file, &mut hash)?;
    if bytes != entry.bytes || hex(&hash.finalize()) != entry.sha256 {
        return Err(BackupError::Damaged(format!("{} differs from the manifest", entry.path)));
    }
    Ok(())
}

/// SHA-256 of a whole file, streamed.
pub fn file_sha256(path: &Path) -> Result<String, BackupError> {
    let mut file = File::open(path)?;
    let mut hash = Sha256::new();
    std::io::copy(&mut file, &mut hash)?;
    Ok(hex(&hash.finalize()))
}
