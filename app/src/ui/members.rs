//! The members page: who is in the active team, pending invitations, and (for owners and admins)
//! inviting, changing roles, removing members and transferring ownership. Every control mirrors a
//! server function; the server decides again whether it is allowed.

use leptos::prelude::*;
use leptos_router::{hooks::use_navigate, NavigateOptions};

use super::{
    confirm::ConfirmButton,
    form::Submission,
    inviting::{grantable, role_options, InviteForm, PendingInvitations},
    layout::SignedIn,
    set_ready, time, SessionState,
};
use crate::{
    api::{
        change_role, leave_team, list_invitations, list_members, remove_member, set_two_factor_requirement,
        transfer_ownership,
    },
    error::AppError,
    model::{ChangeRoleInput, Me, Member, MemberInput, Role, TwoFactorRequirementInput},
};

#[component]
pub fn MembersPage() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <Members me /> } /> }
}

/// What the members table may do to a member; all of them report to the page's one alert.
#[derive(Clone, Copy)]
struct MemberActions {
    change_role: Submission<ChangeRoleInput, Member>,
    remove: Submission<MemberInput, ()>,
    transfer: Submission<MemberInput, Me>,
}

#[component]
fn Members(me: Me) -> impl IntoView {
    let session = expect_context::<SessionState>();
    let manager = matches!(me.team.role, Role::Owner | Role::Admin);
    let members = LocalResource::new(list_members);
    let invitations = LocalResource::new(move || async move {
        if manager {
            list_invitations().await
        } else {
            Ok(Vec::new())
        }
    });
    Effect::new(move || set_ready(members.get().is_some() && invitations.get().is_some()));
    let errors = RwSignal::new(None::<AppError>);
    let actions = MemberActions {
        change_role: Submission::reporting_to(errors, change_role, move |_| members.refetch()),
        remove: Submission::reporting_to(errors, remove_member, move |()| members.refetch()),
        // The owner's own role changes too.
        transfer: Submission::reporting_to(errors, transfer_ownership, move |_| {
            members.refetch();
            session.me.refetch();
        }),
    };
    let me = StoredValue::new(me);
    let rows = move || {
        members.get().map(|result| match result {
            Ok(list) => list.into_iter().map(|m| member_row(m, me.get_value(), actions)).collect_view().into_any(),
            Err(e) => view! { <tr><td colspan="5" class="alert">{e.message}</td></tr> }.into_any(),
        })
    };
    view! {
        <section class="card">
            <div class="card-head">
                <h1>"Members"</h1>
                <Show when=move || manager>
                    <InviteForm me=me.get_value() on_created=move || invitations.refetch() />
                </Show>
            </div>
            <div class="alert" role="alert">{move || errors.get().map(|e| e.message)}</div>
            <table class="list">
                <thead>
                    <tr><th>"Name"</th><th>"Email"</th><th>"Role"</th><th>"Joined"</th><th><span class="sr-only">"Actions"</span></th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            <Show when=move || me.with_value(|me| me.team.role != Role::Owner)>
                <LeaveTeam errors />
            </Show>
        </section>
        <Show when=move || manager>
            <PendingInvitations invitations errors />
            <TwoFactorRequirement required=me.with_value(|me| me.team.requires_two_factor) />
        </Show>
        <Show when=move || me.with_value(|me| me.team.role == Role::Owner)>
            <super::sso::SsoSettings />
        </Show>
    }
}

/// "Require two-factor authentication" of every member (owners and admins, who need it themselves).
#[component]
fn TwoFactorRequirement(required: bool) -> impl IntoView {
    let session = expect_context::<SessionState>();
    let checked = RwSignal::new(required);
    let errors = RwSignal::new(None::<AppError>);
    let save = Submission::reporting_to(errors, set_two_factor_requirement, move |me: Me| {
        checked.set(me.team.requires_two_factor);
        if me.two_factor_setup_required {
            // Only the account page works for this user now: reload, and the frame redirects.
            session.me.refetch();
        } else {
            // Nothing the frame shows changed. Keep the session's copy current without telling its
            // readers: a reload would mount this page anew and lose a half-filled invitation.
            *session.me.write_untracked() = Some(Ok(Some(me)));
        }
    });
    view! {
        <section class="card">
            <h2>"Security"</h2>
            <label class="check">
                <input type="checkbox" prop:checked=move || checked.get()
                    on:change=move |ev| save.submit(TwoFactorRequirementInput { required: event_target_checked(&ev) }) />
                "Require two-factor authentication"
            </label>
            <p class="hint">"Members without it can do nothing in this team until they turn it on in their account."</p>
            <div class="alert" role="alert">{move || errors.get().map(|e| e.message)}</div>
        </section>
    }
}

/// "Leave team": then the session has no team here, and the app starts over.
#[component]
fn LeaveTeam(errors: RwSignal<Option<AppError>>) -> impl IntoView {
    let session = expect_context::<SessionState>();
    let navigate = use_navigate();
    let leave = Action::new_local(|(): &()| leave_team());
    Effect::new(move || match leave.value().get() {
        Some(Ok(_)) => {
            session.me.refetch();
            navigate("/", NavigateOptions::default());
        }
        Some(Err(e)) => errors.set(Some(e)),
        None => {}
    });
    view! {
        <p>
            <button type="button" class="danger" on:click=move |_| { leave.dispatch(()); }>"Leave team"</button>
        </p>
    }
}

fn member_row(member: Member, me: Me, actions: MemberActions) -> impl IntoView {
    let manager = matches!(me.team.role, Role::Owner | Role::Admin);
    let is_me = member.user_id == me.user.id;
    let manageable =
        manager && !is_me && member.role != Role::Owner && (me.team.role == Role::Owner || member.role != Role::Admin);
    let can_receive_ownership =
        me.team.role == Role::Owner && !is_me && matches!(member.role, Role::Admin | Role::Normal);
    let new_role = RwSignal::new(if member.role == Role::Owner { Role::Normal } else { member.role });
    let user_id = member.user_id;
    let role_label = format!("Role of {}", member.display_name);
    let remove_name = format!("Remove {}", member.display_name);
    let remove_question = format!("Remove {} from the team? They lose access at once.", member.display_name);
    view! {
        <tr>
            <td>{member.display_name.clone()}{is_me.then_some(" (you)")}</td>
            <td>{member.email}</td>
            <td>{member.role.label()}</td>
            <td>
                {time::date(member.joined_at)}
                {member.single_sign_on.map(|sso| {
                    let how = if sso.made_account { "Single sign-on" } else { "Password and single sign-on" };
                    view! { <br /><span class="hint">{format!("{how}, last {}", time::date(sso.last_sign_in_at))}</span> }
                })}
            </td>
            <td class="actions">
                <Show when=move || manageable>
                    <select aria-label=role_label.clone() on:change=move |ev| {
                        if let Some(role) = Role::parse(&event_target_value(&ev)) {
                            new_role.set(role);
                        }
                    }>{role_options(grantable(&me), new_role.get_untracked())}</select>
                    <button type="button" on:click=move |_| {
                        actions.change_role.submit(ChangeRoleInput { user_id, role: new_role.get_untracked() });
                    }>"Change role"</button>
                    <ConfirmButton label="Remove" name=remove_name.clone() question=remove_question.clone()
                        confirm="Remove from team" on_confirm=move || actions.remove.submit(MemberInput { user_id }) />
                </Show>
                <Show when=move || can_receive_ownership>
                    <button type="button" on:click=move |_| actions.transfer.submit(MemberInput { user_id })>"Transfer ownership"</button>
                </Show>
            </td>
        </tr>
    }
}
