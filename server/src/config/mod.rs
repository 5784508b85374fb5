//! Configuration: built-in defaults, then an optional TOML file, then `MOTH_*` environment variables
//! (and the conventional `DATABASE_URL`). Every key is listed in README.md, "Configuration".

pub mod backup_tiers;

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
// Flat on purpose: each setting is one documented key and one `MOTH_*` variable.
#[allow(clippy::struct_excessive_bools)]
pub struct Config {
    /// Address the app listens on.
    pub bind: SocketAddr,
    /// `sqlite:PATH` (the default, created if missing) or `postgres://...`.
    pub database_url: String,
    /// The built single-page app (Trunk's `dist/`).
    pub site_dir: PathBuf,
    /// The address people use to reach Moth, such as `https://moth.example.com`. It names the one
    /// origin allowed to send state-changing requests; `https` turns on Secure `__Host-` cookies and
    /// HSTS. Unset: the request's own `Host` is taken as the origin and cookies are not Secure.
    pub public_url: Option<String>,
    /// A session unused for this long ends.
    pub session_idle_timeout_secs: u64,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute_timeout_secs: u64,
    /// `smtp://host:port`, `smtp://user:pass@host:port?tls=required` or `smtps://...`: where invitation
    /// emails go. Unset: no email; inviters copy links.
    pub smtp_url: Option<String>,
    /// The sender of Moth's emails.
    pub mail_from: String,
    /// How long an invitation link can be used.
    pub invitation_ttl_hours: u64,
    /// `text` or `json` log lines.
    pub log_format: LogFormat,
    /// A client that has not sent a request's headers this long after it started (or after the last
    /// request on a kept-alive connection) is disconnected.
    pub request_header_timeout_secs: u64,
    /// A request whose body has not arrived whole this long after its headers is refused (408).
    pub request_body_timeout_secs: u64,
    /// How many sessions (and as many memberships) are kept in memory so that a signed-in request
    /// reads neither from the database. Unset: 10,000 with `SQLite`, 0 (off) with `PostgreSQL`. Only
    /// safe when no other Moth instance writes the same database: an instance does not see the
    /// sign-outs and role changes made through another until its cache entries go.
    pub session_cache_entries: Option<usize>,
    /// Where attachments are stored (sealed) when no other store is configured.
    pub files_dir: PathBuf,
    /// The master key that seals every stored file's own key: 32 bytes in hex, created (mode 0600) on
    /// first start if the file does not exist. Keep it, and back it up apart from the data.
    pub master_key_file: PathBuf,
    /// `host:port` of clamd's TCP socket. Unset: every upload is refused (nothing is stored unscanned).
    pub clamd_url: Option<String>,
    /// How long clamd may take to answer for one file.
    pub clamd_timeout_secs: u64,
    /// Address of the file origin's own listener, which serves stored files and nothing else.
    pub files_bind: SocketAddr,
    /// The address people reach the file origin at, such as `https://files.moth-usercontent.example`
    /// (another registrable domain than `public_url`). Unset: `http://` and the bound `files_bind`.
    pub files_url: Option<String>,
    /// How long a link to a file works.
    pub file_link_ttl_secs: u64,
    /// How long the file origin waits for a reader to take the next piece of a file before it cuts
    /// the transfer off and frees its place.
    pub file_delivery_stall_secs: u64,
    /// Store attachments in this S3 bucket instead of `files_dir` (with the `s3_*` settings below).
    pub s3_bucket: Option<String>,
    /// The S3 endpoint, such as `https://s3.eu-central-1.amazonaws.com` or an S3-compatible server.
    pub s3_endpoint: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    /// Address the bucket in the path (`endpoint/bucket/key`), as most S3-compatible servers want.
    pub s3_path_style: bool,
    /// This many failures at a credential from one address within `ban_window_secs` ban it.
    pub ban_failures: i64,
    pub ban_window_secs: i64,
    /// How long a ban lasts, from the last failure.
    pub ban_secs: i64,
    /// Failures at one account per hour, from all addresses, before it is slowed down (never locked).
    pub account_failures_per_hour: i64,
    /// Proxies whose `X-Forwarded-For` is believed (their own addresses); empty: the peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Where the one-line failure records for fail2ban go (appended). Unset: standard error.
    pub auth_log_file: Option<PathBuf>,
    /// The key that chains the audit log (32 bytes in hex, created 0600 on first start): keep it from
    /// whoever administers the database, so that they cannot rewrite the log unnoticed.
    pub audit_key_file: PathBuf,
    /// Uploads per minute from one address (a burst of as many, then one per 60/n seconds).
    pub upload_rate_per_minute: u32,
    /// CSV exports per minute from one address.
    pub export_rate_per_minute: u32,
    /// Requests per minute to the API (server functions, uploads, exports) from one address.
    pub api_rate_per_minute: u32,
    /// Requests per minute to the API from one session (a burst of as many, then steadily).
    pub session_rate_per_minute: u32,
    /// Requests per minute to the REST API (`/api/v1`) with one access token.
    pub token_rate_per_minute: u32,
    /// How long a notification email waits for more activity on the same issue (one mail per burst).
    pub notification_mail_delay_secs: u64,
    /// Live connections (`/live`) one person holds at once; more answer 429.
    pub live_connections_per_user: usize,
    /// Live connections this instance holds at once; more answer 503.
    pub live_connections_total: usize,
    /// The bearer token a scraper presents for `/metrics`; unset: `/metrics` is not served.
    pub metrics_token: Option<String>,
    /// The folder snapshots are written to (always; an S3 bucket below is a second destination).
    pub backup_dir: PathBuf,
    /// The age recipients (public keys, `age1...`, one per line) snapshots are encrypted to. When it
    /// and the identity file are both missing, a pair is generated on first start (logged).
    pub backup_recipients_file: PathBuf,
    /// The age identity (private key) that opens snapshots, for drills and restores on this machine.
    /// Keeping it elsewhere protects old backups from whoever takes the server; drills then run
    /// where it is (`moth backup verify --identity FILE`).
    pub backup_identity_file: PathBuf,
    /// Tiers of snapshots, `every:keep_for,...` in m, h, d, w: by default one every 6 hours kept 4
    /// days, daily kept 7 days, weekly kept 4 weeks.
    pub backup_tiers: String,
    /// Whether the server takes snapshots on the tiers' schedule (and prunes) by itself.
    pub backup_schedule: bool,
    /// Hours between restore drills run by the server (0: none; `moth backup verify` still works).
    pub backup_drill_hours: u64,
    /// A second destination for snapshots: an S3-compatible bucket (with the settings below).
    pub backup_s3_bucket: Option<String>,
    pub backup_s3_endpoint: Option<String>,
    pub backup_s3_region: String,
    pub backup_s3_access_key_id: Option<String>,
    pub backup_s3_secret_access_key: Option<String>,
    pub backup_s3_path_style: bool,
    /// The key prefix of snapshots in the bucket.
    pub backup_s3_prefix: String,
    /// Continuous replication of the `SQLite` database: Litestream's local replica goes here, and
    /// Moth ships it, encrypted, to the backup destinations. Unset: no continuous replication (the
    /// snapshots alone; `scripts/run` sets `data/replica`).
    pub replica_dir: Option<PathBuf>,
    /// The Litestream program (0.5) that replicates the database.
    pub litestream_bin: PathBuf,
    /// The `pgBackRest` stanza that archives the `PostgreSQL` database (README, "`PostgreSQL`: continuous
    /// archiving"). Set: `moth backup restore --at TIME --pg-data DIR` restores a moment through it,
    /// and `moth backup list` shows what it can restore.
    pub pgbackrest_stanza: Option<String>,
    /// `pgBackRest`'s configuration file; unset: its own default (/etc/pgbackrest/pgbackrest.conf).
    pub pgbackrest_config: Option<PathBuf>,
    /// Where team exports are built, and kept for a day when they are to be downloaded.
    pub exports_dir: PathBuf,
    /// Let teams export to buckets and send webhooks at loopback, private and link-local addresses
    /// (for tests and on-premises receivers). Off: such addresses are refused when saved and at every
    /// connection. See [`Config::private_endpoints_allowed`].
    pub allow_private_endpoints: bool,
    /// The earlier name of `allow_private_endpoints`, from when only exports had it: either allows.
    pub export_allow_private_endpoints: bool,
    /// How long a lease lasts (renewed every third of it): an instance that dies while leading the
    /// cluster's scheduled work is replaced within this and a third, and its running exports are
    /// marked failed at the next sweep after it.
    pub lease_secs: u64,
    /// Seconds between the sweeper's rounds (expired sessions, retention, checkpoints, export schedules).
    pub sweep_interval_secs: u64,
    /// The cores Moth sizes its pools for; unset: the cores the OS grants the process.
    pub parallelism: Option<usize>,
    /// The most database connections this instance opens; unset: derived from `parallelism` (see
    /// [`crate::db::PoolSize`]).
    pub database_pool_size: Option<u32>,
    /// Password hashing threads, each holding a 19 MiB buffer during a flood of sign-ins; unset:
    /// one fewer than `parallelism`, at most 2 (see [`crate::password::Hashing`]).
    pub password_hashing_threads: Option<usize>,
    /// Seconds a hashing buffer is kept without work before it goes back to the system.
    pub password_hashing_release_secs: u64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The keys read from `MOTH_<KEY>` environment variables; other `MOTH_*` variables (such as
/// `MOTH_LOG` or the test scripts' own) are not configuration.
const ENV_KEYS: [&str; 69] = [
    "bind",
    "database_url",
    "site_dir",
    "public_url",
    "session_idle_timeout_secs",
    "session_absolute_timeout_secs",
    "invitation_ttl_hours",
    "smtp_url",
    "mail_from",
    "log_format",
    "request_header_timeout_secs",
    "request_body_timeout_secs",
    "session_cache_entries",
    "files_dir",
    "master_key_file",
    "clamd_url",
    "clamd_timeout_secs",
    "files_bind",
    "files_url",
    "file_link_ttl_secs",
    "file_delivery_stall_secs",
    "s3_bucket",
    "s3_endpoint",
    "s3_region",
    "s3_access_key_id",
    "s3_secret_access_key",
    "s3_path_style",
    "ban_failures",
    "ban_window_secs",
    "ban_secs",
    "account_failures_per_hour",
    "trusted_proxies",
    "auth_log_file",
    "audit_key_file",
    "upload_rate_per_minute",
    "export_rate_per_minute",
    "api_rate_per_minute",
    "session_rate_per_minute",
    "token_rate_per_minute",
    "notification_mail_delay_secs",
    "live_connections_per_user",
    "live_connections_total",
    "metrics_token",
    "backup_dir",
    "backup_recipients_file",
    "backup_identity_file",
    "backup_tiers",
    "backup_schedule",
    "backup_drill_hours",
    "backup_s3_bucket",
    "backup_s3_endpoint",
    "backup_s3_region",
    "backup_s3_access_key_id",
    "backup_s3_secret_access_key",
    "backup_s3_path_style",
    "backup_s3_prefix",
    "exports_dir",
    "allow_private_endpoints",
    "export_allow_private_endpoints",
    "replica_dir",
    "litestream_bin",
    "pgbackrest_stanza",
    "pgbackrest_config",
    "lease_secs",
    "sweep_interval_secs",
    "parallelism",
    "database_pool_size",
    "password_hashing_threads",
    "password_hashing_release_secs",
];

impl Default for Config {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 3000)),
            database_url: "sqlite:data/moth.db".into(),
            site_dir: PathBuf::from("dist"),
            public_url: None,
            session_idle_timeout_secs: 30 * 60,
            session_absolute_timeout_secs: 12 * 60 * 60,
            invitation_ttl_hours: 7 * 24,
            smtp_url: None,
            mail_from: "Moth <moth@localhost>".into(),
            log_format: LogFormat::Text,
            request_header_timeout_secs: 10,
            request_body_timeout_secs: 30,
            session_cache_entries: None,
            files_dir: PathBuf::from("data/files"),
            master_key_file: PathBuf::from("data/master.key"),
            clamd_url: None,
            clamd_timeout_secs: 60,
            files_bind: SocketAddr::from(([127, 0, 0, 1], 3001)),
            files_url: None,
            file_link_ttl_secs: 300,
            file_delivery_stall_secs: 30,
            s3_bucket: None,
            s3_endpoint: None,
            s3_region: "us-east-1".into(),
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_path_style: true,
            ban_failures: 10,
            ban_window_secs: 15 * 60,
            ban_secs: 15 * 60,
            account_failures_per_hour: 100,
            trusted_proxies: Vec::new(),
            auth_log_file: None,
            audit_key_file: PathBuf::from("data/audit.key"),
            upload_rate_per_minute: 120,
            export_rate_per_minute: 30,
            api_rate_per_minute: 3000,
            session_rate_per_minute: 600,
            token_rate_per_minute: 600,
            notification_mail_delay_secs: 120,
            live_connections_per_user: 5,
            live_connections_total: 5000,
            metrics_token: None,
            backup_dir: PathBuf::from("data/backups"),
            backup_recipients_file: PathBuf::from("data/backup-recipients.txt"),
            backup_identity_file: PathBuf::from("data/backup-identity.txt"),
            backup_tiers: backup_tiers::DEFAULT.into(),
            backup_schedule: true,
            backup_drill_hours: 24,
            backup_s3_bucket: None,
            backup_s3_endpoint: None,
            backup_s3_region: "us-east-1".into(),
            backup_s3_access_key_id: None,
            backup_s3_secret_access_key: None,
            backup_s3_path_style: true,
            backup_s3_prefix: "moth-backups/".into(),
            replica_dir: None,
            litestream_bin: PathBuf::from("litestream"),
            pgbackrest_stanza: None,
            pgbackrest_config: None,
            exports_dir: PathBuf::from("data/exports"),
            allow_private_endpoints: false,
            export_allow_private_endpoints: false,
            lease_secs: 30,
            sweep_interval_secs: 600,
            parallelism: None,
            database_pool_size: None,
            password_hashing_threads: None,
            password_hashing_release_secs: 60,
        }
    }
}

/// The most password hashing threads a configuration may ask for: 4.75 GiB of buffers in a flood.
const MAX_HASHING_THREADS: usize = 256;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads the configuration: defaults, then `file` if given, then the environment.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError::Invalid(format!("config file {} does not exist", file.display())));
            }
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("MOTH_").only(&ENV_KEYS)).merge(Env::raw().only(&["DATABASE_URL"]));
        let config: Config = figment.extract().map_err(Box::new)?;
        config.check()?;
        Ok(config)
    }

    /// Whether exports and webhooks may reach loopback, private and link-local addresses (either
    /// name of the setting).
    pub fn private_endpoints_allowed(&self) -> bool {
        self.allow_private_endpoints || self.export_allow_private_endpoints
    }

    fn check(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.public_url {
            public_origin(url).ok_or_else(|| {
                ConfigError::Invalid(format!("public_url {url:?} must be http(s)://host[:port] with no path"))
            })?;
        }
        if self.session_idle_timeout_secs == 0 || self.session_absolute_timeout_secs == 0 {
            return Err(ConfigError::Invalid("session timeouts must be positive".into()));
        }
        if let Some(url) = &self.files_url {
            public_origin(url).ok_or_else(|| {
                ConfigError::Invalid(format!("files_url {url:?} must be http(s)://host[:port] with no path"))
            })?;
            if self.public_origin() == public_origin(url) {
                return Err(ConfigError::Invalid("files_url must be another origin than public_url".into()));
            }
        }
        if self.s3_bucket.is_some()
            && (self.s3_endpoint.is_none() || self.s3_access_key_id.is_none() || self.s3_secret_access_key.is_none())
        {
            return Err(ConfigError::Invalid(
                "s3_bucket needs s3_endpoint, s3_access_key_id and s3_secret_access_key".into(),
            ));
        }
        if self.ban_failures < 1 || self.ban_window_secs < 1 || self.ban_secs < 1 || self.account_failures_per_hour < 1
        {
            return Err(ConfigError::Invalid("the ban settings must be positive".into()));
        }
        if self.file_link_ttl_secs == 0 || self.clamd_timeout_secs == 0 || self.file_delivery_stall_secs == 0 {
            return Err(ConfigError::Invalid(
                "file_link_ttl_secs, file_delivery_stall_secs and clamd_timeout_secs must be positive".into(),
            ));
        }
        backup_tiers::parse(&self.backup_tiers).map_err(|e| ConfigError::Invalid(format!("backup_tiers: {e}")))?;
        if self.backup_s3_bucket.is_some()
            && (self.backup_s3_endpoint.is_none()
                || self.backup_s3_access_key_id.is_none()
                || self.backup_s3_secret_access_key.is_none())
        {
            return Err(ConfigError::Invalid(
                "backup_s3_bucket needs backup_s3_endpoint, backup_s3_access_key_id and backup_s3_secret_access_key"
                    .into(),
            ));
        }
        if self.invitation_ttl_hours == 0 {
            return Err(ConfigError::Invalid("invitation_ttl_hours must be positive".into()));
        }
        if self.password_hashing_threads.is_some_and(|threads| threads > MAX_HASHING_THREADS) {
            return Err(ConfigError::Invalid(format!(
                "password_hashing_threads may be at most {MAX_HASHING_THREADS} (each holds 19 MiB while it works)"
            )));
        }
        if self.parallelism == Some(0)
            || self.database_pool_size == Some(0)
            || self.password_hashing_threads == Some(0)
            || self.password_hashing_release_secs == 0
        {
            return Err(ConfigError::Invalid(
                "parallelism, database_pool_size, password_hashing_threads and password_hashing_release_secs must be \
                 positive"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The cores the pools are sized for: `parallelism`, or what the OS grants.
    pub fn parallelism(&self) -> usize {
        self.parallelism.unwrap_or_else(crate::machine::available_cores)
    }

    /// The database pool's size: `database_pool_size`, or derived from [`Config::parallelism`].
    pub fn pool_size(&self) -> crate::db::PoolSize {
        crate::db::PoolSize { connections: self.database_pool_size, cores: self.parallelism() }
    }

    /// The password hashing pool's bounds.
    pub fn hashing(&self) -> crate::password::Hashing {
        let derived = crate::password::Hashing::for_cores(self.parallelism());
        crate::password::Hashing {
            threads: self.password_hashing_threads.unwrap_or(derived.threads),
            release_after: Duration::from_secs(self.password_hashing_release_secs),
        }
    }

    /// `scheme://host[:port]` of `public_url`, the form browsers send in `Origin`.
    pub fn public_origin(&self) -> Option<String> {
        self.public_url.as_deref().and_then(public_origin)
    }

    /// Whether people reach Moth over HTTPS (then cookies are Secure and HSTS is sent).
    pub fn https(&self) -> bool {
        self.public_origin().is_some_and(|o| o.starts_with("https://"))
    }

    pub fn session_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.session_idle_timeout_secs)
    }

    pub fn session_absolute_timeout(&self) -> Duration {
        Duration::from_secs(self.session_absolute_timeout_secs)
    }

    /// The session cache's size for this database (see `session_cache_entries`). With `PostgreSQL`,
    /// the way to run several instances, it stays off: an instance's cache would go on serving a
    /// session another instance ended, or a role it lowered (security property C1).
    pub fn session_cache_entries(&self, backend: crate::db::Backend) -> Result<usize, String> {
        match (backend, self.session_cache_entries) {
            (crate::db::Backend::Postgres, Some(n)) if n > 0 => Err(
                "session_cache_entries must be 0 with PostgreSQL: several instances may share the database, and one \
                 instance's cache would not see the sign-outs and role changes made through another"
                    .into(),
            ),
            (crate::db::Backend::Postgres, _) => Ok(0),
            (crate::db::Backend::Sqlite, entries) => Ok(entries.unwrap_or(10_000)),
        }
    }

    /// The S3 store's settings, when attachments go to a bucket.
    pub fn s3(&self) -> Option<crate::files::store::S3Settings> {
        Some(crate::files::store::S3Settings {
            bucket: self.s3_bucket.clone()?,
            endpoint: self.s3_endpoint.clone()?,
            region: self.s3_region.clone(),
            access_key_id: self.s3_access_key_id.clone()?,
            secret_access_key: self.s3_secret_access_key.clone()?,
            path_style: self.s3_path_style,
        })
    }

    /// Where stored files live: the S3 bucket when configured, else `files_dir`.
    pub fn object_store(&self) -> std::io::Result<std::sync::Arc<dyn crate::files::store::ObjectStore>> {
        use crate::files::store::{LocalDir, S3};
        Ok(match self.s3() {
            Some(settings) => std::sync::Arc::new(S3::new(&settings)),
            None => std::sync::Arc::new(LocalDir::new(self.files_dir.clone())?),
        })
    }

    /// The second backup destination, when configured.
    pub fn backup_s3(&self) -> Option<crate::files::store::S3Settings> {
        Some(crate::files::store::S3Settings {
            bucket: self.backup_s3_bucket.clone()?,
            endpoint: self.backup_s3_endpoint.clone()?,
            region: self.backup_s3_region.clone(),
            access_key_id: self.backup_s3_access_key_id.clone()?,
            secret_access_key: self.backup_s3_secret_access_key.clone()?,
            path_style: self.backup_s3_path_style,
        })
    }

    pub fn ban_rules(&self) -> crate::bans::BanRules {
        crate::bans::BanRules {
            failures: self.ban_failures,
            window_secs: self.ban_window_secs,
            ban_secs: self.ban_secs,
            account_failures_per_hour: self.account_failures_per_hour,
        }
    }

    /// The key that chains the audit log, made on first start.
    pub fn audit_key(&self) -> Result<crate::db::audit_chain::ChainKey, crate::files::crypto::CryptoError> {
        let keys = crate::files::crypto::Keys::load_or_create(&self.audit_key_file)?;
        Ok(crate::db::audit_chain::ChainKey::new(keys.derive(b"moth audit chain v1")))
    }

    pub fn invitation_ttl(&self) -> Duration {
        Duration::from_secs(self.invitation_ttl_hours.saturating_mul(3600))
    }
}

fn public_origin(url: &str) -> Option<String> {
    let uri: http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return None;
    }
    let authority = uri.authority()?;
    Some(format!("{scheme}://{}", authority.as_str().to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_can_come_from_the_environment() {
        let json = serde_json::to_value(Config::default()).expect("json");
        let mut keys: Vec<&str> = json.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut env_keys = ENV_KEYS.to_vec();
        env_keys.sort_unstable();
        assert_eq!(keys, env_keys);
    }

    #[test]
    fn pools_are_sized_from_the_cores_unless_their_own_settings_say() {
        use crate::db::Backend::{Postgres, Sqlite};
        let sized = |cores: usize| {
            let config = Config { parallelism: Some(cores), ..Config::default() };
            let pool = config.pool_size();
            (pool.connections(Sqlite), pool.connections(Postgres), config.hashing().threads)
        };
        // SQLite: a connection per core and two more; PostgreSQL: two per core, 16 to 32; hashing:
        // one thread fewer than the cores, at most two (memory, not the cores, bounds it).
        assert_eq!(sized(1), (4, 16, 1));
        assert_eq!(sized(2), (4, 16, 1));
        assert_eq!(sized(3), (5, 16, 2));
        assert_eq!(sized(16), (18, 32, 2));
        assert_eq!(sized(128), (32, 32, 2));
        let unset = Config::default();
        assert_eq!(unset.parallelism(), crate::machine::available_cores());
        let config = Config {
            parallelism: Some(16),
            database_pool_size: Some(7),
            password_hashing_threads: Some(6),
            password_hashing_release_secs: 5,
            ..Config::default()
        };
        assert_eq!((config.pool_size().connections(Sqlite), config.pool_size().connections(Postgres)), (7, 7));
        assert_eq!(config.hashing(), crate::password::Hashing { threads: 6, release_after: Duration::from_secs(5) });
        for zero in [
            Config { parallelism: Some(0), ..Config::default() },
            Config { database_pool_size: Some(0), ..Config::default() },
            Config { password_hashing_threads: Some(0), ..Config::default() },
            Config { password_hashing_release_secs: 0, ..Config::default() },
            Config { password_hashing_threads: Some(257), ..Config::default() },
        ] {
            assert!(zero.check().is_err(), "{zero:?}");
        }
    }

    #[test]
    fn an_earlier_name_still_sets_its_setting() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("moth.toml");
        std::fs::write(&file, "export_allow_private_endpoints = true\n").expect("write");
        assert!(Config::load(Some(&file)).expect("config").private_endpoints_allowed());
        std::fs::write(&file, "allow_private_endpoints = true\n").expect("write");
        assert!(Config::load(Some(&file)).expect("config").private_endpoints_allowed());
        std::fs::write(&file, "").expect("write");
        assert!(!Config::load(Some(&file)).expect("config").private_endpoints_allowed());
    }

    #[test]
    fn public_origin_accepts_only_an_origin() {
        assert_eq!(public_origin("https://Moth.example.com/").as_deref(), Some("https://moth.example.com"));
        assert_eq!(public_origin("http://127.0.0.1:3000").as_deref(), Some("http://127.0.0.1:3000"));
        assert_eq!(public_origin("https://moth.example.com/app"), None);
        assert_eq!(public_origin("ftp://moth.example.com"), None);
        assert_eq!(public_origin("moth.example.com"), None);
    }
}
