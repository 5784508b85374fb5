//! OpenID Connect with a team's provider, through the maintained `openidconnect` crate: discovery,
//! the authorization URL (code flow, PKCE S256, `state`, `nonce`), and the code exchange whose ID
//! token the crate verifies (signature against the provider's published keys, issuer, audience,
//! expiry, `nonce`). What Moth then does with the identity is `service::sso`'s.
//!
//! Every request to a provider goes through [`Oidc::send`]: the guarded client of
//! `webhooks::client` (no redirects, the SSRF guard on names and on literal addresses, timeouts) and
//! at most [`READ_LIMIT`] bytes of an answer, since an issuer is an address a team's OWNER chose.

use openidconnect::{
    core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata},
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};

use crate::export::ssrf;

/// The most of a provider's answer (discovery document, key set, token answer) Moth reads.
const READ_LIMIT: usize = 256 * 1024;

/// Why a round trip with a provider failed. The text is for the server's log and the audit entry;
/// the person signing in gets a plain message.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    #[error("the provider's address is refused: {0}")]
    Refused(#[from] ssrf::Refused),
    #[error("the provider's discovery document could not be read: {0}")]
    Discovery(String),
    #[error("the code exchange failed: {0}")]
    Exchange(String),
    #[error("the provider answered no ID token")]
    NoIdToken,
    #[error("the ID token does not verify: {0}")]
    IdToken(String),
}

/// A started sign-in: where to send the browser, and what the session keeps to check the answer.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The identity a verified ID token names.
#[derive(Debug)]
pub struct Verified {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    /// Only `true` when the provider says so (`email_verified`); absent is not verified.
    pub email_verified: bool,
}

/// A team's client at its provider.
pub struct ClientSettings<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub redirect_uri: &'a str,
}

/// A failed request to a provider (the crate's HTTP client error).
#[derive(Debug, thiserror::Error)]
pub enum HttpFailure {
    #[error("refused: {0}")]
    Refused(#[from] ssrf::Refused),
    #[error("{0}")]
    Request(#[from] reqwest::Error),
    #[error("the answer is larger than {READ_LIMIT} bytes")]
    TooLarge,
    #[error("the answer could not be read")]
    Malformed,
}

pub struct Oidc {
    http: reqwest::Client,
    allow_private: bool,
}

impl Oidc {
    pub fn new(allow_private: bool) -> Self {
        Self { http: crate::webhooks::client::guarded("Moth-SSO/1", allow_private), allow_private }
    }

    /// One request to a provider, bounded (see the module's documentation).
    async fn send(
        http: reqwest::Client,
        allow_private: bool,
        request: openidconnect::HttpRequest,
    ) -> Result<openidconnect::HttpResponse, HttpFailure> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        ssrf::check_url(&url, allow_private).await?;
        let mut response = http.request(parts.method, url).headers(parts.headers).body(body).send().await?;
        let mut read = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if read.len() + chunk.len() > READ_LIMIT {
                return Err(HttpFailure::TooLarge);
            }
            read.extend_from_slice(&chunk);
        }
        let mut answer = http::Response::builder().status(response.status());
        if let Some(headers) = answer.headers_mut() {
            *headers = response.headers().clone();
        }
        answer.body(read).map_err(|_| HttpFailure::Malformed)
    }

    /// The crate's HTTP client: [`Oidc::send`] with this client's settings.
    fn caller(
        &self,
    ) -> impl Fn(
        openidconnect::HttpRequest,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, HttpFailure>> + Send>,
    > {
        let (http, allow_private) = (self.http.clone(), self.allow_private);
        move |request| Box::pin(Self::send(http.clone(), allow_private, request))
    }

    /// The provider's discovery document (and its key set), whose issuer must be `issuer` exactly.
    async fn discover(&self, issuer: &str) -> Result<CoreProviderMetadata, SsoError> {
        ssrf::check_url(issuer, self.allow_private).await?;
        let issuer = IssuerUrl::new(issuer.to_owned()).map_err(|e| SsoError::Discovery(e.to_string()))?;
        CoreProviderMetadata::discover_async(issuer, &self.caller())
            .await
            .map_err(|e| SsoError::Discovery(error_chain(&e)))
    }

    /// Checks that an issuer answers discovery (when an OWNER configures it).
    pub async fn check(&self, issuer: &str) -> Result<(), SsoError> {
        self.discover(issuer).await.map(|_| ())
    }

    /// Starts a sign-in: the provider's authorization URL with a fresh `state`, `nonce` and PKCE
    /// challenge, asking for `openid` and `email`.
    pub async fn start(&self, settings: &ClientSettings<'_>) -> Result<Started, SsoError> {
        let client = self.client(settings).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges `code` (with the PKCE verifier) and verifies the ID token: signature, issuer,
    /// audience, expiry and `nonce`.
    pub async fn finish(
        &self,
        settings: &ClientSettings<'_>,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Verified, SsoError> {
        let client = self.client(settings).await?;
        let answer = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| SsoError::Exchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.caller())
            .await
            .map_err(|e| SsoError::Exchange(error_chain(&e)))?;
        let id_token = answer.id_token().ok_or(SsoError::NoIdToken)?;
        let claims = id_token
            .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_owned()))
            .map_err(|e| SsoError::IdToken(error_chain(&e)))?;
        Ok(Verified {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified() == Some(true),
        })
    }

    async fn client(
        &self,
        settings: &ClientSettings<'_>,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        SsoError,
    > {
        let metadata = self.discover(settings.issuer).await?;
        let redirect =
            RedirectUrl::new(settings.redirect_uri.to_owned()).map_err(|e| SsoError::Discovery(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.to_owned()),
            Some(ClientSecret::new(settings.client_secret.to_owned())),
        )
        .set_redirect_uri(redirect))
    }
}

/// An error with its causes, for the log: the crate's errors say the useful part in their sources.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
