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

/// The key that chains audit entries. Under MAC scheme 2 each chain (team) has its own key, derived
/// from this one, which its owners may be given to verify their exports without being able to check
/// (or forge) any other team's; scheme 1 (databases not yet moved, see [`settle`]) used this key for
/// every chain. Checkpoints are sealed with this key itself: they are for the operator.
#[derive(Clone)]
pub struct ChainKey {
    key: [u8; 32],
    per_chain: bool,
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

/// The scheme new databases start at, and that [`settle`] moves older ones to.
const PER_CHAIN_SCHEME: &str = "2";

fn hmac_hex(key: &[u8; 32], parts: &[&str]) -> String {
    crate::digest::hex(&hmac_raw(key, parts))
}

fn hmac_raw(key: &[u8; 32], parts: &[&str]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("any key length"));
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.finalize().into_bytes().into()
}

impl ChainKey {
    /// The key under scheme 1 (one key for every chain), until [`settle`] says otherwise.
    pub fn new(key: [u8; 32]) -> Self {
        Self { key, per_chain: false }
    }

    fn mac(&self, parts: &[&str]) -> String {
        hmac_hex(&self.key, parts)
    }

    /// The key that MACs the entries of `chain`.
    fn of_chain(&self, chain: &str) -> [u8; 32] {
        if self.per_chain {
            hmac_raw(&self.key, &["moth audit chain key", chain])
        } else {
            self.key
        }
    }

    /// The key of a team's chain in hex, for its owners to verify an export: `None` while the
    /// database is on scheme 1, where one key serves every team.
    pub fn team_key(&self, team_chain: &str) -> Option<String> {
        (self.per_chain && !team_chain.is_empty()).then(|| crate::digest::hex(&self.of_chain(team_chain)))
    }
}

/// The MAC scheme the database is on, with `key` set to it. Read-only (for `moth audit verify`).
pub async fn load(db: &Db, key: ChainKey) -> Result<ChainKey, DbError> {
    let scheme: Option<String> =
        sqlx::query_scalar("SELECT value FROM audit_meta WHERE name = 'mac_scheme'").fetch_optional(db.pool()).await?;
    Ok(ChainKey { per_chain: scheme.as_deref() == Some(PER_CHAIN_SCHEME), ..key })
}

/// At start: moves a database still on MAC scheme 1 to scheme 2, but only if every chain verifies
/// under scheme 1 (then every chained entry and checkpoint is sealed again, in one transaction).
/// A log that does not verify is left exactly as it is, on scheme 1, and the problem is logged:
/// sealing altered entries again would hide what was done to them.
pub async fn settle(db: &Db, key: ChainKey) -> Result<ChainKey, DbError> {
    let key = load(db, key).await?;
    if key.per_chain {
        return Ok(key);
    }
    // Entries outside the chain are not sealed here either way; only the chains decide.
    let problems: Vec<Problem> = verify(db, &key).await?.into_iter().filter(|p| p.what != UNCHAINED).collect();
    if !problems.is_empty() {
        tracing::error!(?problems, "the audit log does not verify: it stays on one key for every team");
        return Ok(key);
    }
    let moved = ChainKey { per_chain: true, ..key };
    let mut tx = db.begin_write().await?;
    let chains: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT chain FROM audit_log WHERE seq IS NOT NULL").fetch_all(&mut *tx).await?;
    for chain in chains {
        let rows: Vec<Chained> = sqlx::query_as(
            "SELECT seq, mac, id, team_id, actor_id, event, outcome, detail, source_ip, at FROM audit_log \
             WHERE chain = $1 AND seq IS NOT NULL ORDER BY seq",
        )
        .bind(&chain)
        .fetch_all(&mut *tx)
        .await?;
        let mut previous = String::new();
        for row in rows {
            let mac = row.link.mac(&moved, row.seq, &previous);
            sqlx::query("UPDATE audit_log SET mac = $3 WHERE chain = $1 AND seq = $2")
                .bind(&chain)
                .bind(row.seq)
                .bind(&mac)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE audit_checkpoints SET mac = $3, seal = $4 WHERE chain = $1 AND seq = $2")
                .bind(&chain)
                .bind(row.seq)
                .bind(&mac)
                .bind(moved.mac(&["checkpoint", &chain, &row.seq.to_string(), &mac]))
                .execute(&mut *tx)
                .await?;
            previous = mac;
        }
    }
    sqlx::query("UPDATE audit_meta SET value = $1 WHERE name = 'mac_scheme'")
        .bind(PER_CHAIN_SCHEME)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(moved)
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
        hmac_hex(
            &key.of_chain(self.chain()),
            &[
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
            ],
        )
    }

    fn chain(&self) -> &str {
        self.team_id.as_deref().unwrap_or("")
    }
}

/// The place after the head of `chain`, and the head's MAC ("" before the first entry).
async fn next_place(tx: &mut sqlx::AnyConnection, chain: &str) -> Result<(i64, String), DbError> {
    let head: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, mac FROM audit_log WHERE chain = $1 AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1")
            .bind(chain)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(head.map_or((1, String::new()), |(seq, mac)| (seq + 1, mac)))
}

/// Writes `link` as the new head of its chain: the head is read and the entry inserted in one
/// transaction. Should another writer take the same place first all the same (a writer of another
/// version), the unique place fails it and [`append_with_retries`] tries again.
async fn append(db: &Db, key: &ChainKey, link: &Link) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    // Appends take turns, so the head read next is the head the entry follows, instead of failing on
    // a stale snapshot or a duplicate place under a flood of audited events: on SQLite the
    // transaction holds the writers' turn and lock already; on PostgreSQL this takes the row lock.
    sqlx::query("UPDATE audit_meta SET value = value WHERE name = 'mac_scheme'").execute(&mut *tx).await?;
    sqlx::query(
        "INSERT INTO audit_log (id, team_id, actor_id, event, outcome, detail, source_ip, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&link.id)
    .bind(&link.team_id)
    .bind(&link.actor_id)
    .bind(&link.event)
    .bind(&link.outcome)
    .bind(&link.detail)
    .bind(&link.source_ip)
    .bind(link.at)
    .execute(&mut *tx)
    .await?;
    place_on_chain(&mut tx, key, link).await?;
    tx.commit().await?;
    Ok(())
}

/// [`append`], retried a few times when another writer took the same place. A database that stays
/// locked past its busy timeout is not waited for again: the request has waited long enough, and the
/// failure is logged by the caller.
pub async fn append_with_retries(db: &Db, key: &ChainKey, link: &Link) -> Result<(), DbError> {
    let mut attempt = 0;
    loop {
        match append(db, key, link).await {
            Ok(()) => return Ok(()),
            Err(e) if e.is_unique_violation() && attempt < 8 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 * attempt)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Moves an entry written before the chain existed onto it.
async fn chain_legacy(db: &Db, key: &ChainKey, link: &Link) -> Result<(), DbError> {
    let mut tx = db.begin_write().await?;
    place_on_chain(&mut tx, key, link).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives the unchained entry `link` the place after its chain's head and its MAC, in the caller's
/// transaction: a new entry ([`append`]) and one written before the chain existed are chained alike.
async fn place_on_chain(tx: &mut sqlx::AnyConnection, key: &ChainKey, link: &Link) -> Result<(), DbError> {
    let (seq, previous) = next_place(tx, link.chain()).await?;
    sqlx::query("UPDATE audit_log SET chain = $2, seq = $3, mac = $4 WHERE id = $1 AND seq IS NULL")
        .bind(&link.id)
        .bind(link.chain())
        .bind(seq)
        .bind(link.mac(key, seq, &previous))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// At the first start after upgrading from a version without the chain: chains the entries written
/// before it, oldest first, once. Never again: since then every entry is chained as it is written,
/// so a row outside the chain is one Moth cannot vouch for, and [`verify`] reports it instead.
pub async fn chain_legacy_once(db: &Db, key: &ChainKey) -> Result<u64, DbError> {
    let done: Option<String> = sqlx::query_scalar("SELECT value FROM audit_meta WHERE name = 'legacy_chained'")
        .fetch_optional(db.pool())
        .await?;
    if done.is_some() {
        return Ok(0);
    }
    let mut chained = 0;
    loop {
        let links: Vec<Link> = sqlx::query_as(
            "SELECT id, team_id, actor_id, event, outcome, detail, source_ip, at FROM audit_log \
             WHERE seq IS NULL ORDER BY at, id LIMIT 500",
        )
        .fetch_all(db.pool())
        .await?;
        if links.is_empty() {
            break;
        }
        for link in &links {
            chain_legacy(db, key, link).await?;
            chained += 1;
        }
    }
    // Instances starting together may both get here (chaining the same rows is idempotent).
    sqlx::query("INSERT INTO audit_meta (name, value) VALUES ('legacy_chained', '1') ON CONFLICT (name) DO NOTHING")
        .execute(db.pool())
        .await?;
    Ok(chained)
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

/// The first problem found in a chain, or entries found outside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The team id, or "" for events outside any team.
    pub chain: String,
    /// The entry's place in the chain; for [`UNCHAINED`], how many entries are outside it.
    pub seq: i64,
    pub what: &'static str,
}

/// What [`verify`] calls entries that are not in their chain: Moth chains every entry as it writes it
/// (and a log from before the chain once), so these were put there by someone else, or were cut out
/// of the chain (their place and MAC cleared).
pub const UNCHAINED: &str = "unchained";

/// Checks every chain: each MAC, no gap, no chain shorter than its last valid checkpoint, and no entry
/// outside the chains.
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
    let unchained: Vec<(Option<String>, i64)> =
        sqlx::query_as("SELECT team_id, COUNT(*) FROM audit_log WHERE seq IS NULL GROUP BY team_id ORDER BY team_id")
            .fetch_all(db.pool())
            .await?;
    for (team, count) in unchained {
        problems.push(Problem { chain: team.unwrap_or_default(), seq: count, what: UNCHAINED });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::audit::{self, Event, Record};

    /// A database with `entries` events outside any team, chained under scheme 1.
    async fn log_on_scheme_one(dir: &std::path::Path, entries: usize) -> (Db, ChainKey) {
        let key = ChainKey::new([3; 32]);
        let db = Db::connect(&format!("sqlite:{}", dir.join("moth.db").display())).await.expect("db");
        db.migrate().await.expect("migrate");
        let db = db.with_audit_key(key.clone());
        for n in 0..entries {
            let record = Record {
                event: Event::SignInFailed,
                success: false,
                team_id: None,
                actor_id: None,
                detail: format!("attempt {n}"),
                source_ip: Some("192.0.2.1".into()),
            };
            audit::record(&db, record, 1_000 + i64::try_from(n).expect("small")).await;
        }
        checkpoint(&db, &key, 5_000).await.expect("checkpoint");
        (db, key)
    }

    async fn scheme(db: &Db) -> String {
        sqlx::query_scalar("SELECT value FROM audit_meta WHERE name = 'mac_scheme'")
            .fetch_one(db.pool())
            .await
            .expect("scheme")
    }

    #[tokio::test]
    async fn a_log_that_verifies_moves_to_a_key_per_chain_and_still_verifies() {
        let dir = tempfile::tempdir().expect("dir");
        let (db, key) = log_on_scheme_one(dir.path(), 5).await;
        assert!(verify(&db, &key).await.expect("verify").is_empty());
        let moved = settle(&db, key.clone()).await.expect("settle");
        assert!(moved.per_chain);
        assert_eq!(scheme(&db).await, "2");
        assert!(verify(&db, &moved).await.expect("verify").is_empty(), "the moved chain and checkpoints verify");
        assert!(!verify(&db, &key).await.expect("verify").is_empty(), "the MACs did change");
        assert!(settle(&db, moved).await.expect("again").per_chain, "settling twice changes nothing");
    }

    #[tokio::test]
    async fn an_altered_log_is_not_sealed_again() {
        let dir = tempfile::tempdir().expect("dir");
        let (db, key) = log_on_scheme_one(dir.path(), 5).await;
        sqlx::query("UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 3")
            .execute(db.pool())
            .await
            .expect("edit");
        let kept = settle(&db, key.clone()).await.expect("settle");
        assert!(!kept.per_chain);
        assert_eq!(scheme(&db).await, "1");
        let problems = verify(&db, &kept).await.expect("verify");
        assert_eq!(problems.first().map(|p| (p.seq, p.what)), Some((3, "altered")), "still found: {problems:?}");
    }
}
