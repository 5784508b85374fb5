//! Webhooks: a project tells another tool what happened to its issues, signed per the Standard
//! Webhooks specification.

use garde::Validate;
use serde::{Deserialize, Serialize};

use super::{Normalize, ProjectId, WebhookId};
use crate::rules;

/// What a hook may hear of. The payload's `type` is the event's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WebhookEvent {
    #[serde(rename = "issue.created")]
    IssueCreated,
    /// Any change of an issue's fields but its status (which is `issue.status_changed`).
    #[serde(rename = "issue.updated")]
    IssueUpdated,
    #[serde(rename = "issue.status_changed")]
    IssueStatusChanged,
    #[serde(rename = "issue.deleted")]
    IssueDeleted,
    #[serde(rename = "comment.created")]
    CommentCreated,
    #[serde(rename = "comment.updated")]
    CommentUpdated,
    #[serde(rename = "comment.deleted")]
    CommentDeleted,
    #[serde(rename = "attachment.created")]
    AttachmentCreated,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 8] = [
        WebhookEvent::IssueCreated,
        WebhookEvent::IssueUpdated,
        WebhookEvent::IssueStatusChanged,
        WebhookEvent::IssueDeleted,
        WebhookEvent::CommentCreated,
        WebhookEvent::CommentUpdated,
        WebhookEvent::CommentDeleted,
        WebhookEvent::AttachmentCreated,
    ];

    /// The name on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::IssueCreated => "issue.created",
            WebhookEvent::IssueUpdated => "issue.updated",
            WebhookEvent::IssueStatusChanged => "issue.status_changed",
            WebhookEvent::IssueDeleted => "issue.deleted",
            WebhookEvent::CommentCreated => "comment.created",
            WebhookEvent::CommentUpdated => "comment.updated",
            WebhookEvent::CommentDeleted => "comment.deleted",
            WebhookEvent::AttachmentCreated => "attachment.created",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// A new hook of a project (OWNER and ADMIN).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct NewWebhookInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(custom(rules::webhook_url))]
    pub url: String,
    #[garde(length(min = 1, max = 8))]
    pub events: Vec<WebhookEvent>,
    /// Whether the hook receives internal issues and comments (otherwise only what a guest of the
    /// project could read).
    #[garde(skip)]
    pub internal: bool,
}

impl Normalize for NewWebhookInput {
    fn normalize(mut self) -> Self {
        self.url = self.url.trim().to_owned();
        // In the list's order, each once (without a sort, whose code the browser would carry).
        self.events = WebhookEvent::ALL.into_iter().filter(|e| self.events.contains(e)).collect();
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct WebhookIdInput {
    #[garde(skip)]
    pub webhook_id: WebhookId,
}

no_normalization!(WebhookIdInput);

/// One delivery of a hook, by the `webhook-id` it was sent with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct RedeliverInput {
    #[garde(skip)]
    pub webhook_id: WebhookId,
    #[garde(length(min = 1, max = 64))]
    pub message_id: String,
}

no_normalization!(RedeliverInput);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ProjectWebhooksInput {
    #[garde(skip)]
    pub project_id: ProjectId,
}

no_normalization!(ProjectWebhooksInput);

/// A hook as its owners see it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: WebhookId,
    pub project_id: ProjectId,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub internal: bool,
    pub created_at: i64,
    /// Why deliveries stopped (they failed for a day), if they did.
    pub paused_reason: Option<String>,
}

/// A hook just made, with its signing secret (`whsec_` and base64), shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    pub secret: String,
}

/// One event for one hook, and how its delivery went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct WebhookDelivery {
    /// The `webhook-id` the receiver saw (the same on every attempt).
    pub message_id: String,
    pub event: String,
    pub created_at: i64,
    pub attempts: i64,
    /// When it was received (a 2xx answer), if it was.
    pub delivered_at: Option<i64>,
    /// The last attempt's answer and how long it took.
    pub status_code: Option<i64>,
    pub latency_ms: Option<i64>,
    pub last_error: Option<String>,
    /// When it is tried again, if it will be.
    pub next_attempt_at: Option<i64>,
}
