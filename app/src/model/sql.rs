//! How model values are stored (server only): ids as their hyphenated text, enumerations as their
//! wire spelling, flags as 0 or 1. Both backends read and write them through sqlx's `Any` driver,
//! which carries only text and numbers, so the data layer binds and reads these types directly and
//! never spells a conversion itself. A stored value that does not parse is a decode error of sqlx,
//! which names the column.

use sqlx::{
    any::AnyTypeInfo,
    decode::Decode,
    encode::{Encode, IsNull},
    error::BoxDynError,
    Any, Database, Type,
};

use super::{
    ActivityKind, AttachmentId, AuditEvent, CommentId, ExportDestination, ExportSchedule, ExportStatus, InvitationId,
    IssueId, IssueType, IssueVisibility, NotificationLevel, NotificationReason, OutboxKind, Priority, ProjectId, Role,
    Severity, StatusCategory, StatusId, TeamId, TokenId, UserId, ViewId, Visibility, WebhookId,
};

/// Stored as text: `$text` spells a value, `$parse` reads one back (`Result` or `Option`).
macro_rules! stored_as_text {
    ($($name:ident: $text:expr, $parse:expr;)+) => {$(
        impl Type<Any> for $name {
            fn type_info() -> AnyTypeInfo {
                <String as Type<Any>>::type_info()
            }
            fn compatible(ty: &AnyTypeInfo) -> bool {
                <String as Type<Any>>::compatible(ty)
            }
        }

        impl<'q> Encode<'q, Any> for $name {
            fn encode_by_ref(&self, buf: &mut <Any as Database>::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
                let text: String = ($text)(*self);
                <String as Encode<'q, Any>>::encode(text, buf)
            }
        }

        impl<'r> Decode<'r, Any> for $name {
            fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let text = <String as Decode<Any>>::decode(value)?;
                ($parse)(text.as_str()).ok_or_else(|| {
                    format!(concat!("not a valid ", stringify!($name), ": {:?}"), text).into()
                })
            }
        }
    )+};
}

fn parse_id(text: &str) -> Option<uuid::Uuid> {
    uuid::Uuid::parse_str(text).ok()
}

stored_as_text! {
    UserId: |id: UserId| id.0.to_string(), |t| parse_id(t).map(UserId);
    TeamId: |id: TeamId| id.0.to_string(), |t| parse_id(t).map(TeamId);
    InvitationId: |id: InvitationId| id.0.to_string(), |t| parse_id(t).map(InvitationId);
    ProjectId: |id: ProjectId| id.0.to_string(), |t| parse_id(t).map(ProjectId);
    StatusId: |id: StatusId| id.0.to_string(), |t| parse_id(t).map(StatusId);
    IssueId: |id: IssueId| id.0.to_string(), |t| parse_id(t).map(IssueId);
    CommentId: |id: CommentId| id.0.to_string(), |t| parse_id(t).map(CommentId);
    AttachmentId: |id: AttachmentId| id.0.to_string(), |t| parse_id(t).map(AttachmentId);
    ViewId: |id: ViewId| id.0.to_string(), |t| parse_id(t).map(ViewId);
    TokenId: |id: TokenId| id.0.to_string(), |t| parse_id(t).map(TokenId);
    WebhookId: |id: WebhookId| id.0.to_string(), |t| parse_id(t).map(WebhookId);
    Role: |v: Role| v.as_str().to_owned(), Role::parse;
    AuditEvent: |v: AuditEvent| v.as_str().to_owned(), AuditEvent::parse;
    Visibility: |v: Visibility| v.as_str().to_owned(), Visibility::parse;
    StatusCategory: |v: StatusCategory| v.as_str().to_owned(), StatusCategory::parse;
    IssueType: |v: IssueType| v.as_str().to_owned(), IssueType::parse;
    Severity: |v: Severity| v.as_str().to_owned(), Severity::parse;
    Priority: |v: Priority| v.as_str().to_owned(), Priority::parse;
    IssueVisibility: |v: IssueVisibility| v.as_str().to_owned(), IssueVisibility::parse;
    ExportDestination: |v: ExportDestination| v.as_str().to_owned(), ExportDestination::parse;
    ExportStatus: |v: ExportStatus| v.as_str().to_owned(), ExportStatus::parse;
    ExportSchedule: |v: ExportSchedule| v.as_str().to_owned(), ExportSchedule::parse;
    ActivityKind: |v: ActivityKind| v.as_str().to_owned(), ActivityKind::parse;
    OutboxKind: |v: OutboxKind| v.as_str().to_owned(), OutboxKind::parse;
    NotificationReason: |v: NotificationReason| v.as_str().to_owned(), NotificationReason::parse;
    NotificationLevel: |v: NotificationLevel| v.as_str().to_owned(), NotificationLevel::parse;
}

/// A yes/no column, stored as 0 or 1 on both backends (see `docs/architecture.md` for why `PostgreSQL`
/// keeps integers). Rows read it as `bool` with `#[sqlx(try_from = "Flag")]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }
    fn compatible(ty: &AnyTypeInfo) -> bool {
        <i64 as Type<Any>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Any> for Flag {
    fn encode_by_ref(&self, buf: &mut <Any as Database>::ArgumentBuffer<'q>) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<'q, Any>>::encode(i64::from(self.0), buf)
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: <Any as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
        match <i64 as Decode<Any>>::decode(value)? {
            0 => Ok(Flag(false)),
            1 => Ok(Flag(true)),
            other => Err(format!("not a flag (0 or 1): {other}").into()),
        }
    }
}
