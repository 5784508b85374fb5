//! Published projects read anonymously: only their public issues and public comments, read-only,
//! and only while published, public and not archived.

use reqwest::StatusCode;

use crate::helpers::{input, spawn_app};

#[tokio::test]
async fn anonymous_readers_see_only_public_issues_and_comments_of_published_projects() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;
    let project = app.published_project(&owner.cookie).await;
    let public = app.issue(&owner.cookie, &project, "public").await;
    let internal = app.issue(&owner.cookie, &project, "internal").await;
    let fixed = app.comment(&owner.cookie, &public.id, "Fixed in 1.2", false).await;
    app.attach_to_comment(&owner.cookie, &fixed, "fix-notes.txt").await;
    app.comment(&owner.cookie, &public.id, "Internal: caused by the vendor", true).await;

    let list: serde_json::Value =
        app.call("published_issues", &input(&[("project_id", &project)]), None).await.json().await.expect("json");
    let titles: Vec<&str> =
        list["issues"].as_array().expect("issues").iter().filter_map(|i| i["title"].as_str()).collect();
    assert_eq!(titles, [public.title.as_str()]);

    let number = |r: &str| r.split_once('-').expect("ref").1.to_owned();
    let detail = app
        .call("published_issue", &input(&[("project_id", &project), ("number", &number(&public.reference))]), None)
        .await;
    let detail = detail.text().await.expect("body");
    assert!(!detail.contains("fix-notes.txt"), "anonymous readers get no files: {detail}");
    let detail: serde_json::Value = serde_json::from_str(&detail).expect("json");
    let bodies: Vec<&str> =
        detail["comments"].as_array().expect("c").iter().filter_map(|c| c["body"].as_str()).collect();
    assert_eq!(bodies, ["Fixed in 1.2"]);
    assert_eq!(detail["history"].as_array().map(Vec::len), Some(0), "no history for anonymous readers");
    let hidden = app
        .call("published_issue", &input(&[("project_id", &project), ("number", &number(&internal.reference))]), None)
        .await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

    // Read-only: anonymous visitors cannot comment.
    let comment = app.call("add_comment", &input(&[("issue_id", &public.id), ("body", "spam")]), None).await;
    assert_eq!(comment.status(), StatusCode::UNAUTHORIZED);

    // Archiving or unpublishing closes the public address.
    let archive = input(&[("project_id", &project), ("archived", "true")]);
    assert_eq!(app.call("archive_project", &archive, Some(&owner.cookie)).await.status(), StatusCode::OK);
    let closed = app.call("published_project", &input(&[("project_id", &project)]), None).await;
    assert_eq!(closed.status(), StatusCode::NOT_FOUND);
    let restore = input(&[("project_id", &project), ("archived", "false")]);
    app.call("archive_project", &restore, Some(&owner.cookie)).await;
    assert_eq!(app.call("published_project", &input(&[("project_id", &project)]), None).await.status(), StatusCode::OK);
    let unpublish =
        input(&[("project_id", &project), ("name", "Closed"), ("visibility", "public"), ("published", "false")]);
    assert_eq!(app.call("update_project", &unpublish, Some(&owner.cookie)).await.status(), StatusCode::OK);
    let gone = app.call("published_issues", &input(&[("project_id", &project)]), None).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

/// On a published page, issue keys link to the published pages of its public issues only.
#[tokio::test]
async fn anonymous_readers_get_links_only_to_public_issues_of_the_published_project() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;
    let project = app.published_project(&owner.cookie).await;
    let public = app.issue(&owner.cookie, &project, "public").await;
    let internal = app.issue(&owner.cookie, &project, "internal").await;
    let text = format!("See {} and {}", public.reference, internal.reference);
    app.comment(&owner.cookie, &public.id, &text, false).await;

    let number = |r: &str| r.split_once('-').expect("ref").1.to_owned();
    let detail: serde_json::Value = app
        .call("published_issue", &input(&[("project_id", &project), ("number", &number(&public.reference))]), None)
        .await
        .json()
        .await
        .expect("json");
    let body = detail["comments"][0]["body_html"].as_str().expect("body");
    let public_link = format!(r#"<a href="/p/{project}/issues/{}" class="issue-ref">"#, number(&public.reference));
    assert!(body.contains(&public_link), "{body}");
    assert!(body.contains(&internal.reference), "{body}");
    assert!(!body.contains(&format!("issues/{}", number(&internal.reference))), "{body}");
    assert!(!body.contains("/projects/"), "no links into the signed-in pages: {body}");
}
