//! The sweeper: every `sweep_interval_secs` (the first round at start), each instance forgets what
//! only it keeps (idle rate-limit keys, its old downloadable exports), and the instance that leads
//! the cluster (see `cluster`) does the rest once for all of them: expired sessions, interrupted and
//! scheduled team exports, expired export archives, old notifications, credential failures and idempotency keys, long-expired
//! leases, issues missing from the full-text index, the audit log's checkpoint and the query
//! planner's statistics.

use std::{sync::Arc, time::Duration};

use crate::{
    bans::Bans,
    clock::unix_millis,
    cluster::Leadership,
    db::{sessions::DbSessionStore, Db},
    export::Exporter,
    http::limits::Limits,
    metrics::Metrics,
};

/// How long inbox entries (and the events they came from) are kept.
const NOTIFICATIONS_KEPT_MS: i64 = 90 * 24 * 3600 * 1000;

pub struct Sweeper {
    pub db: Db,
    pub sessions: DbSessionStore,
    pub bans: Arc<Bans>,
    pub limits: Arc<Limits>,
    pub exporter: Arc<Exporter>,
    pub leadership: Arc<Leadership>,
    pub metrics: Arc<Metrics>,
}

impl Sweeper {
    /// Sweeps every `every`, until dropped.
    pub async fn run(self, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.limits.forget_idle();
            self.exporter.forget_old().await;
            if self.leadership.leads() {
                self.cluster_round().await;
                self.metrics.chore_rounds.inc();
            }
        }
    }

    /// The work done once for the whole cluster, by its leader. Each step is safe to repeat (should a
    /// leader that stalled past its lease overlap with the next), and a failed step stops no other.
    async fn cluster_round(&self) {
        let db = &self.db;
        let now = || unix_millis(time::OffsetDateTime::now_utc());
        warn_on(self.sessions.delete_expired().await, "could not delete expired sessions");
        warn_on(crate::db::team_export::fail_interrupted(db, now()).await, "could not end interrupted exports");
        warn_on(self.exporter.scheduled_round().await, "scheduled team exports could not start");
        warn_on(self.exporter.forget_old_archives().await, "could not remove expired export archives");
        let month_ago = now() - NOTIFICATIONS_KEPT_MS;
        warn_on(crate::db::notifications::forget_old(db, month_ago).await, "could not forget old notifications");
        warn_on(self.bans.forget_old().await, "could not forget old credential failures");
        warn_on(crate::db::idempotency::forget_old(db, now()).await, "could not forget old idempotency keys");
        warn_on(crate::db::leases::forget_expired(db).await, "could not forget expired leases");
        let indexed = crate::db::issues::index_missing_text(db).await;
        warn_on(indexed, "could not index the issues the full-text index is missing");
        if let Some(key) = db.audit_key() {
            warn_on(crate::db::audit_chain::checkpoint(db, key, now()).await, "could not checkpoint the audit log");
        }
        // Cheap (12 ms at a million issues, 170 ms with a cold cache), so every round, the first at
        // start: a table that grew fast gets its statistics within minutes.
        warn_on(db.refresh_statistics().await, "could not refresh the query planner's statistics");
    }
}

fn warn_on<T, E: std::fmt::Display>(result: Result<T, E>, what: &'static str) {
    if let Err(e) = result {
        tracing::warn!(error = %e, "{what}");
    }
}
