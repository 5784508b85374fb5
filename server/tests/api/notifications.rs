//! N1-N3: notifications reach people only with what their own read rules let them read when they are
//! delivered (inbox, live event, email), through a real SMTP server; unsubscribe links are bound to
//! their person; live connections are bounded.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::{input, spawn_app_with, Person, TestApp, TestIssue},
    mail::SmtpSink,
};

const SECRET: &str = "INTERNAL-ONLY SECRET-N1";

/// Moth mailing through `sink` at once (no batching delay), or after `delay_secs` of its clock.
async fn app_mailing(sink: &SmtpSink, delay_secs: u64, per_user: usize) -> TestApp {
    let port = sink.port;
    spawn_app_with(move |c| {
        c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        c.public_url = Some("https://moth.example.com".into());
        c.notification_mail_delay_secs = delay_secs;
        c.live_connections_per_user = per_user;
    })
    .await
}

/// Waits until every outbox event is delivered and no mail is pending.
async fn settle(app: &TestApp) {
    let started = Instant::now();
    loop {
        let mut db = app.db().await;
        let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL")
            .fetch_one(&mut db)
            .await
            .expect("outbox");
        let (mail,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM mail_batches").fetch_one(&mut db).await.expect("mail");
        if events == 0 && mail == 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "notifications did not settle: {events} events, {mail} mails"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn inbox(app: &TestApp, cookie: &str) -> Value {
    let response = app.call("list_notifications", &input(&[("unread_only", "false")]), Some(cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// The notification mails (not invitations) sent to `email`.
fn mails_to(sink: &SmtpSink, email: &str) -> Vec<String> {
    sink.messages()
        .into_iter()
        .filter(|m| m.contains("List-Unsubscribe:") && m.contains(&format!("To: {email}")))
        .collect()
}

/// A team with a public project: its owner, a member and a guest of the project (both invited by
/// email, so their addresses are verified), and a public issue the owner filed that the guest watches.
struct Scene {
    owner: Person,
    member: Person,
    guest: Person,
    issue: TestIssue,
}

async fn scene(app: &TestApp) -> Scene {
    let (owner, _) = app.owner("owner").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let member = app.new_member(&owner.cookie, "NORMAL").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    app.add_to_project(&owner.cookie, &project, &member.user_id).await;
    app.add_to_project(&owner.cookie, &project, &guest.user_id).await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    // The issue's creation is delivered before anyone watches it: the tests count what comes after.
    settle(app).await;
    for who in [&member, &guest] {
        let watch = input(&[("issue_id", &issue.id), ("watching", "true")]);
        let response = app.call("watch_issue", &watch, Some(&who.cookie)).await;
        assert_eq!(response.json::<Value>().await.expect("json"), Value::Bool(true));
    }
    Scene { owner, member, guest, issue }
}

#[tokio::test]
async fn a_guest_watching_a_public_issue_hears_nothing_of_an_internal_comment() {
    let sink = SmtpSink::start();
    let app = app_mailing(&sink, 0, 5).await;
    let s = scene(&app).await;
    let guest_local = s.guest.email.split('@').next().expect("local part").to_owned();
    app.comment(&s.owner.cookie, &s.issue.id, &format!("{SECRET} @{guest_local} @{}", s.guest.email), true).await;
    settle(&app).await;

    let guests = inbox(&app, &s.guest.cookie).await;
    assert_eq!(guests["entries"], Value::Array(vec![]), "no entry for an internal comment, mention or not");
    assert_eq!(guests["unread"], 0);
    assert!(mails_to(&sink, &s.guest.email).is_empty(), "no mail for an internal comment");
    let members = inbox(&app, &s.member.cookie).await;
    assert_eq!(members["entries"][0]["kind"], "commented", "{members}");
    assert_eq!(members["entries"][0]["issue_key"], s.issue.reference);
    assert_eq!(members["entries"][0]["issue_title"], s.issue.title);
    let member_mail = mails_to(&sink, &s.member.email);
    assert_eq!(member_mail.len(), 1, "the member is mailed the internal comment");
    assert!(member_mail[0].contains(SECRET), "{}", member_mail[0]);

    app.comment(&s.owner.cookie, &s.issue.id, "A public answer", false).await;
    settle(&app).await;
    let guests = inbox(&app, &s.guest.cookie).await;
    assert_eq!(guests["entries"].as_array().map(Vec::len), Some(1), "{guests}");
    assert_eq!(guests["unread"], 1);
    let guest_mail = mails_to(&sink, &s.guest.email);
    assert_eq!(guest_mail.len(), 1, "one mail for the public comment");
    let mail = &guest_mail[0];
    assert!(mail.contains("A public answer"), "{mail}");
    assert!(!mail.contains("SECRET-N1") && !mail.contains("INTERNAL-ONLY"), "internal text in a guest's mail: {mail}");
    assert!(mail.contains(&format!("Subject: [{}] {}", s.issue.reference, s.issue.title)), "{mail}");
    assert!(mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), "{mail}");
    assert!(mail.contains(&format!("In-Reply-To: <issue-{}@moth.example.com>", s.issue.id)), "{mail}");
}

#[tokio::test]
async fn mentions_notify_readers_of_the_team_only() {
    let sink = SmtpSink::start();
    let app = app_mailing(&sink, 0, 5).await;
    let s = scene(&app).await;
    let (stranger, _) = app.owner("stranger").await;
    let member_local = s.member.email.split('@').next().expect("local").to_owned();
    // The member unwatches first: the mention alone notifies them.
    let unwatch = input(&[("issue_id", &s.issue.id), ("watching", "false")]);
    app.call("watch_issue", &unwatch, Some(&s.member.cookie)).await;
    let body = format!("@{member_local} please check; @{} too", stranger.email);
    app.comment(&s.owner.cookie, &s.issue.id, &body, false).await;
    settle(&app).await;
    let members = inbox(&app, &s.member.cookie).await;
    assert_eq!(members["entries"][0]["reason"], "mentioned", "{members}");
    let strangers = inbox(&app, &stranger.cookie).await;
    assert_eq!(strangers["entries"], Value::Array(vec![]), "another team never hears");
    let mut db = app.db().await;
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = $1")
        .bind(&stranger.user_id)
        .fetch_one(&mut db)
        .await
        .expect("count");
    assert_eq!(count, 0);

    let read = input(&[("all", "true")]);
    let after: Value =
        app.call("mark_notifications_read", &read, Some(&s.member.cookie)).await.json().await.expect("json");
    assert_eq!(after["unread"], 0);
    assert_eq!(after["entries"][0]["read"], true);
}

/// Makes an issue internal (its title and status kept).
async fn make_internal(app: &TestApp, cookie: &str, issue: &TestIssue) {
    let (key, number) = issue.reference.split_once('-').expect("KEY-n");
    let detail: Value = app
        .call("get_issue", &input(&[("key", key), ("number", number)]), Some(cookie))
        .await
        .json()
        .await
        .expect("json");
    let status = detail["issue"]["status"]["id"].as_str().expect("status").to_owned();
    let form = vec![
        ("input[issue_id]".to_owned(), issue.id.clone()),
        ("input[status_id]".to_owned(), status),
        ("input[fields][title]".to_owned(), issue.title.clone()),
        ("input[fields][visibility]".to_owned(), "internal".to_owned()),
    ];
    assert_eq!(app.call("update_issue", &form, Some(cookie)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn queued_mail_is_rendered_for_its_recipient_when_it_is_sent() {
    let sink = SmtpSink::start();
    let app = app_mailing(&sink, 60, 5).await;
    let s = scene(&app).await;
    app.comment(&s.owner.cookie, &s.issue.id, "Public progress note", false).await;
    // Delivered to the inboxes; the mails wait for their batch.
    let started = Instant::now();
    while inbox(&app, &s.guest.cookie).await["unread"] != 1 {
        assert!(started.elapsed() < Duration::from_secs(20), "the guest's entry did not arrive");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // While the mail waits: the issue becomes internal, and the member is removed from the team.
    make_internal(&app, &s.owner.cookie, &s.issue).await;
    let removed = app.call("remove_member", &input(&[("user_id", &s.member.user_id)]), Some(&s.owner.cookie)).await;
    assert_eq!(removed.status(), StatusCode::OK);
    app.clock.advance(Duration::from_secs(120));
    settle(&app).await;
    assert!(mails_to(&sink, &s.guest.email).is_empty(), "a guest is not mailed an issue made internal");
    assert!(mails_to(&sink, &s.member.email).is_empty(), "a removed member is mailed nothing");
    let guests = inbox(&app, &s.guest.cookie).await;
    assert_eq!(guests["entries"], Value::Array(vec![]), "nor shown it in the inbox: {guests}");
    assert_eq!(guests["unread"], 0);
}

#[tokio::test]
async fn redelivering_an_event_adds_no_second_entry() {
    let sink = SmtpSink::start();
    let app = app_mailing(&sink, 0, 5).await;
    let s = scene(&app).await;
    app.comment(&s.owner.cookie, &s.issue.id, "Once", false).await;
    settle(&app).await;
    let mut db = app.db().await;
    let count = "SELECT COUNT(*) FROM notifications n JOIN outbox o ON o.seq = n.event_seq \
                 WHERE n.user_id = $1 AND o.kind = 'commented'";
    let (before,): (i64,) = sqlx::query_as(count).bind(&s.guest.user_id).fetch_one(&mut db).await.expect("count");
    assert_eq!(before, 1);
    // As if a worker had stopped before marking the event delivered, or two instances took it.
    sqlx::query("UPDATE outbox SET delivered_at = NULL, claimed_until = NULL WHERE kind = 'commented'")
        .execute(&mut db)
        .await
        .expect("reset");
    settle(&app).await;
    let (redelivered,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE attempts = 2").fetch_one(&mut db).await.expect("attempts");
    assert_eq!(redelivered, 1, "the event was delivered a second time");
    let (after,): (i64,) = sqlx::query_as(count).bind(&s.guest.user_id).fetch_one(&mut db).await.expect("count");
    assert_eq!(after, 1);
    assert_eq!(mails_to(&sink, &s.guest.email).len(), 1, "nor a second mail");
}

/// The token of the first link to `path` (`/unsubscribe/`) in `mail`.
fn token_after(mail: &str, path: &str) -> String {
    // A body is quoted-printable: its long lines are cut with soft breaks ("=" at a line's end).
    let mail = mail.replace("=\r\n", "").replace("=\n", "");
    let start = mail.find(path).unwrap_or_else(|| panic!("a link to {path}")) + path.len();
    mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect()
}

/// `token` (claims.signature) with its claims rewritten by `rewrite`, under the same signature.
fn forged(token: &str, rewrite: impl FnOnce(&mut Value)) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let (claims, signature) = token.split_once('.').expect("claims.signature");
    let mut decoded: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).expect("b64")).expect("json");
    rewrite(&mut decoded);
    format!("{}.{signature}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&decoded).expect("json")))
}

/// `token` with the first two characters of its signature cut off.
fn truncated(token: &str) -> String {
    let (claims, signature) = token.split_once('.').expect("claims.signature");
    format!("{claims}.{}", &signature[2..])
}

/// The unsubscribe link of the last notification mail to `email`.
fn unsubscribe_token(sink: &SmtpSink, email: &str) -> String {
    token_after(mails_to(sink, email).last().expect("a notification mail"), "/unsubscribe/")
}

async fn emails_on(app: &TestApp, cookie: &str) -> bool {
    let settings: Value = app.call("notification_settings", &[], Some(cookie)).await.json().await.expect("json");
    settings["email"].as_bool().expect("email")
}

#[tokio::test]
async fn an_unsubscribe_link_turns_off_its_own_persons_mail_only() {
    let sink = SmtpSink::start();
    let app = app_mailing(&sink, 0, 5).await;
    let s = scene(&app).await;
    app.comment(&s.owner.cookie, &s.issue.id, "Hello watchers", false).await;
    settle(&app).await;
    let token = unsubscribe_token(&sink, &s.guest.email);

    // Opening the link changes nothing (mail scanners follow links).
    let page = app.http.get(app.url(&format!("/unsubscribe/{token}"))).send().await.expect("get");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(emails_on(&app, &s.guest.cookie).await);

    // The guest's claims rewritten to name the member, under the guest's signature: refused.
    let forged = forged(&token, |claims| claims["u"] = Value::String(s.member.user_id.clone()));
    for bad in [forged.as_str(), "not-a-token", &truncated(&token)] {
        let response = app.http.post(app.url(&format!("/unsubscribe/{bad}"))).send().await.expect("post");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    assert!(emails_on(&app, &s.member.cookie).await, "the member's mail stays on");

    // RFC 8058's one-click POST, as a mail client sends it.
    let response = app
        .http
        .post(app.url(&format!("/unsubscribe/{token}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(!emails_on(&app, &s.guest.cookie).await, "the guest's mail is off");
    assert!(emails_on(&app, &s.member.cookie).await, "and only theirs");

    app.comment(&s.owner.cookie, &s.issue.id, "After unsubscribing", false).await;
    settle(&app).await;
    assert_eq!(mails_to(&sink, &s.guest.email).len(), 1, "no more mail after unsubscribing");
    assert_eq!(inbox(&app, &s.guest.cookie).await["unread"], 2, "the inbox keeps working");
}

/// A live connection's events: `(event, id, data)`, read until `stop` says enough or `wait` passes.
async fn read_events(
    response: &mut reqwest::Response,
    wait: Duration,
    stop: impl Fn(&[(String, String, String)]) -> bool,
) -> (Vec<(String, String, String)>, bool) {
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = match tokio::time::timeout(left, response.chunk()).await {
            Ok(Ok(Some(chunk))) => chunk,
            Ok(Ok(None) | Err(_)) => return (events, true),
            Err(_) => return (events, false),
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                block.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).map(|v| v.trim().to_owned())
            };
            if let Some(event) = field("event") {
                events.push((event, field("id").unwrap_or_default(), field("data").unwrap_or_default()));
            }
        }
        if stop(&events) {
            return (events, false);
        }
    }
}

async fn open_live(app: &TestApp, cookie: &str, issue: &str) -> reqwest::Response {
    app.http.get(app.url(&format!("/live?issue={issue}"))).header("cookie", cookie).send().await.expect("live")
}

#[tokio::test]
async fn live_events_tell_a_guest_of_public_activity_only_and_end_with_membership() {
    let sink = SmtpSink::start();
    let app = app_mailing(&sink, 0, 2).await;
    let s = scene(&app).await;
    let mut live = open_live(&app, &s.guest.cookie, &s.issue.id).await;
    assert_eq!(live.status(), StatusCode::OK);
    assert!(live.headers()["content-type"].to_str().expect("type").starts_with("text/event-stream"));
    let (first, _) = read_events(&mut live, Duration::from_secs(10), |e| !e.is_empty()).await;
    assert_eq!(first[0].0, "inbox");
    assert_eq!(first[0].2, "0", "no unread entries yet");

    app.comment(&s.owner.cookie, &s.issue.id, SECRET, true).await;
    settle(&app).await;
    app.comment(&s.owner.cookie, &s.issue.id, "Public", false).await;
    let (events, _) =
        read_events(&mut live, Duration::from_secs(15), |e| e.iter().any(|(kind, _, _)| kind == "issue")).await;
    let mut db = app.db().await;
    let (public_seq,): (i64,) = sqlx::query_as("SELECT MAX(seq) FROM outbox").fetch_one(&mut db).await.expect("seq");
    let issue_events: Vec<_> = events.iter().filter(|(kind, _, _)| kind == "issue").collect();
    assert_eq!(issue_events.len(), 1, "{events:?}");
    let (_, id, data) = issue_events[0];
    assert_eq!(data, &s.issue.id);
    assert_eq!(id.split_once('.').map(|(_, seq)| seq.to_owned()), Some(public_seq.to_string()), "{events:?}");
    let told_one = |e: &[(String, String, String)]| e.iter().any(|(kind, _, data)| kind == "inbox" && data == "1");
    if !told_one(&events) {
        let (more, _) = read_events(&mut live, Duration::from_secs(10), told_one).await;
        assert!(told_one(&more), "the guest's unread count went to 1: {events:?} {more:?}");
    }

    // Two connections per person here: a third is refused, and another person is not affected.
    let second = open_live(&app, &s.guest.cookie, &s.issue.id).await;
    assert_eq!(second.status(), StatusCode::OK);
    let third = open_live(&app, &s.guest.cookie, &s.issue.id).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(open_live(&app, &s.member.cookie, &s.issue.id).await.status(), StatusCode::OK);
    // A bearer token is not a live door; nor is no session.
    let anonymous = app.http.get(app.url("/live")).send().await.expect("live");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Removed from the team: the stream ends (at its next look, within seconds).
    let removed = app.call("remove_member", &input(&[("user_id", &s.guest.user_id)]), Some(&s.owner.cookie)).await;
    assert_eq!(removed.status(), StatusCode::OK);
    let (_, ended) = read_events(&mut live, Duration::from_secs(20), |_| false).await;
    assert!(ended, "the removed guest's stream ended");
}

/// The token of the last address-proof link mailed to `email`.
fn proof_token(sink: &SmtpSink, email: &str) -> String {
    let mails: Vec<String> = sink
        .messages()
        .into_iter()
        .filter(|m| m.contains("/verify-email/") && m.contains(&format!("To: {email}")))
        .collect();
    token_after(mails.last().expect("an address-proof mail"), "/verify-email/")
}

async fn address_proven(app: &TestApp, cookie: &str) -> bool {
    let settings: Value = app.call("notification_settings", &[], Some(cookie)).await.json().await.expect("json");
    settings["email_verified"].as_bool().expect("email_verified")
}

#[tokio::test]
async fn a_signed_up_owner_proves_their_address_by_a_link_that_proves_nobody_elses() {
    let sink = SmtpSink::start();
    let app = app_mailing(&sink, 0, 5).await;
    let (owner, _) = app.owner("owner").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let member = app.new_member(&owner.cookie, "NORMAL").await;
    app.add_to_project(&owner.cookie, &project, &member.user_id).await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    settle(&app).await;

    // A sign-up has not proven its address: the reporter's inbox hears of a comment, their mail does not.
    assert!(!address_proven(&app, &owner.cookie).await);
    app.comment(&member.cookie, &issue.id, "Before proving", false).await;
    settle(&app).await;
    assert_eq!(inbox(&app, &owner.cookie).await["unread"], 1);
    assert!(mails_to(&sink, &owner.email).is_empty(), "no mail to an unproven address");

    let sent = app.call("send_address_proof", &[], Some(&owner.cookie)).await;
    assert_eq!(sent.json::<Value>().await.expect("json"), Value::Bool(true));
    let again = app.call("send_address_proof", &[], Some(&owner.cookie)).await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS, "one link a minute");
    let started = Instant::now();
    while !sink.messages().iter().any(|m| m.contains("/verify-email/")) {
        assert!(started.elapsed() < Duration::from_secs(10), "the proof mail did not arrive");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let token = proof_token(&sink, &owner.email);

    // The owner's link with its claims rewritten to name the member, or its signature cut: refused.
    let forged = forged(&token, |claims| {
        claims["u"] = Value::String(member.user_id.clone());
        claims["a"] = Value::String(member.email.to_lowercase());
    });
    for bad in [forged.as_str(), "not-a-token", &truncated(&token)] {
        let response = app.http.get(app.url(&format!("/verify-email/{bad}"))).send().await.expect("get");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{bad}");
    }
    assert!(!address_proven(&app, &owner.cookie).await);

    let opened = app.http.get(app.url(&format!("/verify-email/{token}"))).send().await.expect("get");
    assert_eq!(opened.status(), StatusCode::OK);
    assert!(address_proven(&app, &owner.cookie).await);
    let asked = app.call("send_address_proof", &[], Some(&owner.cookie)).await;
    assert_eq!(asked.status(), StatusCode::CONFLICT, "already proven");

    // From now on the owner's notifications are mailed too.
    app.comment(&member.cookie, &issue.id, "After proving", false).await;
    settle(&app).await;
    let mails = mails_to(&sink, &owner.email);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("After proving"));
}

async fn mention_handles(app: &TestApp, cookie: &str, issue: &str, internal: bool, prefix: &str) -> Vec<String> {
    let internal = if internal { "true" } else { "false" };
    let form = input(&[("issue_id", issue), ("internal", internal), ("prefix", prefix)]);
    let response = app.call("mention_candidates", &form, Some(cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "mention_candidates {prefix:?}");
    let people: Value = response.json().await.expect("json");
    people.as_array().expect("a list").iter().map(|p| p["handle"].as_str().expect("handle").to_owned()).collect()
}

fn local(person: &Person) -> String {
    person.email.split('@').next().expect("local part").to_owned()
}

/// The editor offers, and the issue page links, only people who may read the issue (and, for an
/// internal text, its internal text); guests get no list of the team's people.
#[tokio::test]
async fn mentions_are_offered_and_linked_only_for_people_who_read_the_issue() {
    let app = crate::helpers::spawn_app().await;
    let s = scene(&app).await;
    // A member of the team who is not in the project reads none of its issues.
    let outsider = app.new_member(&s.owner.cookie, "NORMAL").await;
    let (m, g, o) = (local(&s.member), local(&s.guest), local(&outsider));

    let everyone = mention_handles(&app, &s.member.cookie, &s.issue.id, false, "").await;
    assert!(everyone.contains(&local(&s.owner)) && everyone.contains(&g), "{everyone:?}");
    assert!(!everyone.contains(&o) && !everyone.contains(&m), "neither the outsider nor the asker: {everyone:?}");
    let internal = mention_handles(&app, &s.member.cookie, &s.issue.id, true, "").await;
    assert!(internal.contains(&local(&s.owner)) && !internal.contains(&g), "no guest for internal text: {internal:?}");
    assert_eq!(mention_handles(&app, &s.owner.cookie, &s.issue.id, false, &g[..8]).await, vec![g.clone()]);
    for wildcard in ["%", "_", "%%"] {
        let found = mention_handles(&app, &s.owner.cookie, &s.issue.id, false, wildcard).await;
        assert!(found.is_empty(), "{wildcard:?} is a character, not a pattern: {found:?}");
    }
    let odd = input(&[("issue_id", &s.issue.id), ("internal", "false"), ("prefix", "a\\b")]);
    let response = app.call("mention_candidates", &odd, Some(&s.owner.cookie)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "no mention holds a backslash");
    // An internal issue: the guest may not read it, whatever the text.
    let internal_issue = app.issue(&s.owner.cookie, &project_of(&app, &s).await, "internal").await;
    let offered = mention_handles(&app, &s.owner.cookie, &internal_issue.id, false, "").await;
    assert!(offered.contains(&m) && !offered.contains(&g), "{offered:?}");

    let guest_asks = input(&[("issue_id", &s.issue.id), ("internal", "false"), ("prefix", "")]);
    let response = app.call("mention_candidates", &guest_asks, Some(&s.guest.cookie)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "guests get no list of the team's people");
    let (stranger, _) = app.owner("stranger").await;
    let response = app.call("mention_candidates", &guest_asks, Some(&stranger.cookie)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "another team's issue");

    app.comment(&s.owner.cookie, &s.issue.id, &format!("@{m} @{g} @{o} and `@{m}`"), false).await;
    let (key, number) = s.issue.reference.split_once('-').expect("reference");
    let read = input(&[("key", key), ("number", number)]);
    let as_member: Value = app.call("get_issue", &read, Some(&s.member.cookie)).await.json().await.expect("json");
    let html = as_member["comments"][0]["body_html"].as_str().expect("html");
    for (name, id) in [(&m, &s.member.user_id), (&g, &s.guest.user_id)] {
        let link = format!(r#"<a href="/projects/{key}?assignee={id}" class="mention">@{name}</a>"#);
        assert!(html.contains(&link), "{link} in {html}");
    }
    assert_eq!(html.matches("class=\"mention\"").count(), 2, "the outsider and the code stay text: {html}");
    let as_guest: Value = app.call("get_issue", &read, Some(&s.guest.cookie)).await.json().await.expect("json");
    let html = as_guest["comments"][0]["body_html"].as_str().expect("html");
    assert!(html.contains(&format!("@{m}")) && !html.contains("mention"), "no people's links for a guest: {html}");
}

/// The project of the scene's issue.
async fn project_of(app: &TestApp, s: &Scene) -> String {
    let (key, number) = s.issue.reference.split_once('-').expect("reference");
    let read = input(&[("key", key), ("number", number)]);
    let detail: Value = app.call("get_issue", &read, Some(&s.owner.cookie)).await.json().await.expect("json");
    detail["issue"]["project_id"].as_str().expect("project id").to_owned()
}
