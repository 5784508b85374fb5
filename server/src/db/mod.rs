//! The data layer. One [`Db`] serves `SQLite` (the embedded default) and `PostgreSQL` from the same code:
//! queries go through sqlx's `Any` driver with `$1`-style parameters, which both backends accept, and
//! use only types both understand (text, 64-bit integers). Each backend has its own migrations folder.
//!
//! Every query is parameterised; no SQL text is ever built from input.

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod audit_chain;
pub mod auth_cache;
pub mod backup;
pub mod bans;
pub mod group_commit;
pub mod idempotency;
pub mod invitations;
pub mod issues;
pub mod leases;
pub mod members;
pub mod notifications;
mod outbox;
pub mod projects;
pub mod scope;
pub mod sessions;
pub mod sso;
mod statistics;
pub mod team_export;
pub mod tokens;
pub mod two_factor;
pub mod views;
pub mod webhooks;
mod write_gate;

use std::{path::Path, str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    any::{AnyConnectOptions, AnyPoolOptions},
    AnyPool, ConnectOptions, Executor,
};

/// What confines a data-layer call to one team: the signed-in [`crate::actor::Actor`], a published
/// project read anonymously ([`projects::PublishedProject`]), or a team export
/// ([`crate::export::ExportScope`], from the owner's actor or the team's own due schedule). Only the
/// session layer, `projects::find_published` and the exporter make them, so no request data can
/// name the team.
pub trait TeamScope {
    fn team_id(&self) -> app::model::TeamId;
}

impl TeamScope for crate::actor::Actor {
    fn team_id(&self) -> app::model::TeamId {
        crate::actor::Actor::team_id(self)
    }
}

/// A data-layer failure. The HTTP layer logs it and shows the client a generic error.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Something the schema guarantees did not hold (a status an issue refers to was not found).
    #[error("inconsistent data: {0}")]
    Inconsistent(&'static str),
    #[error("session data: {0}")]
    SessionData(#[from] serde_json::Error),
    #[error("database url: {0}")]
    Url(String),
    #[error("the group-commit writer has stopped")]
    WriterGone,
    #[error("the group commit holding this write failed")]
    GroupCommitFailed,
    /// `SQLite`'s writers ahead of this one (see [`write_gate`]) kept it waiting too long.
    #[error("no turn to write within {}s", write_gate::LONGEST_WAIT.as_secs())]
    NoWriteTurn,
}

impl DbError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Sqlx(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// Whether the database could not take the work in time, so that nothing of it was done: `SQLite`'s
    /// write lock stayed held past `busy_timeout` (`SQLITE_BUSY`, `SQLITE_LOCKED` and their extended
    /// codes), or no connection of the pool came free within its acquire timeout. Worth a retry.
    pub fn is_busy(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::PoolTimedOut) | DbError::NoWriteTurn => true,
            DbError::Sqlx(sqlx::Error::Database(e)) => e
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .and_then(sqlx::error::DatabaseError::code)
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 6)),
            _ => false,
        }
    }
}

impl DbError {
    /// Whether the database could not be reached or stopped serving this connection: the network or
    /// the server went away (as when the primary dies), it is shutting down or starting, or it is a
    /// standby now and refuses writes (SQLSTATE classes 08 and 57P, 25006, 53300). The pool replaces
    /// the connection, so a later try may succeed: answered 503 with `Retry-After`.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Sqlx(
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed,
            ) => true,
            DbError::Sqlx(sqlx::Error::Database(e)) => e
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .map(sqlx::postgres::PgDatabaseError::code)
                .is_some_and(|code| {
                    code.starts_with("08") || code.starts_with("57P") || matches!(code, "25006" | "53300")
                }),
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// How many connections a pool opens at most: the operator's number, or one derived from the cores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSize {
    /// `database_pool_size`; `None` derives the size from `cores`.
    pub connections: Option<u32>,
    /// The cores to size for (`parallelism`).
    pub cores: usize,
}

impl PoolSize {
    /// Derived from the cores this process may use.
    pub fn for_this_machine() -> Self {
        Self { connections: None, cores: crate::machine::available_cores() }
    }

    /// The pool's size on `backend`.
    pub fn connections(self, backend: Backend) -> u32 {
        if let Some(connections) = self.connections {
            return connections.max(1);
        }
        let cores = u32::try_from(self.cores).unwrap_or(u32::MAX);
        match backend {
            // Each SQLite connection is a thread of its own (sqlx's worker), and reads run in
            // parallel (WAL): one per core keeps every core reading, two more cover connections
            // waiting on the writer. More cost switches: on two cores 8 connections ran the list
            // a third slower than 4 (docs/performance.md, "Sizing by the machine"). At most 32,
            // since each also keeps a page cache of its own.
            Backend::Sqlite => cores.saturating_add(2).clamp(4, 32),
            // The work happens in the PostgreSQL server and a connection mostly waits on it: twice
            // the cores, at most 32, so that three instances stay within PostgreSQL's default of
            // 100 connections.
            Backend::Postgres => cores.saturating_mul(2).clamp(16, 32),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// Sessions and memberships held in memory (see [`auth_cache`]); `None` reads them every time.
    auth_cache: Option<Arc<auth_cache::AuthCache>>,
    /// `SQLite`'s writer task for creates (see [`group_commit`]); `None` on `PostgreSQL`.
    group_commit: Option<group_commit::GroupCommit>,
    /// `SQLite`'s writers' turns (see [`write_gate`]), shared with the group commit; `None` on
    /// `PostgreSQL`.
    write_gate: Option<write_gate::WriteGate>,
    /// The key that chains audit entries (see [`audit_chain`]); without it no entry is written (an
    /// entry outside the chain would be indistinguishable from a forged one). The server and every
    /// `moth` command set it.
    audit_key: Option<Arc<audit_chain::ChainKey>>,
    /// Rung after a commit that wrote to the outbox, so that the notification and webhook workers of
    /// this instance wake at once (other instances find the event on their next poll).
    outbox_bell: Arc<tokio::sync::Notify>,
    hooks_bell: Arc<tokio::sync::Notify>,
    /// This process's name among the instances sharing the database (a new one at each start): the
    /// holder of its leases (see [`leases`]) and the runner of the exports it starts.
    instance_id: Arc<str>,
}

impl Db {
    /// Opens the database named by `url`, creating a `SQLite` file (and its folder) if needed, with a
    /// pool sized for this machine.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_with_pool(url, PoolSize::for_this_machine()).await
    }

    /// [`Db::connect`] with a pool of the given size.
    pub async fn connect_with_pool(url: &str, size: PoolSize) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            (Backend::Sqlite, prepare_sqlite_url(url)?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(DbError::Url("expected sqlite:PATH or postgres://...".into()));
        };
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(size.connections(backend))
            .acquire_timeout(Duration::from_secs(10))
            // The second line behind `Db::begin_uncancelled`: a connection that comes back inside a
            // transaction no one holds (on SQLite it would keep the write lock and refuse every later
            // `begin_with`) is closed, which rolls it back, and never lent again.
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    let stuck = sqlx::Connection::is_in_transaction(conn);
                    if stuck {
                        tracing::warn!("closed a pooled database connection left inside a transaction");
                    }
                    Ok(!stuck)
                })
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // Durability and integrity settings are per connection in SQLite.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        // Every commit makes the other connections drop their page caches (WAL), so
                        // with steady writes each read began cold and copied its pages in with
                        // pread(2): creates fell to 48/s at 66,000 issues over 1,000 teams. Reading
                        // through a memory map costs no copy (the pages stay in the OS's cache).
                        conn.execute("PRAGMA mmap_size = 1073741824").await?;
                        // No `PRAGMA optimize` here: it would analyse the full-text index's own
                        // tables (see `statistics`); `Db::refresh_statistics` keeps the statistics.
                    } else {
                        // The list statements hold ten optional filters (`$n = '' OR ...`). A generic
                        // plan, which PostgreSQL switches to after five runs of a prepared statement,
                        // cannot drop the unused ones and may scan and sort the project instead of
                        // walking the order's index; a plan per run with the values can.
                        conn.execute("SET plan_cache_mode = force_custom_plan").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let write_gate = (backend == Backend::Sqlite).then(write_gate::WriteGate::default);
        let group_commit = write_gate.clone().map(|gate| group_commit::GroupCommit::start(pool.clone(), gate));
        Ok(Self {
            pool,
            backend,
            auth_cache: None,
            group_commit,
            write_gate,
            audit_key: None,
            outbox_bell: Arc::default(),
            hooks_bell: Arc::default(),
            instance_id: uuid::Uuid::new_v4().simple().to_string().into(),
        })
    }

    /// Brings the schema up to date with the migrations of this backend. Instances starting together
    /// take turns (sqlx holds an advisory lock on `PostgreSQL` while it migrates), so each migration
    /// runs once. Migrations newer than this binary are left alone rather than refused: during a
    /// rolling upgrade the previous release goes on running against the expanded schema (every
    /// migration only adds, and what a release stops using is removed a release later).
    pub async fn migrate(&self) -> Result<(), DbError> {
        let mut migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("../migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("../migrations/postgres"),
        };
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// This process's name among the instances (see the field).
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Keeps up to `entries` sessions and memberships in memory (0: none). Only for a database that
    /// no other server instance writes: see [`auth_cache`].
    #[must_use]
    pub fn with_auth_cache(mut self, entries: usize) -> Self {
        self.auth_cache = (entries > 0).then(|| Arc::new(auth_cache::AuthCache::new(entries)));
        self
    }

    /// Chains the audit entries written through this handle with `key`.
    #[must_use]
    pub fn with_audit_key(mut self, key: audit_chain::ChainKey) -> Self {
        self.audit_key = Some(Arc::new(key));
        self
    }

    /// The bell the notification worker waits on (see [`notifications`]).
    pub(crate) fn outbox_bell(&self) -> &tokio::sync::Notify {
        &self.outbox_bell
    }

    /// The bell the webhook worker waits on (see [`webhooks`]).
    pub(crate) fn hooks_bell(&self) -> &tokio::sync::Notify {
        &self.hooks_bell
    }

    /// Wakes this instance's workers after a commit that wrote to the outbox.
    pub(crate) fn ring_outbox(&self) {
        self.outbox_bell.notify_one();
        self.hooks_bell.notify_one();
    }

    pub(crate) fn audit_key(&self) -> Option<&audit_chain::ChainKey> {
        self.audit_key.as_deref()
    }

    pub(crate) fn group_commit(&self) -> Option<&group_commit::GroupCommit> {
        self.group_commit.as_ref()
    }

    pub(crate) fn auth_cache(&self) -> Option<&auth_cache::AuthCache> {
        self.auth_cache.as_deref()
    }

    /// Every membership write calls this, so that the next request reads the new role.
    pub(crate) fn memberships_changed(&self) {
        if let Some(cache) = self.auth_cache() {
            cache.memberships_changed();
        }
    }

    /// Connections open and, of those, idle (for `/metrics`).
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// The most connections the pool opens.
    pub fn pool_max(&self) -> u32 {
        self.pool.options().get_max_connections()
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub(crate) async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, DbError> {
        Ok(self.pool.acquire().await?)
    }

    /// A transaction that writes, and the only way a request begins one (every transaction of a
    /// request writes). On `SQLite` it first waits for its turn among the writers (see
    /// [`write_gate`]), then takes the write lock at its start (`BEGIN IMMEDIATE`), so that waiting
    /// for a writer outside the gate goes through `busy_timeout`: a deferred transaction whose lock
    /// upgrade meets a writer that committed in between fails at once with "database is locked",
    /// which the notification worker's writes beside the requests' made happen.
    pub(crate) async fn begin_write(&self) -> Result<WriteTransaction, DbError> {
        let turn = match &self.write_gate {
            Some(gate) => Some(gate.turn().await?),
            None => None,
        };
        let statement = (self.backend == Backend::Sqlite).then_some("BEGIN IMMEDIATE");
        Ok(WriteTransaction { tx: self.begin_uncancelled(statement).await?, _turn: turn })
    }

    /// Begins a transaction in a task of its own. sqlx's begin can be cancelled after the database
    /// has begun the transaction and before a `Transaction` exists to end it (`SQLite`'s
    /// `begin_with` awaits the connection once more after the `BEGIN`), which returns the connection
    /// to the pool inside a transaction: on `SQLite` holding the write lock (seen once in CI: every
    /// later write answered 503). Spawned, the begin always completes; if its request has gone,
    /// the `Transaction` is dropped and rolled back. The pool's `before_acquire` guard stays as the
    /// second line.
    async fn begin_uncancelled(
        &self,
        statement: Option<&'static str>,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, DbError> {
        let pool = self.pool.clone();
        let begun = tokio::spawn(async move {
            match statement {
                Some(statement) => pool.begin_with(statement).await,
                None => pool.begin().await,
            }
        });
        match begun.await {
            Ok(begun) => Ok(begun?),
            Err(ended) if ended.is_panic() => std::panic::resume_unwind(ended.into_panic()),
            // The runtime is shutting down.
            Err(_) => Err(DbError::Sqlx(sqlx::Error::PoolClosed)),
        }
    }

    /// Keeps the query planner's statistics current. On `SQLite`, Moth's own tables are analysed
    /// (bounded work) and the full-text index's never are: see [`statistics`]. `PostgreSQL`'s
    /// autovacuum analyses tables as they change.
    pub async fn refresh_statistics(&self) -> Result<(), DbError> {
        if self.backend == Backend::Sqlite {
            statistics::refresh(self).await?;
        }
        Ok(())
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A transaction begun by [`Db::begin_write`]: on `SQLite` it holds its writer's turn until it is
/// committed, rolled back or dropped. Used as the connection it runs on.
pub(crate) struct WriteTransaction {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    // Dropped after `tx` (fields drop in order): the next writer's turn begins once this one's ended.
    _turn: Option<write_gate::Turn>,
}

impl WriteTransaction {
    pub(crate) async fn commit(self) -> Result<(), DbError> {
        Ok(self.tx.commit().await?)
    }

    pub(crate) async fn rollback(self) -> Result<(), DbError> {
        Ok(self.tx.rollback().await?)
    }
}

impl std::ops::Deref for WriteTransaction {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTransaction {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// The key of a new row that nothing refers to by id (a history entry, an audit event): a random UUID,
/// stored as text like every id.
pub(crate) struct NewRowKey;

impl sqlx::Type<sqlx::Any> for NewRowKey {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <String as sqlx::Type<sqlx::Any>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Any> for NewRowKey {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <String as sqlx::Encode<'q, sqlx::Any>>::encode(uuid::Uuid::new_v4().to_string(), buf)
    }
}

/// `text` as a `LIKE` pattern that matches it literally (with `ESCAPE '\'`): `%`, `_` and `\`
/// escaped.
pub(in crate::db) fn like_literal(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Makes the folder of a `SQLite` file and asks sqlx to create the file if missing.
fn prepare_sqlite_url(url: &str) -> Result<String, DbError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() {
        return Err(DbError::Url("sqlite: needs a file path".into()));
    }
    if path != ":memory:" {
        if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| DbError::Url(format!("cannot create {}: {e}", parent.display())))?;
        }
    }
    let query = if query.split('&').any(|kv| kv.starts_with("mode=")) {
        query.to_owned()
    } else if query.is_empty() {
        "mode=rwc".to_owned()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    #[test]
    fn sqlite_urls_get_create_mode() {
        assert_eq!(prepare_sqlite_url("sqlite::memory:").expect("url"), "sqlite://:memory:?mode=rwc");
        assert_eq!(prepare_sqlite_url("sqlite:x.db?mode=ro").expect("url"), "sqlite://x.db?mode=ro");
    }

    /// A connection back in the pool inside a transaction that no `Transaction` will end: what a
    /// request cancelled right after its `BEGIN` leaves (sqlx's `SQLite` transaction manager awaits
    /// once more after a `begin_with` has begun). Made here by forgetting the `Transaction`. On
    /// `SQLite` such a connection keeps the write lock and refuses every later `begin_with`; on
    /// `PostgreSQL` a later `begin` would become a savepoint inside it and its commit would be lost.
    /// `SQLite` always; `PostgreSQL` too when `MOTH_TEST_POSTGRES_URL` names a server.
    #[tokio::test]
    async fn a_connection_returned_inside_a_transaction_is_never_lent_again() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut urls = vec![format!("sqlite:{}", dir.path().join("moth.db").display())];
        if let Some(server) = std::env::var("MOTH_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty()) {
            urls.push(fresh_postgres_database(&server).await);
        }
        for url in urls {
            // One connection, so that the next acquire can only be offered the one left inside.
            let db = Db::connect_with_pool(&url, PoolSize { connections: Some(1), cores: 2 }).await.expect("connect");
            sqlx::query("CREATE TABLE probe (n BIGINT NOT NULL)").execute(db.pool()).await.expect("table");
            {
                let mut conn = db.acquire().await.expect("acquire");
                let mut leaked = Connection::begin(&mut *conn).await.expect("begin");
                sqlx::query("INSERT INTO probe (n) VALUES (0)").execute(&mut *leaked).await.expect("write");
                std::mem::forget(leaked);
            }
            // The pool takes the connection back in a task of its own.
            for _ in 0..200 {
                if db.pool_use() == (1, 1) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(db.pool_use(), (1, 1), "{url}: the connection is back in the pool");

            for n in 1..=4_i64 {
                let mut write = tokio::time::timeout(Duration::from_secs(8), db.begin_write())
                    .await
                    .expect("a write is not held up by the leaked transaction")
                    .expect("begin a write");
                sqlx::query("INSERT INTO probe (n) VALUES ($1)").bind(n).execute(&mut *write).await.expect("insert");
                write.commit().await.expect("commit");
            }
            let mut reader = sqlx::AnyConnection::connect(&url_for_any(&url)).await.expect("a connection of its own");
            let stored: Vec<i64> =
                sqlx::query_scalar("SELECT n FROM probe ORDER BY n").fetch_all(&mut reader).await.expect("read");
            assert_eq!(stored, [1, 2, 3, 4], "{url}: the leaked write is rolled back and every later write kept");
        }
    }

    fn url_for_any(url: &str) -> String {
        if url.starts_with("sqlite:") {
            prepare_sqlite_url(url).expect("url")
        } else {
            url.to_owned()
        }
    }

    async fn fresh_postgres_database(server_url: &str) -> String {
        let name = format!("moth_pool_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::AnyConnection::connect(server_url).await.expect("the test PostgreSQL server");
        // The name is generated above, never input: a database name cannot be a bind parameter.
        conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create the database");
        let (base, _) = server_url.rsplit_once('/').expect("a database in the URL");
        format!("{base}/{name}")
    }
}
