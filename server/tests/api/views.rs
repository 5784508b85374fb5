//! Saved views: a filter and order kept under a name, personal or shared with the team's members. A
//! guest never sees a shared view (its name and filter are the team's words), nobody sees another's
//! personal view, and a view opens under its reader's own read scope.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{error_body, input, Person, TestApp};

/// `cookie` saves a view of `project` named `name` (shared or not) listing high-severity issues
/// with "login", by priority: the server's answer.
async fn save(app: &TestApp, cookie: &str, project: &str, name: &str, shared: bool) -> reqwest::Response {
    let form = input(&[
        ("project_id", project),
        ("name", name),
        ("view][filter][q", "login"),
        ("view][filter][severity", "high"),
        ("view][sort", "priority"),
        ("shared", if shared { "true" } else { "false" }),
    ]);
    app.call("save_view", &form, Some(cookie)).await
}

/// The views `cookie`'s session sees in the project with `key`, as (name, shared, deletable).
async fn views_of(app: &TestApp, cookie: &str, key: &str) -> Vec<(String, bool, bool)> {
    let response = app.call("open_project", &input(&[("key", key)]), Some(cookie)).await;
    assert_eq!(response.status(), StatusCode::OK, "open {key}");
    let page: Value = response.json().await.expect("json");
    page["views"]
        .as_array()
        .expect("views")
        .iter()
        .map(|v| {
            let name = v["name"].as_str().expect("name").to_owned();
            (name, v["shared"].as_bool().expect("shared"), v["deletable"].as_bool().expect("deletable"))
        })
        .collect()
}

/// The id of the view named `name` in a `save_view`/`delete_view` answer.
async fn id_of(response: reqwest::Response, name: &str) -> String {
    assert_eq!(response.status(), StatusCode::OK, "saving {name}");
    let views: Value = response.json().await.expect("json");
    let view = views.as_array().expect("views").iter().find(|v| v["name"] == name).expect("the saved view");
    view["id"].as_str().expect("id").to_owned()
}

async fn refusal(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    error_body(response).await
}

struct Team {
    owner: Person,
    normal: Person,
    colleague: Person,
    guest: Person,
    project: String,
    key: String,
}

async fn team(app: &TestApp) -> Team {
    let (owner, _) = app.owner("viewer").await;
    let normal = app.new_member(&owner.cookie, "NORMAL").await;
    let colleague = app.new_member(&owner.cookie, "NORMAL").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    let (project, key) = app.project(&owner.cookie, "public").await;
    for person in [&normal, &colleague, &guest] {
        app.add_to_project(&owner.cookie, &project, &person.user_id).await;
    }
    Team { owner, normal, colleague, guest, project, key }
}

#[tokio::test]
async fn views_are_personal_or_shared_with_members_and_never_with_guests() {
    let app = crate::helpers::spawn_app().await;
    let t = team(&app).await;

    let mine = id_of(save(&app, &t.normal.cookie, &t.project, "Mine", false).await, "Mine").await;
    let triage = id_of(save(&app, &t.normal.cookie, &t.project, "Triage", true).await, "Triage").await;
    let guests = id_of(save(&app, &t.guest.cookie, &t.project, "Guest's", false).await, "Guest's").await;

    // The view keeps its filter and order as saved.
    let page: Value =
        app.call("open_project", &input(&[("key", &t.key)]), Some(&t.normal.cookie)).await.json().await.expect("json");
    let saved = page["views"].as_array().expect("views").iter().find(|v| v["name"] == "Mine").expect("Mine").clone();
    assert_eq!(saved["query"], "sort=priority&q=login&severity=high", "{saved}");

    // Each sees their own and, unless a guest, the shared ones; deleting is the author's, or a manager's
    // for a shared view.
    let author = vec![("Mine".to_owned(), false, true), ("Triage".to_owned(), true, true)];
    assert_eq!(views_of(&app, &t.normal.cookie, &t.key).await, author);
    assert_eq!(views_of(&app, &t.colleague.cookie, &t.key).await, vec![("Triage".to_owned(), true, false)]);
    assert_eq!(views_of(&app, &t.owner.cookie, &t.key).await, vec![("Triage".to_owned(), true, true)]);
    assert_eq!(views_of(&app, &t.guest.cookie, &t.key).await, vec![("Guest's".to_owned(), false, true)]);

    // A guest may not share, and cannot reach a shared view or another's personal one by its id.
    let refused = refusal(save(&app, &t.guest.cookie, &t.project, "Ours", true).await, StatusCode::FORBIDDEN).await;
    assert_eq!(refused["message"], "Guests save views for themselves only.");
    for id in [&mine, &triage] {
        let response = app.call("delete_view", &input(&[("view_id", id)]), Some(&t.guest.cookie)).await;
        assert_eq!(refusal(response, StatusCode::NOT_FOUND).await["code"], "not_found");
    }
    // A colleague sees the shared view but may not delete it, and does not see the personal ones.
    let response = app.call("delete_view", &input(&[("view_id", &triage)]), Some(&t.colleague.cookie)).await;
    assert_eq!(refusal(response, StatusCode::FORBIDDEN).await["code"], "forbidden");
    for id in [&mine, &guests] {
        let response = app.call("delete_view", &input(&[("view_id", id)]), Some(&t.colleague.cookie)).await;
        assert_eq!(refusal(response, StatusCode::NOT_FOUND).await["code"], "not_found");
    }
    // Another team reaches nothing: not the views, not the project to save one in.
    let (stranger, _) = app.owner("stranger").await;
    let response = app.call("delete_view", &input(&[("view_id", &triage)]), Some(&stranger.cookie)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = save(&app, &stranger.cookie, &t.project, "Theirs", false).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(views_of(&app, &t.normal.cookie, &t.key).await, author, "refusals changed nothing");

    // The owner deletes the shared view; the audit log names it.
    let response = app.call("delete_view", &input(&[("view_id", &triage)]), Some(&t.owner.cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(views_of(&app, &t.normal.cookie, &t.key).await, vec![("Mine".to_owned(), false, true)]);
    let log = app.audit_export(&t.owner.cookie).await.to_string();
    assert!(log.contains("view_deleted"), "{log}");
    assert!(log.contains(&format!("shared view \\\"Triage\\\" of {}", t.key)), "{log}");
}

#[tokio::test]
async fn names_are_checked_duplicates_refused_and_each_person_keeps_a_bounded_number() {
    let app = crate::helpers::spawn_app().await;
    let t = team(&app).await;

    let refused =
        refusal(save(&app, &t.normal.cookie, &t.project, "   ", false).await, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = refused.await;
    assert_eq!(refused["fields"][0]["field"], "name", "{refused}");
    assert_eq!(refused["fields"][0]["message"], "Name the view.");
    let long = "v".repeat(61);
    let refused =
        refusal(save(&app, &t.normal.cookie, &t.project, &long, false).await, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.await["fields"][0]["message"], "Use at most 60 characters.");
    // The filter follows the list's own rules.
    let mut form = input(&[("project_id", &t.project), ("name", "Long search")]);
    form.push(("input[view][filter][q]".to_owned(), "x".repeat(201)));
    let response = app.call("save_view", &form, Some(&t.normal.cookie)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // One name per person (trimmed), and one among the shared views.
    id_of(save(&app, &t.normal.cookie, &t.project, "Open bugs", true).await, "Open bugs").await;
    let again = save(&app, &t.normal.cookie, &t.project, " Open bugs ", false).await;
    let refused = refusal(again, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["fields"][0]["message"], "You already have a view of this project with this name.");
    let theirs = save(&app, &t.colleague.cookie, &t.project, "Open bugs", true).await;
    let refused = refusal(theirs, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["fields"][0]["message"], "You or a shared view of this project already use this name.");
    // A personal view may share a name with someone else's shared one.
    id_of(save(&app, &t.colleague.cookie, &t.project, "Open bugs", false).await, "Open bugs").await;

    // Fifty views per person and project; the fifty-first is refused, and the list stays as it was.
    for n in 1..app::model::VIEWS_PER_PERSON {
        let name = format!("View {n}");
        assert_eq!(save(&app, &t.normal.cookie, &t.project, &name, false).await.status(), StatusCode::OK, "{name}");
    }
    let over = refusal(save(&app, &t.normal.cookie, &t.project, "One more", false).await, StatusCode::CONFLICT).await;
    assert_eq!(over["message"], "You keep 50 views in this project already: delete one first.");
    assert_eq!(views_of(&app, &t.normal.cookie, &t.key).await.len(), app::model::VIEWS_PER_PERSON);
    // Others are not held back by one person's views.
    id_of(save(&app, &t.colleague.cookie, &t.project, "Mine too", false).await, "Mine too").await;
}

#[tokio::test]
async fn a_view_reaches_nothing_once_its_author_leaves_the_project() {
    let app = crate::helpers::spawn_app().await;
    let t = team(&app).await;
    let mine = id_of(save(&app, &t.normal.cookie, &t.project, "Mine", false).await, "Mine").await;
    let shared = id_of(save(&app, &t.normal.cookie, &t.project, "Shared", true).await, "Shared").await;

    let form = input(&[("project_id", &t.project), ("user_id", &t.normal.user_id)]);
    assert_eq!(app.call("remove_project_member", &form, Some(&t.owner.cookie)).await.status(), StatusCode::OK);

    // The author no longer reads the project: neither its views nor a door to them.
    let response = app.call("open_project", &input(&[("key", &t.key)]), Some(&t.normal.cookie)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    for id in [&mine, &shared] {
        let response = app.call("delete_view", &input(&[("view_id", id)]), Some(&t.normal.cookie)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let response = save(&app, &t.normal.cookie, &t.project, "Another", false).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // The team still has the shared view.
    assert_eq!(views_of(&app, &t.colleague.cookie, &t.key).await, vec![("Shared".to_owned(), true, false)]);
}

#[tokio::test]
async fn a_burst_of_saves_by_one_person_stops_at_the_limit() {
    let app = std::sync::Arc::new(crate::helpers::spawn_app().await);
    let t = team(&app).await;
    let over = app::model::VIEWS_PER_PERSON + 10;
    let requests = (0..over).map(|n| {
        let (app, cookie, project) = (app.clone(), t.normal.cookie.clone(), t.project.clone());
        tokio::spawn(async move { save(&app, &cookie, &project, &format!("Burst {n}"), false).await.status() })
    });
    let mut statuses = Vec::new();
    for request in requests.collect::<Vec<_>>() {
        statuses.push(request.await.expect("save"));
    }
    let saved = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((saved, refused), (app::model::VIEWS_PER_PERSON, 10), "{statuses:?}");
    assert_eq!(views_of(&app, &t.normal.cookie, &t.key).await.len(), app::model::VIEWS_PER_PERSON);
}
