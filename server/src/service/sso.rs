//! Single sign-on: the OWNER's settings (`SsoApi`), and the browser's round trip through the team's
//! provider (`start_sso`, `finish_sso`, called by `http::sso`). What an ID token proves is handed to
//! [`Service::sign_in_with`], the one door to a session, as [`Proven::SingleSignOn`].
//!
//! Who a verified identity is: the pair (issuer, subject) within the team. A pair seen before signs in
//! as its account, if that account is still a member. A new pair whose email names no account gets a
//! new account in the team, with the configured role. A new pair whose email names an existing account
//! is linked only when the provider verified the email, the email's domain is one an operator proved
//! for this team, and the account's owner confirms by signing in to Moth in the same browser;
//! otherwise it is refused (no link, and no second account with the same email).

use app::{
    api::{RequestParts, SsoApi},
    error::{AppError, ErrorCode},
    model::{parse, ConfigureSsoInput, SsoButton, SsoConfiguration, SsoDomain, SsoTeamInput, TeamId, UserId},
};
use base64::{engine::general_purpose::STANDARD, Engine};
use subtle::ConstantTimeEq;

use super::{
    session::{SsoFlow, SsoLink},
    sign_in::Proven,
    Request, Service,
};
use crate::{
    actor::Actor,
    db::{accounts, audit, sso},
    password,
    policy::Action,
    sso::{ClientSettings, SsoError},
};

/// What the provider sent back to `/sso/callback`.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Where a finished round trip leaves the browser.
#[derive(Debug, PartialEq, Eq)]
pub enum Finished {
    /// Signed in: the app.
    SignedIn,
    /// The account has two-factor authentication: the sign-in page asks for the code.
    SecondFactorOwed,
    /// The identity's email names an existing account: the sign-in page asks its owner to confirm by
    /// signing in.
    LinkOffered,
}

/// The answer of every refused round trip: one message, whatever the reason (which the audit entry
/// and the log keep).
fn refused() -> AppError {
    AppError::new(
        ErrorCode::SingleSignOnFailed,
        "Single sign-on did not work: start again from your team's sign-in page. If it keeps failing, ask your team's owner.",
    )
}

impl Service {
    /// The redirect URI of this installation: `public_url`'s origin, else the request's own.
    fn sso_redirect_uri(&self, req: &RequestParts) -> String {
        format!("{}/sso/callback", self.public_base(req))
    }

    fn public_base(&self, req: &RequestParts) -> String {
        if let Some(origin) = &self.public_origin {
            return origin.clone();
        }
        let host = req.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        format!("http://{host}")
    }

    fn open_client_secret(&self, provider: &sso::Provider) -> Result<String, AppError> {
        let what = "the team's single sign-on secret cannot be opened";
        let sealed = STANDARD.decode(&provider.secret).map_err(|e| crate::error::internal(what, e))?;
        let plain = self
            .files
            .keys
            .open(&provider.key_id, &provider.wrapped_key, &sealed)
            .map_err(|e| crate::error::internal(what, e))?;
        String::from_utf8(plain).map_err(|e| crate::error::internal(what, e))
    }

    /// Starts a round trip for `team`: the provider's address to send the browser to.
    pub async fn start_sso(&self, req: &RequestParts, team: TeamId) -> Result<String, AppError> {
        let request = self.request(req)?;
        self.not_banned(&request, None).await?;
        let provider = sso::provider(&self.db, team).await?.filter(|p| p.enabled).ok_or_else(AppError::not_found)?;
        let secret = self.open_client_secret(&provider)?;
        let redirect_uri = self.sso_redirect_uri(req);
        let settings = ClientSettings {
            issuer: &provider.issuer,
            client_id: &provider.client_id,
            client_secret: &secret,
            redirect_uri: &redirect_uri,
        };
        let started = self.oidc.start(&settings).await.map_err(|e| {
            tracing::warn!(team_id = %team, error = %e, "single sign-on could not start");
            AppError {
                retry_after: Some(30),
                ..AppError::new(
                    ErrorCode::Unavailable,
                    "The team's identity provider does not answer just now. Try again soon.",
                )
            }
        })?;
        let flow = SsoFlow {
            team_id: team,
            state: started.state,
            nonce: started.nonce,
            pkce_verifier: started.pkce_verifier,
            redirect_uri,
            since: self.now(),
        };
        self.sessions.begin_sso(request.session()?, &flow).await?;
        Ok(started.url)
    }

    /// Finishes a round trip: checks the `state` against the one this browser's session started
    /// (once: the flow is taken out first), has the code exchanged and the ID token verified, then
    /// signs the identity in, makes its account, or offers a link. Every refusal is audited and
    /// counted as a failed credential.
    pub async fn finish_sso(&self, req: &RequestParts, callback: Callback) -> Result<Finished, AppError> {
        let request = self.request(req)?;
        self.not_banned(&request, None).await?;
        let flow = self.sessions.take_sso(request.session()?).await?;
        let Some(flow) = flow else {
            return Err(self
                .refuse_sso(&request, None, "no round trip was started in this browser, or it took too long")
                .await);
        };
        let team = flow.team_id;
        let state_matches =
            callback.state.as_deref().is_some_and(|s| bool::from(s.as_bytes().ct_eq(flow.state.as_bytes())));
        if !state_matches {
            return Err(self
                .refuse_sso(&request, Some(team), "the state does not match the one this browser started")
                .await);
        }
        if let Some(error) = &callback.error {
            let reason = format!("the provider refused the sign-in ({})", error.chars().take(100).collect::<String>());
            return Err(self.refuse_sso(&request, Some(team), &reason).await);
        }
        let Some(code) = callback.code.as_deref() else {
            return Err(self.refuse_sso(&request, Some(team), "the provider sent no code").await);
        };
        let Some(provider) = sso::provider(&self.db, team).await?.filter(|p| p.enabled) else {
            return Err(self.refuse_sso(&request, Some(team), "the team's single sign-on is off").await);
        };
        let secret = self.open_client_secret(&provider)?;
        let settings = ClientSettings {
            issuer: &provider.issuer,
            client_id: &provider.client_id,
            client_secret: &secret,
            redirect_uri: &flow.redirect_uri,
        };
        let verified = match self.oidc.finish(&settings, code, &flow.pkce_verifier, &flow.nonce).await {
            Ok(verified) => verified,
            Err(e @ (SsoError::Refused(_) | SsoError::Discovery(_))) => {
                tracing::warn!(team_id = %team, error = %e, "single sign-on: the provider does not answer");
                return Err(self.refuse_sso(&request, Some(team), "the provider could not be reached").await);
            }
            Err(e) => return Err(self.refuse_sso(&request, Some(team), &e.to_string()).await),
        };
        // OpenID Connect bounds a subject to 255 ASCII characters; the table repeats it.
        if verified.subject.is_empty() || verified.subject.len() > 255 {
            return Err(self.refuse_sso(&request, Some(team), "the ID token's subject is empty or too long").await);
        }
        let identity = sso::Identity { team, issuer: &verified.issuer, subject: &verified.subject };
        if let Some(user) = sso::identity(&self.db, team, identity.issuer, identity.subject).await? {
            return self.sign_in_identity(&request, &identity, user).await;
        }
        self.arrive(&request, &provider, &identity, &verified).await
    }

    /// Signs in an identity linked before, if its account is still a member of the team.
    async fn sign_in_identity(
        &self,
        request: &Request,
        identity: &sso::Identity<'_>,
        user: UserId,
    ) -> Result<Finished, AppError> {
        if accounts::membership(&self.db, user, identity.team).await?.is_none() {
            return Err(self
                .refuse_sso(request, Some(identity.team), "the identity's account is no longer a member")
                .await);
        }
        sso::signed_in(&self.db, identity.team, identity.issuer, identity.subject, self.now()).await?;
        self.signed_in_through_sso(request, user, identity.team).await
    }

    async fn signed_in_through_sso(&self, request: &Request, user: UserId, team: TeamId) -> Result<Finished, AppError> {
        match self.sign_in_with(request, Proven::SingleSignOn(user), team, "sso").await {
            Ok(Some(_)) => Ok(Finished::SignedIn),
            Ok(None) => Err(AppError::unauthenticated()),
            Err(e) if e.code == ErrorCode::SecondFactorRequired => Ok(Finished::SecondFactorOwed),
            Err(e) => Err(e),
        }
    }

    /// A new identity: a new account in the team, or a link offered to the account its email names,
    /// or a refusal.
    async fn arrive(
        &self,
        request: &Request,
        provider: &sso::Provider,
        identity: &sso::Identity<'_>,
        verified: &crate::sso::Verified,
    ) -> Result<Finished, AppError> {
        let team = identity.team;
        let email = verified.email.as_deref().map(str::to_lowercase).filter(|e| app::rules::email(e, &()).is_ok());
        let Some(email) = email else {
            return Err(self.refuse_sso(request, Some(team), "the provider gave no usable email").await);
        };
        if let Some(existing) = accounts::find_credentials(&self.db, &email).await? {
            let domain = email.rsplit('@').next().unwrap_or_default();
            let proven = sso::domain_proven(&self.db, team, domain).await?;
            if !(verified.email_verified && proven) {
                let why = format!(
                    "{email} has an account; not linked: the email is {} by the provider and its domain is {} for the team",
                    if verified.email_verified { "verified" } else { "not verified" },
                    if proven { "proven" } else { "not proven" },
                );
                return Err(self.refuse_sso(request, Some(team), &why).await);
            }
            let link = SsoLink {
                team_id: team,
                issuer: identity.issuer.to_owned(),
                subject: identity.subject.to_owned(),
                user_id: existing.user_id,
                role: provider.new_member_role,
                since: self.now(),
            };
            self.sessions.offer_link(request.session()?, &link).await?;
            return Ok(Finished::LinkOffered);
        }
        // An account whose password nobody knows: it signs in through the provider.
        let unknowable = STANDARD.encode(rand::random::<[u8; 32]>());
        let hash = password::hash(unknowable).await?;
        let name: String = email.split('@').next().unwrap_or("member").chars().take(100).collect();
        let made =
            sso::make_account(&self.db, identity, &email, &name, &hash, provider.new_member_role, self.now()).await;
        let user = match made {
            Ok(user) => user,
            Err(e) if e.is_unique_violation() => {
                return Err(self
                    .refuse_sso(request, Some(team), "the identity or its email arrived twice at once")
                    .await);
            }
            Err(e) => return Err(e.into()),
        };
        let detail = format!("through single sign-on, as {}", provider.new_member_role.as_str());
        let record = audit::Record {
            event: audit::Event::AccountCreated,
            success: true,
            team_id: Some(team),
            actor_id: Some(user),
            detail,
            source_ip: request.source_ip.clone(),
        };
        audit::record(&self.db, record, self.now()).await;
        self.signed_in_through_sso(request, user, team).await
    }

    /// Audits and counts a refused round trip; answers the one message the browser sees.
    async fn refuse_sso(&self, request: &Request, team: Option<TeamId>, why: &str) -> AppError {
        tracing::info!(team_id = ?team, why, "single sign-on refused");
        let account = format!("sso:{}", team.map(|t| t.to_string()).unwrap_or_default());
        if let Err(e) = self.bans.failed(&request.client(), "sso_callback", &account).await {
            tracing::error!(error = %e, "could not count a failed single sign-on");
        }
        let record = audit::Record {
            event: audit::Event::SsoRefused,
            success: false,
            team_id: team,
            actor_id: None,
            // The reason may quote the provider's words: printable characters only, bounded.
            detail: why.chars().filter(|c| !c.is_control()).take(500).collect(),
            source_ip: request.source_ip.clone(),
        };
        audit::record(&self.db, record, self.now()).await;
        refused()
    }

    async fn settings_of(&self, req: &RequestParts, actor: &Actor) -> Result<Option<SsoConfiguration>, AppError> {
        let Some(provider) = sso::provider(&self.db, actor.team_id()).await? else { return Ok(None) };
        let domains = sso::domains(&self.db, actor.team_id()).await?;
        let base = self.public_base(req);
        Ok(Some(SsoConfiguration {
            issuer: provider.issuer,
            display_name: provider.display_name,
            client_id: provider.client_id,
            has_client_secret: !provider.secret.is_empty(),
            domains: domains.into_iter().map(|(domain, proven)| SsoDomain { domain, proven }).collect(),
            new_member_role: provider.new_member_role,
            required: sso::required(&self.db, actor.team_id()).await?,
            enabled: provider.enabled,
            redirect_uri: format!("{base}/sso/callback"),
            sign_in_url: format!("{base}/signin?team={}", actor.team_id()),
        }))
    }
}

#[async_trait::async_trait]
impl SsoApi for Service {
    async fn sso_settings(&self, req: &RequestParts) -> Result<Option<SsoConfiguration>, AppError> {
        let (_, actor) = self.actor_for(req, Action::ConfigureSso).await?;
        self.settings_of(req, &actor).await
    }

    #[tracing::instrument(skip_all)]
    async fn configure_sso(&self, req: &RequestParts, input: ConfigureSsoInput) -> Result<SsoConfiguration, AppError> {
        let input = parse(input)?.into_inner();
        let (request, actor) = self.actor_for(req, Action::ConfigureSso).await?;
        if input.required && input.enabled && !self.has_two_factor(actor.user_id()).await? {
            let message = "Turn on two-factor authentication for your own account first: it is the break-glass way in \
                           while single sign-on is required.";
            return Err(AppError::new(ErrorCode::Conflict, message));
        }
        self.oidc.check(&input.issuer).await.map_err(|e| {
            tracing::info!(error = %e, "single sign-on: the issuer does not answer discovery");
            AppError::field(
                "issuer",
                "Moth could not read this issuer's discovery document (/.well-known/openid-configuration).",
            )
        })?;
        let secret = (!input.client_secret.is_empty()).then(|| {
            let sealed = self.files.keys.seal(input.client_secret.as_bytes());
            sso::SealedSecret {
                secret: STANDARD.encode(&sealed.bytes),
                key_id: sealed.key_id,
                wrapped_key: sealed.wrapped_key,
            }
        });
        let settings = sso::Settings {
            issuer: &input.issuer,
            display_name: &input.display_name,
            client_id: &input.client_id,
            secret,
            domains: &input.domains,
            new_member_role: input.new_member_role,
            required: input.required,
            enabled: input.enabled,
        };
        if !sso::save(&self.db, &actor, settings, self.now()).await? {
            return Err(AppError::field("client_secret", "Enter the client secret the provider gave Moth."));
        }
        let detail = format!(
            "issuer {}, domains [{}], newcomers as {}, {}{}",
            input.issuer,
            input.domains.join(", "),
            input.new_member_role.as_str(),
            if input.enabled { "on" } else { "off" },
            if input.required && input.enabled { ", required" } else { "" },
        );
        self.audit(&request, audit::Event::SsoConfigured, Some(&actor), detail).await;
        self.settings_of(req, &actor).await?.ok_or_else(AppError::internal)
    }

    async fn sso_sign_in_option(
        &self,
        _req: &RequestParts,
        input: SsoTeamInput,
    ) -> Result<Option<SsoButton>, AppError> {
        let input = parse(input)?.into_inner();
        let provider = sso::provider(&self.db, input.team_id).await?.filter(|p| p.enabled);
        Ok(provider
            .map(|p| SsoButton { display_name: p.display_name, start_url: format!("/sso/{}/start", input.team_id) }))
    }
}
