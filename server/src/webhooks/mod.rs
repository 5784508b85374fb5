//! The webhook worker: turns outbox events into deliveries (`db::webhooks::fan_out`), each payload
//! rendered by its hook's read rule, and sends the due ones, signed ([`sign`]), through a client that
//! connects only to public addresses ([`client`]). It runs beside the server, never on a request's
//! path. Events and deliveries are claimed for a while before they are handled, so several instances
//! share the work and one that stops half-way leaves them to be claimed again; a delivery is unique
//! per hook and event, so fanning out twice writes nothing twice. Sending is bounded per instance
//! ([`IN_FLIGHT`]) and per hook across instances (`db::webhooks::PER_HOOK`), with connect, total and
//! read limits, so a slow receiver holds only its own hook's places.

pub mod client;
pub mod sign;

use std::{sync::Arc, time::Duration};

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};

use crate::{
    clock::{unix_millis, Clock},
    db::{
        webhooks::{self, Attempt, Due, Event, Listener},
        Db, DbError,
    },
    files::crypto::Keys,
};

/// How long a claimed event stays with its worker before another may take it.
const LEASE_MS: i64 = 60_000;
/// How long a claimed delivery does: twice an attempt's longest ([`client`]'s total timeout), so that
/// one a stopped instance held is sent again soon.
const SEND_LEASE_MS: i64 = 20_000;
/// Events one round takes at a time.
const BATCH: i64 = 50;
/// How often the worker looks without being rung (events written by other instances).
const POLL: Duration = Duration::from_secs(1);
/// Tries of an event's fan-out before it is set aside.
const MAX_FAN_OUT_ATTEMPTS: i64 = 5;
/// Deliveries one instance sends at once.
pub const IN_FLIGHT: usize = 8;
/// The first retry's wait; each later one doubles, up to [`MAX_BACKOFF_MS`], with ±20% jitter.
const FIRST_BACKOFF_MS: i64 = 5_000;
const MAX_BACKOFF_MS: i64 = 60 * 60_000;
/// After this long failing, a delivery is given up and its hook paused.
const GIVE_UP_AFTER_MS: i64 = 24 * 60 * 60_000;

pub struct HookWorker {
    db: Db,
    files: Arc<crate::files::Files>,
    clock: Arc<dyn Clock>,
    client: client::Client,
    sending: Arc<tokio::sync::Semaphore>,
}

impl HookWorker {
    pub fn new(db: Db, files: Arc<crate::files::Files>, clock: Arc<dyn Clock>, allow_private: bool) -> Self {
        let sending = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        Self { db, files, clock, client: client::Client::new(allow_private), sending }
    }

    fn now(&self) -> i64 {
        unix_millis(self.clock.now())
    }

    /// Runs until aborted: a round whenever a write rings the bell, and at least every second.
    pub async fn run(self: Arc<Self>) {
        loop {
            let _ = tokio::time::timeout(POLL, self.db.hooks_bell().notified()).await;
            if let Err(e) = self.clone().round().await {
                tracing::warn!(error = %e, "webhooks: a round failed; trying again");
            }
        }
    }

    /// Fans out every waiting event, then starts sending as many due deliveries as there are places.
    pub async fn round(self: Arc<Self>) -> Result<(), DbError> {
        loop {
            let now = self.now();
            let events = webhooks::claim_events(&self.db, now, now + LEASE_MS, BATCH).await?;
            if events.is_empty() {
                break;
            }
            for event in &events {
                self.fan_out_or_set_aside(event).await?;
            }
        }
        let free = i64::try_from(self.sending.available_permits()).unwrap_or(0);
        if free == 0 {
            return Ok(());
        }
        let now = self.now();
        for due in webhooks::claim_due(&self.db, now, now + SEND_LEASE_MS, free).await? {
            let Ok(place) = self.sending.clone().try_acquire_owned() else { break };
            let worker = self.clone();
            tokio::spawn(async move {
                worker.send(&due).await;
                drop(place);
                // A place is free: the next round need not wait for the poll.
                worker.db.hooks_bell().notify_one();
            });
        }
        Ok(())
    }

    /// Fans one event out. One that fails is tried again later, and set aside after
    /// [`MAX_FAN_OUT_ATTEMPTS`], so that it never holds up the events after it.
    async fn fan_out_or_set_aside(&self, event: &Event) -> Result<(), DbError> {
        if event.attempts > MAX_FAN_OUT_ATTEMPTS {
            tracing::error!(seq = event.seq, "webhooks: an event failed to fan out too often; it is set aside");
            return webhooks::set_aside(&self.db, event.seq, self.now()).await;
        }
        if let Err(e) = self.fan_out(event).await {
            tracing::warn!(seq = event.seq, error = %e, "webhooks: an event could not be fanned out; trying again later");
            let retry_at = self.now() + backoff_ms(event.attempts, rand::random::<f64>());
            webhooks::retry_event_at(&self.db, event.seq, retry_at).await?;
        }
        Ok(())
    }

    /// Writes the deliveries of one event: for each hook that names it, the payload that hook may read.
    async fn fan_out(&self, event: &Event) -> Result<(), DbError> {
        let mut deliveries = Vec::new();
        for hook in webhooks::listeners(&self.db, event).await? {
            if let Some(payload) = payload(&self.db, &hook, event).await? {
                deliveries.push((hook.id, payload));
            }
        }
        webhooks::fan_out(&self.db, event, &deliveries, self.now()).await
    }

    /// Sends one delivery and records how it went.
    async fn send(&self, due: &Due) {
        let attempt = match open_secret(&self.files.keys, due) {
            Some(secret) => self.client.deliver(due, &secret, self.now() / 1000).await,
            None => {
                Attempt { status_code: None, latency_ms: 0, error: Some("the hook's secret cannot be opened".into()) }
            }
        };
        let now = self.now();
        let retry_at = (attempt.error.is_some() && now - due.created_at < GIVE_UP_AFTER_MS)
            .then(|| now + backoff_ms(due.attempts, rand::random::<f64>()));
        if attempt.error.is_some() && retry_at.is_none() {
            tracing::warn!(hook = %due.hook_id, "webhooks: deliveries failed for a day; the hook is paused");
            let record = crate::db::audit::Record {
                event: crate::db::audit::Event::WebhookPaused,
                success: false,
                team_id: Some(due.team_id),
                actor_id: None,
                detail: format!("hook {} paused: {}", due.hook_id, attempt.error.as_deref().unwrap_or("")),
                source_ip: None,
            };
            crate::db::audit::record(&self.db, record, now).await;
        }
        if let Err(e) = webhooks::record_attempt(&self.db, due, &attempt, retry_at, now).await {
            tracing::warn!(error = %e, "webhooks: an attempt could not be recorded; it will be sent again");
        }
    }
}

/// The wait before attempt `attempts + 1`: doubling from [`FIRST_BACKOFF_MS`] up to
/// [`MAX_BACKOFF_MS`], spread by `jitter` (0 to 1) over ±20%, so that hooks failing together do not
/// retry together.
fn backoff_ms(attempts: i64, jitter: f64) -> i64 {
    let doublings = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let base = FIRST_BACKOFF_MS.saturating_mul(1 << doublings).min(MAX_BACKOFF_MS);
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let spread = (base as f64 * (0.8 + 0.4 * jitter)) as i64;
    spread
}

fn open_secret(keys: &Keys, due: &Due) -> Option<Vec<u8>> {
    let sealed = STANDARD.decode(&due.secret).ok()?;
    keys.open(&due.key_id, &due.wrapped_key, &sealed).ok()
}

/// The Standard Webhooks payload of an event for `hook`, or `None` when the hook may not read it.
async fn payload(db: &Db, hook: &Listener, event: &Event) -> Result<Option<String>, DbError> {
    let Some(issue) = webhooks::issue_for(db, hook, event).await? else { return Ok(None) };
    let mut data = json!({
        "project": { "id": hook.project_id, "key": issue.project_key },
        "issue": {
            "id": event.issue_id,
            "key": format!("{}-{}", issue.project_key, issue.number),
            "number": issue.number,
            "title": issue.title,
            "description": issue.description,
            "status": issue.status,
            "visibility": issue.visibility,
            "severity": issue.severity,
            "priority": issue.priority,
        },
        "actor": issue.actor,
    });
    if !event.fields.is_empty() {
        data["changed"] = Value::from(event.fields.split(',').collect::<Vec<_>>());
    }
    if event.comment_id.is_some() {
        let Some((body, visibility)) = webhooks::comment_for(db, hook, event).await? else { return Ok(None) };
        data["comment"] = json!({ "id": event.comment_id, "visibility": visibility });
        if let Some(body) = body {
            data["comment"]["body"] = Value::from(body);
        }
    }
    if event.attachment_id.is_some() {
        let Some(file) = webhooks::attachment_for(db, hook, event).await? else { return Ok(None) };
        data["attachment"] = json!({ "id": event.attachment_id });
        if let (Some(name), Some(content_type), Some(size)) = (file.name, file.content_type, file.size) {
            data["attachment"]["name"] = Value::from(name);
            data["attachment"]["content_type"] = Value::from(content_type);
            data["attachment"]["size"] = Value::from(size);
        }
    }
    let timestamp = time::OffsetDateTime::from_unix_timestamp(event.created_at / 1000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    let body = json!({ "type": event.webhook_event().as_str(), "timestamp": timestamp, "data": data });
    Ok(Some(body.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_within_their_jitter_and_stop_growing_at_an_hour() {
        assert_eq!(backoff_ms(1, 0.5), 5_000);
        assert_eq!(backoff_ms(2, 0.5), 10_000);
        assert_eq!(backoff_ms(3, 0.0), 16_000);
        assert_eq!(backoff_ms(3, 1.0), 24_000);
        assert_eq!(backoff_ms(30, 0.5), 3_600_000);
        // About a day of tries: the sum of the waits passes 24 hours within 35 attempts.
        let day: i64 = (1..=35).map(|n| backoff_ms(n, 0.5)).sum();
        assert!(day > GIVE_UP_AFTER_MS, "{day}");
    }
}
