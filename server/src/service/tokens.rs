//! Personal access tokens: made, listed and revoked through server functions (a session's door), and
//! turned into an [`Actor`] for the REST API (the token door) by [`Service::authenticate_token`] and
//! [`Service::actor`]. A token acts as its user with the role the database holds *now*, within its
//! scopes (`policy::may` checks both); revoking deletes it, so the next request is refused on every
//! instance (nothing about a token is cached).

use app::{
    api::{RequestParts, TokensApi},
    error::{AppError, ErrorCode},
    model::{
        parse, scopes_from_text, scopes_text, AccessToken, AccessTokens, CreatedToken, NewTokenInput, Person, Role,
        TeamId, TokenId, TokenIdInput, TokenPolicyInput, TokenScope, UserId, TOKENS_PER_PERSON,
    },
};

use super::Service;
use crate::{
    access_token::{Malformed, TokenSecret},
    actor::{Actor, Door, Scopes},
    db::{audit, tokens},
    policy::{self, Action},
};

const DAY_MS: i64 = 86_400_000;

/// A use is written at most once a minute per token (and at once from a new address), so that a busy
/// script costs no write per request.
const USE_GRANULARITY_MS: i64 = 60_000;

/// A presented token that is live: its user, team and scopes. Made only by
/// [`Service::authenticate_token`]; the REST door puts it in the request, where [`Service::actor`]
/// turns it into an [`Actor`] with the user's current role.
#[derive(Clone, Copy, Debug)]
pub struct TokenGrant {
    id: TokenId,
    user_id: UserId,
    team_id: TeamId,
    scopes: Scopes,
}

impl TokenGrant {
    pub fn id(&self) -> TokenId {
        self.id
    }

    pub fn scopes(&self) -> Scopes {
        self.scopes
    }
}

fn to_model(row: tokens::StoredToken) -> AccessToken {
    AccessToken {
        id: row.id,
        name: row.name,
        scopes: scopes_from_text(&row.scopes),
        user: Person { id: row.user_id, display_name: row.display_name },
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
        last_used_from: row.last_used_from,
    }
}

fn refused(message: &str) -> AppError {
    AppError::new(ErrorCode::Unauthenticated, message)
}

impl Service {
    /// The live token `presented` names (the text after `Bearer `), or why not: malformed (refused
    /// before any look-up), unknown or revoked, expired (audited once), or its team has turned tokens
    /// off. Unknown tokens are not counted toward address bans: 256 random bits cannot be guessed, and
    /// a CI job retrying with a revoked token must not lock everyone behind its address out of signing
    /// in; the address's and the token's rate limits bound the attempts.
    pub async fn authenticate_token(&self, presented: &str, address: Option<&str>) -> Result<TokenGrant, AppError> {
        let secret = TokenSecret::parse(presented).map_err(|malformed| match malformed {
            Malformed::Form => {
                refused("This is not a Moth access token: it starts with moth_pat_ and has 58 characters.")
            }
            Malformed::Checksum => refused("This access token is mistyped or cut off: its checksum does not match."),
        })?;
        let hash = secret.hash();
        let Some(token) = tokens::by_hash(&self.db, &hash).await? else {
            return Err(refused("This access token is not valid: it was revoked, or never existed."));
        };
        if !crate::digest::constant_time_eq(token.secret_hash.as_bytes(), hash.as_bytes()) {
            return Err(refused("This access token is not valid: it was revoked, or never existed."));
        }
        let now = self.now();
        if token.expires_at <= now {
            if !token.expiry_audited && tokens::mark_expiry_audited(&self.db, token.id).await? {
                let record = audit::Record {
                    event: audit::Event::TokenExpired,
                    success: false,
                    team_id: Some(token.team_id),
                    actor_id: Some(token.user_id),
                    detail: format!("token {} presented after it expired", token.id),
                    source_ip: address.map(str::to_owned),
                };
                audit::record(&self.db, record, now).await;
            }
            return Err(refused("This access token has expired: make a new one."));
        }
        if !token.tokens_allowed {
            return Err(AppError::new(ErrorCode::Forbidden, "Your team has turned access tokens off."));
        }
        let from = address.unwrap_or("unknown");
        let stale = token.last_used_at.is_none_or(|at| now - at >= USE_GRANULARITY_MS);
        if stale || token.last_used_from.as_deref() != Some(from) {
            tokens::record_use(&self.db, token.id, now, from).await?;
        }
        let scopes = Scopes::of(&scopes_from_text(&token.scopes));
        Ok(TokenGrant { id: token.id, user_id: token.user_id, team_id: token.team_id, scopes })
    }

    /// The actor a live token acts as: its user in its team with their role now, or `None` when they
    /// are no longer a member.
    pub(super) async fn token_actor(&self, grant: &TokenGrant) -> Result<Option<Actor>, AppError> {
        let membership = crate::db::accounts::membership(&self.db, grant.user_id, grant.team_id).await?;
        Ok(membership.map(|m| {
            Actor::from_token(grant.user_id, grant.team_id, m.role, m.requires_two_factor, grant.id, grant.scopes)
        }))
    }

    /// The actor's user, team and role now (the REST API's `GET /api/v1/user`).
    pub async fn current_user(&self, req: &RequestParts) -> Result<app::model::Me, AppError> {
        let (_, actor) = self.actor(req).await?;
        self.me(&actor).await
    }

    /// The actor of a token function: signed in with a browser session. (The REST door never reaches
    /// server functions, which refuse an `Authorization` header; this holds even if one did.)
    async fn session_actor(&self, req: &RequestParts) -> Result<(super::Request, Actor), AppError> {
        let (request, actor) = self.actor(req).await?;
        if actor.door() != Door::Session {
            return Err(AppError::new(ErrorCode::Forbidden, "Access tokens are managed from a browser session."));
        }
        Ok((request, actor))
    }

    async fn token_list(&self, actor: &Actor) -> Result<AccessTokens, AppError> {
        let everyone = policy::may(actor, Action::ManageTokens);
        let rows = tokens::list(&self.db, actor, everyone).await?;
        Ok(AccessTokens {
            tokens: rows.into_iter().map(to_model).collect(),
            allowed: tokens::allowed(&self.db, actor.team_id()).await?,
            may_change_policy: policy::may(actor, Action::SetTokenPolicy),
        })
    }
}

#[async_trait::async_trait]
impl TokensApi for Service {
    async fn create_access_token(&self, req: &RequestParts, input: NewTokenInput) -> Result<CreatedToken, AppError> {
        let input = parse(input)?.into_inner();
        let (request, actor) = self.session_actor(req).await?;
        if input.scopes.contains(&TokenScope::Admin) && !matches!(actor.role(), Role::Owner | Role::Admin) {
            let message = "Only owners and admins may make tokens with the admin scope.";
            return Err(AppError::new(ErrorCode::Forbidden, message));
        }
        if !tokens::allowed(&self.db, actor.team_id()).await? {
            return Err(AppError::new(ErrorCode::Forbidden, "Your team has turned access tokens off."));
        }
        let secret = TokenSecret::generate();
        let (hash, scopes) = (secret.hash(), scopes_text(&input.scopes));
        let now = self.now();
        let expires_at = now.saturating_add(input.expires_in_days.saturating_mul(DAY_MS));
        let new =
            tokens::NewToken { name: &input.name, scopes: &scopes, secret_hash: &hash, created_at: now, expires_at };
        let id = match tokens::insert(&self.db, &actor, &new).await {
            Ok(id) => id,
            Err(tokens::CreateError::TooMany) => {
                let message =
                    format!("You keep {TOKENS_PER_PERSON} live tokens in this team already: revoke one first.");
                return Err(AppError::new(ErrorCode::Conflict, message));
            }
            Err(tokens::CreateError::Db(e)) => return Err(e.into()),
        };
        let detail = format!("token {id} \"{}\" ({scopes}), expires in {} days", input.name, input.expires_in_days);
        self.audit(&request, audit::Event::TokenCreated, Some(&actor), detail).await;
        let stored = tokens::find(&self.db, &actor, id).await?.ok_or_else(AppError::internal)?;
        Ok(CreatedToken { token: to_model(stored), secret: secret.reveal() })
    }

    async fn list_access_tokens(&self, req: &RequestParts) -> Result<AccessTokens, AppError> {
        let (_, actor) = self.session_actor(req).await?;
        self.token_list(&actor).await
    }

    async fn revoke_access_token(&self, req: &RequestParts, input: TokenIdInput) -> Result<AccessTokens, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.session_actor(req).await?;
        let token = tokens::find(&self.db, &actor, input.token_id).await?;
        // Another member's token is "not found" to those who may not manage tokens: ids reveal nothing.
        let token = token
            .filter(|t| t.user_id == actor.user_id() || policy::may(&actor, Action::ManageTokens))
            .ok_or_else(AppError::not_found)?;
        if tokens::delete(&self.db, &actor, token.id).await? {
            let detail = format!("token {} \"{}\" of {}", token.id, token.name, token.display_name);
            self.audit(&request, audit::Event::TokenRevoked, Some(&actor), detail).await;
        }
        self.token_list(&actor).await
    }

    async fn set_token_policy(&self, req: &RequestParts, input: TokenPolicyInput) -> Result<AccessTokens, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.session_actor(req).await?;
        if !policy::may(&actor, Action::SetTokenPolicy) {
            return Err(AppError::new(ErrorCode::Forbidden, "Only the team's owner turns access tokens on or off."));
        }
        tokens::set_allowed(&self.db, actor.team_id(), input.allowed).await?;
        let detail = if input.allowed { "access tokens allowed" } else { "access tokens turned off" };
        self.audit(&request, audit::Event::TokensPolicyChanged, Some(&actor), detail.to_owned()).await;
        self.token_list(&actor).await
    }
}
