//! Zip archives are opened and every entry is unpacked (into nothing) before the archive is accepted:
//! the entries' declared sizes can lie, so the bytes that really come out are counted, and unpacking
//! stops as soon as the total passes the limit ("zip bombs", overlapping entries included). Encrypted
//! entries are refused (clamd cannot scan them), and so are entries whose path would leave the folder
//! they are unpacked into, or that are symbolic links ("zip slip" on the downloader's machine).

use std::io::{Cursor, Read};

use app::model::{MAX_ARCHIVE_ENTRIES, MAX_ARCHIVE_UNPACKED_BYTES};

use super::{Rejection, Step};

fn refused(reason: impl Into<String>) -> Rejection {
    Rejection::new(Step::Content, reason)
}

fn too_big() -> Rejection {
    refused(format!("The archive unpacks to more than {} MB.", MAX_ARCHIVE_UNPACKED_BYTES / (1024 * 1024)))
}

pub fn check(bytes: &[u8]) -> Result<(), Rejection> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| refused("The archive could not be read."))?;
    if archive.len() > MAX_ARCHIVE_ENTRIES {
        return Err(refused(format!("The archive has more than {MAX_ARCHIVE_ENTRIES} entries.")));
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
