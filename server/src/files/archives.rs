//! Zip archives are opened and every entry is unpacked (into nothing) before the archive is accepted:
//! the entries' declared sizes can lie, so the bytes that really come out are counted, and unpacking
//! stops as soon as the total passes the limit ("zip bombs", overlapping entries included). Encrypted
//! entries are refused (clamd cannot scan them), and so are entries whose path would leave the folder
//! they are unpacked into, or that are symbolic links ("zip slip" on the downloader's machine).
//!
//! The zip library keeps one entry per name, so an entry can hide behind a harmless one of the same
//! name, and the entry limit can be passed with repeated names. Before the library reads it, the
//! archive's own central directory is walked ([`central_directory_names`]): its entries are counted
//! and any name that appears twice refuses the archive.

use std::io::{Cursor, Read};

use app::model::{MAX_ARCHIVE_ENTRIES, MAX_ARCHIVE_UNPACKED_BYTES};

use super::{Rejection, Step};

fn refused(reason: impl Into<String>) -> Rejection {
    Rejection::new(Step::Content, reason)
}

fn too_big() -> Rejection {
    refused(format!("The archive unpacks to more than {} MB.", MAX_ARCHIVE_UNPACKED_BYTES / (1024 * 1024)))
}

fn too_many() -> Rejection {
    refused(format!("The archive has more than {MAX_ARCHIVE_ENTRIES} entries."))
}

pub fn check(bytes: &[u8]) -> Result<(), Rejection> {
    let names = central_directory_names(bytes)?;
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    if let Some(repeated) = names.iter().find(|name| !seen.insert(*name)) {
        let shown = String::from_utf8_lossy(repeated).chars().take(60).collect::<String>();
        return Err(refused(format!("The archive has two entries named \"{shown}\".")));
    }
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| refused("The archive could not be read."))?;
    // The library lists exactly the directory's entries, or the two readings disagree.
    if archive.len() != names.len() {
        return Err(refused("The archive's directory could not be read."));
    }
    let mut unpacked = 0_u64;
    let mut buffer = vec![0_u8; 64 * 1024];
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| match e {
            zip::result::ZipError::UnsupportedArchive(_) => {
                refused("The archive uses encryption or a compression Moth does not accept.")
            }
            _ => refused("The archive could not be read."),
        })?;
        if entry.encrypted() {
            return Err(refused("The archive has encrypted entries, which cannot be scanned."));
        }
        if entry.enclosed_name().is_none() || entry.is_symlink() {
            return Err(refused("The archive has an entry that is a link or whose path leaves its folder."));
        }
        if unpacked.saturating_add(entry.size()) > MAX_ARCHIVE_UNPACKED_BYTES {
            return Err(too_big());
        }
        loop {
            let read = entry.read(&mut buffer).map_err(|_| refused("The archive is damaged."))?;
            if read == 0 {
                break;
            }
            unpacked += read as u64;
            if unpacked > MAX_ARCHIVE_UNPACKED_BYTES {
                return Err(too_big());
            }
        }
    }
    Ok(())
}

const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END_OF_DIRECTORY: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const DIRECTORY_ENTRY: u32 = 0x0201_4b50;

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// The names of every entry of the archive's central directory, read from the bytes themselves
/// (APPNOTE 4.3.12-4.3.16): the end record is the last one whose comment reaches the end of the
/// file; the directory is the `size` bytes just before it (or before the ZIP64 records), whatever
/// offset it claims, so data put in front of the archive does not move it. Refuses more than
/// [`MAX_ARCHIVE_ENTRIES`] entries, and a directory whose entries do not fill it exactly or whose
/// count differs from the end record's.
fn central_directory_names(bytes: &[u8]) -> Result<Vec<&[u8]>, Rejection> {
    let unreadable = || refused("The archive could not be read.");
    let end = (0..=bytes.len().saturating_sub(22))
        .rev()
        .take(22 + usize::from(u16::MAX))
        .find(|&at| {
            u32_at(bytes, at) == Some(END_OF_DIRECTORY)
                && u16_at(bytes, at + 20).is_some_and(|comment| at + 22 + usize::from(comment) == bytes.len())
        })
        .ok_or_else(unreadable)?;
    let mut count = u64::from(u16_at(bytes, end + 10).ok_or_else(unreadable)?);
    let mut size = u64::from(u32_at(bytes, end + 12).ok_or_else(unreadable)?);
    let mut directory_end = end;
    if count == u64::from(u16::MAX) || size == u64::from(u32::MAX) {
        // ZIP64: the locator sits just before the end record, the ZIP64 end record before it.
        let locator =
            end.checked_sub(20).filter(|&at| u32_at(bytes, at) == Some(ZIP64_LOCATOR)).ok_or_else(unreadable)?;
        let record = locator
            .checked_sub(56)
            .filter(|&at| u32_at(bytes, at) == Some(ZIP64_END_OF_DIRECTORY))
            .ok_or_else(unreadable)?;
        count = u64_at(bytes, record + 32).ok_or_else(unreadable)?;
        size = u64_at(bytes, record + 40).ok_or_else(unreadable)?;
        directory_end = record;
    }
    if count > MAX_ARCHIVE_ENTRIES as u64 {
        return Err(too_many());
    }
    let size = usize::try_from(size).map_err(|_| unreadable())?;
    let mut at = directory_end.checked_sub(size).ok_or_else(unreadable)?;
    let mut names = Vec::new();
    while at < directory_end {
        if u32_at(bytes, at) != Some(DIRECTORY_ENTRY) {
            return Err(unreadable());
        }
        let name_len = usize::from(u16_at(bytes, at + 28).ok_or_else(unreadable)?);
        let extra_len = usize::from(u16_at(bytes, at + 30).ok_or_else(unreadable)?);
        let comment_len = usize::from(u16_at(bytes, at + 32).ok_or_else(unreadable)?);
        let name = bytes.get(at + 46..at + 46 + name_len).ok_or_else(unreadable)?;
        names.push(name);
        if names.len() > MAX_ARCHIVE_ENTRIES {
            return Err(too_many());
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    if at != directory_end || names.len() as u64 != count {
        return Err(unreadable());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// A zip of `names` (each holding its own name), written by the zip library.
    fn zip_of(names: &[String]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for name in names {
            writer.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).expect("entry");
            writer.write_all(name.as_bytes()).expect("write");
        }
        writer.finish().expect("zip").into_inner()
    }

    /// Renames every `from` to `to` (of the same length) in the archive's bytes: in the local headers
    /// and in the central directory alike, as a hand-made archive would have them.
    fn renamed(mut bytes: Vec<u8>, from: &str, to: &str) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let mut at = 0;
        while let Some(found) = bytes[at..].windows(from.len()).position(|w| w == from.as_bytes()) {
            bytes[at + found..at + found + to.len()].copy_from_slice(to.as_bytes());
            at += found + to.len();
        }
        bytes
    }

    #[test]
    fn an_archive_of_distinct_names_passes_and_is_read_from_its_own_directory() {
        let names: Vec<String> = (0..MAX_ARCHIVE_ENTRIES).map(|n| format!("logs/{n:04}.log")).collect();
        let archive = zip_of(&names);
        assert_eq!(central_directory_names(&archive).expect("read").len(), MAX_ARCHIVE_ENTRIES);
        assert!(check(&archive).is_ok());
        // Data in front of the archive (a self-extractor) does not move its directory.
        let mut prefixed = b"#!/bin/sh\nexit 0\n".to_vec();
        prefixed.extend_from_slice(&archive);
        assert_eq!(central_directory_names(&prefixed).expect("read").len(), MAX_ARCHIVE_ENTRIES);
    }

    #[test]
    fn a_repeated_name_is_refused() {
        let archive = renamed(zip_of(&["notes-1.txt".into(), "notes-2.txt".into()]), "notes-2.txt", "notes-1.txt");
        assert_eq!(zip::ZipArchive::new(Cursor::new(&archive)).expect("the library reads it").len(), 1);
        let refusal = check(&archive).expect_err("refused");
        assert!(refusal.reason.contains("two entries named \"notes-1.txt\""), "{}", refusal.reason);
    }

    #[test]
    fn a_link_hidden_behind_a_harmless_entry_of_the_same_name_is_refused() {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        writer.start_file("readme.txt", zip::write::SimpleFileOptions::default()).expect("entry");
        writer.write_all(b"hello").expect("write");
        writer.add_symlink("readme.txx", "/etc/passwd", zip::write::SimpleFileOptions::default()).expect("link");
        let archive = renamed(writer.finish().expect("zip").into_inner(), "readme.txx", "readme.txt");
        assert!(check(&archive).is_err());
    }

    #[test]
    fn more_entries_than_the_limit_are_refused_even_under_one_name() {
        let names: Vec<String> = (0..=MAX_ARCHIVE_ENTRIES).map(|n| format!("{n:05}.txt")).collect();
        let mut archive = zip_of(&names);
        // Every name to the first, in one pass: five digits and ".txt".
        let shape = |w: &[u8]| w[..5].iter().all(u8::is_ascii_digit) && &w[5..] == b".txt";
        let mut at = 0;
        while at + 9 <= archive.len() {
            if shape(&archive[at..at + 9]) {
                archive[at..at + 9].copy_from_slice(names[0].as_bytes());
                at += 9;
            } else {
                at += 1;
            }
        }
        let refusal = check(&archive).expect_err("refused");
        assert!(refusal.reason.contains("more than 1000 entries"), "{}", refusal.reason);
    }
}
