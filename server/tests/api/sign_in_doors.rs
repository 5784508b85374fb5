//! One gate turns credentials into a session (`service::sign_in`). Attacked here through every door:
//! every server function the app declares is called, without a cookie, with the password of an
//! account that has two-factor authentication (and an invitation to the attacker's team for it), and
//! no answer may carry a session that is signed in. The doors that do sign in each write the
//! `signed_in` audit entry.

use reqwest::StatusCode;

use crate::helpers::{input, session_cookie, spawn_app, totp_code, TestApp, PASSWORD};

/// Every server function declared in `app/src/api/`.
fn server_functions() -> Vec<String> {
    let code = crate::helpers::api_declarations();
    let names: Vec<String> = code
        .split("#[server(endpoint = \"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect();
    assert!(names.len() > 30, "found only {} server functions", names.len());
    names
}

/// Whether `cookie` is a signed-in session: it names a user, or reaches a team.
async fn signed_in(app: &TestApp, cookie: &str) -> bool {
    app.whoami_email(cookie).await.is_some() || app.call("my_teams", &[], Some(cookie)).await.status() == StatusCode::OK
}

async fn signed_in_entries(app: &TestApp, user_id: &str) -> i64 {
    let mut db = app.db().await;
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE event = 'signed_in' AND actor_id = $1")
        .bind(user_id)
        .fetch_one(&mut db)
        .await
        .expect("count")
}

#[tokio::test]
async fn no_door_signs_in_an_account_with_two_factor_on_its_password_alone() {
    let app = spawn_app().await;
    let (victim, _) = app.owner("victim").await;
    app.enable_two_factor(&victim.cookie).await;
    let (attacker, attackers_team) = app.owner("attacker").await;
    let (_, token) = app.invite(&attacker.cookie, &victim.email, "NORMAL").await;
    let entries_before = signed_in_entries(&app, &victim.user_id).await;

    // Every field a door could read credentials from, at once.
    let credentials = input(&[
        ("email", &victim.email),
        ("password", PASSWORD),
        ("token", &token),
        ("display_name", "Victim"),
        ("team_name", "Victim's other team"),
        ("code", "000000"),
    ]);
    let mut doors_tried = 0;
    for function in server_functions() {
        let answer = app.call(&function, &credentials, None).await;
        let status = answer.status();
        if let Some(cookie) = session_cookie(&answer) {
            doors_tried += 1;
            assert!(!signed_in(&app, &cookie).await, "{function} ({status}) signed the victim in without a code");
        }
        if function == "accept_invitation" {
            let body: serde_json::Value = answer.json().await.expect("json");
            assert_eq!(body["code"], "second_factor_required", "accept_invitation: {body}");
        }
    }
    assert!(doors_tried >= 2, "sign_in and accept_invitation both answer with a waiting session");

    // The password joined nothing: the invitation is unused and the victim is not in the team.
    let mut db = app.db().await;
    let joined: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE team_id = $1 AND user_id = $2")
        .bind(&attackers_team)
        .bind(&victim.user_id)
        .fetch_one(&mut db)
        .await
        .expect("count");
    assert_eq!(joined, 0, "the invitation was accepted on a password alone");
    assert_eq!(signed_in_entries(&app, &victim.user_id).await, entries_before, "no sign-in happened");
}

#[tokio::test]
async fn an_invitation_accepted_with_a_password_then_a_code_joins_and_is_audited() {
    let app = spawn_app().await;
    let (member, _) = app.owner("member").await;
    let (secret, _) = app.enable_two_factor(&member.cookie).await;
    let (inviter, team) = app.owner("inviter").await;
    let (_, token) = app.invite(&inviter.cookie, &member.email, "NORMAL").await;

    let asked = app.call("accept_invitation", &input(&[("token", &token), ("password", PASSWORD)]), None).await;
    assert_eq!(asked.status(), StatusCode::UNAUTHORIZED);
    let pending = session_cookie(&asked).expect("a waiting session");
    // The code that turned two-factor on is spent; the next step's code is fresh.
    app.clock.advance(std::time::Duration::from_secs(30));
    let code = totp_code(&secret, app.unix_secs());
    let proved = app.call("second_factor", &input(&[("code", &code)]), Some(&pending)).await;
    let session = session_cookie(&proved).expect("a signed-in session");
    assert_eq!(app.whoami_email(&session).await, None, "not yet a member of the invitation's team");
    let joined = app.call("accept_invitation", &input(&[("token", &token)]), Some(&session)).await;
    assert_eq!(joined.status(), StatusCode::OK);
    let me: serde_json::Value = joined.json().await.expect("json");
    assert_eq!(me["team"]["id"], team.as_str());
    assert_eq!(signed_in_entries(&app, &member.user_id).await, 2, "sign-up and the second factor");
}

#[tokio::test]
async fn every_door_that_signs_in_writes_the_sign_in_audit_entry() {
    let app = spawn_app().await;
    // sign_up
    let (owner, _) = app.owner("doors").await;
    assert_eq!(signed_in_entries(&app, &owner.user_id).await, 1, "sign_up");
    // sign_in
    assert_eq!(app.sign_in_as(&owner.email, PASSWORD, None).await.status(), StatusCode::OK);
    assert_eq!(signed_in_entries(&app, &owner.user_id).await, 2, "sign_in");
    // sign_up_with_invitation
    let newcomer = app.new_member(&owner.cookie, "NORMAL").await;
    assert_eq!(signed_in_entries(&app, &newcomer.user_id).await, 1, "sign_up_with_invitation");
    // accept_invitation with a password
    let (other, _) = app.owner("other").await;
    let (_, token) = app.invite(&other.cookie, &owner.email, "NORMAL").await;
    let accepted = app.call("accept_invitation", &input(&[("token", &token), ("password", PASSWORD)]), None).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    assert_eq!(signed_in_entries(&app, &owner.user_id).await, 3, "accept_invitation");
    // second_factor
    let (secret, _) = app.enable_two_factor(&other.cookie).await;
    let asked = app.sign_in_as(&other.email, PASSWORD, None).await;
    let pending = session_cookie(&asked).expect("a waiting session");
    app.clock.advance(std::time::Duration::from_secs(30));
    let code = totp_code(&secret, app.unix_secs());
    let proved = app.call("second_factor", &input(&[("code", &code)]), Some(&pending)).await;
    assert_eq!(proved.status(), StatusCode::OK);
    assert_eq!(signed_in_entries(&app, &other.user_id).await, 2, "sign_up, then second_factor");
}
