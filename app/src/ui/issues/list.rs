//! A project's issues as a list or a board, with the search, the filter bar and the orders.

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_router::{components::A, hooks::use_navigate, NavigateOptions};

use super::{form::NewIssue, views::SavedViews};
use crate::ui::address::{active_filters, apply_choice, encode, query_string, ListAddress};
use crate::ui::{
    form::{aria_invalid, error_id, CommitSelect, FieldError},
    set_ready,
};
use crate::{
    api::list_issues,
    error::AppError,
    model::{
        IssuePage, IssueSort, IssueSummary, IssueType, IssueVisibility, ListIssuesInput, Me, Priority, ProjectDetail,
        ProjectId, ProjectStatus, Role, SavedView, Severity,
    },
};
/// The first page of the list the address names, and the later pages "More issues" appends.
#[derive(Clone, Copy)]
pub(super) struct IssuePages {
    first: LocalResource<Result<IssuePage, AppError>>,
    extra: RwSignal<Vec<IssueSummary>>,
    next: RwSignal<Option<(i64, Option<i64>)>>,
    more: Action<(i64, Option<i64>), Result<IssuePage, AppError>>,
}

impl IssuePages {
    /// `preloaded` is the first page when it came with the project (`open_project`).
    fn new(project_id: ProjectId, address: ListAddress, preloaded: Option<IssuePage>) -> Self {
        let (filter, sort) = (address.filter, address.sort);
        // The preloaded page answers for the address it was loaded with, however often the resource
        // runs for that address (it may run twice as it starts: one list request more before
        // data-ready, found by the timing test); once the address changes it is gone for good, so a
        // switch between list and board asks again (cards may have moved on the board).
        let loaded_for = (filter.get_untracked(), sort.get_untracked(), address.board.get_untracked());
        let preloaded = StoredValue::new(preloaded);
        let first = LocalResource::new(move || {
            let input =
                ListIssuesInput { project_id, filter: filter.get(), sort: sort.get(), after: 0, after_key: None };
            let same_address =
                (&input.filter, input.sort, address.board.get()) == (&loaded_for.0, loaded_for.1, loaded_for.2);
            if !same_address {
                preloaded.set_value(None);
            }
            let preloaded = preloaded.get_value();
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
        Self { first, extra, next, more }
    }
}

/// The issues of a project: list or board, with search and filters, "New issue" and "Export CSV".
/// `first` is the first page when it came with the project (`open_project`); later filters and
/// orders ask `list_issues`.
#[component]
pub fn ProjectIssues(detail: ProjectDetail, me: Me, first: Option<(IssuePage, Vec<SavedView>)>) -> impl IntoView {
    let project = detail.project.clone();
    let address = ListAddress::of_project(&project.key);
    let (first, views) = first.map_or((None, Vec::new()), |(page, views)| (Some(page), views));
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
            <SavedViews address project_id=project.id views can_share=can_edit />
            <IssueListing address pages statuses can_edit project_key=project.key.clone() />
        </section>
    }
}

/// The heading with the views, "Export CSV" and "New issue".
#[component]
pub(super) fn IssuesHead(
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
pub(super) fn SearchForm(address: ListAddress) -> impl IntoView {
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
                placeholder="Words, or a key such as WEB-3"
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
pub(super) fn FilterBar(address: ListAddress, statuses: StoredValue<Vec<ProjectStatus>>, me: Me) -> impl IntoView {
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
            <CommitSelect label="Add filter" on_choose=choose>
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
            </CommitSelect>
            {chips}
        </div>
    }
}

/// The options `field=value` of "Add filter…", each labelled with its value.
pub(super) fn choices(field: &str, values: impl Iterator<Item = &'static str>) -> Vec<(String, String)> {
    values.map(|v| (format!("{field}={v}"), v.to_owned())).collect()
}

/// "Sort: number · updated · priority · severity", the current one marked.
#[component]
pub(super) fn SortLinks(address: ListAddress) -> impl IntoView {
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
pub(super) fn IssueListing(
    address: ListAddress,
    pages: IssuePages,
    statuses: StoredValue<Vec<ProjectStatus>>,
    can_edit: bool,
    project_key: String,
) -> impl IntoView {
    let key = StoredValue::new(project_key);
    let IssuePages { first, extra, next, more } = pages;
    move || {
        first.get().map(|r| match r {
            Ok(page) if address.board.get() => view! {
                <super::board::Board issues=page.issues statuses=statuses.get_value() can_edit project_key=key.get_value() />
            }
            .into_any(),
            Ok(page) => {
                let mut issues = page.issues;
                issues.extend(extra.get());
                view! {
                    <IssueTable issues />
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

/// Issues as a table that `j` and `k` walk; `empty` says what to do when there are none. Issues may
/// come from several projects (the start page): each links by its own key.
#[component]
pub fn IssueTable(
    issues: Vec<IssueSummary>,
    #[prop(default = "No issues match.")] empty: &'static str,
) -> impl IntoView {
    if issues.is_empty() {
        return view! { <p class="muted">{empty}</p> }.into_any();
    }
    view! {
        <table class="list issues">
            <thead>
                <tr><th>"Issue"</th><th>"Title"</th><th>"Status"</th><th>"Severity"</th><th>"Priority"</th><th>"Assignees"</th><th>"Tags"</th></tr>
            </thead>
            <tbody>
                {issues.into_iter().map(|i| {
                    let project_key = i.reference.split_once('-').map(|(key, _)| key.to_owned()).unwrap_or_default();
                    let href = format!("/projects/{project_key}/issues/{}", i.number);
                    let assignees = i.assignees.iter().map(|a| a.display_name.clone()).collect::<Vec<_>>().join(", ");
                    view! {
                        <tr>
                            <td><A href=href>{i.reference}</A></td>
                            <td>{i.title}{(i.visibility == IssueVisibility::Internal).then(|| view! { " " <span class="badge">"internal"</span> })}</td>
                            <td data-label="Status">{i.status.name}</td>
                            <td data-label="Severity">{i.severity.as_str()}</td>
                            <td data-label="Priority">{i.priority.as_str()}</td>
                            <td data-label="Assignees">{assignees}</td>
                            <td data-label="Tags">{i.tags.clone().into_iter().map(|t| {
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
