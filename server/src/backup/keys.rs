//! The age keys of backups. Snapshots are encrypted to *recipients* (public keys) only, so the
//! server needs no secret to write them: whoever takes the server cannot read old backups, provided
//! the *identity* (private key) lives elsewhere. A fresh installation gets a generated pair so that
//! backups work out of the box; the log says where the identity is and that it should move.

use std::{
    io::Write,
    path::{Path, PathBuf},
    str::FromStr,
};

use age::secrecy::ExposeSecret;

use super::BackupError;

/// Reads the recipients (one `age1...` per line, `#` comments allowed). When neither file exists, a
/// new pair is made: the identity at `identity_file` (mode 0600) and its recipient at
/// `recipients_file`. Returns whether a pair was generated.
pub fn recipients(
    recipients_file: &Path,
    identity_file: &Path,
) -> Result<(Vec<age::x25519::Recipient>, bool), BackupError> {
    let mut generated = false;
    if !recipients_file.exists() {
        if identity_file.exists() {
            let identities = identities(identity_file)?;
            let lines: Vec<String> = identities.iter().map(|i| i.to_public().to_string()).collect();
            write_new(recipients_file, &format!("{}\n", lines.join("\n")), 0o644)?;
        } else {
            let identity = age::x25519::Identity::generate();
            write_new(
                identity_file,
                &format!(
                    "# Moth's backup identity: it opens every backup. Keep it away from the server.\n{}\n",
                    identity.to_string().expose_secret()
                ),
                0o600,
            )?;
            write_new(recipients_file, &format!("{}\n", identity.to_public()), 0o644)?;
            generated = true;
        }
    }
    let text = std::fs::read_to_string(recipients_file)?;
    let recipients = lines(&text)
        .map(|line| {
            age::x25519::Recipient::from_str(line)
                .map_err(|e| BackupError::Keys(format!("{}: {e}", recipients_file.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if recipients.is_empty() {
        return Err(BackupError::Keys(format!("{} holds no recipient", recipients_file.display())));
    }
    Ok((recipients, generated))
}

/// Reads the identities (one `AGE-SECRET-KEY-...` per line) that open backups.
pub fn identities(identity_file: &Path) -> Result<Vec<age::x25519::Identity>, BackupError> {
    let text = std::fs::read_to_string(identity_file).map_err(|e| {
        BackupError::Keys(format!("the backup identity {} cannot be read: {e}", identity_file.display()))
    })?;
    let identities = lines(&text)
        .map(|line| {
            age::x25519::Identity::from_str(line)
                .map_err(|e| BackupError::Keys(format!("{}: {e}", identity_file.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if identities.is_empty() {
        return Err(BackupError::Keys(format!("{} holds no identity", identity_file.display())));
    }
    Ok(identities)
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn write_new(path: &Path, text: &str, mode: u32) -> Result<PathBuf, BackupError> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(path.to_owned())
}
