//! T3: the permission matrix in `permissions.csv` drives these tests; every cell is tried against the
//! running server, the allowed answer and the refused one. Refusals must change nothing, and a member
//! of another team must neither see nor change anything of team A.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Arc,
};

use reqwest::StatusCode;

use crate::helpers::{fresh_email, input, spawn_app, Person, TestApp, PASSWORD};

const ACTORS: [&str; 7] = ["owner", "admin", "normal", "guest", "non_member", "anonymous", "other_team"];

struct Row {
    scenario: String,
    endpoint: String,
    expected: HashMap<&'static str, bool>,
}

fn matrix() -> Vec<Row> {
    let text = include_str!("permissions.csv");
    let mut lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert_eq!(header[..2], ["scenario", "endpoint"]);
    assert_eq!(header[2..], ACTORS, "actor columns");
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), header.len(), "{line}");
            let expected = ACTORS
                .iter()
                .zip(&cells[2..])
                .map(|(actor, cell)| match *cell {
                    "allow" => (*actor, true),
                    "deny" => (*actor, false),
                    other => panic!("cell {other:?} in {line}"),
                })
                .collect();
            Row { scenario: cells[0].to_owned(), endpoint: cells[1].to_owned(), expected }
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
    /// The first and last status of the public project's workflow.
    first_status: String,
    last_status: String,
}

async fn world(app: Arc<TestApp>) -> World {
    let (owner, team_a) = app.owner("owner").await;
    let admin = app.new_member(&owner.cookie, "ADMIN").await;
    let normal = app.new_member(&owner.cookie, "NORMAL").await;
    let guest = app.new_member(&owner.cookie, "GUEST").await;
    let removed = app.new_member(&owner.cookie, "NORMAL").await;
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
        first_status,
        last_status,
    }
}

impl World {
    fn cookie(&self, actor: &str) -> Option<&str> {
        self.actors.get(actor).map(|p| p.cookie.as_str())
    }

    #[allow(clippy::too_many_lines)] // one arm per scenario reads best as one table
    /// Prepares what `scenario` needs as `actor` (fresh targets in team A) and answers the call to make.
    async fn prepare(&self, scenario: &str, actor: &str) -> (&'static str, Vec<(String, String)>) {
        let app = &self.app;
        let owner = self.owner.cookie.as_str();
        let one = |k: &str, v: &str| input(&[(k, v)]);
        let change = |user: &str, role: &str| input(&[("user_id", user), ("role", role)]);
        match scenario {
            "sign_up" => {
                let form = input(&[
                    ("email", &fresh_email("new")),
                    ("display_name", "New"),
                    ("password", PASSWORD),
                    ("team_name", "New team"),
                ]);
                ("sign_up", form)
            }
            "sign_in" => ("sign_in", input(&[("email", &self.spare.email), ("password", PASSWORD)])),
            "sign_out" | "who_am_i" | "my_teams" | "list_members" | "list_invitations" | "leave_team" | "audit_log" => {
                (endpoint(scenario), Vec::new())
            }
            "list_projects" => {
                app.project(owner, "private").await;
                ("list_projects", Vec::new())
            }
            "switch_team_to_team_a" => ("switch_team", one("team_id", &self.team_a)),
            "invite_admin" | "invite_normal" | "invite_guest" => {
                let role = scenario.trim_start_matches("invite_").to_uppercase();
                ("invite", input(&[("email", &fresh_email("invitee")), ("role", &role)]))
            }
            "revoke_admin_invitation" | "revoke_normal_invitation" => {
                let role = if scenario.contains("admin") { "ADMIN" } else { "NORMAL" };
                let (id, _) = app.invite(owner, &fresh_email("revokee"), role).await;
                ("revoke_invitation", one("invitation_id", &id))
            }
            "invitation_info" => {
                let (_, token) = app.invite(&self.third_team_owner.cookie, &fresh_email("info"), "NORMAL").await;
                ("invitation_info", one("token", &token))
            }
            "accept_own_invitation" => {
                let email = self.actors.get(actor).map_or_else(|| fresh_email("anon"), |p| p.email.clone());
                let (_, token) = app.invite(&self.third_team_owner.cookie, &email, "NORMAL").await;
                ("accept_invitation", one("token", &token))
            }
            "sign_up_with_invitation" => {
                let (_, token) = app.invite(&self.third_team_owner.cookie, &fresh_email("joiner"), "GUEST").await;
                let form = input(&[("token", &token), ("display_name", "Joiner"), ("password", PASSWORD)]);
                ("sign_up_with_invitation", form)
            }
            "change_normal_to_guest"
            | "change_guest_to_normal"
            | "change_normal_to_admin"
            | "change_admin_to_normal" => {
                let parts: Vec<&str> = scenario.trim_start_matches("change_").split("_to_").collect();
                let target = app.new_member(owner, &parts[0].to_uppercase()).await;
                ("change_role", change(&target.user_id, &parts[1].to_uppercase()))
            }
            "remove_normal" | "remove_guest" | "remove_admin" => {
                let role = scenario.trim_start_matches("remove_").to_uppercase();
                let target = app.new_member(owner, &role).await;
                ("remove_member", one("user_id", &target.user_id))
            }
            "transfer_ownership_to_normal" => {
                let target = app.new_member(owner, "NORMAL").await;
                ("transfer_ownership", one("user_id", &target.user_id))
            }
            "create_project" => {
                let key = format!("N{}", uuid::Uuid::new_v4().simple().to_string()[..6].to_uppercase());
                let key = key.replace(|c: char| !c.is_ascii_alphanumeric(), "X");
                ("create_project", input(&[("name", "Brand-new project"), ("key", &key), ("visibility", "private")]))
            }
            "open_private_project_of_normal" => {
                let (id, key) = app.project(owner, "private").await;
                app.add_to_project(owner, &id, &self.actors["normal"].user_id).await;
                ("open_project", one("key", &key))
            }
            "open_public_project_of_guest" => {
                let (id, key) = app.project(owner, "public").await;
                app.add_to_project(owner, &id, &self.actors["guest"].user_id).await;
                ("open_project", one("key", &key))
            }
            "get_private_project_of_normal" => {
                let (id, key) = app.project(owner, "private").await;
                app.add_to_project(owner, &id, &self.actors["normal"].user_id).await;
                ("get_project", one("key", &key))
            }
            "get_public_project_of_guest" => {
                let (id, key) = app.project(owner, "public").await;
                app.add_to_project(owner, &id, &self.actors["guest"].user_id).await;
                ("get_project", one("key", &key))
            }
            "update_project" => {
                let (id, _) = app.project(owner, "public").await;
                let form = input(&[
                    ("project_id", &id),
                    ("name", "Team project renamed"),
                    ("visibility", "public"),
                    ("published", "true"),
                ]);
                ("update_project", form)
            }
            "archive_project" => {
                let (id, _) = app.project(owner, "private").await;
                ("archive_project", input(&[("project_id", &id), ("archived", "true")]))
            }
            "add_project_member" => {
                let (id, _) = app.project(owner, "private").await;
                ("add_project_member", input(&[("project_id", &id), ("user_id", &self.actors["normal"].user_id)]))
            }
            "remove_project_member" => {
                let (id, _) = app.project(owner, "private").await;
                app.add_to_project(owner, &id, &self.actors["normal"].user_id).await;
                ("remove_project_member", input(&[("project_id", &id), ("user_id", &self.actors["normal"].user_id)]))
            }
            "create_issue_in_public_project" | "create_issue_in_private_project" => {
                let project = if scenario.contains("public") { &self.public_project } else { &self.private_project };
                let form = vec![
                    ("input[project_id]".to_owned(), project.clone()),
                    ("input[fields][title]".to_owned(), "Team issue filed".to_owned()),
                ];
                ("create_issue", form)
            }
            "get_public_issue" | "get_internal_issue" => {
                let visibility = if scenario.contains("public") { "public" } else { "internal" };
                let issue = app.issue(owner, &self.public_project, visibility).await;
                let (key, number) = issue.reference.split_once('-').expect("KEY-n");
                ("get_issue", input(&[("key", key), ("number", number)]))
            }
            "list_issues" => {
                app.issue(owner, &self.public_project, "public").await;
                ("list_issues", one("project_id", &self.public_project))
            }
            "update_internal_issue" => {
                let issue = app.issue(owner, &self.public_project, "internal").await;
                let status = self.first_status.clone();
                let form = vec![
                    ("input[issue_id]".to_owned(), issue.id),
                    ("input[status_id]".to_owned(), status),
                    ("input[fields][title]".to_owned(), "Team issue edited".to_owned()),
                ];
                ("update_issue", form)
            }
            "change_status_of_public_issue" => {
                let issue = app.issue(owner, &self.public_project, "public").await;
                ("change_status", input(&[("issue_id", &issue.id), ("status_id", &self.last_status)]))
            }
            "delete_issue" => {
                let issue = app.issue(owner, &self.public_project, "public").await;
                ("delete_issue", one("issue_id", &issue.id))
            }
            "comment_on_public_issue" | "comment_on_internal_issue" => {
                let visibility = if scenario.contains("public") { "public" } else { "internal" };
                let issue = app.issue(owner, &self.public_project, visibility).await;
                ("add_comment", input(&[("issue_id", &issue.id), ("body", "Team comment")]))
            }
            "edit_own_comment" => {
                let issue = app.issue(owner, &self.public_project, "public").await;
                let author = self.actors.get(actor).filter(|_| matches!(actor, "owner" | "admin" | "normal" | "guest"));
                let author = author.map_or(owner, |p| p.cookie.as_str());
                let comment = app.comment(author, &issue.id, "Team comment", false).await;
                ("edit_comment", input(&[("comment_id", &comment), ("body", "Team comment edited")]))
            }
            "edit_owners_comment" => {
                let issue = app.issue(owner, &self.public_project, "public").await;
                let comment = app.comment(owner, &issue.id, "Team comment", false).await;
                ("edit_comment", input(&[("comment_id", &comment), ("body", "Team comment edited")]))
            }
            "delete_normals_comment" => {
                let issue = app.issue(owner, &self.public_project, "public").await;
                let comment = app.comment(&self.actors["normal"].cookie, &issue.id, "Team comment", false).await;
                ("delete_comment", one("comment_id", &comment))
            }
            "read_published_project" => {
                let id = app.published_project(owner).await;
                ("published_project", one("project_id", &id))
            }
            "read_unpublished_project" => {
                let (id, _) = app.project(owner, "public").await;
                ("published_project", one("project_id", &id))
            }
            "list_published_issues" => {
                let id = app.published_project(owner).await;
                ("published_issues", one("project_id", &id))
            }
            "read_public_issue_of_published_project" | "read_internal_issue_of_published_project" => {
                let id = app.published_project(owner).await;
                let visibility = if scenario.contains("public_issue") { "public" } else { "internal" };
                let form = vec![
                    ("input[project_id]".to_owned(), id.clone()),
                    ("input[fields][title]".to_owned(), "Open issue".to_owned()),
                    ("input[fields][visibility]".to_owned(), visibility.to_owned()),
                ];
                assert_eq!(app.call("create_issue", &form, Some(owner)).await.status(), StatusCode::OK);
                ("published_issue", input(&[("project_id", &id), ("number", "1")]))
            }
            "add_status" => {
                let (id, _) = app.project(owner, "private").await;
                ("add_status", input(&[("project_id", &id), ("name", "Blocked"), ("category", "in_progress")]))
            }
            "edit_status" => {
                ("edit_status", input(&[("status_id", &self.first_status), ("name", "Triage"), ("position", "2")]))
            }
            other => panic!("scenario {other} has no steps in permissions.rs"),
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

/// The endpoint of a scenario named after it.
fn endpoint(scenario: &str) -> &'static str {
    ["sign_out", "who_am_i", "my_teams", "list_members", "list_invitations", "leave_team", "audit_log", "list_projects"]
        .into_iter()
        .find(|e| *e == scenario)
        .expect("a scenario named after its endpoint")
}

#[tokio::test]
async fn every_server_function_is_in_the_matrix() {
    let in_matrix: BTreeSet<String> = matrix().into_iter().map(|r| r.endpoint).collect();
    let registered: BTreeSet<String> =
        server_fn::axum::server_fn_paths().map(|(path, _)| path.trim_start_matches("/api/").to_owned()).collect();
    assert_eq!(in_matrix, registered, "permissions.csv and the server functions differ");
}

#[tokio::test]
async fn every_cell_of_the_permission_matrix_holds() {
    let mut failures = Vec::new();
    // One server for the whole matrix (each row builds its own teams on it): a server per row would
    // hold dozens of connection pools open on PostgreSQL.
    let app = Arc::new(spawn_app().await);
    for row in matrix() {
        let world = world(app.clone()).await;
        for actor in ACTORS {
            let allowed = row.expected[actor];
            let (endpoint, form) = world.prepare(&row.scenario, actor).await;
            assert_eq!(endpoint, row.endpoint, "{}", row.scenario);
            let before = world.app.team_digest(&world.team_a).await;
            let response = world.app.call(endpoint, &form, world.cookie(actor)).await;
            let status = response.status();
            let body = response.text().await.expect("body");
            let after = world.app.team_digest(&world.team_a).await;
            let cell = format!("{} as {actor}: {status} {body}", row.scenario);
            if allowed && status != StatusCode::OK {
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
