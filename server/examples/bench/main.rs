//! Moth's benchmark, measured the way users meet Moth: it starts the real `moth` binary on a fresh
//! database, fills it through the HTTP API (sign-up, projects, issues: the same code path as users,
//! no hand-run ANALYZE), then drives each workload with concurrent HTTP clients and prints requests per
//! second, p50 and p99 latency, errors and the server's resident memory.
//!
//!     cargo build --release --bin moth
//!     cargo run --release -p server --example bench -- --issues 10000 --seconds 10
//!     cargo run --release -p server --example bench -- --database-url postgres://moth@127.0.0.1:5432/bench
//!     cargo run --release -p server --example bench -- --issues 1000000 --teams 1000   (about 30 minutes)
//!     cargo run -p server --example bench -- --smoke        (seconds; what CI runs so it cannot rot)
//!     cargo run --release -p server --example bench -- --issues 1000 --only notifications
//!         (an update with 1,000 watchers, and 1,000 live connections: `notifications.rs`)
//!
//! Options: `--moth PATH` (default: the `moth` next to this example's build), `--issues N` (in all),
//! `--teams T` (the issues are spread over T teams, a project each; the workloads use the first team),
//! `--seconds S`, `--only TEXT` (only the workloads whose name contains TEXT), `--database-url URL`
//! (default: a new `SQLite` file in a temporary folder), `--keep DIR` (the server's folder, with its
//! master key and the default `SQLite` file, in DIR and kept), `--seeded` (the database and `--keep`
//! folder already hold the seed of an earlier run with the same `--issues` and `--teams`: reuse it),
//! `--resume-from N` (as `--seeded`, of a seed that stopped after about N issues: sign the teams'
//! owners in and file the rest, then measure). Traffic goes to 127.0.0.1 only. With a clamd
//! named in `MOTH_CLAMD_URL` (or `MOTH_TEST_CLAMD_URL`), it also times a 20 MB upload through the
//! whole pipeline against clamd's own scan of the same bytes, and 8 such uploads at once.

use std::{
    path::PathBuf,
    process::{Child, Command},
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

#[path = "../common/mod.rs"]
mod common;
mod notifications;
mod webhooks;

use common::session_cookie;
use hdrhistogram::Histogram;
use reqwest::{header, StatusCode};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The server's `password_hashing_release_secs` in the benchmark.
const HASHING_RELEASE_SECS: u64 = 3;
const PASSWORD: &str = "correct horse battery staple";
/// Clients filing issues at once while seeding: more than the workloads' 16, so that `SQLite`'s group
/// commit gathers fuller batches and a million issues take minutes rather than hours.
const SEEDERS: usize = 64;

struct Options {
    smoke: bool,
    moth: PathBuf,
    issues: usize,
    teams: usize,
    seconds: u64,
    only: Option<String>,
    database_url: Option<String>,
    keep: Option<PathBuf>,
    seeded: bool,
    /// `--resume-from N`: an earlier seed stopped after about N issues; file the rest.
    resume_from: Option<usize>,
}

impl Options {
    fn runs(&self, workload: &str) -> bool {
        self.only.as_deref().is_none_or(|only| workload.contains(only))
    }
}

fn options() -> Result<Options, Error> {
    let mut args = std::env::args().skip(1);
    let here = std::env::current_exe()?;
    // target/<profile>/examples/bench -> target/<profile>/moth
    let default_moth = here.parent().and_then(|p| p.parent()).map(|p| p.join("moth")).ok_or("no build folder")?;
    let mut options = Options {
        smoke: false,
        moth: default_moth,
        issues: 10_000,
        teams: 1,
        seconds: 10,
        only: None,
        database_url: None,
        keep: None,
        seeded: false,
        resume_from: None,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--smoke" => {
                options.smoke = true;
                options.issues = 120;
                options.seconds = 1;
            }
            "--moth" => options.moth = PathBuf::from(value()?),
            "--issues" => options.issues = value()?.parse()?,
            "--seconds" => options.seconds = value()?.parse()?,
            "--teams" => options.teams = value()?.parse::<usize>()?.max(1),
            "--only" => options.only = Some(value()?),
            "--database-url" => options.database_url = Some(value()?),
            "--keep" => options.keep = Some(PathBuf::from(value()?)),
            "--seeded" => options.seeded = true,
            "--resume-from" => options.resume_from = Some(value()?.parse()?),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(options)
}

/// The `moth` process under test; killed when dropped.
struct Server {
    child: Child,
    base: String,
    /// Where the server writes its warnings and errors.
    log: PathBuf,
    /// The temporary folder, removed when dropped; `None` with `--keep`.
    _temporary: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(options: &Options) -> Result<Self, Error> {
        let (dir, temporary) = if let Some(kept) = &options.keep {
            std::fs::create_dir_all(kept)?;
            (kept.clone(), None)
        } else {
            let temporary = tempfile::tempdir()?;
            (temporary.path().to_owned(), Some(temporary))
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let database_url =
            options.database_url.clone().unwrap_or_else(|| format!("sqlite:{}", dir.join("moth.db").display()));
        let log = std::fs::File::create(dir.join("moth.log"))?;
        let mut command = Command::new(&options.moth);
        if let Some(clamd) = clamd_url() {
            command.env("MOTH_CLAMD_URL", clamd);
        }
        let child = command
            .arg("serve")
            .env("MOTH_BIND", format!("127.0.0.1:{port}"))
            .env("MOTH_FILES_BIND", "127.0.0.1:0")
            .env("MOTH_FILES_DIR", dir.join("files"))
            .env("MOTH_MASTER_KEY_FILE", dir.join("master.key"))
            // A scheduled snapshot in the middle of a run would be measured with it.
            .env("MOTH_BACKUP_SCHEDULE", "false")
            .env("DATABASE_URL", &database_url)
            .env("MOTH_SITE_DIR", dir.join("no-site"))
            .env("MOTH_LOG", "warn")
            // Hashing buffers go back after this quiet period; the run ends by showing that they did.
            .env("MOTH_PASSWORD_HASHING_RELEASE_SECS", HASHING_RELEASE_SECS.to_string())
            // The sign-in workloads measure the hashing pool, which a ban would keep them from.
            .env("MOTH_BAN_FAILURES", i64::MAX.to_string())
            .env("MOTH_ACCOUNT_FAILURES_PER_HOUR", i64::MAX.to_string())
            // The load comes from one address and a few sessions, far above what people send.
            .env("MOTH_API_RATE_PER_MINUTE", u32::MAX.to_string())
            .env("MOTH_SESSION_RATE_PER_MINUTE", u32::MAX.to_string())
            .env("MOTH_TOKEN_RATE_PER_MINUTE", u32::MAX.to_string())
            .env("MOTH_AUTH_LOG_FILE", dir.join("auth.log"))
            // The webhook workload's receiver listens on 127.0.0.1.
            .env("MOTH_ALLOW_PRIVATE_ENDPOINTS", "true")
            // Warnings and errors are kept (the server logs to standard output): a failed request is
            // explained by the server's log.
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", options.moth.display()))?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log: dir.join("moth.log"),
            _temporary: temporary,
        };
        let http = reqwest::Client::new();
        // Up to two minutes: a new migration on a large database (an index over a million issues) runs
        // before the server answers.
        for _ in 0..2400 {
            if http.get(format!("{}/readyz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("moth did not become ready".into())
    }

    /// The end of the server's log, for a failed run's report (the temporary folder goes with it).
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        format!("the server's log ends:\n{}", lines[lines.len().saturating_sub(20)..].join("\n"))
    }

    /// The server's resident memory, in MiB.
    /// The server's own memory: resident anonymous pages (heap, stacks). The `SQLite` file is read
    /// through a memory map whose pages count in `VmRSS` too, but they are the OS's file cache.
    fn rss_mib(&self) -> u64 {
        self.status_mib("RssAnon:")
    }

    /// Everything resident, the mapped database file included.
    fn vm_rss_mib(&self) -> u64 {
        self.status_mib("VmRSS:")
    }

    fn status_mib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        kib / 1024
    }
}

/// A client of the API with one session.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl Api {
    async fn call(&self, endpoint: &str, form: &[(String, String)]) -> Result<reqwest::Response, reqwest::Error> {
        let mut request = self.http.post(format!("{}/api/{endpoint}", self.base)).form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.send().await
    }

    /// Calls `endpoint` and answers its JSON, failing on any status but 200.
    async fn json(&self, endpoint: &str, form: &[(String, String)]) -> Result<serde_json::Value, Error> {
        let response = self.call(endpoint, form).await?;
        let status = response.status();
        let body = response.text().await?;
        if status != StatusCode::OK {
            return Err(format!("{endpoint}: {status} {body}").into());
        }
        Ok(serde_json::from_str(&body)?)
    }
}

fn form(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

const WORDS: [&str; 8] = ["login", "crash", "export", "slow", "button", "invoice", "search", "upload"];
const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// Signs up the owner of a team and makes its project; answers the owner's client and the project id.
async fn team(anonymous: &Api, email: &str) -> Result<(Api, String), Error> {
    let sign_up = form(&[
        ("input[email]", email),
        ("input[display_name]", "Bench owner"),
        ("input[password]", PASSWORD),
        ("input[team_name]", "Bench"),
    ]);
    let response = anonymous.call("sign_up", &sign_up).await?;
    let owner = Api { cookie: Some(session_cookie(&response).ok_or("no session cookie")?), ..anonymous.clone() };
    let project = owner
        .json(
            "create_project",
            &form(&[("input[name]", "Bench"), ("input[key]", "BEN"), ("input[visibility]", "public")]),
        )
        .await?;
    let project_id = project["id"].as_str().ok_or("project id")?.to_owned();
    Ok((owner, project_id))
}

/// Signs up the owners of `teams` teams, makes a project in each and files `count` issues through
/// the API, [`SEEDERS`] at a time, spread over the teams in turn. With more than one team, the first
/// team (the one the workloads use) takes ten shares to the others' one, so that a million issues
/// over 1,000 teams leave it a project of about 10,000, as large as the single-team run's: the two
/// runs then differ in the size of the database, not of the project listed. Prints the rate of each
/// tenth, to show how creating slows as the database grows. Answers the first team's owner, project
/// id and email, and how many issues its project holds.
async fn seed(
    server: &Server,
    count: usize,
    teams: usize,
    resume_from: Option<usize>,
) -> Result<(Api, String, String, u64), Error> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build()?;
    let anonymous = Api { http: http.clone(), base: server.base.clone(), cookie: None };
    let started = Instant::now();
    let mut owners = Vec::with_capacity(teams);
    for t in 0..teams {
        let email = format!("owner{t}@bench.example");
        owners.push(match resume_from {
            None => team(&anonymous, &email).await?,
            Some(_) => signed_in(&anonymous, &email).await?,
        });
    }
    if teams > 1 {
        let verb = if resume_from.is_some() { "signed in the owners of" } else { "signed up" };
        println!("{verb} {teams} teams in {:.1?}", started.elapsed());
    }
    let owners = Arc::new(owners);
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(resume_from.unwrap_or(0) as u64));
    let done = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let tenth = (count / 10).max(1);
    let tenth_started = Arc::new(Mutex::new(Instant::now()));
    let extra_shares = if teams > 1 { 9 } else { 0 };
    let mut workers = Vec::new();
    for _ in 0..SEEDERS {
        let (owners, next, done, failures, tenth_started) =
            (owners.clone(), next.clone(), done.clone(), failures.clone(), tenth_started.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = usize::try_from(next.fetch_add(1, Ordering::SeqCst)).unwrap_or(usize::MAX);
                if n >= count {
                    return Ok::<(), Error>(());
                }
                let shares = owners.len() + extra_shares;
                let (owner, project_id) = &owners[(n % shares).saturating_sub(extra_shares)];
                // A failed create is a finding, not the end of the run: it is counted, the first
                // few are printed, and the workloads are still measured.
                let created = match owner.json("create_issue", &issue_form(project_id, n / shares)).await {
                    Ok(created) => created,
                    Err(e) => {
                        if failures.fetch_add(1, Ordering::SeqCst) < 3 {
                            println!("  a create failed after {} issues: {e}", done.load(Ordering::SeqCst));
                        }
                        continue;
                    }
                };
                if let Some(comment) = comment_form(&created, n / shares) {
                    if let Err(e) = owner.json("add_comment", &comment).await {
                        if failures.fetch_add(1, Ordering::SeqCst) < 3 {
                            println!("  a comment failed after {} issues: {e}", done.load(Ordering::SeqCst));
                        }
                    }
                }
                let filed = done.fetch_add(1, Ordering::SeqCst) + 1;
                if count >= 100_000 && filed % tenth as u64 == 0 {
                    let since = std::mem::replace(&mut *tenth_started.lock().expect("clock"), Instant::now());
                    #[allow(clippy::cast_precision_loss)] // a count far below 2^52
                    let rate = tenth as f64 / since.elapsed().as_secs_f64();
                    println!(
                        "  {filed} issues filed, the last {tenth} at {rate:.0}/s, {:.0?} in all",
                        started.elapsed()
                    );
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let failed = failures.load(Ordering::SeqCst);
    let made = (count - resume_from.unwrap_or(0)) as u64 - failed;
    println!("seeded {made} issues through the API in {:.1?}", started.elapsed());
    if failed > 0 {
        ERRORS.fetch_add(failed, Ordering::Relaxed);
        println!("{failed} creates failed while seeding; the end of the server's log:\n{}", server.log_tail());
    }
    let (owner, project_id) = owners[0].clone();
    Ok((owner, project_id, FIRST_OWNER.to_owned(), first_team_share(count, teams)))
}

const FIRST_OWNER: &str = "owner0@bench.example";

/// How many of `count` issues over `teams` teams [`seed`] files in the first team's project.
fn first_team_share(count: usize, teams: usize) -> u64 {
    let extra_shares = if teams > 1 { 9 } else { 0 };
    let shares = teams + extra_shares;
    let first_team = count / shares * (extra_shares + 1) + (count % shares).min(extra_shares + 1);
    println!("the first team's project holds {first_team} issues");
    first_team as u64
}

/// `--seeded`: the database (and the `--keep` folder, with its master key) hold an earlier run's
/// seed, as a long `PostgreSQL` seed can be made while something else is measured. Signs in as the
/// first team's owner instead of seeding.
async fn seeded(server: &Server, count: usize, teams: usize) -> Result<(Api, String, String, u64), Error> {
    let anonymous = Api { http: reqwest::Client::new(), base: server.base.clone(), cookie: None };
    let (owner, project_id) = signed_in(&anonymous, FIRST_OWNER).await?;
    println!("reusing the seeded database (signed in as {FIRST_OWNER})");
    Ok((owner, project_id, FIRST_OWNER.to_owned(), first_team_share(count, teams)))
}

/// An owner of an earlier run's seed, signed in, and the id of their project BEN.
async fn signed_in(anonymous: &Api, email: &str) -> Result<(Api, String), Error> {
    let response = anonymous.call("sign_in", &form(&[("input[email]", email), ("input[password]", PASSWORD)])).await?;
    let owner = Api { cookie: Some(session_cookie(&response).ok_or("no session cookie")?), ..anonymous.clone() };
    let page = owner.json("open_project", &form(&[("input[key]", "BEN")])).await?;
    let project_id = page["detail"]["project"]["id"].as_str().ok_or("no project BEN: run without --seeded first")?;
    Ok((owner, project_id.to_owned()))
}

fn issue_form(project_id: &str, n: usize) -> Vec<(String, String)> {
    let word = WORDS[n % WORDS.len()];
    let rare = if n % 1000 == 7 { " zebra" } else { "" };
    form(&[
        ("input[project_id]", project_id),
        ("input[fields][title]", &format!("The {word} page fails {n}{rare}")),
        ("input[fields][description]", &format!("Steps: open the **{word}** page and wait.\n\nSeen in build {n}.")),
        ("input[fields][severity]", SEVERITIES[n % SEVERITIES.len()]),
        ("input[fields][visibility]", if n.is_multiple_of(3) { "internal" } else { "public" }),
        ("input[fields][tags][0]", word),
    ])
}

/// Every fourth issue gets a comment, as people comment; one issue in a thousand has the word
/// "walrus" in a comment only (internal for one in three), for the search over comments.
fn comment_form(created: &serde_json::Value, n: usize) -> Option<Vec<(String, String)>> {
    if n % 4 != 1 {
        return None;
    }
    let issue_id = created["id"].as_str()?;
    let rare = if n % 1000 == 1 { " walrus" } else { "" };
    let word = WORDS[(n / 4) % WORDS.len()];
    Some(form(&[
        ("input[issue_id]", issue_id),
        ("input[body]", &format!("Also seen with the {word} dialog in build {n}{rare}.")),
        ("input[internal]", if n.is_multiple_of(3) { "true" } else { "false" }),
    ]))
}

/// How one request ended.
enum Outcome {
    Answered,
    /// 503 with `Retry-After`: the server shed the request by design (the hashing pool's queue was
    /// full for its whole bounded wait). Counted apart from errors.
    Busy,
    Failed,
}

impl From<bool> for Outcome {
    fn from(answered: bool) -> Self {
        if answered {
            Self::Answered
        } else {
            Self::Failed
        }
    }
}

/// What one workload measured.
struct Report {
    requests: u64,
    errors: u64,
    busy: u64,
    latency: Histogram<u64>,
    elapsed: Duration,
    peak_rss_mib: u64,
}

/// Runs `request` from `connections` clients for `seconds`, sampling the server's memory.
async fn drive<F, Fut, O>(server: &Server, connections: usize, seconds: u64, request: F) -> Report
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = O> + Send,
    O: Into<Outcome>,
{
    let request = Arc::new(request);
    let latency = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram")));
    let (requests, errors, busy, counter) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..connections {
        let (request, latency, requests, errors, busy, counter, stop) = (
            request.clone(),
            latency.clone(),
            requests.clone(),
            errors.clone(),
            busy.clone(),
            counter.clone(),
            stop.clone(),
        );
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                let outcome = request(n).await.into();
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX).max(1);
                if let Ok(mut histogram) = latency.lock() {
                    let _ = histogram.record(micros.min(60_000_000));
                }
                requests.fetch_add(1, Ordering::Relaxed);
                match outcome {
                    Outcome::Answered => {}
                    Outcome::Busy => _ = busy.fetch_add(1, Ordering::Relaxed),
                    Outcome::Failed => _ = errors.fetch_add(1, Ordering::Relaxed),
                }
            }
        }));
    }
    let mut peak_rss_mib = server.rss_mib();
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        peak_rss_mib = peak_rss_mib.max(server.rss_mib());
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let _ = client.await;
    }
    let latency = latency.lock().map_or_else(|_| Histogram::new(3).expect("histogram"), |h| h.clone());
    Report {
        requests: requests.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        busy: busy.load(Ordering::Relaxed),
        latency,
        elapsed: started.elapsed(),
        peak_rss_mib,
    }
}

/// Errors seen in any workload; the smoke run fails on any.
static ERRORS: AtomicU64 = AtomicU64::new(0);

fn print_row(name: &str, connections: usize, report: &Report) {
    ERRORS.fetch_add(report.errors, Ordering::Relaxed);
    #[allow(clippy::cast_precision_loss)]
    let rate = report.requests as f64 / report.elapsed.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let ms = |q: f64| report.latency.value_at_quantile(q) as f64 / 1000.0;
    let busy = if report.busy > 0 { format!(" ({} busy)", report.busy) } else { String::new() };
    println!(
        "| {name} | {connections} | {rate:.0} | {:.1} | {:.1} | {}{busy} | {} |",
        ms(0.5),
        ms(0.99),
        report.errors,
        report.peak_rss_mib
    );
}

fn list_form(project_id: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields = vec![("input[project_id]".to_owned(), project_id.to_owned())];
    fields.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    fields
}

async fn ok(api: &Api, endpoint: &str, form: &[(String, String)]) -> bool {
    match api.call(endpoint, form).await {
        Ok(response) => response.status() == StatusCode::OK && response.bytes().await.is_ok(),
        Err(_) => false,
    }
}

const REST_LIST: &str = "REST GET /api/v1/projects/BEN/issues, first page of 50 (token)";

/// The first page of the list through the REST API with an access token, beside the server function
/// in the same run (the token's check is one indexed look-up of its hash, and the membership).
async fn rest_list(server: &Server, seconds: u64, owner: &Api) -> Result<(), Error> {
    let made =
        owner.json("create_access_token", &form(&[("input[name]", "bench"), ("input[scopes][0]", "read")])).await?;
    let token = made["secret"].as_str().ok_or("no token secret")?.to_owned();
    let url = format!("{}/api/v1/projects/BEN/issues", owner.base);
    for connections in [1, 16] {
        let (http, url, token) = (owner.http.clone(), url.clone(), token.clone());
        let report = drive(server, connections, seconds, move |_| {
            let request = http.get(&url).bearer_auth(&token);
            async move {
                match request.send().await {
                    Ok(response) => response.status() == StatusCode::OK && response.bytes().await.is_ok(),
                    Err(_) => false,
                }
            }
        })
        .await;
        print_row(REST_LIST, connections, &report);
    }
    Ok(())
}

/// A form's fields, by name.
type Fields = Vec<(&'static str, &'static str)>;

#[tokio::main]
#[allow(clippy::too_many_lines)] // the run in order, as it prints
async fn main() -> Result<(), Error> {
    let options = options()?;
    let server = Server::start(&options).await?;
    println!(
        "moth: {}, database: {}, idle RSS {} MiB (anonymous; {} MiB with mapped files)",
        options.moth.display(),
        options.database_url.as_deref().unwrap_or("a new SQLite file"),
        server.rss_mib(),
        server.vm_rss_mib()
    );
    let (owner, project_id, email, count) = if options.seeded {
        seeded(&server, options.issues, options.teams).await?
    } else {
        seed(&server, options.issues, options.teams, options.resume_from)
            .await
            .map_err(|e| format!("{e}\n{}", server.log_tail()))?
    };
    println!(
        "after seeding: RSS {} MiB (anonymous; {} MiB with mapped files)\n",
        server.rss_mib(),
        server.vm_rss_mib()
    );
    println!("| workload | connections | req/s | p50 ms | p99 ms | errors | peak anonymous RSS MiB |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let seconds = options.seconds;
    let lists: [(&str, Vec<(&str, &str)>); 5] = [
        ("list_issues, first page of 50", vec![]),
        ("list_issues, severity=high", vec![("input[filter][severity]", "high")]),
        ("list_issues, sorted by priority", vec![("input[sort]", "priority")]),
        ("list_issues, text search (rare word)", vec![("input[filter][q]", "zebra")]),
        ("list_issues, text search (word in comments)", vec![("input[filter][q]", "walrus")]),
    ];
    for (name, extra) in lists {
        if !options.runs(name) {
            continue;
        }
        for connections in [1, 16] {
            let (api, form) = (owner.clone(), list_form(&project_id, &extra));
            let report = drive(&server, connections, seconds, move |_| {
                let (api, form) = (api.clone(), form.clone());
                async move { ok(&api, "list_issues", &form).await }
            })
            .await;
            print_row(name, connections, &report);
        }
    }
    if options.runs(REST_LIST) {
        rest_list(&server, seconds, &owner).await?;
    }
    // Across every project: the command palette (a rare word, a word in one issue of eight, a key) and
    // the start page.
    let across: [(&str, &str, Fields); 5] = [
        ("jump_to, rare word", "jump_to", vec![("input[q]", "zebra")]),
        ("jump_to, word in comments", "jump_to", vec![("input[q]", "walrus")]),
        ("jump_to, common word", "jump_to", vec![("input[q]", "login")]),
        ("jump_to, key", "jump_to", vec![("input[q]", "BEN-7")]),
        ("my_work (start page)", "my_work", vec![]),
    ];
    for (name, endpoint, fields) in across {
        if !options.runs(name) {
            continue;
        }
        for connections in [1, 16] {
            let (api, form) = (owner.clone(), form(&fields));
            let report = drive(&server, connections, seconds, move |_| {
                let (api, form) = (api.clone(), form.clone());
                async move { ok(&api, endpoint, &form).await }
            })
            .await;
            print_row(name, connections, &report);
        }
    }
    // The issues page as the app opens it: the session check and the project with its first page, sent
    // together (one round trip).
    if options.runs("issues page") {
        for connections in [1, 16] {
            let (api, form) = (owner.clone(), form(&[("input[key]", "BEN")]));
            let report = drive(&server, connections, seconds, move |_| {
                let (api, form) = (api.clone(), form.clone());
                async move {
                    let (me, page) = tokio::join!(ok(&api, "who_am_i", &[]), ok(&api, "open_project", &form));
                    me && page
                }
            })
            .await;
            print_row("issues page (who_am_i + open_project)", connections, &report);
        }
    }
    // What any signed-in request costs at least: the session and membership, and a tiny answer.
    if options.runs("who_am_i") {
        let api = owner.clone();
        let report = drive(&server, 16, seconds, move |_| {
            let api = api.clone();
            async move { ok(&api, "who_am_i", &[]).await }
        })
        .await;
        print_row("who_am_i", 16, &report);
    }
    let count = count.max(1);
    if options.runs("get_issue") {
        let api = owner.clone();
        let report = drive(&server, 1, seconds, move |n| {
            let api = api.clone();
            async move {
                let number = (n % count + 1).to_string();
                ok(&api, "get_issue", &form(&[("input[key]", "BEN"), ("input[number]", &number)])).await
            }
        })
        .await;
        print_row("get_issue", 1, &report);
    }
    if options.runs("create_issue") {
        let (api, project) = (owner.clone(), project_id.clone());
        let report = drive(&server, 16, seconds, move |n| {
            let (api, project) = (api.clone(), project.clone());
            async move { ok(&api, "create_issue", &issue_form(&project, usize::try_from(n).unwrap_or(0))).await }
        })
        .await;
        print_row("create_issue", 16, &report);
    }
    if options.runs("webhooks") {
        webhooks::run(&server, &options, &owner).await?;
    }
    if options.runs("upload") {
        uploads(&server, &options, &owner).await?;
    }
    let anonymous = Api { cookie: None, ..owner.clone() };
    sign_ins(&server, &options, &anonymous, &email).await;
    // Last: it adds members (up to 1,000) to the team the other workloads use.
    if options.runs("notifications") {
        notifications::run(&server, &options, &owner, &project_id).await?;
    }
    // The list while 20 sign-ins run at once.
    if options.runs("during") {
        list_during_sign_ins(&server, &owner, &anonymous, &project_id, &email, seconds).await;
    }
    println!("\nidle again: RSS {} MiB (anonymous; {} MiB with mapped files)", server.rss_mib(), server.vm_rss_mib());
    // A buffer is released within one and a half times the quiet period.
    tokio::time::sleep(Duration::from_secs(HASHING_RELEASE_SECS * 2)).await;
    println!(
        "after {} s without work: RSS {} MiB (anonymous; {} MiB with mapped files)",
        HASHING_RELEASE_SECS * 2,
        server.rss_mib(),
        server.vm_rss_mib()
    );
    let errors = ERRORS.load(Ordering::Relaxed);
    if options.smoke && errors > 0 {
        return Err(format!("{errors} requests failed\n{}", server.log_tail()).into());
    }
    Ok(())
}

/// Sign-ins that succeed and that fail, from 16 and 64 clients.
async fn sign_ins(server: &Server, options: &Options, anonymous: &Api, email: &str) {
    let seconds = options.seconds;
    for (name, password, connections) in [
        ("sign_in, success", PASSWORD, 16),
        ("sign_in, wrong password", "wrong password!", 16),
        ("sign_in, wrong password", "wrong password!", 64),
    ] {
        if !options.runs(name) {
            continue;
        }
        let (api, email) = (anonymous.clone(), email.to_owned());
        let report = drive(server, connections, seconds, move |_| {
            let (api, email) = (api.clone(), email.clone());
            async move {
                let answer =
                    api.call("sign_in", &form(&[("input[email]", &email), ("input[password]", password)])).await;
                // A refused password is the expected answer. Busy (503 with `Retry-After`) is the bound on
                // hashing doing its work: shown apart (a slow debug build on a loaded machine sheds some of
                // a 64-connection flood). Anything else is an error.
                match answer {
                    Ok(r) if r.status() == StatusCode::OK => Outcome::Answered,
                    Ok(r) if password != PASSWORD && r.status() == StatusCode::UNAUTHORIZED => Outcome::Answered,
                    Ok(r)
                        if r.status() == StatusCode::SERVICE_UNAVAILABLE
                            && r.headers().contains_key(header::RETRY_AFTER) =>
                    {
                        Outcome::Busy
                    }
                    _ => Outcome::Failed,
                }
            }
        })
        .await;
        print_row(name, connections, &report);
    }
}

async fn list_during_sign_ins(
    server: &Server,
    owner: &Api,
    anonymous: &Api,
    project_id: &str,
    email: &str,
    seconds: u64,
) {
    let (flood_api, flood_email) = (anonymous.clone(), email.to_owned());
    let flood_stop = Arc::new(AtomicBool::new(false));
    let mut flood = Vec::new();
    for _ in 0..20 {
        let (api, email, stop) = (flood_api.clone(), flood_email.clone(), flood_stop.clone());
        flood.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let _ = api
                    .call("sign_in", &form(&[("input[email]", &email), ("input[password]", "wrong password!")]))
                    .await;
            }
        }));
    }
    let (api, form_list) = (owner.clone(), list_form(project_id, &[]));
    let report = drive(server, 16, seconds, move |_| {
        let (api, form_list) = (api.clone(), form_list.clone());
        async move { ok(&api, "list_issues", &form_list).await }
    })
    .await;
    flood_stop.store(true, Ordering::Relaxed);
    for task in flood {
        let _ = task.await;
    }
    print_row("list_issues during 20 concurrent sign-ins", 16, &report);
}

/// Uploads: a large PDF through the whole pipeline (size, name, content, clamd, sealing, storing)
/// against clamd's own scan of the same bytes, then 8 at once, with the server's peak memory. Runs
/// when a clamd is named (`MOTH_CLAMD_URL`, or the test script's `MOTH_TEST_CLAMD_URL`).
async fn uploads(server: &Server, options: &Options, owner: &Api) -> Result<(), Error> {
    let Some(clamd) = clamd_url() else {
        println!("\n(uploads skipped: no MOTH_CLAMD_URL)");
        return Ok(());
    };
    let size = if options.smoke { 1024 * 1024 } else { 20 * 1024 * 1024 };
    let pdf = bytes::Bytes::from(pdf_of(size));
    let issue = owner.json("get_issue", &form(&[("input[key]", "BEN"), ("input[number]", "1")])).await?;
    let issue_id = issue["issue"]["id"].as_str().ok_or("no issue id")?.to_owned();
    let rounds = if options.smoke { 1 } else { 5 };
    let (mut through_moth, mut by_clamd) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..rounds {
        let started = Instant::now();
        upload(owner, &issue_id, &pdf).await?;
        through_moth += started.elapsed();
        let started = Instant::now();
        let answer =
            clamav_client::tokio::scan_buffer(&pdf, clamav_client::tokio::Tcp { host_address: clamd.as_str() }, None)
                .await?;
        by_clamd += started.elapsed();
        if answer != b"stream: OK\0" {
            return Err(format!("clamd: {}", String::from_utf8_lossy(&answer)).into());
        }
    }
    let (moth_ms, clamd_ms) =
        (through_moth.as_secs_f64() * 1000.0 / f64::from(rounds), by_clamd.as_secs_f64() * 1000.0 / f64::from(rounds));
    println!(
        "\nupload of {} MiB: {moth_ms:.0} ms through Moth's pipeline, {clamd_ms:.0} ms for clamd's own scan: {:.2}x",
        size / (1024 * 1024),
        moth_ms / clamd_ms
    );
    let at_once = if options.smoke { 2 } else { 8 };
    let before = server.rss_mib();
    let mut tasks = Vec::new();
    for _ in 0..at_once {
        let (owner, issue_id, pdf) = (owner.clone(), issue_id.clone(), pdf.clone());
        tasks.push(tokio::spawn(async move { upload(&owner, &issue_id, &pdf).await }));
    }
    let started = Instant::now();
    let mut peak = before;
    while tasks.iter().any(|t| !t.is_finished()) {
        peak = peak.max(server.rss_mib());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for task in tasks {
        task.await??;
    }
    println!(
        "{at_once} uploads of {} MiB at once: {:.1} s in all; anonymous RSS {before} MiB before, peak {peak} MiB",
        size / (1024 * 1024),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn clamd_url() -> Option<String> {
    ["MOTH_CLAMD_URL", "MOTH_TEST_CLAMD_URL"].iter().find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

/// A PDF header followed by bytes that do not compress, `size` bytes in all.
fn pdf_of(size: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    while bytes.len() < size {
        // xorshift: cheap, and enough to keep clamd and the disk from seeing runs.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(size);
    bytes
}

async fn upload(owner: &Api, issue_id: &str, bytes: &bytes::Bytes) -> Result<(), Error> {
    let url =
        reqwest::Url::parse_with_params(&format!("{}/upload/issues/{issue_id}", owner.base), &[("name", "big.pdf")])?;
    // A `Bytes` body is sent without a copy, as clamd's own scan below reads the bytes in place.
    let mut request = owner.http.post(url).body(bytes.clone());
    if let Some(cookie) = &owner.cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = request.send().await?;
    let status = response.status();
    if status != StatusCode::OK {
        return Err(format!("upload: {status} {}", response.text().await.unwrap_or_default()).into());
    }
    Ok(())
}
