//! Invitations of the actor's team. Management functions take the [`Actor`] and filter by its team.
//! The one look-up without an actor is [`find_by_token`]: the secret token is itself the capability,
//! and only its SHA-256 is stored.

use std::collections::HashMap;

use app::model::{Flag, Invitation, InvitationId, ProjectId, Role, TeamId, UserId, Visibility};
use sqlx::AnyConnection;
use uuid::Uuid;

use super::{scope::Statement, Db, DbError};
use crate::{actor::Actor, policy};

macro_rules! select_pending {
    () => {
        "SELECT i.id, i.email, i.role, u.display_name AS invited_by, i.created_at, i.expires_at \
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
    /// Projects of the actor's team the invitee joins on accepting (checked by the caller).
    pub projects: &'a [ProjectId],
}

/// Creates an invitation; pending invitations of the same email to this team are revoked, so that
/// only the newest link works.
pub async fn create(db: &Db, actor: &Actor, new: &NewInvitation<'_>) -> Result<Invitation, DbError> {
    let id = InvitationId(Uuid::new_v4());
    let team = actor.team_id();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE invitations SET revoked_at = $3 WHERE team_id = $1 AND email = $2 \
         AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(team)
    .bind(new.email)
    .bind(new.now_ms)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO invitations (id, team_id, email, role, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(team)
    .bind(new.email)
    .bind(new.role)
    .bind(new.token_hash)
    .bind(actor.user_id())
    .bind(new.now_ms)
    .bind(new.expires_at)
    .execute(&mut *tx)
    .await?;
    if !new.projects.is_empty() {
        // The composite foreign key refuses a project of another team.
        let mut s = Statement::new("INSERT INTO invitation_projects (team_id, invitation_id, project_id) VALUES ");
        for (n, project) in new.projects.iter().enumerate() {
            s.push(if n == 0 { "(" } else { ", (" }).bind(team).push(", ").bind(id).push(", ").bind(*project).push(")");
        }
        s.query().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    find_pending(db, actor, id, new.now_ms).await?.ok_or(DbError::Inconsistent("a new invitation"))
}

/// Pending (not accepted, revoked or expired) invitations, newest first.
pub async fn pending(db: &Db, actor: &Actor, now_ms: i64) -> Result<Vec<Invitation>, DbError> {
    let invitations = sqlx::query_as(concat!(select_pending!(), " ORDER BY i.created_at DESC"))
        .bind(actor.team_id())
        .bind(now_ms)
        .fetch_all(db.pool())
        .await?;
    with_projects(db, actor.team_id(), invitations).await
}

pub async fn find_pending(
    db: &Db,
    actor: &Actor,
    id: InvitationId,
    now_ms: i64,
) -> Result<Option<Invitation>, DbError> {
    let found = sqlx::query_as(concat!(select_pending!(), " AND i.id = $3"))
        .bind(actor.team_id())
        .bind(now_ms)
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(with_projects(db, actor.team_id(), found.into_iter().collect()).await?.pop())
}

/// Fills in the projects each invitation names, as "KEY · Name", by key.
async fn with_projects(db: &Db, team: TeamId, mut invitations: Vec<Invitation>) -> Result<Vec<Invitation>, DbError> {
    if invitations.is_empty() {
        return Ok(invitations);
    }
    let mut s = Statement::new(
        "SELECT ip.invitation_id, p.key, p.name FROM invitation_projects ip \
         JOIN projects p ON p.team_id = ip.team_id AND p.id = ip.project_id WHERE ip.team_id = ",
    );
    s.bind(team)
        .push(" AND ip.invitation_id IN (")
        .bind_list(invitations.iter().map(|i| i.id))
        .push(") ORDER BY p.key");
    let rows: Vec<(InvitationId, String, String)> = s.query_as().fetch_all(db.pool()).await?;
    let mut named: HashMap<InvitationId, Vec<String>> = HashMap::new();
    for (invitation, key, name) in rows {
        named.entry(invitation).or_default().push(format!("{key} · {name}"));
    }
    for invitation in &mut invitations {
        invitation.projects = named.remove(&invitation.id).unwrap_or_default();
    }
    Ok(invitations)
}

/// Gives a pending invitation a new link (its token's hash) and a new expiry; false if it was no
/// longer pending. The old link stops working at once.
pub async fn renew(
    db: &Db,
    actor: &Actor,
    id: InvitationId,
    token_hash: &str,
    now_ms: i64,
    expires_at: i64,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE invitations SET token_hash = $3, expires_at = $5 WHERE team_id = $1 AND id = $2 \
         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $4",
    )
    .bind(actor.team_id())
    .bind(id)
    .bind(token_hash)
    .bind(now_ms)
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The projects an invitation would have its invitee join now, as (id, "KEY · Name"): those it
/// names that are not archived and that its role may join ([`policy::may_join_project`]: a guest,
/// public ones only). Both what the link offers and what accepting it does read this.
pub async fn joinable_projects(
    conn: &mut AnyConnection,
    invitation: &TokenInvitation,
) -> Result<Vec<(ProjectId, String)>, DbError> {
    let rows: Vec<(ProjectId, String, String, Visibility, Flag)> = sqlx::query_as(
        "SELECT p.id, p.key, p.name, p.visibility, p.archived FROM invitation_projects ip \
         JOIN projects p ON p.team_id = ip.team_id AND p.id = ip.project_id \
         WHERE ip.team_id = $1 AND ip.invitation_id = $2 ORDER BY p.key",
    )
    .bind(invitation.team_id)
    .bind(invitation.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, _, visibility, archived)| !archived.0 && policy::may_join_project(invitation.role, *visibility))
        .map(|(id, key, name, _, _)| (id, format!("{key} · {name}")))
        .collect())
}

/// Revokes a pending invitation; false if there was none.
pub async fn revoke(db: &Db, actor: &Actor, id: InvitationId, now_ms: i64) -> Result<bool, DbError> {
    let done = sqlx::query(
        "UPDATE invitations SET revoked_at = $3 WHERE team_id = $1 AND id = $2 \
         AND accepted_at IS NULL AND revoked_at IS NULL",
    )
    .bind(actor.team_id())
    .bind(id)
    .bind(now_ms)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An invitation as its link sees it, whatever its state.
#[derive(sqlx::FromRow)]
pub struct TokenInvitation {
    pub id: InvitationId,
    pub team_id: TeamId,
    pub team_name: String,
    pub email: String,
    pub role: Role,
    pub invited_by: String,
    pub expires_at: i64,
    #[sqlx(try_from = "Flag")]
    pub accepted: bool,
    #[sqlx(try_from = "Flag")]
    pub revoked: bool,
}

pub async fn find_by_token(db: &Db, token_hash: &str) -> Result<Option<TokenInvitation>, DbError> {
    Ok(sqlx::query_as(
        "SELECT i.id, i.team_id, t.name AS team_name, i.email, i.role, u.display_name AS invited_by, i.expires_at, \
         CASE WHEN i.accepted_at IS NULL THEN 0 ELSE 1 END AS accepted, \
         CASE WHEN i.revoked_at IS NULL THEN 0 ELSE 1 END AS revoked \
         FROM invitations i JOIN teams t ON t.id = i.team_id JOIN users u ON u.id = i.invited_by \
         WHERE i.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db.pool())
    .await?)
}

/// Uses the invitation for `user_id` and makes them a member, inside `tx`. The conditional update
/// makes the link single-use even when two people click at once. False if it was no longer usable.
pub async fn accept(
    tx: &mut AnyConnection,
    invitation: &TokenInvitation,
    user_id: UserId,
    now_ms: i64,
) -> Result<bool, DbError> {
    let used = sqlx::query(
        "UPDATE invitations SET accepted_at = $3, accepted_by = $2 WHERE id = $1 \
         AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3",
    )
    .bind(invitation.id)
    .bind(user_id)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    if used.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query("INSERT INTO memberships (team_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
        .bind(invitation.team_id)
        .bind(user_id)
        .bind(invitation.role)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    // A link that was emailed to this very address proves it: notifications may be mailed there.
    sqlx::query(
        "UPDATE users SET email_verified_at = $3 WHERE id = $1 AND email_verified_at IS NULL \
         AND lower(email) = (SELECT lower(email) FROM invitations WHERE id = $2 AND emailed = 1)",
    )
    .bind(user_id)
    .bind(invitation.id)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    for (project, _) in joinable_projects(tx, invitation).await? {
        sqlx::query("INSERT INTO project_members (team_id, project_id, user_id, added_at) VALUES ($1, $2, $3, $4)")
            .bind(invitation.team_id)
            .bind(project)
            .bind(user_id)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
    }
    Ok(true)
}

/// Records that an invitation's link was emailed to its address (accepting it then proves the address).
pub async fn mark_emailed(db: &Db, actor: &Actor, id: InvitationId) -> Result<(), DbError> {
    sqlx::query("UPDATE invitations SET emailed = 1 WHERE team_id = $1 AND id = $2")
        .bind(actor.team_id())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}
