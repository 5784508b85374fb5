//! Memberships of the actor's team. Every function takes the [`Actor`] (built only from the session)
//! and filters by its team: there is no way here to reach another team's members.

use app::model::{Member, Role, UserId};

use super::{Db, DbError};
use crate::actor::Actor;

/// The member columns of one team; SQL text is only ever assembled from literals like this one.
macro_rules! select_members {
    () => {
        "SELECT u.id AS user_id, u.display_name, u.email, m.role, m.joined_at \
         FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.team_id = $1"
    };
}

/// Every member of the team, owner first, then by name.
pub async fn list(db: &Db, actor: &Actor) -> Result<Vec<Member>, DbError> {
    let sql = concat!(
        select_members!(),
        " ORDER BY CASE m.role WHEN 'OWNER' THEN 0 WHEN 'ADMIN' THEN 1 WHEN 'NORMAL' THEN 2 ELSE 3 END, \
         u.display_name, u.email"
    );
    Ok(sqlx::query_as(sql).bind(actor.team_id()).fetch_all(db.pool()).await?)
}

/// One member of the team, or `None` (not a member, or no such user: the same to the caller).
pub async fn find(db: &Db, actor: &Actor, user_id: UserId) -> Result<Option<Member>, DbError> {
    let row = sqlx::query_as(concat!(select_members!(), " AND m.user_id = $2"))
        .bind(actor.team_id())
        .bind(user_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row)
}

/// The member with this (normalised) email, if any.
pub async fn find_by_email(db: &Db, actor: &Actor, email: &str) -> Result<Option<Member>, DbError> {
    let row = sqlx::query_as(concat!(select_members!(), " AND u.email = $2"))
        .bind(actor.team_id())
        .bind(email)
        .fetch_optional(db.pool())
        .await?;
    Ok(row)
}

/// Sets a member's role (never OWNER: see [`transfer_ownership`]); false if no such member.
pub async fn set_role(db: &Db, actor: &Actor, user_id: UserId, role: Role) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE memberships SET role = $3 WHERE team_id = $1 AND user_id = $2 AND role <> 'OWNER' AND $3 <> 'OWNER'",
    )
    .bind(actor.team_id())
    .bind(user_id)
    .bind(role)
    .execute(db.pool())
    .await?;
    db.memberships_changed();
    Ok(done.rows_affected() == 1)
}

/// Removes a member other than the owner; false if there was none.
pub async fn remove(db: &Db, actor: &Actor, user_id: UserId) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM memberships WHERE team_id = $1 AND user_id = $2 AND role <> 'OWNER'")
        .bind(actor.team_id())
        .bind(user_id)
        .execute(db.pool())
        .await?;
    db.memberships_changed();
    Ok(done.rows_affected() == 1)
}

/// The actor (the owner) hands ownership to another member and becomes ADMIN, in one transaction so
/// that the team always has exactly one owner. False if the actor is not the owner or the other is not
/// a member.
pub async fn transfer_ownership(db: &Db, actor: &Actor, new_owner: UserId) -> Result<bool, DbError> {
    let team = actor.team_id();
    let mut tx = db.begin_write().await?;
    let demoted =
        sqlx::query("UPDATE memberships SET role = 'ADMIN' WHERE team_id = $1 AND user_id = $2 AND role = 'OWNER'")
            .bind(team)
            .bind(actor.user_id())
            .execute(&mut *tx)
            .await?;
    let promoted = sqlx::query(
        "UPDATE memberships SET role = 'OWNER' WHERE team_id = $1 AND user_id = $2 AND user_id <> $3 \
         AND role IN ('ADMIN', 'NORMAL')",
    )
    .bind(team)
    .bind(new_owner)
    .bind(actor.user_id())
    .execute(&mut *tx)
    .await?;
    if demoted.rows_affected() == 1 && promoted.rows_affected() == 1 {
        tx.commit().await?;
        db.memberships_changed();
        Ok(true)
    } else {
        tx.rollback().await?;
        Ok(false)
    }
}

/// The actor leaves the team (the owner cannot); false if they were not a member or are the owner.
pub async fn leave(db: &Db, actor: &Actor) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM memberships WHERE team_id = $1 AND user_id = $2 AND role <> 'OWNER'")
        .bind(actor.team_id())
        .bind(actor.user_id())
        .execute(db.pool())
        .await?;
    db.memberships_changed();
    Ok(done.rows_affected() == 1)
}

/// Makes one person's concurrent "count, then insert if under the limit" writes take turns on
/// `PostgreSQL`, which runs them side by side, each counting before the others insert: their membership
/// row is locked until the transaction `conn` runs commits. (`SQLite` has one writer at a time, and there the count and the
/// insert are one statement.) Used wherever a per-person limit is counted (saved views, tokens).
pub async fn lock_for_counting(db: &Db, conn: &mut sqlx::AnyConnection, actor: &Actor) -> Result<(), DbError> {
    if db.backend() == super::Backend::Postgres {
        sqlx::query("SELECT user_id FROM memberships WHERE team_id = $1 AND user_id = $2 FOR UPDATE")
            .bind(actor.team_id())
            .bind(actor.user_id())
            .fetch_optional(conn)
            .await?;
    }
    Ok(())
}
