//! Inviting people (owners and admins, on the members page): the invite form, which may name projects
//! the invitee joins on accepting, and the pending invitations, whose link can be issued again (only
//! a hash of a link is kept, so a lost link is replaced rather than shown again).

use leptos::{ev::SubmitEvent, prelude::*};

use super::{
    confirm::ConfirmButton,
    form::{copy_to_clipboard, FormEnd, Submission, TextField},
    time,
};
use crate::{
    api::{invite, list_projects, renew_invitation, revoke_invitation},
    error::AppError,
    model::{
        CreatedInvitation, Invitation, InviteInput, Me, Project, ProjectId, RevokeInvitationInput, Role, Visibility,
    },
};

pub(super) type InvitationsResource = LocalResource<Result<Vec<Invitation>, AppError>>;

/// Roles a manager may give: the owner may also make admins.
pub(super) fn grantable(me: &Me) -> Vec<Role> {
    if me.team.role == Role::Owner {
        vec![Role::Admin, Role::Normal, Role::Guest]
    } else {
        vec![Role::Normal, Role::Guest]
    }
}

pub(super) fn role_options(roles: Vec<Role>, selected: Role) -> impl IntoView {
    roles
        .into_iter()
        .map(|r| view! { <option value=r.as_str() selected=r == selected>{r.label()}</option> })
        .collect_view()
}

/// "Invite": email, role and projects, then the single-use link with "Copy link".
#[component]
pub(super) fn InviteForm(me: Me, on_created: impl Fn() + Send + Sync + Copy + 'static) -> impl IntoView {
    let open = RwSignal::new(false);
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Normal);
    let chosen = RwSignal::new(Vec::<ProjectId>::new());
    let created = RwSignal::new(None::<CreatedInvitation>);
    let form = Submission::new(invite, move |invitation: CreatedInvitation| {
        email.set(String::new());
        chosen.set(Vec::new());
        created.set(Some(invitation));
        on_created();
    });
    let errors = form.errors;
    let projects = LocalResource::new(list_projects);
    // The projects the chosen role may join: not archived, and public ones only for a guest.
    let joinable = move || -> Vec<Project> {
        let all = projects.get().and_then(Result::ok).unwrap_or_default();
        let guest = role.get() == Role::Guest;
        all.into_iter().filter(|p| !p.archived && (!guest || p.visibility == Visibility::Public)).collect()
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        created.set(None);
        let shown: Vec<ProjectId> = joinable().iter().map(|p| p.id).collect();
        let project_ids = chosen.get_untracked().into_iter().filter(|id| shown.contains(id)).collect();
        form.submit(InviteInput { email: email.get_untracked(), role: role.get_untracked(), project_ids });
    };
    let roles = grantable(&me);
    view! {
        <button type="button" class="primary-inline" on:click=move |_| open.update(|o| *o = !*o)>"Invite"</button>
        <Show when=move || open.get()>
            <form class="invite" on:submit=submit novalidate>
                <TextField label="Email" name="email" kind="email" value=email errors />
                <div class="field">
                    <label for="role">"Role"</label>
                    <select id="role" name="role" on:change=move |ev| {
                        if let Some(r) = Role::parse(&event_target_value(&ev)) {
                            role.set(r);
                        }
                    }>{role_options(roles.clone(), Role::Normal)}</select>
                </div>
                <fieldset class="field project-choice">
                    <legend>"Projects"</legend>
                    <p class="hint">"They join the projects chosen here when they accept (guests: public projects only)."</p>
                    {move || {
                        let list = joinable();
                        if list.is_empty() {
                            return view! { <p class="muted">"No project to offer yet."</p> }.into_any();
                        }
                        list.into_iter().map(|p| project_choice(p, chosen)).collect_view().into_any()
                    }}
                </fieldset>
                <FormEnd form=form.state() label="Send invitation" />
            </form>
        </Show>
        <InvitationLink created id="invitation-link" label="Invitation link" />
    }
}

fn project_choice(project: Project, chosen: RwSignal<Vec<ProjectId>>) -> impl IntoView {
    let id = project.id;
    view! {
        <label class="check">
            <input type="checkbox" prop:checked=move || chosen.with(|c| c.contains(&id)) on:change=move |ev| {
                let on = event_target_checked(&ev);
                chosen.update(|c| {
                    c.retain(|other| *other != id);
                    if on {
                        c.push(id);
                    }
                });
            } />
            {format!("{} · {}", project.key, project.name)}
        </label>
    }
}

/// A link just made (a new invitation, or a pending one's new link), with "Copy link"; `label` starts
/// the field's name ("Invitation link for ann@example.org").
#[component]
fn InvitationLink(
    created: RwSignal<Option<CreatedInvitation>>,
    id: &'static str,
    label: &'static str,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    Effect::new(move || {
        created.track();
        copied.set(false);
    });
    let link = move || created.get().map(|c| format!("{}{}", origin(), c.path)).unwrap_or_default();
    view! {
        <Show when=move || created.get().is_some()>
            <div class="created">
                <label for=id>{move || created.get().map(|c| format!("{label} for {}", c.invitation.email))}</label>
                <input id=id readonly=true prop:value=link />
                <button type="button" on:click=move |_| {
                    copy_to_clipboard(&link());
                    copied.set(true);
                }>"Copy link"</button>
                <span class="muted" role="status">{move || copied.get().then_some("Copied.")}</span>
                <p class="hint">
                    {move || if created.get().is_some_and(|c| c.emailed) { "It was also emailed. " } else { "" }}
                    "The link works once, for this email address, until it expires."
                </p>
            </div>
        </Show>
    }
}

/// The team's pending invitations, each with "New link" and "Revoke".
#[component]
pub(super) fn PendingInvitations(
    invitations: InvitationsResource,
    errors: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let revoke = Submission::reporting_to(errors, revoke_invitation, move |()| invitations.refetch());
    let renewed = RwSignal::new(None::<CreatedInvitation>);
    let renew = Submission::reporting_to(errors, renew_invitation, move |made: CreatedInvitation| {
        renewed.set(Some(made));
        invitations.refetch();
    });
    view! {
        <section class="card">
            <h2>"Pending invitations"</h2>
            <table class="list">
                <thead>
                    <tr><th>"Email"</th><th>"Role"</th><th>"Projects"</th><th>"Invited by"</th><th>"Expires"</th><th><span class="sr-only">"Actions"</span></th></tr>
                </thead>
                <tbody>
                    {move || invitations.get().map(|r| match r {
                        Ok(list) if list.is_empty() => view! { <tr><td colspan="6" class="muted">"No pending invitations."</td></tr> }.into_any(),
                        Ok(list) => list.into_iter().map(|i| invitation_row(i, renew, revoke)).collect_view().into_any(),
                        Err(e) => view! { <tr><td colspan="6" class="alert">{e.message}</td></tr> }.into_any(),
                    })}
                </tbody>
            </table>
            <InvitationLink created=renewed id="renewed-link" label="New invitation link" />
        </section>
    }
}

fn invitation_row(
    invitation: Invitation,
    renew: Submission<RevokeInvitationInput, CreatedInvitation>,
    revoke: Submission<RevokeInvitationInput, ()>,
) -> impl IntoView {
    let invitation_id = invitation.id;
    let projects = if invitation.projects.is_empty() { "None".to_owned() } else { invitation.projects.join(", ") };
    let renew_name = format!("New link for {}", invitation.email);
    let question = format!("Make a new link for {}? The link sent before stops working.", invitation.email);
    view! {
        <tr>
            <td>{invitation.email.clone()}</td>
            <td>{invitation.role.label()}</td>
            <td>{projects}</td>
            <td>{invitation.invited_by}</td>
            <td>{time::date(invitation.expires_at)}</td>
            <td class="actions">
                <ConfirmButton label="New link" name=renew_name question confirm="Make a new link"
                    on_confirm=move || renew.submit(RevokeInvitationInput { invitation_id }) />
                <button type="button" on:click=move |_| revoke.submit(RevokeInvitationInput { invitation_id })>"Revoke"</button>
            </td>
        </tr>
    }
}

/// The app's own origin, for absolute invitation links.
fn origin() -> String {
    window().location().origin().unwrap_or_default()
}
