//! Saved views of a project's list. Every function takes the [`Actor`] and a project the caller has
//! already found readable by it; the rule of who sees which view is `policy::may_see_view`, applied in
//! the statement (with the actor's values) and again on each row read.

use app::model::{Flag, ProjectId, SavedView, UserId, ViewFilter, ViewId, VIEWS_PER_PERSON};
use uuid::Uuid;

use super::{scope::Statement, Db, DbError};
use crate::{actor::Actor, policy};

/// A view as stored, before the reader's rights are worked out.
#[derive(sqlx::FromRow)]
pub struct StoredView {
    pub id: ViewId,
    pub project_id: ProjectId,
    pub owner_id: UserId,
    pub owner: String,
    pub name: String,
    pub filter_json: String,
    #[sqlx(try_from = "Flag")]
    pub shared: bool,
}

/// Why a view was not saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("the name is taken")]
    NameTaken,
    #[error("too many views")]
    TooMany,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The views the actor sees, as the start of a statement: the team's, and of those their own or, unless
/// they are a guest, the shared ones (`policy::may_see_view`, with the actor's values).
fn visible(actor: &Actor) -> Statement {
    let mut s = Statement::new(
        "SELECT v.id, v.project_id, v.owner_id, u.display_name AS owner, v.name, v.filter_json, v.shared \
         FROM saved_views v JOIN users u ON u.id = v.owner_id WHERE v.team_id = ",
    );
    s.bind(actor.team_id())
        .push(" AND (v.owner_id = ")
        .bind(actor.user_id())
        .push(" OR (v.shared = 1 AND v.shared = ")
        .bind(Flag(policy::may(actor, policy::Action::ShareViews)))
        .push("))");
    s
}

/// The most views a project's list offers one reader (their own are at most [`VIEWS_PER_PERSON`]).
const VIEWS_LISTED: i64 = 200;

/// The views of a project the actor sees: their own first, each group by name.
pub async fn of_project(db: &Db, actor: &Actor, project: ProjectId) -> Result<Vec<SavedView>, DbError> {
    let mut s = visible(actor);
    s.push(" AND v.project_id = ")
        .bind(project)
        .push(" ORDER BY v.owner_id <> ")
        .bind(actor.user_id())
        .push(", v.name LIMIT ")
        .bind(VIEWS_LISTED);
    let rows: Vec<StoredView> = s.query_as().fetch_all(db.pool()).await?;
    Ok(rows.into_iter().filter_map(|row| readable(actor, row)).collect())
}

/// A view the actor sees, by id.
pub async fn find(db: &Db, actor: &Actor, id: ViewId) -> Result<Option<StoredView>, DbError> {
    let mut s = visible(actor);
    s.push(" AND v.id = ").bind(id);
    let row: Option<StoredView> = s.query_as().fetch_optional(db.pool()).await?;
    Ok(row.filter(|row| policy::may_see_view(actor, row.owner_id, row.shared)))
}

/// The wire form of a row the actor sees; `None` for one they may not (the statement already
/// left those out) and for a filter that no longer parses.
fn readable(actor: &Actor, row: StoredView) -> Option<SavedView> {
    if !policy::may_see_view(actor, row.owner_id, row.shared) {
        return None;
    }
    let view: ViewFilter = serde_json::from_str(&row.filter_json).ok()?;
    Some(SavedView {
        id: row.id,
        deletable: policy::may_delete_view(actor, row.owner_id, row.shared),
        name: row.name,
        query: view.filter.query(view.sort),
        shared: row.shared,
        owner: row.owner,
    })
}

/// Saves a view of `project` for the actor, unless they already keep [`VIEWS_PER_PERSON`] there or
/// the name is taken (by one of theirs, or by a shared view when sharing).
pub async fn save(
    db: &Db,
    actor: &Actor,
    project: ProjectId,
    name: &str,
    view: &ViewFilter,
    shared: bool,
    now_ms: i64,
) -> Result<ViewId, SaveError> {
    let id = ViewId(Uuid::new_v4());
    let filter_json = serde_json::to_string(view).map_err(DbError::from)?;
    let mut tx = db.begin_write().await?;
    super::members::lock_for_counting(db, &mut tx, actor).await?;
    let inserted = sqlx::query(
        "INSERT INTO saved_views (id, team_id, project_id, owner_id, name, filter_json, shared, created_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
         WHERE (SELECT COUNT(*) FROM saved_views WHERE project_id = $3 AND owner_id = $4) < $9",
    )
    .bind(id)
    .bind(actor.team_id())
    .bind(project)
    .bind(actor.user_id())
    .bind(name)
    .bind(filter_json)
    .bind(Flag(shared))
    .bind(now_ms)
    .bind(i64::try_from(VIEWS_PER_PERSON).unwrap_or(i64::MAX))
    .execute(&mut *tx)
    .await
    .map_err(DbError::from);
    match inserted {
        Ok(done) if done.rows_affected() == 1 => {
            tx.commit().await?;
            Ok(id)
        }
        Ok(_) => Err(SaveError::TooMany),
        Err(e) if e.is_unique_violation() => Err(SaveError::NameTaken),
        Err(e) => Err(e.into()),
    }
}

/// Deletes a view (the caller checked the actor may); answers whether it was there.
pub async fn delete(db: &Db, actor: &Actor, id: ViewId) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM saved_views WHERE team_id = $1 AND id = $2")
        .bind(actor.team_id())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}
