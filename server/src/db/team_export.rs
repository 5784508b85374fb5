//! What a team export reads (every row of one team, and nothing of another) and the records of
//! exports and of the team's own bucket.
//!
//! The rows are read generically: every table of the schema with a `team_id` column, filtered by the
//! scope's team (from the session, never from input), so that a table added later is exported
//! without anyone remembering to. Columns that hold secrets or Moth's internals (token hashes,
//! wrapped keys, storage keys) are left out. Table names come from the database's catalogue.

use app::model::{ExportDestination, ExportStatus, TeamExport, TeamId, UserId};
use serde_json::Value;
use sqlx::{any::AnyRow, Column, Row};
use tokio::io::AsyncWriteExt;
use tokio_stream::StreamExt;

use super::{Backend, Db, DbError, TeamScope};

/// Columns never exported: secrets, keys into Moth's own storage, and the search's copies of text
/// exported in its own rows (tags, comments).
const WITHHELD: [&str; 8] = [
    "token_hash",
    "wrapped_key",
    "key_id",
    "storage_key",
    "password_hash",
    "secret",
    "search_public",
    "search_internal",
];

/// The tables that hold team rows, by name.
pub async fn team_tables(db: &Db) -> Result<Vec<String>, DbError> {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT m.name FROM sqlite_master m WHERE m.type = 'table' \
             AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'team_id') ORDER BY m.name"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND column_name = 'team_id' ORDER BY table_name"
        }
    };
    Ok(sqlx::query_scalar(sql).fetch_all(db.pool()).await?)
}

/// Writes the team's rows of `table` to `out` as a JSON array of objects; answers how many.
pub async fn write_rows(
    db: &Db,
    scope: &impl TeamScope,
    table: &str,
    out: &mut (impl tokio::io::AsyncWrite + Unpin),
) -> Result<u64, ExportIoError> {
    let sql = format!("SELECT * FROM \"{}\" WHERE team_id = $1", table.replace('"', "\"\""));
    let mut rows = sqlx::query(&sql).bind(scope.team_id()).fetch(db.pool());
    let mut count = 0_u64;
    out.write_all(b"[").await?;
    while let Some(row) = rows.next().await {
        let object = row_object(&row.map_err(DbError::from)?);
        out.write_all(if count == 0 { b"\n" } else { b",\n" }).await?;
        out.write_all(&serde_json::to_vec(&object).map_err(std::io::Error::other)?).await?;
        count += 1;
    }
    out.write_all(b"\n]\n").await?;
    Ok(count)
}

#[derive(Debug, thiserror::Error)]
pub enum ExportIoError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A row as a JSON object, each value decoded as the type the database gave it.
fn row_object(row: &AnyRow) -> serde_json::Map<String, Value> {
    let mut object = serde_json::Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        if WITHHELD.contains(&column.name()) {
            continue;
        }
        object.insert(column.name().to_owned(), value(row, i));
    }
    object
}

fn value(row: &AnyRow, i: usize) -> Value {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    Value::Null
}

/// The team itself and its members' public profiles (no password hashes, no second factors).
pub async fn team_and_members(db: &Db, scope: &impl TeamScope) -> Result<(Value, Vec<Value>), DbError> {
    let team = sqlx::query("SELECT id, name, created_at FROM teams WHERE id = $1")
        .bind(scope.team_id())
        .fetch_one(db.pool())
        .await?;
    let members = sqlx::query(
        "SELECT u.id, u.email, u.display_name, m.role, m.joined_at FROM memberships m \
         JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY u.email",
    )
    .bind(scope.team_id())
    .fetch_all(db.pool())
    .await?;
    Ok((Value::Object(row_object(&team)), members.iter().map(|m| Value::Object(row_object(m))).collect()))
}

/// One line of the team's `issues.csv`.
#[derive(sqlx::FromRow)]
pub struct CsvIssue {
    pub project_key: String,
    pub number: i64,
    pub title: String,
    pub kind: String,
    pub severity: String,
    pub priority: String,
    pub status: String,
    pub visibility: String,
    pub reporter: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub description: String,
}

pub async fn csv_issues(db: &Db, scope: &impl TeamScope) -> Result<Vec<CsvIssue>, DbError> {
    Ok(sqlx::query_as(
        "SELECT p.key AS project_key, i.number, i.title, i.kind, i.severity, i.priority, s.name AS status, \
         i.visibility, u.display_name AS reporter, i.created_at, i.updated_at, i.description \
         FROM issues i JOIN projects p ON p.team_id = i.team_id AND p.id = i.project_id \
         JOIN project_statuses s ON s.team_id = i.team_id AND s.id = i.status_id \
         JOIN users u ON u.id = i.reporter_id \
         WHERE i.team_id = $1 AND i.deleted_at IS NULL ORDER BY p.key, i.number",
    )
    .bind(scope.team_id())
    .fetch_all(db.pool())
    .await?)
}

/// A stored file of the team, with what it takes to open it.
#[derive(sqlx::FromRow)]
pub struct TeamFile {
    pub id: String,
    pub name: String,
    pub storage_key: String,
    pub key_id: String,
    pub wrapped_key: String,
}

pub async fn files(db: &Db, scope: &impl TeamScope) -> Result<Vec<TeamFile>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, name, storage_key, key_id, wrapped_key FROM attachments \
         WHERE team_id = $1 AND deleted_at IS NULL ORDER BY created_at, id",
    )
    .bind(scope.team_id())
    .fetch_all(db.pool())
    .await?)
}

// ---- the exports' records ----

pub async fn start(
    db: &Db,
    scope: &impl TeamScope,
    requested_by: UserId,
    destination: ExportDestination,
    now: i64,
) -> Result<String, DbError> {
    let id = uuid::Uuid::new_v4().to_string();
    sqlx::query(
        "INSERT INTO team_exports (id, team_id, requested_by, destination, status, progress, detail, bytes, created_at, \
         runner) VALUES ($1, $2, $3, $4, 'running', 0, 'waiting', 0, $5, $6)",
    )
    .bind(&id)
    .bind(scope.team_id())
    .bind(requested_by)
    .bind(destination.as_str())
    .bind(now)
    .bind(db.instance_id())
    .execute(db.pool())
    .await?;
    Ok(id)
}

pub async fn set_progress(db: &Db, team: TeamId, id: &str, progress: i64, detail: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE team_exports SET progress = $3, detail = $4 WHERE team_id = $1 AND id = $2")
        .bind(team)
        .bind(id)
        .bind(progress.clamp(0, 100))
        .bind(detail.chars().take(500).collect::<String>())
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn finish(
    db: &Db,
    team: TeamId,
    id: &str,
    status: ExportStatus,
    detail: &str,
    bytes: i64,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE team_exports SET status = $3, progress = CASE WHEN $3 = 'done' THEN 100 ELSE progress END, \
         detail = $4, bytes = $5, finished_at = $6 WHERE team_id = $1 AND id = $2",
    )
    .bind(team)
    .bind(id)
    .bind(status.as_str())
    .bind(detail.chars().take(500).collect::<String>())
    .bind(bytes)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Exports whose instance stopped never finish: those of instances whose lease has expired (or that
/// name none, from before leases) are marked failed, at each start and by the cluster's sweeper.
pub async fn fail_interrupted(db: &Db, now: i64) -> Result<u64, DbError> {
    let db_now = super::leases::now_ms(db).await?;
    let done = sqlx::query(
        "UPDATE team_exports SET status = 'failed', detail = 'interrupted: the server running it stopped', \
         finished_at = $1 WHERE status = 'running' AND (runner IS NULL OR NOT EXISTS (SELECT 1 FROM leases l \
         WHERE l.name = 'instance:' || team_exports.runner AND l.expires_at > $2))",
    )
    .bind(now)
    .bind(db_now)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

pub async fn list(db: &Db, scope: &impl TeamScope, limit: i64) -> Result<Vec<TeamExport>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, destination, status, progress, detail, bytes, created_at, finished_at FROM team_exports \
         WHERE team_id = $1 ORDER BY created_at DESC, id LIMIT $2",
    )
    .bind(scope.team_id())
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

pub async fn find(db: &Db, scope: &impl TeamScope, id: &str) -> Result<Option<TeamExport>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, destination, status, progress, detail, bytes, created_at, finished_at FROM team_exports \
         WHERE team_id = $1 AND id = $2",
    )
    .bind(scope.team_id())
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// The downloadable exports that finished between `from` and `until` (Unix ms), across teams: for
/// the sweeper, which removes their archives.
pub async fn finished_downloads(db: &Db, from: i64, until: i64) -> Result<Vec<String>, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM team_exports WHERE destination = 'download' AND status = 'done' \
         AND finished_at >= $1 AND finished_at < $2",
    )
    .bind(from)
    .bind(until)
    .fetch_all(db.pool())
    .await?)
}

/// Whether the team has an export running (one at a time per team).
pub async fn running(db: &Db, scope: &impl TeamScope) -> Result<bool, DbError> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM team_exports WHERE team_id = $1 AND status = 'running'")
        .bind(scope.team_id())
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}

// ---- the team's own bucket ----

/// The team's bucket as stored: the secret key sealed like a stored file.
#[derive(sqlx::FromRow)]
pub struct StoredBucket {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    pub prefix: String,
    pub access_key_id: String,
    pub secret: String,
    pub key_id: String,
    pub wrapped_key: String,
    #[sqlx(try_from = "app::model::Flag")]
    pub path_style: bool,
    pub schedule: app::model::ExportSchedule,
    pub schedule_recipient: String,
}

pub async fn save_bucket(db: &Db, scope: &impl TeamScope, bucket: &StoredBucket, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO team_export_buckets (team_id, endpoint, region, bucket, prefix, access_key_id, secret, key_id, \
         wrapped_key, path_style, updated_at, schedule, schedule_recipient) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (team_id) DO UPDATE SET endpoint = $2, region = $3, bucket = $4, prefix = $5, \
         access_key_id = $6, secret = $7, key_id = $8, wrapped_key = $9, path_style = $10, updated_at = $11, \
         schedule = $12, schedule_recipient = $13",
    )
    .bind(scope.team_id())
    .bind(&bucket.endpoint)
    .bind(&bucket.region)
    .bind(&bucket.bucket)
    .bind(&bucket.prefix)
    .bind(&bucket.access_key_id)
    .bind(&bucket.secret)
    .bind(&bucket.key_id)
    .bind(&bucket.wrapped_key)
    .bind(i64::from(bucket.path_style))
    .bind(now)
    .bind(bucket.schedule)
    .bind(&bucket.schedule_recipient)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn bucket(db: &Db, scope: &impl TeamScope) -> Result<Option<StoredBucket>, DbError> {
    Ok(sqlx::query_as(
        "SELECT endpoint, region, bucket, prefix, access_key_id, secret, key_id, wrapped_key, path_style, schedule, \
         schedule_recipient FROM team_export_buckets WHERE team_id = $1",
    )
    .bind(scope.team_id())
    .fetch_optional(db.pool())
    .await?)
}

/// A team whose scheduled export is due, with its owner (recorded as who asked) and its recipient.
#[derive(sqlx::FromRow)]
pub struct DueSchedule {
    pub team_id: TeamId,
    pub owner_id: UserId,
    pub recipient: String,
}

/// Every team whose schedule is due at `now`: no export to its bucket started within the schedule's
/// interval, and none running. Across teams, for the scheduler only.
pub async fn due_schedules(db: &Db, now: i64) -> Result<Vec<DueSchedule>, DbError> {
    Ok(sqlx::query_as(
        "SELECT b.team_id, m.user_id AS owner_id, b.schedule_recipient AS recipient FROM team_export_buckets b \
         JOIN memberships m ON m.team_id = b.team_id AND m.role = 'OWNER' \
         WHERE b.schedule <> 'off' AND b.schedule_recipient <> '' \
         AND NOT EXISTS (SELECT 1 FROM team_exports e WHERE e.team_id = b.team_id AND (e.status = 'running' \
             OR (e.destination = 'bucket' AND e.created_at > $1 - CASE b.schedule WHEN 'daily' THEN 86400000 \
             ELSE 604800000 END)))",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?)
}
