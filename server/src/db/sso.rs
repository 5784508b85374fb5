//! Single sign-on's rows: a team's provider (`team_sso`), the email domains it claims
//! (`team_sso_domains`, proven by an operator) and the identities that sign in through it
//! (`sso_identities`, keyed by team, issuer and subject). The sign-in flow has no actor yet, so its
//! look-ups take the team the flow was started for; the settings take the OWNER's actor.

use app::model::{Flag, Role, TeamId, UserId};

use super::{accounts, Db, DbError};
use crate::actor::Actor;

/// A team's provider as stored; `secret` is the sealed client secret (base64) under `key_id` and
/// `wrapped_key`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Provider {
    pub team_id: TeamId,
    pub issuer: String,
    pub display_name: String,
    pub client_id: String,
    pub secret: String,
    pub key_id: String,
    pub wrapped_key: String,
    pub new_member_role: Role,
    #[sqlx(try_from = "Flag")]
    pub enabled: bool,
}

/// The client secret, sealed with the master key.
pub struct SealedSecret {
    pub secret: String,
    pub key_id: String,
    pub wrapped_key: String,
}

/// What the OWNER saves; `secret` is `None` to keep the stored one.
pub struct Settings<'a> {
    pub issuer: &'a str,
    pub display_name: &'a str,
    pub client_id: &'a str,
    pub secret: Option<SealedSecret>,
    pub domains: &'a [String],
    pub new_member_role: Role,
    pub required: bool,
    pub enabled: bool,
}

/// A team's provider, whether enabled or not.
pub async fn provider(db: &Db, team: TeamId) -> Result<Option<Provider>, DbError> {
    Ok(sqlx::query_as(
        "SELECT team_id, issuer, display_name, client_id, secret, key_id, wrapped_key, new_member_role, enabled \
         FROM team_sso WHERE team_id = $1",
    )
    .bind(team)
    .fetch_optional(db.pool())
    .await?)
}

/// Whether the team requires single sign-on of its members.
pub async fn required(db: &Db, team: TeamId) -> Result<bool, DbError> {
    let flag: Option<Flag> = sqlx::query_scalar("SELECT require_single_sign_on FROM teams WHERE id = $1")
        .bind(team)
        .fetch_optional(db.pool())
        .await?;
    Ok(flag.is_some_and(|f| f.0))
}

/// Saves the actor's team's provider, its claimed domains (a domain kept keeps its proof) and whether
/// single sign-on is required, in one transaction. False when there is no stored secret to keep.
pub async fn save(db: &Db, actor: &Actor, settings: Settings<'_>, now_ms: i64) -> Result<bool, DbError> {
    let team = actor.team_id();
    let mut tx = db.begin_write().await?;
    let saved = if let Some(secret) = &settings.secret {
        sqlx::query(
            "INSERT INTO team_sso (team_id, issuer, display_name, client_id, secret, key_id, wrapped_key, \
             new_member_role, enabled, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (team_id) DO UPDATE SET issuer = $2, display_name = $3, client_id = $4, secret = $5, \
             key_id = $6, wrapped_key = $7, new_member_role = $8, enabled = $9, updated_at = $10",
        )
        .bind(team)
        .bind(settings.issuer)
        .bind(settings.display_name)
        .bind(settings.client_id)
        .bind(&secret.secret)
        .bind(&secret.key_id)
        .bind(&secret.wrapped_key)
        .bind(settings.new_member_role)
        .bind(Flag(settings.enabled))
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
    } else {
        sqlx::query(
            "UPDATE team_sso SET issuer = $2, display_name = $3, client_id = $4, new_member_role = $5, enabled = $6, \
             updated_at = $7 WHERE team_id = $1",
        )
        .bind(team)
        .bind(settings.issuer)
        .bind(settings.display_name)
        .bind(settings.client_id)
        .bind(settings.new_member_role)
        .bind(Flag(settings.enabled))
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
    };
    if saved.rows_affected() != 1 {
        return Ok(false);
    }
    let kept: Vec<String> = sqlx::query_scalar("SELECT domain FROM team_sso_domains WHERE team_id = $1")
        .bind(team)
        .fetch_all(&mut *tx)
        .await?;
    for gone in kept.iter().filter(|d| !settings.domains.contains(d)) {
        sqlx::query("DELETE FROM team_sso_domains WHERE team_id = $1 AND domain = $2")
            .bind(team)
            .bind(gone)
            .execute(&mut *tx)
            .await?;
    }
    for new in settings.domains.iter().filter(|d| !kept.contains(d)) {
        sqlx::query("INSERT INTO team_sso_domains (team_id, domain) VALUES ($1, $2)")
            .bind(team)
            .bind(new)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("UPDATE teams SET require_single_sign_on = $2 WHERE id = $1")
        .bind(team)
        .bind(Flag(settings.required && settings.enabled))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // Memberships carry the requirement: the next request reads it.
    db.memberships_changed();
    Ok(true)
}

/// The team's claimed domains, each with whether it is proven, by name.
pub async fn domains(db: &Db, team: TeamId) -> Result<Vec<(String, bool)>, DbError> {
    let rows: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT domain, proven_at FROM team_sso_domains WHERE team_id = $1 ORDER BY domain")
            .bind(team)
            .fetch_all(db.pool())
            .await?;
    Ok(rows.into_iter().map(|(domain, proven)| (domain, proven.is_some())).collect())
}

/// Whether `domain` is a proven domain of the team.
pub async fn domain_proven(db: &Db, team: TeamId, domain: &str) -> Result<bool, DbError> {
    let proven: Option<Option<i64>> =
        sqlx::query_scalar("SELECT proven_at FROM team_sso_domains WHERE team_id = $1 AND domain = $2")
            .bind(team)
            .bind(domain)
            .fetch_optional(db.pool())
            .await?;
    Ok(matches!(proven, Some(Some(_))))
}

/// An operator proves a claimed domain (`moth sso prove-domain`). False when the team does not claim it.
pub async fn prove_domain(db: &Db, team: TeamId, domain: &str, now_ms: i64) -> Result<bool, DbError> {
    let done = sqlx::query("UPDATE team_sso_domains SET proven_at = $3 WHERE team_id = $1 AND domain = $2")
        .bind(team)
        .bind(domain)
        .bind(now_ms)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The account an identity of the team's provider signs in as.
pub async fn identity(db: &Db, team: TeamId, issuer: &str, subject: &str) -> Result<Option<UserId>, DbError> {
    Ok(sqlx::query_scalar("SELECT user_id FROM sso_identities WHERE team_id = $1 AND issuer = $2 AND subject = $3")
        .bind(team)
        .bind(issuer)
        .bind(subject)
        .fetch_optional(db.pool())
        .await?)
}

/// Records a sign-in of an identity.
pub async fn signed_in(db: &Db, team: TeamId, issuer: &str, subject: &str, now_ms: i64) -> Result<(), DbError> {
    sqlx::query("UPDATE sso_identities SET last_sign_in_at = $4 WHERE team_id = $1 AND issuer = $2 AND subject = $3")
        .bind(team)
        .bind(issuer)
        .bind(subject)
        .bind(now_ms)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// An identity of the team's provider and the account it signs in as.
pub struct Identity<'a> {
    pub team: TeamId,
    pub issuer: &'a str,
    pub subject: &'a str,
}

/// Makes an account for a new identity and makes it a member of the team with `role`, in one
/// transaction. `password_hash` is of a password nobody knows. A unique violation means the email
/// has an account already (or the identity arrived twice at once).
pub async fn make_account(
    db: &Db,
    identity: &Identity<'_>,
    email: &str,
    display_name: &str,
    password_hash: &str,
    role: Role,
    now_ms: i64,
) -> Result<UserId, DbError> {
    let mut tx = db.begin_write().await?;
    let user = accounts::insert_user(&mut tx, email, display_name, password_hash, now_ms).await?;
    insert_membership(&mut tx, identity.team, user, role, now_ms).await?;
    insert_identity(&mut tx, identity, user, true, now_ms).await?;
    tx.commit().await?;
    db.memberships_changed();
    Ok(user)
}

/// Links an identity to an existing account that has just proven itself by signing in, making it a
/// member with `role` if it is not one yet.
pub async fn link(db: &Db, identity: &Identity<'_>, user: UserId, role: Role, now_ms: i64) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    let member: Option<String> = sqlx::query_scalar("SELECT role FROM memberships WHERE team_id = $1 AND user_id = $2")
        .bind(identity.team)
        .bind(user)
        .fetch_optional(&mut *tx)
        .await?;
    if member.is_none() {
        insert_membership(&mut tx, identity.team, user, role, now_ms).await?;
    }
    insert_identity(&mut tx, identity, user, false, now_ms).await?;
    tx.commit().await?;
    db.memberships_changed();
    Ok(())
}

async fn insert_membership(
    tx: &mut sqlx::AnyConnection,
    team: TeamId,
    user: UserId,
    role: Role,
    now_ms: i64,
) -> Result<(), DbError> {
    sqlx::query("INSERT INTO memberships (team_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
        .bind(team)
        .bind(user)
        .bind(role)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn insert_identity(
    tx: &mut sqlx::AnyConnection,
    identity: &Identity<'_>,
    user: UserId,
    made_account: bool,
    now_ms: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO sso_identities (team_id, issuer, subject, user_id, made_account, linked_at, last_sign_in_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(identity.team)
    .bind(identity.issuer)
    .bind(identity.subject)
    .bind(user)
    .bind(Flag(made_account))
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// How each member of the actor's team who has signed in through its provider did: whether single
/// sign-on made the account, and the last such sign-in (Unix milliseconds).
pub async fn member_sign_ins(db: &Db, actor: &Actor) -> Result<Vec<(UserId, bool, i64)>, DbError> {
    let rows: Vec<(UserId, Flag, i64)> = sqlx::query_as(
        "SELECT user_id, MAX(made_account), MAX(last_sign_in_at) FROM sso_identities WHERE team_id = $1 \
         GROUP BY user_id",
    )
    .bind(actor.team_id())
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|(user, made, last)| (user, made.0, last)).collect())
}
