//! Images are decoded and encoded again, so what is stored is only their pixels: metadata (EXIF with
//! GPS positions, comments) and anything hidden after or inside the image data (a polyglot's script,
//! a zip appended to a PNG) do not survive. The orientation the camera recorded is applied to the
//! pixels first, so photos still stand upright.
//!
//! Decoding is bounded: the header's pixel count was checked already (`content`), the decoder gets
//! allocation limits, and an animation's frames are counted together against the same pixel budget
//! while they are re-encoded one at a time. Animated PNG and WebP keep their first frame only.

use std::io::Cursor;

use app::model::{FileType, MAX_IMAGE_PIXELS};
use image::{
    codecs::{
        gif::{GifDecoder, GifEncoder, Repeat},
        jpeg::JpegEncoder,
        png::PngEncoder,
        webp::WebPEncoder,
    },
    AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits,
};

use super::{Rejection, Step};

/// The most memory one decoded image may take (25 megapixels of RGBA take 100 MB).
const MAX_DECODE_BYTES: u64 = 128 * 1024 * 1024;

/// The JPEG quality of re-encoded photos: visually the same, and it does not grow typical uploads.
const JPEG_QUALITY: u8 = 90;

/// GIF palette search effort (1 best .. 30 fastest): animations can be many frames.
const GIF_SPEED: i32 = 20;

fn unreadable() -> Rejection {
    Rejection::new(Step::Content, "The image could not be read: it is damaged or not a supported image.")
}

fn too_many_pixels() -> Rejection {
    let reason = format!("The image has more than {} megapixels (all frames together).", MAX_IMAGE_PIXELS / 1_000_000);
    Rejection::new(Step::Content, reason)
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}

/// The image's pixels, encoded again in its own format.
pub fn reencode(file_type: &FileType, bytes: &[u8]) -> Result<Vec<u8>, Rejection> {
    let format = ImageFormat::from_mime_type(file_type.mime).ok_or_else(unreadable)?;
    if format == ImageFormat::Gif {
        return reencode_gif(bytes);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(|_| unreadable())?;
    if decoder.total_bytes() > MAX_DECODE_BYTES {
        return Err(too_many_pixels());
    }
    let orientation = decoder.orientation().map_err(|_| unreadable())?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| unreadable())?;
    image.apply_orientation(orientation);
    encode(format, image).map_err(|e| {
        tracing::warn!(error = %e, "a decoded image could not be encoded again");
        Rejection::new(Step::Content, "The image could not be processed.")
    })
}

fn encode(format: ImageFormat, image: DynamicImage) -> image::ImageResult<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    match format {
        ImageFormat::Jpeg => {
            let image = if image.color().has_alpha() { DynamicImage::ImageRgb8(image.to_rgb8()) } else { image };
            image.write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))?;
        }
        ImageFormat::WebP => {
            let image = if image.color().has_alpha() {
                DynamicImage::ImageRgba8(image.to_rgba8())
            } else {
                DynamicImage::ImageRgb8(image.to_rgb8())
            };
            image.write_with_encoder(WebPEncoder::new_lossless(&mut out))?;
        }
        _ => image.write_with_encoder(PngEncoder::new(&mut out))?,
    }
    Ok(out.into_inner())
}

/// A GIF, frame by frame: each frame is decoded, counted against the pixel budget and encoded before
/// the next is read, so an animation never sits decoded whole in memory.
fn reencode_gif(bytes: &[u8]) -> Result<Vec<u8>, Rejection> {
    let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(|_| unreadable())?;
    decoder.set_limits(limits()).map_err(|_| too_many_pixels())?;
    let (width, height) = decoder.dimensions();
    let per_frame = u64::from(width) * u64::from(height);
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, GIF_SPEED);
        encoder.set_repeat(Repeat::Infinite).map_err(|_| unreadable())?;
        let mut pixels = 0_u64;
        for frame in decoder.into_frames() {
            let frame = frame.map_err(|_| unreadable())?;
            pixels = pixels.saturating_add(per_frame);
            if pixels > MAX_IMAGE_PIXELS {
                return Err(too_many_pixels());
            }
            encoder.encode_frame(frame).map_err(|_| unreadable())?;
        }
    }
    Ok(out)
}
