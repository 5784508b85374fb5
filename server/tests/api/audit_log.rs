//! The audit log as owners and admins read it: a page at a time (keyset, newest first), filtered by
//! kind, actor and time, and exported as CSV and JSON with each entry's place in the chain; only for
//! OWNER and ADMIN, only of their own team; exporting is itself audited.

use std::collections::HashSet;

use reqwest::StatusCode;

use crate::helpers::{input, spawn_app, TestApp, PASSWORD};

async fn page(app: &TestApp, cookie: &str, fields: &[(&str, &str)]) -> serde_json::Value {
    let response = app.call("audit_log", &input(fields), Some(cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

fn entries(page: &serde_json::Value) -> &Vec<serde_json::Value> {
    page["entries"].as_array().expect("entries")
}

async fn export(app: &TestApp, cookie: &str, path: &str) -> reqwest::Response {
    app.http.get(app.url(path)).header("cookie", cookie).send().await.expect("export")
}

#[tokio::test]
async fn owners_page_filter_and_export_their_teams_log() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("audit").await;
    // A member whose name a spreadsheet would run as a formula.
    let email = crate::helpers::fresh_email("formula");
    let (_, token) = app.invite(&owner.cookie, &email, "NORMAL").await;
    let joined = input(&[("token", &token), ("display_name", "=HYPERLINK(\"http://evil\")"), ("password", PASSWORD)]);
    let member = app.call("sign_up_with_invitation", &joined, None).await;
    assert_eq!(member.status(), StatusCode::OK);
    let member_id =
        member.json::<serde_json::Value>().await.expect("json")["user"]["id"].as_str().expect("id").to_owned();
    for _ in 0..110 {
        assert_eq!(app.sign_in_as(&owner.email, PASSWORD, None).await.status(), StatusCode::OK);
    }

    // Pages: 100, then the rest; no entry twice, newest first throughout.
    let first = page(&app, &owner.cookie, &[]).await;
    assert_eq!(entries(&first).len(), 100);
    let (at, id) = (first["next"][0].as_i64().expect("at"), first["next"][1].as_str().expect("id").to_owned());
    let second = page(&app, &owner.cookie, &[("before_at", &at.to_string()), ("before_id", &id)]).await;
    assert!(second["next"].is_null(), "two pages in all");
    let all: Vec<&serde_json::Value> = entries(&first).iter().chain(entries(&second)).collect();
    let ids: HashSet<&str> = all.iter().map(|e| e["id"].as_str().expect("id")).collect();
    assert_eq!(ids.len(), all.len(), "an entry came twice");
    assert!(all.windows(2).all(|w| w[0]["at"].as_i64() >= w[1]["at"].as_i64()), "not newest first");
    assert!(all.len() >= 113, "{}", all.len()); // account, invitation sent and accepted, 110 sign-ins

    // Filters.
    let signed_in = page(&app, &owner.cookie, &[("event", "signed_in")]).await;
    assert!(entries(&signed_in).iter().all(|e| e["event"] == "signed_in"));
    let by_member = page(&app, &owner.cookie, &[("actor_id", &member_id)]).await;
    assert!(!entries(&by_member).is_empty());
    assert!(entries(&by_member).iter().all(|e| e["actor_id"] == member_id.as_str()));
    let middle = all[50]["at"].as_i64().expect("at");
    let older = page(&app, &owner.cookie, &[("to", &middle.to_string())]).await;
    assert!(entries(&older).iter().all(|e| e["at"].as_i64().expect("at") < middle));
    let unknown = app.call("audit_log", &input(&[("event", "made_up")]), Some(&owner.cookie)).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Exports: every entry the filters select, with its place in the chain; formulas neutralised.
    let json = export(&app, &owner.cookie, "/export/audit.json").await;
    assert_eq!(json.status(), StatusCode::OK);
    let exported: serde_json::Value = json.json().await.expect("json");
    let exported = exported["entries"].as_array().expect("entries");
    assert_eq!(exported.len(), all.len());
    assert!(exported.iter().all(|e| e["seq"].as_i64().is_some() && e["mac"].as_str().is_some_and(|m| m.len() == 64)));
    let csv = export(&app, &owner.cookie, &format!("/export/audit.csv?actor={member_id}")).await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"].to_str().expect("ascii").starts_with("text/csv"));
    let text = csv.text().await.expect("text");
    assert!(text.starts_with("seq,at_ms,event,outcome,actor,actor_id,source_ip,detail,id,mac"), "{text}");
    assert!(text.contains("'=HYPERLINK"), "a formula reached the CSV unneutralised: {text}");
    assert!(!text.contains(&owner.email), "a filter let another actor's entry through");
    let bad = export(&app, &owner.cookie, "/export/audit.csv?event=made_up").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let exports = page(&app, &owner.cookie, &[("event", "audit_exported")]).await;
    assert_eq!(entries(&exports).len(), 2, "each export is audited");
}

#[tokio::test]
async fn only_owners_and_admins_export_and_only_their_own_team() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("audit").await;
    let normal = app.new_member(&owner.cookie, "NORMAL").await;
    let (other, _) = app.owner("other").await;
    assert_eq!(export(&app, &normal.cookie, "/export/audit.csv").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(export(&app, "", "/export/audit.json").await.status(), StatusCode::UNAUTHORIZED);
    let theirs = export(&app, &other.cookie, "/export/audit.json").await;
    assert_eq!(theirs.status(), StatusCode::OK);
    let text = theirs.text().await.expect("text");
    assert!(!text.contains(&owner.email) && !text.contains(&normal.email), "another team's entries: {text}");
    let cross_site = app
        .http
        .get(app.url("/export/audit.csv"))
        .header("cookie", &owner.cookie)
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .expect("export");
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
}

/// Runs the customers' verification script (docs/verify-audit-export.py) on an export; its output
/// and whether it verified.
fn customer_verifies(export: &serde_json::Value, head: Option<&str>) -> (bool, String) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("audit.json");
    std::fs::write(&path, serde_json::to_vec(export).expect("json")).expect("write");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/verify-audit-export.py");
    let mut command = std::process::Command::new("python3");
    command.arg(script).arg(&path);
    if let Some(head) = head {
        command.arg("--head").arg(head);
    }
    let output = command.output().expect("python3 runs");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test]
async fn a_team_verifies_its_export_with_its_own_key_and_finds_what_was_changed() {
    let app = spawn_app().await;
    let (owner, team) = app.owner("verify").await;
    for _ in 0..3 {
        app.new_member(&owner.cookie, "NORMAL").await;
    }
    let export = |app: &TestApp| {
        let cookie = owner.cookie.clone();
        let url = app.url("/export/audit.json");
        let http = app.http.clone();
        async move {
            let response = http.get(url).header("cookie", cookie).send().await.expect("export");
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<serde_json::Value>().await.expect("json")
        }
    };
    let first = export(&app).await;
    assert_eq!(first["team_id"], team.as_str());
    assert_eq!(first["chain_key"].as_str().map(str::len), Some(64));
    let (verified, output) = customer_verifies(&first, None);
    assert!(verified, "{output}");
    let head = output.lines().find_map(|l| l.strip_prefix("head: ")).expect("head").to_owned();

    // Another team's key does not verify this team's entries.
    let (other, _) = app.owner("other").await;
    let theirs = app.audit_export(&other.cookie).await;
    let mut mixed = first.clone();
    mixed["chain_key"] = theirs["chain_key"].clone();
    assert!(!customer_verifies(&mixed, None).0, "another team's key verified this team's log");

    // An entry added to the export without a place in the chain is reported, not skipped.
    let mut added = first.clone();
    let mut forged = added["entries"][0].clone();
    forged["id"] = serde_json::json!("00000000-0000-4000-8000-0000000000ad");
    forged["detail"] = serde_json::json!("nothing to see");
    forged["seq"] = serde_json::Value::Null;
    forged["mac"] = serde_json::Value::Null;
    added["entries"].as_array_mut().expect("entries").push(forged);
    let (verified, output) = customer_verifies(&added, None);
    assert!(!verified && output.contains("0000000000ad is outside the chain"), "{output}");

    // A removed entry leaves a gap; an edited one breaks its MAC.
    let mut gap = first.clone();
    let entries = gap["entries"].as_array_mut().expect("entries");
    let second = entries.iter().position(|e| e["seq"] == 2).expect("seq 2");
    entries.remove(second);
    let (verified, output) = customer_verifies(&gap, None);
    assert!(!verified && output.contains("entry 2 is missing"), "{output}");
    let mut db = app.db().await;
    sqlx::query("UPDATE audit_log SET detail = 'nothing happened' WHERE chain = $1 AND seq = 2")
        .bind(&team)
        .execute(&mut db)
        .await
        .expect("edit");
    let edited = export(&app).await;
    let (verified, output) = customer_verifies(&edited, Some(&head));
    assert!(!verified && output.contains("entry 2 was altered"), "{output}");
}

#[tokio::test]
async fn project_settings_that_decide_who_sees_what_are_audited() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("settings").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    app.add_to_project(&owner.cookie, &project, &guest.user_id).await;
    let removed = app
        .call(
            "remove_project_member",
            &input(&[("project_id", &project), ("user_id", &guest.user_id)]),
            Some(&owner.cookie),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    let published =
        input(&[("project_id", &project), ("name", "Open"), ("visibility", "public"), ("published", "true")]);
    assert_eq!(app.call("update_project", &published, Some(&owner.cookie)).await.status(), StatusCode::OK);
    let archived = input(&[("project_id", &project), ("archived", "true")]);
    assert_eq!(app.call("archive_project", &archived, Some(&owner.cookie)).await.status(), StatusCode::OK);

    let log = page(&app, &owner.cookie, &[]).await;
    let detail_of = |event: &str| -> String {
        let found = entries(&log).iter().find(|e| e["event"] == event);
        found.unwrap_or_else(|| panic!("no {event} in {log}"))["detail"].as_str().expect("detail").to_owned()
    };
    assert!(detail_of("project_created").contains("(public)"));
    assert!(detail_of("project_member_added").contains(&guest.email));
    assert!(detail_of("project_member_removed").contains(&guest.user_id));
    assert!(detail_of("project_changed").contains("published false -> true"), "{}", detail_of("project_changed"));
    assert!(detail_of("project_archived").ends_with("archived"));
}

/// Every destructive door leaves an entry naming what went by its issue's key (not an id nobody
/// can read), and by whom: deleting an issue, a comment (another member's, by an admin), a file, and
/// removing someone from a project and from the team.
#[tokio::test]
async fn every_destructive_action_is_audited_with_the_issue_key() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("destroy").await;
    let member = app.new_member(&owner.cookie, "NORMAL").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    app.add_to_project(&owner.cookie, &project, &member.user_id).await;
    let doomed = app.issue(&owner.cookie, &project, "internal").await;
    let kept = app.issue(&owner.cookie, &project, "public").await;
    let comment = app.comment(&member.cookie, &kept.id, "Member's note", true).await;
    let file = app.attach(&owner.cookie, &kept.id).await;

    let calls = [
        ("delete_issue", input(&[("issue_id", &doomed.id)])),
        ("delete_comment", input(&[("comment_id", &comment)])),
        ("delete_attachment", input(&[("attachment_id", &file)])),
        ("remove_project_member", input(&[("project_id", &project), ("user_id", &member.user_id)])),
        ("remove_member", input(&[("user_id", &member.user_id)])),
    ];
    for (endpoint, form) in &calls {
        let response = app.call(endpoint, form, Some(&owner.cookie)).await;
        assert_eq!(response.status(), StatusCode::OK, "{endpoint}");
    }

    let log = page(&app, &owner.cookie, &[]).await;
    let detail_of = |event: &str| -> String {
        let found = entries(&log).iter().find(|e| e["event"] == event);
        let entry = found.unwrap_or_else(|| panic!("no {event} in {log}"));
        assert_eq!(entry["actor_id"], owner.user_id.as_str(), "{event} names who acted");
        entry["detail"].as_str().expect("detail").to_owned()
    };
    assert_eq!(detail_of("issue_deleted"), format!("{} {:?}", doomed.reference, doomed.title));
    assert_eq!(detail_of("comment_deleted"), format!("internal comment by Invitee on {}", kept.reference));
    assert_eq!(detail_of("attachment_deleted"), format!("notes.txt on {}", kept.reference));
    let removed = detail_of("project_member_removed");
    assert!(removed.contains(&member.email) && removed.contains(&member.user_id), "{removed}");
    assert_eq!(detail_of("member_removed"), format!("{} (Member)", member.email));

    // A door that refuses destroys nothing and records no deletion: a member deleting the owner's
    // issue, and anyone deleting what is already gone.
    let second = app.issue(&owner.cookie, &project, "public").await;
    let other = app.new_member(&owner.cookie, "NORMAL").await;
    let refused = app.call("delete_issue", &input(&[("issue_id", &second.id)]), Some(&other.cookie)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let again = app.call("delete_issue", &input(&[("issue_id", &doomed.id)]), Some(&owner.cookie)).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let log = page(&app, &owner.cookie, &[("event", "issue_deleted")]).await;
    assert_eq!(entries(&log).len(), 1, "{log}");
}
