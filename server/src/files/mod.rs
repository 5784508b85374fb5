//! Attachments: the upload pipeline every file passes through, in one order, with nothing stored
//! before every step passed (authorisation and the size are checked by the caller before the body is
//! read; see `http::upload`):
//!
//! 1. [`names`]: the name is sanitised and its extension must be on the allow-list
//!    (`app::model::FILE_TYPES`);
//! 2. [`content`]: the magic bytes must name that type; text must be UTF-8; images must stay within
//!    the pixel limit and are re-encoded ([`images`]); archives must unpack within their limits
//!    ([`archives`]);
//! 3. [`scan`]: clamd must answer exactly "OK" for the upload as it was sent (anything else, or no
//!    answer, refuses: fail closed);
//! 4. [`crypto`]: the bytes to keep (for images, the re-encoded ones) are sealed with a fresh data
//!    key, itself sealed by the master key;
//! 5. [`store`]: the sealed object is written under a key the server generates.
//!
//! Files are delivered only by [`delivery`], on a separate origin, through links [`links`] signs.

pub mod archives;
pub mod content;
pub mod crypto;
pub mod delivery;
pub mod fair;
pub mod images;
pub mod intake;
pub mod links;
pub mod names;
pub mod rotate;
pub mod scan;
pub mod store;

use std::{sync::Arc, time::Duration};

use app::model::{ContentCheck, FileType};
use bytes::Bytes;
use tokio::sync::Semaphore;

/// The pipeline step that refused an upload (stored with the rejection, shown in Quarantine).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Size,
    Name,
    Content,
    Scan,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Size => "size",
            Step::Name => "name",
            Step::Content => "content",
            Step::Scan => "scan",
        }
    }
}

/// Why an upload was refused: the step, a message for the uploader, and clamd's signature name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub step: Step,
    pub reason: String,
    pub signature: Option<String>,
    /// The scanner could not give a verdict (unreachable, timed out): the upload may be retried.
    pub unavailable: bool,
    /// The body did not arrive in time: not a refusal of the file (nothing is quarantined).
    pub timed_out: bool,
}

impl Rejection {
    pub fn new(step: Step, reason: impl Into<String>) -> Self {
        Self { step, reason: reason.into(), signature: None, unavailable: false, timed_out: false }
    }
}

fn too_large(file_type: &FileType) -> Rejection {
    Rejection::new(Step::Size, format!("Files of this type may be at most {} MB.", file_type.max_bytes / (1024 * 1024)))
}

fn not_stored(e: &dyn std::fmt::Display) -> Rejection {
    tracing::error!(error = %e, "object store refused a write");
    Rejection { unavailable: true, ..Rejection::new(Step::Scan, "The file could not be stored. Please try again.") }
}

fn unchecked() -> Rejection {
    Rejection::new(Step::Content, "The file could not be checked.")
}

/// An upload that passed every check, sealed and stored.
#[derive(Clone, Debug)]
pub struct Stored {
    pub name: String,
    pub file_type: &'static FileType,
    pub size: u64,
    pub storage_key: String,
    pub key_id: String,
    pub wrapped_key: String,
}

impl Stored {
    /// What the data layer records of it.
    pub fn as_row(&self) -> crate::db::attachments::StoredFile<'_> {
        crate::db::attachments::StoredFile {
            name: &self.name,
            content_type: self.file_type.mime,
            size: self.size,
            storage_key: &self.storage_key,
            key_id: &self.key_id,
            wrapped_key: &self.wrapped_key,
        }
    }
}

/// What the pipeline needs, built once at start.
pub struct Files {
    pub store: Arc<dyn store::ObjectStore>,
    pub keys: crypto::Keys,
    pub scanner: scan::Scanner,
    pub links: links::Signer,
    /// `scheme://host[:port]` of the file origin, for the links.
    pub files_url: String,
    pub link_ttl: Duration,
    /// Uploads past the size check at once. A streamed upload holds a few pieces of its file; an
    /// image or archive holds it whole (plain and sealed), so this bounds the memory uploads take.
    /// Each address and each team has a fair share of them.
    slots: fair::FairPlaces,
    /// Counts uploads by outcome.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Where sealed uploads wait for clamd's verdict (inside the local store's folder).
    staging: std::path::PathBuf,
    /// Images being decoded at once (see [`images`]).
    decodes: Semaphore,
    /// Files being sent by the file origin at once (each holds its sealed object while it is sent),
    /// in fair shares per address and per team.
    deliveries: fair::FairPlaces,
    /// How long the file origin waits for a reader to take the next piece of a file.
    pub delivery_stall: Duration,
}

/// How many uploads run the pipeline at once; more wait (up to [`SLOT_WAIT`]), then get `busy`.
pub const CONCURRENT_UPLOADS: usize = 4;
/// The places one address may hold at once, and one team.
pub const UPLOADS_PER_CLIENT: usize = 2;
pub const UPLOADS_PER_TEAM: usize = 2;
/// A reader of the file origin that takes nothing for this long is cut off (its place freed).
pub const DELIVERY_STALL: Duration = Duration::from_secs(30);
const SLOT_WAIT: Duration = Duration::from_secs(30);
/// How many files the file origin sends at once; more wait (up to [`SLOT_WAIT`]), then get 503.
pub const CONCURRENT_DELIVERIES: usize = 8;
/// The deliveries one address, and one team's files, may hold at once (more wait for their turn).
pub const DELIVERIES_PER_CLIENT: usize = 4;

impl Files {
    pub fn new(
        store: Arc<dyn store::ObjectStore>,
        staging: std::path::PathBuf,
        keys: crypto::Keys,
        scanner: scan::Scanner,
        files_url: String,
        link_ttl: Duration,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Self {
        let links = links::Signer::new(&keys);
        Self {
            metrics,
            staging,
            store,
            keys,
            scanner,
            links,
            files_url,
            link_ttl,
            slots: fair::FairPlaces::new(CONCURRENT_UPLOADS, UPLOADS_PER_CLIENT, UPLOADS_PER_TEAM),
            decodes: Semaphore::new(1),
            deliveries: fair::FairPlaces::new(CONCURRENT_DELIVERIES, DELIVERIES_PER_CLIENT, DELIVERIES_PER_CLIENT),
            delivery_stall: DELIVERY_STALL,
        }
    }

    /// A place in the pipeline within the fair shares of `address` and `team`, or `None` when none
    /// came free within [`SLOT_WAIT`].
    pub async fn slot(&self, address: &str, team: &str) -> Option<fair::Place> {
        self.slots.acquire(address, team, SLOT_WAIT).await
    }

    /// A place among the deliveries of the file origin within the fair shares of `address` and of the
    /// file's team, held until the file's last byte is sent (or its reader stalls), or `None` when
    /// none came free in time.
    pub async fn delivery_slot(&self, address: &str, team: &str) -> Option<fair::Place> {
        self.deliveries.acquire(address, team, SLOT_WAIT).await
    }

    /// Step 2, off the async executor; images are decoded one at a time (each may take up to 128 MB).
    async fn check_content(&self, file_type: &'static FileType, bytes: Bytes) -> Result<Bytes, Rejection> {
        let _decoding = match file_type.check {
            ContentCheck::Image => Some(self.decodes.acquire().await.map_err(|_| unchecked())?),
            _ => None,
        };
        tokio::task::spawn_blocking(move || content::check(file_type, bytes)).await.map_err(|_| unchecked())?
    }

    /// Steps 1 to 5 for a body uploaded as `name`, read as it arrives: the stored object, or why it
    /// was refused. Text and documents stream through the pipeline ([`intake`]); images and archives,
    /// whose checks need the whole file, are read whole first (at most their type's limit).
    pub async fn accept<S, E>(&self, name: &str, mut body: S) -> Result<Stored, Rejection>
    where
        S: tokio_stream::Stream<Item = Result<Bytes, E>> + Unpin + Send,
    {
        let name = names::sanitise(name)?;
        let file_type = names::allowed_type(&name)?;
        let mut pace = intake::Pace::start();
        if matches!(file_type.check, ContentCheck::Image | ContentCheck::Archive) {
            let mut whole = bytes::BytesMut::new();
            while let Some(piece) = intake::next_piece(&mut body, &mut pace).await? {
                if (whole.len() + piece.len()) as u64 > file_type.max_bytes {
                    return Err(too_large(file_type));
                }
                whole.extend_from_slice(&piece);
            }
            return self.accept_whole(name, file_type, whole.freeze()).await;
        }
        let staged = intake::Staged::new(&self.staging);
        let (size, key_id, wrapped_key) = self.stream_through(file_type, body, pace, &staged).await?;
        let storage_key = store::new_key();
        self.store.put_file(&storage_key, staged.path()).await.map_err(|e| not_stored(&e))?;
        Ok(Stored { name, file_type, size, storage_key, key_id, wrapped_key })
    }

    /// Reads the body into clamd, the content checks and the sealer at once; answers once clamd said
    /// OK and the sealed file is written.
    async fn stream_through<S, E>(
        &self,
        file_type: &'static FileType,
        mut body: S,
        mut pace: intake::Pace,
        staged: &intake::Staged,
    ) -> Result<intake::SealedFile, Rejection>
    where
        S: tokio_stream::Stream<Item = Result<Bytes, E>> + Unpin + Send,
    {
        let mut scan = self.scanner.start()?;
        let (to_sealer, sealing) = intake::start_sealing(&self.keys, staged.path().to_owned());
        let read = async {
            let mut check = intake::StreamCheck::new(file_type);
            let mut size = 0_u64;
            while let Some(piece) = intake::next_piece(&mut body, &mut pace).await? {
                size += piece.len() as u64;
                if size > file_type.max_bytes {
                    return Err(too_large(file_type));
                }
                check.push(&piece)?;
                // clamd stops listening only when it refuses (its verdict says why).
                if !scan.send(piece.clone()).await {
                    break;
                }
                if to_sealer.send(piece).await.is_err() {
                    break; // the sealer failed: its result says why
                }
            }
            check.finish()
        }
        .await;
        drop(to_sealer);
        // Awaited before answering, refused or not, so that no blocking task outlives the upload's slot.
        let sealed = sealing.await;
        read?;
        scan.verdict().await?;
        match sealed {
            Ok(Ok(sealed)) => Ok(sealed),
            Ok(Err(e)) => Err(not_stored(&e)),
            Err(e) => Err(not_stored(&e)),
        }
    }

    /// Steps 2 to 5 for a file that is all here.
    async fn accept_whole(
        &self,
        name: String,
        file_type: &'static FileType,
        bytes: Bytes,
    ) -> Result<Stored, Rejection> {
        let kept = self.check_content(file_type, bytes.clone()).await?;
        // Sealing does not wait for the verdict (it takes as long as a good part of the scan); what
        // is sealed is only kept, and written, once clamd has said OK.
        let keys = self.keys.clone();
        let sealing = tokio::task::spawn_blocking(move || keys.seal(&kept));
        let verdict = self.scanner.scan(bytes).await;
        // Awaited even when refused: the sealing's copy of the file is then gone before the caller
        // gives its slot back, so the slots keep bounding the memory uploads take.
        let sealed = sealing.await.map_err(|_| Rejection::new(Step::Content, "The file could not be stored."));
        verdict?;
        let sealed = sealed?;
        let storage_key = store::new_key();
        let size = sealed.plain_len;
        self.store.put(&storage_key, sealed.bytes).await.map_err(|e| not_stored(&e))?;
        Ok(Stored { name, file_type, size, storage_key, key_id: sealed.key_id, wrapped_key: sealed.wrapped_key })
    }
}
