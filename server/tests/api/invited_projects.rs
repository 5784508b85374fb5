//! Invitations that name projects, and a pending invitation's new link. What an invitation makes its
//! invitee join is decided again when it is accepted, through either door (`accept_invitation`,
//! `sign_up_with_invitation`): a guest joins only projects that are public at that moment.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{error_body, fresh_email, input, TestApp};

/// `inviter` invites `email` as `role` to `projects`: the server's answer.
async fn invite_to(app: &TestApp, inviter: &str, email: &str, role: &str, projects: &[&str]) -> reqwest::Response {
    let mut form = vec![("input[email]".to_owned(), email.to_owned()), ("input[role]".to_owned(), role.to_owned())];
    for (n, project) in projects.iter().enumerate() {
        form.push((format!("input[project_ids][{n}]"), (*project).to_owned()));
    }
    app.call("invite", &form, Some(inviter)).await
}

/// The token of an invitation link the server answered.
async fn token_of(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    let created: Value = response.json().await.expect("json");
    created["path"].as_str().expect("path").trim_start_matches("/invite/").to_owned()
}

/// The keys of the projects `cookie`'s session lists, sorted.
async fn project_keys(app: &TestApp, cookie: &str) -> Vec<String> {
    let projects: Value = app.call("list_projects", &[], Some(cookie)).await.json().await.expect("json");
    let mut keys: Vec<String> =
        projects.as_array().expect("projects").iter().map(|p| p["key"].as_str().expect("key").to_owned()).collect();
    keys.sort();
    keys
}

async fn refused_message(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = error_body(response).await;
    assert_eq!(body["fields"][0]["field"], "project_ids", "{body}");
    body["fields"][0]["message"].as_str().expect("message").to_owned()
}

#[tokio::test]
async fn an_invitation_names_projects_that_the_invitee_joins_through_either_door() {
    let app = crate::helpers::spawn_app().await;
    let (owner, _) = app.owner("inviter").await;
    let (other_team, _) = app.owner("stranger").await;
    let (public, public_key) = app.project(&owner.cookie, "public").await;
    let (private, private_key) = app.project(&owner.cookie, "private").await;
    let (foreign, _) = app.project(&other_team.cookie, "public").await;

    // Refused when asked: a guest in a private project, a project of another team, an archived one.
    let guest_email = fresh_email("guest");
    let refused = refused_message(invite_to(&app, &owner.cookie, &guest_email, "GUEST", &[&private]).await).await;
    assert_eq!(refused, format!("Guests can only join public projects: {private_key} is not public."));
    let refused = refused_message(invite_to(&app, &owner.cookie, &guest_email, "NORMAL", &[&foreign]).await).await;
    assert_eq!(refused, "A project named is not one of the team's.");
    let (archived, archived_key) = app.project(&owner.cookie, "public").await;
    let archive = input(&[("project_id", &archived), ("archived", "true")]);
    assert_eq!(app.call("archive_project", &archive, Some(&owner.cookie)).await.status(), StatusCode::OK);
    let refused = refused_message(invite_to(&app, &owner.cookie, &guest_email, "NORMAL", &[&archived]).await).await;
    assert_eq!(refused, format!("{archived_key} is archived."));

    // A new account (sign_up_with_invitation) joins both projects its invitation names.
    let normal_email = fresh_email("normal");
    let token = token_of(invite_to(&app, &owner.cookie, &normal_email, "NORMAL", &[&public, &private]).await).await;
    let pending: Value = app.call("list_invitations", &[], Some(&owner.cookie)).await.json().await.expect("json");
    let named = pending[0]["projects"].as_array().expect("projects").len();
    assert_eq!(named, 2, "the pending invitation names its projects: {pending}");
    let offer: Value =
        app.call("invitation_info", &input(&[("token", &token)]), None).await.json().await.expect("json");
    assert_eq!(offer["projects"].as_array().map(Vec::len), Some(2), "{offer}");
    let normal = app.join_with_token(&token, &normal_email).await;
    let mut both = vec![public_key.clone(), private_key.clone()];
    both.sort();
    assert_eq!(project_keys(&app, &normal.cookie).await, both);

    // An existing account (accept_invitation, signed in) joins too.
    let (existing, _) = app.owner("existing").await;
    let token = token_of(invite_to(&app, &owner.cookie, &existing.email, "NORMAL", &[&private]).await).await;
    let accepted = app.call("accept_invitation", &input(&[("token", &token)]), Some(&existing.cookie)).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let cookie = crate::helpers::session_cookie(&accepted).expect("the joined session");
    assert_eq!(project_keys(&app, &cookie).await, vec![private_key]);

    // A guest's public project turned private before they accept: they do not join it.
    let token = token_of(invite_to(&app, &owner.cookie, &guest_email, "GUEST", &[&public]).await).await;
    let private_now = input(&[("project_id", &public), ("name", "Now private"), ("visibility", "private")]);
    assert_eq!(app.call("update_project", &private_now, Some(&owner.cookie)).await.status(), StatusCode::OK);
    let offer: Value =
        app.call("invitation_info", &input(&[("token", &token)]), None).await.json().await.expect("json");
    assert_eq!(offer["projects"], serde_json::json!([]), "{offer}");
    let guest = app.join_with_token(&token, &guest_email).await;
    assert_eq!(project_keys(&app, &guest.cookie).await, Vec::<String>::new());
    let members: Value =
        app.call("get_project", &input(&[("key", &public_key)]), Some(&owner.cookie)).await.json().await.expect("json");
    assert!(!members.to_string().contains(&guest.user_id), "the guest is no member of it: {members}");
}

#[tokio::test]
async fn a_pending_invitation_gets_a_new_link_and_the_old_one_stops_working() {
    let app = crate::helpers::spawn_app().await;
    let (owner, _) = app.owner("renewer").await;
    let email = fresh_email("late");
    let (invitation, old_token) = app.invite(&owner.cookie, &email, "NORMAL").await;

    let renewed = app.call("renew_invitation", &input(&[("invitation_id", &invitation)]), Some(&owner.cookie)).await;
    let new_token = token_of(renewed).await;
    assert_ne!(new_token, old_token);
    let old = app.call("invitation_info", &input(&[("token", &old_token)]), None).await;
    assert_eq!(old.status(), StatusCode::NOT_FOUND, "the old link no longer works");
    let pending: Value = app.call("list_invitations", &[], Some(&owner.cookie)).await.json().await.expect("json");
    assert_eq!(pending.as_array().map(Vec::len), Some(1), "still one pending invitation: {pending}");

    app.join_with_token(&new_token, &email).await;
    let again = app.call("renew_invitation", &input(&[("invitation_id", &invitation)]), Some(&owner.cookie)).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "an accepted invitation has no link to renew");
    let log: Value = app
        .call("audit_log", &input(&[("event", "invitation_renewed")]), Some(&owner.cookie))
        .await
        .json()
        .await
        .expect("json");
    let entries = log["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{log}");
    assert!(entries[0]["detail"].as_str().expect("detail").contains(&email), "{log}");
}
