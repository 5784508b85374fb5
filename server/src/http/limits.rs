//! Rate limits, with the `governor` crate: every API request per client address and per session (or
//! access token),
//! and the expensive routes (uploads, exports) per address on top. Generous enough that people never
//! meet them, low enough that one address or one session cannot keep the server busy. Refusals are
//! 429 `rate_limited` with `Retry-After`. The state is bounded: idle keys are forgotten every sweep,
//! and at once when many are tracked. Sessions are keyed by a keyed hash of their cookie, so no
//! cookie is kept in memory.

use std::{net::IpAddr, num::NonZeroU32};

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota};

pub struct Limits {
    uploads: DefaultKeyedRateLimiter<IpAddr>,
    exports: DefaultKeyedRateLimiter<IpAddr>,
    api: DefaultKeyedRateLimiter<IpAddr>,
    sessions: DefaultKeyedRateLimiter<u64>,
    /// Each access token's requests to the REST API.
    tokens: DefaultKeyedRateLimiter<app::model::TokenId>,
    /// Keys the session hashes (random per process).
    hasher: std::hash::RandomState,
}

fn check<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), u64> {
    if limiter.len() > MAX_TRACKED {
        limiter.retain_recent();
    }
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
        wait.as_secs() + 1
    })
}

/// Beyond this many tracked addresses, idle ones are forgotten before counting another.
const MAX_TRACKED: usize = 100_000;

/// The limits of one kind of route, on top of the API's.
pub enum Limit {
    Upload,
    Export,
}

impl Limit {
    pub fn name(&self) -> &'static str {
        match self {
            Limit::Upload => "upload",
            Limit::Export => "export",
        }
    }
}

/// The per-minute numbers (configuration).
pub struct Rates {
    pub uploads: u32,
    pub exports: u32,
    pub api: u32,
    pub session: u32,
    pub token: u32,
}

impl Limits {
    pub fn new(rates: &Rates) -> Self {
        let per_minute = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            uploads: DefaultKeyedRateLimiter::keyed(per_minute(rates.uploads)),
            exports: DefaultKeyedRateLimiter::keyed(per_minute(rates.exports)),
            api: DefaultKeyedRateLimiter::keyed(per_minute(rates.api)),
            sessions: DefaultKeyedRateLimiter::keyed(per_minute(rates.session)),
            tokens: DefaultKeyedRateLimiter::keyed(per_minute(rates.token)),
            hasher: std::hash::RandomState::new(),
        }
    }

    /// `Ok`, or the seconds `address` must wait.
    pub fn check(&self, limit: &Limit, address: IpAddr) -> Result<(), u64> {
        let limiter = match limit {
            Limit::Upload => &self.uploads,
            Limit::Export => &self.exports,
        };
        check(limiter, &address)
    }

    /// Every API request: `Ok`, or which limit refused it (`address` or `session`) and the seconds to
    /// wait. The address is checked first, so a client that changes its cookie gains nothing.
    pub fn check_api(&self, address: Option<IpAddr>, session: Option<&str>) -> Result<(), (&'static str, u64)> {
        if let Some(address) = address {
            check(&self.api, &address).map_err(|wait| ("address", wait))?;
        }
        if let Some(session) = session {
            let key = std::hash::BuildHasher::hash_one(&self.hasher, session);
            check(&self.sessions, &key).map_err(|wait| ("session", wait))?;
        }
        Ok(())
    }

    /// A REST request with `token`: `Ok`, or the seconds to wait.
    pub fn check_token(&self, token: app::model::TokenId) -> Result<(), u64> {
        check(&self.tokens, &token)
    }

    /// Forgets keys whose limits are full again (called by the periodic sweep).
    pub fn forget_idle(&self) {
        for limiter in [&self.uploads, &self.exports, &self.api] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        self.sessions.retain_recent();
        self.sessions.shrink_to_fit();
        self.tokens.retain_recent();
        self.tokens.shrink_to_fit();
    }
}
