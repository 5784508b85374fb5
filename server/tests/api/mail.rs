//! Invitation emails through a real SMTP server: aiosmtpd on loopback, writing to a maildir.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;

use crate::helpers::{fresh_email, input, spawn_app_with};

/// A local SMTP sink: aiosmtpd with its Mailbox handler. `scripts/test` provides the Python that has
/// it as `MOTH_TEST_PYTHON`.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    maildir: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start() -> Self {
        let python = std::env::var("MOTH_TEST_PYTHON").unwrap_or_else(|_| {
            let prepared = format!("{}/.cache/moth/py/bin/python", std::env::var("HOME").unwrap_or_default());
            if std::path::Path::new(&prepared).exists() {
                prepared
            } else {
                "python3".into()
            }
        });
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let maildir = tempfile::tempdir().expect("maildir");
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir.path().join("mail"))
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start aiosmtpd with {python} (run scripts/test): {e}"));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not start (is it installed for {python}?)"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, port, maildir }
    }

    /// The messages received so far, as text.
    pub fn messages(&self) -> Vec<String> {
        let new: PathBuf = self.maildir.path().join("mail").join("new");
        std::fs::read_dir(new)
            .map(|entries| {
                entries.filter_map(Result::ok).filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect()
            })
            .unwrap_or_default()
    }

    /// Waits for `count` messages.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        let started = Instant::now();
        loop {
            let messages = self.messages();
            if messages.len() >= count || started.elapsed() > Duration::from_secs(10) {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn with_smtp_and_a_public_url_the_invitation_link_is_emailed() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = spawn_app_with(move |c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.public_url = Some("https://moth.example.com".into());
    })
    .await;
    let (owner, _) = app.owner("owner").await;
    let email = fresh_email("mailed");
    let response = app.call("invite", &input(&[("email", &email), ("role", "NORMAL")]), Some(&owner.cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let created: serde_json::Value = response.json().await.expect("json");
    assert_eq!(created["emailed"], true);
    let path = created["path"].as_str().expect("path");

    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1, "one email");
    let message = &messages[0];
    assert!(message.contains(&format!("To: {email}")), "{message}");
    assert!(message.contains(&format!("https://moth.example.com{path}")), "{message}");
}

#[tokio::test]
async fn without_a_public_url_no_email_is_sent() {
    let sink = SmtpSink::start();
    let port = sink.port;
    let app = spawn_app_with(move |c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let (owner, _) = app.owner("owner").await;
    let response =
        app.call("invite", &input(&[("email", &fresh_email("x")), ("role", "GUEST")]), Some(&owner.cookie)).await;
    let created: serde_json::Value = response.json().await.expect("json");
    assert_eq!(created["emailed"], false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sink.messages().is_empty());
}
