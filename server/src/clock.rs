//! Time as the session rules see it. Production uses the system clock; tests use [`ManualClock`] to
//! move time forward without waiting.

use std::sync::Mutex;

use time::{Duration, OffsetDateTime};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// The system time plus an offset that only moves forward when told to.
#[derive(Default)]
pub struct ManualClock {
    offset: Mutex<Duration>,
}

impl ManualClock {
    pub fn advance(&self, by: std::time::Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *offset += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        let offset = *self.offset.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        OffsetDateTime::now_utc() + offset
    }
}

/// Unix milliseconds, the form times take in the database.
pub fn unix_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// `2026-11-22T07:15:53Z` for Unix milliseconds, as exports show times.
pub fn iso8601(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.replace_nanosecond(0).ok())
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}
