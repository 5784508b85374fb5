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
                println!("audit log: team {chain}: entry {} {}", p.seq, p.what);
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("moth: the audit log could not be verified: {e}");
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
                previous = %crate::files::rotate::sibling(&config.master_key_file, "previous").display(),
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
