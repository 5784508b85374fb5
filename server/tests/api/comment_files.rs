//! Files attached to comments (T1, T2, T5 for them): a comment's files follow the comment. A guest
//! who may read the issue never reaches a file of an internal comment, through the issue, the link,
//! the history or the listing; only a comment's author attaches to it; deleting the comment deletes
//! its files' bytes; and the database refuses a comment's file recorded on another issue.

use reqwest::StatusCode;
use sqlx::Executor;

use crate::helpers::{input, spawn_app, TestApp, TestIssue};

struct World {
    app: TestApp,
    owner: String,
    guest: String,
    normal: String,
    issue: TestIssue,
}

async fn world() -> World {
    let app = spawn_app().await;
    assert!(app.scans, "the upload tests need clamd: run scripts/test, or set MOTH_TEST_CLAMD_URL");
    let (owner, _) = app.owner("comments").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    app.add_to_project(&owner.cookie, &project, &guest.user_id).await;
    let normal = app.new_member(&owner.cookie, "NORMAL").await;
    app.add_to_project(&owner.cookie, &project, &normal.user_id).await;
    World { app, owner: owner.cookie, guest: guest.cookie, normal: normal.cookie, issue }
}

impl World {
    async fn detail_text(&self, cookie: &str) -> (StatusCode, String) {
        let (key, number) = self.issue.reference.split_once('-').expect("KEY-n");
        let response = self.app.call("get_issue", &input(&[("key", key), ("number", number)]), Some(cookie)).await;
        (response.status(), response.text().await.expect("body"))
    }

    async fn link_status(&self, cookie: &str, attachment: &str) -> StatusCode {
        self.app.call("attachment_link", &input(&[("attachment_id", attachment)]), Some(cookie)).await.status()
    }
}

#[tokio::test]
async fn a_guest_reaches_no_file_of_an_internal_comment_anywhere() {
    let w = world().await;
    let internal = w.app.comment(&w.owner, &w.issue.id, "Stack trace attached", true).await;
    let secret = w.app.attach_to_comment(&w.owner, &internal, "secret-heap-dump.txt").await;
    let public = w.app.comment(&w.owner, &w.issue.id, "Screenshot attached", false).await;
    let shown = w.app.attach_to_comment(&w.owner, &public, "public-notes.txt").await;

    // Members see both files, each on its comment; the issue's own list has neither.
    let (status, member_view) = w.detail_text(&w.normal).await;
    assert_eq!(status, StatusCode::OK);
    let detail: serde_json::Value = serde_json::from_str(&member_view).expect("json");
    let files_of = |comment: &str| -> Vec<String> {
        let comments = detail["comments"].as_array().expect("comments");
        let found = comments.iter().find(|c| c["id"] == comment).expect("comment");
        found["attachments"]
            .as_array()
            .expect("files")
            .iter()
            .map(|a| a["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(files_of(&internal), ["secret-heap-dump.txt"]);
    let with_link = detail["comments"].as_array().expect("comments").iter().find(|c| c["id"] == internal.as_str());
    let url = with_link.expect("comment")["attachments"][0]["link"]["url"].as_str().expect("link").to_owned();
    assert_eq!(w.app.http.get(&url).send().await.expect("get").status(), StatusCode::OK);
    assert_eq!(files_of(&public), ["public-notes.txt"]);
    let listed = w.app.call("list_attachments", &input(&[("issue_id", &w.issue.id)]), Some(&w.normal)).await;
    assert_eq!(listed.json::<serde_json::Value>().await.expect("json").as_array().map(Vec::len), Some(0));
    assert_eq!(w.link_status(&w.normal, &secret).await, StatusCode::OK);

    // The guest: the public comment's file, nothing of the other, in any answer.
    let (status, guest_view) = w.detail_text(&w.guest).await;
    assert_eq!(status, StatusCode::OK);
    assert!(guest_view.contains("public-notes.txt"), "{guest_view}");
    assert!(!guest_view.contains("secret-heap-dump"), "the guest read an internal file's name: {guest_view}");
    assert!(!guest_view.contains(&secret), "the guest read an internal file's id");
    assert_eq!(w.link_status(&w.guest, &shown).await, StatusCode::OK);
    assert_eq!(w.link_status(&w.guest, &secret).await, StatusCode::NOT_FOUND);
    let delete = w.app.call("delete_attachment", &input(&[("attachment_id", &secret)]), Some(&w.guest)).await;
    assert_eq!(delete.status(), StatusCode::NOT_FOUND);
    let attach = w.app.upload_to_comment(Some(&w.guest), &internal, "notes.txt", b"x".to_vec()).await;
    assert_eq!(attach.status(), StatusCode::NOT_FOUND);

    // Removing the internal file is not told in the history either.
    let removed = w.app.call("delete_attachment", &input(&[("attachment_id", &secret)]), Some(&w.owner)).await;
    assert_eq!(removed.status(), StatusCode::OK);
    let (_, guest_view) = w.detail_text(&w.guest).await;
    assert!(!guest_view.contains("secret-heap-dump"), "{guest_view}");
    let (_, owner_view) = w.detail_text(&w.owner).await;
    assert!(owner_view.contains("public-notes.txt"), "the public file's adding is in the history");

    // Another team: not found, whatever the comment.
    let (other, _) = w.app.owner("other").await;
    let foreign = w.app.upload_to_comment(Some(&other.cookie), &public, "notes.txt", b"x".to_vec()).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(w.link_status(&other.cookie, &shown).await, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_a_comments_author_attaches_to_it_and_its_files_go_with_it() {
    let w = world().await;
    let guests_comment = w.app.comment(&w.guest, &w.issue.id, "It happens here too", false).await;
    let file = w.app.attach_to_comment(&w.guest, &guests_comment, "console.log").await;
    let owners_try = w.app.upload_to_comment(Some(&w.owner), &guests_comment, "notes.txt", b"x".to_vec()).await;
    assert_eq!(owners_try.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        w.app.upload_to_comment(None, &guests_comment, "a.txt", b"x".to_vec()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(w.link_status(&w.owner, &file).await, StatusCode::OK);
    let url: serde_json::Value = w
        .app
        .call("attachment_link", &input(&[("attachment_id", &file)]), Some(&w.owner))
        .await
        .json()
        .await
        .expect("json");
    let url = url["url"].as_str().expect("url").to_owned();
    assert_eq!(w.app.stored_objects().len(), 1);

    let deleted = w.app.call("delete_comment", &input(&[("comment_id", &guests_comment)]), Some(&w.owner)).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert!(w.app.stored_objects().is_empty(), "the comment's file stayed in storage");
    assert_eq!(w.link_status(&w.owner, &file).await, StatusCode::NOT_FOUND);
    assert_eq!(w.app.http.get(&url).send().await.expect("get").status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_database_refuses_a_comments_file_on_another_issue() {
    let w = world().await;
    let comment = w.app.comment(&w.owner, &w.issue.id, "On the first issue", false).await;
    let file = w.app.attach_to_comment(&w.owner, &comment, "notes.txt").await;
    let listed: serde_json::Value = w.app.call("list_projects", &[], Some(&w.owner)).await.json().await.expect("json");
    let other_issue = w.app.issue(&w.owner, listed[0]["id"].as_str().expect("project"), "public").await;
    let mut db = w.app.db().await;
    let copy = format!(
        "INSERT INTO attachments (id, team_id, issue_id, comment_id, name, content_type, size, storage_key, key_id, \
         wrapped_key, uploaded_by, created_at) SELECT '00000000-0000-4000-8000-000000000001', team_id, '{}', \
         comment_id, name, content_type, size, 'another-key', key_id, wrapped_key, uploaded_by, created_at \
         FROM attachments WHERE id = '{file}'",
        other_issue.id
    );
    assert!(db.execute(copy.as_str()).await.is_err(), "a comment's file was recorded on another issue");
}
