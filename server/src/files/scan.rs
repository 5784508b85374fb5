//! Step 3: clamd. The bytes are streamed to a real clamd (INSTREAM, through `clamav-client`) while
//! they arrive, its verdict is awaited with a time limit, and only its exact "OK" passes. No clamd configured, clamd unreachable, a timeout,
//! "... FOUND" and "... ERROR" (such as "INSTREAM size limit exceeded") all refuse the upload: fail
//! closed. Moth's largest upload stays below the `StreamMaxLength` of the clamd it ships a
//! configuration for, which also sets `AlertExceedsMax` (otherwise clamd answers OK for what it did
//! not scan).

use std::time::Duration;

use bytes::Bytes;
use tokio_stream::wrappers::ReceiverStream;

use super::{Rejection, Step};

pub struct Scanner {
    /// `host:port` of clamd's TCP socket; `None` refuses every upload.
    address: Option<String>,
    timeout: Duration,
}

/// What clamd answers for a clean stream.
const CLEAN: &[u8] = b"stream: OK\0";

fn unavailable(why: &str) -> Rejection {
    tracing::error!(why, "virus scanning unavailable: upload refused");
    Rejection {
        unavailable: true,
        ..Rejection::new(
            Step::Scan,
            "Virus scanning is unavailable, so the file was not stored. Please try again later.",
        )
    }
}

/// How many pieces of a file may wait on their way to clamd.
const QUEUED_PIECES: usize = 8;

impl Scanner {
    pub fn new(address: Option<String>, timeout: Duration) -> Self {
        Self { address, timeout }
    }

    /// Starts a scan that is fed the bytes as they arrive ([`StreamScan::send`]).
    pub fn start(&self) -> Result<StreamScan, Rejection> {
        let Some(address) = self.address.clone() else { return Err(unavailable("no clamd_url configured")) };
        let (sender, receiver) = tokio::sync::mpsc::channel(QUEUED_PIECES);
        let answer = tokio::spawn(async move {
            let connection = clamav_client::tokio::Tcp { host_address: address.as_str() };
            clamav_client::tokio::scan_stream(ReceiverStream::new(receiver), connection, Some(PIECE)).await
        });
        Ok(StreamScan { sender: Some(sender), answer: Some(answer), timeout: self.timeout })
    }

    /// Whether clamd answers `PING` with `PONG` within `timeout` (for `/readyz`).
    pub async fn ping(&self, timeout: Duration) -> Result<(), &'static str> {
        let Some(address) = self.address.as_deref() else { return Err("not configured") };
        let connection = clamav_client::tokio::Tcp { host_address: address };
        match tokio::time::timeout(timeout, clamav_client::tokio::ping(connection)).await {
            Ok(Ok(answer)) if answer == clamav_client::PONG => Ok(()),
            Ok(_) => Err("unreachable"),
            Err(_) => Err("no answer"),
        }
    }

    /// Scans bytes that are all here.
    pub async fn scan(&self, bytes: Bytes) -> Result<(), Rejection> {
        let mut scan = self.start()?;
        let mut offset = 0;
        while offset < bytes.len() {
            let end = (offset + PIECE).min(bytes.len());
            if !scan.send(bytes.slice(offset..end)).await {
                break;
            }
            offset = end;
        }
        scan.verdict().await
    }
}

/// The size of the pieces [`Scanner::scan`] sends.
const PIECE: usize = 64 * 1024;

/// A scan under way: clamd receives the file while it arrives, and scans it once it has all of it.
pub struct StreamScan {
    sender: Option<tokio::sync::mpsc::Sender<std::io::Result<Bytes>>>,
    answer: Option<tokio::task::JoinHandle<std::io::Result<Vec<u8>>>>,
    timeout: Duration,
}

impl StreamScan {
    /// Passes the next bytes on; `false` when clamd no longer listens (its answer will say why).
    pub async fn send(&mut self, bytes: Bytes) -> bool {
        match &self.sender {
            Some(sender) => sender.send(Ok(bytes)).await.is_ok(),
            None => false,
        }
    }

    /// Ends the file and waits (up to the scanner's time limit) for clamd's verdict.
    pub async fn verdict(mut self) -> Result<(), Rejection> {
        drop(self.sender.take());
        let Some(answer) = self.answer.take() else { return Err(unavailable("no scan")) };
        match tokio::time::timeout(self.timeout, answer).await {
            Ok(Ok(Ok(answer))) => verdict(&answer),
            Ok(Ok(Err(e))) => Err(unavailable(&e.to_string())),
            Ok(Err(e)) => Err(unavailable(&e.to_string())),
            Err(_) => Err(unavailable("clamd did not answer in time")),
        }
    }
}

impl Drop for StreamScan {
    /// A scan given up (the upload was refused on the way) stops at once: clamd is not asked to
    /// scan half a file.
    fn drop(&mut self) {
        if let Some(answer) = self.answer.take() {
            answer.abort();
        }
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
