//! Issues and comments. What an actor may see is decided by `policy::Reader` and applied by the data
//! layer, whose finders answer [`Visible`] issues (guests: public issues and their own reports, public
//! comments, history recorded while visible to them); what they may change comes from `policy`.

use app::{
    api::{IssuesApi, RequestParts},
    error::{AppError, ErrorCode},
    model::{
        parse, ChangeStatusInput, Comment, CommentIdInput, EditCommentInput, HomeLists, Issue, IssueDetail,
        IssueFields, IssueIdInput, IssuePage, IssueRefInput, IssueVisibility, JumpInput, JumpTargets, ListIssuesInput,
        NewCommentInput, NewIssueInput, OpenProjectInput, PreviewInput, Priority, Project, ProjectPage,
        UpdateIssueInput, JUMP_LIMIT, MY_WORK_LIMIT, RECENT_PROJECTS,
    },
    rules::JumpQuery,
};

use super::Service;
use crate::{
    actor::Actor,
    db::{
        attachments, audit,
        issues::{self, Across, Change, StoredIssue, Visible},
        notifications, projects,
        scope::ReadScope,
    },
    error::ServiceError,
    markdown,
    policy::{self, Action},
};

const PAGE_SIZE: i64 = 50;

/// What changed between two versions of an issue, field by field, for the history.
/// The refusal of a write to an issue that changed since its client read it.
fn changed_since_read() -> AppError {
    AppError::new(
        ErrorCode::PreconditionFailed,
        "The issue changed since you read it (If-Match does not match its ETag): read it again.",
    )
}

fn changes(old: &StoredIssue, status_before: &str, status_after: &str, new: &IssueFields) -> Vec<Change> {
    let mut out = Vec::new();
    let mut diff = |field: &'static str, a: String, b: String| {
        if a != b {
            out.push(Change { field, old: a, new: b });
        }
    };
    let f = &old.fields;
    diff("title", f.title.clone(), new.title.clone());
    diff("description", f.description.clone(), new.description.clone());
    diff("type", f.kind.as_str().into(), new.kind.as_str().into());
    diff("severity", f.severity.as_str().into(), new.severity.as_str().into());
    diff("priority", f.priority.as_str().into(), new.priority.as_str().into());
    diff("visibility", f.visibility.as_str().into(), new.visibility.as_str().into());
    diff("status", status_before.into(), status_after.into());
    diff("due_date", f.due_date.clone().unwrap_or_default(), new.due_date.clone().unwrap_or_default());
    diff("tags", f.tags.join(", "), new.tags.join(", "));
    let ids = |v: &[app::model::UserId]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    diff("assignees", ids(&f.assignees), ids(&new.assignees));
    // Compared as fields, recorded in words: two environments may read alike ("browser a, OS b").
    if f.environment != new.environment {
        out.push(Change { field: "environment", old: f.environment.summary(), new: new.environment.summary() });
    }
    out
}

/// Whether a palette query names a project: its key, or words that are all in its key or name.
fn names_project(query: &JumpQuery, project: &Project) -> bool {
    match query {
        JumpQuery::Key(key, _) => project.key == *key,
        JumpQuery::Number(_) => false,
        JumpQuery::Words(words) => {
            let text = format!("{} {}", project.key, project.name).to_lowercase();
            words.iter().all(|word| text.contains(word.as_str()))
        }
    }
}

/// A count of the model as a statement's `LIMIT`.
fn as_limit(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

impl Service {
    /// A page of issues from up to `PAGE_SIZE + 1` stored ones: the extra one only says there is more,
    /// and the last shown gives the next page's cursor.
    /// A page of the project's issues that the actor may see (the project already found visible).
    async fn issue_page(
        &self,
        actor: &Actor,
        project_id: app::model::ProjectId,
        filter: &app::model::IssueFilter,
        sort: app::model::IssueSort,
        cursor: issues::Cursor,
    ) -> Result<IssuePage, AppError> {
        let stored = issues::list(&self.db, actor, project_id, filter, sort, cursor, PAGE_SIZE + 1).await?;
        self.page(stored, sort).await
    }

    async fn page(
        &self,
        mut stored: Vec<Visible<StoredIssue>>,
        sort: app::model::IssueSort,
    ) -> Result<IssuePage, AppError> {
        let more = i64::try_from(stored.len()).unwrap_or(i64::MAX) > PAGE_SIZE;
        stored.truncate(usize::try_from(PAGE_SIZE).unwrap_or(50));
        let next = stored.last().filter(|_| more).map(|last| (last.number, issues::sort_key(sort, last)));
        let page = issues::to_summaries(&self.db, stored).await?;
        let next_after_key = next.map(|n| n.1).filter(|_| sort != app::model::IssueSort::Number);
        Ok(IssuePage { issues: page, next_after: next.map(|n| n.0), next_after_key })
    }

    /// `list_issues` for a project named by its key (the REST API's door): the same rules, one
    /// look-up of the project; `input.project_id` is ignored. Answers the project with the page.
    pub async fn list_issues_by_key(
        &self,
        req: &RequestParts,
        key: &str,
        input: ListIssuesInput,
    ) -> Result<(Project, IssuePage), AppError> {
        let (_, actor) = self.actor(req).await?;
        let key = parse(app::model::ProjectKeyInput { key: key.to_owned() })?.into_inner().key;
        let project = projects::find_by_key(&self.db, &actor, &key).await?.ok_or_else(AppError::not_found)?;
        let input = parse(ListIssuesInput { project_id: project.id, ..input })?;
        let page = self.listed_page(&actor, project.id, &input).await?;
        Ok((project, page))
    }

    /// `update_issue` for a client that read the issue as it was at `read_at` (its `updated_at`): the
    /// REST API's `If-Match`. A change made by anyone since, even while this one runs, is not
    /// overwritten: the answer is `precondition_failed`.
    pub async fn update_issue_unchanged_since(
        &self,
        req: &RequestParts,
        input: UpdateIssueInput,
        read_at: i64,
    ) -> Result<Issue, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor_for(req, Action::EditIssues).await?;
        let old = self.visible_issue(&actor, input.issue_id).await?;
        if old.updated_at != read_at {
            return Err(changed_since_read());
        }
        self.save_issue(&actor, old, input.status_id, &input.fields, Some(read_at)).await
    }

    /// The issue `KEY-number` as its reader sees it, without its comments and history: what the REST
    /// API's writes and attachments need to find it (the `ETag` and the id).
    pub async fn issue_by_ref(&self, req: &RequestParts, input: IssueRefInput) -> Result<Issue, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor(req).await?;
        let visible =
            issues::find_by_ref(&self.db, &actor, &input.key, input.number).await?.ok_or_else(AppError::not_found)?;
        Ok(issues::to_issue(&self.db, visible).await?)
    }

    /// The page `input` asks for, of a project the actor reads.
    async fn listed_page(
        &self,
        actor: &Actor,
        project: app::model::ProjectId,
        input: &ListIssuesInput,
    ) -> Result<IssuePage, AppError> {
        let key = input.after_key.map_or(issues::first_key(input.sort), |k| issues::clamp_key(input.sort, k));
        let cursor = issues::Cursor { key, number: input.after };
        self.issue_page(actor, project, &input.filter, input.sort, cursor).await
    }

    async fn visible_issue(&self, actor: &Actor, id: app::model::IssueId) -> Result<Visible<StoredIssue>, AppError> {
        issues::find(&self.db, actor, id).await?.ok_or_else(AppError::not_found)
    }

    async fn check_assignees(
        &self,
        actor: &Actor,
        project: app::model::ProjectId,
        fields: &IssueFields,
    ) -> Result<(), AppError> {
        if !issues::all_assignable(&self.db, actor, project, &fields.assignees).await? {
            return Err(AppError::field("fields.assignees", "Assignees must be members of the project (not guests)."));
        }
        Ok(())
    }

    /// An issue with the comments and history its reader may see.
    async fn detail(&self, visible: Visible<StoredIssue>) -> Result<IssueDetail, AppError> {
        let mut comments = self.comments_with_files(&visible, issues::comments(&self.db, &visible).await?).await?;
        let history = issues::history(&self.db, &visible).await?;
        let scope = *visible.scope();
        let (mentioned, key) = (self.people_mentioned(&visible, &comments).await?, visible.key.clone());
        let mut issue = issues::to_issue(&self.db, visible).await?;
        let texts = std::iter::once(&mut issue.description_html).chain(comments.iter_mut().map(|c| &mut c.body_html));
        let mut texts: Vec<&mut String> = texts.collect();
        self.link_issue_keys(&scope, texts.iter_mut().map(|t| &mut **t).collect()).await?;
        if !mentioned.is_empty() {
            // A mention opens the project's issues assigned to the person mentioned.
            let href = |name: &str| {
                let (_, user) = mentioned.iter().find(|(n, _)| n == name)?;
                Some(format!("/projects/{key}?assignee={user}"))
            };
            for html in texts {
                *html = markdown::link_mentions(html, href);
            }
        }
        Ok(IssueDetail { issue, comments, history })
    }

    /// The people mentioned in the issue's description and comments that its reader is shown as links
    /// (`db::notifications::people_mentioned`), by the name written.
    async fn people_mentioned(
        &self,
        visible: &Visible<StoredIssue>,
        comments: &[Comment],
    ) -> Result<Vec<(String, app::model::UserId)>, AppError> {
        let texts =
            std::iter::once(visible.fields.description.as_str()).chain(comments.iter().map(|c| c.body.as_str()));
        let mut names = std::collections::BTreeSet::new();
        for text in texts {
            names.extend(markdown::mentions_in(text).into_iter().map(|(_, name)| name));
        }
        Ok(notifications::people_mentioned(&self.db, visible, &names).await?)
    }

    /// Makes the issue keys in rendered texts (`WEB-3`) links for a reader who may open those issues,
    /// by the reader's own scope; the others stay text, so a key reveals nothing.
    async fn link_issue_keys(&self, scope: &ReadScope, texts: Vec<&mut String>) -> Result<(), AppError> {
        let mut refs = Vec::new();
        for html in &texts {
            markdown::issue_refs(html, &mut refs);
        }
        let readable = issues::readable_refs(&self.db, scope, &refs).await?;
        if readable.is_empty() {
            return Ok(());
        }
        // An anonymous reader opens issues on the published project's own pages.
        let href = |key: &str, number: i64| {
            readable.iter().any(|(k, n)| k == key && *n == number).then(|| match scope.published_project() {
                Some(project) => format!("/p/{project}/issues/{number}"),
                None => format!("/projects/{key}/issues/{number}"),
            })
        };
        for html in texts {
            *html = markdown::link_issue_refs(html, href);
        }
        Ok(())
    }

    /// Comments with the files attached to them (one statement for the whole issue). Anonymous
    /// readers of a published project get no files, as they get none of the issue's own.
    async fn comments_with_files(
        &self,
        issue: &Visible<StoredIssue>,
        mut comments: Vec<Comment>,
    ) -> Result<Vec<Comment>, AppError> {
        if matches!(issue.reader(), policy::Reader::Anonymous) {
            return Ok(comments);
        }
        let mut files = attachments::of_comments(&self.db, issue).await?;
        self.add_links(crate::db::TeamScope::team_id(issue), &mut files);
        for file in files {
            if let Some(comment) = comments.iter_mut().find(|c| Some(c.id) == file.comment_id) {
                comment.attachments.push(file);
            }
        }
        Ok(comments)
    }

    async fn save_issue(
        &self,
        actor: &Actor,
        old: Visible<StoredIssue>,
        status_id: app::model::StatusId,
        fields: &IssueFields,
        unchanged_since: Option<i64>,
    ) -> Result<Issue, AppError> {
        let before =
            issues::status(&self.db, actor, old.project_id, old.status_id).await?.ok_or_else(AppError::internal)?;
        let Some(after) = issues::status(&self.db, actor, old.project_id, status_id).await? else {
            return Err(AppError::field("status_id", "This status is not part of the project's workflow."));
        };
        self.check_assignees(actor, old.project_id, fields).await?;
        let changes = changes(&old, &before.name, &after.name, fields);
        // Every change moves `updated_at` forward, even within one millisecond: it versions the issue.
        let now = self.now().max(old.updated_at + 1);
        let update = issues::Update { status_id, fields, changes: &changes, unchanged_since };
        if !issues::update(&self.db, actor, &old, update, now).await? {
            return Err(if unchanged_since.is_some() { changed_since_read() } else { AppError::not_found() });
        }
        let stored = self.visible_issue(actor, old.id).await?;
        Ok(issues::to_issue(&self.db, stored).await?)
    }
}

impl Service {
    /// Every issue of the project that the actor may see and that matches `filter`, as CSV.
    pub async fn export_issues_csv(
        &self,
        req: &RequestParts,
        project_id: app::model::ProjectId,
        filter: app::model::IssueFilter,
        sort: app::model::IssueSort,
    ) -> Result<String, AppError> {
        // The list's shared rules hold at this door too (at most 8 words, no control characters).
        garde::Validate::validate(&filter)?;
        let mut after = 0;
        let mut after_key = None;
        let (first, last) = (["issue", "title"], ["assignees", "tags", "created_at", "updated_at"]);
        let header = [&first[..], &crate::spreadsheet::ISSUE_PROPERTY_COLUMNS, &last].concat();
        let mut csv = crate::spreadsheet::SafeCsv::new(&header).map_err(ServiceError::from)?;
        loop {
            let page = self
                .list_issues(req, ListIssuesInput { project_id, filter: filter.clone(), sort, after, after_key })
                .await?;
            for issue in &page.issues {
                let assignees = issue.assignees.iter().map(|a| a.display_name.clone()).collect::<Vec<_>>().join(", ");
                let row = [
                    issue.reference.clone(),
                    issue.title.clone(),
                    issue.kind.as_str().to_owned(),
                    issue.severity.as_str().to_owned(),
                    issue.priority.as_str().to_owned(),
                    issue.status.name.clone(),
                    issue.visibility.as_str().to_owned(),
                    issue.reporter.display_name.clone(),
                    assignees,
                    issue.tags.join(", "),
                    crate::clock::iso8601(issue.created_at),
                    crate::clock::iso8601(issue.updated_at),
                ];
                csv.row(row).map_err(ServiceError::from)?;
            }
            match page.next_after {
                Some(next) => {
                    after = next;
                    after_key = page.next_after_key;
                }
                None => break,
            }
        }
        let bytes = csv.finish().map_err(ServiceError::from)?;
        let (request, actor) = self.actor(req).await?;
        let detail = format!("project {project_id} as CSV");
        self.audit(&request, audit::Event::IssuesExported, Some(&actor), detail).await;
        // The writer was given only `String`s, so its bytes are UTF-8.
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Anonymous, read-only access to published projects: their public issues and public comments. The
/// project id in the public address is the only key; unpublished, archived or private projects are
/// "not found", like missing ones.
impl Service {
    async fn published(&self, id: app::model::ProjectId) -> Result<crate::db::projects::PublishedProject, AppError> {
        projects::find_published(&self.db, id).await?.ok_or_else(AppError::not_found)
    }
}

#[async_trait::async_trait]
impl IssuesApi for Service {
    #[tracing::instrument(skip_all)]
    async fn create_issue(&self, req: &RequestParts, input: NewIssueInput) -> Result<Issue, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor(req).await?;
        let project = projects::find(&self.db, &actor, input.project_id).await?.ok_or_else(AppError::not_found)?;
        if project.archived {
            return Err(AppError::new(ErrorCode::Conflict, "This project is archived."));
        }
        let mut fields = input.into_inner().fields;
        if !policy::may(&actor, Action::EditIssues) {
            // Guests report: their issues stay internal (seen by them and the team), with no triage fields.
            fields.visibility = IssueVisibility::Internal;
            fields.priority = Priority::None;
            fields.assignees.clear();
        }
        self.check_assignees(&actor, project.id, &fields).await?;
        let id = issues::create(&self.db, &actor, project.id, &fields, self.now()).await?;
        let stored = self.visible_issue(&actor, id).await?;
        Ok(issues::to_issue(&self.db, stored).await?)
    }

    async fn get_issue(&self, req: &RequestParts, input: IssueRefInput) -> Result<IssueDetail, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor(req).await?;
        let visible =
            issues::find_by_ref(&self.db, &actor, &input.key, input.number).await?.ok_or_else(AppError::not_found)?;
        self.detail(visible).await
    }

    async fn list_issues(&self, req: &RequestParts, input: ListIssuesInput) -> Result<IssuePage, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor(req).await?;
        let project = projects::find(&self.db, &actor, input.project_id).await?.ok_or_else(AppError::not_found)?;
        self.listed_page(&actor, project.id, &input).await
    }

    /// The project and its first page of issues, for the issues page's one request.
    async fn open_project(&self, req: &RequestParts, input: OpenProjectInput) -> Result<ProjectPage, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor(req).await?;
        let detail = self.project_detail(&actor, &input.key).await?;
        let cursor = issues::Cursor { key: issues::first_key(input.sort), number: 0 };
        let issues = self.issue_page(&actor, detail.project.id, &input.filter, input.sort, cursor).await?;
        let views = crate::db::views::of_project(&self.db, &actor, detail.project.id).await?;
        Ok(ProjectPage { detail, issues, views })
    }

    #[tracing::instrument(skip_all)]
    async fn jump_to(&self, req: &RequestParts, input: JumpInput) -> Result<JumpTargets, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor(req).await?;
        // The shared rule accepted the text, so it parses; the error only keeps the two in step.
        let query = JumpQuery::parse(&input.q).map_err(|message| AppError::field("q", message))?;
        let projects: Vec<Project> = projects::list(&self.db, &actor)
            .await?
            .into_iter()
            .filter(|project| names_project(&query, project))
            .take(JUMP_LIMIT)
            .collect();
        let find = match &query {
            JumpQuery::Key(key, number) => Across::Key(key, *number),
            JumpQuery::Number(number) => Across::Number(*number),
            JumpQuery::Words(words) => Across::TitleWords(words),
        };
        let mut found = issues::across_projects(&self.db, &actor, find, as_limit(JUMP_LIMIT)).await?;
        // Ranked: issues whose title holds the words first, then those whose other readable text
        // (description, tags, comments) does, each newest first.
        if let (JumpQuery::Words(words), true) = (&query, found.len() < JUMP_LIMIT) {
            let more =
                issues::across_projects(&self.db, &actor, Across::TextWords(words), as_limit(JUMP_LIMIT)).await?;
            for issue in more {
                if found.len() < JUMP_LIMIT && !found.iter().any(|f| f.id == issue.id) {
                    found.push(issue);
                }
            }
        }
        Ok(JumpTargets { projects, issues: issues::to_summaries(&self.db, found).await? })
    }

    async fn my_work(&self, req: &RequestParts) -> Result<HomeLists, AppError> {
        let (_, actor) = self.actor(req).await?;
        let limit = as_limit(MY_WORK_LIMIT);
        let assigned = issues::across_projects(&self.db, &actor, Across::AssignedToReader, limit).await?;
        let reported = issues::across_projects(&self.db, &actor, Across::ReportedByReader, limit).await?;
        Ok(HomeLists {
            assigned: issues::to_summaries(&self.db, assigned).await?,
            reported: issues::to_summaries(&self.db, reported).await?,
            recent_projects: projects::recently_active(&self.db, &actor, as_limit(RECENT_PROJECTS)).await?,
        })
    }

    async fn update_issue(&self, req: &RequestParts, input: UpdateIssueInput) -> Result<Issue, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor_for(req, Action::EditIssues).await?;
        let old = self.visible_issue(&actor, input.issue_id).await?;
        self.save_issue(&actor, old, input.status_id, &input.fields, None).await
    }

    async fn change_status(&self, req: &RequestParts, input: ChangeStatusInput) -> Result<Issue, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor_for(req, Action::EditIssues).await?;
        let old = self.visible_issue(&actor, input.issue_id).await?;
        let fields = old.fields.clone();
        self.save_issue(&actor, old, input.status_id, &fields, None).await
    }

    async fn delete_issue(&self, req: &RequestParts, input: IssueIdInput) -> Result<(), AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::DeleteIssues).await?;
        let issue = self.visible_issue(&actor, input.issue_id).await?;
        if !issues::delete(&self.db, &actor, &issue, self.now()).await? {
            return Err(AppError::not_found());
        }
        let detail = format!("{}-{} {:?}", issue.key, issue.number, issue.fields.title);
        self.audit(&request, audit::Event::IssueDeleted, Some(&actor), detail).await;
        Ok(())
    }

    async fn add_comment(&self, req: &RequestParts, input: NewCommentInput) -> Result<Comment, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor(req).await?;
        let issue = self.visible_issue(&actor, input.issue_id).await?;
        // Guests' comments are always public; members choose.
        let visibility = if input.internal && policy::may(&actor, Action::EditIssues) {
            IssueVisibility::Internal
        } else {
            IssueVisibility::Public
        };
        let id = issues::add_comment(&self.db, &actor, &issue, &input.body, visibility, self.now()).await?;
        issues::find_comment(&self.db, &actor, id).await?.map(|(_, c)| c).ok_or_else(AppError::internal)
    }

    async fn preview_markdown(&self, req: &RequestParts, input: PreviewInput) -> Result<String, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor(req).await?;
        let mut html = markdown::to_safe_html(&input.text);
        self.link_issue_keys(&ReadScope::of(&actor), vec![&mut html]).await?;
        Ok(html)
    }

    async fn edit_comment(&self, req: &RequestParts, input: EditCommentInput) -> Result<Comment, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor(req).await?;
        let (issue, comment) =
            issues::find_comment(&self.db, &actor, input.comment_id).await?.ok_or_else(AppError::not_found)?;
        if !policy::may_edit_comment(&actor, comment.author.id) {
            return Err(AppError::new(ErrorCode::Forbidden, "You can edit only your own comments."));
        }
        if !issues::edit_comment(&self.db, &actor, &issue, comment.id, &input.body, self.now()).await? {
            return Err(AppError::not_found());
        }
        let (issue, edited) =
            issues::find_comment(&self.db, &actor, comment.id).await?.ok_or_else(AppError::not_found)?;
        let mut edited = self.comments_with_files(&issue, vec![edited]).await?;
        edited.pop().ok_or_else(AppError::not_found)
    }

    async fn delete_comment(&self, req: &RequestParts, input: CommentIdInput) -> Result<(), AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor(req).await?;
        let (issue, comment) =
            issues::find_comment(&self.db, &actor, input.comment_id).await?.ok_or_else(AppError::not_found)?;
        if !policy::may_delete_comment(&actor, comment.author.id) {
            return Err(AppError::new(ErrorCode::Forbidden, "You can delete only your own comments."));
        }
        if !issues::delete_comment(&self.db, &actor, &issue, comment.id, self.now()).await? {
            return Err(AppError::not_found());
        }
        // Its files go with it, bytes included.
        for storage_key in attachments::delete_of_comment(&self.db, &issue, comment.id, self.now()).await? {
            self.remove_stored(&storage_key).await;
        }
        let detail = format!(
            "{} comment by {} on {}-{}",
            comment.visibility.as_str(),
            comment.author.display_name,
            issue.key,
            issue.number
        );
        self.audit(&request, audit::Event::CommentDeleted, Some(&actor), detail).await;
        Ok(())
    }

    async fn published_project(
        &self,
        _req: &RequestParts,
        input: app::model::PublishedProjectInput,
    ) -> Result<app::model::ProjectDetail, AppError> {
        let input = parse(input)?;
        let published = self.published(input.project_id).await?;
        let statuses = projects::statuses_in(&self.db, &published, published.project.id).await?;
        Ok(app::model::ProjectDetail { project: published.project, statuses, members: Vec::new() })
    }

    async fn published_issues(
        &self,
        _req: &RequestParts,
        input: app::model::PublishedProjectInput,
    ) -> Result<IssuePage, AppError> {
        let input = parse(input)?;
        let published = self.published(input.project_id).await?;
        let stored = issues::published_list(&self.db, &published, input.after, PAGE_SIZE + 1).await?;
        self.page(stored, app::model::IssueSort::Number).await
    }

    async fn published_issue(
        &self,
        _req: &RequestParts,
        input: app::model::PublishedIssueInput,
    ) -> Result<IssueDetail, AppError> {
        let input = parse(input)?;
        let published = self.published(input.project_id).await?;
        let visible =
            issues::published_find(&self.db, &published, input.number).await?.ok_or_else(AppError::not_found)?;
        self.detail(visible).await
    }
}
