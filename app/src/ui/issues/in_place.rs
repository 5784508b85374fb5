//! Status, severity, priority, assignees, tags and due date changed on the issue's head, each saved
//! at once (a choice, a click, or the text committed with Enter or by leaving the field). Each change
//! is made to the fields as last saved (not to the edit form's unsaved text, which stays as it is),
//! and a refused change shows the saved value again.

use leptos::prelude::*;

use crate::{
    api::{get_issue, update_issue},
    model::{
        Issue, IssueFields, IssueId, IssueRefInput, Member, Priority, ProjectStatus, Severity, StatusId,
        UpdateIssueInput,
    },
    ui::form::{CommitSelect, Submission},
};

use super::form::{options, saved_fields, tag_list, Assignees};

/// What the issue's head needs to change its properties in place.
#[derive(Clone, Copy)]
pub(super) struct InPlace {
    issue_id: IssueId,
    /// The status and fields every change starts from: as saved, with the changes asked for since.
    pub(super) current: RwSignal<(StatusId, IssueFields)>,
    /// Counts the answers, so that the choices are drawn again from `current` after each.
    answers: RwSignal<u32>,
    pub(super) save: Submission<UpdateIssueInput, Issue>,
    statuses: StoredValue<Vec<ProjectStatus>>,
    /// The tags as typed: kept when a change is refused, so that nothing typed is lost.
    tags_text: RwSignal<String>,
}

impl InPlace {
    /// `saved` is the issue's status and fields as saved; after each saved change `history` is read
    /// again (with the issue, by `reference`), and `announce` says what was saved.
    pub(super) fn new(
        issue: &Issue,
        saved: (StatusId, IssueFields),
        statuses: Vec<ProjectStatus>,
        reference: IssueRefInput,
        history: RwSignal<Vec<crate::model::HistoryEntry>>,
        announce: RwSignal<String>,
    ) -> Self {
        let tags_text = RwSignal::new(saved.1.tags.join(", "));
        let current = RwSignal::new(saved.clone());
        // As the server last answered: what a refused change returns to.
        let confirmed = RwSignal::new(saved);
        let answers = RwSignal::new(0_u32);
        // Only the history read after the latest save is shown: reads of two quick saves can cross.
        let history_reads = StoredValue::new(0_u32);
        let save = Submission::new(update_issue, move |issue: Issue| {
            let saved = (issue.status.id, saved_fields(&issue));
            tags_text.set(saved.1.tags.join(", "));
            current.set(saved.clone());
            confirmed.set(saved);
            answers.update(|n| *n += 1);
            announce.set(format!("Saved {}.", issue.reference));
            let reference = reference.clone();
            history_reads.update_value(|n| *n += 1);
            let read = history_reads.get_value();
            leptos::task::spawn_local(async move {
                if let Ok(detail) = get_issue(reference).await {
                    if history_reads.get_value() == read {
                        history.set(detail.history);
                    }
                }
            });
        });
        let errors = save.errors;
        Effect::new(move || {
            if errors.with(Option::is_some) {
                current.set(confirmed.get_untracked());
                answers.update(|n| *n += 1);
            }
        });
        Self { issue_id: issue.id, current, answers, save, statuses: StoredValue::new(statuses), tags_text }
    }

    fn change(self, change: impl FnOnce(&mut StatusId, &mut IssueFields)) {
        let (mut status_id, mut fields) = self.current.get_untracked();
        change(&mut status_id, &mut fields);
        self.current.set((status_id, fields.clone()));
        self.save.submit(UpdateIssueInput { issue_id: self.issue_id, status_id, fields });
    }

    /// The status, chosen among the project's (the server holds the workflow).
    pub(super) fn status(self) -> impl IntoView {
        move || {
            self.answers.track();
            let now = self.current.get_untracked().0;
            view! {
                <CommitSelect id="issue-status" label="Status" on_choose=move |chosen: String| {
                    if let Ok(id) = chosen.parse::<StatusId>() {
                        self.change(|status, _| *status = id);
                    }
                }>
                    {self.statuses.get_value().into_iter().map(|s| view! {
                        <option value=s.id.to_string() selected=s.id == now>{s.name}</option>
                    }).collect_view()}
                </CommitSelect>
            }
        }
    }

    pub(super) fn severity(self) -> impl IntoView {
        move || {
            self.answers.track();
            let now = self.current.get_untracked().1.severity;
            let choose = move |chosen: String| {
                if let Some(severity) = Severity::parse(&chosen) {
                    self.change(|_, fields| fields.severity = severity);
                }
            };
            view! { <CommitSelect label="Severity" on_choose=choose>{options(Severity::ALL, now, Severity::as_str)}</CommitSelect> }
        }
    }

    pub(super) fn priority(self) -> impl IntoView {
        move || {
            self.answers.track();
            let now = self.current.get_untracked().1.priority;
            let choose = move |chosen: String| {
                if let Some(priority) = Priority::parse(&chosen) {
                    self.change(|_, fields| fields.priority = priority);
                }
            };
            view! { <CommitSelect label="Priority" on_choose=choose>{options(Priority::ALL, now, Priority::as_str)}</CommitSelect> }
        }
    }

    /// A checkbox per member who may be assigned; each click saves.
    pub(super) fn assignees(self, candidates: Vec<Member>) -> impl IntoView {
        move || {
            self.answers.track();
            let chosen = RwSignal::new(self.current.get_untracked().1.assignees);
            let toggled = Callback::new(move |now: Vec<crate::model::UserId>| {
                self.change(|_, fields| fields.assignees = now);
            });
            view! { <Assignees candidates=candidates.clone() chosen errors=self.save.errors on_toggle=toggled /> }
        }
    }

    /// The tags as one line, comma separated, saved when committed (Enter, or leaving the field). A
    /// refused change keeps the text as typed, with the reason beside it.
    pub(super) fn tags(self) -> impl IntoView {
        let text = self.tags_text;
        view! {
            <input id="tags-in-place" aria-label="Tags" placeholder="comma separated" prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                on:keydown=move |ev| if ev.key() == "Enter" { commit_by_leaving(&ev) }
                on:change=move |_| {
                    let tags = text.with_untracked(|t| tag_list(t));
                    if tags != self.current.get_untracked().1.tags {
                        self.change(|_, fields| fields.tags = tags);
                    }
                } />
        }
    }

    /// The due date, saved when a date is chosen or the field is emptied.
    pub(super) fn due_date(self) -> impl IntoView {
        move || {
            self.answers.track();
            let now = self.current.get_untracked().1.due_date.unwrap_or_default();
            view! {
                <input type="date" id="due-in-place" aria-label="Due date" prop:value=now on:change=move |ev| {
                    let due = Some(event_target_value(&ev)).filter(|d| !d.is_empty());
                    self.change(|_, fields| fields.due_date = due);
                } />
            }
        }
    }

    /// Why the last change was refused, if it was (a field's own message when the server named one).
    pub(super) fn alert(self) -> impl IntoView {
        let errors = self.save.errors;
        let message = move || {
            errors.with(|e| e.as_ref().map(|e| e.fields.first().map_or(e.message.clone(), |f| f.message.clone())))
        };
        view! { <p class="alert" role="alert" hidden=move || errors.with(Option::is_none)>{message}</p> }
    }
}

/// Enter in a one-line field commits it as leaving it does (a `change` follows if it changed).
fn commit_by_leaving(ev: &leptos::ev::KeyboardEvent) {
    ev.prevent_default();
    if let Some(field) = ev.target() {
        let _ = leptos::wasm_bindgen::JsCast::unchecked_into::<leptos::web_sys::HtmlElement>(field).blur();
    }
}
