//! Reading across every project: the command palette (`jump_to`) and the start page (`my_work`).
//! Each reader gets exactly what their own scope reads in each project, never more.

use reqwest::StatusCode;

use crate::{
    helpers::{error_body, input, TestApp},
    issues::setup,
};

/// Files an issue titled `title` (assigned to `assignees`) and answers its id and reference.
async fn file(
    app: &TestApp,
    cookie: &str,
    project: &str,
    title: &str,
    visibility: &str,
    assignees: &[&str],
) -> (String, String) {
    let mut form = vec![
        ("input[project_id]".to_owned(), project.to_owned()),
        ("input[fields][title]".to_owned(), title.to_owned()),
        ("input[fields][visibility]".to_owned(), visibility.to_owned()),
    ];
    for (n, user) in assignees.iter().enumerate() {
        form.push((format!("input[fields][assignees][{n}]"), (*user).to_owned()));
    }
    let response = app.call("create_issue", &form, Some(cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "create {title}");
    let issue: serde_json::Value = response.json().await.expect("json");
    (issue["id"].as_str().expect("id").to_owned(), issue["reference"].as_str().expect("reference").to_owned())
}

async fn jump(app: &TestApp, cookie: Option<&str>, q: &str) -> reqwest::Response {
    app.call("jump_to", &input(&[("q", q)]), cookie).await
}

/// The titles of a list of issue summaries, sorted.
fn titles(issues: &serde_json::Value) -> Vec<String> {
    let mut titles: Vec<String> =
        issues.as_array().expect("issues").iter().map(|i| i["title"].as_str().expect("title").to_owned()).collect();
    titles.sort();
    titles
}

async fn jump_titles(app: &TestApp, cookie: &str, q: &str) -> Vec<String> {
    let response = jump(app, Some(cookie), q).await;
    assert_eq!(response.status(), StatusCode::OK, "jump to {q}");
    let found: serde_json::Value = response.json().await.expect("json");
    titles(&found["issues"])
}

/// The palette finds issues by words of their titles, by key and by number, across every project
/// the reader reads, and nothing a guest, a member of other projects or another team may not open.
#[tokio::test]
async fn the_palette_jumps_only_to_what_the_reader_may_open() {
    let s = setup().await;
    let app = &s.app;
    let owner = s.owner.cookie.as_str();
    file(app, owner, &s.project, "Parachute harness frays", "public", &[]).await;
    let (_, internal) = file(app, owner, &s.project, "Parachute audit notes", "internal", &[]).await;
    file(app, &s.guest.cookie, &s.project, "Parachute guest report", "internal", &[]).await;
    let (private_project, private_key) = app.project(owner, "private").await;
    file(app, owner, &private_project, "Parachute launch plan", "public", &[]).await;
    let (stranger, _) = app.owner("stranger").await;
    let (strangers_project, _) = app.project(&stranger.cookie, "public").await;
    file(app, &stranger.cookie, &strangers_project, "Parachute of another team", "public", &[]).await;

    let all = ["Parachute audit notes", "Parachute guest report", "Parachute harness frays", "Parachute launch plan"];
    assert_eq!(jump_titles(app, owner, "parachute").await, all);
    assert_eq!(jump_titles(app, owner, "FRAYS parach").await, ["Parachute harness frays"], "words in any order");
    assert_eq!(
        jump_titles(app, &s.normal.cookie, "parachute").await,
        [all[0], all[1], all[2]],
        "not a project they are not in"
    );
    assert_eq!(jump_titles(app, &s.guest.cookie, "parachute").await, [all[1], all[2]], "public and their own");
    assert_eq!(jump_titles(app, &s.other_guest.cookie, "parachute").await, [all[2]]);
    assert_eq!(jump_titles(app, &stranger.cookie, "parachute").await, ["Parachute of another team"]);

    // By key and by number: the same rules.
    assert_eq!(jump_titles(app, owner, &internal).await, [all[0]]);
    assert_eq!(jump_titles(app, &s.guest.cookie, &internal).await, Vec::<String>::new());
    let number = internal.split_once('-').expect("KEY-n").1;
    assert_eq!(jump_titles(app, &s.guest.cookie, number).await, Vec::<String>::new(), "number {number}");
    assert_eq!(
        jump_titles(app, owner, "1").await,
        ["Parachute harness frays", "Parachute launch plan"],
        "one per project"
    );
    assert_eq!(jump_titles(app, &stranger.cookie, &format!("{private_key}-1")).await, Vec::<String>::new());

    // Projects by key, as the reader reads them.
    let projects = |found: serde_json::Value| -> Vec<String> {
        let projects = found["projects"].as_array().expect("projects").iter();
        projects.map(|p| p["key"].as_str().expect("key").to_owned()).collect()
    };
    let by_key = format!("{private_key}-1");
    let found: serde_json::Value = jump(app, Some(owner), &by_key).await.json().await.expect("json");
    assert_eq!(projects(found), vec![private_key.clone()], "the owner finds {private_key}");
    for cookie in [&s.guest.cookie, &s.normal.cookie, &stranger.cookie] {
        let found: serde_json::Value = jump(app, Some(cookie), &by_key).await.json().await.expect("json");
        assert_eq!(projects(found), Vec::<String>::new(), "a project they do not read");
    }
    let found: serde_json::Value = jump(app, Some(owner), "team project").await.json().await.expect("json");
    assert_eq!(found["projects"].as_array().map(Vec::len), Some(2), "by words of the name: {found}");

    // Refusals: no session, too short to look up, too many words.
    assert_eq!(jump(app, None, "parachute").await.status(), StatusCode::UNAUTHORIZED);
    for q in ["pa", "parachute ha", "", &["word"; 9].join(" ")] {
        let refused = jump(app, Some(owner), q).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q:?}");
        assert_eq!(error_body(refused).await["fields"][0]["field"], "q", "{q:?}");
    }
}

/// The start page lists the reader's open issues across projects (assigned, reported) and the
/// projects where something they may read changed last; closed, deleted and no longer readable
/// issues stay off it.
#[tokio::test]
async fn the_start_page_lists_the_readers_own_open_work_across_projects() {
    let s = setup().await;
    let app = &s.app;
    let owner = s.owner.cookie.as_str();
    let normal = s.normal.user_id.as_str();
    let (second, second_key) = app.project(owner, "private").await;
    app.add_to_project(owner, &second, normal).await;
    let (left, _) = app.project(owner, "private").await;
    app.add_to_project(owner, &left, normal).await;
    file(app, owner, &s.project, "Assigned here", "internal", &[normal]).await;
    file(app, owner, &second, "Assigned there", "public", &[normal]).await;
    let (closed, closed_ref) = file(app, owner, &second, "Assigned and closed", "public", &[normal]).await;
    let (deleted, _) = file(app, owner, &second, "Assigned and deleted", "public", &[normal]).await;
    file(app, owner, &left, "Assigned where they left", "public", &[normal]).await;
    file(app, owner, &s.project, "Not theirs", "public", &[]).await;
    file(app, &s.guest.cookie, &s.project, "Reported by the guest", "internal", &[]).await;
    file(app, &s.normal.cookie, &second, "Reported by the member", "public", &[]).await;

    let workflow: serde_json::Value =
        app.call("get_project", &input(&[("key", &second_key)]), Some(owner)).await.json().await.expect("json");
    let done = workflow["statuses"][3]["id"].as_str().expect("Done").to_owned();
    assert_eq!(workflow["statuses"][3]["category"], "done", "{workflow}");
    let moved = app.call("change_status", &input(&[("issue_id", &closed), ("status_id", &done)]), Some(owner)).await;
    assert_eq!(moved.status(), StatusCode::OK, "close {closed_ref}");
    assert_eq!(app.call("delete_issue", &input(&[("issue_id", &deleted)]), Some(owner)).await.status(), StatusCode::OK);
    let removed =
        app.call("remove_project_member", &input(&[("project_id", &left), ("user_id", normal)]), Some(owner)).await;
    assert_eq!(removed.status(), StatusCode::OK);

    let work = |cookie: String| async move {
        let response = app.call("my_work", &[], Some(&cookie)).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<serde_json::Value>().await.expect("json")
    };
    let members = work(s.normal.cookie.clone()).await;
    assert_eq!(titles(&members["assigned"]), ["Assigned here", "Assigned there"]);
    assert_eq!(titles(&members["reported"]), ["Reported by the member"]);
    let recent: Vec<&str> = members["recent_projects"]
        .as_array()
        .expect("projects")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    assert_eq!(recent, [second.as_str(), s.project.as_str()], "most recent change first, only their projects");

    let guests = work(s.guest.cookie.clone()).await;
    assert_eq!(titles(&guests["assigned"]), Vec::<String>::new());
    assert_eq!(titles(&guests["reported"]), ["Reported by the guest"]);
    let recent = guests["recent_projects"].as_array().expect("projects");
    assert_eq!(recent.len(), 1, "only the public project the guest is in: {recent:?}");
    let others = work(s.other_guest.cookie.clone()).await;
    assert_eq!(titles(&others["reported"]), Vec::<String>::new(), "another guest's report is not theirs");

    assert_eq!(app.call("my_work", &[], None).await.status(), StatusCode::UNAUTHORIZED);
}
