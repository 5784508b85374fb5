//! The audit log as a tamper-evident chain. Each entry carries its place in its chain (`seq`; one
//! chain per team, and one, named "", for events outside any team) and a MAC: HMAC-SHA256, under a key
//! kept in a file beside the master key (`audit_key_file`, never in the database), over the previous
//! entry's MAC and this entry's fields. Editing an entry breaks its MAC; removing one leaves a gap;
//! removing the newest ones is caught by the checkpoints (sealed records of each chain's head, written
//! periodically): a chain shorter than its last checkpoint was truncated. `moth audit verify` reports
//! the first problem of each chain.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Db, DbError};

/// The key that chains audit entries.
#[derive(Clone)]
pub struct ChainKey([u8; 32]);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

impl ChainKey {
    pub fn new(key: [u8; 32]) -> Self {
        Self(key)
    }

    fn mac(&self, parts: &[&str]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("any key length"));
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        crate::digest::hex(&mac.finalize().into_bytes())
    }
}

/// One entry's fields as the chain covers them.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Link {
    pub id: String,
    pub team_id: Option<String>,
    pub actor_id: Option<String>,
    pub event: String,
    pub outcome: String,
    pub detail: String,
    pub source_ip: Option<String>,
    pub at: i64,
}

impl Link {
    fn mac(&self, key: &ChainKey, seq: i64, previous: &str) -> String {
        let seq = seq.to_string();
        let at = self.at.to_string();
        key.mac(&[
            previous,
            &seq,
            &self.id,
            self.team_id.as_deref().unwrap_or(""),
            self.actor_id.as_deref().unwrap_or(""),
            &self.event,
            &self.outcome,
            &self.detail,
            self.source_ip.as_deref().unwrap_or(""),
            &at,
        ])
    }

    fn chain(&self) -> &str {
        self.team_id.as_deref().unwrap_or("")
    }
}

/// Appends `link` (already inserted, unchained) to its chain. Retried by the caller when another
/// writer took the same place first.
pub async fn chain(db: &Db, key: &ChainKey, link: &Link) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, mac FROM audit_log WHERE chain = $1 AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
            .bind(link.chain())
            .fetch_optional(&mut *tx)
            .await?;
    let (seq, previous) = head.map_or((1, String::new()), |(seq, mac)| (seq + 1, mac));
    sqlx::query("UPDATE audit_log SET chain = $2, seq = $3, mac = $4 WHERE id = $1 AND seq IS NULL")
        .bind(&link.id)
        .bind(link.chain())
        .bind(seq)
        .bind(link.mac(key, seq, &previous))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Chains the entries written without a place (before the chain existed, or when chaining failed),
/// oldest first. Run at start.
pub async fn chain_missing(db: &Db, key: &ChainKey) -> Result<u64, DbError> {
    let mut chained = 0;
    loop {
        let links: Vec<Link> = sqlx::query_as(
            "SELECT id, team_id, actor_id, event, outcome, detail, source_ip, at FROM audit_log \
             WHERE seq IS NULL ORDER BY at, id LIMIT 500",
        )
        .fetch_all(db.pool())
        .await?;
        if links.is_empty() {
            return Ok(chained);
        }
        for link in &links {
            chain_with_retries(db, key, link).await?;
            chained += 1;
        }
    }
}

/// [`chain`], retried a few times when another writer took the same place.
pub async fn chain_with_retries(db: &Db, key: &ChainKey, link: &Link) -> Result<(), DbError> {
    let mut attempt = 0;
    loop {
        match chain(db, key, link).await {
            Ok(()) => return Ok(()),
            Err(DbError::Sqlx(sqlx::Error::Database(_))) if attempt < 8 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 * attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Seals each chain's head as a checkpoint (when it moved since the last one).
pub async fn checkpoint(db: &Db, key: &ChainKey, now_ms: i64) -> Result<u64, DbError> {
    // Each chain's head through the index on (chain, seq), then its MAC by key.
    let tips: Vec<(String, i64)> =
        sqlx::query_as("SELECT chain, MAX(seq) FROM audit_log WHERE seq IS NOT NULL GROUP BY chain")
            .fetch_all(db.pool())
            .await?;
    let mut heads = Vec::with_capacity(tips.len());
    for (chain, seq) in tips {
        let mac: String = sqlx::query_scalar("SELECT mac FROM audit_log WHERE chain = $1 AND seq = $2")
            .bind(&chain)
            .bind(seq)
            .fetch_one(db.pool())
            .await?;
        heads.push((chain, seq, mac));
    }
    let mut written = 0;
    for (chain, seq, mac) in heads {
        let seal = key.mac(&["checkpoint", &chain, &seq.to_string(), &mac]);
        let done = sqlx::query(
            "INSERT INTO audit_checkpoints (chain, seq, mac, seal, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (chain, seq) DO NOTHING",
        )
        .bind(&chain)
        .bind(seq)
        .bind(&mac)
        .bind(seal)
        .bind(now_ms)
        .execute(db.pool())
        .await?;
        written += done.rows_affected();
    }
    Ok(written)
}

/// The first problem found in a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The team id, or "" for events outside any team.
    pub chain: String,
    pub seq: i64,
    pub what: &'static str,
}

/// Checks every chain: each MAC, no gap, and no chain shorter than its last valid checkpoint.
pub async fn verify(db: &Db, key: &ChainKey) -> Result<Vec<Problem>, DbError> {
    let chains: Vec<(String,)> = sqlx::query_as(
        "SELECT DISTINCT chain FROM audit_log WHERE seq IS NOT NULL UNION SELECT DISTINCT chain FROM audit_checkpoints",
    )
    .fetch_all(db.pool())
    .await?;
    let mut problems = Vec::new();
    for (chain,) in chains {
        if let Some(problem) = verify_chain(db, key, &chain).await? {
            problems.push(problem);
        }
    }
    Ok(problems)
}

/// An entry with its place and MAC.
#[derive(sqlx::FromRow)]
struct Chained {
    seq: i64,
    mac: String,
    #[sqlx(flatten)]
    link: Link,
}

async fn verify_chain(db: &Db, key: &ChainKey, chain: &str) -> Result<Option<Problem>, DbError> {
    let rows: Vec<Chained> = sqlx::query_as(
        "SELECT seq, mac, id, team_id, actor_id, event, outcome, detail, source_ip, at FROM audit_log \
             WHERE chain = $1 AND seq IS NOT NULL ORDER BY seq",
    )
    .bind(chain)
    .fetch_all(db.pool())
    .await?;
    let problem = |seq, what| Ok(Some(Problem { chain: chain.to_owned(), seq, what }));
    let mut previous = String::new();
    let mut macs = Vec::with_capacity(rows.len());
    for (expected, Chained { seq, mac, link }) in (1_i64..).zip(rows) {
        if seq != expected {
            return problem(expected, "missing");
        }
        if link.mac(key, seq, &previous) != mac {
            return problem(seq, "altered");
        }
        macs.push(mac.clone());
        previous = mac;
    }
    let checkpoints: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT seq, mac, seal FROM audit_checkpoints WHERE chain = $1 ORDER BY seq DESC")
            .bind(chain)
            .fetch_all(db.pool())
            .await?;
    let sealed = checkpoints
        .into_iter()
        .find(|(seq, mac, seal)| key.mac(&["checkpoint", chain, &seq.to_string(), mac]) == *seal);
    if let Some((seq, mac, _)) = sealed {
        let at = usize::try_from(seq - 1).unwrap_or(usize::MAX);
        match macs.get(at) {
            None => return problem(seq, "truncated"),
            Some(kept) if *kept != mac => return problem(seq, "altered"),
            Some(_) => {}
        }
    }
    Ok(None)
}
