//! Wire types of the tracker: issues, comments and history, with their garde rules.

use garde::Validate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Normalize, Project, ProjectId, StatusCategory, StatusId, UserId};
use crate::rules;

typed_id!(
    /// An issue.
    IssueId
);
typed_id!(
    /// A comment on an issue.
    CommentId
);

string_enum!(
    /// What kind of work an issue is.
    IssueType { Bug => "bug", Task => "task", Feature => "feature", Improvement => "improvement" } default Bug
);
string_enum!(
    /// How bad the problem is.
    Severity { Critical => "critical", High => "high", Medium => "medium", Low => "low" } default Medium
);
string_enum!(
    /// How soon it should be worked on.
    Priority { Urgent => "urgent", High => "high", Medium => "medium", Low => "low", None => "none" } default None
);
string_enum!(
    /// Who may see an issue or comment: `internal` hides it from guests (but an issue's reporter).
    IssueVisibility { Internal => "internal", Public => "public" } default Internal
);

/// Where a bug was seen.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[serde(default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Environment {
    #[garde(custom(rules::env_field))]
    pub browser: String,
    #[garde(custom(rules::env_field))]
    pub os: String,
    #[garde(custom(rules::env_field))]
    pub device: String,
    #[garde(custom(rules::env_field))]
    pub app_version: String,
    #[garde(custom(rules::env_url))]
    pub url: String,
}

impl Environment {
    /// The filled-in fields in words, as the history records them: "browser Firefox 130, OS Linux".
    pub fn summary(&self) -> String {
        [
            ("browser", &self.browser),
            ("OS", &self.os),
            ("device", &self.device),
            ("app version", &self.app_version),
            ("address", &self.url),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name} {value}"))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// The fields of an issue that people write; used to create and to edit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssueFields {
    #[garde(custom(rules::issue_title))]
    pub title: String,
    #[garde(custom(rules::issue_text))]
    #[serde(default)]
    pub description: String,
    #[garde(skip)]
    #[serde(default)]
    pub kind: IssueType,
    #[garde(skip)]
    #[serde(default)]
    pub severity: Severity,
    #[garde(skip)]
    #[serde(default)]
    pub priority: Priority,
    #[garde(skip)]
    #[serde(default)]
    pub visibility: IssueVisibility,
    #[garde(dive)]
    #[serde(default)]
    pub environment: Environment,
    #[garde(custom(rules::due_date))]
    #[serde(default)]
    pub due_date: Option<String>,
    #[garde(custom(rules::tags))]
    #[serde(default)]
    pub tags: Vec<String>,
    #[garde(skip)]
    #[serde(default)]
    pub assignees: Vec<UserId>,
}

impl Normalize for IssueFields {
    fn normalize(self) -> Self {
        let mut tags: Vec<String> =
            self.tags.iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect();
        tags.sort();
        tags.dedup();
        let mut assignees = self.assignees;
        assignees.sort();
        assignees.dedup();
        Self {
            title: self.title.trim().to_owned(),
            due_date: self.due_date.filter(|d| !d.trim().is_empty()),
            environment: Environment {
                browser: self.environment.browser.trim().to_owned(),
                os: self.environment.os.trim().to_owned(),
                device: self.environment.device.trim().to_owned(),
                app_version: self.environment.app_version.trim().to_owned(),
                url: self.environment.url.trim().to_owned(),
            },
            tags,
            assignees,
            ..self
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct NewIssueInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(dive)]
    pub fields: IssueFields,
}

impl Normalize for NewIssueInput {
    fn normalize(self) -> Self {
        Self { project_id: self.project_id, fields: self.fields.normalize() }
    }
}

/// Edits an issue: every field is replaced; the history records what changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct UpdateIssueInput {
    #[garde(skip)]
    pub issue_id: IssueId,
    #[garde(skip)]
    pub status_id: StatusId,
    #[garde(dive)]
    pub fields: IssueFields,
}

impl Normalize for UpdateIssueInput {
    fn normalize(self) -> Self {
        Self { fields: self.fields.normalize(), ..self }
    }
}

/// Moves an issue to another status of its project (the board).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ChangeStatusInput {
    #[garde(skip)]
    pub issue_id: IssueId,
    #[garde(skip)]
    pub status_id: StatusId,
}

/// Names an issue as people do: `WEB-42`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct IssueRefInput {
    #[garde(custom(rules::project_key))]
    pub key: String,
    #[garde(range(min = 1))]
    pub number: i64,
}

impl Normalize for IssueRefInput {
    fn normalize(self) -> Self {
        Self { key: self.key.trim().to_ascii_uppercase(), number: self.number }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct IssueIdInput {
    #[garde(skip)]
    pub issue_id: IssueId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct NewCommentInput {
    #[garde(skip)]
    pub issue_id: IssueId,
    #[garde(custom(rules::comment_body))]
    pub body: String,
    /// Hidden from guests. Guests' own comments are always public.
    #[garde(skip)]
    #[serde(default)]
    pub internal: bool,
}

/// Markdown to show as it will read once saved (a description or a comment being written).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct PreviewInput {
    #[garde(custom(rules::issue_text))]
    pub text: String,
}

/// What the command palette looks for: a key (`WEB-3`), a number (`3`, in every project) or words of
/// a title (each of three characters or more, the least the trigram indexes can look up): see
/// [`rules::JumpQuery`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct JumpInput {
    #[garde(custom(rules::jump_query))]
    pub q: String,
}

/// Where the palette can go for a query: projects whose key or name holds it, and issues (at most
/// [`JUMP_LIMIT`] of each), every one of them readable by the one who asked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JumpTargets {
    pub projects: Vec<Project>,
    pub issues: Vec<IssueSummary>,
}

/// The most projects and issues the palette offers for one query.
pub const JUMP_LIMIT: usize = 10;

/// The signed-in reader's start page: their open issues across every project they read, and the
/// projects where something they may read changed last.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeLists {
    /// Open issues assigned to the reader, most recently changed first.
    pub assigned: Vec<IssueSummary>,
    /// Open issues the reader reported, most recently changed first.
    pub reported: Vec<IssueSummary>,
    pub recent_projects: Vec<Project>,
}

/// The most issues of each list on the start page, and of recent projects.
pub const MY_WORK_LIMIT: usize = 20;
pub const RECENT_PROJECTS: usize = 5;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct EditCommentInput {
    #[garde(skip)]
    pub comment_id: CommentId,
    #[garde(custom(rules::comment_body))]
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct CommentIdInput {
    #[garde(skip)]
    pub comment_id: CommentId,
}

/// Which issues of a project to list. Every filter is optional; they combine with AND. The same
/// fields appear in the app's URL (`?q=...&severity=high`), so a view can be bookmarked and shared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[serde(default)]
pub struct IssueFilter {
    /// Words in the title or description.
    #[garde(custom(rules::search_query))]
    pub q: String,
    #[garde(skip)]
    pub status: Option<StatusId>,
    #[garde(skip)]
    pub category: Option<StatusCategory>,
    #[garde(skip)]
    pub kind: Option<IssueType>,
    #[garde(skip)]
    pub severity: Option<Severity>,
    #[garde(skip)]
    pub priority: Option<Priority>,
    #[garde(skip)]
    pub visibility: Option<IssueVisibility>,
    #[garde(custom(rules::tag_filter))]
    pub tag: String,
    #[garde(skip)]
    pub assignee: Option<UserId>,
    #[garde(skip)]
    pub reporter: Option<UserId>,
}

/// Reads query parameters, remembering the first whose value is unknown.
struct QueryParams<F> {
    get: F,
    unknown: Option<&'static str>,
}

impl<F: Fn(&str) -> Option<String>> QueryParams<F> {
    fn text(&self, name: &str) -> String {
        (self.get)(name).unwrap_or_default()
    }

    fn parsed<T>(&mut self, name: &'static str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let raw = self.text(name);
        let parsed = parse(&raw);
        if parsed.is_none() && !raw.is_empty() {
            self.unknown.get_or_insert(name);
        }
        parsed
    }
}

/// The parameters of a list's address (`?q=login&severity=high&sort=priority`): the app's links and
/// the CSV export read and write them through these two functions only.
impl IssueFilter {
    /// The filter and order that the parameters name; `get` reads one parameter. Also answers the
    /// first parameter whose value is unknown (that value is left out): the app ignores it, the export
    /// refuses it.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> (IssueFilter, IssueSort, Option<&'static str>) {
        let mut p = QueryParams { get, unknown: None };
        let filter = IssueFilter {
            q: p.text("q"),
            status: p.parsed("status", |v| v.parse().ok()),
            category: p.parsed("category", StatusCategory::parse),
            kind: p.parsed("type", IssueType::parse),
            severity: p.parsed("severity", Severity::parse),
            priority: p.parsed("priority", Priority::parse),
            visibility: p.parsed("visibility", IssueVisibility::parse),
            tag: p.text("tag"),
            assignee: p.parsed("assignee", |v| v.parse().ok()),
            reporter: p.parsed("reporter", |v| v.parse().ok()),
        };
        let sort = p.parsed("sort", IssueSort::parse).unwrap_or_default();
        (filter, sort, p.unknown)
    }

    /// The parameters of this filter and order, without the empty ones and the default order.
    pub fn query_pairs(&self, sort: IssueSort) -> Vec<(&'static str, String)> {
        let pairs = [
            ("sort", if sort == IssueSort::Number { String::new() } else { sort.as_str().to_owned() }),
            ("q", self.q.clone()),
            ("status", self.status.map(|s| s.to_string()).unwrap_or_default()),
            ("category", self.category.map(|c| c.as_str().to_owned()).unwrap_or_default()),
            ("type", self.kind.map(|k| k.as_str().to_owned()).unwrap_or_default()),
            ("severity", self.severity.map(|s| s.as_str().to_owned()).unwrap_or_default()),
            ("priority", self.priority.map(|p| p.as_str().to_owned()).unwrap_or_default()),
            ("visibility", self.visibility.map(|v| v.as_str().to_owned()).unwrap_or_default()),
            ("tag", self.tag.clone()),
            ("assignee", self.assignee.map(|a| a.to_string()).unwrap_or_default()),
            ("reporter", self.reporter.map(|r| r.to_string()).unwrap_or_default()),
        ];
        pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect()
    }

    /// `sort=priority&q=login`: the parameters of this filter and order, percent-encoded.
    pub fn query(&self, sort: IssueSort) -> String {
        let encoded: Vec<String> =
            self.query_pairs(sort).into_iter().map(|(k, v)| format!("{k}={}", percent_encode(&v))).collect();
        encoded.join("&")
    }
}

/// Percent-encodes a query value: every byte but the unreserved ones of RFC 3986.
pub fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

string_enum!(
    /// The order of an issue list: by number (oldest first), most recently updated first, most urgent
    /// priority first, or most severe first; ties go by number.
    IssueSort { Number => "number", Updated => "updated", Priority => "priority", Severity => "severity" } default Number
);

/// A page of a project's issues. For the next page pass the `next` cursor of the previous one
/// (`after` and `after_key`); keyset pagination stays fast however deep the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ListIssuesInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(dive)]
    #[serde(default)]
    pub filter: IssueFilter,
    #[garde(skip)]
    #[serde(default)]
    pub sort: IssueSort,
    /// The number of the last issue seen (0: from the start).
    #[garde(range(min = 0))]
    #[serde(default)]
    pub after: i64,
    /// The sort key of the last issue seen (from the previous page's `next`).
    #[garde(skip)]
    #[serde(default)]
    pub after_key: Option<i64>,
}

/// A project's issues page in one request: the project (by its key, as in the address) and the first
/// page of its issues with this filter and order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct OpenProjectInput {
    #[garde(custom(rules::project_key))]
    pub key: String,
    #[garde(dive)]
    #[serde(default)]
    pub filter: IssueFilter,
    #[garde(skip)]
    #[serde(default)]
    pub sort: IssueSort,
}

impl Normalize for OpenProjectInput {
    fn normalize(self) -> Self {
        Self { key: self.key.trim().to_ascii_uppercase(), ..self }
    }
}

/// What `open_project` answers: everything the issues page shows first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPage {
    pub detail: super::ProjectDetail,
    pub issues: IssuePage,
    /// The project's saved views the actor sees, by name.
    pub views: Vec<super::SavedView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuePage {
    /// What a list shows of each issue; the issue page (`get_issue`) has the rest.
    pub issues: Vec<IssueSummary>,
    /// The `after` of the next page, if there is one.
    pub next_after: Option<i64>,
    /// The `after_key` of the next page, if there is one.
    #[serde(default)]
    pub next_after_key: Option<i64>,
}

/// Names a published project, by the id in its public address (`/p/<id>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct PublishedProjectInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    /// For lists: the last number seen.
    #[garde(range(min = 0))]
    #[serde(default)]
    pub after: i64,
}

/// One public issue of a published project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct PublishedIssueInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(range(min = 1))]
    pub number: i64,
}

no_normalization!(PublishedProjectInput, PublishedIssueInput);

no_normalization!(
    ListIssuesInput,
    IssueIdInput,
    ChangeStatusInput,
    NewCommentInput,
    PreviewInput,
    JumpInput,
    EditCommentInput,
    CommentIdInput
);

#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StatusRef {
    pub id: StatusId,
    pub name: String,
    pub category: StatusCategory,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Person {
    pub id: UserId,
    pub display_name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Issue {
    pub id: IssueId,
    pub project_id: ProjectId,
    /// `WEB-42`.
    pub reference: String,
    pub number: i64,
    pub title: String,
    pub description: String,
    /// The description rendered from Markdown and sanitised on the server.
    pub description_html: String,
    pub kind: IssueType,
    pub severity: Severity,
    pub priority: Priority,
    pub visibility: IssueVisibility,
    pub status: StatusRef,
    pub reporter: Person,
    pub assignees: Vec<Person>,
    pub tags: Vec<String>,
    pub environment: Environment,
    pub due_date: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An issue as lists, boards and exports show it: everything but the description and the environment,
/// so that a page of 50 carries no Markdown and costs no rendering.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssueSummary {
    pub id: IssueId,
    pub project_id: ProjectId,
    /// `WEB-42`.
    pub reference: String,
    pub number: i64,
    pub title: String,
    pub kind: IssueType,
    pub severity: Severity,
    pub priority: Priority,
    pub visibility: IssueVisibility,
    pub status: StatusRef,
    pub reporter: Person,
    pub assignees: Vec<Person>,
    pub tags: Vec<String>,
    pub due_date: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Comment {
    pub id: CommentId,
    pub author: Person,
    pub body: String,
    /// Rendered from Markdown and sanitised on the server.
    pub body_html: String,
    pub visibility: IssueVisibility,
    pub created_at: i64,
    pub updated_at: i64,
    /// The files attached to the comment, oldest first.
    #[serde(default)]
    pub attachments: Vec<super::Attachment>,
}

/// One recorded change of an issue.
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    pub at: i64,
    pub actor: Option<String>,
    pub field: String,
    pub old_value: String,
    pub new_value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssueDetail {
    pub issue: Issue,
    pub comments: Vec<Comment>,
    pub history: Vec<HistoryEntry>,
}

#[cfg(test)]
mod query_tests {
    use super::*;

    fn read(pairs: &[(&'static str, String)]) -> (IssueFilter, IssueSort, Option<&'static str>) {
        IssueFilter::from_query(|k| pairs.iter().find(|(name, _)| *name == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn a_filter_survives_the_round_trip_through_the_address() {
        let filter = IssueFilter {
            q: "login fails".into(),
            status: Some(StatusId(Uuid::nil())),
            category: Some(StatusCategory::InProgress),
            kind: Some(IssueType::Bug),
            severity: Some(Severity::High),
            priority: Some(Priority::Urgent),
            visibility: Some(IssueVisibility::Public),
            tag: "auth".into(),
            assignee: Some(UserId(Uuid::nil())),
            reporter: Some(UserId(Uuid::max())),
        };
        let pairs = filter.query_pairs(IssueSort::Priority);
        assert_eq!(pairs.len(), 11, "every field and the order: {pairs:?}");
        assert_eq!(read(&pairs), (filter, IssueSort::Priority, None));
        assert!(IssueFilter::default().query_pairs(IssueSort::Number).is_empty(), "defaults are left out");
    }

    #[test]
    fn an_unknown_value_is_named_and_left_out() {
        let (filter, sort, unknown) =
            read(&[("severity", "fatal".into()), ("priority", "high".into()), ("sort", "random".into())]);
        assert_eq!(unknown, Some("severity"));
        assert_eq!((filter.severity, filter.priority, sort), (None, Some(Priority::High), IssueSort::Number));
        assert_eq!(read(&[("sort", "random".into())]).2, Some("sort"));
    }
}
