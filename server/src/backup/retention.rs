//! Which snapshots to keep: tiers of "one every `every`, kept for `keep_for`" (by default the
//! promise Moth is built on: every 6 hours kept 4 days, daily kept 7 days, weekly kept 4 weeks).
//!
//! One series of snapshots serves every tier: a snapshot is kept while it is the *first* one in its
//! tier's time slot (UTC, counted from the Unix epoch) and younger than the tier's `keep_for`. The
//! first in a slot never changes as later snapshots arrive, so what is kept is stable. The newest
//! snapshot is always kept, whatever the tiers say.

use std::{collections::BTreeSet, time::Duration};

pub use crate::config::backup_tiers::{parse, Tier, DEFAULT};

/// The shortest interval of the tiers: a snapshot is due when the newest is this old.
pub fn interval(tiers: &[Tier]) -> Duration {
    tiers.iter().map(|t| t.every).min().unwrap_or(Duration::from_secs(6 * 3_600))
}

/// Of the snapshots taken at `taken` (Unix milliseconds, any order), the ones to keep at `now`.
pub fn keep(taken: &[i64], now: i64, tiers: &[Tier]) -> BTreeSet<i64> {
    let mut sorted: Vec<i64> = taken.to_vec();
    sorted.sort_unstable();
    let mut kept = BTreeSet::new();
    if let Some(newest) = sorted.last() {
        kept.insert(*newest);
    }
    for tier in tiers {
        let every = i64::try_from(tier.every.as_millis()).unwrap_or(i64::MAX).max(1);
        let keep_for = i64::try_from(tier.keep_for.as_millis()).unwrap_or(i64::MAX);
        let mut last_slot = None;
        for &t in &sorted {
            let slot = t.div_euclid(every);
            if last_slot != Some(slot) {
                last_slot = Some(slot);
                if now - t < keep_for {
                    kept.insert(t);
                }
            }
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;

    #[test]
    fn tiers_parse_and_bad_ones_say_why() {
        let tiers = parse(DEFAULT).expect("valid");
        assert_eq!(tiers.len(), 3);
        assert_eq!(tiers[0], Tier { every: Duration::from_secs(6 * 3600), keep_for: Duration::from_secs(4 * 86_400) });
        assert_eq!(tiers[2].keep_for, Duration::from_secs(28 * 86_400));
        assert!(parse("6h").expect_err("refused").contains("every:keep_for"));
        assert!(parse("6x:1d").expect_err("refused").contains("unit"));
        assert!(parse("0h:1d").expect_err("refused").contains("more than zero"));
    }

    /// Sixty days of a snapshot every six hours, pruned after each one as the server does, with the
    /// clock moved by the test: what is left is exactly the default tiers' promise.
    #[test]
    fn sixty_days_of_six_hourly_snapshots_leave_exactly_the_tiers() {
        let tiers = parse(DEFAULT).expect("valid");
        // Day 0 is a Thursday, as the Unix epoch was: start on a slot boundary of every tier.
        let start = 20_000 * 7 * DAY;
        let mut stored: Vec<i64> = Vec::new();
        let mut now = start;
        for _ in 0..(60 * 4) {
            stored.push(now);
            let kept = keep(&stored, now, &tiers);
            stored.retain(|t| kept.contains(t));
            now += 6 * HOUR;
        }
        let newest = now - 6 * HOUR;
        let age_of = |t: &i64| newest - t;
        let mut expected: BTreeSet<i64> = BTreeSet::new();
        // Six-hourly: the 16 taken within the last 4 days (the one exactly 4 days old has gone).
        expected.extend((0..16).map(|i| newest - i * 6 * HOUR));
        // Daily: the first of each of the last 7 days (midnight UTC).
        let today = newest - newest.rem_euclid(DAY);
        expected.extend((0..7).map(|i| today - i * DAY).filter(|t| newest - t < 7 * DAY));
        // Weekly: the first of each week (Thursdays, 00:00) younger than 4 weeks.
        let this_week = newest - newest.rem_euclid(7 * DAY);
        expected.extend((0..5).map(|i| this_week - i * 7 * DAY).filter(|t| newest - t < 28 * DAY));
        let left: BTreeSet<i64> = stored.iter().copied().collect();
        assert_eq!(
            left,
            expected,
            "ages kept (hours): {:?}",
            left.iter().map(|t| age_of(t) / HOUR).collect::<Vec<_>>()
        );
        // 16 six-hourly; 3 more daily (the 4 youngest midnights are six-hourly too); 3 more weekly.
        assert_eq!(left.len(), 22);
    }

    #[test]
    fn the_newest_snapshot_is_kept_however_old() {
        let tiers = parse("1h:1d").expect("valid");
        let kept = keep(&[0, 10 * HOUR], 100 * DAY, &tiers);
        assert_eq!(kept.into_iter().collect::<Vec<_>>(), vec![10 * HOUR]);
    }
}
