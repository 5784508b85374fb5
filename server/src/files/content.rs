//! Step 2: the content must be what the name says. The magic bytes (the `infer` crate) must name the
//! extension's type, so HTML or script renamed `.png` is refused; text has no magic bytes, so it must be
//! valid UTF-8 without NUL and not look like any binary type; an image's header must declare at most
//! `MAX_IMAGE_PIXELS` (a small file that would decode to gigabytes is a "pixel flood") before the
//! image is decoded and encoded again ([`super::images`]); an archive must unpack within its limits
//! ([`super::archives`]).

use app::model::{ContentCheck, FileType, MAX_IMAGE_PIXELS};
use bytes::Bytes;

use super::{archives, images, Rejection, Step};

/// Checks an upload's content; answers the bytes to store: the upload itself, or for an image its
/// re-encoded pixels.
pub fn check(file_type: &FileType, bytes: Bytes) -> Result<Bytes, Rejection> {
    let sniffed = infer::get(&bytes).map(|t| t.mime_type());
    match file_type.check {
        ContentCheck::Text => check_text(&bytes, sniffed)?,
        ContentCheck::Document => document(file_type, sniffed, &bytes)?,
        ContentCheck::Archive => {
            same_type(file_type, sniffed)?;
            archives::check(&bytes)?;
        }
        ContentCheck::Image => {
            same_type(file_type, sniffed)?;
            check_pixels(&bytes)?;
            return images::reencode(file_type, &bytes).map(Bytes::from);
        }
    }
    Ok(bytes)
}

fn mismatch(file_type: &FileType) -> Rejection {
    Rejection::new(
        Step::Content,
        format!("The file's content is not a {} file, as its name says.", file_type.extension.to_uppercase()),
    )
}

fn same_type(file_type: &FileType, sniffed: Option<&str>) -> Result<(), Rejection> {
    if sniffed == Some(file_type.mime) {
        Ok(())
    } else {
        Err(mismatch(file_type))
    }
}

/// The EBML element naming a Matroska file's document type, `webm`.
const WEBM_DOC_TYPE: [u8; 7] = [0x42, 0x82, 0x84, b'w', b'e', b'b', b'm'];

/// A document's magic bytes; for a video also its header's document type (`infer` takes any
/// Matroska file for a `WebM` one).
fn document(file_type: &FileType, sniffed: Option<&str>, head: &[u8]) -> Result<(), Rejection> {
    same_type(file_type, sniffed)?;
    let start = &head[..head.len().min(64)];
    if file_type.mime == "video/webm" && !start.windows(WEBM_DOC_TYPE.len()).any(|w| w == WEBM_DOC_TYPE) {
        return Err(mismatch(file_type));
    }
    Ok(())
}

fn check_text(bytes: &[u8], sniffed: Option<&str>) -> Result<(), Rejection> {
    not_binary(sniffed)?;
    if std::str::from_utf8(bytes).is_err() || bytes.contains(&0) {
        return Err(not_utf8());
    }
    Ok(())
}

fn not_binary(sniffed: Option<&str>) -> Result<(), Rejection> {
    match sniffed.filter(|m| !m.starts_with("text/")) {
        Some(binary) => Err(Rejection::new(Step::Content, format!("The file is {binary}, not text."))),
        None => Ok(()),
    }
}

pub fn not_utf8() -> Rejection {
    Rejection::new(Step::Content, "A text file must be UTF-8 text.")
}

/// The checks of text and documents that need only the start of the file (its magic bytes); the
/// rest of a text file is checked as it arrives (`intake`).
pub fn check_head(file_type: &FileType, head: &[u8]) -> Result<(), Rejection> {
    let sniffed = infer::get(head).map(|t| t.mime_type());
    match file_type.check {
        ContentCheck::Text => not_binary(sniffed),
        ContentCheck::Document => document(file_type, sniffed, head),
        _ => same_type(file_type, sniffed),
    }
}

fn check_pixels(bytes: &[u8]) -> Result<(), Rejection> {
    let size = imagesize::blob_size(bytes)
        .map_err(|_| Rejection::new(Step::Content, "The image's header could not be read."))?;
    let pixels = (size.width as u64).saturating_mul(size.height as u64);
    if pixels == 0 || pixels > MAX_IMAGE_PIXELS {
        let reason = format!(
            "The image is {} by {} pixels; at most {} megapixels are accepted.",
            size.width,
            size.height,
            MAX_IMAGE_PIXELS / 1_000_000
        );
        return Err(Rejection::new(Step::Content, reason));
    }
    Ok(())
}
