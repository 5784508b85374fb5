//! The pipeline as an upload's body arrives, for types whose checks need no whole file (text and
//! PDF, which include the largest uploads): each piece is counted against the type's limit, checked
//! (the magic bytes once the first 8 KiB are in; text as UTF-8 piece by piece), passed to clamd, and
//! sealed into a staging file; when the body ends and clamd says OK, the sealed file moves into the
//! store. At most a few pieces are in memory at once, whatever the file's size, and nothing reaches
//! the store before every step passed: the staging file holds only sealed bytes and is removed on
//! any refusal (or, after a crash, at a later start).

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use app::model::{ContentCheck, FileType};
use bytes::Bytes;

use super::{content, crypto::Keys, Rejection, Step};

/// How many bytes of the start are sniffed for the magic bytes.
const HEAD: usize = 8 * 1024;
/// How many pieces may wait for the sealer.
const QUEUED_PIECES: usize = 8;
/// Sealed bytes gathered before a write to the staging file.
const WRITE_SIZE: usize = 1024 * 1024;

/// The content checks of one upload, fed piece by piece.
pub struct StreamCheck {
    file_type: &'static FileType,
    head: Vec<u8>,
    sniffed: bool,
    /// Text: the start of a UTF-8 sequence cut by the end of the last piece.
    carry: Vec<u8>,
}

impl StreamCheck {
    pub fn new(file_type: &'static FileType) -> Self {
        debug_assert!(matches!(file_type.check, ContentCheck::Text | ContentCheck::Document));
        Self { file_type, head: Vec::with_capacity(HEAD), sniffed: false, carry: Vec::new() }
    }

    pub fn push(&mut self, piece: &[u8]) -> Result<(), Rejection> {
        if !self.sniffed {
            let take = (HEAD - self.head.len()).min(piece.len());
            self.head.extend_from_slice(&piece[..take]);
            if self.head.len() == HEAD {
                self.sniff()?;
            }
        }
        if self.file_type.check == ContentCheck::Text {
            self.text(piece)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<(), Rejection> {
        if !self.sniffed {
            self.sniff()?;
        }
        if self.carry.is_empty() {
            Ok(())
        } else {
            Err(content::not_utf8())
        }
    }

    fn sniff(&mut self) -> Result<(), Rejection> {
        self.sniffed = true;
        content::check_head(self.file_type, &self.head)
    }

    fn text(&mut self, piece: &[u8]) -> Result<(), Rejection> {
        if piece.contains(&0) {
            return Err(content::not_utf8());
        }
        let joined;
        let bytes = if self.carry.is_empty() {
            piece
        } else {
            joined = [std::mem::take(&mut self.carry).as_slice(), piece].concat();
            joined.as_slice()
        };
        match std::str::from_utf8(bytes) {
            Ok(_) => Ok(()),
            // Only the end is cut: keep it for the next piece (at most 3 bytes).
            Err(e) if e.error_len().is_none() => {
                self.carry = bytes[e.valid_up_to()..].to_vec();
                Ok(())
            }
            Err(_) => Err(content::not_utf8()),
        }
    }
}

/// A staging file, removed when dropped unless it was handed to the store.
pub struct Staged {
    path: PathBuf,
}

impl Staged {
    pub fn new(folder: &Path) -> Self {
        Self { path: folder.join(uuid::Uuid::new_v4().simple().to_string()) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Already moved into the store (or never made): nothing to remove.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Makes sure the staging folder exists and removes what a crash left in it: files older than an
/// hour (an upload ends within `UPLOAD_TIMEOUT`), so that another instance sharing the folder keeps
/// the uploads it is scanning.
pub fn reset_staging(folder: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    let stale = std::time::SystemTime::now() - Duration::from_secs(3600);
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let modified = entry.metadata().and_then(|m| m.modified());
        if modified.is_ok_and(|at| at < stale) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// What sealing into the staging file answers: the plain length, the master key's id and the wrapped
/// data key.
pub type SealedFile = (u64, String, String);

/// Starts sealing into `path` on a blocking thread; the pieces go through the sender, and the
/// handle answers once the file is written and synced.
pub fn start_sealing(
    keys: &Keys,
    path: PathBuf,
) -> (tokio::sync::mpsc::Sender<Bytes>, tokio::task::JoinHandle<std::io::Result<SealedFile>>) {
    let (sender, mut pieces) = tokio::sync::mpsc::channel::<Bytes>(QUEUED_PIECES);
    let mut sealer = keys.sealer();
    let sealing = tokio::task::spawn_blocking(move || {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        let mut out = sealer.header();
        while let Some(piece) = pieces.blocking_recv() {
            sealer.push(&piece, &mut out);
            if out.len() >= WRITE_SIZE {
                file.write_all(&out)?;
                out.clear();
            }
        }
        let answer = sealer.finish(&mut out);
        file.write_all(&out)?;
        file.sync_all()?;
        Ok(answer)
    });
    (sender, sealing)
}

/// Why reading an upload's body stopped early.
pub fn cut_off() -> Rejection {
    Rejection::new(Step::Size, "The upload ended before the whole file arrived.")
}

/// How an upload's body must keep coming: whole within [`UPLOAD_TIMEOUT`], and after a short grace,
/// at no less than [`MIN_BYTES_PER_SEC`] on average. A client that trickles a byte now and then is
/// cut off within seconds instead of holding its place in the pipeline for minutes.
pub struct Pace {
    started: tokio::time::Instant,
    received: u64,
}

/// The start of a body may be slow (a phone waking its radio): no rate is asked for this long.
pub const PACE_GRACE: Duration = Duration::from_secs(10);
/// The slowest average an upload may arrive at after [`PACE_GRACE`].
pub const MIN_BYTES_PER_SEC: u64 = 8 * 1024;

impl Pace {
    pub fn start() -> Self {
        Self { started: tokio::time::Instant::now(), received: 0 }
    }

    /// When the next piece must have arrived: the rate's limit for what came so far, or the end.
    fn deadline(&self) -> tokio::time::Instant {
        let earned = Duration::from_millis(self.received.saturating_mul(1000) / MIN_BYTES_PER_SEC);
        (self.started + PACE_GRACE + earned).min(self.started + UPLOAD_TIMEOUT)
    }
}

/// The next piece of a body, or a refusal when it does not come in time (see [`Pace`]).
pub async fn next_piece<S, E>(body: &mut S, pace: &mut Pace) -> Result<Option<Bytes>, Rejection>
where
    S: tokio_stream::Stream<Item = Result<Bytes, E>> + Unpin,
{
    use tokio_stream::StreamExt;
    match tokio::time::timeout_at(pace.deadline(), body.next()).await {
        Ok(Some(Ok(piece))) => {
            pace.received += piece.len() as u64;
            Ok(Some(piece))
        }
        Ok(Some(Err(_))) => Err(cut_off()),
        Ok(None) => Ok(None),
        Err(_) => Err(Rejection {
            timed_out: true,
            ..Rejection::new(Step::Size, "The file did not arrive in time: the upload was too slow or stalled.")
        }),
    }
}

/// How long an upload's body may take to arrive whole.
pub const UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

#[cfg(test)]
mod tests {
    use app::model::file_type_of;

    use super::*;

    fn check(name: &str, pieces: &[&[u8]]) -> Result<(), Rejection> {
        let mut check = StreamCheck::new(file_type_of(name).expect("allowed"));
        for piece in pieces {
            check.push(piece)?;
        }
        check.finish()
    }

    #[test]
    fn a_start_removes_what_a_crash_left_and_keeps_uploads_under_way() {
        let dir = tempfile::tempdir().expect("dir");
        let (old, fresh) = (dir.path().join("old"), dir.path().join("fresh"));
        let file = std::fs::File::create(&old).expect("old");
        file.set_modified(std::time::SystemTime::now() - Duration::from_secs(7200)).expect("age it");
        std::fs::write(&fresh, b"sealed").expect("fresh");
        reset_staging(dir.path()).expect("reset");
        assert!(!old.exists(), "a crash's left-over stayed");
        assert!(fresh.exists(), "an upload under way (perhaps of another instance) was removed");
    }

    #[test]
    fn text_is_checked_as_utf8_across_pieces() {
        let text = "naïve café — ok\n".as_bytes();
        for cut in 0..text.len() {
            assert!(check("notes.txt", &[&text[..cut], &text[cut..]]).is_ok(), "cut at {cut}");
        }
        assert!(check("notes.txt", &[b"fine", b"\xff"]).is_err(), "an invalid byte");
        assert!(check("notes.txt", &[b"cut off \xc3"]).is_err(), "a sequence the file's end cuts");
        assert!(check("notes.txt", &[b"nul", b"\0"]).is_err(), "NUL");
    }

    #[test]
    fn the_magic_bytes_are_checked_on_the_first_8_kib_however_they_arrive() {
        let mut pdf = b"%PDF-1.7\n".to_vec();
        pdf.resize(3 * HEAD, b'x');
        let pieces: Vec<&[u8]> = pdf.chunks(100).collect();
        assert!(check("report.pdf", &pieces).is_ok());
        assert!(check("report.pdf", &[b"%PD", b"F-1.7\n"]).is_ok(), "a file shorter than the head");
        assert!(check("report.pdf", &[b"plain text"]).is_err());
        let png_as_text: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR";
        assert!(check("notes.txt", &[png_as_text]).is_err());
    }
}
