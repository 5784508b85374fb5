//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// Data safety: what the team's owner sees of backups, and the team's exports.
    pub trait DataSafetyApi {
        /// When the team's data was last backed up and last proven restorable, and the restore points (OWNER).
        #[server(endpoint = "backup_status")]
        fn backup_status() -> BackupOverview;

        /// Starts an export of all of the team's data, encrypted with a passphrase or to an age recipient,
        /// to download or to the team's bucket (OWNER). It runs on; `team_exports` shows its progress.
        #[server(endpoint = "export_team")]
        fn export_team(input: TeamExportInput) -> TeamExport;

        /// The team's exports, newest first, with the progress of a running one (OWNER).
        #[server(endpoint = "team_exports")]
        fn team_exports() -> Vec<TeamExport>;

        /// Sets the team's own S3-compatible bucket for exports (OWNER).
        #[server(endpoint = "set_export_bucket")]
        fn set_export_bucket(input: TeamBucketInput) -> TeamBucket;

        /// The team's bucket for exports, without its secret (OWNER).
        #[server(endpoint = "export_bucket")]
        fn export_bucket() -> Option<TeamBucket>;
    }
}
