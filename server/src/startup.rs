//! Building and running the application: connect and migrate the database, wire the service, bind the
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
    service::{session::SessionPolicy, Service},
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error(transparent)]
    Keys(#[from] crate::files::crypto::CryptoError),
    #[error("auth_log_file {path}: {source}")]
    AuthLog { path: String, source: std::io::Error },
    #[error("files_dir {path}: {source}")]
    FilesDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Backup(#[from] crate::backup::BackupError),
    #[error("{0}")]
    Config(String),
}

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    /// The file origin: its own listener and router (see `files::delivery`).
    files_listener: TcpListener,
    files_router: axum::Router,
    bans: Arc<crate::bans::Bans>,
    limits: Arc<http::limits::Limits>,
    header_timeout: Duration,
    db: Db,
    store: DbSessionStore,
    /// Scheduled snapshots and drills (`None` when `backup_schedule` is off).
    backups: Option<(Arc<crate::backup::Backups>, Option<Duration>)>,
    /// Continuous replication (`None` without `replica_dir`).
    replication: Option<Arc<crate::backup::Backups>>,
    exporter: Arc<crate::export::Exporter>,
    /// Delivers notifications off the request path.
    notifier: Arc<crate::notify::Notifier>,
    /// Delivers webhooks off the request path.
    hooks: Arc<crate::webhooks::HookWorker>,
    /// Whether this instance runs the cluster's scheduled work (see `cluster`).
    leadership: Arc<crate::cluster::Leadership>,
    metrics: Arc<crate::metrics::Metrics>,
    sweep_every: Duration,
}

impl Application {
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let db = open_database(&config).await?;
        let listener =
            TcpListener::bind(config.bind).await.map_err(|source| StartupError::Bind { addr: config.bind, source })?;
        if !password::configure(config.hashing()) {
            tracing::debug!("password hashing was already configured in this process: the first settings stand");
        }
        tokio::task::spawn_blocking(password::warm_up);

        let sessions =
            SessionPolicy::new(clock.clone(), config.session_idle_timeout(), config.session_absolute_timeout());
        let mailer = Arc::new(Mailer::new(config.smtp_url.as_deref(), &config.mail_from, config.public_origin())?);
        let metrics = Arc::new(crate::metrics::Metrics::new());
        let leadership = leadership(&config, &db, &metrics).await;
        let store = config
            .object_store()
            .map_err(|source| StartupError::FilesDir { path: config.files_dir.display().to_string(), source })?;
        let (files_listener, files) = build_files(&config, store.clone(), metrics.clone()).await?;
        let backups = Arc::new(crate::backup::Backups::new(&config, db.clone(), store, clock.clone())?);
        let drill_every =
            (config.backup_drill_hours > 0).then(|| Duration::from_secs(config.backup_drill_hours * 3600));
        let files_router = crate::files::delivery::router(crate::files::delivery::FileOrigin {
            files: files.clone(),
            db: db.clone(),
            clock: clock.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
        });
        let bans = build_bans(&config, &db, &clock, &metrics)?;
        let exporter = build_exporter(&config, &db, files.clone(), clock.clone()).await?;
        let notifier = build_notifier(&config, &db, mailer.clone(), clock.clone(), &files);
        let (live, unsubscribe) = (notifier.live.clone(), notifier.unsubscribe.clone());
        let private_ok = config.private_endpoints_allowed();
        let hooks = Arc::new(crate::webhooks::HookWorker::new(db.clone(), files.clone(), clock.clone(), private_ok));
        let service = Service::new(db.clone(), clock, sessions, mailer, config.invitation_ttl(), files, bans.clone());
        let service = service.with_backups(backups.clone()).with_exporter(exporter.clone());
        let service = Arc::new(service.with_private_endpoints(private_ok).with_public_origin(config.public_origin()));
        let store = DbSessionStore::new(db.clone());
        let limits = rate_limits(&config);
        let state = AppState {
            limits: limits.clone(),
            metrics: metrics.clone(),
            api: service.clone(),
            service,
            db: db.clone(),
            site: Arc::new(Site::load(&config.site_dir)),
            live,
            unsubscribe,
            session_store: store.clone(),
            config: Arc::new(config),
        };
        let header_timeout = Duration::from_secs(state.config.request_header_timeout_secs.max(1));
        let sweep_every = Duration::from_secs(state.config.sweep_interval_secs.max(1));
        let schedule_backups = state.config.backup_schedule;
        let router = http::router(state, store.clone());
        let replication = backups.replicates().then(|| backups.clone());
        let backups = schedule_backups.then_some((backups, drill_every));
        Ok(Self {
            listener,
            router,
            files_listener,
            files_router,
            bans,
            limits,
            header_timeout,
            db,
            store,
            backups,
            replication,
            exporter,
            notifier,
            hooks,
            leadership,
            metrics,
            sweep_every,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The file origin's bound address.
    pub fn files_addr(&self) -> SocketAddr {
        self.files_listener.local_addr().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let sweeper = crate::sweeper::Sweeper {
            db: self.db.clone(),
            sessions: self.store.clone(),
            bans: self.bans.clone(),
            limits: self.limits.clone(),
            exporter: self.exporter.clone(),
            leadership: self.leadership.clone(),
            metrics: self.metrics.clone(),
        };
        let leases = tokio::spawn(self.leadership.clone().run());
        let sweeper = tokio::spawn(sweeper.run(self.sweep_every));
        let notifier = tokio::spawn(self.notifier.clone().run());
        let hooks = tokio::spawn(self.hooks.clone().run());
        let leadership = self.leadership.clone();
        let schedule = self
            .backups
            .map(|(backups, drill_every)| tokio::spawn(backups.run_schedule(drill_every, leadership.clone())));
        let replication = self.replication.map(|backups| tokio::spawn(backups.run_replica()));
        let (stop_files, mut files_stopped) = tokio::sync::watch::channel(false);
        let files = tokio::spawn(serve(self.files_listener, self.files_router, self.header_timeout, async move {
            let _ = files_stopped.changed().await;
        }));
        let served = serve(self.listener, self.router, self.header_timeout, shutdown).await;
        let _ = stop_files.send(true);
        let _ = files.await;
        sweeper.abort();
        leases.abort();
        // Bounded: with the database gone, the leases lapse by themselves.
        let _ = tokio::time::timeout(Duration::from_secs(2), self.leadership.step_down()).await;
        notifier.abort();
        hooks.abort();
        for task in [schedule, replication].into_iter().flatten() {
            task.abort();
        }
        self.db.close().await;
        served
    }
}

/// Bans and the failure log they write for fail2ban.
fn build_bans(
    config: &Config,
    db: &Db,
    clock: &Arc<dyn Clock>,
    metrics: &Arc<crate::metrics::Metrics>,
) -> Result<Arc<crate::bans::Bans>, StartupError> {
    let bans = crate::bans::Bans::new(
        db.clone(),
        clock.clone(),
        config.ban_rules(),
        config.trusted_proxies.clone(),
        config.auth_log_file.as_ref(),
        metrics.clone(),
    )
    .map_err(|source| StartupError::AuthLog { path: format!("{:?}", config.auth_log_file), source })?;
    Ok(Arc::new(bans))
}

/// This instance's place in the cluster, its leases taken once: its own before any export it runs
/// names it, and the scheduled work's if no other instance holds it.
async fn leadership(
    config: &Config,
    db: &Db,
    metrics: &Arc<crate::metrics::Metrics>,
) -> Arc<crate::cluster::Leadership> {
    let lease = Duration::from_secs(config.lease_secs.max(1));
    let leadership = Arc::new(crate::cluster::Leadership::new(db.clone(), lease, metrics.clone()));
    leadership.renew().await;
    leadership
}

/// The per-client rate limits of the configuration.
fn rate_limits(config: &Config) -> Arc<http::limits::Limits> {
    Arc::new(http::limits::Limits::new(&http::limits::Rates {
        uploads: config.upload_rate_per_minute,
        exports: config.export_rate_per_minute,
        api: config.api_rate_per_minute,
        session: config.session_rate_per_minute,
        token: config.token_rate_per_minute,
    }))
}

/// The notification worker, with the live connections' hub and the unsubscribe links it shares with
/// the routes.
fn build_notifier(
    config: &Config,
    db: &Db,
    mailer: Arc<Mailer>,
    clock: Arc<dyn Clock>,
    files: &crate::files::Files,
) -> Arc<crate::notify::Notifier> {
    let live = Arc::new(crate::notify::live::Hub::new(config.live_connections_per_user, config.live_connections_total));
    let unsubscribe = Arc::new(crate::notify::unsubscribe::Links::new(&files.keys));
    let delay = Duration::from_secs(config.notification_mail_delay_secs);
    Arc::new(crate::notify::Notifier::new(db.clone(), mailer, clock, live, unsubscribe, delay))
}

/// The database, migrated, with its audit chain settled and the Markdown of older rows rendered.
async fn open_database(config: &Config) -> Result<Db, StartupError> {
    let db = Db::connect_with_pool(&config.database_url, config.pool_size()).await?;
    let cache_entries = config.session_cache_entries(db.backend()).map_err(StartupError::Config)?;
    let db = db.with_auth_cache(cache_entries);
    db.migrate().await?;
    let audit_key = crate::db::audit_chain::settle(&db, config.audit_key()?).await?;
    let db = db.with_audit_key(audit_key.clone());
    let chained = crate::db::audit_chain::chain_legacy_once(&db, &audit_key).await?;
    if chained > 0 {
        tracing::info!(chained, "chained the audit entries written before the chain existed");
    }
    let rendered = crate::db::issues::render_missing(&db).await?;
    if rendered > 0 {
        tracing::info!(rendered, "rendered the Markdown of rows written before it was stored");
    }
    Ok(db)
}

/// Team exports; those a stop cut short are marked failed.
async fn build_exporter(
    config: &Config,
    db: &Db,
    files: Arc<crate::files::Files>,
    clock: Arc<dyn Clock>,
) -> Result<Arc<crate::export::Exporter>, StartupError> {
    let interrupted = crate::db::team_export::fail_interrupted(db, crate::clock::unix_millis(clock.now())).await?;
    if interrupted > 0 {
        tracing::warn!(interrupted, "team exports that were running when the server stopped are marked failed");
    }
    let exporter = crate::export::Exporter::new(
        db.clone(),
        files,
        config.exports_dir.clone(),
        config.private_endpoints_allowed(),
        clock,
    );
    Ok(Arc::new(exporter))
}

/// The file origin's listener and the upload pipeline: the master key (made on first start), the
/// local object store, the clamd client, and the origin's address for links.
async fn build_files(
    config: &Config,
    store: Arc<dyn crate::files::store::ObjectStore>,
    metrics: Arc<crate::metrics::Metrics>,
) -> Result<(TcpListener, Arc<crate::files::Files>), StartupError> {
    use crate::files::{crypto::Keys, scan::Scanner, Files};
    let listener = TcpListener::bind(config.files_bind)
        .await
        .map_err(|source| StartupError::Bind { addr: config.files_bind, source })?;
    let bound = listener.local_addr().map_err(|source| StartupError::Bind { addr: config.files_bind, source })?;
    let files_url = config.files_url.clone().unwrap_or_else(|| format!("http://{bound}"));
    let files_url = files_url.trim_end_matches('/').to_owned();
    let keys = Keys::load_all(&config.master_key_file)?;
    if config.clamd_url.is_none() {
        tracing::warn!("no clamd_url: every upload will be refused until a virus scanner is configured");
    }
    let scanner = Scanner::new(config.clamd_url.clone(), Duration::from_secs(config.clamd_timeout_secs));
    let link_ttl = Duration::from_secs(config.file_link_ttl_secs);
    // Uploads being scanned wait here sealed, with an S3 store too; a crash's left-overs go at start.
    let staging = config.files_dir.join(".staging");
    crate::files::intake::reset_staging(&staging)
        .map_err(|source| StartupError::FilesDir { path: staging.display().to_string(), source })?;
    let mut files = Files::new(store, staging, keys, scanner, files_url, link_ttl, metrics);
    files.delivery_stall = Duration::from_secs(config.file_delivery_stall_secs);
    Ok((listener, Arc::new(files)))
}

/// The most connections served at once; more wait in the listen backlog until one closes, so a flood
/// of connections cannot take unbounded tasks and buffers.
pub const MAX_CONNECTIONS: usize = 1024;

/// Accepts connections until `shutdown` completes, then lets the requests in flight finish. Unlike
/// `axum::serve`, it gives HTTP/1 connections a header timeout: a client that sends its headers
/// slowly, or holds a kept-alive connection idle, is disconnected after `header_timeout` instead of
/// holding a socket forever.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(header_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(axum::extract::ConnectInfo(remote));
            tower::ServiceExt::oneshot(router.clone(), request.map(axum::body::Body::new))
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // The slot is given back when the connection ends.
            let _slot = slot;
            // hyper's timer starts with the request's first byte; a client that connects and sends
            // nothing is dropped here.
            let mut first = [0_u8; 1];
            if !matches!(tokio::time::timeout(header_timeout, stream.peek(&mut first)).await, Ok(Ok(1..))) {
                return;
            }
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM. The SIGTERM handler is installed when this is called, before the
/// server answers anything, so that a SIGTERM right after the first answer stops it gracefully rather
/// than killing it.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    async move {
        let ctrl_c = async {
            if let Err(e) = tokio::signal::ctrl_c().await {
                tracing::error!(error = %e, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate {
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
}
