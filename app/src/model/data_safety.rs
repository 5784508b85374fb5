//! Data safety on the wire: what team owners see of the installation's backups, and the team's own
//! exports (to a download or to the team's bucket).

use garde::Validate;
use serde::{Deserialize, Serialize};

use super::Normalize;
use crate::rules;

/// What a team owner sees of the installation's backups (every snapshot holds every team's data):
/// when the data was last backed up, when a backup was last proven restorable by a drill, and the
/// moments it can be brought back to. Times are Unix milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupOverview {
    pub last_backup_at: Option<i64>,
    /// The newest drill that restored a snapshot and found it equal to its manifest.
    pub last_verified_at: Option<i64>,
    /// Whether the newest drill, passed or not, passed.
    pub last_drill_passed: Option<bool>,
    /// How long the newest passing drill took to restore and check (the time a restore takes).
    pub last_restore_ms: Option<i64>,
    /// The snapshots kept, newest first.
    pub restore_points: Vec<i64>,
}

/// Where a team export goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportDestination {
    /// An encrypted file the owner downloads (kept for a day).
    #[default]
    Download,
    /// The team's own S3-compatible bucket.
    Bucket,
}

impl ExportDestination {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportDestination::Download => "download",
            ExportDestination::Bucket => "bucket",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ExportDestination::Download, ExportDestination::Bucket].into_iter().find(|v| v.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportStatus {
    Running,
    Done,
    Failed,
}

impl ExportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Running => "running",
            ExportStatus::Done => "done",
            ExportStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ExportStatus::Running, ExportStatus::Done, ExportStatus::Failed].into_iter().find(|v| v.as_str() == s)
    }
}

/// One export of the team's data, as its history shows it.
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamExport {
    pub id: String,
    pub destination: ExportDestination,
    pub status: ExportStatus,
    /// 0 to 100.
    pub progress: i64,
    /// The step it is at, what it wrote, or why it failed.
    pub detail: String,
    /// The encrypted archive's size.
    pub bytes: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// Starts an export of all of the team's data (OWNER), encrypted with a passphrase or to an age
/// recipient (exactly one of the two).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct TeamExportInput {
    #[garde(skip)]
    pub destination: ExportDestination,
    #[garde(custom(rules::export_passphrase))]
    pub passphrase: String,
    #[garde(custom(rules::age_recipient))]
    pub recipient: String,
}

impl Normalize for TeamExportInput {
    fn normalize(self) -> Self {
        Self { recipient: self.recipient.trim().to_owned(), ..self }
    }
}

impl TeamExportInput {
    /// Exactly one way to open the archive must be given (checked by the server too).
    pub fn lock_error(&self) -> Option<&'static str> {
        match (self.passphrase.is_empty(), self.recipient.is_empty()) {
            (true, true) => Some("Give a passphrase or an age recipient to encrypt the export with."),
            (false, false) => Some("Give a passphrase or an age recipient, not both."),
            _ => None,
        }
    }
}

/// The team's own bucket for exports, as shown (never with its secret key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamBucket {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub prefix: String,
    pub access_key_id: String,
    pub path_style: bool,
    pub schedule: ExportSchedule,
    /// The age recipient scheduled exports are encrypted to.
    pub schedule_recipient: String,
}

/// How often the team's data is exported to its bucket by itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportSchedule {
    #[default]
    Off,
    Daily,
    Weekly,
}

impl ExportSchedule {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportSchedule::Off => "off",
            ExportSchedule::Daily => "daily",
            ExportSchedule::Weekly => "weekly",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [ExportSchedule::Off, ExportSchedule::Daily, ExportSchedule::Weekly].into_iter().find(|v| v.as_str() == s)
    }
}

/// Sets the team's own bucket (OWNER). The secret key is stored sealed and never shown again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct TeamBucketInput {
    #[garde(custom(rules::bucket_endpoint))]
    pub endpoint: String,
    #[garde(custom(rules::bucket_region))]
    pub region: String,
    #[garde(custom(rules::bucket_name))]
    pub bucket: String,
    #[garde(custom(rules::bucket_prefix))]
    pub prefix: String,
    #[garde(custom(rules::access_key))]
    pub access_key_id: String,
    #[garde(custom(rules::access_key))]
    pub secret_access_key: String,
    #[garde(skip)]
    pub path_style: bool,
    /// Export to the bucket daily or weekly, encrypted to `schedule_recipient` (which it then needs).
    #[garde(skip)]
    #[serde(default)]
    pub schedule: ExportSchedule,
    #[garde(custom(rules::age_recipient))]
    #[serde(default)]
    pub schedule_recipient: String,
}

impl TeamBucketInput {
    /// A schedule needs a recipient (checked by the server too).
    pub fn schedule_error(&self) -> Option<&'static str> {
        (self.schedule != ExportSchedule::Off && self.schedule_recipient.is_empty())
            .then_some("Scheduled exports are encrypted to an age public key: give one.")
    }
}

impl Normalize for TeamBucketInput {
    fn normalize(self) -> Self {
        Self {
            endpoint: self.endpoint.trim().trim_end_matches('/').to_owned(),
            region: self.region.trim().to_owned(),
            bucket: self.bucket.trim().to_owned(),
            prefix: self.prefix.trim().to_owned(),
            access_key_id: self.access_key_id.trim().to_owned(),
            schedule_recipient: self.schedule_recipient.trim().to_owned(),
            ..self
        }
    }
}
