//! Bans after repeated failures, the fail2ban idea built in. Failures at a credential (a wrong
//! password, an unknown invitation token) are counted per source address in the database, so every
//! instance shares them; `ban_failures` of them within `ban_window_secs` ban the address from the
//! credential endpoints for `ban_secs` (429, `Retry-After`). An account is never locked for everyone:
//! across all addresses, `account_failures_per_hour` failures only slow its guessing down, and a
//! browser that has signed in to the account before (its device cookie) is let through even then.
//!
//! Each failure also writes one fixed-format line, whatever `log_format` is, for a real fail2ban
//! (`deploy/fail2ban/`):
//! `2026-11-30 13:52:07 +0000 moth[auth]: failure ip=<address> endpoint=<name> user="<as typed>"`.
//! The address comes first and the typed text is quoted and stripped of quotes and control characters,
//! so nothing a client types can move the address fail2ban reads.

use std::{
    io::Write,
    net::IpAddr,
    path::PathBuf,
    sync::{Arc, Mutex},
};

use crate::{
    clock::{unix_millis, Clock},
    db::{audit, bans, Db, DbError},
};

/// The SHA-256 (hex) of the browser's device cookie (set by `http::device`), for the ban rules.
#[derive(Clone, Debug)]
pub struct Device(pub String);

/// The numbers of the rules (all configuration).
#[derive(Clone, Debug)]
pub struct BanRules {
    pub failures: i64,
    pub window_secs: i64,
    pub ban_secs: i64,
    pub account_failures_per_hour: i64,
}

/// Who is trying a credential: the address, and the browser's device cookie (its SHA-256, see
/// `http::device`) when it sent one.
#[derive(Clone, Copy, Debug)]
pub struct Client<'a> {
    pub address: &'a str,
    pub device: Option<&'a str>,
}

/// A refusal: the address (or the account) must wait this many seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Banned {
    pub retry_after_secs: u64,
}

pub struct Bans {
    db: Db,
    clock: Arc<dyn Clock>,
    rules: BanRules,
    trusted_proxies: Vec<IpAddr>,
    /// Where the fail2ban lines go; standard error when unset.
    log: Option<Mutex<std::fs::File>>,
    metrics: Arc<crate::metrics::Metrics>,
}

const HOUR_MS: i64 = 3_600_000;
/// A browser not seen signing in to an account for this long is a stranger to it again.
const DEVICE_KEPT_MS: i64 = 180 * 24 * HOUR_MS;

impl Bans {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        rules: BanRules,
        trusted_proxies: Vec<IpAddr>,
        log_file: Option<&PathBuf>,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> std::io::Result<Self> {
        let log = match log_file {
            Some(path) => Some(Mutex::new(std::fs::OpenOptions::new().create(true).append(true).open(path)?)),
            None => None,
        };
        Ok(Self { db, clock, rules, trusted_proxies, log, metrics })
    }

    /// The address a request comes from (see [`client_address`]).
    pub fn address_of(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        client_address(peer, forwarded_for, &self.trusted_proxies)
    }

    fn now(&self) -> i64 {
        unix_millis(self.clock.now())
    }

    /// Whether `client` may try a credential now (and at `account`, when one is named). A ban of the
    /// address lasts `ban_secs` from the failure that started it. At an account's hourly ceiling, a
    /// browser that has signed in to that account before still gets through, while its own failures
    /// stay under the ceiling: an attacker cannot keep the owner out.
    pub async fn check(&self, client: &Client<'_>, account: Option<&str>) -> Result<Result<(), Banned>, DbError> {
        let now = self.now();
        let window = self.rules.window_secs * 1000;
        let banned_until = bans::banned_until(&self.db, client.address, now).await?;
        let (count, newest) = bans::from_address(&self.db, client.address, now - window).await?;
        let counted_until = (count >= self.rules.failures).then(|| newest.unwrap_or(now) + self.rules.ban_secs * 1000);
        if let Some(until) = banned_until.max(counted_until) {
            self.metrics.banned_refusals.inc();
            return Ok(Err(Banned { retry_after_secs: seconds_until(until, now) }));
        }
        if let Some(account) = account {
            let account = hashed(account);
            let since = now - HOUR_MS;
            let (count, oldest) = match client.device {
                Some(device) if bans::is_known_device(&self.db, device, &account).await? => {
                    bans::from_device(&self.db, device, &account, since).await?
                }
                _ => bans::for_account(&self.db, &account, since).await?,
            };
            if count >= self.rules.account_failures_per_hour {
                let until = oldest.unwrap_or(now) + HOUR_MS;
                self.metrics.banned_refusals.inc();
                return Ok(Err(Banned { retry_after_secs: seconds_until(until, now) }));
            }
        }
        Ok(Ok(()))
    }

    /// Remembers that this browser signed in to `account`: at the account's failure ceiling it is let
    /// through (see [`Bans::check`]).
    pub async fn signed_in(&self, client: &Client<'_>, account: &str) -> Result<(), DbError> {
        match client.device {
            Some(device) => bans::remember_device(&self.db, device, &hashed(account), self.now()).await,
            None => Ok(()),
        }
    }

    /// Counts a failure at `endpoint` from `client`, naming `account` as typed, and writes its line.
    /// The failure that reaches the limit starts the address's ban: it is kept with its end, audited
    /// and counted.
    pub async fn failed(&self, client: &Client<'_>, endpoint: &str, account: &str) -> Result<(), DbError> {
        let now = self.now();
        let address = client.address;
        bans::record_failure(&self.db, address, &hashed(account), client.device, now).await?;
        self.metrics
            .credential_failures
            .get_or_create(&crate::metrics::Endpoint { endpoint: endpoint.to_owned() })
            .inc();
        let (count, _) = bans::from_address(&self.db, address, now - self.rules.window_secs * 1000).await?;
        if count >= self.rules.failures && bans::banned_until(&self.db, address, now).await?.is_none() {
            bans::ban(&self.db, address, now + self.rules.ban_secs * 1000).await?;
            self.metrics.bans.inc();
            let record = audit::Record {
                event: audit::Event::AddressBanned,
                success: false,
                team_id: None,
                actor_id: None,
                detail: format!(
                    "{count} failures within {} s, the last at {endpoint}: refused for {} s",
                    self.rules.window_secs, self.rules.ban_secs
                ),
                source_ip: Some(address.to_owned()),
            };
            audit::record(&self.db, record, now).await;
        }
        let line = failure_line(&time_now(self.clock.now()), address, endpoint, account);
        match &self.log {
            Some(file) => {
                if let Ok(mut file) = file.lock() {
                    let _ = file.write_all(line.as_bytes());
                }
            }
            None => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
        Ok(())
    }

    /// Forgets failures that no rule counts any more.
    pub async fn forget_old(&self) -> Result<u64, DbError> {
        let keep_ms = (self.rules.window_secs * 1000).max(HOUR_MS);
        bans::forget_before(&self.db, self.now() - keep_ms, self.now(), self.now() - DEVICE_KEPT_MS).await
    }
}

fn seconds_until(until_ms: i64, now_ms: i64) -> u64 {
    u64::try_from((until_ms - now_ms + 999) / 1000).unwrap_or(1).max(1)
}

fn hashed(account: &str) -> String {
    crate::digest::sha256_hex(account.trim().to_lowercase().as_bytes())
}

/// `2026-11-30 13:52:07 +0000`: a form fail2ban's date detection reads without configuration.
fn time_now(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The fail2ban line of one failure.
pub fn failure_line(time: &str, address: &str, endpoint: &str, account: &str) -> String {
    let typed: String =
        account.chars().filter(|c| !c.is_control() && *c != '"' && *c != '\\').take(100).collect::<String>();
    format!("{time} moth[auth]: failure ip={address} endpoint={endpoint} user=\"{typed}\"\n")
}

/// The client's address: the socket's peer, unless the peer is one of `trusted_proxies`; then the
/// right-most address of `X-Forwarded-For` that is not a trusted proxy itself. A client that talks to
/// Moth directly cannot choose its address by sending the header.
pub fn client_address(peer: Option<IpAddr>, forwarded_for: Option<&str>, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = peer?;
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let Some(header) = forwarded_for else { return Some(peer) };
    let mut hops = header.rsplit(',').map(|hop| hop.trim().parse::<IpAddr>());
    loop {
        match hops.next() {
            Some(Ok(hop)) if trusted_proxies.contains(&hop) => {}
            Some(Ok(hop)) => return Some(hop),
            // A malformed hop: what lies beyond it cannot be trusted; the last trusted hop answers.
            Some(Err(_)) | None => return Some(peer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn only_a_trusted_proxy_may_name_the_client() {
        let proxies = [ip("10.0.0.1"), ip("10.0.0.2")];
        assert_eq!(client_address(Some(ip("198.51.100.7")), Some("1.2.3.4"), &proxies), Some(ip("198.51.100.7")));
        assert_eq!(
            client_address(Some(ip("10.0.0.1")), Some("1.2.3.4, 203.0.113.9"), &proxies),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_address(Some(ip("10.0.0.1")), Some("1.2.3.4, 203.0.113.9, 10.0.0.2"), &proxies),
            Some(ip("203.0.113.9")),
            "trusted hops are skipped from the right"
        );
        assert_eq!(client_address(Some(ip("10.0.0.1")), Some("nonsense"), &proxies), Some(ip("10.0.0.1")));
        assert_eq!(client_address(Some(ip("10.0.0.1")), None, &proxies), Some(ip("10.0.0.1")));
    }

    #[test]
    fn a_typed_account_cannot_move_the_address() {
        let line = failure_line("T", "198.51.100.7", "sign_in", "x\" ip=1.2.3.4\nfailure ip=5.6.7.8");
        assert_eq!(
            line,
            "T moth[auth]: failure ip=198.51.100.7 endpoint=sign_in user=\"x ip=1.2.3.4failure ip=5.6.7.8\"\n"
        );
        assert_eq!(line.matches('\n').count(), 1);
    }
}
