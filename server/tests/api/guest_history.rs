//! T5 for text that changed: a guest never reads what was written while an issue was internal (its
//! history), nor an internal comment's text, however the issue or comment changed afterwards; not in
//! the issue page, the list search, the CSV export or the published pages.

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    helpers::{input, TestApp, TestIssue},
    issues::{setup, Setup},
};

const SECRET_TITLE: &str = "Internal title SECRET-T";
const SECRET_TEXT: &str = "Customer data SECRET-D: card 4111 1111 1111 1111";

async fn detail(app: &TestApp, cookie: &str, reference: &str) -> (StatusCode, Value) {
    let (key, number) = reference.split_once('-').expect("KEY-n");
    let response = app.call("get_issue", &input(&[("key", key), ("number", number)]), Some(cookie)).await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Saves an issue with these fields (the rest at their defaults) and its current status.
async fn save(app: &TestApp, cookie: &str, issue: &TestIssue, fields: &[(&str, &str)]) {
    let (_, current) = detail(app, cookie, &issue.reference).await;
    let status = current["issue"]["status"]["id"].as_str().expect("status").to_owned();
    let mut form = vec![("input[issue_id]".to_owned(), issue.id.clone()), ("input[status_id]".to_owned(), status)];
    form.extend(fields.iter().map(|(k, v)| (format!("input[fields][{k}]"), (*v).to_owned())));
    let response = app.call("update_issue", &form, Some(cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "update {fields:?}");
}

/// The fields named by an issue's history, sorted (changes saved together share their time).
fn history_fields(detail: &Value) -> Vec<String> {
    let mut fields: Vec<String> = detail["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["field"].as_str().expect("field").to_owned())
        .collect();
    fields.sort();
    fields
}

/// An internal issue holding the secrets, rewritten while internal, then made public, then changed.
async fn issue_published_after_rewrite(s: &Setup) -> TestIssue {
    let app = &s.app;
    let mut issue = app.issue(&s.owner.cookie, &s.project, "internal").await;
    save(app, &s.owner.cookie, &issue, &[("title", SECRET_TITLE), ("description", SECRET_TEXT)]).await;
    save(app, &s.owner.cookie, &issue, &[("title", "Login fails"), ("description", "Steps to reproduce")]).await;
    let public = [("title", "Login fails"), ("description", "Steps to reproduce"), ("visibility", "public")];
    save(app, &s.owner.cookie, &issue, &public).await;
    let triaged = [
        ("title", "Login fails"),
        ("description", "Steps to reproduce"),
        ("visibility", "public"),
        ("severity", "high"),
    ];
    save(app, &s.owner.cookie, &issue, &triaged).await;
    issue.title = "Login fails".into();
    issue
}

#[tokio::test]
async fn a_guest_never_reads_history_from_before_an_issue_was_public() {
    let s = setup().await;
    let app = &s.app;
    let issue = issue_published_after_rewrite(&s).await;

    // Members see every change, the secrets included: the test data really holds them.
    let (_, staff) = detail(app, &s.normal.cookie, &issue.reference).await;
    let staff_text = staff["history"].to_string();
    assert!(staff_text.contains("SECRET-T") && staff_text.contains("SECRET-D"), "{staff_text}");

    let (status, seen) = detail(app, &s.guest.cookie, &issue.reference).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history_fields(&seen), ["severity"], "only the change made while public: {seen}");
    let text = seen.to_string();
    assert!(!text.contains("SECRET"), "a guest read internal text: {text}");
}

#[tokio::test]
async fn a_guest_never_reads_values_written_in_the_change_that_made_an_issue_public() {
    let s = setup().await;
    let app = &s.app;
    let issue = app.issue(&s.owner.cookie, &s.project, "internal").await;
    save(app, &s.owner.cookie, &issue, &[("title", SECRET_TITLE), ("description", SECRET_TEXT)]).await;
    // One save rewrites the text and publishes the issue: its old values were written while internal.
    save(app, &s.owner.cookie, &issue, &[("title", "Clean title"), ("visibility", "public")]).await;
    let (_, seen) = detail(app, &s.guest.cookie, &issue.reference).await;
    assert_eq!(history_fields(&seen), Vec::<String>::new(), "{seen}");
    assert!(!seen.to_string().contains("SECRET"));

    // Back to internal, changed, and public again: nothing of the internal stretch shows.
    save(app, &s.owner.cookie, &issue, &[("title", "Clean title"), ("visibility", "internal")]).await;
    save(app, &s.owner.cookie, &issue, &[("title", "Clean title"), ("description", SECRET_TEXT)]).await;
    let republished = [("title", "Clean title"), ("description", "Public words"), ("visibility", "public")];
    save(app, &s.owner.cookie, &issue, &republished).await;
    let (_, seen) = detail(app, &s.guest.cookie, &issue.reference).await;
    assert_eq!(history_fields(&seen), Vec::<String>::new(), "{seen}");
    assert!(!seen.to_string().contains("SECRET"));
    let (_, staff) = detail(app, &s.owner.cookie, &issue.reference).await;
    assert!(staff["history"].to_string().contains("SECRET-D"), "members keep the whole history: {staff}");
}

#[tokio::test]
async fn a_guest_reads_the_whole_history_of_their_own_report() {
    let s = setup().await;
    let app = &s.app;
    let report = app.issue(&s.guest.cookie, &s.project, "public").await;
    // Guests' reports stay internal, but were always visible to their reporter.
    let fields = [("title", "Crash on save"), ("severity", "critical")];
    save(app, &s.owner.cookie, &report, &fields).await;
    let (_, seen) = detail(app, &s.guest.cookie, &report.reference).await;
    assert_eq!(history_fields(&seen), ["severity", "title"], "{seen}");
}

#[tokio::test]
async fn a_guest_never_reads_an_internal_comments_text_after_it_was_edited_deleted_or_republished() {
    let s = setup().await;
    let app = &s.app;
    let issue = app.issue(&s.owner.cookie, &s.project, "public").await;
    let internal = app.comment(&s.owner.cookie, &issue.id, "Internal note SECRET-C", true).await;
    let doomed = app.comment(&s.owner.cookie, &issue.id, "Internal note SECRET-X", true).await;
    let public = app.comment(&s.owner.cookie, &issue.id, "First draft SECRET-P", false).await;

    // Edits try to make the internal comment public: a comment's visibility is fixed when posted.
    for smuggled in [("internal", "false"), ("visibility", "public")] {
        let form = input(&[("comment_id", &internal), ("body", "Now public? SECRET-C2"), smuggled]);
        assert_eq!(app.call("edit_comment", &form, Some(&s.owner.cookie)).await.status(), StatusCode::OK);
    }
    let deleted = app.call("delete_comment", &input(&[("comment_id", &doomed)]), Some(&s.owner.cookie)).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    let edit = input(&[("comment_id", &public), ("body", "Final answer")]);
    assert_eq!(app.call("edit_comment", &edit, Some(&s.owner.cookie)).await.status(), StatusCode::OK);

    let (_, seen) = detail(app, &s.guest.cookie, &issue.reference).await;
    let bodies: Vec<&str> =
        seen["comments"].as_array().expect("comments").iter().filter_map(|c| c["body"].as_str()).collect();
    assert_eq!(bodies, ["Final answer"], "{seen}");
    assert!(!seen.to_string().contains("SECRET"), "{seen}");
    let (_, staff) = detail(app, &s.normal.cookie, &issue.reference).await;
    let staff_bodies: Vec<&str> =
        staff["comments"].as_array().expect("comments").iter().filter_map(|c| c["body"].as_str()).collect();
    assert_eq!(staff_bodies, ["Now public? SECRET-C2", "Final answer"], "members see the internal one");
    // The deleted comment is gone for everyone, and no earlier text of an edited one is kept.
    assert!(!staff.to_string().contains("SECRET-X") && !staff.to_string().contains("SECRET-P"));
}

async fn listed(app: &TestApp, cookie: &str, project: &str, q: &str) -> Vec<String> {
    let form =
        vec![("input[project_id]".to_owned(), project.to_owned()), ("input[filter][q]".to_owned(), q.to_owned())];
    let page: Value = app.call("list_issues", &form, Some(cookie)).await.json().await.expect("json");
    page["issues"].as_array().expect("issues").iter().map(|i| i["title"].as_str().expect("title").to_owned()).collect()
}

async fn csv(app: &TestApp, cookie: Option<&str>, project: &str) -> String {
    let mut request = app.http.get(app.url(&format!("/export/issues.csv?project={project}")));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.expect("csv")
}

#[tokio::test]
async fn hidden_history_and_comments_are_not_found_by_search_or_csv() {
    let s = setup().await;
    let app = &s.app;
    let issue = issue_published_after_rewrite(&s).await;
    app.comment(&s.owner.cookie, &issue.id, "Internal note SECRET-C", true).await;

    for secret in ["SECRET-T", "SECRET-D", "SECRET-C", "4111"] {
        assert_eq!(listed(app, &s.guest.cookie, &s.project, secret).await, Vec::<String>::new(), "q={secret}");
    }
    assert_eq!(listed(app, &s.guest.cookie, &s.project, "Login").await, ["Login fails"], "the search works");
    let export = csv(app, Some(&s.guest.cookie), &s.project).await;
    assert!(export.contains("Login fails"), "{export}");
    assert!(!export.contains("SECRET") && !export.contains("4111"), "{export}");
}

#[tokio::test]
async fn published_pages_show_no_history_and_no_internal_text() {
    let s = setup().await;
    let project = s.app.published_project(&s.owner.cookie).await;
    let s = Setup { project: project.clone(), ..s };
    let app = &s.app;
    let issue = issue_published_after_rewrite(&s).await;
    app.comment(&s.owner.cookie, &issue.id, "Internal note SECRET-C", true).await;
    app.comment(&s.owner.cookie, &issue.id, "Public note", false).await;
    let number = issue.reference.split_once('-').expect("ref").1;

    let response = app.call("published_issue", &input(&[("project_id", &project), ("number", number)]), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let seen: Value = response.json().await.expect("json");
    assert_eq!(seen["history"].as_array().map(Vec::len), Some(0), "anonymous readers see no history");
    assert_eq!(seen["comments"].as_array().map(Vec::len), Some(1));
    assert!(!seen.to_string().contains("SECRET"), "{seen}");
    let list: Value =
        app.call("published_issues", &input(&[("project_id", &project)]), None).await.json().await.expect("json");
    assert!(list.to_string().contains("Login fails") && !list.to_string().contains("SECRET"), "{list}");
}
