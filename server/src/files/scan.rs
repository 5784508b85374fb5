//! Step 3: clamd. The bytes are streamed to a real clamd (INSTREAM, through `clamav-client`) with a
//! time limit, and only its exact "OK" passes. No clamd configured, clamd unreachable, a timeout,
//! "... FOUND" and "... ERROR" (such as "INSTREAM size limit exceeded") all refuse the upload: fail
//! closed. Moth's largest upload stays below the `StreamMaxLength` of the clamd it ships a
//! configuration for, which also sets `AlertExceedsMax` (otherwise clamd answers OK for what it did
//! not scan).

use std::time::Duration;

use super::{Rejection, Step};

pub struct Scanner {
    /// `host:port` of clamd's TCP socket; `None` refuses every upload.
    address: Option<String>,
    timeout: Duration,
}

/// What clamd answers for a clean stream.
const CLEAN: &[u8] = b"stream: OK\0";

impl Scanner {
    pub fn new(address: Option<String>, timeout: Duration) -> Self {
        Self { address, timeout }
    }

    pub async fn scan(&self, bytes: &[u8]) -> Result<(), Rejection> {
        let unavailable = |why: &str| {
            tracing::error!(why, "virus scanning unavailable: upload refused");
            Rejection {
                unavailable: true,
                ..Rejection::new(
                    Step::Scan,
                    "Virus scanning is unavailable, so the file was not stored. Please try again later.",
                )
            }
        };
        let Some(address) = self.address.as_deref() else { return Err(unavailable("no clamd_url configured")) };
        let connection = clamav_client::tokio::Tcp { host_address: address };
        let answer = match tokio::time::timeout(
            self.timeout,
            clamav_client::tokio::scan_buffer(bytes, connection, None),
        )
        .await
        {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => return Err(unavailable(&e.to_string())),
            Err(_) => return Err(unavailable("clamd did not answer in time")),
        };
        verdict(&answer)
    }
}

/// clamd's answer as a decision: exactly "stream: OK" passes.
fn verdict(answer: &[u8]) -> Result<(), Rejection> {
    if answer == CLEAN {
        return Ok(());
    }
    let text = String::from_utf8_lossy(answer).trim_end_matches('\0').trim().to_owned();
    if let Some(signature) = text.strip_prefix("stream: ").and_then(|rest| rest.strip_suffix(" FOUND")) {
        return Err(Rejection {
            signature: Some(signature.chars().take(200).collect()),
            ..Rejection::new(Step::Scan, format!("The file contains malware ({signature}) and was not stored."))
        });
    }
    tracing::warn!(answer = %text, "clamd refused to scan an upload");
    Err(Rejection::new(Step::Scan, "The virus scanner could not check this file, so it was not stored."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_ok_passes() {
        assert!(verdict(b"stream: OK\0").is_ok());
        let found = verdict(b"stream: Eicar-Test-Signature FOUND\0").expect_err("infected");
        assert_eq!(found.signature.as_deref(), Some("Eicar-Test-Signature"));
        assert!(verdict(b"INSTREAM size limit exceeded. ERROR\0").is_err());
        assert!(verdict(b"stream: OK").is_err(), "not the exact answer");
        assert!(verdict(b"").is_err());
    }
}
