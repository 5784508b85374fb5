//! Counters for operators, served at `/metrics` in the Prometheus text format (`prometheus-client`)
//! to a scraper that presents `metrics_token`. Each server has its own set (tests start several in
//! one process). Label values come from short fixed lists, never from what a client sent, so the
//! number of series stays bounded.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Status {
    /// The HTTP status code answered.
    pub code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Route {
    /// A server function's path (`/api/list_issues`), or the route's pattern (`/upload/issues/{issue_id}`),
    /// or `other` (the site's files and pages).
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Endpoint {
    /// The credential endpoint (`sign_in`, `accept_invitation`, `invitation`).
    pub endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitKind {
    /// Which limit refused: `address` or `session` (every API call), `upload`, `export`.
    pub limit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// `stored`, or the pipeline step that refused the upload.
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Dependency {
    /// `clamd`, `storage` or `replica`.
    pub dependency: String,
}

pub struct Metrics {
    registry: Registry,
    pub responses: Family<Status, Counter>,
    pub credential_failures: Family<Endpoint, Counter>,
    pub bans: Counter,
    pub banned_refusals: Counter,
    pub rate_limited: Family<LimitKind, Counter>,
    pub uploads: Family<Outcome, Counter>,
    pub durations: Family<Route, Histogram, fn() -> Histogram>,
    pub pool_connections: Gauge,
    pub pool_idle: Gauge,
    pub pool_max: Gauge,
    pub hashing_threads: Gauge,
    pub hashing_buffers: Gauge,
    /// Read from `backup_runs` at each scrape, so that snapshots and drills run by `moth backup` count too.
    pub backup_last_snapshot_seconds: Gauge,
    pub backup_last_snapshot_passed: Gauge,
    pub backup_last_verified_seconds: Gauge,
    pub backup_last_drill_passed: Gauge,
    pub backup_last_restore_milliseconds: Gauge,
    pub backup_replica_shipped_seconds: Gauge,
    /// Whether each dependency answered at the scrape, as `/readyz` asks it.
    pub dependency_up: Family<Dependency, Gauge>,
    /// Whether this instance holds the lease of the cluster's scheduled work (see `cluster`).
    pub cluster_leader: Gauge,
    /// Rounds of the cluster's scheduled work this instance has run.
    pub chore_rounds: Counter,
}

fn duration_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("moth");
        let metrics = Self {
            registry: Registry::default(),
            responses: Family::default(),
            credential_failures: Family::default(),
            bans: Counter::default(),
            banned_refusals: Counter::default(),
            rate_limited: Family::default(),
            uploads: Family::default(),
            durations: Family::new_with_constructor(duration_histogram as fn() -> Histogram),
            pool_connections: Gauge::default(),
            pool_idle: Gauge::default(),
            pool_max: Gauge::default(),
            hashing_threads: Gauge::default(),
            hashing_buffers: Gauge::default(),
            backup_last_snapshot_seconds: Gauge::default(),
            backup_last_snapshot_passed: Gauge::default(),
            backup_last_verified_seconds: Gauge::default(),
            backup_last_drill_passed: Gauge::default(),
            backup_last_restore_milliseconds: Gauge::default(),
            backup_replica_shipped_seconds: Gauge::default(),
            dependency_up: Family::default(),
            cluster_leader: Gauge::default(),
            chore_rounds: Counter::default(),
        };
        registry.register("http_responses", "Responses by status code", metrics.responses.clone());
        registry.register(
            "credential_failures",
            "Failed credentials (passwords, invitation tokens) by endpoint",
            metrics.credential_failures.clone(),
        );
        registry.register("bans", "Addresses banned after repeated failures", metrics.bans.clone());
        registry.register(
            "banned_refusals",
            "Credential attempts refused because the address or account is banned",
            metrics.banned_refusals.clone(),
        );
        registry.register("rate_limited", "Requests refused by a rate limit", metrics.rate_limited.clone());
        registry.register("uploads", "Uploads by outcome", metrics.uploads.clone());
        registry.register(
            "request_duration_seconds",
            "Time to answer, by server function or route",
            metrics.durations.clone(),
        );
        for (name, help, gauge) in metrics.gauges() {
            registry.register(name, help, gauge.clone());
        }
        registry.register(
            "dependency_up",
            "Whether clamd, the object store and the continuous replica answered at this scrape (1) or not (0)",
            metrics.dependency_up.clone(),
        );
        registry.register(
            "cluster_chore_rounds",
            "Rounds of the cluster's scheduled work (sweeper, export schedules) run by this instance",
            metrics.chore_rounds.clone(),
        );
        Self { registry, ..metrics }
    }

    /// The gauges, each with its name and help, registered as one list.
    fn gauges(&self) -> [(&'static str, &'static str, &Gauge); 12] {
        [
            (
                "cluster_leader",
                "Whether this instance runs the cluster's scheduled work (1) or another does (0)",
                &self.cluster_leader,
            ),
            ("db_pool_connections", "Database connections open", &self.pool_connections),
            ("db_pool_idle", "Database connections open and idle", &self.pool_idle),
            ("db_pool_max_connections", "The most database connections this instance opens", &self.pool_max),
            ("password_hashing_threads", "Threads that hash passwords", &self.hashing_threads),
            (
                "password_hashing_buffers",
                "19 MiB hashing buffers held now (in use, or idle until their release)",
                &self.hashing_buffers,
            ),
            (
                "backup_last_snapshot_timestamp_seconds",
                "When the newest snapshot that was written whole finished (Unix time; 0: none yet)",
                &self.backup_last_snapshot_seconds,
            ),
            (
                "backup_last_snapshot_passed",
                "Whether the newest snapshot attempt succeeded (1), failed (0); -1: none yet",
                &self.backup_last_snapshot_passed,
            ),
            (
                "backup_last_verified_timestamp_seconds",
                "When the newest passing restore drill finished (Unix time; 0: none yet)",
                &self.backup_last_verified_seconds,
            ),
            (
                "backup_last_drill_passed",
                "Whether the newest restore drill passed (1) or failed (0); -1: none yet",
                &self.backup_last_drill_passed,
            ),
            (
                "backup_last_restore_milliseconds",
                "How long the newest passing drill took to restore and check its snapshot (the RTO)",
                &self.backup_last_restore_milliseconds,
            ),
            (
                "backup_replica_shipped_timestamp_seconds",
                "When this server last shipped the continuous replica whole (Unix time; 0: not yet, or no replica)",
                &self.backup_replica_shipped_seconds,
            ),
        ]
    }

    pub fn count_limited(&self, limit: &str) {
        self.rate_limited.get_or_create(&LimitKind { limit: limit.to_owned() }).inc();
    }

    pub fn count_upload(&self, outcome: &str) {
        self.uploads.get_or_create(&Outcome { outcome: outcome.to_owned() }).inc();
    }

    /// The text format a Prometheus scraper reads.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        out
    }
}
