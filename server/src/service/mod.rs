//! Moth's implementation of the server functions ([`app::api::Api`]): one module per area, each
//! implementing its trait (`AccountsApi` in `accounts.rs`, ...). Each method validates its input with
//! the shared rules, establishes the actor from the session, asks [`crate::policy`], and calls the
//! tenant-scoped data layer. This module holds what they share: the actor, the audit log, `Me`.

mod accounts;
mod data_safety;
mod files;
mod issues;
mod members;
mod notifications;
mod projects;
pub mod session;
mod sign_in;
pub mod sso;
mod tokens;
mod two_factor;
mod views;
mod webhooks;

pub use files::UploadTarget;
pub use members::{AuditFormat, MAX_AUDIT_EXPORT};
pub use sign_in::SignInGrant;
pub use tokens::TokenGrant;

use std::{net::SocketAddr, sync::Arc};

#[allow(clippy::wildcard_imports)] // the backend speaks the whole model
use app::{
    api::{Api, RequestParts},
    error::AppError,
    model::*,
};
use axum::extract::ConnectInfo;
use tower_sessions::Session;

use crate::{
    actor::Actor,
    clock::{unix_millis, Clock},
    db::{self, audit, Db},
    error::ServiceError,
    mail::Mailer,
    policy::{self, Action},
};
use session::SessionPolicy;

pub struct Service {
    db: Db,
    bans: Arc<crate::bans::Bans>,
    files: Arc<crate::files::Files>,
    clock: Arc<dyn Clock>,
    sessions: SessionPolicy,
    mailer: Arc<Mailer>,
    invitation_ttl_ms: i64,
    /// The installation's snapshots, for what owners see of them.
    backups: Option<Arc<crate::backup::Backups>>,
    /// Runs team exports.
    exporter: Option<Arc<crate::export::Exporter>>,
    /// When each person was last mailed a link proving their address (at most one a minute).
    proofs_sent: std::sync::Mutex<std::collections::HashMap<app::model::UserId, i64>>,
    /// Whether webhooks may go to loopback, private and link-local addresses (`allow_private_endpoints`).
    allow_private_endpoints: bool,
    /// OpenID Connect with the teams' providers (single sign-on).
    oidc: crate::sso::Oidc,
    /// `public_url`'s origin: the base of the single sign-on redirect URI.
    public_origin: Option<String>,
}

/// What a service method knows about the request besides its input.
pub(crate) struct Request {
    /// The browser session; `None` at the token door (which has none).
    session: Option<Session>,
    source_ip: Option<String>,
    /// The browser's device cookie, hashed (see `http::device`).
    device: Option<String>,
}

impl Request {
    /// The client's address for bans (see `bans::client_address`).
    fn address(&self) -> &str {
        self.source_ip.as_deref().unwrap_or("unknown")
    }

    /// The session of a browser's request: what signing in and out, and switching teams, act on.
    fn session(&self) -> Result<&Session, ServiceError> {
        self.session.as_ref().ok_or(ServiceError::NoSession)
    }

    /// The client as the ban rules see it: its address and its browser.
    fn client(&self) -> crate::bans::Client<'_> {
        crate::bans::Client { address: self.address(), device: self.device.as_deref() }
    }
}

impl Service {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        sessions: SessionPolicy,
        mailer: Arc<Mailer>,
        invitation_ttl: std::time::Duration,
        files: Arc<crate::files::Files>,
        bans: Arc<crate::bans::Bans>,
    ) -> Self {
        let invitation_ttl_ms = i64::try_from(invitation_ttl.as_millis()).unwrap_or(i64::MAX);
        Self {
            db,
            bans,
            files,
            clock,
            sessions,
            mailer,
            invitation_ttl_ms,
            backups: None,
            exporter: None,
            proofs_sent: std::sync::Mutex::default(),
            allow_private_endpoints: false,
            oidc: crate::sso::Oidc::new(false),
            public_origin: None,
        }
    }

    /// `public_url`'s origin, which the single sign-on redirect URI is made of (else each request's
    /// `Host`).
    #[must_use]
    pub fn with_public_origin(mut self, origin: Option<String>) -> Self {
        self.public_origin = origin;
        self
    }

    #[must_use]
    pub fn with_private_endpoints(mut self, allowed: bool) -> Self {
        self.allow_private_endpoints = allowed;
        self.oidc = crate::sso::Oidc::new(allowed);
        self
    }

    #[must_use]
    pub fn with_exporter(mut self, exporter: Arc<crate::export::Exporter>) -> Self {
        self.exporter = Some(exporter);
        self
    }

    #[must_use]
    pub fn with_backups(mut self, backups: Arc<crate::backup::Backups>) -> Self {
        self.backups = Some(backups);
        self
    }

    /// The client of a request (see `bans::client_address`).
    pub fn client_address(&self, req: &RequestParts) -> Option<std::net::IpAddr> {
        let peer = req.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let forwarded_for = req.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok());
        self.bans.address_of(peer, forwarded_for)
    }

    /// What `/readyz` reports beyond the database: whether clamd answers and the object store is
    /// there, each as "ok" or why not.
    pub async fn file_checks(&self) -> [(&'static str, Result<(), String>); 2] {
        let timeout = std::time::Duration::from_secs(2);
        let (clamd, storage) = tokio::join!(self.files.scanner.ping(timeout), async {
            tokio::time::timeout(timeout, self.files.store.check()).await
        });
        let storage = match storage {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the object store does not answer");
                Err("unavailable".to_owned())
            }
            Err(_) => Err("no answer".to_owned()),
        };
        [("clamd", clamd.map_err(str::to_owned)), ("storage", storage)]
    }

    /// The file origin's address (`files_url`), which the app's CSP allows images from.
    pub fn files_url(&self) -> &str {
        &self.files.files_url
    }

    fn now(&self) -> i64 {
        unix_millis(self.clock.now())
    }

    /// What the service knows of a request. Every request has a session, or a token grant from the
    /// REST door (which has no session layer); one with neither, or both, is refused.
    fn request(&self, req: &RequestParts) -> Result<Request, ServiceError> {
        let session = req.extensions.get::<Session>().cloned();
        // Exactly one credential: none is no request of ours, both would be a door wired wrong.
        if session.is_some() == req.extensions.get::<TokenGrant>().is_some() {
            return Err(ServiceError::NoSession);
        }
        let source_ip = self.client_address(req).map(|ip| ip.to_string());
        let device = req.extensions.get::<crate::bans::Device>().map(|d| d.0.clone());
        Ok(Request { session, source_ip, device })
    }

    /// Refuses a credential attempt from a banned address (or at a slowed-down account).
    async fn not_banned(&self, request: &Request, account: Option<&str>) -> Result<(), AppError> {
        match self.bans.check(&request.client(), account).await? {
            Ok(()) => Ok(()),
            Err(banned) => {
                tracing::info!(address = request.address(), "credential attempt refused: banned");
                Err(AppError::rate_limited(banned.retry_after_secs))
            }
        }
    }

    /// The signed-in actor, or `Unauthenticated`; `TwoFactorRequired` while their team requires
    /// two-factor authentication and they have not set it up.
    async fn actor(&self, req: &RequestParts) -> Result<(Request, Actor), AppError> {
        let (request, actor) = self.actor_setting_up(req).await?;
        if actor.team_requires_two_factor() && !self.has_two_factor(actor.user_id()).await? {
            let message = "Your team requires two-factor authentication: turn it on in your account first.";
            return Err(AppError::new(app::error::ErrorCode::TwoFactorRequired, message));
        }
        Ok((request, actor))
    }

    /// The signed-in actor, whatever their team requires: for what they may do before they have set up
    /// a required second factor (set it up, see their teams, switch team). The one place that turns a
    /// request's credential into an actor: the REST door's token grant, or else the browser's session
    /// (a request reaches the service with one or the other, never both: `request` refuses both).
    async fn actor_setting_up(&self, req: &RequestParts) -> Result<(Request, Actor), AppError> {
        let request = self.request(req)?;
        let actor = match req.extensions.get::<TokenGrant>() {
            Some(grant) => self.token_actor(grant).await?,
            None => self.sessions.actor(&self.db, request.session()?).await?,
        };
        match actor {
            Some(actor) => {
                // Errors logged later in this request name the team and user (see `http::call_server_fn`).
                let span = tracing::Span::current();
                span.record("team", tracing::field::display(actor.team_id()));
                span.record("user", tracing::field::display(actor.user_id()));
                Ok((request, actor))
            }
            None => Err(AppError::unauthenticated()),
        }
    }

    /// The signed-in actor if `policy` allows them `action`. Refusals are "not found" for members who
    /// may not even see the thing, "forbidden" for those who see it but may not change it.
    async fn actor_for(&self, req: &RequestParts, action: Action) -> Result<(Request, Actor), AppError> {
        let (request, actor) = self.actor(req).await?;
        if !policy::may(&actor, action) {
            return Err(AppError::new(app::error::ErrorCode::Forbidden, "You may not do this in this team."));
        }
        Ok((request, actor))
    }

    async fn me(&self, actor: &Actor) -> Result<Me, AppError> {
        let user = db::accounts::find_user(&self.db, actor.user_id()).await?;
        let team = db::accounts::membership(&self.db, actor.user_id(), actor.team_id()).await?;
        match (user, team) {
            (Some(user), Some(team)) => {
                // The actor's flag, not the team's: a session its provider signed in owes none.
                let two_factor_setup_required =
                    actor.team_requires_two_factor() && !self.has_two_factor(user.id).await?;
                Ok(Me { user, team, two_factor_setup_required })
            }
            _ => Err(AppError::unauthenticated()),
        }
    }

    /// An audit entry of `user`, in the actor's team when there is one (no team before they join one).
    async fn audit_user(&self, request: &Request, event: audit::Event, user: UserId, actor: Option<&Actor>) {
        let record = audit::Record {
            event,
            success: true,
            team_id: actor.map(Actor::team_id),
            actor_id: Some(user),
            detail: String::new(),
            source_ip: request.source_ip.clone(),
        };
        audit::record(&self.db, record, self.now()).await;
    }

    async fn audit(&self, request: &Request, event: audit::Event, actor: Option<&Actor>, detail: String) {
        let record = audit::Record {
            event,
            success: true,
            team_id: actor.map(Actor::team_id),
            actor_id: actor.map(Actor::user_id),
            detail,
            source_ip: request.source_ip.clone(),
        };
        audit::record(&self.db, record, self.now()).await;
    }
}

/// The server functions' implementation: each area's trait is implemented in its module, beside the
/// code that does the work.
impl Api for Service {}
