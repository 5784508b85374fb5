//! Live updates: what a worker delivered is announced here as a hint (an issue, and who got a new
//! inbox entry), never as content; each live connection re-reads what its own reader may see. The
//! hub also bounds the connections, per person and per instance.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use app::model::{IssueId, TeamId, UserId};
use tokio::sync::broadcast;

/// Something changed: the connections of `team` following `issue`, and of `users`, look again.
#[derive(Clone, Debug)]
pub struct Hint {
    pub team: TeamId,
    pub issue: IssueId,
    pub users: Arc<[UserId]>,
}

pub struct Hub {
    hints: broadcast::Sender<Hint>,
    per_user: usize,
    total: usize,
    open: Mutex<HashMap<UserId, usize>>,
    /// Connections reading the database at once: a hint for an issue a thousand people follow wakes
    /// all their connections, which then queue here rather than for the pool the requests use.
    checks: tokio::sync::Semaphore,
}

/// How many live connections read the database at once (per instance).
const CHECKS_AT_ONCE: usize = 4;

/// Why a connection was not opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// This person holds `live_connections_per_user` already.
    PerUser,
    /// The instance holds `live_connections_total` already.
    Instance,
}

impl Hub {
    pub fn new(per_user: usize, total: usize) -> Self {
        // A connection that falls this far behind (lagged) just looks again.
        let (hints, _) = broadcast::channel(256);
        Self {
            hints,
            per_user,
            total,
            open: Mutex::new(HashMap::new()),
            checks: tokio::sync::Semaphore::new(CHECKS_AT_ONCE),
        }
    }

    pub fn publish(&self, hint: Hint) {
        // No receiver is no error: nobody is connected.
        let _ = self.hints.send(hint);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Hint> {
        self.hints.subscribe()
    }

    /// A place for one more connection of `user`, held until the guard is dropped.
    pub fn open(self: &Arc<Self>, user: UserId) -> Result<Connection, Refused> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if open.values().sum::<usize>() >= self.total {
            return Err(Refused::Instance);
        }
        let mine = open.entry(user).or_default();
        if *mine >= self.per_user {
            return Err(Refused::PerUser);
        }
        *mine += 1;
        Ok(Connection { hub: self.clone(), user })
    }

    /// A turn to read the database for one connection, held until dropped.
    pub async fn checking(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.checks.acquire().await.ok()
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).values().sum()
    }
}

/// A live connection's place; dropping it frees the place.
pub struct Connection {
    hub: Arc<Hub>,
    user: UserId,
}

impl Drop for Connection {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_bounded_per_person_and_in_total_and_freed_on_drop() {
        let hub = Arc::new(Hub::new(2, 3));
        let (a, b) = (UserId(uuid::Uuid::new_v4()), UserId(uuid::Uuid::new_v4()));
        let first = hub.open(a).expect("first");
        let _second = hub.open(a).expect("second");
        assert_eq!(hub.open(a).err(), Some(Refused::PerUser));
        let _third = hub.open(b).expect("b's first");
        assert_eq!(hub.open(b).err(), Some(Refused::Instance));
        drop(first);
        assert!(hub.open(b).is_ok(), "a dropped connection frees its place");
    }
}
