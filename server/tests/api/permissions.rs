//! T3: the permission matrix in `permissions.csv` drives these tests; every cell is tried against the
//! running server, the allowed answer and the refused one. Refusals must change nothing, and a member
//! of another team must neither see nor change anything of team A.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use reqwest::StatusCode;

use crate::helpers::{fresh_email, input, spawn_app, spawn_app_with, Person, TestApp, PASSWORD};

const ACTORS: [&str; 7] = ["owner", "admin", "normal", "guest", "non_member", "anonymous", "other_team"];

struct Row {
    scenario: String,
    endpoint: String,
    /// What to make before each call (see [`World::given`]).
    given: String,
    /// The call's fields, as templates (see [`World::prepare`]).
    input: String,
    expected: HashMap<&'static str, bool>,
}

/// The columns before the actors'.
const LEADING: [&str; 4] = ["scenario", "endpoint", "given", "input"];

fn matrix() -> Vec<Row> {
    let text = include_str!("permissions.csv");
    let mut lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert_eq!(header[..LEADING.len()], LEADING);
    assert_eq!(header[LEADING.len()..], ACTORS, "actor columns");
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), header.len(), "{line}");
            let expected = ACTORS
                .iter()
                .zip(&cells[LEADING.len()..])
                .map(|(actor, cell)| match *cell {
                    "allow" => (*actor, true),
                    "deny" => (*actor, false),
                    other => panic!("cell {other:?} in {line}"),
                })
                .collect();
            let [scenario, endpoint, given, input] = [0, 1, 2, 3].map(|i| cells[i].to_owned());
            Row { scenario, endpoint, given, input, expected }
        })
        .collect()
}

/// Team A with one member of each role, a removed member, another team's owner, and a third team
/// whose invitations the actors receive.
struct World {
    app: Arc<TestApp>,
    team_a: String,
    owner: Person,
    actors: HashMap<&'static str, Person>,
    third_team_owner: Person,
    /// A spare account for signing in.
    spare: Person,
    /// Team A's public project (normal and guest are members) and private one (normal is a member).
    public_project: String,
    private_project: String,
    /// The public project's key.
    public_key: String,
    /// The first and last status of the public project's workflow.
    first_status: String,
    last_status: String,
    /// Each actor's access token for the REST rows: read and write, and admin for OWNER and ADMIN
    /// (the removed member's was made before the removal, which deleted it).
    tokens: HashMap<&'static str, String>,
}

/// `person` makes an access token with `scopes`: its secret.
async fn access_token(app: &TestApp, person: &Person, scopes: &[&str]) -> String {
    let mut form = input(&[("name", "matrix")]);
    for (i, scope) in scopes.iter().enumerate() {
        form.push((format!("input[scopes][{i}]"), (*scope).to_owned()));
    }
    let made: serde_json::Value =
        app.call("create_access_token", &form, Some(&person.cookie)).await.json().await.expect("json");
    made["secret"].as_str().expect("secret").to_owned()
}

async fn world(app: Arc<TestApp>) -> World {
    let (owner, team_a) = app.owner("owner").await;
    let admin = app.new_member(&owner.cookie, "ADMIN").await;
    let normal = app.new_member(&owner.cookie, "NORMAL").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    let removed = app.new_member(&owner.cookie, "NORMAL").await;
    let removed_token = access_token(&app, &removed, &["read", "write"]).await;
    let gone = app.call("remove_member", &input(&[("user_id", &removed.user_id)]), Some(&owner.cookie)).await;
    assert_eq!(gone.status(), StatusCode::OK);
    let (other, _) = app.owner("other").await;
    let (third_team_owner, _) = app.owner("third").await;
    let (spare, _) = app.owner("spare").await;
    let actors = HashMap::from([
        ("owner", owner.clone()),
        ("admin", admin),
        ("normal", normal),
        ("guest", guest),
        ("non_member", removed),
        ("other_team", other),
    ]);
    let mut tokens = HashMap::from([("non_member", removed_token)]);
    for (actor, person) in &actors {
        let scopes: &[&str] = if matches!(*actor, "owner" | "admin" | "other_team") {
            &["read", "write", "admin"]
        } else {
            &["read", "write"]
        };
        if *actor != "non_member" {
            tokens.insert(*actor, access_token(&app, person, scopes).await);
        }
    }
    let (public_project, public_key) = app.project(&owner.cookie, "public").await;
    let (private_project, _) = app.project(&owner.cookie, "private").await;
    for who in ["normal", "guest"] {
        app.add_to_project(&owner.cookie, &public_project, &actors[who].user_id).await;
    }
    app.add_to_project(&owner.cookie, &private_project, &actors["normal"].user_id).await;
    let detail: serde_json::Value =
        app.call("get_project", &input(&[("key", &public_key)]), Some(&owner.cookie)).await.json().await.expect("json");
    let statuses = detail["statuses"].as_array().expect("statuses");
    let status = |i: usize| statuses[i]["id"].as_str().expect("status id").to_owned();
    let (first_status, last_status) = (status(0), status(statuses.len() - 1));
    World {
        app,
        team_a,
        owner,
        actors,
        third_team_owner,
        spare,
        public_project,
        private_project,
        public_key,
        first_status,
        last_status,
        tokens,
    }
}

impl World {
    fn cookie(&self, actor: &str) -> Option<&str> {
        self.actors.get(actor).map(|p| p.cookie.as_str())
    }

    /// The call of `row` as `actor`: what its `given` cell asks for is made in team A (afresh for each
    /// call), then its `input` cell is filled in with what was made and what the world holds.
    async fn prepare(&self, row: &Row, actor: &str) -> Vec<(String, String)> {
        let made = self.made_for(row, actor).await;
        row.input
            .split(';')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (name, template) = pair.split_once('=').unwrap_or_else(|| panic!("{pair:?} in {}", row.scenario));
                (format!("input[{}]", name.replace('.', "][")), fill_in(template, &made, &row.scenario))
            })
            .collect()
    }

    /// What the world holds and what `row`'s `given` cell makes, for filling in its templates.
    async fn made_for(&self, row: &Row, actor: &str) -> HashMap<&'static str, String> {
        let mut made: HashMap<&'static str, String> = HashMap::from([
            ("team_a", self.team_a.clone()),
            ("public_project", self.public_project.clone()),
            ("public_key", self.public_key.clone()),
            ("private_project", self.private_project.clone()),
            ("first_status", self.first_status.clone()),
            ("last_status", self.last_status.clone()),
            ("normal_id", self.actors["normal"].user_id.clone()),
            ("spare_email", self.spare.email.clone()),
            ("password", PASSWORD.to_owned()),
            ("fresh_email", fresh_email("new")),
            ("fresh_key", fresh_key()),
        ]);
        for step in row.given.split('+').filter(|s| !s.is_empty()) {
            self.given(step, actor, &mut made).await;
        }
        made
    }

    /// A REST row's request (`endpoint` = `REST <METHOD> <path template>`) as `actor`, with their token:
    /// the `input` cell's fields become the JSON body's (text values), or `raw:<text>` is the raw body.
    async fn prepare_rest(&self, row: &Row, rest: &str, actor: &str) -> reqwest::RequestBuilder {
        let (method, route) = rest.split_once(' ').unwrap_or_else(|| panic!("method and path in {}", row.scenario));
        let made = self.made_for(row, actor).await;
        let path = fill_in(route, &made, &row.scenario);
        let body: serde_json::Map<String, serde_json::Value> = row
            .input
            .split(';')
            .filter(|pair| !pair.is_empty())
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, template)| (name.to_owned(), fill_in(template, &made, &row.scenario).into()))
            .collect();
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.app.http.request(method.clone(), self.app.url(&path));
        if let Some(token) = self.tokens.get(actor) {
            request = request.bearer_auth(token);
        }
        if let Some(raw) = row.input.strip_prefix("raw:") {
            request = request.header("content-type", "application/octet-stream").body(raw.to_owned());
        } else if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
            request = request.json(&body);
        }
        request
    }

    /// The path and body of a route's row (`endpoint` = `POST <path template>`, `input` = the body).
    async fn prepare_route(&self, row: &Row, route: &str, actor: &str) -> (String, String) {
        let mut made: HashMap<&'static str, String> = HashMap::new();
        for step in row.given.split('+').filter(|s| !s.is_empty()) {
            self.given(step, actor, &mut made).await;
        }
        (fill_in(route, &made, &row.scenario), fill_in(&row.input, &made, &row.scenario))
    }

    /// The id of a view the normal member saves of the world's public project, personal or shared.
    async fn normals_view(&self, shared: bool) -> String {
        let name = fresh_key();
        let shared = if shared { "true" } else { "false" };
        let form = input(&[("project_id", &self.public_project), ("name", &name), ("shared", shared)]);
        let saved = self.app.call("save_view", &form, Some(&self.actors["normal"].cookie)).await;
        let views: serde_json::Value = saved.json().await.expect("json");
        let view = views.as_array().expect("views").iter().find(|v| v["name"] == name.as_str()).expect("saved");
        view["id"].as_str().expect("id").to_owned()
    }

    /// The `two_factor:started|enabled` step, for the acting user: a key being set up ("started"), or
    /// in force ("enabled"); the codes are the current one and the next step's (a code in force is not
    /// taken twice).
    async fn two_factor_codes(&self, which: &str, actor: &str, made: &mut HashMap<&'static str, String>) {
        let app = &self.app;
        let mut secret = None;
        if let Some(cookie) = self.cookie(actor) {
            let setup = app.call("start_two_factor", &[], Some(cookie)).await;
            let setup: serde_json::Value = setup.json().await.unwrap_or_default();
            secret = setup["secret"].as_str().map(str::to_owned);
            if let Some(key) = secret.as_deref().filter(|_| which == "enabled") {
                let code = crate::helpers::totp_code(key, app.unix_secs());
                let form = crate::helpers::input(&[("code", &code), ("password", crate::helpers::PASSWORD)]);
                app.call("enable_two_factor", &form, Some(cookie)).await;
            }
        }
        // Actors who may not set it up get a key of their own making: their code is refused anyway.
        let secret = secret.unwrap_or_else(|| "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".to_owned());
        let now = app.unix_secs();
        made.insert("totp_code", crate::helpers::totp_code(&secret, now));
        made.insert("totp_code_next", crate::helpers::totp_code(&secret, now + 30));
    }

    /// The id of a new read token of `who` (an actor of team A).
    async fn token_id_of(&self, who: &str) -> String {
        let form = input(&[("name", "CI"), ("scopes][0", "read")]);
        let made = self.app.call("create_access_token", &form, Some(&self.actors[who].cookie)).await;
        let made: serde_json::Value = made.json().await.expect("json");
        made["token"]["id"].as_str().expect("token id").to_owned()
    }

    /// Makes one object of a `given` cell as team A's owner, and records its ids in `made`.
    async fn given(&self, step: &str, actor: &str, made: &mut HashMap<&'static str, String>) {
        let app = &self.app;
        let owner = self.owner.cookie.as_str();
        let (kind, which) = step.split_once(':').unwrap_or((step, ""));
        match kind {
            "project" => {
                let (id, key) = app.project(owner, which).await;
                made.extend([("project", id), ("project_key", key)]);
            }
            "add" => app.add_to_project(owner, &made["project"], &self.actors[which].user_id).await,
            "issue" => {
                let issue = app.issue(owner, &self.public_project, which).await;
                let (key, number) = issue.reference.split_once('-').expect("KEY-n");
                made.extend([("issue_key", key.to_owned()), ("issue_number", number.to_owned()), ("issue", issue.id)]);
            }
            "sso_provider" => drop(made.insert("sso_issuer", shared_provider().issuer.clone())),
            "member" => {
                made.insert("member", app.new_member(owner, which).await.user_id);
            }
            "invitation" => {
                made.insert("invitation", app.invite(owner, &fresh_email("invitee"), which).await.0);
            }
            "foreign_invitation" => {
                let actor_email = self.actors.get(actor).map(|p| p.email.clone()).filter(|_| which == "actor");
                let email = actor_email.unwrap_or_else(|| fresh_email("invitee"));
                made.insert("token", app.invite(&self.third_team_owner.cookie, &email, "NORMAL").await.1);
            }
            "comment" => {
                // "actor": the actor's own comment when they may comment at all, else the owner's.
                let author = match which {
                    "actor" => {
                        self.actors.get(actor).filter(|_| matches!(actor, "owner" | "admin" | "normal" | "guest"))
                    }
                    other => self.actors.get(other),
                };
                let author = author.map_or(owner, |p| p.cookie.as_str());
                made.insert("comment", app.comment(author, &made["issue"], "Team comment", false).await);
            }
            "attachment" => {
                let issue = app.issue(owner, &self.public_project, which).await;
                let (key, number) = issue.reference.split_once('-').expect("KEY-n");
                made.extend([("issue_key", key.to_owned()), ("issue_number", number.to_owned())]);
                made.insert("attachment", app.attach(owner, &issue.id).await);
            }
            "two_factor" => self.two_factor_codes(which, actor, made).await,
            "comment_attachment" => {
                let issue = app.issue(owner, &self.public_project, "public").await;
                let comment = app.comment(owner, &issue.id, "Team comment", which == "internal").await;
                made.insert("attachment", app.attach_to_comment(owner, &comment, "notes.txt").await);
            }
            "published_project" => {
                made.insert("project", app.published_project(owner).await);
            }
            "published_issue" => {
                let form = vec![
                    ("input[project_id]".to_owned(), made["project"].clone()),
                    ("input[fields][title]".to_owned(), "Open issue".to_owned()),
                    ("input[fields][visibility]".to_owned(), which.to_owned()),
                ];
                assert_eq!(app.call("create_issue", &form, Some(owner)).await.status(), StatusCode::OK);
            }
            "view" => {
                made.insert("view", self.normals_view(which == "shared").await);
            }
            "access_token" => {
                made.insert("access_token", self.token_id_of(which).await);
            }
            "webhook" => {
                // A public address given as a literal (no name to resolve on a machine without DNS).
                let form = input(&[
                    ("project_id", &self.public_project),
                    ("url", "https://93.184.215.14/moth"),
                    ("events][0", "issue.created"),
                    ("internal", "false"),
                ]);
                let made_hook: serde_json::Value =
                    app.call("create_webhook", &form, Some(owner)).await.json().await.expect("json");
                made.insert("webhook", made_hook["webhook"]["id"].as_str().expect("webhook id").to_owned());
            }
            other => panic!("no such set-up step: {other}"),
        }
    }

    /// Text that would show team A's data: its id and its members' emails.
    fn team_a_secrets(&self) -> Vec<String> {
        let mut secrets: Vec<String> =
            ["owner", "admin", "normal", "guest"].iter().map(|a| self.actors[a].email.clone()).collect();
        secrets.push(self.team_a.clone());
        // Every project of team A is named "Team project N".
        secrets.push("Team project".into());
        secrets.push("Team issue".into());
        secrets.push("Team comment".into());
        secrets
    }
}

/// Whether an answer is a proper refusal: 401, 403 or 404, with the error code of that status
/// (`unauthenticated`, `forbidden`, `not_found`) in a JSON error body.
fn refusal(status: StatusCode, body: &str) -> Result<(), String> {
    let expected = match status {
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        other => return Err(format!("status {other}")),
    };
    let parsed: serde_json::Value = serde_json::from_str(body).map_err(|_| "no JSON error body".to_owned())?;
    if parsed["code"] != expected || !parsed["message"].is_string() {
        return Err(format!("code {} with status {status}", parsed["code"]));
    }
    Ok(())
}

/// `template` with each `{name}` replaced by what `made` holds under that name.
fn fill_in(template: &str, made: &HashMap<&'static str, String>, scenario: &str) -> String {
    let mut filled = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = start + rest[start..].find('}').unwrap_or_else(|| panic!("unclosed {{ in {scenario}"));
        let name = &rest[start + 1..end];
        let value = made.get(name).unwrap_or_else(|| panic!("{scenario} uses {{{name}}}, which nothing made"));
        filled.push_str(&rest[..start]);
        filled.push_str(value);
        rest = &rest[end + 1..];
    }
    filled.push_str(rest);
    filled
}

/// One test identity provider for the whole matrix, started when a row first needs it; it ends with
/// the test process (see `oidc::TestProvider`).
fn shared_provider() -> &'static crate::oidc::TestProvider {
    static PROVIDER: std::sync::OnceLock<crate::oidc::TestProvider> = std::sync::OnceLock::new();
    PROVIDER.get_or_init(crate::oidc::TestProvider::start)
}

/// A project key no other test uses.
fn fresh_key() -> String {
    format!("N{}", &uuid::Uuid::new_v4().simple().to_string()[..6]).to_uppercase()
}

#[tokio::test]
async fn every_server_function_is_in_the_matrix() {
    let in_matrix: BTreeSet<String> = matrix()
        .into_iter()
        .map(|r| r.endpoint)
        .filter(|e| !e.starts_with("POST ") && !e.starts_with("REST "))
        .collect();
    let registered: BTreeSet<String> =
        server_fn::axum::server_fn_paths().map(|(path, _)| path.trim_start_matches("/api/").to_owned()).collect();
    assert_eq!(in_matrix, registered, "permissions.csv and the server functions differ");
}

/// Every method of every REST route (`http/rest/mod.rs`) has a row: the token door is enumerated
/// like the server functions.
#[tokio::test]
async fn every_rest_operation_is_in_the_matrix() {
    let operations = crate::helpers::rest_operations();
    // Rows name a route's parameters by what the set-up made: `{public_key}` is a `{key}`.
    // A row's query (`?name=…`) is part of its input, not of the route.
    let normalise = |path: &str| {
        let path = path.split('?').next().unwrap_or_default();
        path.split('/')
            .map(|part| match part {
                "{public_key}" | "{project_key}" | "{issue_key}" => "{key}",
                "{issue_number}" => "{number}",
                "{comment}" => "{comment_id}",
                "{attachment}" => "{attachment_id}",
                other => other,
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let in_matrix: BTreeSet<String> =
        matrix().into_iter().filter_map(|r| r.endpoint.strip_prefix("REST ").map(&normalise)).collect();
    assert_eq!(in_matrix, operations, "permissions.csv and the REST API differ");
}

#[tokio::test]
async fn every_cell_of_the_permission_matrix_holds() {
    let mut failures = Vec::new();
    // One server for the whole matrix (each row builds its own teams on it): a server per row would
    // hold dozens of connection pools open on PostgreSQL.
    // The single sign-on rows configure a provider on 127.0.0.1, which the SSRF guard allows only so.
    let app = Arc::new(spawn_app_with(|c| c.allow_private_endpoints = true).await);
    for row in matrix() {
        let world = world(app.clone()).await;
        for actor in ACTORS {
            let allowed = row.expected[actor];
            let before;
            let response = if let Some(rest) = row.endpoint.strip_prefix("REST ") {
                // The REST API, with the actor's token (none for the anonymous).
                let request = world.prepare_rest(&row, rest, actor).await;
                before = world.app.team_digest(&world.team_a).await;
                request.send().await.expect("REST call")
            } else if let Some(route) = row.endpoint.strip_prefix("POST ") {
                // A route rather than a server function: the input is its raw body.
                let (path, body) = world.prepare_route(&row, route, actor).await;
                before = world.app.team_digest(&world.team_a).await;
                world.app.post_raw(&path, body, world.cookie(actor)).await
            } else {
                let form = world.prepare(&row, actor).await;
                before = world.app.team_digest(&world.team_a).await;
                world.app.call(&row.endpoint, &form, world.cookie(actor)).await
            };
            let status = response.status();
            let body = response.text().await.expect("body");
            let after = world.app.team_digest(&world.team_a).await;
            let cell = format!("{} as {actor}: {status} {body}", row.scenario);
            if allowed && !status.is_success() {
                failures.push(format!("should be allowed: {cell}"));
            }
            if !allowed {
                if let Err(why) = refusal(status, &body) {
                    failures.push(format!("should be refused ({why}): {cell}"));
                }
                if before != after {
                    failures.push(format!("a refused request changed team A: {cell}"));
                }
            }
            if actor == "other_team" {
                if before != after {
                    failures.push(format!("another team's member changed team A: {cell}"));
                }
                if let Some(secret) = world.team_a_secrets().into_iter().find(|s| body.contains(s.as_str())) {
                    failures.push(format!("team A's {secret} shown to another team: {cell}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} cells failed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn the_removed_member_of_the_matrix_has_really_lost_access() {
    let world = world(Arc::new(spawn_app().await)).await;
    let removed = &world.actors["non_member"];
    assert_eq!(world.app.whoami_email(&removed.cookie).await, None);
    let members = world.app.call("list_members", &[], Some(&removed.cookie)).await;
    assert_eq!(members.status(), StatusCode::UNAUTHORIZED);
}
