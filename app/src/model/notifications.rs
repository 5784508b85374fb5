//! Notifications: who watches an issue, the inbox, and how each person wants to hear of activity.
//! An entry holds ids only; what it shows is read with its recipient's read rules when it is read.

use garde::Validate;
use serde::{Deserialize, Serialize};

use super::{IssueId, Normalize, ProjectId};

/// What happened to an issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Created,
    Changed,
    Commented,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 3] = [ActivityKind::Created, ActivityKind::Changed, ActivityKind::Commented];

    /// The spelling used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Created => "created",
            ActivityKind::Changed => "changed",
            ActivityKind::Commented => "commented",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What an outbox row records (server only): the activities people hear of, and those only webhooks
/// hear of (an issue deleted, a comment edited or deleted, a file attached).
#[cfg(feature = "ssr")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxKind {
    Activity(ActivityKind),
    Deleted,
    CommentEdited,
    CommentDeleted,
    AttachmentAdded,
}

#[cfg(feature = "ssr")]
impl OutboxKind {
    const HOOKS_ONLY: [(OutboxKind, &'static str); 4] = [
        (OutboxKind::Deleted, "deleted"),
        (OutboxKind::CommentEdited, "comment_edited"),
        (OutboxKind::CommentDeleted, "comment_deleted"),
        (OutboxKind::AttachmentAdded, "attachment_added"),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Activity(kind) => kind.as_str(),
            other => Self::HOOKS_ONLY.iter().find(|(k, _)| *k == other).map_or("", |(_, name)| name),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ActivityKind::parse(s)
            .map(OutboxKind::Activity)
            .or_else(|| Self::HOOKS_ONLY.iter().find(|(_, name)| *name == s).map(|(k, _)| *k))
    }

    /// The activity people are notified of, if this is one.
    pub fn notifies(self) -> Option<ActivityKind> {
        match self {
            OutboxKind::Activity(kind) => Some(kind),
            _ => None,
        }
    }
}

/// Why someone hears of an activity: the strongest of the reasons that apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationReason {
    Watching,
    Assigned,
    Mentioned,
}

impl NotificationReason {
    pub const ALL: [NotificationReason; 3] =
        [NotificationReason::Watching, NotificationReason::Assigned, NotificationReason::Mentioned];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationReason::Watching => "watching",
            NotificationReason::Assigned => "assigned",
            NotificationReason::Mentioned => "mentioned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Which activity notifies a person.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationLevel {
    /// Everything on the issues they watch (and new issues of the projects they watch).
    #[default]
    All,
    /// Only being mentioned or assigned.
    Participating,
    /// Nothing.
    None,
}

impl NotificationLevel {
    pub const ALL: [NotificationLevel; 3] =
        [NotificationLevel::All, NotificationLevel::Participating, NotificationLevel::None];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationLevel::All => "all",
            NotificationLevel::Participating => "participating",
            NotificationLevel::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// Whether an activity heard of for `reason` notifies at this level.
    pub fn admits(self, reason: NotificationReason) -> bool {
        match self {
            NotificationLevel::All => true,
            NotificationLevel::Participating => reason != NotificationReason::Watching,
            NotificationLevel::None => false,
        }
    }
}

/// One inbox entry, as its reader may read it now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    pub issue_id: IssueId,
    /// `WEB-7`.
    pub issue_key: String,
    pub issue_title: String,
    /// Who did it.
    pub actor: String,
    pub kind: ActivityKind,
    /// The fields a change touched (names only).
    pub fields: Vec<String>,
    pub reason: NotificationReason,
    pub created_at: i64,
    pub read: bool,
}

/// A page of the inbox, newest first, and how many entries are unread in all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inbox {
    pub entries: Vec<Notification>,
    pub unread: i64,
    /// Pass as `before` for the next page; `None` on the last.
    pub next_before: Option<i64>,
}

/// The most inbox entries a page holds.
pub const INBOX_PAGE: usize = 50;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct InboxInput {
    /// Entries older than this id (the previous page's `next_before`).
    #[garde(skip)]
    #[serde(default)]
    pub before: Option<i64>,
    #[garde(skip)]
    #[serde(default)]
    pub unread_only: bool,
}

no_normalization!(InboxInput);

/// The most entries one call marks by id.
pub const MARK_READ_MAX: usize = 200;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct MarkReadInput {
    /// The entries to mark read; ignored with `all`.
    #[garde(length(max = MARK_READ_MAX))]
    #[serde(default)]
    pub ids: Vec<i64>,
    /// Marks every entry of the active team read.
    #[garde(skip)]
    #[serde(default)]
    pub all: bool,
}

no_normalization!(MarkReadInput);

/// The people a text of an issue could mention, for the editor's suggestions: those whose address or
/// name starts with `prefix` and who may read the issue (and, for an `internal` text, internal text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct MentionInput {
    #[garde(skip)]
    pub issue_id: IssueId,
    #[garde(skip)]
    pub internal: bool,
    #[garde(custom(crate::rules::mention_prefix))]
    pub prefix: String,
}

no_normalization!(MentionInput);

/// Someone a text may mention: `handle` is what follows the `@` (an address's local part when no
/// other member's address shares it, else the whole address).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mentionable {
    pub handle: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct WatchIssueInput {
    #[garde(skip)]
    pub issue_id: IssueId,
    #[garde(skip)]
    pub watching: bool,
}

no_normalization!(WatchIssueInput);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct WatchProjectInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(skip)]
    pub watching: bool,
}

no_normalization!(WatchProjectInput);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ProjectWatchingInput {
    #[garde(skip)]
    pub project_id: ProjectId,
}

no_normalization!(ProjectWatchingInput);

/// How a person hears of activity, and whether their address can be mailed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct NotificationPreferences {
    #[garde(skip)]
    pub level: NotificationLevel,
    /// Mail as well as the inbox (sent only to a verified address).
    #[garde(skip)]
    pub email: bool,
    /// Read only: whether their address is proven (by an emailed invitation they accepted).
    #[garde(skip)]
    #[serde(default)]
    pub email_verified: bool,
}

no_normalization!(NotificationPreferences);
