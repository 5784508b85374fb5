//! Personal access tokens. Listing, finding and revoking are scoped to the actor's team; the one
//! look-up without an actor is [`by_hash`], which the token door makes from a presented secret (as the
//! session store looks up a cookie).

use app::model::{Flag, TeamId, TokenId, UserId, TOKENS_PER_PERSON};
use uuid::Uuid;

use super::{Db, DbError};
use crate::actor::Actor;

/// A token as its list shows it.
#[derive(sqlx::FromRow)]
pub struct StoredToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub display_name: String,
    pub name: String,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
    pub last_used_from: Option<String>,
}

/// What the token door needs to know of a presented secret's token.
#[derive(sqlx::FromRow)]
pub struct TokenAuth {
    pub id: TokenId,
    pub team_id: TeamId,
    pub user_id: UserId,
    pub secret_hash: String,
    pub scopes: String,
    pub expires_at: i64,
    #[sqlx(try_from = "Flag")]
    pub expiry_audited: bool,
    #[sqlx(try_from = "Flag")]
    pub tokens_allowed: bool,
    pub last_used_at: Option<i64>,
    pub last_used_from: Option<String>,
}

/// A new token's stored part.
pub struct NewToken<'a> {
    pub name: &'a str,
    pub scopes: &'a str,
    pub secret_hash: &'a str,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Why a token was not made.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("too many live tokens")]
    TooMany,
    #[error(transparent)]
    Db(#[from] DbError),
}

const COLUMNS: &str = "t.id, t.user_id, u.display_name, t.name, t.scopes, t.created_at, t.expires_at, \
                       t.last_used_at, t.last_used_from";

/// Makes a token for the actor in their team, unless they already keep [`TOKENS_PER_PERSON`] live ones.
pub async fn insert(db: &Db, actor: &Actor, token: &NewToken<'_>) -> Result<TokenId, CreateError> {
    let id = TokenId(Uuid::new_v4());
    let mut tx = db.begin_write().await?;
    super::members::lock_for_counting(db, &mut tx, actor).await?;
    let done = sqlx::query(
        "INSERT INTO access_tokens (id, team_id, user_id, name, secret_hash, scopes, created_at, expires_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
         WHERE (SELECT COUNT(*) FROM access_tokens WHERE team_id = $2 AND user_id = $3 AND expires_at > $7) < $9",
    )
    .bind(id)
    .bind(actor.team_id())
    .bind(actor.user_id())
    .bind(token.name)
    .bind(token.secret_hash)
    .bind(token.scopes)
    .bind(token.created_at)
    .bind(token.expires_at)
    .bind(i64::try_from(TOKENS_PER_PERSON).unwrap_or(i64::MAX))
    .execute(&mut *tx)
    .await
    .map_err(DbError::from)?;
    if done.rows_affected() != 1 {
        return Err(CreateError::TooMany);
    }
    tx.commit().await?;
    Ok(id)
}

/// The team's tokens (`everyone`) or the actor's own, newest first, at most 500.
pub async fn list(db: &Db, actor: &Actor, everyone: bool) -> Result<Vec<StoredToken>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM access_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.team_id = $1 AND ($2 = 1 OR t.user_id = $3) ORDER BY t.created_at DESC, t.id LIMIT 500"
    );
    Ok(sqlx::query_as(&sql)
        .bind(actor.team_id())
        .bind(Flag(everyone))
        .bind(actor.user_id())
        .fetch_all(db.pool())
        .await?)
}

/// One of the team's tokens.
pub async fn find(db: &Db, actor: &Actor, id: TokenId) -> Result<Option<StoredToken>, DbError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM access_tokens t JOIN users u ON u.id = t.user_id WHERE t.team_id = $1 AND t.id = $2"
    );
    Ok(sqlx::query_as(&sql).bind(actor.team_id()).bind(id).fetch_optional(db.pool()).await?)
}

/// Deletes one of the team's tokens (the caller checked the actor may); answers whether it was there.
pub async fn delete(db: &Db, actor: &Actor, id: TokenId) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM access_tokens WHERE team_id = $1 AND id = $2")
        .bind(actor.team_id())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The token whose secret hashes to `secret_hash`, with whether its team allows tokens.
pub async fn by_hash(db: &Db, secret_hash: &str) -> Result<Option<TokenAuth>, DbError> {
    Ok(sqlx::query_as(
        "SELECT t.id, t.team_id, t.user_id, t.secret_hash, t.scopes, t.expires_at, t.expiry_audited, \
         tm.tokens_allowed, t.last_used_at, t.last_used_from \
         FROM access_tokens t JOIN teams tm ON tm.id = t.team_id WHERE t.secret_hash = $1",
    )
    .bind(secret_hash)
    .fetch_optional(db.pool())
    .await?)
}

/// Records a use: when and from where.
pub async fn record_use(db: &Db, id: TokenId, now_ms: i64, from: &str) -> Result<(), DbError> {
    sqlx::query("UPDATE access_tokens SET last_used_at = $2, last_used_from = $3 WHERE id = $1")
        .bind(id)
        .bind(now_ms)
        .bind(from)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Marks an expired token's refusal as audited; answers whether this call was the first to.
pub async fn mark_expiry_audited(db: &Db, id: TokenId) -> Result<bool, DbError> {
    let done = sqlx::query("UPDATE access_tokens SET expiry_audited = 1 WHERE id = $1 AND expiry_audited = 0")
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the team allows tokens.
pub async fn allowed(db: &Db, team: TeamId) -> Result<bool, DbError> {
    let flag: Option<Flag> = sqlx::query_scalar("SELECT tokens_allowed FROM teams WHERE id = $1")
        .bind(team)
        .fetch_optional(db.pool())
        .await?;
    Ok(flag.is_some_and(|f| f.0))
}

/// Allows tokens in the team, or refuses them all.
pub async fn set_allowed(db: &Db, team: TeamId, allowed: bool) -> Result<(), DbError> {
    sqlx::query("UPDATE teams SET tokens_allowed = $2 WHERE id = $1")
        .bind(team)
        .bind(Flag(allowed))
        .execute(db.pool())
        .await?;
    Ok(())
}
