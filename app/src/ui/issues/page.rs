//! An issue's page: its fields, description, files, comments and history.

use leptos::prelude::*;
use leptos_router::{
    components::A,
    hooks::{use_navigate, use_params_map},
    NavigateOptions,
};

use super::{
    form::{saved_fields, IssueFieldsForm, IssueForm},
    in_place::InPlace,
};
use crate::ui::{
    confirm::ConfirmButton,
    files::{CommentDraft, DraftFileList},
    form::{FormAlert, FormEnd, Submission, TextArea},
    layout::SignedIn,
    mentions::MentionSource,
    set_ready,
};
use crate::{
    api::{add_comment, delete_comment, delete_issue, edit_comment, get_issue, get_project, update_issue},
    error::AppError,
    model::{
        CommentIdInput, EditCommentInput, IssueDetail, IssueIdInput, IssueRefInput, IssueVisibility, Me,
        NewCommentInput, ProjectDetail, ProjectKeyInput, Role, UpdateIssueInput, UserId,
    },
};
#[component]
pub fn IssuePage() -> impl IntoView {
    // The issue and its project are asked for as the page mounts, while the session is checked, and
    // again when a link in the text leads to another issue on the same route.
    let params = use_params_map();
    let key = move || params.read().get("key").unwrap_or_default();
    let version = RwSignal::new(0_u32);
    let detail = LocalResource::new(move || {
        version.track();
        let number: i64 = params.read().get("number").and_then(|n| n.parse().ok()).unwrap_or(0);
        get_issue(IssueRefInput { key: key(), number })
    });
    let project = LocalResource::new(move || get_project(ProjectKeyInput { key: key() }));
    view! { <SignedIn page=move |me| view! { <IssueView me detail project version /> } /> }
}

#[component]
pub(super) fn IssueView(
    me: Me,
    detail: LocalResource<Result<IssueDetail, AppError>>,
    project: LocalResource<Result<ProjectDetail, AppError>>,
    version: RwSignal<u32>,
) -> impl IntoView {
    Effect::new(move || set_ready(detail.get().is_some() && project.get().is_some()));
    Effect::new(move || {
        if let Some(Ok(detail)) = detail.get() {
            crate::ui::set_title(&format!("{} {}", detail.issue.reference, detail.issue.title));
        }
    });
    let can_edit = me.team.role != Role::Guest;
    let is_admin = matches!(me.team.role, Role::Owner | Role::Admin);
    let me_id = me.user.id;
    // Outside the part drawn again after a save, so that screen readers hear what it says, and so that
    // the comment being written, its files and their uploads outlive the redraw.
    let saved = RwSignal::new(String::new());
    let draft = CommentDraft::new();
    let on_changed = move || version.update(|v| *v += 1);
    // Sending the new comment lives here too: an answer that arrives after the issue was drawn again
    // (a change of this person's, or one heard live) still clears the box and sends the files.
    let comment_form = Submission::new(add_comment, move |comment: crate::model::Comment| {
        draft.text.set(String::new());
        draft.send_to(comment.id, on_changed);
        on_changed();
    });
    // A link in the text may lead to another issue on this same page: its comment starts empty. The
    // tab's live connection follows the issue shown.
    let live = expect_context::<crate::ui::notifications::Live>();
    Effect::new(move |shown: Option<Option<crate::model::IssueId>>| {
        let now = detail.with(|d| d.as_ref().and_then(|d| d.as_ref().ok()).map(|d| d.issue.id));
        if matches!((shown.flatten(), now), (Some(before), Some(now)) if before != now) {
            draft.clear();
        }
        if now.is_some() {
            live.follow(now);
        }
        now.or(shown.flatten())
    });
    on_cleanup(move || live.follow(None));
    view! {
        <p class="sr-only" role="status" data-testid="saved">{move || saved.get()}</p>
        {move || match (detail.get(), project.get()) {
            (Some(Ok(detail)), Some(Ok(project))) => view! {
                <IssueBody detail project can_edit is_admin me_id saved draft comment_form on_changed />
            }.into_any(),
            (Some(Err(e)), _) | (_, Some(Err(e))) => view! {
                <section class="card"><h1>"Issue"</h1><div class="alert" role="alert">{e.message}</div></section>
            }.into_any(),
            _ => view! { <p class="muted">"Loading…"</p> }.into_any(),
        }}
    }
}

/// The issue's head, its edit form, files and activity. Saving the fields and deleting the issue
/// report their errors in one place.
#[component]
pub(super) fn IssueBody(
    detail: IssueDetail,
    project: ProjectDetail,
    can_edit: bool,
    is_admin: bool,
    me_id: UserId,
    saved: RwSignal<String>,
    draft: CommentDraft,
    comment_form: Submission<NewCommentInput, crate::model::Comment>,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let issue = detail.issue.clone();
    let save = Submission::new(update_issue, move |issue: crate::model::Issue| {
        saved.set(format!("Saved {}.", issue.reference));
        on_changed();
    });
    let errors = save.errors;
    let stored = saved_fields(&issue);
    let fields = IssueForm::new(stored.clone());
    let history = RwSignal::new(detail.history.clone());
    let reference = IssueRefInput { key: project.project.key.clone(), number: issue.number };
    let in_place =
        InPlace::new(&issue, (issue.status.id, stored.clone()), project.statuses.clone(), reference, history, saved);
    let issue_id = issue.id;
    // Who may be assigned is the server's rule: owners and admins, and the project's other members.
    let assignable = is_admin || project.members.iter().any(|m| m.user_id == me_id && m.role != Role::Guest);
    // "Assign to me" changes only the assignees, as the issue was saved (not the form's unsaved edits).
    let assign_to_me = (can_edit && assignable && !stored.assignees.contains(&me_id)).then_some(move |_| {
        let (status_id, mut fields) = in_place.current.get_untracked();
        fields.assignees.push(me_id);
        save.submit(UpdateIssueInput { issue_id, status_id, fields });
    });
    // The form saves its own fields; the status, severity, priority, assignees, tags and due date are
    // the head's.
    let submit = save.on_submit(move || {
        let (status_id, properties) = in_place.current.get_untracked();
        let mut fields = fields.fields();
        fields.severity = properties.severity;
        fields.priority = properties.priority;
        fields.assignees = properties.assignees;
        fields.tags = properties.tags;
        fields.due_date = properties.due_date;
        UpdateIssueInput { issue_id, status_id, fields }
    });
    let busy = move || save.pending() || in_place.save.pending();
    let project_href = format!("/projects/{}", project.project.key);
    let (navigate, after_delete) = (use_navigate(), project_href.clone());
    let delete =
        Submission::reporting_to(errors, delete_issue, move |()| navigate(&after_delete, NavigateOptions::default()));
    let delete_question = format!("Delete {} for everyone? This cannot be undone.", issue.reference);
    let delete_confirm = format!("Delete {}", issue.reference);
    let candidates: Vec<crate::model::Member> =
        project.members.iter().filter(|m| m.role != Role::Guest).cloned().collect();
    view! {
        <ChangedElsewhere fields stored=stored.clone() on_changed />
        <IssueHead issue=issue.clone() project_name=project.project.name.clone() project_href
            in_place=can_edit.then_some(in_place) candidates=candidates.clone() watch=issue_id />
        <Show when=move || can_edit>
            <section class="card">
                <h2>"Edit"</h2>
                <form on:submit=submit novalidate>
                    <IssueFieldsForm form=fields errors can_triage=true candidates=candidates.clone() in_place=true issue=Some(issue_id) />
                    <FormAlert errors />
                    <p class="actions-row">
                        <button type="submit" class="primary-inline" disabled=busy>"Save"</button>
                        {assign_to_me.map(|assign| view! {
                            <button type="button" id="assign-to-me" on:click=assign disabled=busy>"Assign to me"</button>
                        })}
                        {is_admin.then(|| view! {
                            <ConfirmButton label="Delete issue" question=delete_question.clone()
                                confirm=delete_confirm.clone() on_confirm=move || delete.submit(IssueIdInput { issue_id }) />
                        })}
                    </p>
                </form>
            </section>
        </Show>
        <crate::ui::files::Attachments issue_id=issue_id me_id is_admin />
        <Activity detail=detail.clone() history members=project.members.clone() can_edit is_admin me_id draft comment_form on_changed />
    }
}

/// Another person's change (a live `issue` event) shows at once, unless this person is typing in the
/// form: then they are told, and choose when to see it (their edits would be replaced).
#[component]
fn ChangedElsewhere(
    fields: IssueForm,
    stored: crate::model::IssueFields,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let changed_elsewhere = RwSignal::new(false);
    let live = expect_context::<crate::ui::notifications::Live>();
    Effect::new(move |seen: Option<u32>| {
        let now = live.issue_changed.get();
        if seen.is_some_and(|seen| seen != now) {
            if fields.edited(&stored) {
                changed_elsewhere.set(true);
            } else {
                on_changed();
            }
        }
        now
    });
    view! {
        <p class="notice" role="status">{move || changed_elsewhere.get().then(|| view! {
            "This issue changed while you were editing it. "
            <button type="button" on:click=move |_| on_changed()>"Show the changes (your edits are dropped)"</button>
        })}</p>
    }
}

/// The issue as it stands: its fields and its description.
#[component]
pub(super) fn IssueHead(
    issue: crate::model::Issue,
    project_name: String,
    project_href: String,
    /// For those who may edit: status, severity, priority, assignees, tags and due date are saved
    /// at once.
    in_place: Option<InPlace>,
    /// Who may be assigned (the project's members other than guests).
    #[prop(optional)]
    candidates: Vec<crate::model::Member>,
    /// Signed-in readers may watch the issue.
    #[prop(optional)]
    watch: Option<crate::model::IssueId>,
) -> impl IntoView {
    let assignees = issue.assignees.iter().map(|a| a.display_name.clone()).collect::<Vec<_>>().join(", ");
    view! {
        <section class="card">
            <p class="muted"><A href=project_href>{project_name}</A></p>
            <h1>{format!("{} {}", issue.reference, issue.title)}</h1>
            {watch.map(|issue_id| view! { <p><crate::ui::notifications::WatchIssue issue_id /></p> })}
            <dl class="meta" data-testid="fields">
                <dt>"Status"</dt><dd data-testid="status">{match in_place {
                    Some(edit) => edit.status().into_any(),
                    None => issue.status.name.clone().into_any(),
                }}</dd>
                <dt>"Type"</dt><dd>{issue.kind.as_str()}</dd>
                <dt>"Severity"</dt><dd>{match in_place {
                    Some(edit) => edit.severity().into_any(),
                    None => issue.severity.as_str().into_any(),
                }}</dd>
                <dt>"Priority"</dt><dd>{match in_place {
                    Some(edit) => edit.priority().into_any(),
                    None => issue.priority.as_str().into_any(),
                }}</dd>
                <dt>"Visibility"</dt><dd data-testid="visibility">{issue.visibility.as_str()}</dd>
                <dt>"Reporter"</dt><dd>{issue.reporter.display_name.clone()}</dd>
                <dt>"Assignees"</dt><dd>{match in_place {
                    Some(edit) if !candidates.is_empty() => edit.assignees(candidates).into_any(),
                    _ => assignees.into_any(),
                }}</dd>
                <dt>"Tags"</dt><dd>{match in_place {
                    Some(edit) => edit.tags().into_any(),
                    None => issue.tags.join(", ").into_any(),
                }}</dd>
                {match in_place {
                    Some(edit) => view! { <dt>"Due"</dt><dd>{edit.due_date()}</dd> }.into_any(),
                    None => issue.due_date.clone().map(|due| view! { <dt>"Due"</dt><dd data-testid="due-date">{due}</dd> }).into_any(),
                }}
            </dl>
            {in_place.map(InPlace::alert)}
            <Environment environment=issue.environment.clone() />
            <div class="markdown" data-testid="description" inner_html=issue.description_html.clone()></div>
        </section>
    }
}

/// Where the problem was seen: only the fields the reporter filled in, and nothing when none was.
#[component]
fn Environment(environment: crate::model::Environment) -> impl IntoView {
    let crate::model::Environment { browser, os, device, app_version, url } = environment;
    let rows: Vec<(&str, String)> =
        [("Browser", browser), ("Operating system", os), ("Device", device), ("App version", app_version)]
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .collect();
    // The address was checked to be http(s) when it was written; it is checked again before it
    // becomes a link, and opens without the tracker as its opener or referrer.
    let lower = url.to_ascii_lowercase();
    let linkable = lower.starts_with("https://") || lower.starts_with("http://");
    (!rows.is_empty() || !url.is_empty()).then(|| view! {
        <h2 class="subhead">"Environment"</h2>
        <dl class="meta" data-testid="environment">
            {rows.into_iter().map(|(name, value)| view! { <dt>{name}</dt><dd>{value}</dd> }).collect_view()}
            {(!url.is_empty()).then(|| view! {
                <dt>"Address"</dt>
                <dd>{if linkable {
                    view! { <a href=url.clone() rel="noopener noreferrer nofollow" target="_blank">{url.clone()}</a> }.into_any()
                } else {
                    url.clone().into_any()
                }}</dd>
            })}
        </dl>
    })
}

/// One line of history in words: "changed status from New to Done", "attached shot.png".
fn history_sentence(field: &str, old: &str, new: &str) -> String {
    const LONG: usize = 80;
    let shown = |value: &str| -> String {
        if value.is_empty() {
            "nothing".to_owned()
        } else if value.chars().count() > LONG {
            format!("“{}…”", value.chars().take(LONG).collect::<String>())
        } else {
            format!("“{value}”")
        }
    };
    match (field, old.is_empty(), new.is_empty()) {
        ("attachment", true, _) => format!("attached {new}"),
        ("attachment", _, true) => format!("removed the file {old}"),
        // A description is too long to quote twice on one line; the page shows the current one.
        ("description", _, _) => "edited the description".to_owned(),
        _ => format!("changed {} from {} to {}", field.replace('_', " "), shown(old), shown(new)),
    }
}

/// One recorded change, as a sentence: when, who, what from what to what. Assignees are recorded
/// by id; they are shown by name where the reader knows the member.
fn change_item(h: crate::model::HistoryEntry, members: &[crate::model::Member]) -> impl IntoView {
    let names = |ids: &str| -> String {
        ids.split(", ")
            .filter(|id| !id.is_empty())
            .map(|id| {
                members
                    .iter()
                    .find(|m| m.user_id.to_string() == id)
                    .map_or_else(|| "a member".to_owned(), |m| m.display_name.clone())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sentence = if h.field == "assignees" {
        history_sentence(&h.field, &names(&h.old_value), &names(&h.new_value))
    } else {
        history_sentence(&h.field, &h.old_value, &h.new_value)
    };
    view! {
        <li class="change"><crate::ui::time::Moment ms=h.at />" · "<strong>{h.actor.unwrap_or_default()}</strong>" "{sentence}</li>
    }
}

/// One comment, with "Edit" for its author and "Delete" for its author and admins.
#[component]
pub(super) fn CommentItem(
    comment: crate::model::Comment,
    is_admin: bool,
    me_id: UserId,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
    errors: RwSignal<Option<AppError>>,
    /// The page's open editors: an edit survives the stream being drawn again.
    edits: RwSignal<std::collections::HashMap<crate::model::CommentId, String>>,
    /// The issue, for a reader who may be offered people to mention (not a guest).
    mentions: Option<crate::model::IssueId>,
) -> impl IntoView {
    let own = comment.author.id == me_id;
    let comment_id = comment.id;
    let internal = comment.visibility == IssueVisibility::Internal;
    let editing = move || edits.with(|e| e.contains_key(&comment_id));
    let body = RwSignal::new(edits.with_untracked(|e| e.get(&comment_id).cloned()).unwrap_or(comment.body.clone()));
    Effect::new(move || {
        let text = body.get();
        edits.update(|e| {
            if let Some(open) = e.get_mut(&comment_id) {
                *open = text;
            }
        });
    });
    // The edit box has its own error slot: several comments may be on the page.
    let edit = Submission::new(edit_comment, move |_| {
        edits.update(|e| {
            e.remove(&comment_id);
        });
        on_changed();
    });
    let delete = Submission::reporting_to(errors, delete_comment, move |()| on_changed());
    let edit_errors = edit.errors;
    let files = comment.clone();
    view! {
        <li class="comment">
            <p class="muted">
                <strong>{comment.author.display_name.clone()}</strong>" · "<crate::ui::time::Moment ms=comment.created_at />
                {(comment.visibility == IssueVisibility::Internal).then(|| view! { " " <span class="badge">"internal"</span> })}
            </p>
            <Show when=move || !editing() fallback=move || view! {
                <TextArea name="body" id=format!("comment-{comment_id}") aria_label="Edit comment" rows=3 value=body errors=edit_errors preview=true
                    mentions=mentions.map(|issue_id| MentionSource { issue_id, internal: Callback::new(move |()| internal) }) />
                <FormAlert errors=edit_errors />
                <button type="button" on:click=move |_| edit.submit(EditCommentInput { comment_id, body: body.get_untracked() })>
                    "Save comment"
                </button>" "
                <button type="button" on:click=move |_| edits.update(|e| {
                    e.remove(&comment_id);
                })>"Cancel"</button>
            }>
                <div class="markdown" inner_html=comment.body_html.clone()></div>
            </Show>
            <crate::ui::files::CommentFiles comment=files me_id is_admin on_changed errors />
            <p class="actions-row">
                <Show when=move || own && !editing()>
                    <button type="button" on:click={
                        let text = comment.body.clone();
                        move |_| {
                            body.set(text.clone());
                            edits.update(|e| {
                                e.insert(comment_id, text.clone());
                            });
                        }
                    }>"Edit"</button>
                </Show>
                <Show when=move || own || is_admin>
                    <ConfirmButton label="Delete" name="Delete comment" question="Delete this comment and its files? This cannot be undone."
                        confirm="Delete comment" on_confirm=move || delete.submit(CommentIdInput { comment_id }) />
                </Show>
            </p>
        </li>
    }
}

/// What happened to the issue, oldest first: its comments and its recorded changes (as much of both
/// as the reader may see; the server decides) in one stream, then the new comment's form.
#[component]
pub(super) fn Activity(
    detail: IssueDetail,
    /// The changes, read again after each change made in place.
    history: RwSignal<Vec<crate::model::HistoryEntry>>,
    members: Vec<crate::model::Member>,
    can_edit: bool,
    is_admin: bool,
    me_id: UserId,
    /// The comment being written, with its files, and its sending (the page's, so that they outlive
    /// a redraw).
    draft: CommentDraft,
    comment_form: Submission<NewCommentInput, crate::model::Comment>,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let body = draft.text;
    let internal = RwSignal::new(false);
    let form = comment_form;
    let errors = form.errors;
    let issue_id = detail.issue.id;
    let submit = form.on_submit(move || NewCommentInput {
        issue_id,
        body: body.get_untracked(),
        internal: internal.get_untracked(),
    });
    let comments = StoredValue::new(detail.comments);
    let members = StoredValue::new(members);
    // Each item by its moment; at the same moment a change comes before a comment.
    let stream = move || {
        let mut items: Vec<(i64, bool, AnyView)> = history
            .get()
            .into_iter()
            .map(|h| (h.at, false, members.with_value(|m| change_item(h, m)).into_any()))
            .collect();
        items.extend(comments.get_value().into_iter().map(|c| {
            (
                c.created_at,
                true,
                view! { <CommentItem comment=c is_admin me_id on_changed errors edits=draft.edits mentions=can_edit.then_some(issue_id) /> }.into_any(),
            )
        }));
        items.sort_by_key(|(at, is_comment, _)| (*at, *is_comment));
        items.into_iter().map(|(_, _, item)| item).collect_view()
    };
    view! {
        <section class="card">
            <h2>"Activity"</h2>
            <ol class="activity">{stream}</ol>
            <form on:submit=submit novalidate>
                <div class="drop-zone" on:paste=move |ev| draft.on_paste(&ev) on:dragover=|ev| ev.prevent_default()
                    on:drop=move |ev| draft.on_drop(&ev)>
                    <TextArea label="New comment" name="body" id="comment-body" rows=3 value=body errors preview=true
                        mentions=can_edit.then_some(MentionSource { issue_id, internal: Callback::new(move |()| internal.get_untracked()) }) />
                    <p class="hint">"Paste or drop an image here to attach it to this comment."</p>
                    <DraftFileList draft />
                </div>
                <Show when=move || can_edit>
                    <label class="check">
                        <input type="checkbox" prop:checked=move || internal.get() on:change=move |ev| internal.set(event_target_checked(&ev)) />
                        "Internal comment"
                    </label>
                    <p class="hint" hidden=move || !(internal.get() && body.with(|b| b.contains('@')))>
                        "Mentions here notify members only: guests never see internal comments, so a mention of one has no effect."
                    </p>
                </Show>
                <FormEnd form=form.state() label="Comment" />
            </form>
        </section>
    }
}
