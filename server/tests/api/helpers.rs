//! `spawn_app()` and friends: a running Moth, a fresh database, and a client that speaks its API.

use std::{sync::Arc, time::Duration};

use reqwest::{header, Response, StatusCode};
use server::{clock::ManualClock, config::Config, startup::Application};
use sqlx::{Connection, Executor};
use tempfile::TempDir;

/// Starts the `moth` binary (`moth serve`) in `dir` with a clean environment, on a free port, with
/// these variables set; answers the process and the address it prints.
pub async fn spawn_binary(dir: &std::path::Path, env: &[(&str, &str)]) -> (std::process::Child, String) {
    let (child, address, _) = spawn_binary_logged(dir, env).await;
    (child, address)
}

/// The log lines a binary started by [`spawn_binary_logged`] has written so far.
pub type LogLines = Arc<std::sync::Mutex<Vec<String>>>;

/// [`spawn_binary`], also collecting every line the binary logs.
pub async fn spawn_binary_logged(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::process::Child, String, LogLines) {
    spawn_program(std::path::Path::new(env!("CARGO_BIN_EXE_moth")), dir, env).await
}

/// [`spawn_binary_logged`] with another `moth` program (another release's).
pub async fn spawn_program(
    program: &std::path::Path,
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::process::Child, String, LogLines) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(program)
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("MOTH_BIND", "127.0.0.1:0")
        .env("MOTH_FILES_BIND", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("moth starts");
    let stdout = child.stdout.take().expect("stdout");
    let log: LogLines = Arc::default();
    let kept = log.clone();
    let address = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
        let address = lines.find_map(|line| line.split("Moth is running at ").nth(1).map(str::to_owned));
        // Keep reading (and keeping) so that the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in lines {
                if let Ok(mut kept) = kept.lock() {
                    kept.push(line);
                }
            }
        });
        address
    })
    .await
    .expect("reader")
    .expect("moth prints its address");
    (child, address, log)
}

pub const PASSWORD: &str = "correct horse battery staple";

/// Moth's data layer on the test's database with the server's audit key, as `moth` commands open it:
/// what it writes to the audit log is chained like the server's own entries.
pub async fn data_layer(config: &Config) -> server::db::Db {
    let db = server::db::Db::connect(&config.database_url).await.expect("db");
    let key = server::db::audit_chain::load(&db, config.audit_key().expect("audit key")).await.expect("scheme");
    db.with_audit_key(key)
}

pub struct TestApp {
    pub address: String,
    /// The file origin (`http://127.0.0.1:<port>`).
    pub files_address: String,
    /// Where the object store keeps sealed files.
    pub files_dir: std::path::PathBuf,
    /// Whether uploads are scanned: a clamd is configured (the test script starts one and names it in
    /// `MOTH_TEST_CLAMD_URL`).
    pub scans: bool,
    pub clock: Arc<ManualClock>,
    pub database_url: String,
    pub http: reqwest::Client,
    /// The folder of its database and files, removed with the app (none when the caller keeps it).
    dir: Option<TempDir>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts Moth with the test defaults, changed by `configure`.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(dir.path()).await;
    configure(&mut config);
    let (mut app, _running) = launch(config, std::future::pending()).await;
    app.dir = Some(dir);
    app
}

/// The test defaults, with everything kept in `dir`: a new `SQLite` file there, or a new database on
/// the `PostgreSQL` server `MOTH_TEST_POSTGRES_URL` names; the clamd `MOTH_TEST_CLAMD_URL` names.
pub async fn test_config(dir: &std::path::Path) -> Config {
    let database_url = match std::env::var("MOTH_TEST_POSTGRES_URL") {
        Ok(server) if !server.is_empty() => fresh_postgres_database(&server).await,
        _ => format!("sqlite:{}", dir.join("moth.db").display()),
    };
    Config {
        bind: "127.0.0.1:0".parse().expect("addr"),
        files_bind: "127.0.0.1:0".parse().expect("addr"),
        database_url,
        site_dir: dir.join("site"),
        files_dir: dir.join("files"),
        master_key_file: dir.join("master.key"),
        audit_key_file: dir.join("audit.key"),
        backup_dir: dir.join("backups"),
        backup_recipients_file: dir.join("backup-recipients.txt"),
        backup_identity_file: dir.join("backup-identity.txt"),
        // Tests that take snapshots make them themselves (backups.rs).
        backup_schedule: false,
        exports_dir: dir.join("exports"),
        clamd_url: std::env::var("MOTH_TEST_CLAMD_URL").ok().filter(|url| !url.is_empty()),
        // The suite makes thousands of calls a minute from one address; the limits have their own
        // tests (bans.rs), which set them low.
        api_rate_per_minute: 1_000_000,
        session_rate_per_minute: 1_000_000,
        token_rate_per_minute: 1_000_000,
        ..Config::default()
    }
}

/// Starts Moth on `config` until `stop` completes; answers a client of it and the running server.
pub async fn launch(
    config: Config,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> (TestApp, tokio::task::JoinHandle<std::io::Result<()>>) {
    let (database_url, files_dir, scans) =
        (config.database_url.clone(), config.files_dir.clone(), config.clamd_url.is_some());
    let clock = Arc::new(ManualClock::default());
    let app = Application::build(config, clock.clone()).await.expect("app starts");
    let address = format!("http://{}", app.local_addr());
    let files_address = format!("http://{}", app.files_addr());
    let running = tokio::spawn(app.run_until(stop));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    (TestApp { address, files_address, files_dir, scans, clock, database_url, http, dir: None }, running)
}

impl TestApp {
    /// A client of a Moth running elsewhere (a binary the test started): its server functions and
    /// routes only (no clock, database or files of its own).
    pub fn client_of(address: &str) -> TestApp {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        TestApp {
            address: address.to_owned(),
            files_address: String::new(),
            files_dir: std::path::PathBuf::new(),
            scans: false,
            clock: Arc::new(ManualClock::default()),
            database_url: String::new(),
            http,
            dir: None,
        }
    }
}

/// Creates an empty database on the `PostgreSQL` server at `server_url` and returns its URL.
pub async fn fresh_postgres_database(server_url: &str) -> String {
    let name = format!("moth_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(server_url).await.expect("connect to the test PostgreSQL server");
    // The name is generated above, never input: a database name cannot be a bind parameter.
    conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
    let (base, _) = server_url.rsplit_once('/').expect("postgres url has a database");
    format!("{base}/{name}")
}

/// A form body for a server function taking one `input` argument.
pub fn input(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().map(|(k, v)| (format!("input[{k}]"), (*v).to_owned())).collect()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Calls a server function, with `cookie` as the session cookie if given.
    pub async fn call(&self, endpoint: &str, form: &[(String, String)], cookie: Option<&str>) -> Response {
        let mut request = self.http.post(self.url(&format!("/api/{endpoint}"))).form(form);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.send().await.expect("request sent")
    }

    pub async fn sign_up_as(&self, email: &str, team: &str) -> Response {
        let form = input(&[("email", email), ("display_name", "Tester"), ("password", PASSWORD), ("team_name", team)]);
        self.call("sign_up", &form, None).await
    }

    pub async fn sign_in_as(&self, email: &str, password: &str, cookie: Option<&str>) -> Response {
        self.call("sign_in", &input(&[("email", email), ("password", password)]), cookie).await
    }

    /// Signs up a new account and returns its session cookie (`name=value`).
    pub async fn signed_up(&self, email: &str) -> String {
        let response = self.sign_up_as(email, "A team").await;
        assert_eq!(response.status(), StatusCode::OK, "sign-up of {email} failed");
        session_cookie(&response).expect("sign-up sets a session cookie")
    }

    /// `who_am_i` with this cookie: the email of the signed-in user, or `None`.
    pub async fn whoami_email(&self, cookie: &str) -> Option<String> {
        let response = self.call("who_am_i", &[], Some(cookie)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: serde_json::Value = response.json().await.expect("json");
        body["user"]["email"].as_str().map(str::to_owned)
    }

    /// The team's audit log as its JSON export (`/export/audit.json`), read with `cookie`.
    pub async fn audit_export(&self, cookie: &str) -> serde_json::Value {
        let response =
            self.http.get(self.url("/export/audit.json")).header(header::COOKIE, cookie).send().await.expect("export");
        response.json().await.expect("json")
    }

    /// A direct connection to the app's database, for checking what the server stored.
    pub async fn db(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        sqlx::AnyConnection::connect(&self.database_url).await.expect("connect to the app's database")
    }
}

/// The session cookie a response sets, as `name=value`.
pub fn session_cookie(response: &Response) -> Option<String> {
    set_cookie_headers(response)
        .into_iter()
        .find(|c| c.contains("moth_session="))
        .and_then(|c| c.split(';').next().map(str::to_owned))
}

pub fn set_cookie_headers(response: &Response) -> Vec<String> {
    response.headers().get_all(header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).map(str::to_owned).collect()
}

/// The JSON error body of a failed call.
pub async fn error_body(response: Response) -> serde_json::Value {
    let body: serde_json::Value = response.json().await.expect("error body is JSON");
    assert!(body["code"].is_string(), "error has a code: {body}");
    assert!(body["message"].is_string(), "error has a message: {body}");
    body
}

/// A member made through a real invitation: their session cookie, user id and email.
#[derive(Clone, Debug)]
pub struct Person {
    pub cookie: String,
    pub user_id: String,
    pub email: String,
}

static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// An email address no other account in this test uses.
pub fn fresh_email(who: &str) -> String {
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{who}-{n}-{}@example.org", uuid::Uuid::new_v4().simple())
}

impl TestApp {
    /// Signs up a new account with its own team; answers the person and the team id.
    pub async fn owner(&self, who: &str) -> (Person, String) {
        let email = fresh_email(who);
        let response = self.sign_up_as(&email, &format!("{who}'s team")).await;
        assert_eq!(response.status(), StatusCode::OK, "sign-up of {email}");
        let cookie = session_cookie(&response).expect("cookie");
        let me: serde_json::Value = response.json().await.expect("json");
        let person = Person { cookie, user_id: me["user"]["id"].as_str().expect("id").to_owned(), email };
        (person, me["team"]["id"].as_str().expect("team id").to_owned())
    }

    /// `inviter` invites `email` with `role`; answers the invitation's id and token.
    pub async fn invite(&self, inviter: &str, email: &str, role: &str) -> (String, String) {
        let response = self.call("invite", &input(&[("email", email), ("role", role)]), Some(inviter)).await;
        assert_eq!(response.status(), StatusCode::OK, "invite {email} as {role}");
        let created: serde_json::Value = response.json().await.expect("json");
        let token = created["path"].as_str().expect("path").trim_start_matches("/invite/").to_owned();
        (created["invitation"]["id"].as_str().expect("id").to_owned(), token)
    }

    /// A new visitor signs up through an invitation link.
    pub async fn join_with_token(&self, token: &str, email: &str) -> Person {
        let form = input(&[("token", token), ("display_name", "Invitee"), ("password", PASSWORD)]);
        let response = self.call("sign_up_with_invitation", &form, None).await;
        assert_eq!(response.status(), StatusCode::OK, "joining with an invitation");
        let cookie = session_cookie(&response).expect("cookie");
        let me: serde_json::Value = response.json().await.expect("json");
        Person { cookie, user_id: me["user"]["id"].as_str().expect("id").to_owned(), email: email.to_owned() }
    }

    /// `inviter` brings a new person into their team with `role`.
    pub async fn new_member(&self, inviter: &str, role: &str) -> Person {
        let email = fresh_email(&role.to_lowercase());
        let (_, token) = self.invite(inviter, &email, role).await;
        self.join_with_token(&token, &email).await
    }

    /// The team's memberships and invitations as stored, to prove that a refused request changed nothing.
    #[allow(clippy::too_many_lines)] // one query per table, side by side
    pub async fn team_digest(&self, team_id: &str) -> Vec<String> {
        let mut db = self.db().await;
        let members: Vec<(String, String)> =
            sqlx::query_as("SELECT user_id, role FROM memberships WHERE team_id = $1 ORDER BY user_id")
                .bind(team_id)
                .fetch_all(&mut db)
                .await
                .expect("members");
        let invitations: Vec<(String, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT id, accepted_at, revoked_at FROM invitations WHERE team_id = $1 ORDER BY id")
                .bind(team_id)
                .fetch_all(&mut db)
                .await
                .expect("invitations");
        let projects: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, name, visibility, published, archived FROM projects WHERE team_id = $1 ORDER BY id",
        )
        .bind(team_id)
        .fetch_all(&mut db)
        .await
        .expect("projects");
        let project_members: Vec<(String, String)> = sqlx::query_as(
            "SELECT project_id, user_id FROM project_members WHERE team_id = $1 ORDER BY project_id, user_id",
        )
        .bind(team_id)
        .fetch_all(&mut db)
        .await
        .expect("project members");
        let issues: Vec<IssueDigestRow> = sqlx::query_as(
            "SELECT id, title, description, status_id, visibility, priority, updated_at, deleted_at FROM issues \
             WHERE team_id = $1 ORDER BY id",
        )
        .bind(team_id)
        .fetch_all(&mut db)
        .await
        .expect("issues");
        let statuses: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT id, name, position FROM project_statuses WHERE team_id = $1 ORDER BY id")
                .bind(team_id)
                .fetch_all(&mut db)
                .await
                .expect("statuses");
        let comments: Vec<(String, String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT id, body, visibility, updated_at, deleted_at FROM comments WHERE team_id = $1 ORDER BY id",
        )
        .bind(team_id)
        .fetch_all(&mut db)
        .await
        .expect("comments");
        let tags: Vec<(String, String)> =
            sqlx::query_as("SELECT issue_id, tag FROM issue_tags WHERE team_id = $1 ORDER BY issue_id, tag")
                .bind(team_id)
                .fetch_all(&mut db)
                .await
                .expect("tags");
        let assignees: Vec<(String, String)> = sqlx::query_as(
            "SELECT issue_id, user_id FROM issue_assignees WHERE team_id = $1 ORDER BY issue_id, user_id",
        )
        .bind(team_id)
        .fetch_all(&mut db)
        .await
        .expect("assignees");
        let history: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT issue_id, field, old_value, new_value FROM issue_history WHERE team_id = $1 \
             ORDER BY issue_id, field, old_value, new_value",
        )
        .bind(team_id)
        .fetch_all(&mut db)
        .await
        .expect("history");
        let attachments: Vec<(String, String, Option<i64>)> =
            sqlx::query_as("SELECT id, name, deleted_at FROM attachments WHERE team_id = $1 ORDER BY id")
                .bind(team_id)
                .fetch_all(&mut db)
                .await
                .expect("attachments");
        members
            .into_iter()
            .map(|(u, r)| format!("member {u} {r}"))
            .chain(attachments.into_iter().map(|a| format!("attachment {a:?}")))
            .chain(issues.into_iter().map(|i| format!("issue {i:?}")))
            .chain(statuses.into_iter().map(|st| format!("status {st:?}")))
            .chain(comments.into_iter().map(|c| format!("comment {c:?}")))
            .chain(tags.into_iter().map(|t| format!("tag {t:?}")))
            .chain(assignees.into_iter().map(|a| format!("assignee {a:?}")))
            .chain(history.into_iter().map(|h| format!("history {h:?}")))
            .chain(invitations.into_iter().map(|(i, a, r)| format!("invitation {i} {a:?} {r:?}")))
            .chain(projects.into_iter().map(|p| format!("project {p:?}")))
            .chain(project_members.into_iter().map(|m| format!("project member {m:?}")))
            .collect()
    }
}

/// An issue as [`TestApp::team_digest`] compares it.
type IssueDigestRow = (String, String, String, String, String, String, i64, Option<i64>);

static PROJECT_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl TestApp {
    /// `owner` creates a project named "Team project N" with a fresh key; answers its id and key.
    pub async fn project(&self, owner: &str, visibility: &str) -> (String, String) {
        let n = PROJECT_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = format!("P{n}");
        let form = input(&[("name", &format!("Team project {n}")), ("key", &key), ("visibility", visibility)]);
        let response = self.call("create_project", &form, Some(owner)).await;
        assert_eq!(response.status(), StatusCode::OK, "create project {key}");
        let project: serde_json::Value = response.json().await.expect("json");
        (project["id"].as_str().expect("id").to_owned(), key)
    }

    /// `owner` adds a team member to a project.
    pub async fn add_to_project(&self, owner: &str, project_id: &str, user_id: &str) {
        let form = input(&[("project_id", project_id), ("user_id", user_id)]);
        let response = self.call("add_project_member", &form, Some(owner)).await;
        assert_eq!(response.status(), StatusCode::OK, "add {user_id} to {project_id}");
    }
}

static ISSUE_COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// An issue as the tests need it.
#[derive(Clone, Debug)]
pub struct TestIssue {
    pub id: String,
    pub reference: String,
    pub title: String,
}

impl TestApp {
    /// Files an issue titled "Team issue N" with `visibility`; answers it.
    pub async fn issue(&self, cookie: &str, project_id: &str, visibility: &str) -> TestIssue {
        let n = ISSUE_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let title = format!("Team issue {n}");
        let form = vec![
            ("input[project_id]".to_owned(), project_id.to_owned()),
            ("input[fields][title]".to_owned(), title.clone()),
            ("input[fields][visibility]".to_owned(), visibility.to_owned()),
        ];
        let response = self.call("create_issue", &form, Some(cookie)).await;
        assert_eq!(response.status(), StatusCode::OK, "create issue");
        let issue: serde_json::Value = response.json().await.expect("json");
        TestIssue {
            id: issue["id"].as_str().expect("id").to_owned(),
            reference: issue["reference"].as_str().expect("reference").to_owned(),
            title,
        }
    }

    /// Comments on an issue; answers the comment's id.
    pub async fn comment(&self, cookie: &str, issue_id: &str, body: &str, internal: bool) -> String {
        let internal = if internal { "true" } else { "false" };
        let form = input(&[("issue_id", issue_id), ("body", body), ("internal", internal)]);
        let response = self.call("add_comment", &form, Some(cookie)).await;
        let status = response.status();
        let comment: serde_json::Value = response.json().await.expect("json");
        assert_eq!(status, StatusCode::OK, "comment: {comment}");
        comment["id"].as_str().expect("id").to_owned()
    }
}

impl TestApp {
    /// `owner` creates a public project named "Open project N" and publishes it; answers its id.
    pub async fn published_project(&self, owner: &str) -> String {
        let n = PROJECT_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let form =
            input(&[("name", &format!("Open project {n}")), ("key", &format!("O{n}")), ("visibility", "public")]);
        let response = self.call("create_project", &form, Some(owner)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let id = response.json::<serde_json::Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
        let publish = input(&[
            ("project_id", &id),
            ("name", &format!("Open project {n}")),
            ("visibility", "public"),
            ("published", "true"),
        ]);
        assert_eq!(self.call("update_project", &publish, Some(owner)).await.status(), StatusCode::OK);
        id
    }
}

/// The EICAR test string: every virus scanner reports it, and it is harmless. Built here, never
/// committed as a file.
pub fn eicar() -> Vec<u8> {
    [r"X5O!P%@AP[4\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"].concat().into_bytes()
}

/// A real PNG image of `width` by `height` pixels (a gradient), as an image editor would save it.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image =
        image::RgbaImage::from_fn(width, height, |x, y| image::Rgba([x.to_le_bytes()[0], y.to_le_bytes()[0], 90, 255]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).expect("png");
    bytes.into_inner()
}

/// Only a PNG's signature and header chunk, declaring `width` by `height`: no pixels follow.
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    bytes.extend(width.to_be_bytes());
    bytes.extend(height.to_be_bytes());
    bytes.extend([8, 6, 0, 0, 0]);
    bytes.extend([0x12, 0x34, 0x56, 0x78]);
    bytes.extend(b"\0\0\0\0IEND\xae\x42\x60\x82");
    bytes
}

impl TestApp {
    /// Uploads `bytes` as `name` to an issue.
    pub async fn upload(&self, cookie: Option<&str>, issue_id: &str, name: &str, bytes: Vec<u8>) -> Response {
        self.upload_to(&format!("/upload/issues/{issue_id}"), cookie, name, bytes).await
    }

    /// Uploads `bytes` as `name` to a comment.
    pub async fn upload_to_comment(&self, cookie: Option<&str>, comment: &str, name: &str, bytes: Vec<u8>) -> Response {
        self.upload_to(&format!("/upload/comments/{comment}"), cookie, name, bytes).await
    }

    async fn upload_to(&self, path: &str, cookie: Option<&str>, name: &str, bytes: Vec<u8>) -> Response {
        let url = reqwest::Url::parse_with_params(&self.url(path), &[("name", name)]).expect("url");
        let mut request = self.http.post(url).body(bytes);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.send().await.expect("upload request")
    }

    /// POSTs `body` as it is to `path`, with `cookie` as the session cookie if given.
    pub async fn post_raw(&self, path: &str, body: String, cookie: Option<&str>) -> Response {
        let mut request = self.http.post(self.url(path)).body(body);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.send().await.expect("request")
    }

    /// Uploads a small text file and answers the attachment's id.
    /// Attaches a text file named `name` to a comment; answers the attachment's id.
    pub async fn attach_to_comment(&self, cookie: &str, comment: &str, name: &str) -> String {
        let response = self.upload_to_comment(Some(cookie), comment, name, b"Team attachment".to_vec()).await;
        assert_eq!(response.status(), StatusCode::OK, "upload to a comment");
        let attachment: serde_json::Value = response.json().await.expect("json");
        attachment["id"].as_str().expect("id").to_owned()
    }

    pub async fn attach(&self, cookie: &str, issue_id: &str) -> String {
        let response = self.upload(Some(cookie), issue_id, "notes.txt", b"Team attachment".to_vec()).await;
        assert_eq!(response.status(), StatusCode::OK, "upload");
        let attachment: serde_json::Value = response.json().await.expect("json");
        attachment["id"].as_str().expect("id").to_owned()
    }

    /// Every object file in the object store, with its bytes.
    pub fn stored_objects(&self) -> Vec<Vec<u8>> {
        files_under(&self.files_dir).iter().map(|path| std::fs::read(path).expect("read object")).collect()
    }
}

/// Every file under `dir`, at any depth (none when `dir` does not exist).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().is_dir() {
            found.extend(files_under(&entry.path()));
        } else {
            found.push(entry.path());
        }
    }
    found
}

/// The TOTP code (RFC 6238: SHA-1, 6 digits, 30-second steps) of a base32 key at `unix_secs`, as an
/// authenticator app would show it.
pub fn totp_code(secret_base32: &str, unix_secs: u64) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).expect("a base32 key");
    totp_rs::Builder::new().with_secret(secret).build().expect("a TOTP").generate(unix_secs).to_string()
}

impl TestApp {
    /// The server's time in Unix seconds (the tests' clock, which they may advance).
    pub fn unix_secs(&self) -> u64 {
        use server::clock::Clock;
        u64::try_from(self.clock.now().unix_timestamp()).expect("after 1970")
    }

    /// Turns two-factor authentication on for the session's user; answers the key and the recovery codes.
    pub async fn enable_two_factor(&self, cookie: &str) -> (String, Vec<String>) {
        let setup: serde_json::Value =
            self.call("start_two_factor", &[], Some(cookie)).await.json().await.expect("json");
        let secret = setup["secret"].as_str().expect("secret").to_owned();
        let code = totp_code(&secret, self.unix_secs());
        let enabled =
            self.call("enable_two_factor", &input(&[("code", &code), ("password", PASSWORD)]), Some(cookie)).await;
        assert_eq!(enabled.status(), StatusCode::OK, "enable_two_factor");
        let codes: serde_json::Value = enabled.json().await.expect("json");
        let codes =
            codes["codes"].as_array().expect("codes").iter().map(|c| c.as_str().expect("code").to_owned()).collect();
        (secret, codes)
    }
}

/// The text of the API's declarations: every file of `app/src/api/`, one area each, in name order.
pub fn api_declarations() -> String {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src/api");
    let mut files: Vec<std::path::PathBuf> =
        std::fs::read_dir(&folder).expect("app/src/api").flatten().map(|entry| entry.path()).collect();
    files.sort();
    files.iter().map(|file| std::fs::read_to_string(file).expect("an API file")).collect::<Vec<_>>().join("\n")
}

/// The REST API's operations as its router declares them (`server/src/http/rest/mod.rs`), each as
/// "METHOD /path", the catch-all aside: what the docs, the permission matrix and the `OpenAPI`
/// document are each held to.
pub fn rest_operations() -> std::collections::BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(root.join("src/http/rest/mod.rs")).expect("the REST router");
    let mut operations = std::collections::BTreeSet::new();
    for segment in source.split(".route(").skip(1) {
        let Some(segment) = segment.trim_start().strip_prefix('"') else { continue };
        let (route, handlers) = segment.split_once('"').expect("a quoted path");
        for (method, handler) in [("GET", "get("), ("POST", "post("), ("PATCH", "patch("), ("DELETE", "delete(")] {
            if handlers.contains(handler) && !route.contains('*') {
                operations.insert(format!("{method} {route}"));
            }
        }
    }
    assert!(operations.len() >= 10, "found only {} REST operations: has the router changed?", operations.len());
    operations
}
