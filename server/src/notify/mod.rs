//! The notification worker: delivers outbox events to inboxes (`db::notifications::fan_out`), sends
//! due mail (`email`), and announces both to live connections (`live`). It runs beside the server,
//! never on a request's path: a write only adds an outbox row and rings the bell. Events and mail are
//! claimed for a while before they are handled, so several instances share the work, and one that
//! stops half-way leaves them to be claimed again; an inbox entry is unique per recipient and event,
//! so delivering twice writes nothing twice.

pub mod email;
pub mod live;
pub mod proof;
pub mod unsubscribe;

use std::{sync::Arc, time::Duration};

use crate::{
    clock::{unix_millis, Clock},
    db::{
        notifications::{fan_out, mail},
        Db, DbError,
    },
    mail::Mailer,
};

/// How long a claimed event or batch stays with its worker before another may take it.
const LEASE_MS: i64 = 60_000;
/// Events (and batches) one round takes at a time.
const BATCH: i64 = 50;
/// How often the worker looks without being rung (events written by other instances).
const POLL: Duration = Duration::from_secs(1);
/// When a mail could not be sent, how long until it is tried again.
const MAIL_RETRY_MS: i64 = 5 * 60_000;

pub struct Notifier {
    db: Db,
    mailer: Arc<Mailer>,
    clock: Arc<dyn Clock>,
    pub live: Arc<live::Hub>,
    pub unsubscribe: Arc<unsubscribe::Links>,
    mail_delay_ms: i64,
}

impl Notifier {
    pub fn new(
        db: Db,
        mailer: Arc<Mailer>,
        clock: Arc<dyn Clock>,
        live: Arc<live::Hub>,
        unsubscribe: Arc<unsubscribe::Links>,
        mail_delay: Duration,
    ) -> Self {
        let mail_delay_ms = i64::try_from(mail_delay.as_millis()).unwrap_or(i64::MAX);
        Self { db, mailer, clock, live, unsubscribe, mail_delay_ms }
    }

    fn now(&self) -> i64 {
        unix_millis(self.clock.now())
    }

    /// Runs until aborted: a round whenever a write rings the bell, and at least every second.
    pub async fn run(self: Arc<Self>) {
        loop {
            let _ = tokio::time::timeout(POLL, self.db.outbox_bell().notified()).await;
            if let Err(e) = self.round().await {
                tracing::warn!(error = %e, "notifications: a round failed; trying again");
            }
        }
    }

    /// Delivers every waiting event and sends the mail that is due.
    pub async fn round(&self) -> Result<(), DbError> {
        loop {
            let now = self.now();
            let events = fan_out::claim(&self.db, now, now + LEASE_MS, BATCH).await?;
            if events.is_empty() {
                break;
            }
            for event in &events {
                self.deliver(event).await;
            }
        }
        self.send_due_mail().await
    }

    async fn deliver(&self, event: &fan_out::Event) {
        let now = self.now();
        match fan_out::deliver(&self.db, event, now, self.mail_delay_ms).await {
            Ok(users) => {
                self.live.publish(live::Hint { team: event.team_id, issue: event.issue_id, users: users.into() });
            }
            Err(e) if event.attempts >= fan_out::MAX_ATTEMPTS => {
                tracing::error!(error = %e, seq = event.seq, "notifications: an event failed too often; set aside");
                let _ = fan_out::set_aside(&self.db, event.seq, now).await;
            }
            // Claimed until the lease ends; then taken again.
            Err(e) => tracing::warn!(error = %e, seq = event.seq, "notifications: an event will be tried again"),
        }
    }

    async fn send_due_mail(&self) -> Result<(), DbError> {
        loop {
            let now = self.now();
            let batches = mail::claim_due(&self.db, now, now + LEASE_MS, BATCH).await?;
            if batches.is_empty() {
                return Ok(());
            }
            for batch in &batches {
                let sent = self.send(batch).await?;
                let next_due = self.now() + if sent { self.mail_delay_ms } else { MAIL_RETRY_MS };
                mail::finish(&self.db, batch, next_due).await?;
            }
        }
    }

    /// Renders and sends one batch; false if sending failed (the batch is tried again later).
    async fn send(&self, batch: &mail::Batch) -> Result<bool, DbError> {
        let now = self.now();
        let Some((builder, base)) = self.mailer.compose() else {
            // Email is off: nothing will be sent, so nothing waits for it.
            if let Some(content) = mail::render(&self.db, batch, now).await? {
                mail::mark_emailed(&self.db, &content.entries, now).await?;
            }
            return Ok(true);
        };
        let Some(content) = mail::render(&self.db, batch, now).await? else { return Ok(true) };
        let token = self.unsubscribe.token(content.user_id, now / 1000);
        let Some(message) = email::message(builder, base, &content, &token) else {
            mail::mark_emailed(&self.db, &content.entries, now).await?;
            return Ok(true);
        };
        match self.mailer.deliver(message).await {
            Ok(()) => {
                mail::mark_emailed(&self.db, &content.entries, self.now()).await?;
                Ok(true)
            }
            Err(e) => {
                tracing::warn!(error = %e, "notifications: a mail was not sent; it will be tried again");
                Ok(false)
            }
        }
    }
}
