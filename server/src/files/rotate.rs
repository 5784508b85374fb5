//! Rotating the master key: every stored file keeps its own data key and its bytes; only the data
//! keys are unwrapped with the old master key and wrapped again with a new one (`moth
//! rotate-master-key`, run while Moth is stopped). The new key is written first to
//! `<master_key_file>.next`; the rows are re-wrapped in batches, each batch one transaction; then the
//! old key file becomes `<master_key_file>.previous` and the new one takes its place. Moth opens files
//! with any of the three, so a rotation that stops half-way loses nothing, and running the command
//! again finishes it.

use std::path::Path;

use super::crypto::{CryptoError, Keys};
use crate::db::{Db, DbError};

#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(transparent)]
    Keys(#[from] CryptoError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("replacing the key file {path}: {source}")]
    Swap { path: String, source: std::io::Error },
}

/// What a rotation did.
#[derive(Debug)]
pub struct Rotated {
    pub rewrapped: u64,
    pub new_key_id: String,
}

const BATCH: i64 = 500;

pub async fn rotate(db: &Db, key_file: &Path) -> Result<Rotated, RotateError> {
    let keys = Keys::load_all(key_file)?;
    let next_file = super::crypto::sibling(key_file, "next");
    // A rotation that stopped half-way left its new key: finish with that one.
    let next = Keys::load_or_create(&next_file)?;
    let keys = keys.with(&next);
    let mut rewrapped = 0;
    for table in [&ATTACHMENTS, &TWO_FACTOR, &EXPORT_BUCKETS, &WEBHOOKS, &SSO_CLIENTS] {
        rewrapped += rewrap(db, &keys, &next, table).await?;
    }
    let swap = |from: &Path, to: &Path| {
        std::fs::rename(from, to).map_err(|source| RotateError::Swap { path: to.display().to_string(), source })
    };
    if key_file.exists() {
        swap(key_file, &super::crypto::sibling(key_file, "previous"))?;
    }
    swap(&next_file, key_file)?;
    Ok(Rotated { rewrapped, new_key_id: next.id().to_owned() })
}

/// A table whose rows hold a data key wrapped by the master key: how to read a batch of rows not yet
/// under the new key (their two key columns, as text, then `key_id` and `wrapped_key`) and how to
/// re-wrap one of them.
struct Wrapped {
    select: &'static str,
    update: &'static str,
}

/// Attachments (keyed by team and id).
const ATTACHMENTS: Wrapped = Wrapped {
    select: "SELECT team_id, id, key_id, wrapped_key FROM attachments WHERE key_id <> $1 ORDER BY id LIMIT $2",
    update: "UPDATE attachments SET key_id = $3, wrapped_key = $4 WHERE team_id = $1 AND id = $2 AND key_id = $5",
};

/// Two-factor keys (keyed by user; the second key column is unused).
const TWO_FACTOR: Wrapped = Wrapped {
    select: "SELECT user_id, '' AS unused, key_id, wrapped_key FROM two_factor WHERE key_id <> $1 \
             ORDER BY user_id LIMIT $2",
    update: "UPDATE two_factor SET key_id = $3, wrapped_key = $4 WHERE user_id = $1 AND $2 = '' AND key_id = $5",
};

/// The teams' export buckets' secret keys (keyed by team; the second key column is unused).
const EXPORT_BUCKETS: Wrapped = Wrapped {
    select: "SELECT team_id, '' AS unused, key_id, wrapped_key FROM team_export_buckets WHERE key_id <> $1 \
             ORDER BY team_id LIMIT $2",
    update: "UPDATE team_export_buckets SET key_id = $3, wrapped_key = $4 WHERE team_id = $1 AND $2 = '' \
             AND key_id = $5",
};

/// The webhooks' signing secrets (keyed by team and id).
const WEBHOOKS: Wrapped = Wrapped {
    select: "SELECT team_id, id, key_id, wrapped_key FROM webhooks WHERE key_id <> $1 ORDER BY id LIMIT $2",
    update: "UPDATE webhooks SET key_id = $3, wrapped_key = $4 WHERE team_id = $1 AND id = $2 AND key_id = $5",
};

/// The teams' single sign-on client secrets (keyed by team; the second key column is unused).
const SSO_CLIENTS: Wrapped = Wrapped {
    select: "SELECT team_id, '' AS unused, key_id, wrapped_key FROM team_sso WHERE key_id <> $1 \
             ORDER BY team_id LIMIT $2",
    update: "UPDATE team_sso SET key_id = $3, wrapped_key = $4 WHERE team_id = $1 AND $2 = '' AND key_id = $5",
};

/// Re-wraps every data key of `table` under `next`, a batch per transaction.
async fn rewrap(db: &Db, keys: &Keys, next: &Keys, table: &Wrapped) -> Result<u64, RotateError> {
    let mut rewrapped = 0;
    loop {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(table.select)
            .bind(next.id())
            .bind(BATCH)
            .fetch_all(db.pool())
            .await
            .map_err(DbError::from)?;
        if rows.is_empty() {
            return Ok(rewrapped);
        }
        let mut tx = db.begin().await?;
        for (first, second, key_id, wrapped) in rows {
            let data_key = keys.unwrap_data_key(&key_id, &wrapped)?;
            sqlx::query(table.update)
                .bind(&first)
                .bind(&second)
                .bind(next.id())
                .bind(next.wrap_data_key(&data_key))
                .bind(&key_id)
                .execute(&mut *tx)
                .await
                .map_err(DbError::from)?;
            rewrapped += 1;
        }
        tx.commit().await.map_err(DbError::from)?;
    }
}
