//! Rate limits per client address on the expensive routes (uploads, exports), with the `governor`
//! crate: generous enough that people never meet them, low enough that one address cannot keep the
//! pipeline or the database busy. Refusals are 429 `rate_limited` with `Retry-After`. The per-address
//! state is bounded: idle addresses are forgotten every sweep, and at once when many are tracked.

use std::{net::IpAddr, num::NonZeroU32};

use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota};

pub struct Limits {
    uploads: DefaultKeyedRateLimiter<IpAddr>,
    exports: DefaultKeyedRateLimiter<IpAddr>,
}

/// Beyond this many tracked addresses, idle ones are forgotten before counting another.
const MAX_TRACKED: usize = 100_000;

/// What a limit decided.
pub enum Limit {
    Upload,
    Export,
}

impl Limits {
    pub fn new(uploads_per_minute: u32, exports_per_minute: u32) -> Self {
        let per_minute = |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            uploads: DefaultKeyedRateLimiter::keyed(per_minute(uploads_per_minute)),
            exports: DefaultKeyedRateLimiter::keyed(per_minute(exports_per_minute)),
        }
    }

    /// `Ok`, or the seconds `address` must wait.
    pub fn check(&self, limit: &Limit, address: IpAddr) -> Result<(), u64> {
        let limiter = match limit {
            Limit::Upload => &self.uploads,
            Limit::Export => &self.exports,
        };
        if limiter.len() > MAX_TRACKED {
            limiter.retain_recent();
        }
        limiter.check_key(&address).map_err(|not_until| {
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            wait.as_secs() + 1
        })
    }

    /// Forgets addresses whose limits are full again (called by the periodic sweep).
    pub fn forget_idle(&self) {
        for limiter in [&self.uploads, &self.exports] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}
