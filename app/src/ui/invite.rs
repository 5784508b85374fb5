//! `/invite/<token>`: what the invitation offers, and accepting it: signed in already, with the
//! existing account's password, or by creating an account (which joins only this team).

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_router::hooks::use_params_map;

use super::{
    form::{FormAlert, FormEnd, Submission, TextField},
    second_factor_asked, set_ready, start_over_signed_in, SessionState,
};
use crate::{
    api::{accept_invitation, invitation_info, second_factor, sign_up_with_invitation},
    error::{AppError, ErrorCode},
    model::{AcceptInvitationInput, InvitationOffer, InvitationTokenInput, InvitedSignUpInput, Me, TwoFactorCodeInput},
};

#[component]
pub fn InvitePage() -> impl IntoView {
    on_cleanup(|| set_ready(false));
    let session = expect_context::<SessionState>();
    let token = move || use_params_map().read().get("token").unwrap_or_default();
    let token = token();
    let offer = LocalResource::new({
        let token = token.clone();
        move || invitation_info(InvitationTokenInput { token: token.clone() })
    });
    let token = StoredValue::new(token);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let me = session.me.await.ok().flatten();
                match offer.await {
                    Ok(offer) => view! { <Offer offer me token=token.get_value() /> }.into_any(),
                    Err(e) => {
                        Effect::new(|| set_ready(true));
                        view! {
                            <section class="card narrow">
                                <h1>"Invitation"</h1>
                                <div class="alert" role="alert">{e.message}</div>
                            </section>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Offer(offer: InvitationOffer, me: Option<Me>, token: String) -> impl IntoView {
    Effect::new(|| set_ready(true));
    let signed_in_as_other = me.as_ref().filter(|me| me.user.email != offer.email).map(|me| me.user.email.clone());
    view! {
        <section class="card narrow">
            <h1>{format!("Join {}", offer.team_name)}</h1>
            <p>
                {offer.invited_by.clone()} " invited " <strong>{offer.email.clone()}</strong> " to join as "
                <strong>{offer.role.label()}</strong> "."
            </p>
            {(!offer.projects.is_empty()).then(|| view! {
                <p>"You will join these projects:"</p>
                <ul class="invited-projects">{offer.projects.clone().into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
            })}
            {match signed_in_as_other {
                Some(other) => view! {
                    <p class="alert" role="alert">
                        {format!("You are signed in as {other}. Sign out, then open this link again.")}
                    </p>
                }.into_any(),
                None if me.is_none() && !offer.account_exists => view! { <AcceptWithNewAccount token /> }.into_any(),
                None => {
                    let signed_in = me.is_some();
                    view! { <AcceptAsMember token signed_in /> }.into_any()
                }
            }}
        </section>
    }
}

/// A visitor without an account creates one, which joins only this team.
#[component]
fn AcceptWithNewAccount(token: String) -> impl IntoView {
    super::form::fetch_common_passwords();
    let display_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = Submission::new(sign_up_with_invitation, start_over_signed_in());
    let errors = form.errors;
    let token = StoredValue::new(token);
    let submit = form.on_submit(move || InvitedSignUpInput {
        token: token.get_value(),
        display_name: display_name.get_untracked(),
        password: password.get_untracked(),
    });
    view! {
        <form on:submit=submit novalidate>
            <TextField label="Display name" name="display_name" autocomplete="name" value=display_name errors />
            <TextField label="Password" name="password" kind="password" autocomplete="new-password" value=password errors />
            <FormEnd form=form.state() label="Accept invitation" class="primary" />
        </form>
    }
}

/// The second factor, then the invitation accepted by the session it signed in.
async fn second_factor_then_accept(code: TwoFactorCodeInput, token: String) -> Result<Me, AppError> {
    match second_factor(code).await {
        // Signed in, into the invitation's team, which the user joins next.
        Ok(_) | Err(AppError { code: ErrorCode::Conflict, .. }) => {}
        Err(e) => return Err(e),
    }
    accept_invitation(AcceptInvitationInput { token, password: None }).await
}

/// The invited account accepts: already signed in, or with its password (and then its second
/// factor, when it has one: the password alone joins nothing).
#[component]
fn AcceptAsMember(token: String, signed_in: bool) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let form = Submission::new(accept_invitation, start_over_signed_in());
    let errors = form.errors;
    let second_step = second_factor_asked(errors);
    let token = StoredValue::new(token);
    let with_code = Submission::new(
        move |code: TwoFactorCodeInput| second_factor_then_accept(code, token.get_value()),
        start_over_signed_in(),
    );
    let code_errors = with_code.errors;
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if second_step.get_untracked() {
            with_code.submit(TwoFactorCodeInput { code: code.get_untracked() });
        } else {
            form.submit(AcceptInvitationInput {
                token: token.get_value(),
                password: (!signed_in).then(|| password.get_untracked()),
            });
        }
    };
    view! {
        <form on:submit=submit novalidate>
            <Show when=move || second_step.get() fallback=move || view! {
                <Show when=move || !signed_in>
                    <TextField label="Password" name="password" kind="password" autocomplete="current-password" value=password errors />
                </Show>
                <Show when=move || signed_in>
                    <p class="muted">"You are signed in with this email address."</p>
                </Show>
                <FormAlert errors />
            }>
                <p class="muted">"Your account has two-factor authentication."</p>
                <TextField label="Authentication code" name="code" autocomplete="one-time-code" value=code errors=code_errors />
                <FormAlert errors=code_errors />
            </Show>
            <button type="submit" class="primary" disabled=move || form.pending() || with_code.pending()>"Accept invitation"</button>
        </form>
    }
}
