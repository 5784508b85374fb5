//! The HTTP client of the deliveries: every connection goes through the SSRF guard (a literal address
//! is checked before each attempt, a name by the resolver when the connection is made, so a name that
//! rebinds to a private address is refused then), no redirects are followed, no proxy from the
//! environment is used, and each attempt is bounded: connect and total timeouts, and at most
//! [`READ_LIMIT`] bytes of the answer are read (and dropped).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use crate::{
    db::webhooks::{Attempt, Due},
    export::ssrf,
};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a receiver's answer is read before the connection is dropped.
const READ_LIMIT: usize = 64 * 1024;

pub struct Client {
    http: reqwest::Client,
    allow_private: bool,
}

/// The resolver of the client: the system's answer, refused whole if any address is not public.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if !allow_private {
                if let Some(refused) = addresses.iter().find(|a| !ssrf::is_public(a.ip())) {
                    tracing::warn!(host = name.as_str(), address = %refused.ip(), "webhooks: refused a non-public address");
                    return Err(
                        Box::new(ssrf::Refused::Private(refused.ip())) as Box<dyn std::error::Error + Send + Sync>
                    );
                }
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client of Moth's own to addresses someone else chose (webhook receivers, single sign-on
/// providers): the guarded resolver, no redirects, no proxy from the environment, and timeouts.
pub fn guarded(user_agent: &'static str, allow_private: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .user_agent(user_agent)
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .build()
        // Fail closed: a plain client would lack the guarded resolver and the redirect rule.
        .expect("the guarded client builds (TLS roots and resolver only)")
}

impl Client {
    pub fn new(allow_private: bool) -> Self {
        Self { http: guarded("Moth-Webhooks/1", allow_private), allow_private }
    }

    /// Sends one delivery, signed with `secret` at `now_secs`; a 2xx answer is success.
    pub async fn deliver(&self, due: &Due, secret: &[u8], now_secs: i64) -> Attempt {
        let started = std::time::Instant::now();
        let latency = || i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        if let Err(refused) = ssrf::check_url(&due.url, self.allow_private).await {
            return Attempt { status_code: None, latency_ms: 0, error: Some(refused.to_string()) };
        }
        let signature = super::sign::signature(secret, &due.id, now_secs, &due.payload);
        let sent = self
            .http
            .post(&due.url)
            .header("content-type", "application/json")
            .header("webhook-id", &due.id)
            .header("webhook-timestamp", now_secs.to_string())
            .header("webhook-signature", signature)
            .body(due.payload.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => return Attempt { status_code: None, latency_ms: latency(), error: Some(failure(&e)) },
        };
        let status = response.status();
        let mut read = 0;
        while read < READ_LIMIT {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                Ok(None) | Err(_) => break,
            }
        }
        let error = (!status.is_success()).then(|| format!("the receiver answered {}", status.as_u16()));
        Attempt { status_code: Some(i64::from(status.as_u16())), latency_ms: latency(), error }
    }
}

/// Why a request failed, in words a hook's owner may read (no internal address or detail).
fn failure(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the receiver did not answer in time".into()
    } else if e.is_connect() {
        "no connection could be made to the receiver (or its address is not public)".into()
    } else {
        "the request could not be sent".into()
    }
}
