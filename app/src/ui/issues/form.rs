//! The issue form (new and edit) and its controls.

use leptos::prelude::*;
use leptos_router::{hooks::use_navigate, NavigateOptions};

use crate::ui::form::{aria_invalid, error_id, FieldError, FormEnd, Submission, TextArea, TextField};
use crate::{
    api::create_issue,
    error::AppError,
    model::{IssueFields, IssueType, IssueVisibility, NewIssueInput, Priority, Severity, UserId},
};
pub(super) fn options<T: Copy + PartialEq + 'static>(
    all: &[T],
    selected: T,
    text: fn(T) -> &'static str,
) -> impl IntoView {
    all.iter().map(|v| view! { <option value=text(*v) selected=*v == selected>{text(*v)}</option> }).collect_view()
}

/// The fields of the issue as saved: what the edit form starts from.
pub(super) fn saved_fields(issue: &crate::model::Issue) -> IssueFields {
    IssueFields {
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
    }
}

/// What the issue form holds while it is edited: a signal per control, read into [`IssueFields`] when
/// the form is sent (the tags as typed, commas and all).
#[derive(Clone, Copy)]
pub(super) struct IssueForm {
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
    pub(super) fn new(initial: IssueFields) -> Self {
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

    /// Whether someone has typed in the form since it was filled from `stored` (the fields the
    /// issue's head saves at once are not the form's).
    pub(super) fn edited(self, stored: &IssueFields) -> bool {
        let now = self.fields();
        (now.title, now.description, now.kind, now.visibility, now.environment)
            != (
                stored.title.clone(),
                stored.description.clone(),
                stored.kind,
                stored.visibility,
                stored.environment.clone(),
            )
    }

    pub(super) fn fields(self) -> IssueFields {
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
            tags: self.tags.with_untracked(|t| tag_list(t)),
            assignees: self.assignees.get_untracked(),
        }
    }
}

/// Tags as typed, comma separated, each trimmed.
pub(super) fn tag_list(text: &str) -> Vec<String> {
    text.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect()
}

/// A labelled choice among an enumeration's values.
pub(super) fn choice<T: Copy + PartialEq + Send + Sync + 'static>(
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
pub(super) fn IssueFieldsForm(
    form: IssueForm,
    errors: RwSignal<Option<AppError>>,
    can_triage: bool,
    /// Who may be assigned: the project's members other than guests.
    #[prop(optional)]
    candidates: Vec<crate::model::Member>,
    /// Severity, priority, due date, assignees and tags are changed on the issue's head instead
    /// (`in_place`).
    #[prop(optional)]
    in_place: bool,
    /// The issue being edited, whose people `@` in the description offers.
    #[prop(optional_no_strip)]
    issue: Option<crate::model::IssueId>,
) -> impl IntoView {
    let internal = Callback::new(move |()| form.visibility.get_untracked() == IssueVisibility::Internal);
    let mentions = issue.map(|issue_id| crate::ui::mentions::MentionSource { issue_id, internal });
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
        <TextArea label="Description" name="fields.description" id="issue-description" rows=6 value=form.description errors preview=true mentions />
        <div class="field-row">
            {choice(("issue-type", "Type"), form.kind, IssueType::ALL, IssueType::as_str)}
            <Show when=move || !in_place>
                {choice(("issue-severity", "Severity"), form.severity, Severity::ALL, Severity::as_str)}
            </Show>
            <Show when=move || can_triage>
                <Show when=move || !in_place>
                    {choice(("issue-priority", "Priority"), form.priority, Priority::ALL, Priority::as_str)}
                </Show>
                {choice(("issue-visibility", "Visibility"), form.visibility, IssueVisibility::ALL, IssueVisibility::as_str)}
            </Show>
        </div>
        <details class="environment" prop:open=environment_error>
            <summary>{if in_place { "Environment" } else { "Environment and due date" }}</summary>
            <div class="field-row">
                <TextField label="Browser" name="fields.environment.browser" id="issue-browser" value=form.browser errors />
                <TextField label="OS" name="fields.environment.os" id="issue-os" value=form.os errors />
                <TextField label="Device" name="fields.environment.device" id="issue-device" value=form.device errors />
                <TextField label="App version" name="fields.environment.app_version" id="issue-app-version" value=form.app_version errors />
            </div>
            <TextField label="URL" name="fields.environment.url" id="issue-url" value=form.url errors />
            <Show when=move || !in_place>
                <TextField label="Due date" name="fields.due_date" id="issue-due" kind="date" value=form.due_date errors />
            </Show>
        </details>
        <Show when={
            let any = !candidates.is_empty();
            move || can_triage && any && !in_place
        }>
            <Assignees candidates=candidates.clone() chosen=form.assignees errors />
        </Show>
        <Show when=move || !in_place>
            <TextField label="Tags" name="fields.tags" id="issue-tags" placeholder="comma separated" value=form.tags errors />
        </Show>
    }
}

/// A checkbox per member who may be assigned.
#[component]
pub(super) fn Assignees(
    candidates: Vec<crate::model::Member>,
    chosen: RwSignal<Vec<UserId>>,
    errors: RwSignal<Option<AppError>>,
    /// Called with the new choice after each click (the issue's head saves it at once).
    #[prop(optional)]
    on_toggle: Option<Callback<Vec<UserId>>>,
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
                                if let Some(toggled) = on_toggle {
                                    toggled.run(chosen.get_untracked());
                                }
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
pub(super) fn NewIssue(
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
    let submit = form.on_submit(move || NewIssueInput { project_id, fields: fields.fields() });
    // The form opens where the reader starts typing: its title.
    Effect::new(move || {
        if open.get() {
            request_animation_frame(|| {
                if let Some(title) = document().get_element_by_id("issue-title") {
                    let _ = leptos::wasm_bindgen::JsCast::unchecked_into::<leptos::web_sys::HtmlElement>(title).focus();
                }
            });
        }
    });
    view! {
        <button type="button" id="new-issue" class="primary-inline" aria-expanded=move || open.get().to_string()
            on:click=move |_| open.update(|o| *o = !*o)>"New issue"</button>
        <Show when=move || open.get()>
            <form class="invite" on:submit=submit novalidate>
                <IssueFieldsForm form=fields errors can_triage candidates=candidates.clone() />
                <FormEnd form=form.state() label="Create" />
            </form>
        </Show>
    }
}
