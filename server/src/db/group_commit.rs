//! Group commit for `SQLite`'s single writer. With `synchronous = FULL` every commit waits for an
//! fsync, and `SQLite` runs one write transaction at a time, so concurrent creates used to queue for
//! one fsync each. Here they queue for one writer task instead, which takes every create waiting
//! (up to [`MAX_BATCH`]), runs each inside its own savepoint of one transaction, commits once, and
//! only then answers each caller: a create is acknowledged only once it is durable (D1), and one
//! that fails rolls back alone.
//!
//! The queue is bounded ([`QUEUE`]): when it is full, callers wait for room rather than grow memory.
//! `PostgreSQL` needs none of this (it runs writers concurrently and groups commits itself).

use app::model::IssueId;
use sqlx::{AnyConnection, AnyPool, Connection};
use tokio::sync::{mpsc, oneshot};

use super::{issues::NewIssue, DbError};

/// Creates waiting for the writer; more wait for room.
const QUEUE: usize = 1024;
/// Creates in one transaction at most.
const MAX_BATCH: usize = 64;

type Reply = oneshot::Sender<Result<IssueId, DbError>>;

/// The sending side, held by [`super::Db`].
#[derive(Clone, Debug)]
pub struct GroupCommit {
    queue: mpsc::Sender<(NewIssue, Reply)>,
}

impl GroupCommit {
    /// Starts the writer task on `pool`.
    pub(super) fn start(pool: AnyPool) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(writer(pool, waiting));
        Self { queue }
    }

    /// Queues a create and waits until it is committed (or failed).
    pub(super) async fn create_issue(&self, new: NewIssue) -> Result<IssueId, DbError> {
        let (reply, answer) = oneshot::channel();
        self.queue.send((new, reply)).await.map_err(|_| DbError::WriterGone)?;
        answer.await.map_err(|_| DbError::WriterGone)?
    }
}

async fn writer(pool: AnyPool, mut waiting: mpsc::Receiver<(NewIssue, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let outcomes = match pool.acquire().await {
            Ok(mut conn) => commit_batch(&mut conn, &batch).await,
            Err(e) => Err(DbError::from(e)),
        };
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

/// One transaction for the batch, a savepoint per create. `Err` when the transaction itself failed
/// (then nothing of the batch was stored).
async fn commit_batch(
    conn: &mut AnyConnection,
    batch: &[(NewIssue, Reply)],
) -> Result<Vec<Result<IssueId, DbError>>, DbError> {
    let mut tx = conn.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for (new, _) in batch {
        let mut savepoint = tx.begin().await?;
        match super::issues::insert_new(&mut savepoint, new).await {
            Ok(id) => {
                savepoint.commit().await?;
                outcomes.push(Ok(id));
            }
            Err(e) => {
                savepoint.rollback().await?;
                outcomes.push(Err(e));
            }
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}
