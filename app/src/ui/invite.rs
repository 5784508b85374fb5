//! `/invite/<token>`: what the invitation offers, and accepting it: signed in already, with the
//! existing account's password, or by creating an account (which joins only this team).

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_router::{
    hooks::{use_navigate, use_params_map},
    NavigateOptions,
};

use super::{
    form::{FormAlert, TextField},
    set_ready, SessionState,
};
use crate::{
    api::{accept_invitation, invitation_info, sign_up_with_invitation},
    error::AppError,
    model::{parse, AcceptInvitationInput, InvitationOffer, InvitationTokenInput, InvitedSignUpInput, Me},
};

#[derive(Clone)]
enum Acceptance {
    SignedIn(AcceptInvitationInput),
    NewAccount(InvitedSignUpInput),
}

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
    let session = expect_context::<SessionState>();
    let navigate = use_navigate();
    let display_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let errors = RwSignal::new(None::<AppError>);
    let action = Action::new_local(|acceptance: &Acceptance| {
        let acceptance = acceptance.clone();
        async move {
            match acceptance {
                Acceptance::SignedIn(input) => accept_invitation(input).await,
                Acceptance::NewAccount(input) => sign_up_with_invitation(input).await,
            }
        }
    });
    Effect::new(move || match action.value().get() {
        Some(Ok(_)) => {
            session.me.refetch();
            navigate("/", NavigateOptions::default());
        }
        Some(Err(e)) => errors.set(Some(e)),
        None => {}
    });

    // Which way of accepting fits this visitor.
    let signed_in_as_invitee = me.as_ref().is_some_and(|me| me.user.email == offer.email);
    let signed_in_as_other = me.as_ref().filter(|me| me.user.email != offer.email).map(|me| me.user.email.clone());
    let needs_account = me.is_none() && !offer.account_exists;
    let needs_password = me.is_none() && offer.account_exists;

    let submit = {
        let token = token.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let acceptance = if needs_account {
                let input = InvitedSignUpInput {
                    token: token.clone(),
                    display_name: display_name.get_untracked(),
                    password: password.get_untracked(),
                };
                if let Err(e) = parse(input.clone()) {
                    errors.set(Some(e));
                    return;
                }
                Acceptance::NewAccount(input)
            } else {
                let input = AcceptInvitationInput {
                    token: token.clone(),
                    password: needs_password.then(|| password.get_untracked()),
                };
                if let Err(e) = parse(input.clone()) {
                    errors.set(Some(e));
                    return;
                }
                Acceptance::SignedIn(input)
            };
            errors.set(None);
            action.dispatch(acceptance);
        }
    };

    view! {
        <section class="card narrow">
            <h1>{format!("Join {}", offer.team_name)}</h1>
            <p>
                {offer.invited_by.clone()} " invited " <strong>{offer.email.clone()}</strong> " to join as "
                <strong>{offer.role.label()}</strong> "."
            </p>
            {match signed_in_as_other {
                Some(other) => view! {
                    <p class="alert" role="alert">
                        {format!("You are signed in as {other}. Sign out, then open this link again.")}
                    </p>
                }.into_any(),
                None => view! {
                    <form on:submit=submit novalidate>
                        <Show when=move || needs_account>
                            <TextField label="Display name" name="display_name" autocomplete="name" value=display_name errors />
                        </Show>
                        <Show when=move || needs_account || needs_password>
                            <TextField
                                label="Password"
                                name="password"
                                kind="password"
                                autocomplete=if needs_account { "new-password" } else { "current-password" }
                                value=password
                                errors
                            />
                        </Show>
                        <Show when=move || signed_in_as_invitee>
                            <p class="muted">"You are signed in with this email address."</p>
                        </Show>
                        <FormAlert errors />
                        <button type="submit" class="primary" disabled=move || action.pending().get()>"Accept invitation"</button>
                    </form>
                }.into_any(),
            }}
        </section>
    }
}
