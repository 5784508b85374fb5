//! Building and running the application: connect and migrate the database, wire the backend, bind the
//! listener (port 0 in tests), serve until told to stop.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use tokio::net::TcpListener;

use crate::{
    clock::Clock,
    config::Config,
    db::{sessions::DbSessionStore, Db, DbError},
    http::{self, AppState, Site},
    mail::Mailer,
    password,
    service::MothBackend,
    session::SessionPolicy,
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    db: Db,
    store: DbSessionStore,
}

impl Application {
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        let listener =
            TcpListener::bind(config.bind).await.map_err(|source| StartupError::Bind { addr: config.bind, source })?;
        tokio::task::spawn_blocking(password::warm_up);

        let sessions =
            SessionPolicy::new(clock.clone(), config.session_idle_timeout(), config.session_absolute_timeout());
        let mailer = Mailer::new(config.smtp_url.as_deref(), &config.mail_from, config.public_origin())?;
        let service = Arc::new(MothBackend::new(db.clone(), clock, sessions, mailer, config.invitation_ttl()));
        let store = DbSessionStore::new(db.clone());
        let state = AppState {
            backend: service.clone(),
            service,
            db: db.clone(),
            site: Arc::new(Site::load(&config.site_dir)),
            config: Arc::new(config),
        };
        let router = http::router(state, store.clone());
        Ok(Self { listener, router, db, store })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let store = self.store.clone();
        let db = self.db.clone();
        let sweeper = tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(600));
            let mut rounds: u64 = 0;
            loop {
                every.tick().await;
                if let Err(e) = store.delete_expired().await {
                    tracing::warn!(error = %e, "could not delete expired sessions");
                }
                // Every hour, and ten minutes after start (when a first import may have landed).
                if rounds % 6 == 1 {
                    if let Err(e) = db.optimize().await {
                        tracing::warn!(error = %e, "could not refresh the query planner's statistics");
                    }
                }
                rounds += 1;
            }
        });
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, service).with_graceful_shutdown(shutdown).await;
        sweeper.abort();
        self.db.close().await;
        served
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
