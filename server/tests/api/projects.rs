//! Projects: who sees which (T5 for projects), guests only in public projects, settings rules, keys
//! unique per team, and another team's projects indistinguishable from missing ones (T1).

use reqwest::StatusCode;
use sqlx::Executor;

use crate::helpers::{error_body, input, spawn_app, TestApp};

async fn visible_keys(app: &TestApp, cookie: &str) -> Vec<String> {
    let list: serde_json::Value = app.call("list_projects", &[], Some(cookie)).await.json().await.expect("json");
    let mut keys: Vec<String> =
        list.as_array().expect("list").iter().map(|p| p["key"].as_str().expect("key").to_owned()).collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn each_role_sees_exactly_the_projects_it_should() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;
    let admin = app.new_member(&owner.cookie, "ADMIN").await;
    let normal = app.new_member(&owner.cookie, "NORMAL").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    let (private_in, private_in_key) = app.project(&owner.cookie, "private").await;
    let (_, private_out_key) = app.project(&owner.cookie, "private").await;
    let (public_in, public_in_key) = app.project(&owner.cookie, "public").await;
    let (_, public_out_key) = app.project(&owner.cookie, "public").await;
    app.add_to_project(&owner.cookie, &private_in, &normal.user_id).await;
    app.add_to_project(&owner.cookie, &public_in, &normal.user_id).await;
    app.add_to_project(&owner.cookie, &public_in, &guest.user_id).await;

    let mut all = vec![private_in_key.clone(), private_out_key.clone(), public_in_key.clone(), public_out_key.clone()];
    all.sort();
    assert_eq!(visible_keys(&app, &owner.cookie).await, all);
    assert_eq!(visible_keys(&app, &admin.cookie).await, all);
    let mut normal_sees = vec![private_in_key.clone(), public_in_key.clone()];
    normal_sees.sort();
    assert_eq!(visible_keys(&app, &normal.cookie).await, normal_sees);
    assert_eq!(visible_keys(&app, &guest.cookie).await, vec![public_in_key.clone()]);

    // Reading by key follows the same rule, and hidden projects are simply not found.
    for (cookie, key, status) in [
        (&normal.cookie, &private_out_key, StatusCode::NOT_FOUND),
        (&guest.cookie, &private_in_key, StatusCode::NOT_FOUND),
        (&guest.cookie, &public_out_key, StatusCode::NOT_FOUND),
        (&guest.cookie, &public_in_key, StatusCode::OK),
    ] {
        let response = app.call("get_project", &input(&[("key", key)]), Some(cookie)).await;
        assert_eq!(response.status(), status, "{key}");
    }
    let detail: serde_json::Value = app
        .call("get_project", &input(&[("key", &public_in_key)]), Some(&guest.cookie))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(detail["members"].as_array().map(Vec::len), Some(0), "guests do not see the member list");
    let names: Vec<&str> =
        detail["statuses"].as_array().expect("statuses").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["New", "In progress", "In review", "Done", "Closed"]);

    // A member demoted to guest no longer sees the private project, on the next request.
    app.call("change_role", &input(&[("user_id", &normal.user_id), ("role", "GUEST")]), Some(&owner.cookie)).await;
    assert_eq!(visible_keys(&app, &normal.cookie).await, vec![public_in_key]);
}

#[tokio::test]
async fn guests_join_only_public_projects_and_keep_them_public() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    let (private, _) = app.project(&owner.cookie, "private").await;
    let refused = app
        .call(
            "add_project_member",
            &input(&[("project_id", &private), ("user_id", &guest.user_id)]),
            Some(&owner.cookie),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let (public, _) = app.project(&owner.cookie, "public").await;
    app.add_to_project(&owner.cookie, &public, &guest.user_id).await;
    let make_private = input(&[("project_id", &public), ("name", "Still public"), ("visibility", "private")]);
    let conflict = app.call("update_project", &make_private, Some(&owner.cookie)).await;
    assert_eq!(conflict.status(), StatusCode::CONFLICT);
    assert!(error_body(conflict).await["message"].as_str().expect("message").contains("remove them"));
}

#[tokio::test]
async fn only_public_projects_can_be_published_and_the_database_agrees() {
    let app = spawn_app().await;
    let (owner, team) = app.owner("owner").await;
    let (private, _) = app.project(&owner.cookie, "private").await;
    let form = input(&[("project_id", &private), ("name", "N"), ("visibility", "private"), ("published", "true")]);
    let refused = app.call("update_project", &form, Some(&owner.cookie)).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_body(refused).await["fields"][0]["field"], "published");

    let mut db = app.db().await;
    let forced = db
        .execute(
            sqlx::query("UPDATE projects SET published = 1 WHERE id = $1 AND team_id = $2").bind(&private).bind(&team),
        )
        .await;
    assert!(forced.is_err(), "the CHECK constraint refuses a published private project");
}

#[tokio::test]
async fn keys_are_unique_within_a_team_only_and_checked_on_both_sides() {
    let app = spawn_app().await;
    let (a, _) = app.owner("a").await;
    let (b, _) = app.owner("b").await;
    let create = |cookie: String, key: &'static str| {
        let app = &app;
        async move { app.call("create_project", &input(&[("name", "Web"), ("key", key)]), Some(&cookie)).await }
    };
    assert_eq!(create(a.cookie.clone(), "web").await.status(), StatusCode::OK, "keys are upper-cased");
    let taken = create(a.cookie.clone(), "WEB").await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_body(taken).await["fields"][0]["field"], "key");
    assert_eq!(create(b.cookie.clone(), "WEB").await.status(), StatusCode::OK, "another team may use WEB");
    for bad in ["W", "1WEB", "WEB-1", "ABCDEFGHIJK"] {
        let response = app.call("create_project", &input(&[("name", "X"), ("key", bad)]), Some(&a.cookie)).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}

#[tokio::test]
async fn another_teams_projects_are_indistinguishable_from_missing_ones() {
    let app = spawn_app().await;
    let (owner_a, _) = app.owner("a").await;
    let admin_a = app.new_member(&owner_a.cookie, "ADMIN").await;
    let (owner_b, team_b) = app.owner("b").await;
    let member_b = app.new_member(&owner_b.cookie, "NORMAL").await;
    let mut b_projects = Vec::new();
    for visibility in ["private", "public"].iter().cycle().take(20) {
        b_projects.push(app.project(&owner_b.cookie, visibility).await);
    }
    let before = app.team_digest(&team_b).await;
    let missing_id = uuid::Uuid::new_v4().to_string();
    for cookie in [&owner_a.cookie, &admin_a.cookie] {
        let probes = |id: &str, key: &str| {
            vec![
                ("get_project", input(&[("key", key)])),
                (
                    "update_project",
                    input(&[("project_id", id), ("name", "Hijacked"), ("visibility", "public"), ("published", "true")]),
                ),
                ("archive_project", input(&[("project_id", id), ("archived", "true")])),
                ("add_project_member", input(&[("project_id", id), ("user_id", &member_b.user_id)])),
                ("remove_project_member", input(&[("project_id", id), ("user_id", &member_b.user_id)])),
            ]
        };
        let expected: Vec<(StatusCode, String)> = {
            let mut answers = Vec::new();
            for (endpoint, form) in probes(&missing_id, "ZZZZ9") {
                let r = app.call(endpoint, &form, Some(cookie)).await;
                answers.push((r.status(), r.text().await.expect("body")));
            }
            answers
        };
        for (id, key) in &b_projects {
            for ((endpoint, form), want) in probes(id, key).into_iter().zip(&expected) {
                let r = app.call(endpoint, &form, Some(cookie)).await;
                let got = (r.status(), r.text().await.expect("body"));
                assert_eq!(&got, want, "{endpoint} on team B's {key}");
            }
        }
    }
    assert_eq!(app.team_digest(&team_b).await, before);
}

#[tokio::test]
async fn admins_add_rename_and_reorder_workflow_statuses() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;
    let (project, key) = app.project(&owner.cookie, "private").await;
    let names = |cookie: String| {
        let app = &app;
        let key = key.clone();
        async move {
            let d: serde_json::Value =
                app.call("get_project", &input(&[("key", &key)]), Some(&cookie)).await.json().await.expect("json");
            d["statuses"]
                .as_array()
                .expect("s")
                .iter()
                .map(|s| (s["name"].as_str().expect("n").to_owned(), s["id"].as_str().expect("id").to_owned()))
                .collect::<Vec<_>>()
        }
    };
    let added = app
        .call(
            "add_status",
            &input(&[("project_id", &project), ("name", "Blocked"), ("category", "in_progress")]),
            Some(&owner.cookie),
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let twice = app
        .call(
            "add_status",
            &input(&[("project_id", &project), ("name", "Blocked"), ("category", "open")]),
            Some(&owner.cookie),
        )
        .await;
    assert_eq!(twice.status(), StatusCode::UNPROCESSABLE_ENTITY, "names are unique in a workflow");
    let before = names(owner.cookie.clone()).await;
    assert_eq!(before.last().map(|(n, _)| n.as_str()), Some("Blocked"));
    let blocked = before.last().expect("blocked").1.clone();
    let moved = app
        .call(
            "edit_status",
            &input(&[("status_id", &blocked), ("name", "Waiting"), ("position", "1")]),
            Some(&owner.cookie),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let after: Vec<String> = names(owner.cookie.clone()).await.into_iter().map(|(n, _)| n).collect();
    assert_eq!(after, ["New", "Waiting", "In progress", "In review", "Done", "Closed"]);

    // Another team's status is not found.
    let (other, _) = app.owner("other").await;
    let foreign = app
        .call(
            "edit_status",
            &input(&[("status_id", &blocked), ("name", "Hijacked"), ("position", "0")]),
            Some(&other.cookie),
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
}
