//! Slow clients cannot take the files service from everyone (F4, F6 under load): the file origin
//! holds each of its places until the file's last byte is sent, gives each client a fair share of
//! them, and cuts off a reader that stops reading; uploads take places within fair shares per address and per team, and a body that
//! trickles in is refused within seconds. Attacked here with raw connections that never read, or
//! send a byte now and then.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{input, spawn_app_with, TestApp};

/// A PDF of `size` bytes that passes the content checks.
fn big_pdf(size: usize) -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(size - 6, b' ');
    pdf.extend_from_slice(b"\n%%EOF");
    pdf
}

/// A raw connection to `address` (`http://host:port`) that has sent `head` and reads nothing.
async fn connection(address: &str, head: &str) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(address.trim_start_matches("http://")).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("send");
    stream
}

async fn file_url(app: &TestApp, cookie: &str, issue: &str) -> String {
    let stored = app.upload(Some(cookie), issue, "manual.pdf", big_pdf(20 * 1024 * 1024 - 1024)).await;
    assert_eq!(stored.status(), StatusCode::OK, "{}", stored.text().await.unwrap_or_default());
    let attachment: serde_json::Value = stored.json().await.expect("json");
    let id = attachment["id"].as_str().expect("id");
    let link: serde_json::Value =
        app.call("attachment_link", &input(&[("attachment_id", id)]), Some(cookie)).await.json().await.expect("json");
    link["url"].as_str().expect("url").to_owned()
}

#[tokio::test]
async fn the_file_origin_holds_its_places_while_sending_shares_them_and_cuts_off_readers_that_stop() {
    let app = spawn_app_with(|config| {
        config.file_delivery_stall_secs = 2;
        config.trusted_proxies = vec!["127.0.0.1".parse().expect("address")];
    })
    .await;
    assert!(app.scans, "the upload tests need clamd: run scripts/test, or set MOTH_TEST_CLAMD_URL");
    let (owner, _) = app.owner("origin").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    let url = file_url(&app, &owner.cookie, &issue.id).await;
    let path = url.trim_start_matches(&app.files_address).to_owned();
    let head = format!("GET {path} HTTP/1.1\r\nHost: files\r\nX-Forwarded-For: 203.0.113.66\r\n\r\n");
    let whole = 20 * 1024 * 1024 - 1024;

    // One client asks for the file as many times as there are places, and reads nothing (20 MiB is
    // more than the sockets buffer).
    let mut stalled = Vec::new();
    for _ in 0..server::files::CONCURRENT_DELIVERIES {
        stalled.push(connection(&app.files_address, &head).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The places go with the bodies, not with the answers' headers: that client's next request waits.
    let same_client = app.http.get(&url).header("x-forwarded-for", "203.0.113.66").send();
    let waiting = tokio::time::timeout(Duration::from_millis(1200), same_client).await;
    assert!(waiting.is_err(), "a delivery began while the client's earlier bodies were still being sent");
    // Another client is served at once: one client holds only its share of the places.
    let started = Instant::now();
    let other = app.http.get(&url).header("x-forwarded-for", "198.51.100.7").send().await.expect("served");
    assert_eq!(other.status(), StatusCode::OK);
    // Its answer begins before any stalled reader is cut off (two seconds).
    assert!(started.elapsed() < Duration::from_millis(1500), "another client waited {:?}", started.elapsed());
    assert_eq!(other.bytes().await.expect("whole body").len(), whole);

    // Two seconds without reading: the stalled readers are cut off and their places free.
    let started = Instant::now();
    let served = app
        .http
        .get(&url)
        .header("x-forwarded-for", "203.0.113.66")
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("served");
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.bytes().await.expect("whole body").len(), whole);
    assert!(started.elapsed() < Duration::from_secs(15), "waited {:?}", started.elapsed());

    // A stalled reader that reads again finds its transfer cut short, never ended as if whole.
    let mut first = stalled.swap_remove(0);
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), first.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the cut-off connection stayed open");
    assert!(received.len() < whole, "the whole file reached a reader that stalled");
    assert!(!received.ends_with(b"\r\n0\r\n\r\n"), "a cut transfer ended like a whole one");
}

#[tokio::test]
async fn slow_uploads_of_one_client_leave_places_for_other_teams_and_are_cut_off() {
    let app = spawn_app_with(|config| config.trusted_proxies = vec!["127.0.0.1".parse().expect("address")]).await;
    assert!(app.scans, "the upload tests need clamd: run scripts/test, or set MOTH_TEST_CLAMD_URL");
    let (attacker, _) = app.owner("trickler").await;
    let (project, _) = app.project(&attacker.cookie, "public").await;
    let issue = app.issue(&attacker.cookie, &project, "public").await;
    let (victim, _) = app.owner("victim").await;
    let (victims_project, _) = app.project(&victim.cookie, "public").await;
    let victims_issue = app.issue(&victim.cookie, &victims_project, "public").await;

    // As many slow uploads as there are places, each sending one byte of a promised thousand.
    let head = format!(
        "POST /upload/issues/{}?name=slow.txt HTTP/1.1\r\nHost: app\r\nCookie: {}\r\nX-Forwarded-For: 203.0.113.66\r\n\
         Content-Length: 1000\r\n\r\na",
        issue.id, attacker.cookie
    );
    let mut slow = Vec::new();
    for _ in 0..server::files::CONCURRENT_UPLOADS {
        slow.push(connection(&app.address, &head).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Another team's upload from another address is not kept waiting for them.
    let started = Instant::now();
    let url = reqwest::Url::parse_with_params(
        &app.url(&format!("/upload/issues/{}", victims_issue.id)),
        &[("name", "notes.txt")],
    )
    .expect("url");
    let stored = app
        .http
        .post(url)
        .header("cookie", &victim.cookie)
        .header("x-forwarded-for", "198.51.100.20")
        .body("the victim's notes\n")
        .send()
        .await
        .expect("upload");
    assert_eq!(stored.status(), StatusCode::OK, "{}", stored.text().await.unwrap_or_default());
    assert!(started.elapsed() < Duration::from_secs(5), "the upload waited {:?}", started.elapsed());

    // The trickling bodies are refused with 408 once past the grace, well before the upload timeout.
    let mut answer = Vec::new();
    let cut = tokio::time::timeout(Duration::from_secs(25), async {
        let mut piece = [0_u8; 1024];
        loop {
            let n = slow[0].read(&mut piece).await.expect("read");
            answer.extend_from_slice(&piece[..n]);
            if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    })
    .await;
    assert!(cut.is_ok(), "a body sending one byte was not cut off");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}
