//! `PostgreSQL` point-in-time recovery through `pgBackRest`: Moth reads what the repository can restore
//! (`pgbackrest info`) and restores a moment into a new data directory (`pgbackrest restore
//! --type=time`). `pgBackRest` does the work (WAL archiving, encryption, retention); Moth checks the
//! request first, so that a moment outside what the repository holds gets a clear answer instead of a
//! data directory that will not start. Run as the user that owns the repository (usually `postgres`).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::OffsetDateTime;

use super::BackupError;

/// The stanza of the repository that archives Moth's database, and `pgBackRest`'s configuration file.
#[derive(Debug, Clone)]
pub struct PgBackRest {
    pub stanza: String,
    pub config: Option<PathBuf>,
}

/// What the repository can bring back: any moment from the end of its oldest backup to the newest
/// archived WAL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restorable {
    /// Unix seconds at which the oldest backup ended.
    pub earliest: i64,
    /// Unix seconds at which the newest backup ended.
    pub newest_backup: i64,
    pub backups: usize,
    /// The newest WAL segment in the archive.
    pub newest_wal: Option<String>,
}

#[derive(Deserialize)]
struct Stanza {
    name: String,
    status: Status,
    #[serde(default)]
    backup: Vec<Backup>,
    #[serde(default)]
    archive: Vec<Archive>,
}

#[derive(Deserialize)]
struct Status {
    code: i64,
    message: String,
}

#[derive(Deserialize)]
struct Backup {
    timestamp: Timestamps,
}

#[derive(Deserialize)]
struct Timestamps {
    stop: i64,
}

#[derive(Deserialize)]
struct Archive {
    max: Option<String>,
}

impl PgBackRest {
    /// Reads the repository's backups and archive.
    pub async fn restorable(&self) -> Result<Restorable, BackupError> {
        let json = self.run(&["--output=json", "info"]).await?;
        parse_info(&json, &self.stanza)
    }

    /// Restores the database as it was at `at` into `data_dir`, which must be new or empty: a restore
    /// never goes over a data directory. Answers what was done, for the operator.
    pub async fn restore(&self, at: OffsetDateTime, data_dir: &Path) -> Result<String, BackupError> {
        if data_dir.exists() && std::fs::read_dir(data_dir)?.next().is_some() {
            return Err(BackupError::Refused(format!(
                "{} is not empty: a point-in-time restore goes into a new data directory, never over one",
                data_dir.display()
            )));
        }
        let range = self.restorable().await?;
        check_moment(at.unix_timestamp(), OffsetDateTime::now_utc().unix_timestamp(), &range)?;
        std::fs::create_dir_all(data_dir)?;
        // PostgreSQL refuses a data directory that others can read.
        #[cfg(unix)]
        std::fs::set_permissions(data_dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        let target = format!("--target={}", target_time(at));
        let path = format!("--pg1-path={}", data_dir.display());
        self.run(&[&path, "--type=time", &target, "--target-action=promote", "restore"]).await?;
        Ok(format!(
            "the PostgreSQL data directory {} now recovers to {} when PostgreSQL starts on it (then it is \
             promoted); point database_url at that server",
            data_dir.display(),
            crate::clock::iso8601(at.unix_timestamp() * 1000)
        ))
    }

    async fn run(&self, args: &[&str]) -> Result<String, BackupError> {
        let mut command = tokio::process::Command::new("pgbackrest");
        if let Some(config) = &self.config {
            command.arg(format!("--config={}", config.display()));
        }
        command.arg(format!("--stanza={}", self.stanza)).args(args);
        super::dump::run_tool("pgbackrest", command).await
    }
}

fn parse_info(json: &str, stanza: &str) -> Result<Restorable, BackupError> {
    let stanzas: Vec<Stanza> = serde_json::from_str(json)
        .map_err(|e| BackupError::Tool(format!("pgbackrest info answered something unexpected: {e}")))?;
    let found = stanzas
        .into_iter()
        .find(|s| s.name == stanza)
        .ok_or_else(|| BackupError::Refused(format!("pgBackRest has no stanza {stanza:?}")))?;
    // Code 2 is "no valid backups": said below in Moth's words.
    if found.status.code != 0 && found.status.code != 2 {
        return Err(BackupError::Refused(format!(
            "the pgBackRest stanza {stanza:?} is not usable: {}",
            found.status.message
        )));
    }
    let stops: Vec<i64> = found.backup.iter().map(|b| b.timestamp.stop).collect();
    let (Some(earliest), Some(newest_backup)) = (stops.iter().min(), stops.iter().max()) else {
        return Err(BackupError::Refused(format!(
            "the pgBackRest stanza {stanza:?} has no backup yet: take one (pgbackrest --stanza={stanza} backup)"
        )));
    };
    Ok(Restorable {
        earliest: *earliest,
        newest_backup: *newest_backup,
        backups: stops.len(),
        newest_wal: found.archive.iter().filter_map(|a| a.max.clone()).max(),
    })
}

/// A moment can be restored when a backup had ended by then and it has happened.
fn check_moment(at: i64, now: i64, range: &Restorable) -> Result<(), BackupError> {
    if at < range.earliest {
        return Err(BackupError::Refused(format!(
            "{} is before the earliest moment pgBackRest can restore, {} (the end of its oldest backup)",
            crate::clock::iso8601(at * 1000),
            crate::clock::iso8601(range.earliest * 1000)
        )));
    }
    if at > now {
        return Err(BackupError::Refused(format!("{} has not happened yet", crate::clock::iso8601(at * 1000))));
    }
    Ok(())
}

/// `2026-11-30 18:00:00.123456+00`, as `PostgreSQL`'s `recovery_target_time` reads it.
fn target_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = r#"[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000007","min":"000000010000000000000003"}],
        "backup":[{"label":"20261130-180000F","timestamp":{"start":1796050000,"stop":1796050010},"type":"full"},
                  {"label":"20261201-180000F","timestamp":{"start":1796136400,"stop":1796136420},"type":"full"}],
        "cipher":"aes-256-cbc","name":"moth","status":{"code":0,"message":"ok"}}]"#;

    #[test]
    fn the_range_runs_from_the_end_of_the_oldest_backup() {
        let range = parse_info(INFO, "moth").expect("parsed");
        assert_eq!(range.earliest, 1_796_050_010);
        assert_eq!(range.newest_backup, 1_796_136_420);
        assert_eq!(range.backups, 2);
        assert_eq!(range.newest_wal.as_deref(), Some("000000010000000000000007"));
    }

    #[test]
    fn a_stanza_without_backups_or_another_name_is_refused_clearly() {
        let none = r#"[{"archive":[],"backup":[],"name":"moth","status":{"code":2,"message":"no valid backups"}}]"#;
        assert!(parse_info(none, "moth").expect_err("refused").to_string().contains("has no backup yet"));
        assert!(parse_info(INFO, "other").expect_err("refused").to_string().contains("no stanza \"other\""));
        let missing =
            r#"[{"archive":[],"backup":[],"name":"moth","status":{"code":1,"message":"missing stanza path"}}]"#;
        assert!(parse_info(missing, "moth").expect_err("refused").to_string().contains("missing stanza path"));
    }

    #[test]
    fn moments_before_the_oldest_backup_or_in_the_future_are_refused() {
        let range = parse_info(INFO, "moth").expect("parsed");
        let now = 1_796_200_000;
        assert!(check_moment(1_796_050_009, now, &range)
            .expect_err("refused")
            .to_string()
            .contains("before the earliest"));
        assert!(check_moment(now + 60, now, &range).expect_err("refused").to_string().contains("has not happened"));
        check_moment(1_796_050_010, now, &range).expect("the end of the oldest backup");
        check_moment(now, now, &range).expect("now");
    }

    #[test]
    fn the_target_is_written_the_way_postgresql_reads_it() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_796_050_010_123_456_000).expect("time");
        assert_eq!(target_time(at), "2026-11-30 14:46:50.123456+00");
    }
}
