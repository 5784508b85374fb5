//! Invitations of the actor's team. Management functions take the [`Actor`] and filter by its team.
//! The one look-up without an actor is [`find_by_token`]: the secret token is itself the capability,
//! and only its SHA-256 is stored.

use app::model::{Invitation, InvitationId, Role, TeamId, UserId};
use sqlx::{Any, Transaction};
use uuid::Uuid;

use super::{uuid_from_db, Db, DbError};
use crate::session::Actor;

type InvitationRow = (String, String, String, String, i64, i64);

fn invitation(row: InvitationRow) -> Result<Invitation, DbError> {
    let (id, email, role, invited_by, created_at, expires_at) = row;
    Ok(Invitation {
        id: InvitationId(uuid_from_db(&id, "invitations.id")?),
        email,
        role: Role::parse(&role).ok_or(DbError::Corrupt("invitations.role"))?,
        invited_by,
        created_at,
        expires_at,
    })
}

macro_rules! select_pending {
    () => {
        "SELECT i.id, i.email, i.role, u.display_name, i.created_at, i.expires_at \
         FROM invitations i JOIN users u ON u.id = i.invited_by \
         WHERE i.team_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > $2"
    };
}

pub struct NewInvitation<'a> {
    pub email: &'a str,
    pub role: Role,
    pub token_hash: &'a str,
    pub now_ms: i64,
    pub expires_at: i64,
}

/// Creates an invitation; pending invitations of the same email to this team are revoked, so that
/// only the newest link works.
pub async fn create(db: &Db, actor: &Actor, new: &NewInvitation<'_>) -> Result<Invitation, DbError> {
    let id = InvitationId(Uuid::new_v4());
    let team = actor.team_id().to_string();
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "UPDATE invitations SET revoked_at = $3 WHERE team_id = $1 AND email = $2 \
         AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(&team)
    .bind(new.email)
    .bind(new.now_ms)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO invitations (id, team_id, email, role, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id.to_string())
    .bind(&team)
    .bind(new.email)
    .bind(new.role.as_str())
    .bind(new.token_hash)
    .bind(actor.user_id().to_string())
    .bind(new.now_ms)
    .bind(new.expires_at)
    .execute(&mut *tx)
    .await?;
    let row: InvitationRow = sqlx::query_as(concat!(select_pending!(), " AND i.id = $3"))
        .bind(&team)
        .bind(new.now_ms)
        .bind(id.to_string())
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    invitation(row)
}

/// Pending (not accepted, revoked or expired) invitations, newest first.
pub async fn pending(db: &Db, actor: &Actor, now_ms: i64) -> Result<Vec<Invitation>, DbError> {
    let rows: Vec<InvitationRow> = sqlx::query_as(concat!(select_pending!(), " ORDER BY i.created_at DESC"))
        .bind(actor.team_id().to_string())
        .bind(now_ms)
        .fetch_all(db.pool())
        .await?;
    rows.into_iter().map(invitation).collect()
}

pub async fn find_pending(
    db: &Db,
    actor: &Actor,
    id: InvitationId,
    now_ms: i64,
) -> Result<Option<Invitation>, DbError> {
    let row: Option<InvitationRow> = sqlx::query_as(concat!(select_pending!(), " AND i.id = $3"))
        .bind(actor.team_id().to_string())
        .bind(now_ms)
        .bind(id.to_string())
        .fetch_optional(db.pool())
        .await?;
    row.map(invitation).transpose()
}

/// Revokes a pending invitation; false if there was none.
pub async fn revoke(db: &Db, actor: &Actor, id: InvitationId, now_ms: i64) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE invitations SET revoked_at = $3 WHERE team_id = $1 AND id = $2 \
         AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(actor.team_id().to_string())
    .bind(id.to_string())
    .bind(now_ms)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An invitation as its link sees it, whatever its state.
pub struct TokenInvitation {
    pub id: InvitationId,
    pub team_id: TeamId,
    pub team_name: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub expires_at: i64,
    pub accepted: bool,
    pub revoked: bool,
}

pub async fn find_by_token(db: &Db, token_hash: &str) -> Result<Option<TokenInvitation>, DbError> {
    type Row = (String, String, String, String, String, String, i64, Option<i64>, Option<i64>);
    let row: Option<Row> = sqlx::query_as(
        "SELECT i.id, i.team_id, t.name, i.email, i.role, u.display_name, i.expires_at, i.accepted_at, i.revoked_at \
         FROM invitations i JOIN teams t ON t.id = i.team_id JOIN users u ON u.id = i.invited_by \
         WHERE i.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?;
    row.map(|(id, team_id, team_name, email, role, invited_by, expires_at, accepted_at, revoked_at)| {
        Ok(TokenInvitation {
            id: InvitationId(uuid_from_db(&id, "invitations.id")?),
            team_id: TeamId(uuid_from_db(&team_id, "invitations.team_id")?),
            team_name,
            email,
            role: Role::parse(&role).ok_or(DbError::Corrupt("invitations.role"))?,
            invited_by,
            expires_at,
            accepted: accepted_at.is_some(),
            revoked: revoked_at.is_some(),
        })
    })
    .transpose()
}

/// Uses the invitation for `user_id` and makes them a member, inside `tx`. The conditional update
/// makes the link single-use even when two people click at once. False if it was no longer usable.
pub async fn accept(
    tx: &mut Transaction<'static, Any>,
    invitation: &TokenInvitation,
    user_id: UserId,
    now_ms: i64,
) -> Result<bool, DbError> {
    let used = sqlx::query(
        "UPDATE invitations SET accepted_at = $3, accepted_by = $2 WHERE id = $1 \
         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
    )
    .bind(invitation.id.to_string())
    .bind(user_id.to_string())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    if used.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("INSERT INTO memberships (team_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
        .bind(invitation.team_id.to_string())
        .bind(user_id.to_string())
        .bind(invitation.role.as_str())
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}
