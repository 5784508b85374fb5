//! Attachments: the one list of what may be uploaded (shown in the UI, enforced by the browser before
//! uploading and by the server's pipeline), and the wire types of files.

use garde::Validate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{CommentId, IssueId, Normalize, UserId};

typed_id!(
    /// A file attached to an issue.
    AttachmentId
);

/// How the server checks a type's content beyond its magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentCheck {
    /// A raster image: its header's dimensions must stay within [`MAX_IMAGE_PIXELS`]; it is decoded
    /// and re-encoded, so only its pixels are stored (no metadata, nothing appended).
    Image,
    /// A zip archive: at most [`MAX_ARCHIVE_ENTRIES`] entries, unpacking to at most
    /// [`MAX_ARCHIVE_UNPACKED_BYTES`], no encrypted entries and no paths leaving the folder.
    Archive,
    /// A document or a video recognised by its magic bytes alone.
    Document,
    /// Text: the whole file must be valid UTF-8 (no magic bytes to check).
    Text,
}

/// A type of file Moth accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileType {
    /// The extension, lower case, without the dot; the only one a stored name may have.
    pub extension: &'static str,
    /// The type the file is stored and served as.
    pub mime: &'static str,
    /// The largest file of this type, in bytes.
    pub max_bytes: u64,
    pub check: ContentCheck,
    /// Whether the file origin may show it inline (raster images only); everything else downloads.
    pub inline: bool,
}

const MIB: u64 = 1024 * 1024;

/// A raster image (shown inline), at most 10 MiB.
const fn image(extension: &'static str, mime: &'static str) -> FileType {
    FileType { extension, mime, max_bytes: 10 * MIB, check: ContentCheck::Image, inline: true }
}

/// UTF-8 text (downloaded), at most 5 MiB.
const fn text(extension: &'static str, mime: &'static str) -> FileType {
    FileType { extension, mime, max_bytes: 5 * MIB, check: ContentCheck::Text, inline: false }
}

/// Every type that may be uploaded. SVG and HTML are not among them: they can carry script.
pub const FILE_TYPES: &[FileType] = &[
    image("png", "image/png"),
    image("jpg", "image/jpeg"),
    image("jpeg", "image/jpeg"),
    image("gif", "image/gif"),
    image("webp", "image/webp"),
    FileType {
        extension: "pdf",
        mime: "application/pdf",
        max_bytes: 20 * MIB,
        check: ContentCheck::Document,
        inline: false,
    },
    // A test run's recording (Playwright's videos are WebM); downloaded, never played inline.
    FileType {
        extension: "webm",
        mime: "video/webm",
        max_bytes: 20 * MIB,
        check: ContentCheck::Document,
        inline: false,
    },
    text("txt", "text/plain"),
    text("log", "text/plain"),
    text("csv", "text/csv"),
    text("json", "application/json"),
    FileType {
        extension: "zip",
        mime: "application/zip",
        max_bytes: 20 * MIB,
        check: ContentCheck::Archive,
        inline: false,
    },
];

/// The largest upload of any type (the server refuses a longer body before reading it).
pub const MAX_UPLOAD_BYTES: u64 = 20 * MIB;

/// The most pixels an uploaded image may have (a "pixel flood" is a small file that decodes huge);
/// for an animation, all its frames together. 25 megapixels is a 6K screenshot.
pub const MAX_IMAGE_PIXELS: u64 = 25_000_000;

/// The most entries a zip archive may have.
pub const MAX_ARCHIVE_ENTRIES: usize = 1_000;

/// The most bytes a zip archive may unpack to (a "zip bomb" is a small file that unpacks huge). It
/// stays below the shipped clamd configuration's `MaxFileSize` and `MaxScanSize` (128 MB), so clamd
/// scans every byte (`scripts/lib.sh`).
pub const MAX_ARCHIVE_UNPACKED_BYTES: u64 = 100 * MIB;

/// The type of a file name's extension (case-insensitive), if it is allowed.
pub fn file_type_of(name: &str) -> Option<&'static FileType> {
    let (_, extension) = name.rsplit_once('.')?;
    FILE_TYPES.iter().find(|t| t.extension.eq_ignore_ascii_case(extension))
}

/// Why the browser refuses a file before uploading it, or `None` if it may be sent.
pub fn refuse_before_upload(name: &str, size: u64) -> Option<String> {
    let Some(kind) = file_type_of(name) else {
        let allowed: Vec<&str> = FILE_TYPES.iter().map(|t| t.extension).collect();
        return Some(format!("This type of file is not accepted. Allowed: {}.", allowed.join(", ")));
    };
    (size > kind.max_bytes).then(|| format!("Files of this type may be at most {} MB.", kind.max_bytes / MIB))
}

/// A file attached to an issue or to one of its comments, as its readers see it (never its storage key).
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: AttachmentId,
    pub issue_id: IssueId,
    /// The comment it is attached to; `None` for a file of the issue itself.
    pub comment_id: Option<CommentId>,
    /// The sanitised name, for display and downloads.
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub uploaded_by: String,
    pub uploader_id: UserId,
    pub created_at: i64,
    /// A short-lived link to the file on the file origin, made for the reader with the list (so a
    /// page of files needs no request per file); `attachment_link` makes a fresh one.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    #[serde(default)]
    pub link: Option<FileLink>,
}

/// A short-lived address of one file on the file origin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FileLink {
    pub url: String,
    pub expires_at: i64,
}

/// An upload the pipeline refused: what the admins' "Quarantine" view shows (the bytes are not kept).
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedUpload {
    pub at: i64,
    pub uploader: Option<String>,
    pub name: String,
    pub size: i64,
    /// The pipeline step that refused it: `size`, `name`, `content`, `scan`.
    pub step: String,
    pub reason: String,
    /// The signature clamd named, for infected files.
    pub signature: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct AttachmentIdInput {
    #[garde(skip)]
    pub attachment_id: AttachmentId,
}

impl Normalize for AttachmentIdInput {
    fn normalize(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_extensions_pass_and_the_last_one_counts() {
        assert_eq!(file_type_of("shot.PNG").map(|t| t.mime), Some("image/png"));
        assert_eq!(file_type_of("x.jpg.html"), None);
        assert_eq!(file_type_of("logo.svg"), None);
        assert_eq!(file_type_of("noextension"), None);
        assert!(refuse_before_upload("big.png", 11 * MIB).is_some());
        assert!(refuse_before_upload("ok.png", MIB).is_none());
        assert!(FILE_TYPES.iter().all(|t| t.max_bytes <= MAX_UPLOAD_BYTES));
    }
}
