//! Keeps the two look-ups every signed-in request makes (its session record and the actor's
//! membership) in memory, so that a read costs no statement for them.
//!
//! Safe only while this process is the only writer of sessions and memberships: every change made
//! here also updates or clears the cache (`sessions::DbSessionStore` writes through it; every
//! membership write in `members` clears the memberships), but a change made by another server
//! instance would not. So the cache is on by default with `SQLite` (one process owns the file) and off
//! with `PostgreSQL` (the way to run several instances); `session_cache_entries` overrides both.
//! A membership that does not exist is never cached, so an accepted invitation applies at once.

//!
//! A look-up that missed reads the database and then fills the cache, but only if nothing changed in
//! between: every change bumps a generation under a lock, and a fill whose read began under an older
//! generation is dropped. Otherwise a sign-out racing a read could put the ended session back.

use std::sync::Mutex;

use app::model::{TeamId, TeamMembership, UserId};
use quick_cache::sync::Cache;
use tower_sessions::session::{Id, Record};

/// One cache with the fill rule above.
#[derive(Debug)]
struct Guarded<K, V> {
    entries: Cache<K, V>,
    generation: Mutex<u64>,
}

/// Where a read that missed began: pass it back to [`Guarded::fill`].
#[derive(Clone, Copy, Debug)]
pub(super) struct Generation(u64);

impl<K: Eq + std::hash::Hash + Clone, V: Clone> Guarded<K, V> {
    fn new(entries: usize) -> Self {
        Self { entries: Cache::new(entries), generation: Mutex::new(0) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, u64> {
        // The guarded value is a counter: a panic elsewhere cannot leave it inconsistent.
        self.generation.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn get(&self, key: &K) -> Result<V, Generation> {
        self.entries.get(key).ok_or_else(|| Generation(*self.lock()))
    }

    fn fill(&self, since: Generation, key: K, value: V) {
        let generation = self.lock();
        if *generation == since.0 {
            self.entries.insert(key, value);
        }
    }

    fn change(&self, apply: impl FnOnce(&Cache<K, V>)) {
        let mut generation = self.lock();
        *generation += 1;
        apply(&self.entries);
    }
}

#[derive(Debug)]
pub struct AuthCache {
    sessions: Guarded<Id, Record>,
    memberships: Guarded<(UserId, TeamId), TeamMembership>,
}

impl AuthCache {
    /// A cache of at most `entries` sessions and as many memberships.
    pub fn new(entries: usize) -> Self {
        Self { sessions: Guarded::new(entries), memberships: Guarded::new(entries) }
    }

    pub(super) fn session(&self, id: &Id) -> Result<Record, Generation> {
        self.sessions.get(id)
    }

    /// A record read from the database after [`Self::session`] missed.
    pub(super) fn fill_session(&self, since: Generation, record: &Record) {
        self.sessions.fill(since, record.id, record.clone());
    }

    /// A record just written to the database.
    pub(super) fn saved_session(&self, record: &Record) {
        self.sessions.change(|entries| entries.insert(record.id, record.clone()));
    }

    pub(super) fn deleted_session(&self, id: &Id) {
        self.sessions.change(|entries| {
            entries.remove(id);
        });
    }

    pub(super) fn membership(&self, user_id: UserId, team_id: TeamId) -> Result<TeamMembership, Generation> {
        self.memberships.get(&(user_id, team_id))
    }

    pub(super) fn fill_membership(&self, since: Generation, user_id: UserId, membership: &TeamMembership) {
        self.memberships.fill(since, (user_id, membership.id), membership.clone());
    }

    /// After any change to memberships: roles and removals apply on the next request (T6).
    pub(super) fn memberships_changed(&self) {
        self.memberships.change(Cache::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_that_raced_a_change_is_dropped() {
        let cache: Guarded<u32, &str> = Guarded::new(8);
        let Err(since) = cache.get(&1) else { panic!("empty cache hit") };
        // A sign-out (or role change) lands between the database read and the fill.
        cache.change(|entries| {
            entries.remove(&1);
        });
        cache.fill(since, 1, "read before the change");
        assert!(cache.get(&1).is_err(), "a stale read must not be cached");

        let Err(since) = cache.get(&1) else { panic!("dropped fill was cached") };
        cache.fill(since, 1, "read after the change");
        assert_eq!(cache.get(&1).ok(), Some("read after the change"));
    }

    #[test]
    fn membership_changes_forget_every_role() {
        let cache = AuthCache::new(8);
        let (user, team) = (UserId(uuid::Uuid::new_v4()), TeamId(uuid::Uuid::new_v4()));
        let membership = TeamMembership {
            id: team,
            name: "A".into(),
            role: app::model::Role::Admin,
            requires_two_factor: false,
            requires_single_sign_on: false,
        };
        let Err(since) = cache.membership(user, team) else { panic!("empty cache hit") };
        cache.fill_membership(since, user, &membership);
        assert_eq!(cache.membership(user, team).ok(), Some(membership));
        cache.memberships_changed();
        assert!(cache.membership(user, team).is_err());
    }
}
