//! Several instances on one database: which of them does the cluster's scheduled work.
//!
//! Each instance renews two leases (see `db::leases`) every third of `lease_secs`: its own
//! (`instance:<id>`, so that work it started can be told from work whose instance died) and, if it
//! can take it, `chores`. The instance holding `chores` runs the sweeper's cluster-wide round,
//! scheduled backups and drills, and team export schedules; the others skip them. A leader that dies
//! stops renewing, and another takes the lease once it expires: within `lease_secs` plus a third.
//!
//! An instance believes it leads only until its last successful renewal's lease would lapse, measured
//! by its own monotonic clock from *before* it asked, so that an instance cut off from the database
//! stops leading before another can take over.

use std::{
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use crate::db::{leases, Db};

pub struct Leadership {
    db: Db,
    lease: Duration,
    /// Until when this instance may act as the chores' holder (`None`: it does not hold them).
    leads_until: Mutex<Option<Instant>>,
    /// The chores lease's term when this instance last held it (0: never).
    term: AtomicI64,
    metrics: Arc<crate::metrics::Metrics>,
}

impl Leadership {
    pub fn new(db: Db, lease: Duration, metrics: Arc<crate::metrics::Metrics>) -> Self {
        Self { db, lease, leads_until: Mutex::new(None), term: AtomicI64::new(0), metrics }
    }

    /// Whether this instance is to do the cluster's scheduled work now.
    pub fn leads(&self) -> bool {
        self.until().is_some_and(|until| Instant::now() < until)
    }

    fn until(&self) -> Option<Instant> {
        // An `Option<Instant>`: a panic elsewhere cannot leave it half-written.
        *self.leads_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn set_until(&self, until: Option<Instant>) {
        *self.leads_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = until;
    }

    /// Renews this instance's leases once (at start, then from [`Self::run`]).
    pub async fn renew(&self) {
        let asked = Instant::now();
        let id = self.db.instance_id();
        let ttl_ms = i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX);
        if let Err(e) = leases::hold(&self.db, &leases::instance(id), id, ttl_ms).await {
            tracing::warn!(error = %e, "could not renew this instance's lease");
        }
        match leases::hold(&self.db, leases::CHORES, id, ttl_ms).await {
            Ok(Some(term)) => {
                // A tenth of the lease short of what the database granted, counted from before asking.
                self.set_until(Some(asked + self.lease * 9 / 10));
                if self.term.swap(term, Ordering::Relaxed) != term {
                    tracing::info!(term, "this instance now runs the cluster's scheduled work");
                }
            }
            Ok(None) => {
                if self.until().is_some() {
                    tracing::info!("another instance runs the cluster's scheduled work now");
                }
                self.set_until(None);
            }
            // Keep what was granted: it lapses by itself if the database stays away.
            Err(e) => tracing::warn!(error = %e, "could not renew the scheduled work's lease"),
        }
        self.metrics.cluster_leader.set(i64::from(self.leads()));
    }

    /// Renews the leases every third of their length, until dropped.
    pub async fn run(self: Arc<Self>) {
        loop {
            tokio::time::sleep(self.lease / 3).await;
            self.renew().await;
        }
    }

    /// Gives both leases up (a clean stop), so that another instance takes the work at once.
    pub async fn step_down(&self) {
        self.set_until(None);
        let id = self.db.instance_id();
        for name in [leases::CHORES.to_owned(), leases::instance(id)] {
            if let Err(e) = leases::release(&self.db, &name, id).await {
                tracing::warn!(error = %e, lease = %name, "could not give a lease up");
            }
        }
    }
}
