//! The chaos benchmark (issue 29): a whole cluster from `deploy/cluster/cluster` (`HAProxy`, Patroni
//! with a synchronous standby, etcd, moto, three Moth instances), steady mixed load through `HAProxy`
//! (creates, comments, lists, sign-ins), and meanwhile: a Moth instance `SIGKILLed` and started again,
//! then the `PostgreSQL` primary's machine killed (Patroni and `PostgreSQL`, SIGKILL) so that Patroni
//! promotes the standby, which it then rejoins. It prints the requests, errors by kind, the longest
//! window in which no write succeeded, acknowledged writes lost (every acknowledged issue and comment
//! is read back), webhook events lost and repeated, and each instance's resident memory; then the
//! list's and creates' throughput through `HAProxy` with one, two and three instances.
//!
//!     cargo build --release --bin moth
//!     cargo run --release -p server --example chaos -- --seconds 180
//!     cargo run -p server --example chaos -- --smoke      (what `scripts/test` runs: exits 1 on a lost write)
//!
//! Options: `--moth PATH` (default: the `moth` next to this example's build), `--seconds S` (the
//! chaos run; default 180, smoke 40), `--workers W` (concurrent clients, default 8), `--keep DIR`
//! (the cluster's folder, kept), `--scaling-only` (only the throughput with one, two and three
//! instances, each for `--seconds` up to 30). Needs what `deploy/cluster/cluster` needs.

#![allow(clippy::cast_precision_loss)] // figures for people to read

mod cluster;
mod load;

use std::{path::PathBuf, time::Duration};

#[path = "../common/mod.rs"]
mod common;

type Error = Box<dyn std::error::Error + Send + Sync>;

pub struct Options {
    smoke: bool,
    moth: PathBuf,
    seconds: u64,
    workers: usize,
    keep: Option<PathBuf>,
    /// Only the throughput with one, two and three instances, without the chaos run.
    scaling_only: bool,
}

fn options() -> Result<Options, Error> {
    let here = std::env::current_exe()?;
    // target/<profile>/examples/chaos -> target/<profile>/moth
    let moth = here.parent().and_then(|p| p.parent()).map(|p| p.join("moth")).ok_or("no build folder")?;
    let mut options = Options { smoke: false, moth, seconds: 180, workers: 8, keep: None, scaling_only: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--smoke" => options.smoke = true,
            "--scaling-only" => options.scaling_only = true,
            "--moth" => options.moth = value()?.into(),
            "--seconds" => options.seconds = value()?.parse()?,
            "--workers" => options.workers = value()?.parse()?,
            "--keep" => options.keep = Some(value()?.into()),
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    if options.smoke && !std::env::args().any(|a| a == "--seconds") {
        options.seconds = 40;
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let options = options()?;
    let cluster = cluster::Cluster::up(&options)?;
    println!("cluster up: {} ({} instances)", cluster.url, cluster::INSTANCES);
    if options.scaling_only {
        return load::scaling(&cluster, options.seconds.min(30)).await;
    }
    let outcome = load::chaos(&cluster, &options).await;
    let scaling = match &outcome {
        Ok(_) => load::scaling(&cluster, if options.smoke { 3 } else { 10 }).await,
        Err(_) => Ok(()),
    };
    drop(cluster);
    let report = outcome?;
    scaling?;
    if report.lost > 0 {
        return Err(format!("{} acknowledged writes were lost", report.lost).into());
    }
    if report.wrong > 0 {
        return Err(format!("{} answers were wrong", report.wrong).into());
    }
    if report.events_missing > 0 {
        return Err(format!("{} acknowledged creates never reached the webhook", report.events_missing).into());
    }
    Ok(())
}

/// How long the load waits between steps of the timeline, as a share of the run.
fn at(seconds: u64, share: f64) -> Duration {
    Duration::from_secs_f64(seconds as f64 * share)
}
