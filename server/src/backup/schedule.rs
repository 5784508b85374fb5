//! The schedule (snapshots, drills) and the continuous replica's shipping.

#[allow(clippy::wildcard_imports)] // the methods of one type, split by task
use super::*;

impl Backups {
    /// The server's schedule: a minute after start and every ten minutes after, a snapshot when the
    /// newest is older than the shortest tier's interval (then retention), and a drill of the newest
    /// when the last drill is older than `drill_every` and the identity is on this machine. With
    /// several instances, only the one leading the cluster runs it (see `cluster`).
    pub async fn run_schedule(
        self: Arc<Self>,
        drill_every: Option<std::time::Duration>,
        leadership: Arc<crate::cluster::Leadership>,
    ) {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if !leadership.leads() {
                continue;
            }
            if let Err(e) = self.scheduled_round(drill_every).await {
                tracing::error!(error = %e, "scheduled backup failed");
            }
        }
    }

    /// One round of the schedule (public so that tests can run it with their own clock).
    pub async fn scheduled_round(&self, drill_every: Option<std::time::Duration>) -> Result<(), BackupError> {
        let now = self.now_ms();
        let interval = i64::try_from(retention::interval(&self.tiers).as_millis()).unwrap_or(i64::MAX);
        let newest = self.list().await?.pop();
        let newest = match newest {
            Some(snapshot) if now - snapshot.taken_at < interval => snapshot,
            _ => {
                let snapshot = self.create().await?;
                let removed = self.prune().await?;
                tracing::info!(snapshot = %snapshot.name, removed, "scheduled snapshot written");
                snapshot
            }
        };
        let Some(drill_every) = drill_every else { return Ok(()) };
        if !self.identity_file.exists() {
            return Ok(());
        }
        let last = db::backup::recent_runs(&self.db, RunKind::Drill, false, 1).await?;
        let every = i64::try_from(drill_every.as_millis()).unwrap_or(i64::MAX);
        if last.first().is_none_or(|run| now - run.finished_at >= every) {
            self.drill(&newest, None).await?;
        }
        Ok(())
    }
}

impl Backups {
    /// Whether continuous replication is configured.
    pub fn replicates(&self) -> bool {
        self.replica.is_some()
    }

    /// When the continuous replica was last shipped whole (Unix ms), for `/metrics`.
    pub fn replica_shipped_at(&self) -> Option<i64> {
        let replica = self.replica.as_ref()?;
        let at = (*replica.last_shipped.lock().ok()?)?;
        Some(unix_millis(at.into()))
    }

    /// Encrypts and sends what Litestream added to the replica since the last time.
    pub async fn ship_replica(&self) -> Result<usize, BackupError> {
        let Some(replica) = &self.replica else { return Ok(0) };
        replica.ship(&self.destinations, &self.recipients, &self.work_dir.join("replica-ship")).await
    }

    /// Runs Litestream and ships its replica every five seconds, until dropped.
    pub async fn run_replica(self: Arc<Self>) {
        let Some(replica) = self.replica.clone() else { return };
        let _litestream = match replica.supervise() {
            Ok(guard) => guard,
            Err(e) => {
                tracing::error!(error = %e, "continuous replication could not start");
                return;
            }
        };
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            if let Err(e) = self.ship_replica().await {
                tracing::warn!(error = %e, "the replica could not be shipped; trying again");
            }
        }
    }

    /// The `SQLite` database as it was at `target.at` (or its newest state), from the replica shipped
    /// to the first destination that has one, into `target.into/moth.db` (a new file), checked.
    pub async fn restore_from_replica(
        &self,
        target: &RestoreTarget,
        identity_file: Option<&Path>,
    ) -> Result<String, BackupError> {
        let database = target.into.join("moth.db");
        if database.exists() {
            return Err(BackupError::Refused(format!("{} exists: a restore never overwrites", database.display())));
        }
        let identities = self.identities(identity_file)?;
        let mut last_error = BackupError::Refused("no destination holds a continuous replica".into());
        for destination in &self.destinations {
            let scratch = self.scratch()?;
            let restored = scratch.0.join("moth.db");
            let at = target.at;
            match replica::restore(&self.litestream, destination, identities.clone(), &scratch.0, at, &restored).await {
                Ok(span) => {
                    if let Ok(mut last) = self.replica_span.lock() {
                        *last = Some(span);
                    }
                    let mut conn = dump::open_sqlite(&restored).await?;
                    let checked = dump::sqlite_integrity(&mut conn).await;
                    sqlx::Connection::close(conn).await?;
                    checked?;
                    std::fs::create_dir_all(&target.into)?;
                    std::fs::copy(&restored, &database)?;
                    let moment = at.map_or_else(|| "its newest state".to_owned(), crate::clock::iso8601);
                    return Ok(format!("the database as at {moment}, from the replica at {}", destination.describe()));
                }
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }
}
