//! Fair shares of a bounded number of places: a place is taken only within its client's share and its
//! team's share, so that one address or one team can never hold every place (four slow uploads of one
//! guest once closed uploads for every team). Waiting for a share is bounded like waiting for a place.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Whose share a place counts against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Holder {
    Address(String),
    Team(String),
}

pub struct FairPlaces {
    total: Arc<Semaphore>,
    per_address: usize,
    per_team: usize,
    shares: Mutex<HashMap<Holder, Arc<Semaphore>>>,
}

/// A place, with the shares it counts against; all are given back when it is dropped.
#[derive(Debug)]
pub struct Place {
    _total: OwnedSemaphorePermit,
    _address: OwnedSemaphorePermit,
    _team: OwnedSemaphorePermit,
}

impl FairPlaces {
    pub fn new(total: usize, per_address: usize, per_team: usize) -> Self {
        Self {
            total: Arc::new(Semaphore::new(total)),
            per_address: per_address.clamp(1, total),
            per_team: per_team.clamp(1, total),
            shares: Mutex::default(),
        }
    }

    /// The semaphore of one holder's share, made on first use. A share nobody holds or waits for has
    /// no handle but the map's (a taken permit and a waiter each keep one): it is forgotten here, so
    /// the map stays as small as the set of clients uploading now.
    fn share(&self, holder: Holder, size: usize) -> Arc<Semaphore> {
        let mut shares = self.shares.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        shares.retain(|_, share| Arc::strong_count(share) > 1);
        shares.entry(holder).or_insert_with(|| Arc::new(Semaphore::new(size))).clone()
    }

    /// A place for `address` in `team`, or `None` when none came free within `wait`.
    pub async fn acquire(&self, address: &str, team: &str, wait: Duration) -> Option<Place> {
        let address_share = self.share(Holder::Address(address.to_owned()), self.per_address);
        let team_share = self.share(Holder::Team(team.to_owned()), self.per_team);
        let taking = async {
            let address = address_share.acquire_owned().await.ok()?;
            let team = team_share.acquire_owned().await.ok()?;
            let total = self.total.clone().acquire_owned().await.ok()?;
            Some(Place { _total: total, _address: address, _team: team })
        };
        tokio::time::timeout(wait, taking).await.ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn one_address_or_one_team_cannot_take_every_place() {
        let places = FairPlaces::new(4, 2, 2);
        let first = places.acquire("198.51.100.1", "team-a", NOW).await.expect("a place");
        let second = places.acquire("198.51.100.1", "team-a", NOW).await.expect("a place");
        assert!(places.acquire("198.51.100.1", "team-b", NOW).await.is_none(), "the address's share is spent");
        assert!(places.acquire("198.51.100.2", "team-a", NOW).await.is_none(), "the team's share is spent");
        let other = places.acquire("198.51.100.3", "team-c", NOW).await.expect("another team still gets a place");
        drop((first, second, other));
        assert!(places.acquire("198.51.100.1", "team-a", NOW).await.is_some(), "shares come back");
    }

    #[tokio::test]
    async fn the_total_still_bounds_everyone() {
        let places = FairPlaces::new(2, 1, 1);
        let _a = places.acquire("a", "1", NOW).await.expect("a place");
        let _b = places.acquire("b", "2", NOW).await.expect("a place");
        assert!(places.acquire("c", "3", NOW).await.is_none());
        assert!(places.shares.lock().expect("lock").len() <= 6);
    }
}
