//! Projects of the actor's team, their members and workflows. Every function takes the [`Actor`] and
//! filters by its team; reads also apply what the actor may read ([`Reader`], derived here from the
//! actor), so that a project the actor may not see is "not found", exactly like one that does not exist.

use app::model::{
    Flag, Member, NewProjectInput, Project, ProjectId, ProjectStatus, StatusCategory, StatusId, UserId, Visibility,
    DEFAULT_WORKFLOW,
};
use garde::Valid;
use uuid::Uuid;

pub use super::scope::{find_published, PublishedProject};
use super::{
    scope::{ReadScope, Statement},
    Db, DbError,
};
use crate::actor::Actor;

/// The projects the actor may read ([`ReadScope::projects`]); the caller appends conditions and order.
fn readable_projects(actor: &Actor) -> Statement {
    let mut s = Statement::new(
        "SELECT p.id, p.key, p.name, p.description, p.visibility, p.published, p.archived, p.created_at \
         FROM projects p WHERE ",
    );
    ReadScope::of(actor).projects(&mut s);
    s
}

/// The workflow of a project, for a caller confined to its team.
pub async fn statuses_in(db: &Db, team: &impl super::TeamScope, id: ProjectId) -> Result<Vec<ProjectStatus>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, name, category, position FROM project_statuses WHERE team_id = $1 AND project_id = $2 \
         ORDER BY position, name",
    )
    .bind(team.team_id())
    .bind(id)
    .fetch_all(db.pool())
    .await?)
}

/// The projects the actor sees, active ones first, by name.
pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<Project>, DbError> {
    let mut s = readable_projects(actor);
    s.push(" ORDER BY p.archived, p.name, p.key");
    Ok(s.query_as().fetch_all(db.pool()).await?)
}

/// At most `limit` of the actor's active projects, where an issue they may read changed last first
/// (then by name).
pub async fn recently_active(db: &Db, actor: &Actor, limit: i64) -> Result<Vec<Project>, DbError> {
    let mut s = readable_projects(actor);
    s.push(
        " AND p.archived = 0 ORDER BY COALESCE((SELECT max(i.updated_at) FROM issues i WHERE i.project_id = p.id AND ",
    );
    ReadScope::of(actor).issues(&mut s);
    s.push("), 0) DESC, p.name LIMIT ").bind(limit);
    Ok(s.query_as().fetch_all(db.pool()).await?)
}

pub async fn find_by_key(db: &Db, actor: &Actor, key: &str) -> Result<Option<Project>, DbError> {
    let mut s = readable_projects(actor);
    s.push(" AND p.key = ").bind(key.to_owned());
    Ok(s.query_as().fetch_optional(db.pool()).await?)
}

pub async fn find(db: &Db, actor: &Actor, id: ProjectId) -> Result<Option<Project>, DbError> {
    let mut s = readable_projects(actor);
    s.push(" AND p.id = ").bind(id);
    Ok(s.query_as().fetch_optional(db.pool()).await?)
}

/// Creates a project with the default workflow, in one transaction.
pub async fn create(db: &Db, actor: &Actor, input: &Valid<NewProjectInput>, now_ms: i64) -> Result<ProjectId, DbError> {
    let id = ProjectId(Uuid::new_v4());
    let team = actor.team_id();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO projects (id, team_id, key, name, description, visibility, published, archived, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, 0, $7, $7)",
    )
    .bind(id)
    .bind(team)
    .bind(&input.key)
    .bind(&input.name)
    .bind(&input.description)
    .bind(input.visibility)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    for (position, (name, category)) in (0_i64..).zip(DEFAULT_WORKFLOW) {
        sqlx::query(
            "INSERT INTO project_statuses (id, team_id, project_id, name, category, position) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(StatusId(Uuid::new_v4()))
        .bind(team)
        .bind(id)
        .bind(name)
        .bind(category)
        .bind(position)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

pub struct ProjectChanges<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub visibility: Visibility,
    pub published: bool,
}

/// Changes a project's settings; false if the team has no such project.
pub async fn update(
    db: &Db,
    actor: &Actor,
    id: ProjectId,
    changes: &ProjectChanges<'_>,
    now_ms: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE projects SET name = $3, description = $4, visibility = $5, published = $6, updated_at = $7 \
         WHERE team_id = $1 AND id = $2",
    )
    .bind(actor.team_id())
    .bind(id)
    .bind(changes.name)
    .bind(changes.description)
    .bind(changes.visibility)
    .bind(Flag(changes.published))
    .bind(now_ms)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_archived(db: &Db, actor: &Actor, id: ProjectId, archived: bool, now_ms: i64) -> Result<bool, DbError> {
    let done = sqlx::query("UPDATE projects SET archived = $3, updated_at = $4 WHERE team_id = $1 AND id = $2")
        .bind(actor.team_id())
        .bind(id)
        .bind(Flag(archived))
        .bind(now_ms)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn statuses(db: &Db, actor: &Actor, id: ProjectId) -> Result<Vec<ProjectStatus>, DbError> {
    statuses_in(db, actor, id).await
}

pub async fn members(db: &Db, actor: &Actor, id: ProjectId) -> Result<Vec<Member>, DbError> {
    Ok(sqlx::query_as(
        "SELECT u.id AS user_id, u.display_name, u.email, m.role, pm.added_at AS joined_at FROM project_members pm \
         JOIN memberships m ON m.team_id = pm.team_id AND m.user_id = pm.user_id \
         JOIN users u ON u.id = pm.user_id WHERE pm.team_id = $1 AND pm.project_id = $2 ORDER BY u.display_name, u.email",
    )
    .bind(actor.team_id())
    .bind(id)
    .fetch_all(db.pool())
    .await?)
}

/// Adds a member of the actor's team to one of its projects (the foreign key to memberships refuses
/// anyone else).
pub async fn add_member(db: &Db, actor: &Actor, id: ProjectId, user_id: UserId, now_ms: i64) -> Result<(), DbError> {
    sqlx::query("INSERT INTO project_members (team_id, project_id, user_id, added_at) VALUES ($1, $2, $3, $4)")
        .bind(actor.team_id())
        .bind(id)
        .bind(user_id)
        .bind(now_ms)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn remove_member(db: &Db, actor: &Actor, id: ProjectId, user_id: UserId) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM project_members WHERE team_id = $1 AND project_id = $2 AND user_id = $3")
        .bind(actor.team_id())
        .bind(id)
        .bind(user_id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// How many guests belong to the project (a project with guests cannot become private).
pub async fn guest_count(db: &Db, actor: &Actor, id: ProjectId) -> Result<i64, DbError> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM project_members pm JOIN memberships m ON m.team_id = pm.team_id \
         AND m.user_id = pm.user_id WHERE pm.team_id = $1 AND pm.project_id = $2 AND m.role = 'GUEST'",
    )
    .bind(actor.team_id())
    .bind(id)
    .fetch_one(db.pool())
    .await?;
    Ok(count)
}

/// The project of a status of the actor's team, if any.
pub async fn status_project(db: &Db, actor: &Actor, status: StatusId) -> Result<Option<ProjectId>, DbError> {
    Ok(sqlx::query_scalar("SELECT project_id FROM project_statuses WHERE team_id = $1 AND id = $2")
        .bind(actor.team_id())
        .bind(status)
        .fetch_optional(db.pool())
        .await?)
}

/// Appends a status to a project's workflow.
pub async fn add_status(
    db: &Db,
    actor: &Actor,
    project: ProjectId,
    name: &str,
    category: StatusCategory,
) -> Result<StatusId, DbError> {
    let id = StatusId(Uuid::new_v4());
    sqlx::query(
        "INSERT INTO project_statuses (id, team_id, project_id, name, category, position) \
         SELECT $1, $2, $3, $4, $5, COALESCE(MAX(position) + 1, 0) FROM project_statuses WHERE team_id = $2 AND project_id = $3",
    )
    .bind(id)
    .bind(actor.team_id())
    .bind(project)
    .bind(name)
    .bind(category)
    .execute(db.pool())
    .await?;
    Ok(id)
}

/// Renames a status and stores the workflow's order (`order` lists every status id, first to last).
pub async fn edit_workflow(
    db: &Db,
    actor: &Actor,
    project: ProjectId,
    renamed: (StatusId, &str),
    order: &[StatusId],
) -> Result<(), DbError> {
    let team = actor.team_id();
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE project_statuses SET name = $4 WHERE team_id = $1 AND project_id = $2 AND id = $3")
        .bind(team)
        .bind(project)
        .bind(renamed.0)
        .bind(renamed.1)
        .execute(&mut *tx)
        .await?;
    for (position, id) in (0_i64..).zip(order) {
        sqlx::query("UPDATE project_statuses SET position = $4 WHERE team_id = $1 AND project_id = $2 AND id = $3")
            .bind(team)
            .bind(project)
            .bind(id)
            .bind(position)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
