//! The cluster under test, driven through `deploy/cluster/cluster`.

use std::{collections::HashMap, path::PathBuf, process::Command};

use super::{Error, Options};

pub const INSTANCES: usize = 3;

pub struct Cluster {
    script: PathBuf,
    dir: PathBuf,
    /// Removed with the cluster unless `--keep` named the folder.
    _temp: Option<tempfile::TempDir>,
    /// `HAProxy`'s address for Moth.
    pub url: String,
}

impl Cluster {
    pub fn up(options: &Options) -> Result<Self, Error> {
        let script = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/cluster/cluster"));
        let (temp, dir) = if let Some(dir) = &options.keep {
            (None, dir.clone())
        } else {
            let temp = tempfile::Builder::new().prefix("moth-chaos").tempdir()?;
            let dir = temp.path().to_owned();
            (Some(temp), dir)
        };
        let mut cluster = Self { script, dir, _temp: temp, url: String::new() };
        let moth = options.moth.display().to_string();
        cluster.run(&["up", "--instances", &INSTANCES.to_string(), "--moth", &moth])?;
        let env = cluster.env()?;
        cluster.url.clone_from(env.get("CLUSTER_URL").ok_or("CLUSTER_URL")?);
        Ok(cluster)
    }

    /// Runs a command of the script on this cluster; answers what it printed.
    pub fn run(&self, args: &[&str]) -> Result<String, Error> {
        let (command, rest) = args.split_first().ok_or("a command")?;
        let output = Command::new(&self.script)
            .arg(command)
            .arg(&self.dir)
            .args(rest)
            // The load comes from one address through HAProxy: the limits meant for one person
            // would measure themselves, not the cluster. Webhooks go to this machine.
            .env("MOTH_API_RATE_PER_MINUTE", "10000000")
            .env("MOTH_SESSION_RATE_PER_MINUTE", "10000000")
            .env("MOTH_ALLOW_PRIVATE_ENDPOINTS", "true")
            .env("MOTH_LEASE_SECS", "5")
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "cluster {command}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    fn env(&self) -> Result<HashMap<String, String>, Error> {
        let text = std::fs::read_to_string(self.dir.join("cluster.env"))?;
        Ok(text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
    }

    /// Resident memory of instance `i` in MiB (0 if it is not running).
    pub fn rss_mib(&self, i: usize) -> u64 {
        let pid = std::fs::read_to_string(self.dir.join("pids").join(format!("moth{i}"))).unwrap_or_default();
        let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap_or_default();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0);
        kib / 1024
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Err(e) = self.run(&["down"]) {
            eprintln!("the cluster did not stop cleanly: {e}");
        }
    }
}
