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
    for table in &WRAPPED_KEYS {
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

/// A table whose rows hold a data key wrapped by the master key, in `key_id` and `wrapped_key`, and
/// the one or two columns that name a row.
struct Wrapped {
    table: &'static str,
    first_key: &'static str,
    second_key: Option<&'static str>,
}

/// Attachments, webhooks' signing secrets (keyed by team and id), two-factor keys (by user), the
/// teams' export buckets' secret keys and single sign-on client secrets (by team).
const WRAPPED_KEYS: [Wrapped; 5] = [
    Wrapped { table: "attachments", first_key: "team_id", second_key: Some("id") },
    Wrapped { table: "two_factor", first_key: "user_id", second_key: None },
    Wrapped { table: "team_export_buckets", first_key: "team_id", second_key: None },
    Wrapped { table: "webhooks", first_key: "team_id", second_key: Some("id") },
    Wrapped { table: "team_sso", first_key: "team_id", second_key: None },
];

impl Wrapped {
    /// A batch of rows not yet under the key `$1`, at most `$2`: the two key columns as text (the
    /// second empty when there is none), then `key_id` and `wrapped_key`. The names are the
    /// constants above, never input.
    fn select(&self) -> String {
        let Wrapped { table, first_key, second_key } = self;
        let order = second_key.unwrap_or(first_key);
        let second = second_key.unwrap_or("''");
        format!(
            "SELECT {first_key}, {second} AS second_key, key_id, wrapped_key FROM {table} WHERE key_id <> $1 \
             ORDER BY {order} LIMIT $2"
        )
    }

    /// Re-wraps one row (`$1`, `$2` its keys) from key `$5` to key `$3`, wrapped as `$4`.
    fn update(&self) -> String {
        let Wrapped { table, first_key, second_key } = self;
        let second = second_key.map_or_else(|| "$2 = ''".to_owned(), |column| format!("{column} = $2"));
        format!("UPDATE {table} SET key_id = $3, wrapped_key = $4 WHERE {first_key} = $1 AND {second} AND key_id = $5")
    }
}

/// Re-wraps every data key of `table` under `next`, a batch per transaction.
async fn rewrap(db: &Db, keys: &Keys, next: &Keys, table: &Wrapped) -> Result<u64, RotateError> {
    let mut rewrapped = 0;
    let (select, update) = (table.select(), table.update());
    loop {
        let rows: Vec<(String, String, String, String)> =
            sqlx::query_as(&select).bind(next.id()).bind(BATCH).fetch_all(db.pool()).await.map_err(DbError::from)?;
        if rows.is_empty() {
            return Ok(rewrapped);
        }
        let mut tx = db.begin_write().await?;
        for (first, second, key_id, wrapped) in rows {
            let data_key = keys.unwrap_data_key(&key_id, &wrapped)?;
            sqlx::query(&update)
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
        tx.commit().await?;
    }
}
