//! Step 4: every stored object is sealed with its own data key (AES-256-GCM in the `aead` crate's
//! STREAM construction, 64 KiB segments, so a file can be opened segment by segment and no segment can
//! be cut, reordered or moved to another file unnoticed). The data key is itself sealed ("wrapped") by
//! the server's master key, whose id is stored beside it, so that the master key can be rotated by
//! re-wrapping data keys without touching the objects.
//!
//! The master key is 32 random bytes in a file (mode 0600) that Moth creates on first start; its path
//! is printed, never the key.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use aes_gcm::{
    aead::{stream, Aead, KeyInit},
    Aes256Gcm, Nonce,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use bytes::Bytes;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Plain bytes per sealed segment.
const SEGMENT: usize = 64 * 1024;
/// What GCM adds to each segment.
const TAG: usize = 16;
/// The start of every sealed object: format and version.
const MAGIC: &[u8; 5] = b"MOTH1";
/// The STREAM construction's nonce prefix (the rest is the segment counter and the last flag).
const PREFIX: usize = 7;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("master key file {path}: {source}")]
    KeyFile { path: String, source: std::io::Error },
    #[error("master key file {0} does not hold a 32-byte key in hex")]
    KeyFormat(String),
    #[error("no master key with id {0}")]
    UnknownKey(String),
    #[error("a stored object or its key does not decrypt (altered, or another key)")]
    Open,
}

/// The master key that seals new data keys, and any others that opened earlier ones (kept during a
/// rotation; see `files::rotate`), by id.
#[derive(Clone)]
pub struct Keys {
    id: String,
    key: [u8; 32],
    others: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("id", &self.id).finish_non_exhaustive()
    }
}

/// A sealed object and what it takes to open it again.
pub struct Sealed {
    pub bytes: Bytes,
    pub plain_len: u64,
    pub key_id: String,
    pub wrapped_key: String,
}

impl Keys {
    /// Reads the master key at `path`, or makes one there (mode 0600) if the file does not exist.
    /// Several instances starting at once on shared keys agree: the key is written whole to a file
    /// of its own and then linked into place only if nothing is there yet, so the first
    /// writer's key is the one every instance reads, and none reads half a key.
    pub fn load_or_create(path: &Path) -> Result<Self, CryptoError> {
        let failed = |source| CryptoError::KeyFile { path: path.display().to_string(), source };
        if !path.exists() {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(failed)?;
            }
            let mut key = [0_u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            let mut draft = path.as_os_str().to_owned();
            draft.push(format!(".{:016x}.new", rand::rngs::OsRng.next_u64()));
            let draft = std::path::PathBuf::from(draft);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&draft).map_err(failed)?;
            file.write_all(crate::digest::hex(&key).as_bytes()).and_then(|()| file.sync_all()).map_err(failed)?;
            let linked = std::fs::hard_link(&draft, path);
            let _ = std::fs::remove_file(&draft);
            match linked {
                Ok(()) => tracing::info!(
                    path = %path.display(),
                    "created a new key file (keep it, and back it up apart from the data)"
                ),
                // Another instance made it first: its key is the one.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(failed(e)),
            }
        }
        let text = std::fs::read_to_string(path).map_err(failed)?;
        let key = unhex(text.trim()).ok_or_else(|| CryptoError::KeyFormat(path.display().to_string()))?;
        Ok(Self::from_key(key))
    }

    pub fn from_key(key: [u8; 32]) -> Self {
        let id = crate::digest::hex(&Sha256::digest(key)[..8]);
        Self { id, key, others: Vec::new() }
    }

    /// The master key at `path` (made if missing), and the keys a rotation keeps beside it
    /// (`<path>.previous`, `<path>.next`) for opening what they sealed.
    pub fn load_all(path: &Path) -> Result<Self, CryptoError> {
        let mut keys = Self::load_or_create(path)?;
        for suffix in ["previous", "next"] {
            let sibling = sibling(path, suffix);
            if sibling.exists() {
                let other = Self::load_or_create(&sibling)?;
                keys = keys.with(&other);
            }
        }
        Ok(keys)
    }

    /// These keys, also able to open what `other`'s master key sealed.
    #[must_use]
    pub fn with(mut self, other: &Keys) -> Self {
        if other.id != self.id && self.others.iter().all(|(id, _)| *id != other.id) {
            self.others.push((other.id.clone(), other.key));
        }
        self
    }

    fn key_by_id(&self, id: &str) -> Option<&[u8; 32]> {
        if id == self.id {
            return Some(&self.key);
        }
        self.others.iter().find(|(other, _)| other == id).map(|(_, key)| key)
    }

    /// Seals a data key with the current master key.
    pub fn wrap_data_key(&self, data_key: &[u8; 32]) -> String {
        let mut nonce = [0_u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let wrapped =
            Aes256Gcm::new(&self.key.into()).encrypt(Nonce::from_slice(&nonce), &data_key[..]).unwrap_or_default();
        STANDARD.encode([&nonce[..], &wrapped].concat())
    }

    /// Opens a data key sealed by the master key `key_id`.
    pub fn unwrap_data_key(&self, key_id: &str, wrapped_key: &str) -> Result<[u8; 32], CryptoError> {
        let master = self.key_by_id(key_id).ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?;
        let wrapped = STANDARD.decode(wrapped_key).map_err(|_| CryptoError::Open)?;
        if wrapped.len() != 12 + 32 + TAG {
            return Err(CryptoError::Open);
        }
        let (nonce, wrapped) = wrapped.split_at(12);
        let data_key = Aes256Gcm::new(&(*master).into())
            .decrypt(Nonce::from_slice(nonce), wrapped)
            .map_err(|_| CryptoError::Open)?;
        data_key.try_into().map_err(|_| CryptoError::Open)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// A key for another purpose (signing links), derived so that it reveals nothing of the master key.
    pub fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        let mut out = [0_u8; 32];
        let derived = hkdf::Hkdf::<Sha256>::new(None, &self.key).expand(purpose, &mut out);
        debug_assert!(derived.is_ok(), "32 bytes is a valid HKDF-SHA256 length");
        out
    }

    /// A signer for `purpose` (a fixed, versioned label such as `b"moth file links v1"`).
    pub fn signer(&self, purpose: &'static [u8]) -> crate::signed::Signer {
        crate::signed::Signer::new(self.derive(purpose), self.id().to_owned())
    }

    /// Seals `plain` under a fresh data key.
    pub fn seal(&self, plain: &[u8]) -> Sealed {
        let mut sealer = self.sealer();
        let mut out = Vec::with_capacity(MAGIC.len() + PREFIX + plain.len() + (plain.len() / SEGMENT + 1) * TAG);
        out.extend_from_slice(&sealer.header());
        sealer.push(plain, &mut out);
        let (plain_len, key_id, wrapped_key) = sealer.finish(&mut out);
        Sealed { bytes: Bytes::from(out), plain_len, key_id, wrapped_key }
    }

    /// A sealer for one object under a fresh data key, fed as the bytes arrive: it writes the same
    /// format as [`Keys::seal`] and holds at most one segment.
    pub fn sealer(&self) -> Sealer {
        let mut data_key = [0_u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut data_key);
        let mut prefix = [0_u8; PREFIX];
        rand::rngs::OsRng.fill_bytes(&mut prefix);
        let encryptor = stream::EncryptorBE32::from_aead(Aes256Gcm::new(&data_key.into()), (&prefix).into());
        Sealer {
            encryptor,
            prefix,
            pending: Vec::with_capacity(SEGMENT),
            plain_len: 0,
            wrapped_key: self.wrap_data_key(&data_key),
            key_id: self.id.clone(),
        }
    }

    /// Opens an object sealed by [`Keys::seal`].
    pub fn open(&self, key_id: &str, wrapped_key: &str, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut opener = self.opener_after_header(key_id, wrapped_key, sealed)?;
        let body = &sealed[MAGIC.len() + PREFIX..];
        if body.len() < TAG {
            return Err(CryptoError::Open);
        }
        let mut plain = Vec::with_capacity(body.len());
        let mut segments = body.chunks(SEGMENT + TAG).peekable();
        while let Some(segment) = segments.next() {
            plain.extend(opener.open(segment, segments.peek().is_none())?);
        }
        Ok(plain)
    }

    /// The segment opener of an object whose start (format and nonce prefix) is `header`.
    fn opener_after_header(&self, key_id: &str, wrapped_key: &str, header: &[u8]) -> Result<Segments, CryptoError> {
        let data_key = self.unwrap_data_key(key_id, wrapped_key)?;
        let prefix = header.strip_prefix(&MAGIC[..]).and_then(|rest| rest.get(..PREFIX)).ok_or(CryptoError::Open)?;
        let prefix: [u8; PREFIX] = prefix.try_into().map_err(|_| CryptoError::Open)?;
        let decryptor = stream::DecryptorBE32::from_aead(Aes256Gcm::new(&data_key.into()), (&prefix).into());
        Ok(Segments { decryptor: Some(decryptor) })
    }

    /// Opens an object sealed by [`Keys::seal`] as it is read from `reader`, one segment at a time:
    /// at most two sealed segments (128 KiB) are held, whatever the object's size.
    pub async fn stream_opener<R>(
        &self,
        key_id: &str,
        wrapped_key: &str,
        mut reader: R,
    ) -> Result<StreamOpener<R>, std::io::Error>
    where
        R: tokio::io::AsyncRead + Unpin,
    {
        use tokio::io::AsyncReadExt;
        let mut header = [0_u8; MAGIC.len() + PREFIX];
        reader.read_exact(&mut header).await?;
        let segments = self.opener_after_header(key_id, wrapped_key, &header).map_err(std::io::Error::other)?;
        let mut opener = StreamOpener { reader, segments, ahead: Vec::new() };
        opener.ahead = opener.read_segment().await?;
        Ok(opener)
    }
}

/// The STREAM decryptor of one object: each segment is checked as it is opened, and the last must
/// be the one sealed as last, so a cut object never opens as if it were whole.
struct Segments {
    decryptor: Option<stream::DecryptorBE32<Aes256Gcm>>,
}

impl Segments {
    fn open(&mut self, segment: &[u8], last: bool) -> Result<Vec<u8>, CryptoError> {
        let opened = if last {
            self.decryptor.take().map_or(Err(aes_gcm::aead::Error), |d| d.decrypt_last(segment))
        } else {
            self.decryptor.as_mut().map_or(Err(aes_gcm::aead::Error), |d| d.decrypt_next(segment))
        };
        opened.map_err(|_| {
            self.decryptor = None;
            CryptoError::Open
        })
    }
}

/// A sealed object being opened as it is read (see [`Keys::stream_opener`]). One sealed segment is
/// read ahead, so that the last one is known to be the last when it is opened.
pub struct StreamOpener<R> {
    reader: R,
    segments: Segments,
    ahead: Vec<u8>,
}

impl<R: tokio::io::AsyncRead + Unpin> StreamOpener<R> {
    /// The next sealed segment: up to a full one, shorter only at the end (empty there).
    async fn read_segment(&mut self) -> Result<Vec<u8>, std::io::Error> {
        use tokio::io::AsyncReadExt;
        let mut segment = vec![0_u8; SEGMENT + TAG];
        let mut filled = 0;
        while filled < segment.len() {
            let n = self.reader.read(&mut segment[filled..]).await?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        segment.truncate(filled);
        Ok(segment)
    }

    /// The next opened segment; `None` after the last one. An object that is cut, altered or opened
    /// with another key answers an error, never a clean end.
    pub async fn next_segment(&mut self) -> Option<Result<Vec<u8>, std::io::Error>> {
        self.segments.decryptor.as_ref()?;
        let current = std::mem::take(&mut self.ahead);
        let next = match self.read_segment().await {
            Ok(next) => next,
            Err(e) => {
                self.segments.decryptor = None;
                return Some(Err(e));
            }
        };
        let opened = self.segments.open(&current, next.is_empty());
        self.ahead = next;
        Some(opened.map_err(std::io::Error::other))
    }
}

/// One object being sealed segment by segment (see [`Keys::sealer`]). A segment is sealed as "not
/// last" only once more bytes arrive after it, so the last one is always sealed as last, whatever the
/// length, exactly as [`Keys::seal`] does.
pub struct Sealer {
    encryptor: stream::EncryptorBE32<Aes256Gcm>,
    prefix: [u8; PREFIX],
    pending: Vec<u8>,
    plain_len: u64,
    key_id: String,
    wrapped_key: String,
}

impl Sealer {
    /// What the sealed object starts with: the format and the nonce prefix.
    pub fn header(&self) -> Vec<u8> {
        [&MAGIC[..], &self.prefix[..]].concat()
    }

    /// Seals what of `bytes` completes segments into `out`, keeping the rest for later.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<u8>) {
        self.plain_len += bytes.len() as u64;
        while !bytes.is_empty() {
            if self.pending.len() == SEGMENT {
                out.extend(self.encryptor.encrypt_next(&self.pending[..]).unwrap_or_default());
                self.pending.clear();
            }
            let take = (SEGMENT - self.pending.len()).min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
    }

    /// Seals the last segment into `out`; answers the plain length, the master key's id and the
    /// wrapped data key.
    pub fn finish(self, out: &mut Vec<u8>) -> (u64, String, String) {
        out.extend(self.encryptor.encrypt_last(&self.pending[..]).unwrap_or_default());
        (self.plain_len, self.key_id, self.wrapped_key)
    }
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut key = [0_u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(key)
}

/// `<key file>.<suffix>`: where the next and the previous master keys are kept.
pub fn sibling(key_file: &Path, suffix: &str) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(format!(".{suffix}"));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Instances starting together on shared keys (issue 29): every one reads the same key, whole.
    #[test]
    fn instances_making_the_key_at_once_all_read_the_first_ones() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join("keys").join("master.key");
            let makers: Vec<_> = (0..8)
                .map(|_| {
                    let path = path.clone();
                    std::thread::spawn(move || Keys::load_or_create(&path).expect("a key").id)
                })
                .collect();
            let ids: std::collections::BTreeSet<String> =
                makers.into_iter().map(|m| m.join().expect("thread")).collect();
            assert_eq!(ids.len(), 1, "{ids:?}");
            assert_eq!(std::fs::read_dir(path.parent().expect("dir")).expect("dir").count(), 1, "no drafts left");
        }
    }

    #[test]
    fn sealed_objects_open_only_whole_and_with_their_key() {
        let keys = Keys::from_key([7; 32]);
        for len in [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 5] {
            let plain: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap_or(0)).collect();
            let sealed = keys.seal(&plain);
            assert_ne!(&sealed.bytes[..], &plain[..], "stored bytes differ from the upload");
            assert_eq!(keys.open(&sealed.key_id, &sealed.wrapped_key, &sealed.bytes).expect("opens"), plain);
            let mut altered = sealed.bytes.to_vec();
            let last = altered.len() - 1;
            altered[last] ^= 1;
            assert!(keys.open(&sealed.key_id, &sealed.wrapped_key, &altered).is_err(), "altered: {len}");
            let cut = &sealed.bytes[..sealed.bytes.len().saturating_sub(SEGMENT + TAG).max(MAGIC.len() + PREFIX)];
            assert!(keys.open(&sealed.key_id, &sealed.wrapped_key, cut).is_err() || len == 0, "cut: {len}");
            let other = Keys::from_key([8; 32]);
            assert!(other.open(other.id(), &sealed.wrapped_key, &sealed.bytes).is_err(), "another key");
        }
    }

    #[test]
    fn sealing_as_the_bytes_arrive_opens_like_sealing_at_once_whatever_the_pieces() {
        let keys = Keys::from_key([9; 32]);
        for (len, piece) in
            [(0, 1), (1, 1), (SEGMENT, 1000), (SEGMENT, SEGMENT), (2 * SEGMENT + 3, 4096), (3 * SEGMENT, 7)]
        {
            let plain: Vec<u8> = (0..len).map(|i| u8::try_from(i % 253).unwrap_or(0)).collect();
            let mut sealer = keys.sealer();
            let mut out = sealer.header();
            for chunk in plain.chunks(piece) {
                sealer.push(chunk, &mut out);
            }
            let (plain_len, key_id, wrapped_key) = sealer.finish(&mut out);
            assert_eq!(plain_len, len as u64);
            assert_eq!(out.len(), keys.seal(&plain).bytes.len(), "same format: {len} in pieces of {piece}");
            assert_eq!(keys.open(&key_id, &wrapped_key, &out).expect("opens"), plain, "{len} in pieces of {piece}");
        }
    }

    /// Everything a stream opener gives, or the first error.
    async fn stream_open(
        keys: &Keys,
        key_id: &str,
        wrapped_key: &str,
        sealed: &[u8],
    ) -> Result<Vec<u8>, std::io::Error> {
        let mut opener = keys.stream_opener(key_id, wrapped_key, std::io::Cursor::new(sealed.to_vec())).await?;
        let mut plain = Vec::new();
        while let Some(segment) = opener.next_segment().await {
            plain.extend(segment?);
        }
        Ok(plain)
    }

    #[tokio::test]
    async fn a_stream_opener_opens_what_open_opens_and_never_ends_a_cut_object_cleanly() {
        let keys = Keys::from_key([5; 32]);
        for len in [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 2 * SEGMENT, 3 * SEGMENT + 5] {
            let plain: Vec<u8> = (0..len).map(|i| u8::try_from(i % 249).unwrap_or(0)).collect();
            let sealed = keys.seal(&plain);
            let opened = stream_open(&keys, &sealed.key_id, &sealed.wrapped_key, &sealed.bytes).await;
            assert_eq!(opened.expect("opens"), plain, "{len}");
            // Cut at a segment's end, in a segment, or down to the header: an error, never a clean end.
            for keep in [sealed.bytes.len() - (SEGMENT + TAG).min(sealed.bytes.len() - 12), sealed.bytes.len() - 1, 12]
            {
                let cut = &sealed.bytes[..keep.max(12)];
                if cut.len() == sealed.bytes.len() {
                    continue;
                }
                let opened = stream_open(&keys, &sealed.key_id, &sealed.wrapped_key, cut).await;
                assert!(opened.is_err(), "{len} cut to {keep} opened cleanly");
            }
            let other = Keys::from_key([6; 32]);
            assert!(stream_open(&other, other.id(), &sealed.wrapped_key, &sealed.bytes).await.is_err());
        }
    }
}
