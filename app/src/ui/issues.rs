//! The tracker's pages: a project's issues as a list or a board (filters live in the URL), the
//! "New issue" form, and an issue's page with its comments and history. Descriptions and comments
//! arrive as HTML already sanitised by the server; titles and every other field are plain text.

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map, use_query_map},
    NavigateOptions,
};

use super::{
    form::{aria_invalid, error_id, FieldError, FormAlert, Submission, TextArea, TextField},
    layout::SignedIn,
    set_ready,
};
use crate::{
    api::{
        add_comment, change_status, create_issue, delete_comment, delete_issue, edit_comment, get_issue, get_project,
        list_issues, update_issue,
    },
    error::AppError,
    model::{
        ChangeStatusInput, CommentIdInput, EditCommentInput, IssueDetail, IssueFields, IssueFilter, IssueIdInput,
        IssuePage, IssueRefInput, IssueSort, IssueSummary, IssueType, IssueVisibility, ListIssuesInput, Me,
        NewCommentInput, NewIssueInput, Priority, ProjectDetail, ProjectId, ProjectKeyInput, ProjectStatus, Role,
        Severity, StatusCategory, UpdateIssueInput, UserId,
    },
};

fn options<T: Copy + PartialEq + 'static>(all: &[T], selected: T, text: fn(T) -> &'static str) -> impl IntoView {
    all.iter().map(|v| view! { <option value=text(*v) selected=*v == selected>{text(*v)}</option> }).collect_view()
}

/// The filter of the URL's query (`?q=login&severity=high`).
fn filter_from_query() -> Memo<IssueFilter> {
    let query = use_query_map();
    Memo::new(move |_| filter_of(&query.read()))
}

/// The filter of the address; unknown values are left out.
fn filter_of(q: &leptos_router::params::ParamsMap) -> IssueFilter {
    IssueFilter::from_query(|k| q.get(k)).0
}

/// The filter and order the address asks for now, for the page's first request.
pub(super) fn list_of_the_address() -> (IssueFilter, IssueSort) {
    let query = use_query_map();
    query.with_untracked(|q| {
        let (filter, sort, _) = IssueFilter::from_query(|k| q.get(k));
        (filter, sort)
    })
}

/// Applies one choice of the "Add filter" menu (`field=value`) to a filter; an empty value clears it.
fn apply_choice(mut f: IssueFilter, choice: &str) -> IssueFilter {
    let (field, value) = choice.split_once('=').unwrap_or((choice, ""));
    match field {
        "status" => f.status = value.parse().ok(),
        "category" => f.category = StatusCategory::parse(value),
        "type" => f.kind = IssueType::parse(value),
        "severity" => f.severity = Severity::parse(value),
        "priority" => f.priority = Priority::parse(value),
        "visibility" => f.visibility = IssueVisibility::parse(value),
        "tag" => value.clone_into(&mut f.tag),
        "assignee" => f.assignee = value.parse().ok(),
        "reporter" => f.reporter = value.parse().ok(),
        "q" => value.clone_into(&mut f.q),
        _ => {}
    }
    f
}

/// The active filters as (`field`, what people read), for the removable chips.
fn active_filters(f: &IssueFilter, statuses: &[crate::model::ProjectStatus], me: &Me) -> Vec<(&'static str, String)> {
    let person = |id: crate::model::UserId| if id == me.user.id { "me".to_owned() } else { id.to_string() };
    let mut out = Vec::new();
    if let Some(id) = f.status {
        let name = statuses.iter().find(|s| s.id == id).map_or_else(|| id.to_string(), |s| s.name.clone());
        out.push(("status", format!("status: {name}")));
    }
    if let Some(c) = f.category {
        out.push(("category", format!("category: {}", c.as_str().replace('_', " "))));
    }
    if let Some(k) = f.kind {
        out.push(("type", format!("type: {}", k.as_str())));
    }
    if let Some(v) = f.severity {
        out.push(("severity", format!("severity: {}", v.as_str())));
    }
    if let Some(v) = f.priority {
        out.push(("priority", format!("priority: {}", v.as_str())));
    }
    if let Some(v) = f.visibility {
        out.push(("visibility", format!("visibility: {}", v.as_str())));
    }
    if !f.tag.is_empty() {
        out.push(("tag", format!("tag: {}", f.tag)));
    }
    if let Some(id) = f.assignee {
        out.push(("assignee", format!("assigned to {}", person(id))));
    }
    if let Some(id) = f.reporter {
        out.push(("reporter", format!("reported by {}", person(id))));
    }
    if !f.q.is_empty() {
        out.push(("q", format!("text: {}", f.q)));
    }
    out
}

/// `?...` for a filter and view, for links and the CSV export.
fn query_string(filter: &IssueFilter, sort: IssueSort, view: &str) -> String {
    let pairs = std::iter::once(("view", view.to_owned())).chain(filter.query_pairs(sort));
    let encoded: Vec<String> = pairs.map(|(k, v)| format!("{k}={}", encode(&v))).collect();
    format!("?{}", encoded.join("&"))
}

/// Percent-encodes a query value.
pub(super) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The list's address: its filter, order and view (list or board) come from the URL, and every
/// search, filter, order and view is a link to another address.
#[derive(Clone, Copy)]
struct ListAddress {
    base: StoredValue<String>,
    filter: Memo<IssueFilter>,
    sort: Memo<IssueSort>,
    board: Memo<bool>,
}

impl ListAddress {
    fn of_project(key: &str) -> Self {
        let query = use_query_map();
        Self {
            base: StoredValue::new(format!("/projects/{key}")),
            filter: filter_from_query(),
            sort: Memo::new(move |_| {
                IssueSort::parse(&query.read().get("sort").unwrap_or_default()).unwrap_or_default()
            }),
            board: Memo::new(move |_| query.read().get("view").as_deref() == Some("board")),
        }
    }

    fn view_name(self) -> &'static str {
        if self.board.get_untracked() {
            "board"
        } else {
            "list"
        }
    }

    /// The address of this filter and order in `view`.
    fn href(self, filter: &IssueFilter, sort: IssueSort, view: &str) -> String {
        format!("{}{}", self.base.get_value(), query_string(filter, sort, view))
    }

    /// The current view with another filter.
    fn with_filter(self, filter: &IssueFilter) -> String {
        self.href(filter, self.sort.get_untracked(), self.view_name())
    }
}

/// The first page of the list the address names, and the later pages "More issues" appends.
#[derive(Clone, Copy)]
struct IssuePages {
    first: LocalResource<Result<IssuePage, AppError>>,
    /// Bumped to ask for the first page again (after a card moved on the board).
    version: RwSignal<u32>,
    extra: RwSignal<Vec<IssueSummary>>,
    next: RwSignal<Option<(i64, Option<i64>)>>,
    more: Action<(i64, Option<i64>), Result<IssuePage, AppError>>,
}

impl IssuePages {
    /// `preloaded` is the first page when it came with the project (`open_project`).
    fn new(project_id: ProjectId, address: ListAddress, preloaded: Option<IssuePage>) -> Self {
        let (filter, sort) = (address.filter, address.sort);
        let version = RwSignal::new(0_u32);
        let preloaded = StoredValue::new(preloaded);
        let first = LocalResource::new(move || {
            let input =
                ListIssuesInput { project_id, filter: filter.get(), sort: sort.get(), after: 0, after_key: None };
            version.track();
            let preloaded = preloaded.try_update_value(Option::take).flatten();
            async move {
                match preloaded {
                    Some(page) => Ok(page),
                    None => list_issues(input).await,
                }
            }
        });
        let extra = RwSignal::new(Vec::<IssueSummary>::new());
        let next = RwSignal::new(None::<(i64, Option<i64>)>);
        Effect::new(move || {
            if let Some(Ok(first)) = first.get() {
                extra.set(Vec::new());
                next.set(first.next_after.map(|a| (a, first.next_after_key)));
            }
        });
        let more = Action::new_local(move |&(after, after_key): &(i64, Option<i64>)| {
            let (filter, sort) = (filter.get_untracked(), sort.get_untracked());
            list_issues(ListIssuesInput { project_id, filter, sort, after, after_key })
        });
        Effect::new(move || {
            if let Some(Ok(page)) = more.value().get() {
                next.set(page.next_after.map(|a| (a, page.next_after_key)));
                extra.update(|e| e.extend(page.issues));
            }
        });
        Self { first, version, extra, next, more }
    }
}

/// The issues of a project: list or board, with search and filters, "New issue" and "Export CSV".
/// `first` is the first page when it came with the project (`open_project`); later filters and
/// orders ask `list_issues`.
#[component]
pub fn ProjectIssues(detail: ProjectDetail, me: Me, first: Option<IssuePage>) -> impl IntoView {
    let project = detail.project.clone();
    let address = ListAddress::of_project(&project.key);
    let pages = IssuePages::new(project.id, address, first);
    Effect::new(move || set_ready(pages.first.get().is_some()));
    let statuses = StoredValue::new(detail.statuses.clone());
    let can_edit = me.team.role != Role::Guest;
    let candidates: Vec<crate::model::Member> =
        detail.members.iter().filter(|m| m.role != Role::Guest).cloned().collect();
    view! {
        <section class="card">
            <IssuesHead address project=project.clone() can_edit candidates />
            <SearchForm address />
            <FilterBar address statuses me />
            <SortLinks address />
            <IssueListing address pages statuses can_edit project_key=project.key.clone() />
        </section>
    }
}

/// The heading with the views, "Export CSV" and "New issue".
#[component]
fn IssuesHead(
    address: ListAddress,
    project: crate::model::Project,
    can_edit: bool,
    candidates: Vec<crate::model::Member>,
) -> impl IntoView {
    let (filter, sort, board) = (address.filter, address.sort, address.board);
    let project_id = project.id;
    let export_href = move || {
        let q = query_string(&filter.get(), sort.get(), "list");
        format!("/export/issues.csv{q}&project={project_id}")
    };
    view! {
        <div class="card-head">
            <h2>"Issues"</h2>
            <nav class="views" aria-label="Views">
                <A href=move || address.href(&filter.get(), sort.get(), "list") attr:aria-current=move || (!board.get()).then_some("page")>"List"</A>
                <A href=move || address.href(&filter.get(), sort.get(), "board") attr:aria-current=move || board.get().then_some("page")>"Board"</A>
            </nav>
            <a class="button" href=export_href download="issues.csv">"Export CSV"</a>
            <Show when=move || !project.archived>
                <NewIssue project_key=project.key.clone() project_id=project_id can_triage=can_edit candidates=candidates.clone() />
            </Show>
        </div>
    }
}

/// The search box: its text joins the address's filter (checked by the shared rules first).
#[component]
fn SearchForm(address: ListAddress) -> impl IntoView {
    let search = RwSignal::new(address.filter.get_untracked().q);
    let errors = RwSignal::new(None::<AppError>);
    let navigate = use_navigate();
    let on_search = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut f = address.filter.get_untracked();
        f.q = search.get_untracked();
        if let Err(report) = garde::Validate::validate(&f) {
            errors.set(Some(AppError::from(report)));
            return;
        }
        errors.set(None);
        navigate(&address.with_filter(&f), NavigateOptions::default());
    };
    view! {
        <form class="search" role="search" on:submit=on_search>
            <input
                type="search"
                aria-label="Search"
                placeholder="Search titles and descriptions"
                prop:value=move || search.get()
                on:input=move |ev| search.set(event_target_value(&ev))
                aria-invalid=aria_invalid(errors, "q")
                aria-describedby=error_id("q")
            />
            <button type="submit">"Search"</button>
            <FieldError errors name="q" />
        </form>
    }
}

/// "Add filter…" and a removable chip for each filter in use.
#[component]
fn FilterBar(address: ListAddress, statuses: StoredValue<Vec<ProjectStatus>>, me: Me) -> impl IntoView {
    let navigate = use_navigate();
    let choose = move |choice: String| {
        let f = apply_choice(address.filter.get_untracked(), &choice);
        navigate(&address.with_filter(&f), NavigateOptions::default());
    };
    let my_id = me.user.id;
    let me = StoredValue::new(me);
    let chips = move || {
        active_filters(&address.filter.get(), &statuses.get_value(), &me.get_value())
            .into_iter()
            .map(|(field, text)| {
                let href = address.with_filter(&apply_choice(address.filter.get_untracked(), &format!("{field}=")));
                let label = format!("Remove filter {text}");
                view! { <A href=href attr:class="chip" attr:aria-label=label>{text}" ×"</A> }
            })
            .collect_view()
    };
    let options = |group: &'static str, values: Vec<(String, String)>| {
        let options =
            values.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view();
        view! { <optgroup label=group>{options}</optgroup> }
    };
    view! {
        <div class="filters">
            <select aria-label="Add filter" on:change=move |ev| {
                let choice = event_target_value(&ev);
                if !choice.is_empty() {
                    choose(choice);
                }
            }>
                <option value="" selected=true>"Add filter…"</option>
                {options("Status", statuses.get_value().into_iter().map(|st| (format!("status={}", st.id), st.name)).collect())}
                {options("Category", vec![
                    ("category=open".into(), "open".into()),
                    ("category=in_progress".into(), "in progress".into()),
                    ("category=done".into(), "done".into()),
                ])}
                {options("Type", choices("type", IssueType::ALL.iter().map(|v| v.as_str())))}
                {options("Severity", choices("severity", Severity::ALL.iter().map(|v| v.as_str())))}
                {options("Priority", choices("priority", Priority::ALL.iter().map(|v| v.as_str())))}
                {options("Visibility", choices("visibility", IssueVisibility::ALL.iter().map(|v| v.as_str())))}
                {options("People", vec![
                    (format!("assignee={my_id}"), "Assigned to me".into()),
                    (format!("reporter={my_id}"), "Reported by me".into()),
                ])}
            </select>
            {chips}
        </div>
    }
}

/// The options `field=value` of "Add filter…", each labelled with its value.
fn choices(field: &str, values: impl Iterator<Item = &'static str>) -> Vec<(String, String)> {
    values.map(|v| (format!("{field}={v}"), v.to_owned())).collect()
}

/// "Sort: number · updated · priority · severity", the current one marked.
#[component]
fn SortLinks(address: ListAddress) -> impl IntoView {
    let (filter, sort, board) = (address.filter, address.sort, address.board);
    let link = move |s: IssueSort| address.href(&filter.get(), s, if board.get() { "board" } else { "list" });
    view! {
        <p class="filters">
            "Sort: "
            {IssueSort::ALL
                .iter()
                .map(|&s| view! { " · " <A href=move || link(s) attr:aria-current=move || (sort.get() == s).then_some("true")>{s.as_str()}</A> })
                .collect_view()}
        </p>
    }
}

/// The issues as a table with "More issues", or as the board.
#[component]
fn IssueListing(
    address: ListAddress,
    pages: IssuePages,
    statuses: StoredValue<Vec<ProjectStatus>>,
    can_edit: bool,
    project_key: String,
) -> impl IntoView {
    let key = StoredValue::new(project_key);
    let IssuePages { first, version, extra, next, more } = pages;
    move || {
        first.get().map(|r| match r {
            Ok(page) if address.board.get() => view! {
                <Board issues=page.issues statuses=statuses.get_value() can_edit on_moved=move || version.update(|v| *v += 1) />
            }
            .into_any(),
            Ok(page) => {
                let mut issues = page.issues;
                issues.extend(extra.get());
                view! {
                    <IssueTable issues project_key=key.get_value() />
                    <Show when=move || next.get().is_some()>
                        <button type="button" on:click=move |_| {
                            if let Some(cursor) = next.get_untracked() {
                                more.dispatch(cursor);
                            }
                        }>"More issues"</button>
                    </Show>
                }
                .into_any()
            }
            Err(e) => view! { <div class="alert" role="alert">{e.message}</div> }.into_any(),
        })
    }
}

#[component]
fn IssueTable(issues: Vec<IssueSummary>, project_key: String) -> impl IntoView {
    if issues.is_empty() {
        return view! { <p class="muted">"No issues match."</p> }.into_any();
    }
    view! {
        <table class="list">
            <thead>
                <tr><th>"Issue"</th><th>"Title"</th><th>"Status"</th><th>"Severity"</th><th>"Priority"</th><th>"Assignees"</th><th>"Tags"</th></tr>
            </thead>
            <tbody>
                {issues.into_iter().map(|i| {
                    let href = format!("/projects/{project_key}/issues/{}", i.number);
                    let assignees = i.assignees.iter().map(|a| a.display_name.clone()).collect::<Vec<_>>().join(", ");
                    view! {
                        <tr>
                            <td><A href=href>{i.reference}</A></td>
                            <td>{i.title}{(i.visibility == IssueVisibility::Internal).then(|| view! { " " <span class="badge">"internal"</span> })}</td>
                            <td>{i.status.name}</td>
                            <td>{i.severity.as_str()}</td>
                            <td>{i.priority.as_str()}</td>
                            <td>{assignees}</td>
                            <td>{i.tags.clone().into_iter().map(|t| {
                                let href = format!("/projects/{project_key}?view=list&tag={}", encode(&t));
                                view! { <A href=href attr:class="chip">{t}</A> " " }
                            }).collect_view()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Board(
    issues: Vec<IssueSummary>,
    statuses: Vec<crate::model::ProjectStatus>,
    can_edit: bool,
    on_moved: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let mover = Submission::new(change_status, move |_| on_moved());
    let all = StoredValue::new(statuses.clone());
    view! {
        <FormAlert errors=mover.errors />
        <div class="board">
            {statuses.into_iter().map(|status| {
                let column: Vec<IssueSummary> = issues.iter().filter(|i| i.status.id == status.id).cloned().collect();
                view! {
                    <section class="column" aria-label=status.name.clone()>
                        <h3>{status.name.clone()}<span class="muted">{format!(" {}", column.len())}</span></h3>
                        {column.into_iter().map(|i| {
                            let issue_id = i.id;
                            let label = format!("Move {}", i.reference);
                            view! {
                                <article class="issue-card">
                                    <strong>{i.reference.clone()}</strong>" "{i.title.clone()}
                                    <Show when=move || can_edit>
                                        <select aria-label=label.clone() on:change=move |ev| {
                                            if let Ok(status_id) = event_target_value(&ev).parse() {
                                                mover.submit(ChangeStatusInput { issue_id, status_id });
                                            }
                                        }>
                                            {all.get_value().into_iter().map(|s| view! {
                                                <option value=s.id.to_string() selected=s.id == i.status.id>{s.name}</option>
                                            }).collect_view()}
                                        </select>
                                    </Show>
                                </article>
                            }
                        }).collect_view()}
                    </section>
                }
            }).collect_view()}
        </div>
    }
}

/// What the issue form holds while it is edited: a signal per control, read into [`IssueFields`] when
/// the form is sent (the tags as typed, commas and all).
#[derive(Clone, Copy)]
struct IssueForm {
    title: RwSignal<String>,
    description: RwSignal<String>,
    kind: RwSignal<IssueType>,
    severity: RwSignal<Severity>,
    priority: RwSignal<Priority>,
    visibility: RwSignal<IssueVisibility>,
    browser: RwSignal<String>,
    os: RwSignal<String>,
    device: RwSignal<String>,
    app_version: RwSignal<String>,
    url: RwSignal<String>,
    due_date: RwSignal<String>,
    tags: RwSignal<String>,
    assignees: RwSignal<Vec<UserId>>,
}

impl IssueForm {
    fn new(initial: IssueFields) -> Self {
        let env = initial.environment;
        Self {
            title: RwSignal::new(initial.title),
            description: RwSignal::new(initial.description),
            kind: RwSignal::new(initial.kind),
            severity: RwSignal::new(initial.severity),
            priority: RwSignal::new(initial.priority),
            visibility: RwSignal::new(initial.visibility),
            browser: RwSignal::new(env.browser),
            os: RwSignal::new(env.os),
            device: RwSignal::new(env.device),
            app_version: RwSignal::new(env.app_version),
            url: RwSignal::new(env.url),
            due_date: RwSignal::new(initial.due_date.unwrap_or_default()),
            tags: RwSignal::new(initial.tags.join(", ")),
            assignees: RwSignal::new(initial.assignees),
        }
    }

    fn fields(self) -> IssueFields {
        IssueFields {
            title: self.title.get_untracked(),
            description: self.description.get_untracked(),
            kind: self.kind.get_untracked(),
            severity: self.severity.get_untracked(),
            priority: self.priority.get_untracked(),
            visibility: self.visibility.get_untracked(),
            environment: crate::model::Environment {
                browser: self.browser.get_untracked(),
                os: self.os.get_untracked(),
                device: self.device.get_untracked(),
                app_version: self.app_version.get_untracked(),
                url: self.url.get_untracked(),
            },
            due_date: Some(self.due_date.get_untracked()).filter(|d| !d.is_empty()),
            tags: self
                .tags
                .with_untracked(|t| t.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect()),
            assignees: self.assignees.get_untracked(),
        }
    }
}

/// A labelled choice among an enumeration's values.
fn choice<T: Copy + PartialEq + Send + Sync + 'static>(
    (id, label): (&'static str, &'static str),
    value: RwSignal<T>,
    all: &'static [T],
    text: fn(T) -> &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id on:change=move |ev| {
                let chosen = event_target_value(&ev);
                if let Some(v) = all.iter().copied().find(|v| text(*v) == chosen) {
                    value.set(v);
                }
            }>
                {options(all, value.get_untracked(), text)}
            </select>
        </div>
    }
}

/// The issue fields shared by "New issue" and the issue's edit form.
#[component]
fn IssueFieldsForm(
    form: IssueForm,
    errors: RwSignal<Option<AppError>>,
    can_triage: bool,
    /// Who may be assigned: the project's members other than guests.
    #[prop(optional)]
    candidates: Vec<crate::model::Member>,
) -> impl IntoView {
    // The environment folds away; it opens when one of its fields has an error.
    let environment_error = move || {
        errors.with(|e| {
            e.as_ref().is_some_and(|e| {
                e.fields.iter().any(|f| f.field.starts_with("fields.environment") || f.field == "fields.due_date")
            })
        })
    };
    view! {
        <TextField label="Title" name="fields.title" id="issue-title" value=form.title errors />
        <TextArea label="Description" name="fields.description" id="issue-description" rows=6 value=form.description errors />
        <div class="field-row">
            {choice(("issue-type", "Type"), form.kind, IssueType::ALL, IssueType::as_str)}
            {choice(("issue-severity", "Severity"), form.severity, Severity::ALL, Severity::as_str)}
            <Show when=move || can_triage>
                {choice(("issue-priority", "Priority"), form.priority, Priority::ALL, Priority::as_str)}
                {choice(("issue-visibility", "Visibility"), form.visibility, IssueVisibility::ALL, IssueVisibility::as_str)}
            </Show>
        </div>
        <details class="environment" prop:open=environment_error>
            <summary>"Environment and due date"</summary>
            <div class="field-row">
                <TextField label="Browser" name="fields.environment.browser" id="issue-browser" value=form.browser errors />
                <TextField label="OS" name="fields.environment.os" id="issue-os" value=form.os errors />
                <TextField label="Device" name="fields.environment.device" id="issue-device" value=form.device errors />
                <TextField label="App version" name="fields.environment.app_version" id="issue-app-version" value=form.app_version errors />
            </div>
            <TextField label="URL" name="fields.environment.url" id="issue-url" value=form.url errors />
            <TextField label="Due date" name="fields.due_date" id="issue-due" kind="date" value=form.due_date errors />
        </details>
        <Show when={
            let any = !candidates.is_empty();
            move || can_triage && any
        }>
            <Assignees candidates=candidates.clone() chosen=form.assignees errors />
        </Show>
        <TextField label="Tags" name="fields.tags" id="issue-tags" placeholder="comma separated" value=form.tags errors />
    }
}

/// A checkbox per member who may be assigned.
#[component]
fn Assignees(
    candidates: Vec<crate::model::Member>,
    chosen: RwSignal<Vec<UserId>>,
    errors: RwSignal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <fieldset class="assignees" aria-invalid=aria_invalid(errors, "fields.assignees") aria-describedby=error_id("fields.assignees")>
            <legend>"Assignees"</legend>
            {candidates.into_iter().map(|m| {
                let user = m.user_id;
                view! {
                    <label class="check">
                        <input type="checkbox"
                            prop:checked=move || chosen.with(|a| a.contains(&user))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                chosen.update(|a| {
                                    a.retain(|u| *u != user);
                                    if on { a.push(user); }
                                });
                            } />
                        {m.display_name}
                    </label>
                }
            }).collect_view()}
            <FieldError errors name="fields.assignees" />
        </fieldset>
    }
}

#[component]
fn NewIssue(
    project_key: String,
    project_id: crate::model::ProjectId,
    can_triage: bool,
    candidates: Vec<crate::model::Member>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let fields = IssueForm::new(IssueFields::default());
    let navigate = use_navigate();
    let form = Submission::new(create_issue, move |issue: crate::model::Issue| {
        navigate(&format!("/projects/{project_key}/issues/{}", issue.number), NavigateOptions::default());
    });
    let errors = form.errors;
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.submit(NewIssueInput { project_id, fields: fields.fields() });
    };
    view! {
        <button type="button" class="primary-inline" on:click=move |_| open.update(|o| *o = !*o)>"New issue"</button>
        <Show when=move || open.get()>
            <form class="invite" on:submit=submit novalidate>
                <IssueFieldsForm form=fields errors can_triage candidates=candidates.clone() />
                <FormAlert errors />
                <button type="submit" class="primary-inline" disabled=move || form.pending()>"Create"</button>
            </form>
        </Show>
    }
}

#[component]
pub fn IssuePage() -> impl IntoView {
    // The issue and its project are asked for as the page mounts, while the session is checked.
    let params = use_params_map();
    let key = params.read_untracked().get("key").unwrap_or_default();
    let number: i64 = params.read_untracked().get("number").and_then(|n| n.parse().ok()).unwrap_or(0);
    let version = RwSignal::new(0_u32);
    let detail = LocalResource::new({
        let key = key.clone();
        move || {
            version.track();
            get_issue(IssueRefInput { key: key.clone(), number })
        }
    });
    let project = LocalResource::new(move || get_project(ProjectKeyInput { key: key.clone() }));
    view! { <SignedIn page=move |me| view! { <IssueView me detail project version /> } /> }
}

#[component]
fn IssueView(
    me: Me,
    detail: LocalResource<Result<IssueDetail, AppError>>,
    project: LocalResource<Result<ProjectDetail, AppError>>,
    version: RwSignal<u32>,
) -> impl IntoView {
    Effect::new(move || set_ready(detail.get().is_some() && project.get().is_some()));
    let can_edit = me.team.role != Role::Guest;
    let is_admin = matches!(me.team.role, Role::Owner | Role::Admin);
    let me_id = me.user.id;
    view! {
        {move || match (detail.get(), project.get()) {
            (Some(Ok(detail)), Some(Ok(project))) => view! {
                <IssueBody detail project can_edit is_admin me_id on_changed=move || version.update(|v| *v += 1) />
            }.into_any(),
            (Some(Err(e)), _) | (_, Some(Err(e))) => view! {
                <section class="card"><h1>"Issue"</h1><div class="alert" role="alert">{e.message}</div></section>
            }.into_any(),
            _ => view! { <p class="muted">"Loading…"</p> }.into_any(),
        }}
    }
}

#[component]
fn IssueBody(
    detail: IssueDetail,
    project: ProjectDetail,
    can_edit: bool,
    is_admin: bool,
    me_id: UserId,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let issue = detail.issue.clone();
    // Saving the fields; deleting reports its errors in the same place.
    let save = Submission::new(update_issue, move |_: crate::model::Issue| on_changed());
    let errors = save.errors;
    let fields = IssueForm::new(IssueFields {
        title: issue.title.clone(),
        description: issue.description.clone(),
        kind: issue.kind,
        severity: issue.severity,
        priority: issue.priority,
        visibility: issue.visibility,
        environment: issue.environment.clone(),
        due_date: issue.due_date.clone(),
        tags: issue.tags.clone(),
        assignees: issue.assignees.iter().map(|a| a.id).collect(),
    });
    let status = RwSignal::new(issue.status.id);
    let issue_id = issue.id;
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        save.submit(UpdateIssueInput { issue_id, status_id: status.get_untracked(), fields: fields.fields() });
    };
    let project_href = format!("/projects/{}", project.project.key);
    let navigate = use_navigate();
    let after_delete = project_href.clone();
    let delete =
        Submission::reporting_to(errors, delete_issue, move |()| navigate(&after_delete, NavigateOptions::default()));
    let statuses = project.statuses.clone();
    let candidates: Vec<crate::model::Member> =
        project.members.iter().filter(|m| m.role != Role::Guest).cloned().collect();
    view! {
        <IssueHead issue=issue.clone() project_name=project.project.name.clone() project_href />
        <Show when=move || can_edit>
            <section class="card">
                <h2>"Edit"</h2>
                <form on:submit=submit novalidate>
                    <IssueFieldsForm form=fields errors can_triage=true candidates=candidates.clone() />
                    <div class="field">
                        <label for="issue-status">"Status"</label>
                        <select id="issue-status" on:change=move |ev| if let Ok(id) = event_target_value(&ev).parse() { status.set(id) }
                            aria-invalid=aria_invalid(errors, "status_id") aria-describedby=error_id("status_id")>
                            {statuses.clone().into_iter().map(|s| view! { <option value=s.id.to_string() selected=s.id == status.get_untracked()>{s.name}</option> }).collect_view()}
                        </select>
                        <FieldError errors name="status_id" />
                    </div>
                    <FormAlert errors />
                    <p class="actions-row">
                        <button type="submit" class="primary-inline" disabled=move || save.pending()>"Save"</button>
                        <Show when=move || is_admin>
                            <button type="button" class="danger" on:click=move |_| delete.submit(IssueIdInput { issue_id })>"Delete issue"</button>
                        </Show>
                    </p>
                </form>
            </section>
        </Show>
        <Comments detail=detail.clone() can_edit is_admin me_id on_changed />
        <super::files::Attachments issue_id=issue_id me_id is_admin />
        <History entries=detail.history />
    }
}

/// The issue as it stands: its fields and its description.
#[component]
fn IssueHead(issue: crate::model::Issue, project_name: String, project_href: String) -> impl IntoView {
    let assignees = issue.assignees.iter().map(|a| a.display_name.clone()).collect::<Vec<_>>().join(", ");
    view! {
        <section class="card">
            <p class="muted"><A href=project_href>{project_name}</A></p>
            <h1>{format!("{} {}", issue.reference, issue.title)}</h1>
            <dl class="meta">
                <dt>"Status"</dt><dd data-testid="status">{issue.status.name.clone()}</dd>
                <dt>"Type"</dt><dd>{issue.kind.as_str()}</dd>
                <dt>"Severity"</dt><dd>{issue.severity.as_str()}</dd>
                <dt>"Priority"</dt><dd>{issue.priority.as_str()}</dd>
                <dt>"Visibility"</dt><dd data-testid="visibility">{issue.visibility.as_str()}</dd>
                <dt>"Reporter"</dt><dd>{issue.reporter.display_name.clone()}</dd>
                <dt>"Assignees"</dt><dd>{assignees}</dd>
                <dt>"Tags"</dt><dd>{issue.tags.join(", ")}</dd>
            </dl>
            <div class="markdown" data-testid="description" inner_html=issue.description_html.clone()></div>
        </section>
    }
}

/// What changed, when and by whom (as much as the reader may see; the server decides).
#[component]
fn History(entries: Vec<crate::model::HistoryEntry>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"History"</h2>
            <ul class="history">
                {entries.into_iter().map(|h| view! {
                    <li>{super::time::date_time(h.at)}" · "{h.actor.unwrap_or_default()}" changed "<strong>{h.field}</strong></li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// One comment, with "Edit" for its author and "Delete" for its author and admins.
#[component]
fn CommentItem(
    comment: crate::model::Comment,
    is_admin: bool,
    me_id: UserId,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
    errors: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let own = comment.author.id == me_id;
    let editing = RwSignal::new(false);
    let body = RwSignal::new(comment.body.clone());
    let comment_id = comment.id;
    // The edit box has its own error slot: several comments may be on the page.
    let edit = Submission::new(edit_comment, move |_| on_changed());
    let delete = Submission::reporting_to(errors, delete_comment, move |()| on_changed());
    let edit_errors = edit.errors;
    let files = comment.clone();
    view! {
        <li class="comment">
            <p class="muted">
                <strong>{comment.author.display_name.clone()}</strong>" · "{super::time::date_time(comment.created_at)}
                {(comment.visibility == IssueVisibility::Internal).then(|| view! { " " <span class="badge">"internal"</span> })}
            </p>
            <Show when=move || !editing.get() fallback=move || view! {
                <TextArea name="body" id=format!("comment-{comment_id}") aria_label="Edit comment" rows=3 value=body errors=edit_errors />
                <FormAlert errors=edit_errors />
                <button type="button" on:click=move |_| edit.submit(EditCommentInput { comment_id, body: body.get_untracked() })>
                    "Save comment"
                </button>
            }>
                <div class="markdown" inner_html=comment.body_html.clone()></div>
            </Show>
            <super::files::CommentFiles comment=files me_id is_admin on_changed errors />
            <p class="actions-row">
                <Show when=move || own && !editing.get()>
                    <button type="button" on:click=move |_| editing.set(true)>"Edit"</button>
                </Show>
                <Show when=move || own || is_admin>
                    <button type="button" class="danger" on:click=move |_| delete.submit(CommentIdInput { comment_id })>"Delete"</button>
                </Show>
            </p>
        </li>
    }
}

#[component]
fn Comments(
    detail: IssueDetail,
    can_edit: bool,
    is_admin: bool,
    me_id: UserId,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let body = RwSignal::new(String::new());
    let internal = RwSignal::new(false);
    let form = Submission::new(add_comment, move |_: crate::model::Comment| {
        body.set(String::new());
        on_changed();
    });
    let errors = form.errors;
    let issue_id = detail.issue.id;
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        form.submit(NewCommentInput { issue_id, body: body.get_untracked(), internal: internal.get_untracked() });
    };
    view! {
        <section class="card">
            <h2>"Comments"</h2>
            <ul class="comments">
                {detail.comments.into_iter().map(|c| view! {
                    <CommentItem comment=c is_admin me_id on_changed errors />
                }).collect_view()}
            </ul>
            <form on:submit=submit novalidate>
                <TextArea label="New comment" name="body" id="comment-body" rows=3 value=body errors />
                <Show when=move || can_edit>
                    <label class="check">
                        <input type="checkbox" prop:checked=move || internal.get() on:change=move |ev| internal.set(event_target_checked(&ev)) />
                        "Internal comment"
                    </label>
                </Show>
                <FormAlert errors />
                <button type="submit" class="primary-inline" disabled=move || form.pending()>"Comment"</button>
            </form>
        </section>
    }
}
