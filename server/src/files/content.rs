//! Step 2: the content must be what the name says. The magic bytes (the `infer` crate) must name the
//! extension's type, so HTML or script renamed `.png` is refused; text has no magic bytes, so it must be
//! valid UTF-8 without NUL and not look like any binary type; an image's header must declare at most
//! `MAX_IMAGE_PIXELS` (a small file that would decode to gigabytes is a "pixel flood").
//!
//! Not done here: decoding and re-encoding images (which would also drop metadata and polyglot tails).
//! A polyglot that passes (a real PNG header followed by script) is still harmless where it is served:
//! on the separate file origin, with `nosniff`, its stored type and a sandboxing CSP.

use app::model::{ContentCheck, FileType, MAX_IMAGE_PIXELS};

use super::{Rejection, Step};

pub fn check(file_type: &FileType, bytes: &[u8]) -> Result<(), Rejection> {
    let sniffed = infer::get(bytes).map(|t| t.mime_type());
    match file_type.check {
        ContentCheck::Text => check_text(bytes, sniffed),
        ContentCheck::Document => same_type(file_type, sniffed),
        ContentCheck::Image => {
            same_type(file_type, sniffed)?;
            check_pixels(bytes)
        }
    }
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

fn check_text(bytes: &[u8], sniffed: Option<&str>) -> Result<(), Rejection> {
    if let Some(binary) = sniffed.filter(|m| !m.starts_with("text/")) {
        return Err(Rejection::new(Step::Content, format!("The file is {binary}, not text.")));
    }
    if std::str::from_utf8(bytes).is_err() || bytes.contains(&0) {
        return Err(Rejection::new(Step::Content, "A text file must be UTF-8 text."));
    }
    Ok(())
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
