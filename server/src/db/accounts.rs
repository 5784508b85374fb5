//! Users, teams and memberships: the tenancy itself. Users are global (one account, several teams);
//! a membership gives a user a role in one team. Nothing here is reachable without a user id that the
//! session layer vouched for, except the look-up by email that signing in needs.

use app::model::{Role, SignUpInput, TeamId, TeamMembership, UserId, UserSummary};
use garde::Valid;
use sqlx::AnyConnection;
use uuid::Uuid;

use super::{Db, DbError};

/// What signing in needs to check a password.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: String,
}

/// Inserts a user inside `tx`.
pub async fn insert_user(
    tx: &mut AnyConnection,
    email: &str,
    display_name: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<UserId, DbError> {
    let user_id = UserId(Uuid::new_v4());
    sqlx::query("INSERT INTO users (id, email, display_name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(user_id)
        .bind(email)
        .bind(display_name)
        .bind(password_hash)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    Ok(user_id)
}

/// Creates the user, their team and the OWNER membership in one transaction.
pub async fn create_account(
    db: &Db,
    input: &Valid<SignUpInput>,
    password_hash: &str,
    now_ms: i64,
) -> Result<(UserId, TeamId), DbError> {
    let team_id = TeamId(Uuid::new_v4());
    let mut tx = db.begin_write().await?;
    let user_id = insert_user(&mut tx, &input.email, &input.display_name, password_hash, now_ms).await?;
    sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(team_id)
        .bind(&input.team_name)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO memberships (team_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
        .bind(team_id)
        .bind(user_id)
        .bind(Role::Owner)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((user_id, team_id))
}

/// Whether an account with this (normalised) email exists.
pub async fn email_exists(db: &Db, email: &str) -> Result<bool, DbError> {
    Ok(find_credentials(db, email).await?.is_some())
}

/// The stored password hash of the account with this (normalised) email.
pub async fn find_credentials(db: &Db, email: &str) -> Result<Option<Credentials>, DbError> {
    Ok(sqlx::query_as("SELECT id AS user_id, password_hash FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(db.pool())
        .await?)
}

pub async fn find_user(db: &Db, user_id: UserId) -> Result<Option<UserSummary>, DbError> {
    Ok(sqlx::query_as("SELECT id, email, display_name FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db.pool())
        .await?)
}

/// The user's membership of one team, or `None` if they are not (or no longer) a member.
pub async fn membership(db: &Db, user_id: UserId, team_id: TeamId) -> Result<Option<TeamMembership>, DbError> {
    let since = match db.auth_cache().map(|cache| cache.membership(user_id, team_id)) {
        Some(Ok(cached)) => return Ok(Some(cached)),
        Some(Err(since)) => Some(since),
        None => None,
    };
    let row: Option<TeamMembership> = sqlx::query_as(
        "SELECT t.id, t.name, m.role, t.require_two_factor AS requires_two_factor, \
         t.require_single_sign_on AS requires_single_sign_on \
         FROM memberships m JOIN teams t ON t.id = m.team_id \
         WHERE m.user_id = $1 AND m.team_id = $2",
    )
    .bind(user_id)
    .bind(team_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(membership) = row else { return Ok(None) };
    if let (Some(cache), Some(since)) = (db.auth_cache(), since) {
        cache.fill_membership(since, user_id, &membership);
    }
    Ok(Some(membership))
}

/// Every team the user belongs to, oldest membership first.
pub async fn memberships(db: &Db, user_id: UserId) -> Result<Vec<TeamMembership>, DbError> {
    Ok(sqlx::query_as(
        "SELECT t.id, t.name, m.role, t.require_two_factor AS requires_two_factor, \
         t.require_single_sign_on AS requires_single_sign_on \
         FROM memberships m JOIN teams t ON t.id = m.team_id \
         WHERE m.user_id = $1 ORDER BY m.joined_at, t.name",
    )
    .bind(user_id)
    .fetch_all(db.pool())
    .await?)
}

/// Requires two-factor authentication of the team's members, or stops requiring it; every cached
/// membership is forgotten, since they carry the flag.
pub async fn set_two_factor_requirement(db: &Db, team_id: TeamId, required: bool) -> Result<(), DbError> {
    sqlx::query("UPDATE teams SET require_two_factor = $2 WHERE id = $1")
        .bind(team_id)
        .bind(app::model::Flag(required))
        .execute(db.pool())
        .await?;
    db.memberships_changed();
    Ok(())
}
