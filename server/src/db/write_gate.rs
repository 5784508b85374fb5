//! `SQLite`'s writers take turns, first come, first served. `SQLite` lets one transaction write at a
//! time and makes the others poll for its lock (the busy handler), which is not fair: under a flood
//! of creates, the group commit's batches follow each other so closely that a comment or an edit
//! could miss every gap for `busy_timeout` and be refused. Every transaction begun with
//! [`super::Db::begin_write`], and each batch of the group commit, first waits here for its turn in
//! the order of arrival, so a writer waits for those that came before it and no longer. The wait is
//! bounded as the busy handler's is; past it the write is refused as `busy` (nothing was done).
//!
//! One gate per [`super::Db`] (its clones share it), so per process: `SQLite` serves one instance.
//! `PostgreSQL` runs writers side by side and has none.

use std::{sync::Arc, time::Duration};

use tokio::sync::{Mutex, OwnedMutexGuard};

use super::DbError;

/// How long a writer waits for its turn: `SQLite`'s `busy_timeout`.
pub(super) const LONGEST_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, Default)]
pub(super) struct WriteGate(Arc<Mutex<()>>);

/// A writer's turn: the next one waiting has it once this is dropped.
#[derive(Debug)]
pub(super) struct Turn(#[allow(dead_code)] OwnedMutexGuard<()>);

impl WriteGate {
    /// Waits for this writer's turn (tokio's mutex is served in the order of arrival), at most
    /// [`LONGEST_WAIT`].
    pub(super) async fn turn(&self) -> Result<Turn, DbError> {
        self.turn_within(LONGEST_WAIT).await
    }

    async fn turn_within(&self, longest: Duration) -> Result<Turn, DbError> {
        tokio::time::timeout(longest, self.0.clone().lock_owned()).await.map(Turn).map_err(|_| DbError::NoWriteTurn)
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::{Arc, Mutex},
        time::Duration,
    };

    use super::{WriteGate, LONGEST_WAIT};

    /// Writers that arrive one after another get their turns in that order, whoever is holding the
    /// gate meanwhile.
    #[tokio::test]
    async fn writers_take_turns_in_the_order_they_arrived() {
        let gate = WriteGate::default();
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = gate.turn().await.expect("the gate is free");
        let mut writers = tokio::task::JoinSet::new();
        for writer in 0..5 {
            let (gate, order) = (gate.clone(), order.clone());
            writers.spawn(async move {
                let _turn = gate.turn().await.expect("a turn");
                order.lock().expect("order").push(writer);
                // Holds its turn across an await, as a transaction does.
                tokio::task::yield_now().await;
            });
            // Lets this writer start waiting before the next one arrives.
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
        }
        assert!(order.lock().expect("order").is_empty(), "no writer went before the holder was done");
        drop(first);
        writers.join_all().await;
        assert_eq!(*order.lock().expect("order"), vec![0, 1, 2, 3, 4]);
    }

    /// A writer that does not get its turn within the longest wait is refused as busy.
    #[tokio::test]
    async fn a_writer_waits_no_longer_than_the_longest_wait() {
        let gate = WriteGate::default();
        let _held = gate.turn().await.expect("the gate is free");
        let longest = Duration::from_millis(200);
        let started = std::time::Instant::now();
        let refused = gate.turn_within(longest).await.expect_err("the gate stays held");
        assert!(refused.is_busy(), "{refused}");
        assert!(started.elapsed() >= longest, "refused after {:?}", started.elapsed());
        assert!(LONGEST_WAIT >= Duration::from_secs(5), "no shorter than SQLite's own busy_timeout");
    }
}
