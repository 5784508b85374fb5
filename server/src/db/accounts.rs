//! Users, teams and memberships: the tenancy itself. Users are global (one account, several teams);
//! a membership gives a user a role in one team. Nothing here is reachable without a user id that the
//! session layer vouched for, except the look-up by email that signing in needs.

use app::model::{Role, SignUpInput, TeamId, TeamMembership, UserId, UserSummary};
use garde::Valid;
use sqlx::{Any, Transaction};
use uuid::Uuid;

use super::{uuid_from_db, Db, DbError};

/// What signing in needs to check a password.
pub struct Credentials {
    pub user_id: UserId,
    pub password_hash: String,
}

/// Inserts a user inside `tx`.
pub async fn insert_user(
    tx: &mut Transaction<'static, Any>,
    email: &str,
    display_name: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<UserId, DbError> {
    let user_id = UserId(Uuid::new_v4());
    sqlx::query("INSERT INTO users (id, email, display_name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(user_id.to_string())
        .bind(email)
        .bind(display_name)
        .bind(password_hash)
        .bind(now_ms)
        .execute(&mut **tx)
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
    let mut tx = db.begin().await?;
    let user_id = insert_user(&mut tx, &input.email, &input.display_name, password_hash, now_ms).await?;
    sqlx::query("INSERT INTO teams (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(team_id.to_string())
        .bind(&input.team_name)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO memberships (team_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
        .bind(team_id.to_string())
        .bind(user_id.to_string())
        .bind(Role::Owner.as_str())
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
    let row: Option<(String, String)> = sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(db.pool())
        .await?;
    row.map(|(id, password_hash)| Ok(Credentials { user_id: UserId(uuid_from_db(&id, "users.id")?), password_hash }))
        .transpose()
}

pub async fn find_user(db: &Db, user_id: UserId) -> Result<Option<UserSummary>, DbError> {
    let row: Option<(String, String)> = sqlx::query_as("SELECT email, display_name FROM users WHERE id = $1")
        .bind(user_id.to_string())
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|(email, display_name)| UserSummary { id: user_id, email, display_name }))
}

/// The user's membership of one team, or `None` if they are not (or no longer) a member.
pub async fn membership(db: &Db, user_id: UserId, team_id: TeamId) -> Result<Option<TeamMembership>, DbError> {
    let since = match db.auth_cache().map(|cache| cache.membership(user_id, team_id)) {
        Some(Ok(cached)) => return Ok(Some(cached)),
        Some(Err(since)) => Some(since),
        None => None,
    };
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT t.name, m.role FROM memberships m JOIN teams t ON t.id = m.team_id \
         WHERE m.user_id = $1 AND m.team_id = $2",
    )
    .bind(user_id.to_string())
    .bind(team_id.to_string())
    .fetch_optional(db.pool())
    .await?;
    let Some((name, role)) = row else { return Ok(None) };
    let membership =
        TeamMembership { id: team_id, name, role: Role::parse(&role).ok_or(DbError::Corrupt("memberships.role"))? };
    if let (Some(cache), Some(since)) = (db.auth_cache(), since) {
        cache.fill_membership(since, user_id, &membership);
    }
    Ok(Some(membership))
}

/// Every team the user belongs to, oldest membership first.
pub async fn memberships(db: &Db, user_id: UserId) -> Result<Vec<TeamMembership>, DbError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT t.id, t.name, m.role FROM memberships m JOIN teams t ON t.id = m.team_id \
         WHERE m.user_id = $1 ORDER BY m.joined_at, t.name",
    )
    .bind(user_id.to_string())
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|(id, name, role)| {
            Ok(TeamMembership {
                id: TeamId(uuid_from_db(&id, "teams.id")?),
                name,
                role: Role::parse(&role).ok_or(DbError::Corrupt("memberships.role"))?,
            })
        })
        .collect()
}
