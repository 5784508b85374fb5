//! What team owners see of backups. The snapshots hold the whole installation, so what an owner
//! learns is only when backups ran and whether they were proven: no names, sizes or other teams'
//! figures (the runs' details are for operators).

use app::{
    api::{DataSafetyApi, RequestParts},
    error::AppError,
    model::BackupOverview,
};

use super::Service;
use crate::{
    db::backup::{recent_runs, RunKind},
    policy::Action,
};

#[async_trait::async_trait]
impl DataSafetyApi for Service {
    async fn backup_status(&self, req: &RequestParts) -> Result<BackupOverview, AppError> {
        self.actor_for(req, Action::TeamData).await?;
        let snapshots = recent_runs(&self.db, RunKind::Snapshot, true, 1).await?;
        let drills = recent_runs(&self.db, RunKind::Drill, false, 1).await?;
        let verified = recent_runs(&self.db, RunKind::Drill, true, 1).await?;
        let mut restore_points = match &self.backups {
            Some(backups) => backups.list().await.map_err(|e| {
                tracing::error!(error = %e, "the snapshots could not be listed");
                AppError::internal()
            })?,
            None => Vec::new(),
        };
        restore_points.reverse();
        Ok(BackupOverview {
            last_backup_at: snapshots.first().map(|run| run.finished_at),
            last_verified_at: verified.first().map(|run| run.finished_at),
            last_drill_passed: drills.first().map(|run| run.passed),
            last_restore_ms: verified.first().map(|run| run.finished_at - run.started_at),
            restore_points: restore_points.into_iter().map(|s| s.taken_at).collect(),
        })
    }
}
