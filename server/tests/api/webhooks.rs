//! W1-W3: webhooks reach a real HTTP receiver started here, signed per Standard Webhooks; a hook
//! hears only its own project, and internal content only when it is marked internal; the SSRF guard
//! refuses private addresses in every spelling; a hanging receiver never holds up a request.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::Value;
use sha2::Sha256;

use crate::helpers::{error_body, input, spawn_app, spawn_app_with, TestApp};

const SECRET_TEXT: &str = "INTERNAL-ONLY W2";

/// What the receiver was sent: the path, the three signature headers and the body.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

/// An HTTP receiver on a port of its own: `/hang` never answers in time, every other path answers 204.
struct Receiver {
    address: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start() -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let kept = received.clone();
        let handler = move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                let path = uri.path().to_owned();
                let hang = path == "/hang";
                kept.lock().expect("lock").push(Received {
                    path,
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp"),
                    signature: header("webhook-signature"),
                    body,
                });
                if hang {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                }
                StatusCode::NO_CONTENT
            }
        };
        let router = axum::Router::new().fallback(axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { address, received }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn at(&self, path: &str) -> Vec<Received> {
        self.received.lock().expect("lock").iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Waits until `path` has received `count` messages (and a little longer, to see no more come).
    async fn expect(&self, path: &str, count: usize) -> Vec<Received> {
        let started = Instant::now();
        while self.at(path).len() < count {
            assert!(started.elapsed() < Duration::from_secs(20), "{path}: {} of {count}", self.at(path).len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        self.at(path)
    }
}

/// A receiver, a server that may send to it (on 127.0.0.1), an owner named `who` and their public
/// project.
async fn scene(who: &str) -> (Receiver, TestApp, crate::helpers::Person, String) {
    let receiver = Receiver::start().await;
    let app = spawn_app_with(|c| c.allow_private_endpoints = true).await;
    let (owner, _) = app.owner(who).await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    (receiver, app, owner, project)
}

/// The events the tests' hooks name unless they say otherwise.
const FIRST_EVENTS: [&str; 4] = ["issue.created", "issue.updated", "issue.status_changed", "comment.created"];

async fn create_hook(app: &TestApp, cookie: &str, project: &str, url: &str, internal: bool) -> reqwest::Response {
    create_hook_of(app, cookie, project, url, internal, &FIRST_EVENTS).await
}

async fn create_hook_of(
    app: &TestApp,
    cookie: &str,
    project: &str,
    url: &str,
    internal: bool,
    events: &[&str],
) -> reqwest::Response {
    let mut form =
        input(&[("project_id", project), ("url", url), ("internal", if internal { "true" } else { "false" })]);
    for (n, event) in events.iter().enumerate() {
        form.push((format!("input[events][{n}]"), (*event).to_owned()));
    }
    app.call("create_webhook", &form, Some(cookie)).await
}

/// Makes a hook; answers its id and its secret's bytes.
async fn hook(app: &TestApp, cookie: &str, project: &str, url: &str, internal: bool) -> (String, Vec<u8>) {
    hook_of(app, cookie, project, url, internal, &FIRST_EVENTS).await
}

async fn hook_of(
    app: &TestApp,
    cookie: &str,
    project: &str,
    url: &str,
    internal: bool,
    events: &[&str],
) -> (String, Vec<u8>) {
    let response = create_hook_of(app, cookie, project, url, internal, events).await;
    assert_eq!(response.status(), StatusCode::OK, "create_webhook {url}");
    let created: Value = response.json().await.expect("json");
    let secret = created["secret"].as_str().expect("secret");
    let bytes = STANDARD.decode(secret.strip_prefix("whsec_").expect("whsec_ prefix")).expect("base64");
    (created["webhook"]["id"].as_str().expect("id").to_owned(), bytes)
}

/// Verifies a message as a receiver would, with the secret alone.
fn verifies(message: &Received, secret: &[u8]) -> bool {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("key");
    mac.update(format!("{}.{}.{}", message.id, message.timestamp, message.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    message.signature.split(' ').any(|s| s == expected)
}

fn types(messages: &[Received]) -> Vec<String> {
    messages
        .iter()
        .map(|m| serde_json::from_str::<Value>(&m.body).expect("json")["type"].as_str().expect("type").to_owned())
        .collect()
}

#[tokio::test]
async fn hooks_hear_their_own_project_signed_and_internal_content_only_when_marked() {
    let (receiver, app, owner, project) = scene("hooks").await;
    let (other, _) = app.project(&owner.cookie, "public").await;
    let (public_hook, public_secret) = hook(&app, &owner.cookie, &project, &receiver.url("/public"), false).await;
    let (_, internal_secret) = hook(&app, &owner.cookie, &project, &receiver.url("/internal"), true).await;
    hook(&app, &owner.cookie, &other, &receiver.url("/other"), true).await;

    let public_issue = app.issue(&owner.cookie, &project, "public").await;
    app.issue(&owner.cookie, &project, "internal").await;
    app.comment(&owner.cookie, &public_issue.id, SECRET_TEXT, true).await;
    app.comment(&owner.cookie, &public_issue.id, "A public answer", false).await;

    let internal = receiver.expect("/internal", 4).await;
    assert_eq!(types(&internal), ["issue.created", "issue.created", "comment.created", "comment.created"]);
    assert!(internal.iter().all(|m| verifies(m, &internal_secret)), "every message verifies");
    assert!(internal.iter().any(|m| m.body.contains(SECRET_TEXT)));
    let public = receiver.expect("/public", 2).await;
    assert_eq!(types(&public), ["issue.created", "comment.created"], "only what a guest could read");
    assert!(public.iter().all(|m| verifies(m, &public_secret)));
    assert!(!public.iter().any(|m| verifies(m, &internal_secret)), "each hook has its own secret");
    assert!(public.iter().all(|m| !m.body.contains(SECRET_TEXT) && !m.body.contains("\"internal\"")));
    let first: Value = serde_json::from_str(&public[0].body).expect("json");
    assert_eq!(first["data"]["issue"]["key"], public_issue.reference);
    assert_eq!(first["data"]["issue"]["title"], public_issue.title);
    assert!(receiver.at("/other").is_empty(), "another project's hook hears nothing");

    let deliveries =
        app.call("list_webhook_deliveries", &input(&[("webhook_id", &public_hook)]), Some(&owner.cookie)).await;
    let deliveries: Value = deliveries.json().await.expect("json");
    let deliveries = deliveries.as_array().expect("list");
    assert_eq!(deliveries.len(), 2);
    for d in deliveries {
        assert_eq!(d["status_code"], 204, "{d}");
        assert!(d["delivered_at"].is_i64() && d["next_attempt_at"].is_null(), "{d}");
    }
    assert!(public.iter().any(|m| deliveries.iter().any(|d| d["message_id"] == m.id.as_str())));

    // Another team's owner reaches none of it.
    let (stranger, _) = app.owner("stranger").await;
    let theirs =
        app.call("list_webhook_deliveries", &input(&[("webhook_id", &public_hook)]), Some(&stranger.cookie)).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let deleted = app.call("delete_webhook", &input(&[("webhook_id", &public_hook)]), Some(&stranger.cookie)).await;
    assert_eq!(deleted.status(), StatusCode::NOT_FOUND);
    let listed = app.call("list_webhooks", &input(&[("project_id", &project)]), Some(&owner.cookie)).await;
    assert_eq!(listed.json::<Value>().await.expect("json").as_array().map(Vec::len), Some(2));
}

/// Every event a hook may name.
const EVERY_EVENT: [&str; 8] = [
    "issue.created",
    "issue.updated",
    "issue.status_changed",
    "issue.deleted",
    "comment.created",
    "comment.updated",
    "comment.deleted",
    "attachment.created",
];

#[tokio::test]
async fn edits_deletions_and_files_reach_hooks_by_the_same_read_rule() {
    let (receiver, app, owner, project) = scene("lifecycle").await;
    let (_, public_secret) =
        hook_of(&app, &owner.cookie, &project, &receiver.url("/public"), false, &EVERY_EVENT).await;
    hook_of(&app, &owner.cookie, &project, &receiver.url("/internal"), true, &EVERY_EVENT).await;
    let only_deletions = ["issue.deleted"];
    hook_of(&app, &owner.cookie, &project, &receiver.url("/deletions"), true, &only_deletions).await;

    let issue = app.issue(&owner.cookie, &project, "public").await;
    let hidden = app.issue(&owner.cookie, &project, "internal").await;
    let public_comment = app.comment(&owner.cookie, &issue.id, "A public answer", false).await;
    let internal_comment = app.comment(&owner.cookie, &issue.id, SECRET_TEXT, true).await;
    for comment in [&public_comment, &internal_comment] {
        let edit = input(&[("comment_id", comment), ("body", "Edited once")]);
        assert_eq!(app.call("edit_comment", &edit, Some(&owner.cookie)).await.status(), StatusCode::OK);
    }
    app.attach(&owner.cookie, &issue.id).await;
    app.attach_to_comment(&owner.cookie, &internal_comment, "internal-notes.txt").await;
    // Heard before the deletions, the comment's new text and the file's name are sent; after, not
    // (what is deleted is shown to no one).
    receiver.expect("/public", 4).await;
    for comment in [&public_comment, &internal_comment] {
        let gone = app.call("delete_comment", &input(&[("comment_id", comment)]), Some(&owner.cookie)).await;
        assert_eq!(gone.status(), StatusCode::OK);
    }
    for deleted in [&issue.id, &hidden.id] {
        let gone = app.call("delete_issue", &input(&[("issue_id", deleted)]), Some(&owner.cookie)).await;
        assert_eq!(gone.status(), StatusCode::OK);
    }

    let internal = receiver.expect("/internal", 12).await;
    let mut heard = types(&internal);
    heard.sort();
    let mut expected = vec![
        "issue.created",
        "issue.created",
        "comment.created",
        "comment.created",
        "comment.updated",
        "comment.updated",
        "attachment.created",
        "attachment.created",
        "comment.deleted",
        "comment.deleted",
        "issue.deleted",
        "issue.deleted",
    ];
    expected.sort_unstable();
    assert_eq!(heard, expected);
    // The public hook hears only what a guest of the project could read: not the internal issue, not
    // the internal comment's edit, file or deletion.
    let public = receiver.expect("/public", 6).await;
    assert_eq!(
        types(&public),
        [
            "issue.created",
            "comment.created",
            "comment.updated",
            "attachment.created",
            "comment.deleted",
            "issue.deleted"
        ],
        "in order per issue, and only what a guest could read"
    );
    assert!(public.iter().all(|m| verifies(m, &public_secret)));
    assert!(public.iter().all(|m| !m.body.contains(SECRET_TEXT) && !m.body.contains("internal-notes")));
    let bodies: Vec<Value> = public.iter().map(|m| serde_json::from_str(&m.body).expect("json")).collect();
    assert_eq!(bodies[2]["data"]["comment"]["body"], "Edited once");
    assert_eq!(bodies[3]["data"]["attachment"]["name"], "notes.txt");
    assert_eq!(bodies[4]["data"]["comment"]["id"], public_comment.as_str());
    assert!(bodies[4]["data"]["comment"].get("body").is_none(), "a deleted comment's text is not sent");
    assert_eq!(bodies[5]["data"]["issue"]["key"], issue.reference);
    let deletions = receiver.expect("/deletions", 2).await;
    assert_eq!(types(&deletions), ["issue.deleted", "issue.deleted"], "a hook hears only the events it names");
    // People are not notified of what only hooks hear of, and every event is handled.
    let mut db = app.db().await;
    let waiting: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL OR hooks_done_at IS NULL")
            .fetch_one(&mut db)
            .await
            .expect("count");
    assert_eq!(waiting, 0);
}

#[tokio::test]
async fn the_ssrf_guard_refuses_every_private_address_when_a_hook_is_made() {
    let receiver = Receiver::start().await;
    let app = spawn_app().await;
    let (owner, _) = app.owner("ssrf").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let port = receiver.address.port();
    for url in [
        format!("http://127.0.0.1:{port}/x"),
        format!("http://localhost:{port}/x"),
        format!("http://[::1]:{port}/x"),
        format!("http://[::ffff:127.0.0.1]:{port}/x"),
        "http://10.0.0.1/hook".to_owned(),
        "http://192.168.1.1/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[fd00::1]/hook".to_owned(),
        "http://0.0.0.0/hook".to_owned(),
        format!("http://2130706433:{port}/x"),
        format!("http://0x7f000001:{port}/x"),
    ] {
        let response = create_hook(&app, &owner.cookie, &project, &url, false).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let body = error_body(response).await;
        assert_eq!(body["fields"][0]["field"], "url", "{url}: {body}");
    }
    for url in ["ftp://example.com/x", "https://user:pw@example.com/x", "not a url"] {
        let response = create_hook(&app, &owner.cookie, &project, url, false).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
    }
    assert!(receiver.received.lock().expect("lock").is_empty(), "nothing reached the receiver");
    let listed = app.call("list_webhooks", &input(&[("project_id", &project)]), Some(&owner.cookie)).await;
    assert_eq!(listed.json::<Value>().await.expect("json"), Value::Array(vec![]));
}

/// W3 at the other door: the guard is asked again before every delivery, not only when a hook is
/// saved. A hook to a private address saved where that was allowed (as a name that resolved to a
/// public address then, and to a private one now, would be) is refused when sent from an instance
/// that allows only public addresses.
#[tokio::test]
async fn the_guard_is_asked_again_before_every_delivery() {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut config = crate::helpers::test_config(dir.path()).await;
    config.allow_private_endpoints = true;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (open, running) = crate::helpers::launch(config.clone(), async {
        let _ = stopped.await;
    })
    .await;
    let (owner, _) = open.owner("rebound").await;
    let (project, _) = open.project(&owner.cookie, "public").await;
    let (hook_id, _) = hook(&open, &owner.cookie, &project, &receiver.url("/rebound"), false).await;
    let _ = stop.send(());
    let _ = running.await;

    config.allow_private_endpoints = false;
    config.export_allow_private_endpoints = false;
    let (guarded, _running) = crate::helpers::launch(config, std::future::pending()).await;
    guarded.issue(&owner.cookie, &project, "public").await;
    let started = Instant::now();
    let delivery = loop {
        let listed =
            guarded.call("list_webhook_deliveries", &input(&[("webhook_id", &hook_id)]), Some(&owner.cookie)).await;
        let listed: Value = listed.json().await.expect("json");
        if let Some(tried) = listed.as_array().and_then(|l| l.iter().find(|d| d["attempts"].as_i64() >= Some(1))) {
            if !tried["last_error"].is_null() {
                break tried.clone();
            }
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no attempt recorded: {listed}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(delivery["last_error"], "the endpoint's host does not resolve to a public address", "{delivery}");
    assert!(delivery["status_code"].is_null() && delivery["delivered_at"].is_null(), "{delivery}");
    assert!(delivery["next_attempt_at"].is_i64(), "tried again later, in case the address is public again");
    assert!(receiver.at("/rebound").is_empty(), "nothing reached the private address");
}

/// An event whose deliveries cannot be written (here a trigger refuses them, as a fault would) holds
/// up none of the events after it, is tried again later, and is set aside after a few tries.
#[tokio::test]
async fn an_event_that_cannot_be_fanned_out_holds_up_no_other() {
    let (receiver, app, owner, project) = scene("poison").await;
    hook(&app, &owner.cookie, &project, &receiver.url("/after"), false).await;
    let mut db = app.db().await;
    let fault: &[&str] = if app.database_url.starts_with("postgres") {
        &[
            "CREATE FUNCTION refuse_poison() RETURNS trigger AS $$ BEGIN IF NEW.payload LIKE '%POISON%' THEN \
             RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON webhook_deliveries FOR EACH ROW \
             EXECUTE FUNCTION refuse_poison()",
        ]
    } else {
        &["CREATE TRIGGER refuse_poison BEFORE INSERT ON webhook_deliveries WHEN NEW.payload LIKE '%POISON%' \
           BEGIN SELECT RAISE(ABORT, 'refused'); END"]
    };
    for statement in fault {
        sqlx::query(statement).execute(&mut db).await.expect("the fault");
    }
    let poisoned: Vec<(String, String)> = [
        ("input[project_id]", project.as_str()),
        ("input[fields][title]", "POISON"),
        ("input[fields][visibility]", "public"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(app.call("create_issue", &poisoned, Some(&owner.cookie)).await.status(), StatusCode::OK);
    let after = app.issue(&owner.cookie, &project, "public").await;

    let heard = receiver.expect("/after", 1).await;
    assert_eq!(heard.len(), 1);
    assert!(heard[0].body.contains(&after.title), "the next event is delivered");
    let set_aside = "SELECT COUNT(*) FROM outbox WHERE hooks_done_at IS NULL";
    for _ in 0..20 {
        let waiting: i64 = sqlx::query_scalar(set_aside).fetch_one(&mut db).await.expect("count");
        if waiting == 0 {
            break;
        }
        app.clock.advance(Duration::from_secs(3600));
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let tries: Vec<i64> = sqlx::query_scalar("SELECT hooks_attempts FROM outbox WHERE hooks_attempts > 1")
        .fetch_all(&mut db)
        .await
        .expect("tries");
    assert_eq!(tries, [6], "tried five times, set aside at the sixth claim");
    let waiting: i64 = sqlx::query_scalar(set_aside).fetch_one(&mut db).await.expect("count");
    assert_eq!(waiting, 0, "the poisoned event is set aside");
    assert_eq!(receiver.at("/after").len(), 1, "and nothing of it was sent");
}

#[tokio::test]
async fn a_hanging_receiver_holds_up_no_request() {
    let (receiver, app, owner, project) = scene("hang").await;
    hook(&app, &owner.cookie, &project, &receiver.url("/hang"), true).await;
    let first = app.issue(&owner.cookie, &project, "public").await;
    receiver.expect("/hang", 1).await;
    // The receiver now holds a delivery for a minute; the issue's next events wait behind it (in
    // order), and requests go on as before.
    let started = Instant::now();
    for n in 0..5 {
        app.comment(&owner.cookie, &first.id, &format!("comment {n}"), false).await;
        app.issue(&owner.cookie, &project, "public").await;
    }
    assert!(started.elapsed() < Duration::from_secs(10), "ten writes took {:?}", started.elapsed());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let comments_sent = receiver.at("/hang").iter().filter(|m| m.body.contains("comment.created")).count();
    assert_eq!(comments_sent, 0, "an issue's later events wait for its earlier one");
}

/// Several instances share the work, and each event reaches the receiver once.
#[tokio::test]
async fn two_instances_deliver_each_event_once() {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut config = crate::helpers::test_config(dir.path()).await;
    config.allow_private_endpoints = true;
    let (first, _running) = crate::helpers::launch(config.clone(), std::future::pending()).await;
    let (second, _running_too) = crate::helpers::launch(config, std::future::pending()).await;
    let (owner, _) = first.owner("shared").await;
    let (project, _) = first.project(&owner.cookie, "public").await;
    let (_, secret) = hook(&first, &owner.cookie, &project, &receiver.url("/shared"), false).await;
    let mut titles = Vec::new();
    for n in 0..20 {
        let through = if n % 2 == 0 { &first } else { &second };
        titles.push(through.issue(&owner.cookie, &project, "public").await.title);
    }
    let messages = receiver.expect("/shared", 20).await;
    assert_eq!(messages.len(), 20, "each event once");
    let ids: std::collections::BTreeSet<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 20);
    assert!(messages.iter().all(|m| verifies(m, &secret)));
    for title in titles {
        assert_eq!(messages.iter().filter(|m| m.body.contains(&format!("\"{title}\""))).count(), 1, "{title}");
    }
}

/// A delivery an instance was sending when it was killed is sent again, with the same id, by the
/// instance started after it.
#[tokio::test]
async fn a_delivery_cut_by_sigkill_is_sent_again_after_a_restart() {
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().expect("dir");
    let database_url = format!("sqlite:{}", dir.path().join("moth.db").display());
    let env = [("MOTH_DATABASE_URL", database_url.as_str()), ("MOTH_ALLOW_PRIVATE_ENDPOINTS", "true")];
    let (mut child, address) = crate::helpers::spawn_binary(dir.path(), &env).await;
    let app = TestApp::client_of(&address);
    let (owner, _) = app.owner("killed").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let (_, secret) = hook(&app, &owner.cookie, &project, &receiver.url("/hang"), true).await;
    app.issue(&owner.cookie, &project, "public").await;
    let first = receiver.expect("/hang", 1).await;
    child.kill().expect("SIGKILL");
    child.wait().expect("gone");

    let (mut again, _) = crate::helpers::spawn_binary(dir.path(), &env).await;
    let started = Instant::now();
    while receiver.at("/hang").len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(45), "not sent again after the restart");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let resent = &receiver.at("/hang")[1];
    assert_eq!(resent.id, first[0].id, "the same message, so that the receiver can tell");
    assert_eq!(resent.body, first[0].body);
    assert!(verifies(resent, &secret));
    again.kill().expect("stop");
    let _ = again.wait();
}

/// A test event reaches the receiver signed; a delivery is sent again with its id on request; a hook
/// not marked internal hears nothing of a private project.
#[tokio::test]
async fn owners_send_a_test_event_and_redeliver_one() {
    let (receiver, app, owner, project) = scene("tester").await;
    let (private, _) = app.project(&owner.cookie, "private").await;
    let (hook_id, secret) = hook(&app, &owner.cookie, &project, &receiver.url("/test"), false).await;
    hook(&app, &owner.cookie, &private, &receiver.url("/private"), false).await;
    app.issue(&owner.cookie, &private, "public").await;

    let sent = app.call("send_test_webhook", &input(&[("webhook_id", &hook_id)]), Some(&owner.cookie)).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let test = receiver.expect("/test", 1).await;
    assert_eq!(types(&test), ["webhook.test"]);
    assert!(verifies(&test[0], &secret));

    let again = input(&[("webhook_id", &hook_id), ("message_id", &test[0].id)]);
    assert_eq!(app.call("redeliver_webhook", &again, Some(&owner.cookie)).await.status(), StatusCode::OK);
    let both = receiver.expect("/test", 2).await;
    assert_eq!(both[1].id, test[0].id, "the same message again");
    assert!(verifies(&both[1], &secret));
    let unknown = input(&[("webhook_id", &hook_id), ("message_id", "no-such-message")]);
    assert_eq!(app.call("redeliver_webhook", &unknown, Some(&owner.cookie)).await.status(), StatusCode::NOT_FOUND);
    assert!(receiver.at("/private").is_empty(), "a private project's issues reach only internal hooks");

    // Each event is a delivery per hook: a project has at most 20.
    for n in 1..20 {
        hook(&app, &owner.cookie, &project, &receiver.url(&format!("/more{n}")), false).await;
    }
    let one_more = create_hook(&app, &owner.cookie, &project, &receiver.url("/too-many"), false).await;
    assert_eq!(one_more.status(), StatusCode::CONFLICT);
    // And a team at most 100, however many projects it has (21 so far).
    let mut made = 21;
    while made < 100 {
        let (another, _) = app.project(&owner.cookie, "public").await;
        for _ in 0..20.min(100 - made) {
            hook(&app, &owner.cookie, &another, &receiver.url(&format!("/team{made}")), false).await;
            made += 1;
        }
    }
    let (last, _) = app.project(&owner.cookie, "public").await;
    let over = create_hook(&app, &owner.cookie, &last, &receiver.url("/over"), false).await;
    assert_eq!(over.status(), StatusCode::CONFLICT);
    assert!(error_body(over).await["message"].as_str().is_some_and(|m| m.contains("team has at most 100")));

    // Hook changes are audit events, naming the hook and its address.
    let gone = app.call("delete_webhook", &input(&[("webhook_id", &hook_id)]), Some(&owner.cookie)).await;
    assert_eq!(gone.status(), StatusCode::OK);
    let audit = app.audit_export(&owner.cookie).await;
    let entries = audit["entries"].as_array().expect("entries");
    let of = |event: &str| {
        entries
            .iter()
            .filter(|e| e["event"] == event && e["detail"].as_str().is_some_and(|d| d.contains(&hook_id)))
            .count()
    };
    assert_eq!(of("webhook_created"), 1, "{audit}");
    assert_eq!(of("webhook_deleted"), 1, "{audit}");
}
