//! Several `moth` processes on one `PostgreSQL` database, as behind a load balancer (issue 29):
//! they migrate once when started together; a session ended, a role lowered, a member removed or an
//! address banned through one holds on the next request through every other (C1, A8, T6); the
//! audit chain stays whole with three writers; the cluster's scheduled work runs on one instance
//! at a time and is taken over when that one is killed (C3); and a database that goes away answers
//! 503 with `Retry-After` and is used again without a restart, with nothing acknowledged lost (C2).
//! `PostgreSQL` only (several instances on one `SQLite` file are not a supported set-up): the
//! `SQLite` pass says they are skipped.

use std::{
    process::Child,
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{input, launch, session_cookie, spawn_binary, test_config, TestApp, PASSWORD};

const METRICS_TOKEN: &str = "cluster-test-metrics-token";

fn postgres_pass() -> bool {
    let on = std::env::var("MOTH_TEST_POSTGRES_URL").is_ok_and(|url| !url.is_empty());
    if !on {
        eprintln!("skipped in the SQLite pass: this test runs in the PostgreSQL pass of scripts/test");
    }
    on
}

/// Instances of one cluster: the same database, keys and files, each in its own folder.
struct Cluster {
    root: tempfile::TempDir,
    database_url: String,
    instances: Vec<(Child, TestApp)>,
}

impl Cluster {
    async fn new() -> Self {
        let root = tempfile::tempdir().expect("dir");
        let database_url = test_config(root.path()).await.database_url;
        Self { root, database_url, instances: Vec::new() }
    }

    fn env(&self) -> Vec<(String, String)> {
        let at = |name: &str| self.root.path().join(name).display().to_string();
        [
            ("MOTH_DATABASE_URL", self.database_url.clone()),
            ("MOTH_MASTER_KEY_FILE", at("master.key")),
            ("MOTH_AUDIT_KEY_FILE", at("audit.key")),
            ("MOTH_FILES_DIR", at("files")),
            ("MOTH_METRICS_TOKEN", METRICS_TOKEN.to_owned()),
            ("MOTH_LEASE_SECS", "2".to_owned()),
            ("MOTH_SWEEP_INTERVAL_SECS", "1".to_owned()),
            ("MOTH_API_RATE_PER_MINUTE", "100000".to_owned()),
            ("MOTH_SESSION_RATE_PER_MINUTE", "100000".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .to_vec()
    }

    /// Starts `n` instances at once.
    async fn start(&mut self, n: usize) {
        let env = self.env();
        let mut starting = Vec::new();
        for i in 0..n {
            let dir = self.root.path().join(format!("instance-{}", self.instances.len() + i));
            std::fs::create_dir_all(&dir).expect("instance dir");
            let env = env.clone();
            starting.push(tokio::spawn(async move {
                let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                spawn_binary(&dir, &env).await
            }));
        }
        for started in starting {
            let (child, address) = started.await.expect("instance starts");
            self.instances.push((child, TestApp::client_of(&address)));
        }
    }

    fn app(&self, i: usize) -> &TestApp {
        &self.instances[i].1
    }

    /// Each live instance's `moth_cluster_leader` and `moth_cluster_chore_rounds_total`.
    async fn leadership(&self) -> Vec<(usize, i64, i64)> {
        let mut seen = Vec::new();
        for (i, (child, app)) in self.instances.iter().enumerate() {
            if child.id() == 0 {
                continue;
            }
            let Ok(response) = app.http.get(app.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await else {
                continue;
            };
            let text = response.text().await.expect("metrics");
            seen.push((i, metric(&text, "moth_cluster_leader"), metric(&text, "moth_cluster_chore_rounds_total")));
        }
        seen
    }

    async fn leader(&self) -> Option<usize> {
        let leaders: Vec<usize> =
            self.leadership().await.into_iter().filter(|(_, lead, _)| *lead == 1).map(|l| l.0).collect();
        assert!(leaders.len() <= 1, "one leader at most, not {leaders:?}");
        leaders.first().copied()
    }

    fn kill(&mut self, i: usize) {
        let child = &mut self.instances[i].0;
        child.kill().expect("SIGKILL");
        child.wait().expect("gone");
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (child, _) in &mut self.instances {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn connect(url: &str) -> sqlx::AnyConnection {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url).await.expect("connect to the cluster's database")
}

fn metric(text: &str, name: &str) -> i64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in /metrics"))
}

/// Whether `cookie` is signed in, as `app` sees it.
async fn signed_in(app: &TestApp, cookie: &str) -> bool {
    app.whoami_email(cookie).await.is_some()
}

#[tokio::test]
async fn three_instances_agree_on_sessions_roles_removals_and_bans() {
    if !postgres_pass() {
        return;
    }
    let mut cluster = Cluster::new().await;
    cluster.start(3).await;
    let migrations =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/postgres")).expect("dir").count();
    let mut db = connect(&cluster.database_url).await;
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(&mut db).await.expect("n");
    assert_eq!(usize::try_from(applied).expect("n"), migrations, "started together, each migration ran once");

    let (a, b, c) = (cluster.app(0), cluster.app(1), cluster.app(2));
    let (owner, _) = a.owner("cluster").await;
    // A session ended through one instance is refused by the others at the next request.
    let other = b.sign_in_as(&owner.email, PASSWORD, None).await;
    let second = session_cookie(&other).expect("cookie");
    assert!(signed_in(c, &second).await && signed_in(a, &second).await);
    assert_eq!(b.call("sign_out", &[], Some(&second)).await.status(), StatusCode::OK);
    assert!(!signed_in(a, &second).await, "ended on B, refused on A");
    assert!(!signed_in(c, &second).await, "ended on B, refused on C");
    assert!(signed_in(c, &owner.cookie).await, "the owner's other session goes on");

    // A role lowered through one instance holds on the next request through another.
    let admin = a.new_member(&owner.cookie, "ADMIN").await;
    let invite = |app: &TestApp, cookie: String| {
        let form = input(&[("email", &crate::helpers::fresh_email("x")), ("role", "NORMAL")]);
        let app = TestApp::client_of(&app.address);
        async move { app.call("invite", &form, Some(&cookie)).await.status() }
    };
    assert_eq!(invite(c, admin.cookie.clone()).await, StatusCode::OK, "an ADMIN invites");
    let lower = input(&[("user_id", &admin.user_id), ("role", "NORMAL")]);
    assert_eq!(a.call("change_role", &lower, Some(&owner.cookie)).await.status(), StatusCode::OK);
    assert_eq!(invite(b, admin.cookie.clone()).await, StatusCode::FORBIDDEN, "lowered on A, refused on B");
    assert_eq!(invite(c, admin.cookie.clone()).await, StatusCode::FORBIDDEN, "lowered on A, refused on C");

    // A member removed through one instance reads nothing through another.
    let (project, _) = c.project(&owner.cookie, "public").await;
    let member = b.new_member(&owner.cookie, "NORMAL").await;
    a.add_to_project(&owner.cookie, &project, &member.user_id).await;
    let list = input(&[("project_id", &project)]);
    assert_eq!(c.call("list_issues", &list, Some(&member.cookie)).await.status(), StatusCode::OK);
    let removed = b.call("remove_member", &input(&[("user_id", &member.user_id)]), Some(&owner.cookie)).await;
    assert_eq!(removed.status(), StatusCode::OK);
    for app in [a, c] {
        assert_ne!(app.call("list_issues", &list, Some(&member.cookie)).await.status(), StatusCode::OK);
    }

    // A team export built through one instance is downloaded through the others: the archive waits
    // in the store every instance shares, not on the instance that built it.
    let fields = input(&[("destination", "download"), ("passphrase", "a long export passphrase"), ("recipient", "")]);
    let started: Value = a.call("export_team", &fields, Some(&owner.cookie)).await.json().await.expect("json");
    let export = started["id"].as_str().expect("export id").to_owned();
    let finished = Instant::now();
    loop {
        let list: Value = c.call("team_exports", &[], Some(&owner.cookie)).await.json().await.expect("json");
        let this = list.as_array().expect("list").iter().find(|e| e["id"] == export.as_str()).cloned().expect("listed");
        if this["status"] != "running" {
            assert_eq!(this["status"], "done", "{this}");
            break;
        }
        assert!(finished.elapsed() < Duration::from_secs(30), "the export did not finish");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for app in [b, c] {
        let url = app.url(&format!("/export/team/{export}"));
        let downloaded = app.http.get(url).header("cookie", &owner.cookie).send().await.expect("download");
        assert_eq!(downloaded.status(), StatusCode::OK, "downloaded through another instance");
        assert!(downloaded.bytes().await.expect("bytes").starts_with(b"age-encryption.org/v1"));
    }

    // Failures spread over the three instances count as one: the address is banned on each (A8).
    let victim = c.new_member(&owner.cookie, "NORMAL").await;
    for i in 0..10 {
        let failed = cluster.app(i % 3).sign_in_as(&victim.email, "wrong password", None).await;
        assert_eq!(failed.status(), StatusCode::UNAUTHORIZED, "failure {i}");
    }
    for app in [a, b, c] {
        let refused = app.sign_in_as(&victim.email, PASSWORD, None).await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "banned on every instance");
        assert!(refused.headers().contains_key(reqwest::header::RETRY_AFTER));
    }
}

#[tokio::test]
async fn the_audit_chain_stays_whole_with_three_writers() {
    if !postgres_pass() {
        return;
    }
    let mut cluster = Cluster::new().await;
    cluster.start(3).await;
    let (owner, _) = cluster.app(0).owner("chain").await;
    let mut writes = Vec::new();
    for i in 0..60 {
        let app = TestApp::client_of(&cluster.app(i % 3).address);
        let cookie = owner.cookie.clone();
        writes.push(tokio::spawn(async move {
            let form = input(&[("email", &crate::helpers::fresh_email("chained")), ("role", "NORMAL")]);
            app.call("invite", &form, Some(&cookie)).await.status()
        }));
    }
    for write in writes {
        assert_eq!(write.await.expect("task"), StatusCode::OK, "every audited write succeeds");
    }
    let mut db = connect(&cluster.database_url).await;
    let entries: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE event = 'invitation_sent'")
        .fetch_one(&mut db)
        .await
        .expect("count");
    assert_eq!(entries, 60, "one entry per invitation");
    let env = cluster.env();
    let verified = std::process::Command::new(env!("CARGO_BIN_EXE_moth"))
        .args(["audit", "verify"])
        .current_dir(cluster.root.path())
        .env_clear()
        .envs(env)
        .output()
        .expect("moth audit verify");
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success() && said.contains("every chain verified"), "{said}");
}

#[tokio::test]
async fn scheduled_work_runs_on_one_instance_and_is_taken_over_when_it_dies() {
    if !postgres_pass() {
        return;
    }
    let mut cluster = Cluster::new().await;
    cluster.start(3).await;
    let first = wait_for_leader(&cluster, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rounds = cluster.leadership().await;
    for (i, lead, ran) in &rounds {
        if *i == first {
            assert_eq!(*lead, 1);
            assert!(*ran >= 2, "the leader sweeps every second: {rounds:?}");
        } else {
            assert_eq!((*lead, *ran), (0, 0), "the others run none of it: {rounds:?}");
        }
    }

    let killed = Instant::now();
    cluster.kill(first);
    let next = wait_for_leader(&cluster, Duration::from_secs(10)).await;
    let took = killed.elapsed();
    assert_ne!(next, first);
    // The lease (2 s) runs out, then a renewal (every 2/3 s) takes it: within 3 s, plus a scrape.
    assert!(took < Duration::from_secs(5), "taken over after {took:?}");
    eprintln!("the scheduled work was taken over {} ms after its leader was killed", took.as_millis());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = cluster.leadership().await;
    assert!(after.iter().any(|(i, _, ran)| *i == next && *ran >= 1), "the new leader sweeps: {after:?}");
    assert_eq!(after.iter().filter(|(_, lead, _)| *lead == 1).count(), 1, "{after:?}");
}

async fn wait_for_leader(cluster: &Cluster, within: Duration) -> usize {
    let started = Instant::now();
    loop {
        if let Some(leader) = cluster.leader().await {
            return leader;
        }
        assert!(started.elapsed() < within, "no instance took the lease within {within:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A TCP relay between Moth and the database that the test can cut (every connection dropped, new
/// ones refused) and mend, as a failover looks from Moth's side.
struct Relay {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn to(target: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = std::sync::Arc::default();
        let (open, kept) = (up.clone(), links.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !open.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                kept.lock().expect("links").push(link);
            }
        });
        Self { port, up, links }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    fn mend(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_database_that_goes_away_answers_503_and_is_used_again_without_a_restart() {
    if !postgres_pass() {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let mut config = test_config(dir.path()).await;
    let url = reqwest::Url::parse(&config.database_url).expect("url");
    let target = (url.host_str().expect("host"), url.port().unwrap_or(5432));
    let target = tokio::net::lookup_host(target).await.expect("resolve").next().expect("address");
    let relay = Relay::to(target).await;
    let mut through = url.clone();
    through.set_host(Some("127.0.0.1")).expect("host");
    through.set_port(Some(relay.port)).expect("port");
    config.database_url = through.to_string();
    let (app, _running) = launch(config, std::future::pending()).await;
    let (owner, _) = app.owner("failover").await;
    let (project, _) = app.project(&owner.cookie, "public").await;
    let acknowledged = app.issue(&owner.cookie, &project, "public").await;
    let file = app.attach(&owner.cookie, &acknowledged.id).await;
    let link: Value = app
        .call("attachment_link", &input(&[("attachment_id", &file)]), Some(&owner.cookie))
        .await
        .json()
        .await
        .expect("json");
    let file_url = link["url"].as_str().expect("a file link").to_owned();

    relay.cut();
    let create = [
        ("input[project_id]".to_owned(), project.clone()),
        ("input[fields][title]".to_owned(), "during the outage".to_owned()),
        ("input[fields][visibility]".to_owned(), "public".to_owned()),
    ];
    for response in [
        app.call("who_am_i", &[], Some(&owner.cookie)).await,
        app.call("create_issue", &create, Some(&owner.cookie)).await,
        app.http.get(app.url("/readyz")).send().await.expect("readyz"),
        // The door beside: the file origin looks the link's file up in the database too.
        app.http.get(&file_url).send().await.expect("file"),
    ] {
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{}", response.url());
        assert!(response.headers().contains_key(reqwest::header::RETRY_AFTER), "{}", response.url());
        let body = response.text().await.expect("body");
        assert!(!body.contains("sqlx") && !body.contains("os error"), "no internals: {body}");
    }

    relay.mend();
    let started = Instant::now();
    while app.call("who_am_i", &[], Some(&owner.cookie)).await.status() != StatusCode::OK {
        assert!(started.elapsed() < Duration::from_secs(30), "not used again within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let listed = app.call("list_issues", &input(&[("project_id", &project)]), Some(&owner.cookie)).await;
    let listed: Value = listed.json().await.expect("json");
    let ids: Vec<&str> = listed["issues"].as_array().expect("issues").iter().filter_map(|i| i["id"].as_str()).collect();
    assert!(ids.contains(&acknowledged.id.as_str()), "the acknowledged write is there: {ids:?}");
    assert!(app.call("create_issue", &create, Some(&owner.cookie)).await.status().is_success(), "writes work again");
}
