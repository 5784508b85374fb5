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
pub mod images;
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
}

impl Rejection {
    pub fn new(step: Step, reason: impl Into<String>) -> Self {
        Self { step, reason: reason.into(), signature: None, unavailable: false }
    }
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

/// What the pipeline needs, built once at start.
pub struct Files {
    pub store: Arc<dyn store::ObjectStore>,
    pub keys: crypto::Keys,
    pub scanner: scan::Scanner,
    pub links: links::Signer,
    /// `scheme://host[:port]` of the file origin, for the links.
    pub files_url: String,
    pub link_ttl: Duration,
    /// Uploads past the size check at once; each holds at most two copies of its file (plain and
    /// sealed), so this bounds the memory uploads take.
    slots: Semaphore,
    /// Images being decoded at once (see [`images`]).
    decodes: Semaphore,
    /// Files being sent by the file origin at once (each is read and opened whole).
    deliveries: Semaphore,
}

/// How many uploads run the pipeline at once; more wait (up to [`SLOT_WAIT`]), then get `busy`.
pub const CONCURRENT_UPLOADS: usize = 4;
const SLOT_WAIT: Duration = Duration::from_secs(30);
/// How many files the file origin sends at once; more wait (up to [`SLOT_WAIT`]), then get 503.
pub const CONCURRENT_DELIVERIES: usize = 8;

impl Files {
    pub fn new(
        store: Arc<dyn store::ObjectStore>,
        keys: crypto::Keys,
        scanner: scan::Scanner,
        files_url: String,
        link_ttl: Duration,
    ) -> Self {
        let links = links::Signer::new(&keys);
        Self {
            store,
            keys,
            scanner,
            links,
            files_url,
            link_ttl,
            slots: Semaphore::new(CONCURRENT_UPLOADS),
            decodes: Semaphore::new(1),
            deliveries: Semaphore::new(CONCURRENT_DELIVERIES),
        }
    }

    /// A place in the pipeline, or `None` when it stayed full for [`SLOT_WAIT`].
    pub async fn slot(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        tokio::time::timeout(SLOT_WAIT, self.slots.acquire()).await.ok()?.ok()
    }

    /// A place among the deliveries of the file origin, or `None` when none came free in time.
    pub async fn delivery_slot(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        tokio::time::timeout(SLOT_WAIT, self.deliveries.acquire()).await.ok()?.ok()
    }

    /// Step 2, off the async executor; images are decoded one at a time (each may take up to 128 MB).
    async fn check_content(&self, file_type: &'static FileType, bytes: Bytes) -> Result<Bytes, Rejection> {
        let _decoding = match file_type.check {
            ContentCheck::Image => Some(self.decodes.acquire().await.map_err(|_| unchecked())?),
            _ => None,
        };
        tokio::task::spawn_blocking(move || content::check(file_type, bytes)).await.map_err(|_| unchecked())?
    }

    /// Steps 1 to 5 for `bytes` uploaded as `name`: the stored object, or why it was refused.
    pub async fn accept(&self, name: &str, bytes: Bytes) -> Result<Stored, Rejection> {
        let name = names::sanitise(name)?;
        let file_type = names::allowed_type(&name)?;
        if bytes.len() as u64 > file_type.max_bytes {
            let reason = format!("Files of this type may be at most {} MB.", file_type.max_bytes / (1024 * 1024));
            return Err(Rejection::new(Step::Size, reason));
        }
        let kept = self.check_content(file_type, bytes.clone()).await?;
        // Sealing does not wait for the verdict (it takes as long as a good part of the scan); what
        // is sealed is only kept, and written, once clamd has said OK.
        let keys = self.keys.clone();
        let plain = kept;
        let sealing = tokio::task::spawn_blocking(move || keys.seal(&plain));
        let verdict = self.scanner.scan(&bytes).await;
        // Awaited even when refused: the sealing's copy of the file is then gone before the caller
        // gives its slot back, so the slots keep bounding the memory uploads take.
        let sealed = sealing.await.map_err(|_| Rejection::new(Step::Content, "The file could not be stored."));
        verdict?;
        let sealed = sealed?;
        let storage_key = store::new_key();
        let size = sealed.plain_len;
        self.store.put(&storage_key, sealed.bytes).await.map_err(|e| {
            tracing::error!(error = %e, "object store refused a write");
            Rejection {
                unavailable: true,
                ..Rejection::new(Step::Scan, "The file could not be stored. Please try again.")
            }
        })?;
        Ok(Stored { name, file_type, size, storage_key, key_id: sealed.key_id, wrapped_key: sealed.wrapped_key })
    }
}
