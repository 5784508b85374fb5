//! Data safety, as team owners see it: the installation's backups (only when they ran and whether
//! they were proven, since a snapshot holds every team) and the team's own exports, to a download
//! or to the team's own bucket.

use app::{
    api::{DataSafetyApi, RequestParts},
    error::{AppError, ErrorCode},
    model::{parse, BackupOverview, ExportDestination, TeamBucket, TeamBucketInput, TeamExport, TeamExportInput},
};
use base64::{engine::general_purpose::STANDARD, Engine};

use super::Service;
use crate::{
    db::{
        audit,
        backup::{recent_runs, RunKind},
        team_export as exports,
    },
    export::{self, ssrf, Target},
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
            Some(backups) => {
                backups.list().await.map_err(|e| crate::error::internal("the snapshots could not be listed", e))?
            }
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

    async fn export_team(&self, req: &RequestParts, input: TeamExportInput) -> Result<TeamExport, AppError> {
        let input = parse(input)?;
        if let Some(message) = input.lock_error() {
            return Err(AppError::field("passphrase", message));
        }
        let (request, actor) = self.actor_for(req, Action::TeamData).await?;
        let exporter = self.exporter.clone().ok_or_else(AppError::internal)?;
        let lock = export::lock(&input.passphrase, &input.recipient)
            .ok_or_else(|| AppError::field("recipient", "This is not an age public key."))?;
        let target = match input.destination {
            ExportDestination::Download => Target::Download,
            ExportDestination::Bucket => {
                let bucket = exporter
                    .bucket(&export::ExportScope::of(&actor))
                    .await
                    .map_err(|e| crate::error::internal("a team's bucket secret does not open", e))?;
                let (settings, prefix) = bucket.ok_or_else(|| {
                    AppError::new(ErrorCode::Conflict, "Set the team's bucket before exporting to it.")
                })?;
                Target::Bucket(settings, prefix)
            }
        };
        if exports::running(&self.db, &actor).await? {
            return Err(AppError::new(ErrorCode::Conflict, "An export of this team is already running."));
        }
        let id = exports::start(&self.db, &actor, actor.user_id(), input.destination, self.now()).await?;
        let detail = format!("export {id} to {}", input.destination.as_str());
        self.audit(&request, audit::Event::TeamExported, Some(&actor), detail).await;
        tokio::spawn(exporter.run(export::ExportScope::of(&actor), id.clone(), lock, target));
        exports::find(&self.db, &actor, &id).await?.ok_or_else(AppError::internal)
    }

    async fn team_exports(&self, req: &RequestParts) -> Result<Vec<TeamExport>, AppError> {
        let (_, actor) = self.actor_for(req, Action::TeamData).await?;
        Ok(exports::list(&self.db, &actor, 20).await?)
    }

    async fn set_export_bucket(&self, req: &RequestParts, input: TeamBucketInput) -> Result<TeamBucket, AppError> {
        let input = parse(input)?.into_inner();
        if let Some(message) = input.schedule_error() {
            return Err(AppError::field("schedule_recipient", message));
        }
        let (_, actor) = self.actor_for(req, Action::TeamData).await?;
        let allow_private = self.exporter.as_ref().is_some_and(|e| e.allow_private());
        ssrf::check_endpoint(&input.endpoint, allow_private)
            .await
            .map_err(|e| AppError::field("endpoint", format!("Moth does not connect there: {e}.")))?;
        let sealed = self.files.keys.seal(input.secret_access_key.as_bytes());
        let stored = exports::StoredBucket {
            endpoint: input.endpoint,
            region: input.region,
            bucket: input.bucket,
            prefix: input.prefix,
            access_key_id: input.access_key_id,
            secret: STANDARD.encode(&sealed.bytes),
            key_id: sealed.key_id,
            wrapped_key: sealed.wrapped_key,
            path_style: input.path_style,
            schedule: input.schedule,
            schedule_recipient: input.schedule_recipient,
        };
        exports::save_bucket(&self.db, &actor, &stored, self.now()).await?;
        Ok(shown(stored))
    }

    async fn export_bucket(&self, req: &RequestParts) -> Result<Option<TeamBucket>, AppError> {
        let (_, actor) = self.actor_for(req, Action::TeamData).await?;
        Ok(exports::bucket(&self.db, &actor).await?.map(shown))
    }
}

fn shown(stored: exports::StoredBucket) -> TeamBucket {
    TeamBucket {
        endpoint: stored.endpoint,
        region: stored.region,
        bucket: stored.bucket,
        prefix: stored.prefix,
        access_key_id: stored.access_key_id,
        path_style: stored.path_style,
        schedule: stored.schedule,
        schedule_recipient: stored.schedule_recipient,
    }
}

impl Service {
    /// When the continuous replica was last shipped whole (Unix ms), for `/metrics`.
    pub fn replica_shipped_at(&self) -> Option<i64> {
        self.backups.as_ref()?.replica_shipped_at()
    }

    /// For `/readyz`: `None` without continuous replication; else whether the replica was shipped
    /// whole in the last 30 seconds (it is every five).
    pub fn replica_check(&self, now_ms: i64) -> Option<Result<(), String>> {
        let backups = self.backups.as_ref().filter(|b| b.replicates())?;
        Some(match backups.replica_shipped_at() {
            Some(at) if now_ms - at <= 30_000 => Ok(()),
            Some(_) => Err("lagging".into()),
            None => Err("not shipped yet".into()),
        })
    }

    /// The archive of a finished download export of the actor's team (OWNER), for the download route.
    pub async fn team_export_file(
        &self,
        req: &RequestParts,
        id: &str,
    ) -> Result<crate::files::store::ObjectReader, AppError> {
        let (_, actor) = self.actor_for(req, Action::TeamData).await?;
        let exporter = self.exporter.as_ref().ok_or_else(AppError::internal)?;
        let found = exports::find(&self.db, &actor, id).await?.ok_or_else(AppError::not_found)?;
        if found.destination != ExportDestination::Download || found.status != app::model::ExportStatus::Done {
            return Err(AppError::not_found());
        }
        let expired = found.finished_at.is_none_or(|at| self.now() - at > crate::export::DOWNLOAD_TTL_MS);
        match exporter.archive(&found.id).await {
            Some(archive) if !expired => Ok(archive),
            _ => Err(AppError::new(ErrorCode::NotFound, "This export has expired: start a new one.")),
        }
    }
}
