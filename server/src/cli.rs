//! The `moth` command line.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::{
    clock::SystemClock,
    config::{Config, LogFormat},
    startup::{shutdown_signal, Application},
};

#[derive(Parser)]
#[command(name = "moth", version, about = "Moth, the multi-tenant bug tracker")]
struct Cli {
    /// A TOML configuration file (environment variables override it).
    #[arg(long, env = "MOTH_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the app and its API (the default).
    Serve,
    /// Seal every stored file's key with a new master key (run while Moth is stopped).
    RotateMasterKey,
    /// The audit log's tamper-evident chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Encrypted snapshots of the whole installation (the running server also takes them on schedule).
    Backup {
        #[command(subcommand)]
        command: BackupCommand,
    },
    /// Single sign-on: what only an operator may do.
    Sso {
        #[command(subcommand)]
        command: SsoCommand,
    },
}

#[derive(Subcommand)]
enum SsoCommand {
    /// Proves an email domain a team claims in its single sign-on settings (after checking, for
    /// example, a DNS TXT record the team published): only a proven domain's verified emails link
    /// existing accounts to the team's provider.
    ProveDomain {
        /// The team's id (its settings page and sign-in link show it).
        #[arg(long)]
        team: String,
        #[arg(long)]
        domain: String,
    },
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Take a snapshot now and write it to every destination, then apply retention.
    Create,
    /// The snapshots kept, oldest first, and the latest drills.
    List,
    /// Restore a snapshot (the newest unless named) into a scratch place and check it: a drill.
    Verify {
        name: Option<String>,
        /// The age identity that opens snapshots (default: `backup_identity_file`).
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// Restore a snapshot into a new folder (and, for `PostgreSQL`, an empty database), or, with
    /// `--pg-data`, a `PostgreSQL` database to a moment through `pgBackRest`.
    Restore {
        /// The snapshot's name; default: the newest (or the newest at `--at`).
        #[arg(conflicts_with = "pg_data")]
        name: Option<String>,
        /// The moment to bring back (RFC 3339, such as 2026-11-30T18:00:00Z; `--to` says the same): with `SQLite` and a
        /// replica, exactly; otherwise the newest snapshot taken at or before it.
        #[arg(long, visible_alias = "to")]
        at: Option<String>,
        /// A new or empty folder for the database file (`SQLite`), the files and the key files.
        #[arg(long, required_unless_present = "pg_data")]
        into: Option<PathBuf>,
        /// An empty `PostgreSQL` database to load a `PostgreSQL` snapshot into.
        #[arg(long, conflicts_with = "pg_data")]
        database_url: Option<String>,
        #[arg(long, conflicts_with = "pg_data")]
        identity: Option<PathBuf>,
        /// A new `PostgreSQL` data directory that `pgBackRest` (`pgbackrest_stanza`) restores the
        /// database into, as it was at `--at`. Run as the repository's owner (usually `postgres`).
        #[arg(long, requires = "at", conflicts_with = "into")]
        pg_data: Option<PathBuf>,
    },
    /// Apply retention now: delete the snapshots no tier keeps.
    Prune,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every team's chain: each entry's MAC, no gap, nothing cut off since the last checkpoint.
    Verify,
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("moth: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::RotateMasterKey => rotate_master_key(config).await,
        Command::Audit { command: AuditCommand::Verify } => verify_audit(config).await,
        Command::Backup { command } => backup(config, command).await,
        Command::Sso { command: SsoCommand::ProveDomain { team, domain } } => {
            prove_domain(config, &team, &domain).await
        }
    }
}

async fn backup(config: Config, command: BackupCommand) -> ExitCode {
    match run_backup(&config, command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("moth: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run_backup(config: &Config, command: BackupCommand) -> Result<ExitCode, Box<dyn std::error::Error>> {
    use crate::backup::{Backups, RestoreTarget};
    // A point-in-time restore of PostgreSQL is pgBackRest's: it needs neither Moth's database nor
    // its keys, and runs as the repository's owner.
    if let BackupCommand::Restore { at: Some(at), pg_data: Some(data_dir), .. } = &command {
        let at = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)?;
        println!("{}", pgbackrest(config)?.restore(at, data_dir).await?);
        return Ok(ExitCode::SUCCESS);
    }
    let db = crate::db::Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let key = crate::db::audit_chain::load(&db, config.audit_key()?).await?;
    let db = db.with_audit_key(key);
    let backups = Backups::new(config, db.clone(), config.object_store()?, Arc::new(SystemClock))?;
    let code = match command {
        BackupCommand::Create => {
            let snapshot = backups.create().await?;
            let removed = backups.prune().await?;
            println!("{}", snapshot.name);
            println!("retention removed {removed} older snapshots");
            ExitCode::SUCCESS
        }
        BackupCommand::List => {
            for snapshot in backups.list().await? {
                println!("{}  {}", snapshot.name, crate::clock::iso8601(snapshot.taken_at));
            }
            if config.pgbackrest_stanza.is_some() {
                println!("{}", describe_point_in_time(config).await);
            }
            for run in crate::db::backup::recent_runs(&db, crate::db::backup::RunKind::Drill, false, 5).await? {
                let outcome = if run.passed { "passed" } else { "FAILED" };
                println!("drill {outcome} {} {}: {}", crate::clock::iso8601(run.finished_at), run.snapshot, run.detail);
            }
            ExitCode::SUCCESS
        }
        BackupCommand::Verify { name, identity } => {
            let snapshot = backups.pick(name.as_deref(), None).await?;
            let report = backups.drill(&snapshot, identity.as_deref()).await?;
            println!("{}: {}", report.snapshot, report.detail);
            if report.passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        BackupCommand::Restore { name, at, into, database_url, identity, .. } => {
            let into = into.ok_or("--into is needed")?;
            let at = at
                .map(|at| time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339))
                .transpose()?
                .map(crate::clock::unix_millis);
            let snapshot = backups.pick(name.as_deref(), at).await?;
            let summary = backups
                .restore(&snapshot, &RestoreTarget { into: into.clone(), database_url, at }, identity.as_deref())
                .await?;
            println!("restored {} into {}: {summary}", snapshot.name, into.display());
            ExitCode::SUCCESS
        }
        BackupCommand::Prune => {
            println!("retention removed {} snapshots", backups.prune().await?);
            ExitCode::SUCCESS
        }
    };
    db.close().await;
    Ok(code)
}

fn pgbackrest(config: &Config) -> Result<crate::backup::pitr::PgBackRest, String> {
    let stanza = config.pgbackrest_stanza.clone().ok_or(
        "pgbackrest_stanza is not set: a point-in-time restore of PostgreSQL goes through pgBackRest (README, \
         \"PostgreSQL: continuous archiving\")",
    )?;
    Ok(crate::backup::pitr::PgBackRest { stanza, config: config.pgbackrest_config.clone() })
}

/// `moth backup list`'s line on what pgBackRest can restore; a repository this user cannot read is
/// said, not fatal (the snapshots are still listed).
async fn describe_point_in_time(config: &Config) -> String {
    let range = match pgbackrest(config) {
        Ok(pgbackrest) => pgbackrest.restorable().await.map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    match range {
        Ok(range) => format!(
            "point in time (pgBackRest): any moment from {} ({} backups, the newest ended {}; newest archived WAL {})",
            crate::clock::iso8601(range.earliest * 1000),
            range.backups,
            crate::clock::iso8601(range.newest_backup * 1000),
            range.newest_wal.as_deref().unwrap_or("none")
        ),
        Err(e) => format!("point in time (pgBackRest): unknown ({e})"),
    }
}

async fn verify_audit(config: Config) -> ExitCode {
    let checked = async {
        let db = crate::db::Db::connect(&config.database_url).await?;
        db.migrate().await?;
        let key = crate::db::audit_chain::load(&db, config.audit_key()?).await?;
        let problems = crate::db::audit_chain::verify(&db, &key).await;
        db.close().await;
        Ok::<_, Box<dyn std::error::Error>>(problems?)
    };
    match checked.await {
        Ok(problems) if problems.is_empty() => {
            println!("audit log: every chain verified");
            ExitCode::SUCCESS
        }
        Ok(problems) => {
            for p in problems {
                let chain = if p.chain.is_empty() { "(no team)" } else { p.chain.as_str() };
                if p.what == crate::db::audit_chain::UNCHAINED {
                    println!("audit log: team {chain}: entries outside the chain (not written by Moth): {}", p.seq);
                } else {
                    println!("audit log: team {chain}: entry {} {}", p.seq, p.what);
                }
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("moth: the audit log could not be verified: {e}");
            ExitCode::from(2)
        }
    }
}

async fn prove_domain(config: Config, team: &str, domain: &str) -> ExitCode {
    let Ok(team) = team.parse::<app::model::TeamId>() else {
        eprintln!("moth: --team takes the team's id (a UUID)");
        return ExitCode::from(2);
    };
    let domain = domain.trim().to_lowercase();
    let proven = async {
        let db = crate::db::Db::connect(&config.database_url).await?;
        db.migrate().await?;
        let proven = crate::db::sso::prove_domain(
            &db,
            team,
            &domain,
            crate::clock::unix_millis(time::OffsetDateTime::now_utc()),
        )
        .await;
        db.close().await;
        Ok::<_, Box<dyn std::error::Error>>(proven?)
    };
    match proven.await {
        Ok(true) => {
            println!("sso: {domain} is proven for team {team}");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("moth: team {team} does not claim {domain} in its single sign-on settings");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("moth: the domain could not be proven: {e}");
            ExitCode::from(2)
        }
    }
}

async fn rotate_master_key(config: Config) -> ExitCode {
    let rotated = async {
        let db = crate::db::Db::connect(&config.database_url).await?;
        db.migrate().await?;
        let rotated = crate::files::rotate::rotate(&db, &config.master_key_file).await;
        db.close().await;
        Ok::<_, Box<dyn std::error::Error>>(rotated?)
    };
    match rotated.await {
        Ok(rotated) => {
            tracing::info!(
                rewrapped = rotated.rewrapped,
                key_id = %rotated.new_key_id,
                previous = %crate::files::crypto::sibling(&config.master_key_file, "previous").display(),
                "the master key was rotated; keep the previous key until the backups made before now have expired"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "the master key was not rotated; running the command again finishes it");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> ExitCode {
    let app = match Application::build(config, Arc::new(SystemClock)).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %e, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("Moth is running at http://{}", app.local_addr());
    match app.run_until(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "server failed");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(format: LogFormat) {
    // tower-sessions warns about every unknown or malformed session cookie: anyone could fill the log
    // for free by sending them. Such a request is simply signed out; Moth's own security events stay.
    let filter = EnvFilter::try_from_env("MOTH_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_sessions=error,tower_sessions_core=error"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
