//! Backups measured the way operators meet them: the real `moth` binary with continuous replication
//! (a real Litestream), filled through the HTTP API (issues with long descriptions, and files through
//! clamd when one is named), then:
//!
//! - `moth backup create`, `moth backup verify` (a drill) and `moth backup restore`, timed, with the
//!   data's size, as seconds per GB;
//! - the RPO: a client files issues as fast as it can, the server and its Litestream are killed
//!   (SIGKILL to the process group: the machine is lost), and the shipped replica is restored; the
//!   RPO is the time between the kill and the newest acknowledged issue that came back, and every
//!   acknowledged issue after it is counted as lost.
//!
//! ```text
//! cargo build --release --bin moth
//! cargo run --release -p server --example backup_bench -- --megabytes 1024
//! cargo run -p server --example backup_bench -- --smoke      (seconds; what CI runs)
//! ```
//!
//! Options: `--moth PATH`, `--megabytes N` (about how much data to make; default 256), `--seconds S`
//! (how long the writer runs before the kill; default 20), `--litestream PATH` (default
//! `MOTH_TEST_LITESTREAM`, else `litestream`). Figures are printed, never asserted.

// Sizes and times become figures for people (MB, seconds): a float's 52 bits are plenty.
#![allow(clippy::cast_precision_loss)]

mod common;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use reqwest::{header, StatusCode};

type Error = Box<dyn std::error::Error + Send + Sync>;

const PASSWORD: &str = "correct horse battery staple";

struct Options {
    moth: PathBuf,
    megabytes: usize,
    seconds: u64,
    litestream: String,
}

fn options() -> Result<Options, Error> {
    let here = std::env::current_exe()?;
    let moth = here.parent().and_then(|p| p.parent()).map(|p| p.join("moth")).ok_or("no build folder")?;
    let litestream = std::env::var("MOTH_TEST_LITESTREAM").ok().filter(|v| !v.is_empty());
    let mut options =
        Options { moth, megabytes: 256, seconds: 20, litestream: litestream.unwrap_or_else(|| "litestream".into()) };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--smoke" => {
                options.megabytes = 2;
                options.seconds = 8;
            }
            "--moth" => options.moth = PathBuf::from(value()?),
            "--megabytes" => options.megabytes = value()?.parse()?,
            "--seconds" => options.seconds = value()?.parse()?,
            "--litestream" => options.litestream = value()?,
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    Ok(options)
}

/// The settings `moth serve` and the `moth backup` commands share, all inside `dir`.
fn environment(dir: &Path, port: u16, litestream: &str) -> Vec<(String, String)> {
    let at = |name: &str| dir.join(name).display().to_string();
    let mut env = vec![
        ("MOTH_BIND".into(), format!("127.0.0.1:{port}")),
        ("MOTH_FILES_BIND".into(), "127.0.0.1:0".into()),
        ("DATABASE_URL".into(), format!("sqlite:{}", at("moth.db"))),
        ("MOTH_FILES_DIR".into(), at("files")),
        ("MOTH_MASTER_KEY_FILE".into(), at("master.key")),
        ("MOTH_AUDIT_KEY_FILE".into(), at("audit.key")),
        ("MOTH_BACKUP_DIR".into(), at("backups")),
        ("MOTH_BACKUP_RECIPIENTS_FILE".into(), at("backup-recipients.txt")),
        ("MOTH_BACKUP_IDENTITY_FILE".into(), at("backup-identity.txt")),
        ("MOTH_BACKUP_SCHEDULE".into(), "false".into()),
        ("MOTH_REPLICA_DIR".into(), at("replica")),
        ("MOTH_LITESTREAM_BIN".into(), litestream.into()),
        ("MOTH_EXPORTS_DIR".into(), at("exports")),
        ("MOTH_SITE_DIR".into(), at("no-site")),
        ("MOTH_LOG".into(), "warn".into()),
        ("MOTH_API_RATE_PER_MINUTE".into(), u32::MAX.to_string()),
        ("MOTH_SESSION_RATE_PER_MINUTE".into(), u32::MAX.to_string()),
        ("MOTH_UPLOAD_RATE_PER_MINUTE".into(), u32::MAX.to_string()),
    ];
    if let Some(clamd) =
        ["MOTH_CLAMD_URL", "MOTH_TEST_CLAMD_URL"].iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
    {
        env.push(("MOTH_CLAMD_URL".into(), clamd));
    }
    env
}

/// `moth serve` in a process group of its own (with the Litestream it starts).
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(options: &Options, env: &[(String, String)], base: String) -> Result<Self, Error> {
        use std::os::unix::process::CommandExt;
        let child = Command::new(&options.moth)
            .arg("serve")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", options.moth.display()))?;
        let server = Server { child, base };
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http.get(format!("{}/readyz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err("moth did not become ready".into())
    }

    /// SIGKILL to the whole group: Moth and its Litestream stop at once, as when the machine is lost.
    fn kill_all(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-s", "KILL", "--", &group]).stderr(Stdio::null()).status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_all();
    }
}

async fn sign_up(http: &reqwest::Client, base: &str) -> Result<(String, String), Error> {
    let response = http
        .post(format!("{base}/api/sign_up"))
        .form(&[
            ("input[email]", "owner@backup-bench.example"),
            ("input[display_name]", "Bench owner"),
            ("input[password]", PASSWORD),
            ("input[team_name]", "Bench"),
        ])
        .send()
        .await?;
    let cookie = common::session_cookie(&response).ok_or("sign-up set no cookie")?;
    let project: serde_json::Value = http
        .post(format!("{base}/api/create_project"))
        .header(header::COOKIE, &cookie)
        .form(&[("input[name]", "Bench"), ("input[key]", "BEN"), ("input[visibility]", "public")])
        .send()
        .await?
        .json()
        .await?;
    Ok((cookie, project["id"].as_str().ok_or("project id")?.to_owned()))
}

async fn file_issue(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    project: &str,
    title: &str,
    description: &str,
) -> Result<String, Error> {
    let response = http
        .post(format!("{base}/api/create_issue"))
        .header(header::COOKIE, cookie)
        .form(&[
            ("input[project_id]", project),
            ("input[fields][title]", title),
            ("input[fields][description]", description),
            ("input[fields][visibility]", "internal"),
        ])
        .send()
        .await?;
    if response.status() != StatusCode::OK {
        return Err(format!("create_issue: {} {}", response.status(), response.text().await.unwrap_or_default()).into());
    }
    let issue: serde_json::Value = response.json().await?;
    Ok(issue["id"].as_str().ok_or("issue id")?.to_owned())
}

/// Issues with 16 KB descriptions (words that do not compress much) until `megabytes` of them, and
/// when clamd is there, one 1 MiB file for every 16 issues; answers the issue count and the files'.
async fn fill(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    project: &str,
    megabytes: usize,
) -> Result<(usize, usize), Error> {
    let issues = (megabytes * 1024 / 16).max(8);
    let scans =
        std::env::var("MOTH_CLAMD_URL").or_else(|_| std::env::var("MOTH_TEST_CLAMD_URL")).is_ok_and(|v| !v.is_empty());
    let mut files = 0;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for n in 0..issues {
        // Words of a made-up vocabulary, as text is: about 16 KB of it.
        let mut description = String::with_capacity(16_100);
        while description.len() < 16_000 {
            let letters = 3 + next() % 6;
            description.extend((0..letters).map(|_| char::from(b'a' + u8::try_from(next() % 26).unwrap_or(0))));
            description.push(' ');
        }
        let issue =
            file_issue(http, base, cookie, project, &format!("Filler issue {n}"), description.trim_end()).await?;
        if scans && n % 16 == 0 {
            let mut pdf = b"%PDF-1.7\n".to_vec();
            while pdf.len() < 1 << 20 {
                pdf.extend_from_slice(&next().to_le_bytes());
            }
            let url = reqwest::Url::parse_with_params(&format!("{base}/upload/issues/{issue}"), &[("name", "f.pdf")])?;
            let stored = http.post(url).header(header::COOKIE, cookie).body(pdf).send().await?;
            if stored.status() != StatusCode::OK {
                return Err(format!("upload: {} {}", stored.status(), stored.text().await.unwrap_or_default()).into());
            }
            files += 1;
        }
    }
    Ok((issues, files))
}

/// Runs a `moth` command with the shared settings; answers its standard output and the time taken.
fn moth(options: &Options, env: &[(String, String)], args: &[&str]) -> Result<(String, Duration), Error> {
    let started = Instant::now();
    let output = Command::new(&options.moth).args(args).envs(env.iter().map(|(k, v)| (k, v))).output()?;
    let took = started.elapsed();
    if !output.status.success() {
        // The commands report a failed drill or restore on stdout, other errors on stderr.
        return Err(format!(
            "moth {} failed ({}): {}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim()
        )
        .into());
    }
    Ok((String::from_utf8_lossy(&output.stdout).into_owned(), took))
}

fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else { return 0 };
    if meta.is_file() {
        return meta.len();
    }
    std::fs::read_dir(path).into_iter().flatten().flatten().map(|e| size_of(&e.path())).sum()
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let options = options()?;
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let base = format!("http://127.0.0.1:{port}");
    let env = environment(dir.path(), port, &options.litestream);
    let mut server = Server::start(&options, &env, base.clone()).await?;
    let http = reqwest::Client::new();
    let (cookie, project) = sign_up(&http, &server.base).await?;
    let started = Instant::now();
    let (issues, files) = fill(&http, &server.base, &cookie, &project, options.megabytes).await?;
    let data = size_of(&dir.path().join("moth.db")) + size_of(&dir.path().join("files"));
    let gb = data as f64 / 1e9;
    println!(
        "filled through the API: {issues} issues, {files} files, {:.1} MB of data in {:.1?}",
        data as f64 / 1e6,
        started.elapsed()
    );

    let (name, create) = moth(&options, &env, &["backup", "create"])?;
    let name = name.lines().next().unwrap_or_default().to_owned();
    let archive = size_of(&dir.path().join("backups").join(&name));
    let (_, verify) = moth(&options, &env, &["backup", "verify", &name])?;
    let into = dir.path().join("restored");
    let into_text = into.display().to_string();
    let (_, restore) = moth(&options, &env, &["backup", "restore", &name, "--into", &into_text])?;
    println!();
    println!("| step | time | per GB of data |");
    println!("| --- | --- | --- |");
    for (step, took) in [
        ("backup create (snapshot, encrypt, write)", create),
        ("backup verify (drill)", verify),
        ("backup restore", restore),
    ] {
        println!("| {step} | {:.2} s | {:.1} s |", took.as_secs_f64(), took.as_secs_f64() / gb.max(1e-9));
    }
    println!("archive: {:.1} MB for {:.1} MB of data", archive as f64 / 1e6, data as f64 / 1e6);

    // The RPO: write until the kill, then restore what was shipped.
    let acked: Arc<Mutex<HashMap<usize, SystemTime>>> = Arc::default();
    let writer = {
        let (http, base, cookie, project, acked) =
            (http.clone(), server.base.clone(), cookie.clone(), project.clone(), acked.clone());
        tokio::spawn(async move {
            for n in 0.. {
                if file_issue(&http, &base, &cookie, &project, &format!("rpo {n}"), "").await.is_err() {
                    return;
                }
                if let Ok(mut acked) = acked.lock() {
                    acked.insert(n, SystemTime::now());
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_secs(options.seconds)).await;
    server.kill_all();
    let killed = SystemTime::now();
    writer.abort();
    let at = time::OffsetDateTime::from(killed + Duration::from_secs(1));
    let at = at.format(&time::format_description::well_known::Rfc3339)?;
    let after = dir.path().join("after-loss");
    let after_text = after.display().to_string();
    let (summary, took) = moth(&options, &env, &["backup", "restore", &name, "--at", &at, "--into", &after_text])?;
    let restored = newest_rpo_issue(&after.join("moth.db")).await?;
    let acked = acked.lock().map(|a| a.clone()).unwrap_or_default();
    let newest_acked = acked.keys().max().copied();
    println!();
    println!("RPO: {} acknowledged writes in {} s, then SIGKILL to Moth and Litestream", acked.len(), options.seconds);
    println!("restored from the shipped replica in {:.2} s: {}", took.as_secs_f64(), summary.trim());
    match (restored, newest_acked) {
        (Some(n), Some(newest)) => {
            let rpo = acked.get(&n).and_then(|t| killed.duration_since(*t).ok()).unwrap_or_default();
            println!(
                "newest write back: rpo {n} (acknowledged {:.2} s before the kill); lost: {} acknowledged writes",
                rpo.as_secs_f64(),
                newest - n
            );
            println!("RPO = {:.2} s (target <= 60 s)", rpo.as_secs_f64());
        }
        (None, _) => println!("no write of the run came back: RPO >= {} s", options.seconds),
        (_, None) => println!("no write was acknowledged"),
    }
    Ok(())
}

/// The highest `rpo N` issue in the restored database.
async fn newest_rpo_issue(database: &Path) -> Result<Option<usize>, Error> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&format!("sqlite:{}", database.display())).await?;
    let titles: Vec<String> =
        sqlx::query_scalar("SELECT title FROM issues WHERE title LIKE 'rpo %'").fetch_all(&mut conn).await?;
    Ok(titles.iter().filter_map(|t| t.strip_prefix("rpo ")?.parse().ok()).max())
}
