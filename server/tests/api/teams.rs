//! Teams: invitations from link to membership, role changes, removals, ownership, the audit log, and
//! the tenant-isolation properties T1 (foreign ids), T4 (smuggled identity) and T6 (next request).

use std::time::Duration;

use reqwest::StatusCode;
use sqlx::Row;

use crate::helpers::{error_body, fresh_email, input, session_cookie, spawn_app, TestApp, PASSWORD};

async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("json")
}

async fn roles(app: &TestApp, cookie: &str) -> Vec<(String, String)> {
    let members = json(app.call("list_members", &[], Some(cookie)).await).await;
    members
        .as_array()
        .expect("members")
        .iter()
        .map(|m| (m["email"].as_str().expect("email").to_owned(), m["role"].as_str().expect("role").to_owned()))
        .collect()
}

#[tokio::test]
async fn an_invited_visitor_signs_up_through_the_link_and_joins_without_a_team_of_their_own() {
    let app = spawn_app().await;
    let (owner, team) = app.owner("owner").await;
    let email = fresh_email("ann");
    let (_, token) = app.invite(&owner.cookie, &email, "NORMAL").await;

    let offer = json(app.call("invitation_info", &input(&[("token", &token)]), None).await).await;
    assert_eq!(offer["email"], email.as_str());
    assert_eq!(offer["role"], "NORMAL");
    assert_eq!(offer["account_exists"], false);

    let ann = app.join_with_token(&token, &email).await;
    let teams = json(app.call("my_teams", &[], Some(&ann.cookie)).await).await;
    assert_eq!(teams.as_array().map(Vec::len), Some(1), "no team of her own: {teams}");
    assert_eq!(teams[0]["id"], team.as_str());
    assert_eq!(teams[0]["role"], "NORMAL");
    assert!(roles(&app, &owner.cookie).await.contains(&(email, "NORMAL".to_owned())));
}

#[tokio::test]
async fn a_signed_in_user_accepts_an_invitation_to_their_email_only() {
    let app = spawn_app().await;
    let (owner, team) = app.owner("owner").await;
    let (bob, _) = app.owner("bob").await;
    let (carol, _) = app.owner("carol").await;
    let (_, token) = app.invite(&owner.cookie, &bob.email, "ADMIN").await;

    let offer = json(app.call("invitation_info", &input(&[("token", &token)]), None).await).await;
    assert_eq!(offer["account_exists"], true);
    let wrong_person = app.call("accept_invitation", &input(&[("token", &token)]), Some(&carol.cookie)).await;
    assert_eq!(wrong_person.status(), StatusCode::FORBIDDEN);
    let anonymous = app.call("accept_invitation", &input(&[("token", &token)]), None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let accepted = app.call("accept_invitation", &input(&[("token", &token)]), Some(&bob.cookie)).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let new_cookie = session_cookie(&accepted).expect("new session id on joining");
    let me = json(accepted).await;
    assert_eq!(me["team"]["id"], team.as_str());
    assert_eq!(me["team"]["role"], "ADMIN");
    assert_eq!(json(app.call("my_teams", &[], Some(&new_cookie)).await).await.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn an_existing_account_accepts_with_its_password_when_not_signed_in() {
    let app = spawn_app().await;
    let (owner, team) = app.owner("owner").await;
    let (bob, _) = app.owner("bob").await;
    let (_, token) = app.invite(&owner.cookie, &bob.email, "NORMAL").await;
    let wrong = app.call("accept_invitation", &input(&[("token", &token), ("password", "not it at all")]), None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = app.call("accept_invitation", &input(&[("token", &token), ("password", PASSWORD)]), None).await;
    assert_eq!(right.status(), StatusCode::OK);
    assert_eq!(json(right).await["team"]["id"], team.as_str());
}

#[tokio::test]
async fn a_link_works_once_and_used_revoked_or_expired_links_are_refused_clearly() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;

    let used_email = fresh_email("used");
    let (_, used) = app.invite(&owner.cookie, &used_email, "NORMAL").await;
    app.join_with_token(&used, &used_email).await;
    let again = app
        .call(
            "sign_up_with_invitation",
            &input(&[("token", &used), ("display_name", "X"), ("password", PASSWORD)]),
            None,
        )
        .await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(error_body(again).await["message"].as_str().expect("message").contains("already been used"));

    let (revoked_id, revoked) = app.invite(&owner.cookie, &fresh_email("revoked"), "GUEST").await;
    let revoke = app.call("revoke_invitation", &input(&[("invitation_id", &revoked_id)]), Some(&owner.cookie)).await;
    assert_eq!(revoke.status(), StatusCode::OK);
    let info = app.call("invitation_info", &input(&[("token", &revoked)]), None).await;
    assert_eq!(info.status(), StatusCode::GONE);
    assert!(error_body(info).await["message"].as_str().expect("message").contains("revoked"));

    let (_, expiring) = app.invite(&owner.cookie, &fresh_email("late"), "NORMAL").await;
    app.clock.advance(Duration::from_secs(7 * 24 * 3600 + 60));
    let late = app.call("invitation_info", &input(&[("token", &expiring)]), None).await;
    assert_eq!(late.status(), StatusCode::GONE);
    assert!(error_body(late).await["message"].as_str().expect("message").contains("expired"));

    let forged = "A".repeat(43);
    let unknown = app.call("invitation_info", &input(&[("token", &forged)]), None).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tokens_are_unguessable_and_stored_only_as_hashes() {
    let app = spawn_app().await;
    let (owner, team) = app.owner("owner").await;
    let mut tokens = Vec::new();
    for _ in 0..5 {
        tokens.push(app.invite(&owner.cookie, &fresh_email("x"), "GUEST").await.1);
    }
    let mut db = app.db().await;
    let stored: Vec<String> = sqlx::query("SELECT token_hash FROM invitations WHERE team_id = $1")
        .bind(&team)
        .fetch_all(&mut db)
        .await
        .expect("rows")
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    for token in &tokens {
        // 43 base64url characters carry 256 bits.
        assert_eq!(token.len(), 43);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert!(!stored.iter().any(|s| s.contains(token.as_str())), "token stored in clear");
    }
    let distinct: std::collections::BTreeSet<&String> = tokens.iter().collect();
    assert_eq!(distinct.len(), tokens.len());
    assert!(stored.iter().all(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())));
}

#[tokio::test]
async fn roles_change_and_ownership_moves_with_exactly_one_owner_always() {
    let app = spawn_app().await;
    let (owner, team) = app.owner("owner").await;
    let admin = app.new_member(&owner.cookie, "ADMIN").await;
    let normal = app.new_member(&owner.cookie, "NORMAL").await;

    let to_guest =
        app.call("change_role", &input(&[("user_id", &normal.user_id), ("role", "GUEST")]), Some(&admin.cookie)).await;
    assert_eq!(to_guest.status(), StatusCode::OK);
    assert_eq!(json(to_guest).await["role"], "GUEST");
    let to_owner =
        app.call("change_role", &input(&[("user_id", &normal.user_id), ("role", "OWNER")]), Some(&owner.cookie)).await;
    assert_eq!(to_owner.status(), StatusCode::UNPROCESSABLE_ENTITY, "OWNER is never given as a role");
    let guest_owner =
        app.call("transfer_ownership", &input(&[("user_id", &normal.user_id)]), Some(&owner.cookie)).await;
    assert_eq!(guest_owner.status(), StatusCode::FORBIDDEN, "guests cannot own a team");

    let leave = app.call("leave_team", &[], Some(&owner.cookie)).await;
    assert_eq!(leave.status(), StatusCode::FORBIDDEN, "the owner cannot leave");
    let transfer = app.call("transfer_ownership", &input(&[("user_id", &admin.user_id)]), Some(&owner.cookie)).await;
    assert_eq!(transfer.status(), StatusCode::OK);
    assert_eq!(json(transfer).await["team"]["role"], "ADMIN");

    let mut db = app.db().await;
    let owners: Vec<String> = sqlx::query("SELECT user_id FROM memberships WHERE team_id = $1 AND role = 'OWNER'")
        .bind(&team)
        .fetch_all(&mut db)
        .await
        .expect("owners")
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    assert_eq!(owners, vec![admin.user_id.clone()]);

    // The former owner is an admin now and may leave; the team keeps its one owner. Having no other
    // team, they are signed out.
    let left = app.call("leave_team", &[], Some(&owner.cookie)).await;
    assert_eq!(left.status(), StatusCode::OK);
    assert_eq!(json(left).await, serde_json::Value::Null);
    assert_eq!(app.whoami_email(&owner.cookie).await, None);
    assert_eq!(roles(&app, &admin.cookie).await.len(), 2, "admin (now owner) and the guest remain");
}

#[tokio::test]
async fn a_lowered_role_and_a_removal_apply_on_the_very_next_request() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;
    let admin = app.new_member(&owner.cookie, "ADMIN").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    assert_eq!(app.call("list_invitations", &[], Some(&admin.cookie)).await.status(), StatusCode::OK);

    let demote =
        app.call("change_role", &input(&[("user_id", &admin.user_id), ("role", "NORMAL")]), Some(&owner.cookie)).await;
    assert_eq!(demote.status(), StatusCode::OK);
    assert_eq!(app.call("list_invitations", &[], Some(&admin.cookie)).await.status(), StatusCode::FORBIDDEN);
    let invite =
        app.call("invite", &input(&[("email", &fresh_email("z")), ("role", "GUEST")]), Some(&admin.cookie)).await;
    assert_eq!(invite.status(), StatusCode::FORBIDDEN);

    assert_eq!(app.whoami_email(&guest.cookie).await.as_deref(), Some(guest.email.as_str()));
    let remove = app.call("remove_member", &input(&[("user_id", &guest.user_id)]), Some(&owner.cookie)).await;
    assert_eq!(remove.status(), StatusCode::OK);
    assert_eq!(app.whoami_email(&guest.cookie).await, None, "the removed guest's session lost the team");
    assert_eq!(app.call("my_teams", &[], Some(&guest.cookie)).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn smuggled_team_user_and_role_fields_are_ignored() {
    let app = spawn_app().await;
    let (owner_a, team_a) = app.owner("a").await;
    let (owner_b, team_b) = app.owner("b").await;
    let victim = app.new_member(&owner_b.cookie, "NORMAL").await;

    // An invitation with a smuggled team lands in the inviter's own team.
    let mut form = input(&[("email", &fresh_email("s")), ("role", "GUEST"), ("team_id", &team_b)]);
    form.push(("team_id".into(), team_b.clone()));
    form.push(("user_id".into(), owner_b.user_id.clone()));
    let invited = app.call("invite", &form, Some(&owner_a.cookie)).await;
    assert_eq!(invited.status(), StatusCode::OK);
    let pending_b = json(app.call("list_invitations", &[], Some(&owner_b.cookie)).await).await;
    assert_eq!(pending_b.as_array().map(Vec::len), Some(0), "nothing arrived in team B");
    let pending_a = json(app.call("list_invitations", &[], Some(&owner_a.cookie)).await).await;
    assert_eq!(pending_a.as_array().map(Vec::len), Some(1));

    // A role change naming team B's member with team B's id is "not found" for team A's owner.
    let mut change = input(&[("user_id", &victim.user_id), ("role", "GUEST"), ("team_id", &team_b)]);
    change.push(("team_id".into(), team_b.clone()));
    let refused = app.call("change_role", &change, Some(&owner_a.cookie)).await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);

    // Joining with a smuggled role gets the invited role.
    let email = fresh_email("joiner");
    let (_, token) = app.invite(&owner_a.cookie, &email, "GUEST").await;
    let join = input(&[("token", &token), ("display_name", "J"), ("password", PASSWORD), ("role", "OWNER")]);
    let joined = json(app.call("sign_up_with_invitation", &join, None).await).await;
    assert_eq!(joined["team"]["role"], "GUEST");
    assert_eq!(joined["team"]["id"], team_a.as_str());
    let still = roles(&app, &owner_b.cookie).await;
    assert!(still.contains(&(victim.email.clone(), "NORMAL".into())));
}

/// T1: every resource that takes an id, tried by every role of team A with team B's real ids and with
/// random ones: the answers for real foreign ids are exactly those for missing ids, and team B is unchanged.
#[tokio::test]
async fn another_teams_objects_are_indistinguishable_from_missing_ones() {
    let app = spawn_app().await;
    let (owner_a, _) = app.owner("a").await;
    let actors_a = vec![
        owner_a.clone(),
        app.new_member(&owner_a.cookie, "ADMIN").await,
        app.new_member(&owner_a.cookie, "NORMAL").await,
        app.new_member(&owner_a.cookie, "GUEST").await,
    ];
    let (owner_b, team_b) = app.owner("b").await;
    let mut member_ids = vec![owner_b.user_id.clone()];
    for role in ["ADMIN", "NORMAL", "GUEST", "NORMAL"] {
        member_ids.push(app.new_member(&owner_b.cookie, role).await.user_id);
    }
    let mut invitation_ids = Vec::new();
    for role in ["ADMIN", "NORMAL", "GUEST"].iter().cycle().take(60) {
        invitation_ids.push(app.invite(&owner_b.cookie, &fresh_email("pending"), role).await.0);
    }
    let random = |n: usize| (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect::<Vec<_>>();
    let before = app.team_digest(&team_b).await;

    // (endpoint, field, extra fields, real foreign ids)
    #[allow(clippy::type_complexity)]
    let probes: Vec<(&str, &str, Vec<(&str, &str)>, Vec<String>)> = vec![
        ("change_role", "user_id", vec![("role", "GUEST")], member_ids.clone()),
        ("remove_member", "user_id", vec![], member_ids.clone()),
        ("transfer_ownership", "user_id", vec![], member_ids.clone()),
        ("revoke_invitation", "invitation_id", vec![], invitation_ids.clone()),
        ("switch_team", "team_id", vec![], vec![team_b.clone()]),
    ];
    let mut requests = 0;
    for actor in &actors_a {
        for (endpoint, field, extra, real_ids) in &probes {
            let answer = |id: String| {
                let mut fields = vec![(*field, id.as_str())];
                fields.extend(extra.iter().copied());
                let form = input(&fields);
                let app = &app;
                let cookie = actor.cookie.clone();
                async move {
                    let response = app.call(endpoint, &form, Some(&cookie)).await;
                    (response.status(), response.text().await.expect("body"))
                }
            };
            let missing = answer(uuid::Uuid::new_v4().to_string()).await;
            assert!(
                matches!(missing.0, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                "{endpoint}: a missing id answers {missing:?}"
            );
            for id in real_ids.iter().cloned().chain(random(40)) {
                let got = answer(id.clone()).await;
                requests += 1;
                assert_eq!(got, missing, "{endpoint} with {id} told apart from a missing id");
            }
        }
    }
    assert!(requests >= 500, "only {requests} probes");
    assert_eq!(app.team_digest(&team_b).await, before, "team B changed");
}

#[tokio::test]
async fn security_events_are_audited_and_readable_by_owners_and_admins_only() {
    let app = spawn_app().await;
    let (owner, _) = app.owner("owner").await;
    let admin = app.new_member(&owner.cookie, "ADMIN").await;
    let normal = app.new_member(&owner.cookie, "NORMAL").await;
    let (id, _) = app.invite(&owner.cookie, &fresh_email("r"), "GUEST").await;
    app.call("revoke_invitation", &input(&[("invitation_id", &id)]), Some(&owner.cookie)).await;
    app.call("change_role", &input(&[("user_id", &normal.user_id), ("role", "GUEST")]), Some(&owner.cookie)).await;
    app.call("remove_member", &input(&[("user_id", &normal.user_id)]), Some(&admin.cookie)).await;
    assert_eq!(app.sign_in_as(&owner.email, "wrong password!", None).await.status(), StatusCode::UNAUTHORIZED);
    let signed_in = app.sign_in_as(&owner.email, PASSWORD, None).await;
    let owner_cookie = session_cookie(&signed_in).expect("cookie");

    let log = json(app.call("audit_log", &[], Some(&admin.cookie)).await).await;
    let events: Vec<&str> =
        log["entries"].as_array().expect("log").iter().filter_map(|e| e["event"].as_str()).collect();
    for expected in [
        "account_created",
        "invitation_sent",
        "invitation_accepted",
        "invitation_revoked",
        "role_changed",
        "member_removed",
        "signed_in",
    ] {
        assert!(events.contains(&expected), "{expected} missing from {events:?}");
    }
    for entry in log["entries"].as_array().expect("log") {
        assert_eq!(entry["source_ip"], "127.0.0.1", "{entry}");
        assert!(entry["at"].as_i64().expect("time") > 1_700_000_000_000);
        assert!(entry["outcome"] == "success" || entry["outcome"] == "failure");
    }
    let removal =
        log["entries"].as_array().expect("log").iter().find(|e| e["event"] == "member_removed").expect("removal");
    assert!(removal["actor"].as_str().expect("actor").contains(&admin.email));

    let mut db = app.db().await;
    let failures: i64 =
        sqlx::query("SELECT COUNT(*) FROM audit_log WHERE event = 'sign_in_failed' AND outcome = 'failure'")
            .fetch_one(&mut db)
            .await
            .expect("count")
            .get(0);
    assert_eq!(failures, 1);

    let guest = app.new_member(&owner_cookie, "GUEST").await;
    for cookie in [guest.cookie.as_str()] {
        assert_eq!(app.call("audit_log", &[], Some(cookie)).await.status(), StatusCode::FORBIDDEN);
    }
}
