//! The load, the timeline of failures, and what is counted and printed.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use reqwest::header;

use super::{at, cluster::Cluster, common::session_cookie, Error, Options};

const PASSWORD: &str = "correct horse battery staple";

pub struct Report {
    pub lost: usize,
    pub events_missing: usize,
    /// Answers that were wrong: a 200 without what it promises, or a 401 to a live session.
    pub wrong: usize,
}

/// One person's client: its session cookie changes at each sign-in.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl Client {
    fn new(base: &str) -> Result<Self, Error> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        Ok(Self { http, base: base.to_owned(), cookie: None })
    }

    async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> Result<(u16, serde_json::Value), reqwest::Error> {
        let mut request = self.http.post(format!("{}/api/{endpoint}", self.base)).form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let cookie = session_cookie(&response);
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        if let (200, Some(_)) = (status, &cookie) {
            // Sign-in and sign-up set a new session (the server cycles it).
            if matches!(endpoint, "sign_in" | "sign_up") {
                return Ok((status, serde_json::json!({ "cookie": cookie, "body": body })));
            }
        }
        Ok((status, body))
    }

    async fn sign_in(&mut self, email: &str) -> Result<(), Error> {
        let (status, answer) = self.call("sign_in", &[("input[email]", email), ("input[password]", PASSWORD)]).await?;
        if status != 200 {
            return Err(format!("sign_in: {status}").into());
        }
        self.cookie = answer["cookie"].as_str().map(str::to_owned);
        Ok(())
    }
}

/// What one request came to.
struct Record {
    at: Instant,
    write: bool,
    outcome: Result<(), String>,
}

#[derive(Default)]
struct Shared {
    records: Mutex<Vec<Record>>,
    /// Acknowledged creates: (id, key such as CHA-12).
    issues: Mutex<Vec<(String, String)>>,
    /// Acknowledged comments: (the issue's key, the comment's id).
    comments: Mutex<Vec<(String, String)>>,
}

impl Shared {
    /// Keeps what a request came to; answers whether it succeeded.
    fn record(&self, write: bool, outcome: Result<(), String>) -> bool {
        let ok = outcome.is_ok();
        self.records.lock().expect("records").push(Record { at: Instant::now(), write, outcome });
        ok
    }
}

/// A receiver that keeps how often each webhook message (by `webhook-id`) and each issue arrived.
struct Receiver {
    address: std::net::SocketAddr,
    messages: Arc<Mutex<HashMap<String, usize>>>,
    issues: Arc<Mutex<HashMap<String, usize>>>,
}

impl Receiver {
    async fn start() -> Result<Self, Error> {
        let messages: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let issues: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (by_message, by_issue) = (messages.clone(), issues.clone());
        let router = axum::Router::new().fallback(axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                *by_message.lock().expect("messages").entry(id).or_default() += 1;
                let payload: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                if let Some(issue) = payload["data"]["issue"]["id"].as_str() {
                    *by_issue.lock().expect("issues").entry(issue.to_owned()).or_default() += 1;
                }
                async { axum::http::StatusCode::NO_CONTENT }
            },
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self { address, messages, issues })
    }
}

/// An owner with a project `CHA` whose internal hook hears of every new issue.
async fn setup(cluster: &Cluster, receiver: &Receiver) -> Result<(String, String), Error> {
    let email = format!("chaos-{}@example.org", uuid::Uuid::new_v4().simple());
    let mut owner = Client::new(&cluster.url)?;
    let fields = [
        ("input[email]", email.as_str()),
        ("input[display_name]", "Chaos"),
        ("input[password]", PASSWORD),
        ("input[team_name]", "Chaos"),
    ];
    let (status, answer) = owner.call("sign_up", &fields).await?;
    if status != 200 {
        return Err(format!("sign_up: {status} {answer}").into());
    }
    owner.cookie = answer["cookie"].as_str().map(str::to_owned);
    let project = [("input[name]", "Chaos"), ("input[key]", "CHA"), ("input[visibility]", "public")];
    let (status, made) = owner.call("create_project", &project).await?;
    let project_id = made["id"].as_str().ok_or(format!("create_project: {status} {made}"))?.to_owned();
    let url = format!("http://{}/hook", receiver.address);
    let hook = [
        ("input[project_id]", project_id.as_str()),
        ("input[url]", url.as_str()),
        ("input[events][0]", "issue.created"),
        ("input[internal]", "true"),
    ];
    let (status, answer) = owner.call("create_webhook", &hook).await?;
    if status != 200 {
        return Err(format!("create_webhook: {status} {answer}").into());
    }
    Ok((email, project_id))
}

/// One worker: a mix of creates (4 in 10), comments (2), lists (3) and sign-ins (1) until `stop`.
async fn work(mut client: Client, email: String, project: String, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    // A sign-in replaces the session; one that failed may have ended the old one already, and
    // only then is a 401 what the server should say. Any other 401 is a wrong answer.
    let (mut n, mut ok, mut replaced) = (0_usize, true, false);
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        // As a client would, wait a moment after a failure before the next request.
        if !ok {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (write, outcome) = if n % 10 == 9 {
            let outcome = client.sign_in(&email).await.map_err(|e| e.to_string());
            replaced = outcome.is_err();
            (false, outcome)
        } else {
            request(&client, n, &project, &shared).await
        };
        let outcome = match outcome {
            Err(e) if e == "status 401" && replaced => Err("401 after a failed sign-in".to_owned()),
            Err(e) if e == "status 401" => Err("wrong answer: 401 with a live session".to_owned()),
            other => other,
        };
        let signed_out = outcome.as_ref().is_err_and(|e| e.starts_with("401"));
        ok = shared.record(write, outcome);
        if signed_out && client.sign_in(&email).await.is_ok() {
            replaced = false;
        }
    }
}

/// The worker's `n`th request but a sign-in: whether it writes, and what it came to.
async fn request(client: &Client, n: usize, project: &str, shared: &Shared) -> (bool, Result<(), String>) {
    let latest = shared.issues.lock().expect("issues").last().cloned();
    match (n % 10, latest) {
        (4 | 5, Some((id, key))) => {
            let body = format!("comment {n}");
            let form = [("input[issue_id]", id.as_str()), ("input[body]", body.as_str()), ("input[internal]", "false")];
            let answer = answered(client.call("add_comment", &form).await, "id");
            if let Ok(comment) = &answer {
                let comment = comment["id"].as_str().unwrap_or_default().to_owned();
                shared.comments.lock().expect("comments").push((key, comment));
            }
            (true, answer.map(|_| ()))
        }
        (6..=8, _) => {
            let answer = answered(client.call("list_issues", &[("input[project_id]", project)]).await, "issues");
            (false, answer.map(|_| ()))
        }
        _ => {
            let title = format!("Chaos issue {n}");
            let form = [
                ("input[project_id]", project),
                ("input[fields][title]", title.as_str()),
                ("input[fields][visibility]", "public"),
            ];
            let answer = answered(client.call("create_issue", &form).await, "reference");
            if let Ok(issue) = &answer {
                let field = |name: &str| issue[name].as_str().unwrap_or_default().to_owned();
                shared.issues.lock().expect("issues").push((field("id"), field("reference")));
            }
            (true, answer.map(|_| ()))
        }
    }
}

/// A 200 answer holding `field`, or what went wrong: `transport` (no answer, or a cut one), `503`,
/// `status N`, or `wrong answer` (a 200 without it).
fn answered(
    outcome: Result<(u16, serde_json::Value), reqwest::Error>,
    field: &str,
) -> Result<serde_json::Value, String> {
    match outcome {
        Err(_) => Err("transport".into()),
        Ok((200, body)) if !body[field].is_null() => Ok(body),
        Ok((200, _)) => Err("wrong answer".into()),
        Ok((503, _)) => Err("503".into()),
        Ok((status, _)) => Err(format!("status {status}")),
    }
}

/// The chaos run: load for `options.seconds` while the timeline kills and restarts parts.
pub async fn chaos(cluster: &Cluster, options: &Options) -> Result<Report, Error> {
    let receiver = Receiver::start().await?;
    let (email, project) = setup(cluster, &receiver).await?;
    let (shared, stop) = (Arc::new(Shared::default()), Arc::new(AtomicBool::new(false)));
    let mut workers = Vec::new();
    for _ in 0..options.workers {
        let mut client = Client::new(&cluster.url)?;
        client.sign_in(&email).await?;
        workers.push(tokio::spawn(work(client, email.clone(), project.clone(), shared.clone(), stop.clone())));
    }
    let started = Instant::now();
    timeline(cluster, options.seconds, started).await?;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await?;
    }
    let elapsed = started.elapsed();
    let records = std::mem::take(&mut *shared.records.lock().expect("records"));
    let wrong = summarise(&records, elapsed);
    let lost = read_back(cluster, &email, &shared).await?;
    let events_missing = events(&receiver, &shared).await;
    for i in 1..=super::cluster::INSTANCES {
        println!("instance {i}: resident memory {} MiB", cluster.rss_mib(i));
    }
    Ok(Report { lost, events_missing, wrong })
}

/// Kills and restarts parts at fixed shares of the run, printing when.
async fn timeline(cluster: &Cluster, seconds: u64, started: Instant) -> Result<(), Error> {
    let step = |share: f64| tokio::time::sleep_until((started + at(seconds, share)).into());
    let say = |what: &str| println!("{:>6.1} s  {what}", started.elapsed().as_secs_f64());
    step(0.15).await;
    cluster.run(&["kill-moth", "2"])?;
    say("Moth instance 2 killed (SIGKILL)");
    step(0.30).await;
    cluster.run(&["start-moth", "2"])?;
    say("Moth instance 2 started again and ready");
    step(0.45).await;
    let node = cluster.run(&["kill-primary"])?;
    say(&format!("PostgreSQL primary {node} killed (Patroni and PostgreSQL, SIGKILL)"));
    step(0.75).await;
    cluster.run(&["start-node", &node])?;
    say(&format!("{node} started again (it rejoins as the standby)"));
    step(1.0).await;
    Ok(())
}

/// Prints the requests, the errors by kind and the longest window in which no write succeeded;
/// answers how many answers were wrong.
fn summarise(records: &[Record], elapsed: Duration) -> usize {
    let mut errors: HashMap<&str, usize> = HashMap::new();
    for record in records {
        if let Err(kind) = &record.outcome {
            *errors.entry(kind.as_str()).or_default() += 1;
        }
    }
    let writes: Vec<&Record> = records.iter().filter(|r| r.write).collect();
    let (mut longest, mut last_ok, mut failed_since) = (Duration::ZERO, None::<Instant>, false);
    let mut sorted = writes.clone();
    sorted.sort_by_key(|r| r.at);
    for record in sorted {
        match (&record.outcome, last_ok) {
            (Ok(()), Some(previous)) if failed_since => longest = longest.max(record.at - previous),
            (Err(_), _) => failed_since = true,
            _ => {}
        }
        if record.outcome.is_ok() {
            (last_ok, failed_since) = (Some(record.at), false);
        }
    }
    let failed: usize = errors.values().sum();
    println!(
        "requests: {} in {:.0} s ({:.0}/s), {} writes; failed: {failed} {:?}",
        records.len(),
        elapsed.as_secs_f64(),
        records.len() as f64 / elapsed.as_secs_f64(),
        writes.len(),
        errors
    );
    println!("longest window in which no write succeeded: {:.1} s", longest.as_secs_f64());
    errors.iter().filter(|(kind, _)| kind.starts_with("wrong answer")).map(|(_, n)| n).sum()
}

/// Reads every acknowledged issue and comment back through `HAProxy`; answers how many are missing.
async fn read_back(cluster: &Cluster, email: &str, shared: &Shared) -> Result<usize, Error> {
    let mut client = Client::new(&cluster.url)?;
    client.sign_in(email).await?;
    let issues = shared.issues.lock().expect("issues").clone();
    let comments = shared.comments.lock().expect("comments").clone();
    let mut found_comments: HashMap<String, Vec<String>> = HashMap::new();
    let mut lost = 0;
    for (id, key) in &issues {
        let (project, number) = key.split_once('-').ok_or("a key")?;
        let (status, body) = client.call("get_issue", &[("input[key]", project), ("input[number]", number)]).await?;
        if status != 200 || body["issue"]["id"].as_str() != Some(id.as_str()) {
            eprintln!("lost: issue {key} ({status})");
            lost += 1;
            continue;
        }
        let ids = body["comments"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str()).map(str::to_owned);
        found_comments.insert(key.clone(), ids.collect());
    }
    for (key, comment) in &comments {
        if !found_comments.get(key).is_some_and(|ids| ids.contains(comment)) {
            eprintln!("lost: comment {comment} on {key}");
            lost += 1;
        }
    }
    println!("acknowledged writes: {} issues, {} comments; lost: {lost}", issues.len(), comments.len());
    Ok(lost)
}

/// Waits (up to a minute) for every acknowledged create's webhook; prints what is missing and what
/// came more than once; answers how many are missing.
async fn events(receiver: &Receiver, shared: &Shared) -> usize {
    let issues = shared.issues.lock().expect("issues").clone();
    let waited = Instant::now();
    let missing = || {
        let seen = receiver.issues.lock().expect("issues");
        issues.iter().filter(|(id, _)| !seen.contains_key(id)).count()
    };
    while missing() > 0 && waited.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let messages = receiver.messages.lock().expect("messages");
    let repeated = messages.values().filter(|n| **n > 1).count();
    let extra = receiver.issues.lock().expect("issues").len().saturating_sub(issues.len());
    let missing = missing();
    println!(
        "webhook events: {} messages for {} acknowledged creates; missing {missing}; sent again (same webhook-id) {repeated}; \
         for creates whose answer was lost {extra}",
        messages.len(),
        issues.len()
    );
    missing
}

/// The list's and creates' throughput through `HAProxy` with one, two and three instances.
pub async fn scaling(cluster: &Cluster, seconds: u64) -> Result<(), Error> {
    let receiver = Receiver::start().await?;
    let (email, project) = setup(cluster, &receiver).await?;
    let mut client = Client::new(&cluster.url)?;
    client.sign_in(&email).await?;
    // The list reads a project of a fixed size (a page of 50 of 200 issues); the creates go to
    // another project, so that each step lists as much as the one before.
    for n in 0..200 {
        let title = format!("Listed issue {n}");
        let form = [("input[project_id]", project.as_str()), ("input[fields][title]", title.as_str())];
        answered(client.call("create_issue", &form).await, "id")?;
    }
    let other = [("input[name]", "Creates"), ("input[key]", "CRE"), ("input[visibility]", "public")];
    let created = answered(client.call("create_project", &other).await, "id")?;
    let creates_project = created["id"].as_str().unwrap_or_default().to_owned();
    println!("\n| instances | list req/s | list p99 ms | create req/s | create p99 ms | RSS per instance MiB |");
    println!("| --- | --- | --- | --- | --- | --- |");
    cluster.run(&["kill-moth", "2"])?;
    cluster.run(&["kill-moth", "3"])?;
    for instances in 1..=super::cluster::INSTANCES {
        if instances > 1 {
            cluster.run(&["start-moth", &instances.to_string()])?;
        }
        // HAProxy's checks (one a second) take the instance in or out.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let list = measure(&client, seconds, "list_issues", &[("input[project_id]", &project)]).await;
        let title = format!("Scaling with {instances}");
        let create = [("input[project_id]", creates_project.as_str()), ("input[fields][title]", &title)];
        let created = measure(&client, seconds, "create_issue", &create).await;
        let rss: Vec<String> = (1..=instances).map(|i| cluster.rss_mib(i).to_string()).collect();
        println!(
            "| {instances} | {:.0} | {:.1} | {:.0} | {:.1} | {} |",
            list.0,
            list.1,
            created.0,
            created.1,
            rss.join(", ")
        );
    }
    Ok(())
}

/// 16 connections calling `endpoint` for `seconds`: requests per second and p99 in ms.
async fn measure(client: &Client, seconds: u64, endpoint: &'static str, form: &[(&str, &str)]) -> (f64, f64) {
    let form: Vec<(String, String)> = form.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let (done, until) = (Arc::new(AtomicUsize::new(0)), Instant::now() + Duration::from_secs(seconds));
    let latencies = Arc::new(Mutex::new(Histogram::<u64>::new(3).expect("histogram")));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (client, form, done, latencies) = (client.clone(), form.clone(), done.clone(), latencies.clone());
        tasks.push(tokio::spawn(async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            while Instant::now() < until {
                let began = Instant::now();
                if matches!(client.call(endpoint, &form).await, Ok((200, _))) {
                    done.fetch_add(1, Ordering::Relaxed);
                    let micros = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
                    let _ = latencies.lock().expect("histogram").record(micros);
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let p99 = latencies.lock().expect("histogram").value_at_quantile(0.99) as f64 / 1000.0;
    (done.load(Ordering::Relaxed) as f64 / seconds as f64, p99)
}
