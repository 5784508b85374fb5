//! Creates, edits and deletes of issues, and the history they write.

use app::model::{
    ActivityKind, Flag, IssueFields, IssueId, IssueVisibility, OutboxKind, ProjectId, StatusId, StatusRef, TeamId,
    UserId,
};
use sqlx::AnyConnection;
use uuid::Uuid;

use super::{StoredIssue, Visible};
use crate::{
    actor::Actor,
    db::{
        outbox::{self, Activity},
        scope::Statement,
        Backend, Db, DbError, NewRowKey, TeamScope,
    },
    markdown::to_safe_html,
};

pub async fn status(
    db: &Db,
    actor: &impl TeamScope,
    project_id: ProjectId,
    id: StatusId,
) -> Result<Option<StatusRef>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, name, category FROM project_statuses WHERE team_id = $1 AND project_id = $2 AND id = $3",
    )
    .bind(actor.team_id())
    .bind(project_id)
    .bind(id)
    .fetch_optional(db.pool())
    .await?)
}

/// The first status of the project's workflow, where new issues start.
async fn first_status(conn: &mut AnyConnection, actor: &Actor, project_id: ProjectId) -> Result<StatusId, DbError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM project_statuses WHERE team_id = $1 AND project_id = $2 ORDER BY position, name LIMIT 1",
    )
    .bind(actor.team_id())
    .bind(project_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// Whether every user is a non-guest member of the project (or an owner or admin of the team).
pub async fn all_assignable(db: &Db, actor: &Actor, project_id: ProjectId, users: &[UserId]) -> Result<bool, DbError> {
    for user in users {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM memberships m WHERE m.team_id = $1 AND m.user_id = $3 AND m.role <> 'GUEST' \
             AND (m.role IN ('OWNER', 'ADMIN') OR EXISTS (SELECT 1 FROM project_members pm \
             WHERE pm.team_id = $1 AND pm.project_id = $2 AND pm.user_id = $3))",
        )
        .bind(actor.team_id())
        .bind(project_id)
        .bind(user)
        .fetch_one(db.pool())
        .await?;
        if count == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn replace_tags_and_assignees(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: IssueId,
    fields: &IssueFields,
) -> Result<(), DbError> {
    let team = actor.team_id();
    let assignees: Vec<String> = fields.assignees.iter().map(|user| user.0.to_string()).collect();
    let children = [
        (
            "DELETE FROM issue_tags WHERE team_id = ",
            "INSERT INTO issue_tags (team_id, issue_id, tag) VALUES ",
            fields.tags.clone(),
        ),
        (
            "DELETE FROM issue_assignees WHERE team_id = ",
            "INSERT INTO issue_assignees (team_id, issue_id, user_id) VALUES ",
            assignees,
        ),
    ];
    for (delete, insert, values) in children {
        let mut s = Statement::new(delete);
        s.bind(team).push(" AND issue_id = ").bind(id);
        s.query().execute(&mut *conn).await?;
        if values.is_empty() {
            continue;
        }
        // One statement for all of an issue's tags (or assignees).
        let mut s = Statement::new(insert);
        for (n, value) in values.into_iter().enumerate() {
            s.push(if n == 0 { "(" } else { ", (" }).bind(team).push(", ").bind(id).push(", ").bind(value).push(")");
        }
        s.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Files a new issue in the project with the next number and the workflow's first status. On `SQLite`
/// the write joins the group commit (see [`crate::db::group_commit`]): it is acknowledged once the
/// transaction holding it and the creates queued with it is durable.
pub async fn create(
    db: &Db,
    actor: &Actor,
    project_id: ProjectId,
    fields: &IssueFields,
    now_ms: i64,
) -> Result<IssueId, DbError> {
    let mut new = NewIssue { actor: *actor, project_id, fields: fields.clone(), now_ms, number: None };
    if let Some(group) = db.group_commit() {
        let id = group.create_issue(new).await?;
        db.ring_outbox();
        return Ok(id);
    }
    // On PostgreSQL the number is taken in a statement of its own: the project's row stays locked
    // until its transaction ends, and taken inside the create it held every other create of the
    // project waiting for the whole insert (a convoy of up to 100 ms at 16 writers). The price is
    // a number skipped when the create then fails, which nothing reads as an error.
    new.number = Some(take_number(&mut *db.pool().acquire().await?, actor.team_id(), project_id).await?);
    let mut tx = db.begin_write().await?;
    let id = insert_new(&mut tx, &new).await?;
    if db.backend() == Backend::Sqlite {
        index_text(&mut tx, &[id]).await?;
    }
    tx.commit().await?;
    db.ring_outbox();
    Ok(id)
}

/// A create waiting for its transaction.
#[derive(Debug)]
pub(in crate::db) struct NewIssue {
    actor: Actor,
    project_id: ProjectId,
    fields: IssueFields,
    now_ms: i64,
    /// The number, if taken before the create's transaction (see [`create`]); otherwise the
    /// transaction takes it.
    number: Option<i64>,
}

/// Adds new issues to `SQLite`'s full-text index, in one statement (migration 0009: creates are indexed
/// by the group commit, edits and deletes by triggers). The last statement of its transaction, so
/// that FTS5 writes one segment for the whole batch.
pub(in crate::db) async fn index_text(conn: &mut AnyConnection, ids: &[IssueId]) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut s = Statement::new(
        "INSERT INTO issue_text (rowid, title, description, search_public, search_internal) \
         SELECT search_key, title, description, search_public, search_internal FROM issues WHERE id IN (",
    );
    s.bind_list(ids.iter().copied()).push(")");
    s.query().execute(&mut *conn).await?;
    Ok(())
}

/// Indexes the issues `SQLite`'s full-text index is missing, answering how many: those that an
/// instance of a release before migration 0036 created during a rolling upgrade (it indexed them by
/// their rowid, which no team's range holds). A count first, so that a complete index costs a range
/// count and no write lock. The sweeper runs it.
pub async fn index_missing_text(db: &Db) -> Result<u64, DbError> {
    if db.backend() != Backend::Sqlite {
        return Ok(0);
    }
    let count =
        "SELECT (SELECT count(*) FROM issues) - (SELECT count(*) FROM issue_text_docsize WHERE id >= 4294967296)";
    let missing: i64 = sqlx::query_scalar(count).fetch_one(db.pool()).await?;
    if missing <= 0 {
        return Ok(0);
    }
    let mut tx = db.begin_write().await?;
    let indexed = sqlx::query(
        "INSERT INTO issue_text (rowid, title, description, search_public, search_internal) \
         SELECT search_key, title, description, search_public, search_internal FROM issues i \
         WHERE i.search_key IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM issue_text_docsize d WHERE d.id = i.search_key)",
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(indexed)
}

/// The project's next issue number, counted on.
async fn take_number(conn: &mut AnyConnection, team: TeamId, project_id: ProjectId) -> Result<i64, DbError> {
    let (number,): (i64,) = sqlx::query_as(
        "UPDATE projects SET next_issue_number = next_issue_number + 1 WHERE team_id = $1 AND id = $2 \
         RETURNING next_issue_number - 1",
    )
    .bind(team)
    .bind(project_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(number)
}

/// The statements of one create, inside the caller's transaction.
pub(in crate::db) async fn insert_new(conn: &mut AnyConnection, new: &NewIssue) -> Result<IssueId, DbError> {
    let NewIssue { actor, project_id, fields, now_ms, number } = new;
    // Time-ordered (UUIDv7): each new key lands at the right edge of the indexes keyed by issue id
    // (the issues' keys, tags, assignees) instead of on a random page, so a create dirties a few
    // pages rather than one per index, which is what made creates slow past 100,000 issues.
    // The 74 random bits stay; the creation time the key reveals is shown with the issue anyway.
    let id = IssueId(Uuid::now_v7());
    let team = actor.team_id();
    let number = match number {
        Some(number) => *number,
        None => take_number(conn, team, *project_id).await?,
    };
    let status = first_status(conn, actor, *project_id).await?;
    bind_written(
        sqlx::query(
            "INSERT INTO issues (title, description, kind, severity, priority, visibility, env_browser, env_os, \
             env_device, env_app_version, env_url, due_date, description_html, \
             id, team_id, project_id, number, status_id, reporter_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)",
        ),
        fields,
    )
    .bind(id)
    .bind(team)
    .bind(project_id)
    .bind(number)
    .bind(status)
    .bind(actor.user_id())
    .bind(*now_ms)
    .execute(&mut *conn)
    .await?;
    replace_tags_and_assignees(conn, actor, id, fields).await?;
    let activity = Activity::new(team, id, actor.user_id(), OutboxKind::Activity(ActivityKind::Created));
    outbox::record(conn, &activity, *now_ms).await?;
    Ok(id)
}

/// Binds what an author writes, as `$1` to `$13` of the insert and the update: title, description,
/// kind, severity, priority, visibility, the five environment fields, due date, and the description
/// rendered once here so that pages never render it per view.
fn bind_written<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    fields: &'q IssueFields,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let env = &fields.environment;
    query
        .bind(&fields.title)
        .bind(&fields.description)
        .bind(fields.kind)
        .bind(fields.severity)
        .bind(fields.priority)
        .bind(fields.visibility)
        .bind(&env.browser)
        .bind(&env.os)
        .bind(&env.device)
        .bind(&env.app_version)
        .bind(&env.url)
        .bind(fields.due_date.clone())
        .bind(to_safe_html(&fields.description))
}

/// One field's change, for the history.
pub struct Change {
    pub field: &'static str,
    pub old: String,
    pub new: String,
}

/// An issue's update: its fields, status and time.
macro_rules! update_issue {
    () => {
        "UPDATE issues SET title = $1, description = $2, kind = $3, severity = $4, priority = $5, \
         visibility = $6, env_browser = $7, env_os = $8, env_device = $9, env_app_version = $10, env_url = $11, \
         due_date = $12, description_html = $13, status_id = $14, updated_at = $15 \
         WHERE team_id = $16 AND id = $17 AND deleted_at IS NULL"
    };
}
const UPDATE_ISSUE: &str = update_issue!();
const UPDATE_ISSUE_IF_UNCHANGED: &str = concat!(update_issue!(), " AND updated_at = $18");

/// What an update of an issue writes.
pub struct Update<'a> {
    pub status_id: StatusId,
    pub fields: &'a IssueFields,
    /// The history of what changed.
    pub changes: &'a [Change],
    /// Change the issue only if its `updated_at` is still this (the version its writer read).
    pub unchanged_since: Option<i64>,
}

/// Stores the new fields and status of an issue and the history of what changed, in one transaction.
/// Each history entry records whether the issue was public both before and after the change, which
/// decides whether guests may ever read it ([`Reader::history_of`]).
pub async fn update(
    db: &Db,
    actor: &Actor,
    issue: &Visible<StoredIssue>,
    change: Update<'_>,
    now_ms: i64,
) -> Result<bool, DbError> {
    let Update { status_id, fields, changes, unchanged_since } = change;
    let team = issue.team_id();
    let id = issue.id;
    let public_throughout =
        issue.fields.visibility == IssueVisibility::Public && fields.visibility == IssueVisibility::Public;
    let mut tx = db.begin_write().await?;
    // With `unchanged_since`, only the issue as the caller read it is changed (a compare-and-set on
    // `updated_at`, which every change moves forward): the REST API's `If-Match` holds at the write.
    let statement = if unchanged_since.is_some() { UPDATE_ISSUE_IF_UNCHANGED } else { UPDATE_ISSUE };
    let mut query = bind_written(sqlx::query(statement), fields).bind(status_id).bind(now_ms).bind(team).bind(id);
    if let Some(read_at) = unchanged_since {
        query = query.bind(read_at);
    }
    let done = query.execute(&mut *tx).await?;
    if done.rows_affected() != 1 {
        tx.rollback().await?;
        return Ok(false);
    }
    replace_tags_and_assignees(&mut tx, actor, id, fields).await?;
    for change in changes {
        sqlx::query(
            "INSERT INTO issue_history (id, team_id, issue_id, actor_id, field, old_value, new_value, at, \
             public_throughout) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(NewRowKey)
        .bind(team)
        .bind(id)
        .bind(actor.user_id())
        .bind(change.field)
        .bind(&change.old)
        .bind(&change.new)
        .bind(now_ms)
        .bind(Flag(public_throughout))
        .execute(&mut *tx)
        .await?;
    }
    if !changes.is_empty() {
        let activity = Activity {
            fields: changes.iter().map(|change| change.field).collect(),
            ..Activity::new(team, id, actor.user_id(), OutboxKind::Activity(ActivityKind::Changed))
        };
        outbox::record(&mut tx, &activity, now_ms).await?;
    }
    tx.commit().await?;
    db.ring_outbox();
    Ok(true)
}

/// Records in an issue's history a change that is not to its fields (an attachment added or removed).
/// Guests read it only if the issue is public now, as for every other entry.
pub async fn record_history(
    conn: &mut AnyConnection,
    actor: &Actor,
    issue: &Visible<StoredIssue>,
    change: &Change,
    now_ms: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO issue_history (id, team_id, issue_id, actor_id, field, old_value, new_value, at, \
         public_throughout) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(NewRowKey)
    .bind(issue.team_id())
    .bind(issue.id)
    .bind(actor.user_id())
    .bind(change.field)
    .bind(&change.old)
    .bind(&change.new)
    .bind(now_ms)
    .bind(Flag(issue.fields.visibility == IssueVisibility::Public))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Soft-deletes an issue (its history stays), with its event for webhooks.
pub async fn delete(db: &Db, actor: &Actor, issue: &Visible<StoredIssue>, now_ms: i64) -> Result<bool, DbError> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query("UPDATE issues SET deleted_at = $3 WHERE team_id = $1 AND id = $2 AND deleted_at IS NULL")
        .bind(issue.team_id())
        .bind(issue.id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    let activity = Activity::new(issue.team_id(), issue.id, actor.user_id(), OutboxKind::Deleted);
    outbox::record(&mut tx, &activity, now_ms).await?;
    tx.commit().await?;
    db.ring_outbox();
    Ok(true)
}

/// Renders the Markdown of rows written before it was rendered at write time (migration 0007), in
/// batches; answers how many rows it rendered. Run at start, so an upgrade keeps every row.
pub async fn render_missing(db: &Db) -> Result<u64, DbError> {
    let mut rendered = 0;
    for (select, update) in [
        (
            "SELECT team_id, id, description FROM issues WHERE description_html IS NULL LIMIT 500",
            "UPDATE issues SET description_html = $3 WHERE team_id = $1 AND id = $2",
        ),
        (
            "SELECT team_id, id, body FROM comments WHERE body_html IS NULL LIMIT 500",
            "UPDATE comments SET body_html = $3 WHERE team_id = $1 AND id = $2",
        ),
    ] {
        loop {
            let rows: Vec<(String, String, String)> = sqlx::query_as(select).fetch_all(db.pool()).await?;
            if rows.is_empty() {
                break;
            }
            let mut tx = db.begin_write().await?;
            for (team, id, source) in rows {
                sqlx::query(update).bind(team).bind(id).bind(to_safe_html(&source)).execute(&mut *tx).await?;
                rendered += 1;
            }
            tx.commit().await?;
        }
    }
    Ok(rendered)
}
