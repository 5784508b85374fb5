//! Slow clients cannot take the files service from everyone (F4, F6 under load): the file origin
//! holds each of its places until the file's last byte is sent, gives each client a fair share of
//! them, and cuts off a reader that stops reading; uploads take places within fair shares per address and per team, and a body that
//! trickles in is refused within seconds. Attacked here with raw connections that never read, or
//! send a byte now and then.

use std::time::Duration;

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

async fn file_url(app: &TestApp, cookie: &str, issue: &str, size: usize) -> String {
    let stored = app.upload(Some(cookie), issue, "manual.pdf", big_pdf(size)).await;
    assert_eq!(stored.status(), StatusCode::OK, "{}", stored.text().await.unwrap_or_default());
    let attachment: serde_json::Value = stored.json().await.expect("json");
    let id = attachment["id"].as_str().expect("id");
    let link: serde_json::Value =
        app.call("attachment_link", &input(&[("attachment_id", id)]), Some(cookie)).await.json().await.expect("json");
    link["url"].as_str().expect("url").to_owned()
}

/// A Moth whose file origin cuts off a reader after `stall_secs`, trusting the loopback proxy to name
/// clients.
async fn origin(stall_secs: u64) -> TestApp {
    let app = spawn_app_with(move |config| {
        config.file_delivery_stall_secs = stall_secs;
        config.trusted_proxies = vec!["127.0.0.1".parse().expect("address")];
        // Only the stall limit may end a connection here, not the idle connection timeout.
        config.request_header_timeout_secs = 600;
    })
    .await;
    assert!(app.scans, "the upload tests need clamd: run scripts/test, or set MOTH_TEST_CLAMD_URL");
    app
}

const WHOLE: usize = 20 * 1024 * 1024 - 1024;

/// A new team (its owner `who`) with a file of `size` bytes: the link to it.
async fn file_of_a_new_team(app: &TestApp, who: &str, size: usize) -> String {
    let (owner, _) = app.owner(who).await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    file_url(app, &owner.cookie, &issue.id, size).await
}

/// Connections from `client` that ask for `url` and, once the answer's head has come, read nothing
/// more of its body (20 MiB is more than the sockets buffer).
async fn stalled_readers(app: &TestApp, url: &str, client: &str, count: usize) -> Vec<tokio::net::TcpStream> {
    let path = url.trim_start_matches(&app.files_address);
    let head = format!("GET {path} HTTP/1.1\r\nHost: files\r\nX-Forwarded-For: {client}\r\n\r\n");
    let mut readers = Vec::new();
    for _ in 0..count {
        let mut stream = connection(&app.files_address, &head).await;
        let mut answer = Vec::new();
        let mut piece = [0_u8; 1024];
        while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut piece).await.expect("read");
            assert!(n > 0, "closed before answering");
            answer.extend_from_slice(&piece[..n]);
        }
        assert!(answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
        readers.push(stream);
    }
    readers
}

/// Whether a request of `client` for `url` has not begun to be answered within a second and a half.
async fn kept_waiting(app: &TestApp, url: &str, client: &str) -> bool {
    let request = app.http.get(url).header("x-forwarded-for", client).send();
    tokio::time::timeout(Duration::from_millis(1500), request).await.is_err()
}

#[tokio::test]
async fn the_file_origin_holds_a_place_for_a_bodys_whole_life_and_shares_places_fairly() {
    // Nobody is cut off during this test.
    let app = origin(600).await;
    let first = file_of_a_new_team(&app, "first", WHOLE).await;
    let second = file_of_a_new_team(&app, "second", WHOLE).await;
    let small = file_of_a_new_team(&app, "third", 4096).await;

    // One client's readers that stopped after the answers' heads hold its share, not every place.
    let mut held = stalled_readers(&app, &first, "203.0.113.1", server::files::DELIVERIES_PER_CLIENT).await;
    assert!(kept_waiting(&app, &small, "203.0.113.1").await, "one client took more than its share");
    let served = app.http.get(&small).header("x-forwarded-for", "198.51.100.9").send().await.expect("served");
    assert_eq!(served.status(), StatusCode::OK, "another client was kept out");
    assert_eq!(served.bytes().await.expect("body").len(), 4096);

    // With every place held by a body still being sent (the heads went long ago), a third client
    // waits: a place goes with its body, not with the answer's head.
    held.extend(stalled_readers(&app, &second, "203.0.113.2", server::files::DELIVERIES_PER_CLIENT).await);
    assert!(kept_waiting(&app, &small, "198.51.100.10").await, "a place was freed before its body was sent");
    // Readers that go away give their places back.
    drop(held.split_off(server::files::DELIVERIES_PER_CLIENT));
    let served = app
        .http
        .get(&small)
        .header("x-forwarded-for", "198.51.100.11")
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("served once readers went away");
    assert_eq!(served.bytes().await.expect("body").len(), 4096);
    drop(held);
}

#[tokio::test]
async fn the_file_origin_cuts_off_a_reader_that_stops_reading() {
    let app = origin(1).await;
    let url = file_of_a_new_team(&app, "origin", WHOLE).await;
    let mut stalled = stalled_readers(&app, &url, "203.0.113.66", server::files::DELIVERIES_PER_CLIENT).await;
    // The client's share is held by readers that read nothing; a second without reading cuts them
    // off, and the client's next request is served (it would otherwise wait, then get 503).
    let served = app
        .http
        .get(&url)
        .header("x-forwarded-for", "203.0.113.66")
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .expect("served once the stalled readers were cut off");
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.bytes().await.expect("whole body").len(), WHOLE);

    // A stalled reader that reads again finds its transfer cut short, never ended as if whole.
    let mut first = stalled.swap_remove(0);
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), first.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the cut-off connection stayed open");
    assert!(received.len() < WHOLE, "the whole file reached a reader that stalled");
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

    // Another team's upload from another address is not kept waiting for them: it is stored while
    // every slow upload is still open, unanswered.
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
    let mut peek = [0_u8; 16];
    for connection in &slow {
        let unanswered = matches!(connection.try_read(&mut peek), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        assert!(unanswered, "the other team's upload was stored only after a slow one was answered");
    }

    // The trickling bodies are each refused with 408 once past the grace (those that waited for a
    // place of their client's share, once they had one), well before the upload timeout.
    let readers: Vec<_> = slow
        .into_iter()
        .map(|mut connection| {
            tokio::spawn(async move {
                let mut answer = Vec::new();
                let mut piece = [0_u8; 1024];
                let read = tokio::time::timeout(Duration::from_secs(60), async {
                    loop {
                        let n = connection.read(&mut piece).await.unwrap_or(0);
                        answer.extend_from_slice(&piece[..n]);
                        if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                })
                .await;
                (read.is_ok(), String::from_utf8_lossy(&answer).into_owned())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for reader in readers {
        answers.push(reader.await.expect("reader"));
    }
    for (answered, answer) in answers {
        assert!(answered, "a body sending one byte was not cut off");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
}

/// The origin opens a file as it sends it, so the answer's head goes before the last segment is
/// checked: an object altered in storage must then end in an error, never as if it were whole.
#[tokio::test]
async fn an_object_altered_in_storage_is_never_delivered_as_if_whole() {
    let app = origin(30).await;
    let url = file_of_a_new_team(&app, "altered", 3 * 64 * 1024 + 100).await;
    let objects = crate::helpers::files_under(&app.files_dir);
    assert_eq!(objects.len(), 1, "one stored object");
    let mut sealed = std::fs::read(&objects[0]).expect("read");
    let last = sealed.len() - 1;
    sealed[last] ^= 1;
    std::fs::write(&objects[0], &sealed).expect("alter");
    let answer = app.http.get(&url).send().await.expect("an answer");
    let whole = answer.status() == StatusCode::OK && answer.bytes().await.is_ok();
    assert!(!whole, "an altered object was delivered as if it were whole");
}
