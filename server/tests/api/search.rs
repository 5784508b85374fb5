//! Search reads an issue's tags and the comments the reader may read as well as its title and
//! description (migrations 0027 and 0028 copy them beside the issue, kept by triggers): every write
//! of a tag or a comment must reach it, and a guest's search, by the list or the palette, must never
//! match the text of an internal comment.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{input, spawn_app, TestApp};

/// Files an issue and answers it as the server gave it.
async fn file(app: &TestApp, cookie: &str, project: &str, fields: &[(&str, &str)]) -> Value {
    let mut form = vec![("input[project_id]".to_owned(), project.to_owned())];
    form.extend(fields.iter().map(|(name, value)| (format!("input[fields][{name}]"), (*value).to_owned())));
    let response = app.call("create_issue", &form, Some(cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "create {fields:?}");
    response.json().await.expect("json")
}

/// The titles the project's list finds for `q`, sorted.
async fn listed(app: &TestApp, cookie: &str, project: &str, q: &str) -> Vec<String> {
    let form =
        vec![("input[project_id]".to_owned(), project.to_owned()), ("input[filter][q]".to_owned(), q.to_owned())];
    let response = app.call("list_issues", &form, Some(cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "search {q}");
    let page: Value = response.json().await.expect("json");
    let mut titles: Vec<String> =
        page["issues"].as_array().expect("issues").iter().map(|i| i["title"].as_str().expect("t").to_owned()).collect();
    titles.sort();
    titles
}

/// The titles the palette offers for `q`, in its order.
async fn jumped(app: &TestApp, cookie: &str, q: &str) -> Vec<String> {
    let response = app.call("jump_to", &input(&[("q", q)]), Some(cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "jump {q}");
    let found: Value = response.json().await.expect("json");
    found["issues"].as_array().expect("issues").iter().map(|i| i["title"].as_str().expect("t").to_owned()).collect()
}

#[tokio::test]
async fn a_search_reads_tags_and_the_comments_the_reader_may_read() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("finder").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    app.add_to_project(&owner.cookie, &project, &guest.user_id).await;
    let checkout = file(
        &app,
        &owner.cookie,
        &project,
        &[("title", "Checkout button"), ("visibility", "public"), ("tags][0", "payments")],
    )
    .await;
    let id = checkout["id"].as_str().expect("id").to_owned();
    // Newer than "Checkout button", and holding the word only in its description.
    file(
        &app,
        &owner.cookie,
        &project,
        &[("title", "Other page"), ("description", "The checkout flow"), ("visibility", "public")],
    )
    .await;
    let public = app.comment(&owner.cookie, &id, "Reproduced on Safari", false).await;
    let internal = app.comment(&owner.cookie, &id, "Customer Zanzibar escalated", true).await;
    let found = vec!["Checkout button".to_owned()];
    let none: Vec<String> = Vec::new();

    for q in ["payments", "safari", "zanzibar", "button zanzibar", "zanzibar pay", "zanzibar ch"] {
        assert_eq!(listed(&app, &owner.cookie, &project, q).await, found, "the owner's list, {q}");
    }
    for q in ["payments", "safari", "SAFARI button"] {
        assert_eq!(listed(&app, &guest.cookie, &project, q).await, found, "the guest's list, {q}");
    }
    // Through the trigram index, through LIKE (a word of two letters), and through the palette.
    for q in ["zanzibar", "button zanzibar", "zanzibar ch", "escalated"] {
        assert_eq!(listed(&app, &guest.cookie, &project, q).await, none, "an internal comment, {q}");
    }
    for q in ["zanzibar", "button zanzibar", "escalated"] {
        assert_eq!(jumped(&app, &guest.cookie, q).await, none, "the guest's palette, {q}");
    }
    assert_eq!(jumped(&app, &owner.cookie, "zanzibar").await, found, "the owner's palette");
    assert_eq!(jumped(&app, &guest.cookie, "safari").await, found, "a public comment, in the palette");
    assert_eq!(
        jumped(&app, &owner.cookie, "checkout").await,
        ["Checkout button", "Other page"],
        "a title's match ranks above a newer issue's description"
    );

    // Every write reaches the copy: an edited comment, a deleted one, replaced tags.
    let edit = input(&[("comment_id", &internal), ("body", "Customer Quokka escalated")]);
    assert_eq!(app.call("edit_comment", &edit, Some(&owner.cookie)).await.status(), StatusCode::OK);
    assert_eq!(listed(&app, &owner.cookie, &project, "zanzibar").await, none, "the old text is gone");
    assert_eq!(listed(&app, &owner.cookie, &project, "quokka").await, found);
    assert_eq!(listed(&app, &guest.cookie, &project, "quokka").await, none);
    let delete = input(&[("comment_id", &public)]);
    assert_eq!(app.call("delete_comment", &delete, Some(&owner.cookie)).await.status(), StatusCode::OK);
    assert_eq!(listed(&app, &owner.cookie, &project, "safari").await, none, "a deleted comment is not found");
    let status = checkout["status"]["id"].as_str().expect("status").to_owned();
    let update = input(&[
        ("issue_id", &id),
        ("status_id", &status),
        ("fields][title", "Checkout button"),
        ("fields][visibility", "public"),
        ("fields][tags][0", "billing"),
    ]);
    assert_eq!(app.call("update_issue", &update, Some(&owner.cookie)).await.status(), StatusCode::OK);
    assert_eq!(listed(&app, &owner.cookie, &project, "payments").await, none, "a removed tag is not found");
    assert_eq!(listed(&app, &guest.cookie, &project, "billing").await, found);
}

/// Comments posted at the same moment on one issue each reach its searchable text: the copy is made
/// under the issue's lock (`PostgreSQL`), or by the single writer (`SQLite`), never from a stale read.
#[tokio::test]
async fn comments_posted_at_once_are_all_found() {
    let app = std::sync::Arc::new(spawn_app().await);
    let (owner, _) = app.owner("crowd").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let issue = app.issue(&owner.cookie, &project, "public").await;
    let words: Vec<String> = (0..12).map(|n| format!("marker{n}x")).collect();
    let posts: Vec<_> = words
        .iter()
        .enumerate()
        .map(|(n, word)| {
            let (app, cookie, issue, word) = (app.clone(), owner.cookie.clone(), issue.id.clone(), word.clone());
            // Half of them internal, so that both copies are written at once.
            tokio::spawn(async move { app.comment(&cookie, &issue, &word, n % 2 == 0).await })
        })
        .collect();
    for post in posts {
        post.await.expect("comment task");
    }
    for word in &words {
        assert_eq!(listed(&app, &owner.cookie, &project, word).await.len(), 1, "{word} is found");
    }
}

/// `SQLite`'s full-text index is keyed by team (migration 0036) and each search reads its team's range:
/// teams that sign up one after another and file issues with the same word at once each find only
/// their own, in the palette newest first, a team signing up later included; an edit and a delete
/// leave the index as they leave the issues; and the index agrees with the issues (FTS5's own check).
#[tokio::test]
async fn each_team_searches_only_its_own_issues_through_edits_and_deletes() {
    let app = spawn_app().await;
    let mut teams = Vec::new();
    for name in ["first", "second", "third"] {
        let (owner, _) = app.owner(name).await;
        let (project, _) = app.project(&owner.cookie, "public").await;
        teams.push((name, owner, project));
    }
    let mut filed = Vec::new();
    for n in 0..4 {
        for (name, owner, project) in &teams {
            filed.push(file(&app, &owner.cookie, project, &[("title", &format!("Wombat {name} {n}"))]).await);
        }
    }
    for (name, owner, project) in &teams {
        let newest_first: Vec<String> = (0..4).rev().map(|n| format!("Wombat {name} {n}")).collect();
        assert_eq!(jumped(&app, &owner.cookie, "wombat").await, newest_first, "{name}'s palette");
        let mut sorted = newest_first.clone();
        sorted.sort();
        assert_eq!(listed(&app, &owner.cookie, project, "wombat").await, sorted, "{name}'s list");
    }

    let (late, _) = app.owner("late").await;
    let (late_project, _) = app.project(&late.cookie, "public").await;
    let late_issue = file(&app, &late.cookie, &late_project, &[("title", "Wombat late 0")]).await;
    assert_eq!(jumped(&app, &late.cookie, "wombat").await, vec!["Wombat late 0"], "a later team's palette");
    let late_id = late_issue["id"].as_str().expect("id");
    let deleted = app.call("delete_issue", &input(&[("issue_id", late_id)]), Some(&late.cookie)).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert!(jumped(&app, &late.cookie, "wombat").await.is_empty(), "a deleted issue is not found");

    // The first team's newest issue (filed[9]) renamed.
    let (_, first_owner, first_project) = &teams[0];
    let renamed = &filed[9];
    let update = input(&[
        ("issue_id", renamed["id"].as_str().expect("id")),
        ("status_id", renamed["status"]["id"].as_str().expect("status")),
        ("fields][title", "Numbat first 3"),
        ("fields][visibility", "public"),
    ]);
    assert_eq!(app.call("update_issue", &update, Some(&first_owner.cookie)).await.status(), StatusCode::OK);
    assert_eq!(
        jumped(&app, &first_owner.cookie, "wombat").await,
        ["Wombat first 2", "Wombat first 1", "Wombat first 0"]
    );
    assert_eq!(listed(&app, &first_owner.cookie, first_project, "numbat").await, ["Numbat first 3"]);
    assert!(jumped(&app, &teams[1].1.cookie, "numbat").await.is_empty(), "another team's rename is not found");

    if app.database_url.starts_with("sqlite:") {
        let mut conn = app.db().await;
        let outside: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM issues i JOIN teams t ON t.id = i.team_id \
             WHERE i.search_key IS NULL OR i.search_key / 4294967296 <> t.search_base",
        )
        .fetch_one(&mut conn)
        .await
        .expect("keys");
        assert_eq!(outside, 0, "every issue's search key lies in its team's range");
        sqlx::query("INSERT INTO issue_text (issue_text, rank) VALUES ('integrity-check', 1)")
            .execute(&mut conn)
            .await
            .expect("the full-text index matches the issues");
    }
}

/// An issue `SQLite`'s full-text index is missing, as one is that the release before migration 0036
/// created during a rolling upgrade (it indexed it by its rowid, outside every team's range), is
/// found again once the sweeper's step has run; a complete index is left alone.
#[tokio::test]
async fn issues_missing_from_the_full_text_index_are_indexed_again() {
    let app = spawn_app().await;
    if !app.database_url.starts_with("sqlite:") {
        return; // FTS5 is SQLite's.
    }
    let (owner, _) = app.owner("owner").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    for title in ["Platypus one", "Platypus two"] {
        file(&app, &owner.cookie, &project, &[("title", title)]).await;
    }
    let mut conn = app.db().await;
    sqlx::query(
        "INSERT INTO issue_text (issue_text, rowid, title, description, search_public, search_internal) \
         SELECT 'delete', search_key, title, description, search_public, search_internal FROM issues \
         WHERE title = 'Platypus one'",
    )
    .execute(&mut conn)
    .await
    .expect("take one issue out of the index");
    assert_eq!(jumped(&app, &owner.cookie, "platypus").await, ["Platypus two"]);

    let db = server::db::Db::connect(&app.database_url).await.expect("connect");
    assert_eq!(server::db::issues::index_missing_text(&db).await.expect("index"), 1);
    assert_eq!(server::db::issues::index_missing_text(&db).await.expect("index"), 0, "nothing left to index");
    assert_eq!(jumped(&app, &owner.cookie, "platypus").await, ["Platypus two", "Platypus one"]);
    sqlx::query("INSERT INTO issue_text (issue_text, rank) VALUES ('integrity-check', 1)")
        .execute(&mut conn)
        .await
        .expect("the full-text index matches the issues");
}
