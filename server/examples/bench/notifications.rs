//! Notifications under load (issue 27), made as people make them: members join through invitations
//! and watch an issue. Measures an update of an issue that nobody else watches beside one that every
//! member watches (the fan-out runs in the worker, never on the request path, so the two should be
//! alike), how long one update takes to reach the last watcher's inbox, and what the members' live
//! connections (`GET /live`, one each, following the watched issue) cost the server's memory, idle
//! and while updates flow to all of them.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use reqwest::{header, StatusCode};
use tokio::task::JoinSet;

use super::{common::session_cookie, drive, form, ok, print_row, Api, Error, Options, Server, PASSWORD};

/// Members who sign up at once (each costs a password hash).
const JOINING_AT_ONCE: usize = 8;

pub async fn run(server: &Server, options: &Options, owner: &Api, project_id: &str) -> Result<(), Error> {
    let watchers = if options.smoke { 10 } else { 1_000 };
    let quiet = Issue::create(owner, project_id, "Nobody else watches this").await?;
    let watched = Issue::create(owner, project_id, "Everyone watches this").await?;
    let started = Instant::now();
    let members = join(owner, project_id, watchers).await?;
    for member in &members {
        member.json("watch_issue", &form(&[("input[issue_id]", &watched.id), ("input[watching]", "true")])).await?;
    }
    println!("\n{watchers} members joined and watch {} in {:.0} s", watched.key, started.elapsed().as_secs_f64());
    println!("\n| workload | connections | req/s | p50 ms | p99 ms | errors | peak anonymous RSS MiB |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");

    // A first pass, not shown, so that neither measured run pays for a cold cache.
    let (api, issue) = (owner.clone(), quiet.clone());
    drive(server, 1, options.seconds.min(3), move |n| {
        let (api, issue) = (api.clone(), issue.clone());
        async move { ok(&api, "update_issue", &issue.update(n + 2_000_000)).await }
    })
    .await;
    let mut p99 = Vec::new();
    for (name, issue) in [
        ("update_issue, no other watcher".to_owned(), &quiet),
        (format!("update_issue, {watchers} watchers"), &watched),
    ] {
        let (api, issue) = (owner.clone(), issue.clone());
        let report = drive(server, 1, options.seconds, move |n| {
            let (api, issue) = (api.clone(), issue.clone());
            async move { ok(&api, "update_issue", &issue.update(n)).await }
        })
        .await;
        print_row(&name, 1, &report);
        p99.push(report.latency.value_at_quantile(0.99));
        settle(&members[members.len() - 1]).await?;
    }
    #[allow(clippy::cast_precision_loss)]
    let ratio = p99[1] as f64 / p99[0].max(1) as f64;
    println!("\np99 with {watchers} watchers / p99 with none: {ratio:.2}");

    let last = &members[members.len() - 1];
    let before = unread(last).await?;
    let sent = Instant::now();
    owner.json("update_issue", &watched.update(u64::MAX / 2)).await?;
    while unread(last).await? == before {
        if sent.elapsed() > Duration::from_secs(60) {
            return Err("an update did not reach the last watcher's inbox within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!("one update reached all {watchers} watchers' inboxes in {} ms", sent.elapsed().as_millis());

    live_connections(server, options, owner, &members, &watched).await
}

/// Each member holds a live connection following `watched`: the server's memory idle, then while the
/// owner updates the issue (each update is an event on every connection).
async fn live_connections(
    server: &Server,
    options: &Options,
    owner: &Api,
    members: &[Api],
    watched: &Issue,
) -> Result<(), Error> {
    let before = server.rss_mib();
    let heard = Arc::new(AtomicU64::new(0));
    let mut streams = JoinSet::new();
    for member in members {
        let mut request = member.http.get(format!("{}/live?issue={}", member.base, watched.id));
        if let Some(cookie) = &member.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let mut response = request.send().await?;
        if response.status() != StatusCode::OK {
            return Err(format!("GET /live: {}", response.status()).into());
        }
        let heard = heard.clone();
        streams.spawn(async move {
            while let Ok(Some(chunk)) = response.chunk().await {
                let events = chunk.windows(12).filter(|w| *w == b"event: issue").count();
                heard.fetch_add(events as u64, Ordering::Relaxed);
            }
        });
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = server.rss_mib();
    let held = members.len();
    #[allow(clippy::cast_precision_loss)]
    let per_thousand = |rss: u64| (rss.saturating_sub(before)) as f64 * 1000.0 / held as f64;
    println!(
        "\n{held} live connections held, idle: anonymous RSS {before} → {idle} MiB ({:.1} MiB per 1,000 connections)",
        per_thousand(idle)
    );
    let (api, issue) = (owner.clone(), watched.clone());
    let report = drive(server, 1, options.seconds, move |n| {
        let (api, issue) = (api.clone(), issue.clone());
        async move { ok(&api, "update_issue", &issue.update(n + 1_000_000)).await }
    })
    .await;
    print_row(&format!("update_issue, {held} watchers following it live"), 1, &report);
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "with events flowing: peak anonymous RSS {} MiB ({:.1} MiB per 1,000 connections); {} updates, {} events heard",
        report.peak_rss_mib,
        per_thousand(report.peak_rss_mib),
        report.requests,
        heard.load(Ordering::Relaxed)
    );
    streams.abort_all();
    Ok(())
}

/// An issue the workloads update, with what an update needs.
#[derive(Clone)]
struct Issue {
    id: String,
    key: String,
    status_id: String,
    title: String,
}

impl Issue {
    async fn create(owner: &Api, project_id: &str, title: &str) -> Result<Self, Error> {
        let created = owner
            .json("create_issue", &form(&[("input[project_id]", project_id), ("input[fields][title]", title)]))
            .await?;
        let text = |v: &serde_json::Value| v.as_str().map(str::to_owned).ok_or("create_issue's answer");
        Ok(Self {
            id: text(&created["id"])?,
            key: text(&created["reference"])?,
            status_id: text(&created["status"]["id"])?,
            title: title.to_owned(),
        })
    }

    /// An edit of the title, different each time (an unchanged issue records no activity).
    fn update(&self, n: u64) -> Vec<(String, String)> {
        form(&[
            ("input[issue_id]", &self.id),
            ("input[status_id]", &self.status_id),
            ("input[fields][title]", &format!("{} ({n})", self.title)),
        ])
    }
}

/// `count` members who joined the owner's team and project through invitations, signed in.
async fn join(owner: &Api, project_id: &str, count: usize) -> Result<Vec<Api>, Error> {
    let mut members = Vec::with_capacity(count);
    let mut joining = JoinSet::new();
    for n in 0..count {
        let (owner, project_id) = (owner.clone(), project_id.to_owned());
        joining.spawn(async move {
            let email = format!("watcher-{n}@bench.example");
            let invitation =
                form(&[("input[email]", &email), ("input[role]", "NORMAL"), ("input[project_ids][0]", &project_id)]);
            let invited = owner.json("invite", &invitation).await?;
            let path = invited["path"].as_str().ok_or("invite's answer")?;
            let token = path.rsplit('/').next().unwrap_or_default();
            let anonymous = Api { cookie: None, ..owner.clone() };
            let fields = form(&[
                ("input[token]", token),
                ("input[display_name]", &format!("Watcher {n}")),
                ("input[password]", PASSWORD),
            ]);
            let response = anonymous.call("sign_up_with_invitation", &fields).await?;
            if response.status() != StatusCode::OK {
                return Err(format!("sign_up_with_invitation: {}", response.status()).into());
            }
            let cookie = session_cookie(&response).ok_or("no session cookie")?;
            Ok::<Api, Error>(Api { cookie: Some(cookie), ..owner })
        });
        if joining.len() >= JOINING_AT_ONCE {
            if let Some(joined) = joining.join_next().await {
                members.push(joined??);
            }
        }
    }
    while let Some(joined) = joining.join_next().await {
        members.push(joined??);
    }
    Ok(members)
}

async fn unread(member: &Api) -> Result<i64, Error> {
    let inbox = member.json("list_notifications", &form(&[("input[unread_only]", "true")])).await?;
    inbox["unread"].as_i64().ok_or_else(|| "list_notifications's answer".into())
}

/// Waits until the worker has delivered what a workload queued (the last member's count stops moving),
/// so that one workload's backlog is not measured in the next.
async fn settle(member: &Api) -> Result<(), Error> {
    let mut last = unread(member).await?;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = unread(member).await?;
        if now == last {
            return Ok(());
        }
        last = now;
    }
}
