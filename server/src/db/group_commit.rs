//! Group commit for `SQLite`'s single writer. With `synchronous = FULL` every commit waits for an
//! fsync, and `SQLite` runs one write transaction at a time, so concurrent creates used to queue for
//! one fsync each. Here they queue for one writer task instead, which takes every create waiting
//! (up to [`MAX_BATCH`]), runs them in one transaction, commits once, and only then answers each
//! caller: a create is acknowledged only once it is durable (D1). If one of them fails, the batch is
//! rolled back and each create runs again in a transaction of its own, so one failure fails only
//! its own caller. (Not a savepoint per create: a savepoint makes the FTS5 index write its pending
//! terms as a new segment and merge, which at 100,000 issues took most of a create's time. For the
//! same reason the batch's new issues enter the full-text index in one statement, its last.)
//!
//! The queue is bounded ([`QUEUE`]): when it is full, callers wait for room rather than grow memory.
//! `PostgreSQL` needs none of this (it runs writers concurrently and groups commits itself).

use app::model::IssueId;
use sqlx::{AnyConnection, AnyPool, Connection};
use tokio::sync::{mpsc, oneshot};

use super::{issues::NewIssue, write_gate::WriteGate, DbError};

/// Creates waiting for the writer; more wait for room.
const QUEUE: usize = 1024;
/// Creates in one transaction at most.
const MAX_BATCH: usize = 64;

/// A batch that takes longer is logged: it kept every other writer waiting.
const SLOW_BATCH: std::time::Duration = std::time::Duration::from_secs(1);

type Reply = oneshot::Sender<Result<IssueId, DbError>>;

/// The sending side, held by [`super::Db`].
#[derive(Clone, Debug)]
pub struct GroupCommit {
    queue: mpsc::Sender<(NewIssue, Reply)>,
}

impl GroupCommit {
    /// Starts the writer task on `pool`.
    pub(super) fn start(pool: AnyPool, gate: WriteGate) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(writer(pool, gate, waiting));
        Self { queue }
    }

    /// Queues a create and waits until it is committed (or failed).
    pub(super) async fn create_issue(&self, new: NewIssue) -> Result<IssueId, DbError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((new, reply)).await.map_err(|_| DbError::WriterGone)?;
        answer.await.map_err(|_| DbError::WriterGone)?
    }
}

async fn writer(pool: AnyPool, gate: WriteGate, mut waiting: mpsc::Receiver<(NewIssue, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Each batch waits for its turn among the other writers (comments, edits), as they wait for
        // the batches ahead of them.
        let Ok(turn) = gate.turn().await else {
            for (_, reply) in batch.drain(..) {
                let _ = reply.send(Err(DbError::NoWriteTurn));
            }
            continue;
        };
        let started = std::time::Instant::now();
        let outcomes = match pool.acquire().await {
            Ok(mut conn) => commit_batch(&mut conn, &batch).await,
            Err(e) => Err(DbError::from(e)),
        };
        drop(turn);
        // Writers outside the gate (sessions, the workers' claims) wait for this one up to
        // `busy_timeout`.
        if started.elapsed() >= SLOW_BATCH {
            tracing::warn!(
                creates = batch.len(),
                millis = started.elapsed().as_millis(),
                "a group commit held the writer long"
            );
        }
        match outcomes {
            Ok(outcomes) => {
                for ((_, reply), outcome) in batch.drain(..).zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, creates = batch.len(), "group commit failed");
                for (_, reply) in batch.drain(..) {
                    let _ = reply.send(Err(DbError::GroupCommitFailed));
                }
            }
        }
    }
}

/// One transaction for the batch; if any create fails, one transaction per create instead. `Err`
/// when a transaction itself failed (then nothing of the batch was stored).
async fn commit_batch(
    conn: &mut AnyConnection,
    batch: &[(NewIssue, Reply)],
) -> Result<Vec<Result<IssueId, DbError>>, DbError> {
    let mut tx = conn.begin().await?;
    let mut ids = Vec::with_capacity(batch.len());
    for (new, _) in batch {
        match super::issues::insert_new(&mut tx, new).await {
            Ok(id) => ids.push(Ok(id)),
            // Nothing of a failed create may be committed, nor of the batch around it.
            Err(e) => {
                tx.rollback().await?;
                return if batch.len() == 1 { Ok(vec![Err(e)]) } else { one_by_one(conn, batch).await };
            }
        }
    }
    let created: Vec<IssueId> = ids.iter().filter_map(|id| id.as_ref().ok().copied()).collect();
    super::issues::index_text(&mut tx, &created).await?;
    tx.commit().await?;
    Ok(ids)
}

/// Each create in its own transaction: the slow path after a failure in a batch.
async fn one_by_one(
    conn: &mut AnyConnection,
    batch: &[(NewIssue, Reply)],
) -> Result<Vec<Result<IssueId, DbError>>, DbError> {
    let mut outcomes = Vec::with_capacity(batch.len());
    for (new, _) in batch {
        let mut tx = conn.begin().await?;
        match super::issues::insert_new(&mut tx, new).await {
            Ok(id) => {
                super::issues::index_text(&mut tx, &[id]).await?;
                tx.commit().await?;
                outcomes.push(Ok(id));
            }
            Err(e) => {
                tx.rollback().await?;
                outcomes.push(Err(e));
            }
        }
    }
    Ok(outcomes)
}
