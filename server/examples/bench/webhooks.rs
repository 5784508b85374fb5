//! Webhooks under load (issue 28): issues created from 16 connections in a project with no hook,
//! beside a project whose 10 hooks (internal, so that every issue reaches them) each hear of every
//! new issue. The deliveries are written by the worker off the request path, so the two should be
//! alike; then how fast the worker delivers them to a receiver on this machine that answers at once.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use super::{drive, form, issue_form, ok, print_row, Api, Error, Options, Server};

/// Hooks on the measured project.
const HOOKS: usize = 10;

/// A receiver that counts what it is sent and answers 204 at once.
struct Receiver {
    address: std::net::SocketAddr,
    received: Arc<AtomicU64>,
}

impl Receiver {
    async fn start() -> Result<Self, Error> {
        let received = Arc::new(AtomicU64::new(0));
        let counted = received.clone();
        let router = axum::Router::new().fallback(axum::routing::post(move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::Relaxed);
                axum::http::StatusCode::NO_CONTENT
            }
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Self { address, received })
    }

    fn count(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

async fn project(owner: &Api, key: &str) -> Result<String, Error> {
    let made = owner
        .json("create_project", &form(&[("input[name]", key), ("input[key]", key), ("input[visibility]", "public")]))
        .await?;
    Ok(made["id"].as_str().ok_or("a project id")?.to_owned())
}

pub async fn run(server: &Server, options: &Options, owner: &Api) -> Result<(), Error> {
    let receiver = Receiver::start().await?;
    let quiet = project(owner, "NOHOOK").await?;
    let hooked = project(owner, "HOOKED").await?;
    for n in 0..HOOKS {
        let url = format!("http://{}/hook/{n}", receiver.address);
        let fields = [
            ("input[project_id]", hooked.as_str()),
            ("input[url]", url.as_str()),
            ("input[events][0]", "issue.created"),
            ("input[internal]", "true"),
        ];
        owner.json("create_webhook", &form(&fields)).await?;
    }
    println!("\n| workload | connections | req/s | p50 ms | p99 ms | errors | peak anonymous RSS MiB |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mut rates = Vec::new();
    let (mut created, mut started) = (0, None);
    for (name, project) in
        [("create_issue, no hooks".to_owned(), &quiet), (format!("create_issue, {HOOKS} hooks"), &hooked)]
    {
        let (api, project_id) = (owner.clone(), project.clone());
        started = Some(Instant::now());
        let report = drive(server, 16, options.seconds, move |n| {
            let (api, project_id) = (api.clone(), project_id.clone());
            async move { ok(&api, "create_issue", &issue_form(&project_id, usize::try_from(n).unwrap_or(0))).await }
        })
        .await;
        print_row(&name, 16, &report);
        #[allow(clippy::cast_precision_loss)]
        rates.push(report.requests as f64 / report.elapsed.as_secs_f64());
        created = report.requests - report.errors - report.busy;
    }
    println!(
        "\nwith {HOOKS} hooks, creates ran at {:.2}x the rate without (1.0 is alike; the target is at least 1 / 1.2)",
        rates[1] / rates[0].max(f64::MIN_POSITIVE)
    );
    let started = started.ok_or("no run")?;
    let expected = created * u64::try_from(HOOKS).unwrap_or(0);
    let waited = Instant::now();
    while receiver.count() < expected {
        if waited.elapsed() > Duration::from_secs(600) {
            return Err(format!("{} of {expected} deliveries arrived in 10 minutes", receiver.count()).into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    #[allow(clippy::cast_precision_loss)]
    let rate = expected as f64 / started.elapsed().as_secs_f64();
    println!(
        "{expected} deliveries ({created} issues x {HOOKS} hooks) received {:.1} s after the creates began: \
         {rate:.0} deliveries/s; {:.1} s after the last create",
        started.elapsed().as_secs_f64(),
        waited.elapsed().as_secs_f64()
    );
    Ok(())
}
