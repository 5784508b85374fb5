//! S1-S3: single sign-on against a real OpenID Connect provider (`oidc::TestProvider`, the certified
//! `oidc-provider` package), attacked as `docs/security.md` lists: forged and replayed `state`, ID
//! tokens that do not verify, another team's provider, an email claim aimed at an existing account,
//! password sign-in where single sign-on is required, and a provider that refuses a leaver.

use reqwest::{header, StatusCode};

use crate::{
    helpers::{error_body, fresh_email, input, session_cookie, spawn_app_with, totp_code, Person, TestApp, PASSWORD},
    oidc::{Browser, TestProvider},
};

async fn sso_app() -> TestApp {
    // The provider runs on 127.0.0.1, which the SSRF guard refuses unless the operator allows it.
    spawn_app_with(|c| c.allow_private_endpoints = true).await
}

/// The OWNER (`cookie`) configures `provider` for their team: a newly registered client, newcomers as
/// `role`, these claimed domains, required or not.
async fn configure(
    app: &TestApp,
    provider: &TestProvider,
    cookie: &str,
    role: &str,
    domains: &[&str],
    required: bool,
) -> reqwest::Response {
    let (client_id, secret) = provider.register(&app.url("/sso/callback")).await;
    let mut form = input(&[
        ("issuer", &provider.issuer),
        ("display_name", "Corp ID"),
        ("client_id", &client_id),
        ("client_secret", &secret),
        ("new_member_role", role),
        ("required", if required { "true" } else { "false" }),
        ("enabled", "true"),
    ]);
    for (i, domain) in domains.iter().enumerate() {
        form.push((format!("input[domains][{i}]"), (*domain).to_owned()));
    }
    app.call("configure_sso", &form, Some(cookie)).await
}

async fn me(app: &TestApp, cookie: &str) -> serde_json::Value {
    let response = app.call("who_am_i", &[], Some(cookie)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

async fn team_ids(app: &TestApp, cookie: &str) -> Vec<String> {
    let teams: serde_json::Value = app.call("my_teams", &[], Some(cookie)).await.json().await.expect("json");
    teams.as_array().map(|t| t.iter().filter_map(|m| m["id"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

async fn events(app: &TestApp, cookie: &str) -> Vec<(String, String)> {
    let audit = app.audit_export(cookie).await;
    audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| (e["event"].as_str().unwrap_or("").to_owned(), e["detail"].as_str().unwrap_or("").to_owned()))
        .collect()
}

/// A refused callback: 401, Moth's one message, nobody signed in by it.
async fn assert_refused(app: &TestApp, browser: &Browser, callback: &str, why: &str) {
    let response = browser.get(callback).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{why}: refused");
    let page = response.text().await.expect("page");
    assert!(page.contains("Single sign-on did not work"), "{why}: the page says so: {page}");
    assert!(me(app, &browser.cookie()).await.is_null(), "{why}: nobody is signed in");
}

#[tokio::test]
async fn a_new_person_signs_in_through_the_provider_and_lands_in_the_team_with_its_role() {
    let app = sso_app().await;
    let provider = TestProvider::start();
    let (owner, team) = app.owner("sso").await;
    let configured = configure(&app, &provider, &owner.cookie, "GUEST", &["corp.test"], false).await;
    assert_eq!(configured.status(), StatusCode::OK, "configure_sso");
    let settings: serde_json::Value = configured.json().await.expect("json");
    assert_eq!(settings["redirect_uri"], app.url("/sso/callback"));
    assert_eq!(settings["domains"][0]["proven"], false, "claimed, not proven: {settings}");
    assert!(!settings.to_string().contains("client_secret\":\""), "the secret is never shown: {settings}");

    // The team's sign-in page offers the provider, to anyone.
    let button = app.call("sso_sign_in_option", &input(&[("team_id", &team)]), None).await;
    let button: serde_json::Value = button.json().await.expect("json");
    assert_eq!(button["display_name"], "Corp ID");
    assert_eq!(button["start_url"], format!("/sso/{team}/start"));

    let email = fresh_email("ann");
    provider.account("ann", &email, true, false).await;
    let browser = Browser::new(&app.address);
    let callback = browser.to_callback(&team, "ann").await;
    assert!(callback.contains("state=") && callback.contains("code="), "{callback}");
    let landed = browser.get(&callback).await;
    assert_eq!(landed.status(), StatusCode::SEE_OTHER);
    assert_eq!(landed.headers()[header::LOCATION], "/");
    let signed_in = me(&app, &browser.cookie()).await;
    assert_eq!(signed_in["user"]["email"], email.as_str());
    assert_eq!(signed_in["team"]["id"], team.as_str());
    assert_eq!(signed_in["team"]["role"], "GUEST", "the configured role");
    let user_id = signed_in["user"]["id"].as_str().expect("id").to_owned();

    // The identity is (issuer, subject): a changed email at the provider is still the same account.
    provider.account("ann", &fresh_email("ann-renamed"), true, false).await;
    let again = Browser::new(&app.address);
    let landed = again.get(&again.to_callback(&team, "ann").await).await;
    assert_eq!(landed.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &again.cookie()).await["user"]["id"], user_id.as_str());

    // The OWNER sees how the member signs in; the member does not see that of others.
    let members: serde_json::Value =
        app.call("list_members", &[], Some(&owner.cookie)).await.json().await.expect("json");
    let ann = members.as_array().expect("members").iter().find(|m| m["user_id"] == user_id.as_str()).expect("ann");
    assert_eq!(ann["single_sign_on"]["made_account"], true);
    assert!(ann["single_sign_on"]["last_sign_in_at"].as_i64().is_some());
    let owner_row = members.as_array().expect("members").iter().find(|m| m["user_id"] == owner.user_id.as_str());
    assert!(owner_row.expect("owner")["single_sign_on"].is_null(), "the owner signs in with a password");

    let log = events(&app, &owner.cookie).await;
    assert!(log.iter().any(|(e, d)| e == "sso_configured" && d.contains("newcomers as GUEST")), "{log:?}");
    assert!(log.iter().any(|(e, d)| e == "account_created" && d.contains("single sign-on")), "{log:?}");
    let sso_sign_ins = log.iter().filter(|(e, d)| e == "signed_in" && d.contains("through single sign-on")).count();
    assert_eq!(sso_sign_ins, 2, "{log:?}");
}

#[tokio::test]
async fn forged_replayed_and_foreign_callbacks_are_refused() {
    let app = sso_app().await;
    let provider = TestProvider::start();
    let (owner, team) = app.owner("state").await;
    assert_eq!(configure(&app, &provider, &owner.cookie, "NORMAL", &[], false).await.status(), StatusCode::OK);
    provider.account("bob", &fresh_email("bob"), true, false).await;

    // A forged state: refused, and the round trip it spoiled is spent (its real answer is refused too).
    let browser = Browser::new(&app.address);
    let callback = browser.to_callback(&team, "bob").await;
    let state = callback.split("state=").nth(1).expect("state").split('&').next().expect("value").to_owned();
    assert_refused(&app, &browser, &callback.replace(&state, "forged-state"), "a forged state").await;
    assert_refused(&app, &browser, &callback, "the answer of a spent round trip").await;

    // A callback without any state.
    let callback = browser.to_callback(&team, "bob").await;
    let stateless = callback
        .replace(&format!("state={}", callback.split("state=").nth(1).expect("s").split('&').next().expect("v")), "");
    assert_refused(&app, &browser, &stateless, "no state").await;

    // The real thing works; replaying it does not.
    let callback = browser.to_callback(&team, "bob").await;
    assert_eq!(browser.get(&callback).await.status(), StatusCode::SEE_OTHER);
    let replayed = browser.get(&callback).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED, "a replayed callback");

    // A callback started in one browser, delivered to another (login CSRF): refused there.
    let victim = Browser::new(&app.address);
    let planted = browser.to_callback(&team, "bob").await;
    assert_refused(&app, &victim, &planted, "another browser's callback").await;

    // Refusals of a known round trip are the team's; those with none (spent, replayed, planted) are
    // the installation's (no team).
    let refusals = events(&app, &owner.cookie).await.into_iter().filter(|(e, _)| e == "sso_refused").count();
    assert_eq!(refusals, 2, "the forged and the stateless callback are in the team's log");
    let mut db = app.db().await;
    let teamless: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE event = 'sso_refused' AND team_id IS NULL")
            .fetch_one(&mut db)
            .await
            .expect("count");
    assert_eq!(teamless, 3, "the spent, replayed and planted callbacks");
}

#[tokio::test]
async fn id_tokens_that_do_not_verify_are_refused() {
    let app = sso_app().await;
    let provider = TestProvider::start();
    let (owner, team) = app.owner("tokens").await;
    assert_eq!(configure(&app, &provider, &owner.cookie, "NORMAL", &[], false).await.status(), StatusCode::OK);
    provider.account("carol", &fresh_email("carol"), true, false).await;
    for fault in ["wrong_key", "wrong_audience", "expired", "wrong_nonce", "wrong_issuer"] {
        let browser = Browser::new(&app.address);
        let callback = browser.to_callback(&team, "carol").await;
        provider.fault(fault).await;
        assert_refused(&app, &browser, &callback, fault).await;
    }
    let log = events(&app, &owner.cookie).await;
    let refused: Vec<&String> = log.iter().filter(|(e, _)| e == "sso_refused").map(|(_, d)| d).collect();
    assert_eq!(refused.len(), 5, "{refused:?}");
    assert!(refused.iter().all(|d| d.contains("ID token does not verify")), "{refused:?}");
    // The same round trip without a fault signs in: the faults were what was refused.
    let browser = Browser::new(&app.address);
    let landed = browser.get(&browser.to_callback(&team, "carol").await).await;
    assert_eq!(landed.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &browser.cookie()).await["team"]["id"], team.as_str());
}

#[tokio::test]
async fn a_teams_provider_never_admits_anyone_to_another_team() {
    let app = sso_app().await;
    let (provider_a, provider_b) = (TestProvider::start(), TestProvider::start());
    let (owner_a, team_a) = app.owner("team-a").await;
    let (owner_b, team_b) = app.owner("team-b").await;
    assert_eq!(configure(&app, &provider_a, &owner_a.cookie, "NORMAL", &[], false).await.status(), StatusCode::OK);
    assert_eq!(configure(&app, &provider_b, &owner_b.cookie, "NORMAL", &[], false).await.status(), StatusCode::OK);
    let eve_email = fresh_email("eve");
    provider_a.account("eve", &eve_email, true, false).await;
    provider_b.account("eve", &fresh_email("eve-b"), true, false).await;
    let team_b_before = app.team_digest(&team_b).await;

    // A's code delivered against B's round trip: B's provider does not know it.
    let at_b = Browser::new(&app.address);
    let callback_b = at_b.to_callback(&team_b, "eve").await;
    let at_a = Browser::new(&app.address);
    let callback_a = at_a.to_callback(&team_a, "eve").await;
    let code_of = |url: &str| url.split("code=").nth(1).expect("code").split('&').next().expect("v").to_owned();
    let mixed = callback_b.replace(&code_of(&callback_b), &code_of(&callback_a));
    assert_refused(&app, &at_b, &mixed, "team A's code in team B's round trip").await;

    // Signed in through A's provider: a member of A only, and B stays out of reach.
    assert_eq!(at_a.get(&callback_a).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(team_ids(&app, &at_a.cookie()).await, vec![team_a.clone()]);
    let switched = app.call("switch_team", &input(&[("team_id", &team_b)]), Some(&at_a.cookie())).await;
    assert_eq!(error_body(switched).await["code"], "not_found");

    // B points at A's provider (a client of its own there): A's identity, whose email has an account
    // now, is not let into B, which proved no domain.
    assert_eq!(configure(&app, &provider_a, &owner_b.cookie, "NORMAL", &[], false).await.status(), StatusCode::OK);
    let crossing = Browser::new(&app.address);
    let callback = crossing.to_callback(&team_b, "eve").await;
    assert_refused(&app, &crossing, &callback, "A's identity at B").await;
    assert_eq!(team_ids(&app, &at_a.cookie()).await, vec![team_a.clone()]);
    let team_b_after = app.team_digest(&team_b).await;
    assert_eq!(team_b_before, team_b_after, "team B's members are as they were");
}

/// `moth sso prove-domain`, as an operator runs it.
fn prove_domain(app: &TestApp, team: &str, domain: &str) {
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_moth"))
        .args(["sso", "prove-domain", "--team", team, "--domain", domain])
        .env_clear()
        .env("DATABASE_URL", &app.database_url)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("moth runs");
    assert!(status.success(), "moth sso prove-domain");
}

#[tokio::test]
async fn an_email_claim_links_an_existing_account_only_when_verified_proven_and_confirmed() {
    let app = sso_app().await;
    let provider = TestProvider::start();
    let (owner, team) = app.owner("linking").await;
    let (victim, victims_team) = app.owner("victim").await;
    assert_eq!(
        configure(&app, &provider, &owner.cookie, "NORMAL", &["example.org"], false).await.status(),
        StatusCode::OK
    );

    // An unverified claim of the victim's email: no link, no account, no way in.
    provider.account("mallory", &victim.email, false, false).await;
    let browser = Browser::new(&app.address);
    assert_refused(&app, &browser, &browser.to_callback(&team, "mallory").await, "an unverified email").await;
    // Verified, but the domain is only claimed, not proven.
    provider.account("mallory", &victim.email, true, false).await;
    assert_refused(&app, &browser, &browser.to_callback(&team, "mallory").await, "an unproven domain").await;
    assert_eq!(team_ids(&app, &victim.cookie).await, vec![victims_team.clone()]);

    // Proven by the operator: the link is offered, and signs nobody in by itself.
    prove_domain(&app, &team, "example.org");
    let offered = browser.get(&browser.to_callback(&team, "mallory").await).await;
    assert_eq!(offered.status(), StatusCode::SEE_OTHER);
    assert_eq!(offered.headers()[header::LOCATION], "/signin?link=1");
    assert!(me(&app, &browser.cookie()).await.is_null(), "a link offer signs nobody in");

    // Someone else signing in in that browser confirms nothing.
    let (bystander, _) = app.owner("bystander").await;
    let signed = app.sign_in_as(&bystander.email, PASSWORD, Some(&browser.cookie())).await;
    assert_eq!(signed.status(), StatusCode::OK);
    assert!(!team_ids(&app, &bystander.cookie).await.contains(&team), "the bystander is not linked");

    // The account's owner confirms with their password: linked, and in the team.
    let browser = Browser::new(&app.address);
    assert_eq!(browser.get(&browser.to_callback(&team, "mallory").await).await.status(), StatusCode::SEE_OTHER);
    let confirmed = app.sign_in_as(&victim.email, PASSWORD, Some(&browser.cookie())).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let cookie = session_cookie(&confirmed).expect("cookie");
    let signed_in = me(&app, &cookie).await;
    assert_eq!(signed_in["team"]["id"], team.as_str(), "the session enters the linked team");
    assert_eq!(signed_in["team"]["role"], "NORMAL");
    assert!(events(&app, &owner.cookie).await.iter().any(|(e, _)| e == "sso_linked"));

    // From now on the identity signs in as the account, directly.
    let later = Browser::new(&app.address);
    assert_eq!(later.get(&later.to_callback(&team, "mallory").await).await.headers()[header::LOCATION], "/");
    assert_eq!(me(&app, &later.cookie()).await["user"]["id"], victim.user_id.as_str());
}

#[tokio::test]
async fn required_sso_refuses_member_passwords_and_keeps_the_owners_break_glass() {
    let app = sso_app().await;
    let provider = TestProvider::start();
    let (owner, team) = app.owner("required").await;
    let member = app.new_member(&owner.cookie, "NORMAL").await;
    let (dual, dual_team) = app.owner("dual").await;
    let (_, token) = app.invite(&owner.cookie, &dual.email, "NORMAL").await;
    let joined = app.call("accept_invitation", &input(&[("token", &token)]), Some(&dual.cookie)).await;
    assert_eq!(joined.status(), StatusCode::OK, "dual joins the team");
    let (_, pending) = app.invite(&owner.cookie, &fresh_email("late"), "NORMAL").await;
    // A member of this team and, by invitation, of another.
    let (other_owner, other_team) = app.owner("other").await;
    let triple = app.new_member(&owner.cookie, "NORMAL").await;
    let (_, token) = app.invite(&other_owner.cookie, &triple.email, "NORMAL").await;
    let joined = app.call("accept_invitation", &input(&[("token", &token)]), Some(&triple.cookie)).await;
    assert_eq!(joined.status(), StatusCode::OK, "triple joins the other team");

    // Requiring it needs the OWNER's own second factor, the break-glass.
    let refused = configure(&app, &provider, &owner.cookie, "NORMAL", &[], true).await;
    assert_eq!(error_body(refused).await["code"], "conflict");
    let (secret, _) = app.enable_two_factor(&owner.cookie).await;
    assert_eq!(configure(&app, &provider, &owner.cookie, "NORMAL", &[], true).await.status(), StatusCode::OK);
    assert_eq!(me(&app, &owner.cookie).await["team"]["id"], team.as_str(), "the owner's session stays");

    // The member's password session ends at once; a new password sign-in is refused.
    assert!(me(&app, &member.cookie).await.is_null(), "a password session no longer enters the team");
    let by_password = app.sign_in_as(&member.email, PASSWORD, None).await;
    assert_eq!(error_body(by_password).await["code"], "single_sign_on_required");
    // A member of another team too signs in there, and cannot switch in.
    let dual_in = app.sign_in_as(&dual.email, PASSWORD, None).await;
    let dual_cookie = session_cookie(&dual_in).expect("dual signs in");
    assert_eq!(me(&app, &dual_cookie).await["team"]["id"], dual_team.as_str());
    let switched = app.call("switch_team", &input(&[("team_id", &team)]), Some(&dual_cookie)).await;
    assert_eq!(error_body(switched).await["code"], "single_sign_on_required");
    // Leaving the other team does not fall back into this one: the session ends.
    let triple_in = app.sign_in_as(&triple.email, PASSWORD, None).await;
    let triple_cookie = session_cookie(&triple_in).expect("triple signs in");
    assert_eq!(me(&app, &triple_cookie).await["team"]["id"], other_team.as_str());
    let left = app.call("leave_team", &[], Some(&triple_cookie)).await;
    assert_eq!(left.status(), StatusCode::OK);
    assert!(left.json::<serde_json::Value>().await.expect("json").is_null(), "no team to go on to");
    assert!(me(&app, &triple_cookie).await.is_null());
    // Invitations are no door either.
    let accepted = app
        .call(
            "sign_up_with_invitation",
            &input(&[("token", &pending), ("display_name", "Late"), ("password", PASSWORD)]),
            None,
        )
        .await;
    assert_eq!(error_body(accepted).await["code"], "single_sign_on_required");

    // The owner's break-glass: password, then the code.
    let first = app.sign_in_as(&owner.email, PASSWORD, None).await;
    let pending_cookie = session_cookie(&first).expect("pending session");
    assert_eq!(error_body(first).await["code"], "second_factor_required");
    // (The code of the next step: the one that turned it on is spent.)
    app.clock.advance(std::time::Duration::from_secs(30));
    let code = totp_code(&secret, app.unix_secs());
    let second = app.call("second_factor", &input(&[("code", &code)]), Some(&pending_cookie)).await;
    assert_eq!(second.status(), StatusCode::OK, "break-glass sign-in");
    let glass = session_cookie(&second).expect("cookie");
    assert_eq!(me(&app, &glass).await["team"]["id"], team.as_str());
    // And the break-glass cannot be dropped while single sign-on is required.
    app.clock.advance(std::time::Duration::from_secs(30));
    let code = totp_code(&secret, app.unix_secs());
    let dropped = app.call("disable_two_factor", &input(&[("code", &code)]), Some(&glass)).await;
    assert_eq!(error_body(dropped).await["code"], "conflict");

    // Through the provider, a newcomer is in.
    provider.account("sam", &fresh_email("sam"), true, false).await;
    let browser = Browser::new(&app.address);
    assert_eq!(browser.get(&browser.to_callback(&team, "sam").await).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &browser.cookie()).await["team"]["id"], team.as_str());
}

#[tokio::test]
async fn a_disabled_provider_account_is_refused_and_its_session_ends_with_its_lifetime() {
    let app = sso_app().await;
    let provider = TestProvider::start();
    let (owner, team) = app.owner("leaver").await;
    assert_eq!(configure(&app, &provider, &owner.cookie, "NORMAL", &[], false).await.status(), StatusCode::OK);
    provider.account("lee", &fresh_email("lee"), true, false).await;
    let browser = Browser::new(&app.address);
    assert_eq!(browser.get(&browser.to_callback(&team, "lee").await).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &browser.cookie()).await["team"]["id"], team.as_str());

    // Disabled at the provider: the next sign-in is refused there, and by Moth.
    provider.account("lee", &fresh_email("lee"), true, true).await;
    let next = Browser::new(&app.address);
    let callback = next.to_callback(&team, "lee").await;
    assert!(callback.contains("error=access_denied"), "{callback}");
    assert_refused(&app, &next, &callback, "a disabled account").await;
    let log = events(&app, &owner.cookie).await;
    assert!(log.iter().any(|(e, d)| e == "sso_refused" && d.contains("provider refused")), "{log:?}");

    // A member the OWNER removes does not come back through the provider.
    provider.account("rae", &fresh_email("rae"), true, false).await;
    let rae = Browser::new(&app.address);
    assert_eq!(rae.get(&rae.to_callback(&team, "rae").await).await.status(), StatusCode::SEE_OTHER);
    let rae_id = me(&app, &rae.cookie()).await["user"]["id"].as_str().expect("id").to_owned();
    let removed = app.call("remove_member", &input(&[("user_id", &rae_id)]), Some(&owner.cookie)).await;
    assert_eq!(removed.status(), StatusCode::OK);
    let back = Browser::new(&app.address);
    assert_refused(&app, &back, &back.to_callback(&team, "rae").await, "a removed member").await;

    // The session already made lives no longer than a session's absolute lifetime.
    let lifetime = server::config::Config::default().session_absolute_timeout();
    app.clock.advance(lifetime + std::time::Duration::from_secs(1));
    assert!(me(&app, &browser.cookie()).await.is_null(), "the leaver's session has ended");
}

#[tokio::test]
async fn failed_callbacks_count_towards_a_ban_like_failed_passwords() {
    let app = spawn_app_with(|c| {
        c.allow_private_endpoints = true;
        c.ban_failures = 3;
    })
    .await;
    let provider = TestProvider::start();
    let (owner, team) = app.owner("bans").await;
    assert_eq!(configure(&app, &provider, &owner.cookie, "NORMAL", &[], false).await.status(), StatusCode::OK);
    let browser = Browser::new(&app.address);
    for _ in 0..3 {
        let forged = browser.get(&app.url("/sso/callback?code=x&state=forged")).await;
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    }
    let banned = browser.get(&app.url(&format!("/sso/{team}/start"))).await;
    assert_eq!(banned.status(), StatusCode::TOO_MANY_REQUESTS, "the address is banned");
    assert!(banned.headers().contains_key(header::RETRY_AFTER));
    let password = app.sign_in_as(&owner.email, PASSWORD, None).await;
    assert_eq!(error_body(password).await["code"], "rate_limited", "the same ban as for passwords");
}

#[tokio::test]
async fn configuring_sso_is_checked_and_validated() {
    let app = sso_app().await;
    let provider = TestProvider::start();
    let (owner, _) = app.owner("validate").await;
    let normal: Person = app.new_member(&owner.cookie, "NORMAL").await;
    // Only the OWNER.
    let refused = configure(&app, &provider, &normal.cookie, "NORMAL", &[], false).await;
    assert_eq!(error_body(refused).await["code"], "forbidden");
    // Newcomers are never made ADMIN or OWNER; domains are domains; the issuer must answer discovery.
    let admin = configure(&app, &provider, &owner.cookie, "ADMIN", &[], false).await;
    assert_eq!(error_body(admin).await["fields"][0]["field"], "new_member_role");
    let bad_domain = configure(&app, &provider, &owner.cookie, "NORMAL", &["not a domain"], false).await;
    assert_eq!(error_body(bad_domain).await["code"], "invalid_input");
    let form = input(&[
        ("issuer", "http://127.0.0.1:9/nothing-here"),
        ("display_name", "Nobody"),
        ("client_id", "x"),
        ("client_secret", "y"),
        ("new_member_role", "NORMAL"),
        ("required", "false"),
        ("enabled", "true"),
    ]);
    let silent = app.call("configure_sso", &form, Some(&owner.cookie)).await;
    assert_eq!(error_body(silent).await["fields"][0]["field"], "issuer");
    // No secret the first time: refused; afterwards an empty secret keeps the stored one.
    let mut no_secret = form.clone();
    no_secret.retain(|(k, _)| k != "input[issuer]" && k != "input[client_secret]");
    no_secret.push(("input[issuer]".into(), provider.issuer.clone()));
    no_secret.push(("input[client_secret]".into(), String::new()));
    let first = app.call("configure_sso", &no_secret, Some(&owner.cookie)).await;
    assert_eq!(error_body(first).await["fields"][0]["field"], "client_secret");
    assert_eq!(configure(&app, &provider, &owner.cookie, "NORMAL", &[], false).await.status(), StatusCode::OK);
    let kept = app.call("configure_sso", &no_secret, Some(&owner.cookie)).await;
    assert_eq!(kept.status(), StatusCode::OK, "an empty secret keeps the stored one");
}

#[tokio::test]
async fn an_account_with_two_factor_owes_it_after_the_provider_too() {
    let app = sso_app().await;
    let provider = TestProvider::start();
    let (owner, team) = app.owner("factor").await;
    assert_eq!(
        configure(&app, &provider, &owner.cookie, "NORMAL", &["example.org"], false).await.status(),
        StatusCode::OK
    );
    prove_domain(&app, &team, "example.org");
    let (tess, _) = app.owner("tess").await;
    let (secret, _) = app.enable_two_factor(&tess.cookie).await;
    provider.account("tess", &tess.email, true, false).await;

    // The link's confirmation owes the second factor too; only then is the identity linked.
    let browser = Browser::new(&app.address);
    assert_eq!(
        browser.get(&browser.to_callback(&team, "tess").await).await.headers()[header::LOCATION],
        "/signin?link=1"
    );
    let password = app.sign_in_as(&tess.email, PASSWORD, Some(&browser.cookie())).await;
    let pending = session_cookie(&password).expect("pending session");
    assert_eq!(error_body(password).await["code"], "second_factor_required");
    app.clock.advance(std::time::Duration::from_secs(30));
    let code = totp_code(&secret, app.unix_secs());
    let linked = app.call("second_factor", &input(&[("code", &code)]), Some(&pending)).await;
    assert_eq!(linked.status(), StatusCode::OK, "linked after the code");
    assert_eq!(me(&app, &session_cookie(&linked).expect("cookie")).await["team"]["id"], team.as_str());

    // Through the provider again: the session waits for the code and signs nobody in yet.
    let browser = Browser::new(&app.address);
    let owed = browser.get(&browser.to_callback(&team, "tess").await).await;
    assert_eq!(owed.headers()[header::LOCATION], "/signin?second_factor=1");
    assert!(me(&app, &browser.cookie()).await.is_null(), "nobody is signed in before the code");
    app.clock.advance(std::time::Duration::from_secs(30));
    let code = totp_code(&secret, app.unix_secs());
    let second = app.call("second_factor", &input(&[("code", &code)]), Some(&browser.cookie())).await;
    assert_eq!(second.status(), StatusCode::OK);
    let cookie = session_cookie(&second).expect("a new session id");
    assert_eq!(me(&app, &cookie).await["team"]["id"], team.as_str());
    let log = events(&app, &owner.cookie).await;
    assert!(log.iter().any(|(e, d)| e == "signed_in" && d.contains("authentication code")), "{log:?}");
    assert!(log.iter().any(|(e, _)| e == "sso_linked"), "{log:?}");
}

#[tokio::test]
async fn the_providers_sign_in_stands_for_the_second_factor_a_team_requires() {
    let app = sso_app().await;
    let provider = TestProvider::start();
    let (owner, team) = app.owner("mfa").await;
    app.enable_two_factor(&owner.cookie).await;
    let required = app.call("set_two_factor_requirement", &input(&[("required", "true")]), Some(&owner.cookie)).await;
    assert_eq!(required.status(), StatusCode::OK);
    assert_eq!(configure(&app, &provider, &owner.cookie, "NORMAL", &[], false).await.status(), StatusCode::OK);
    // A member by password without two-factor authentication can do nothing yet...
    let member = app.new_member(&owner.cookie, "NORMAL").await;
    let blocked = app.call("list_projects", &[], Some(&member.cookie)).await;
    assert_eq!(error_body(blocked).await["code"], "two_factor_required");
    // ...one the provider signed in (an account with no password to turn Moth's on with) can.
    provider.account("una", &fresh_email("una"), true, false).await;
    let browser = Browser::new(&app.address);
    assert_eq!(browser.get(&browser.to_callback(&team, "una").await).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &browser.cookie()).await["two_factor_setup_required"], false);
    assert_eq!(app.call("list_projects", &[], Some(&browser.cookie())).await.status(), StatusCode::OK);
}
