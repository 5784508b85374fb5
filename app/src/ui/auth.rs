//! Sign-up and sign-in pages. Both run the shared rules before sending, so most mistakes are shown at
//! once; the server runs the same rules again and its field errors are shown in the same places.

use leptos::prelude::*;
use leptos_router::components::{Redirect, A};

use super::{
    form::{FormEnd, Submission, TextField},
    second_factor_asked, set_ready,
    sso::SsoButton,
    start_over_signed_in, SessionState,
};
use crate::{
    api::{second_factor, sign_in, sign_up},
    model::{SignInInput, SignUpInput, TeamId, TwoFactorCodeInput},
};

/// Wraps a page that only makes sense signed out: a signed-in visitor goes to the start page.
#[component]
fn SignedOutOnly(children: ChildrenFn) -> impl IntoView {
    let session = expect_context::<SessionState>();
    let children = StoredValue::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                if let Ok(Some(_)) = session.me.await { view! { <Redirect path="/" /> }.into_any() } else {
                    Effect::new(|| set_ready(true));
                    children.read_value()().into_any()
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    on_cleanup(|| set_ready(false));
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let form = Submission::new(sign_in, start_over_signed_in());
    let errors = form.errors;
    // The password was right and the account has two-factor authentication: ask for the code. A
    // single sign-on round trip that owes it comes back as `?second_factor=1`.
    let query = leptos_router::hooks::use_query_map();
    let second_step = second_factor_asked(errors);
    if query.with_untracked(|q| q.get("second_factor").is_some()) {
        second_step.set(true);
    }
    let linking = query.with_untracked(|q| q.get("link").is_some());
    let team = query.with_untracked(|q| q.get("team").and_then(|t| t.parse::<TeamId>().ok()));
    let submit =
        form.on_submit(move || SignInInput { email: email.get_untracked(), password: password.get_untracked() });

    view! {
        <SignedOutOnly>
            <section class="card narrow">
                <h1>"Sign in to Moth"</h1>
                {team.map(|team_id| view! { <SsoButton team_id /> })}
                <Show when=move || linking>
                    <p class="notice" role="status">"Your identity provider's email belongs to a Moth account: sign in to it once with its password to link the two."</p>
                </Show>
                <Show when=move || second_step.get() fallback=move || view! {
                    <form on:submit=submit novalidate>
                        <TextField label="Email" name="email" kind="email" autocomplete="username" value=email errors />
                        <TextField label="Password" name="password" kind="password" autocomplete="current-password" value=password errors />
                        <FormEnd form=form.state() label="Sign in" class="primary" />
                    </form>
                }>
                    <SecondFactor />
                </Show>
                <p class="muted">"New to Moth? " <A href="/signup">"Create an account"</A></p>
            </section>
        </SignedOutOnly>
    }
}

/// The second step of signing in: a code from the authenticator app, or a recovery code.
#[component]
fn SecondFactor() -> impl IntoView {
    let code = RwSignal::new(String::new());
    let recovery = RwSignal::new(false);
    let form = Submission::new(second_factor, start_over_signed_in());
    let errors = form.errors;
    let submit = form.on_submit(move || TwoFactorCodeInput { code: code.get_untracked() });
    view! {
        <form on:submit=submit novalidate>
            <p class="muted">"Your account has two-factor authentication."</p>
            <Show when=move || recovery.get() fallback=move || view! {
                <TextField label="Authentication code" name="code" autocomplete="one-time-code" value=code errors />
            }>
                <TextField label="Recovery code" name="code" autocomplete="off" value=code errors />
            </Show>
            <FormEnd form=form.state() label="Verify" class="primary" />
            <button type="button" on:click=move |_| recovery.update(|r| *r = !*r)>
                {move || if recovery.get() { "Use an authentication code" } else { "Use a recovery code" }}
            </button>
        </form>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    on_cleanup(|| set_ready(false));
    super::form::fetch_common_passwords();
    let email = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let team_name = RwSignal::new(String::new());
    let form = Submission::new(sign_up, start_over_signed_in());
    let errors = form.errors;
    let submit = form.on_submit(move || SignUpInput {
        email: email.get_untracked(),
        display_name: display_name.get_untracked(),
        password: password.get_untracked(),
        team_name: team_name.get_untracked(),
    });

    view! {
        <SignedOutOnly>
            <section class="card narrow">
                <h1>"Create your Moth account"</h1>
                <p class="muted">"You will own a new team; invite others once you are in."</p>
                <form on:submit=submit novalidate>
                    <TextField label="Email" name="email" kind="email" autocomplete="email" value=email errors />
                    <TextField label="Display name" name="display_name" autocomplete="name" value=display_name errors />
                    <TextField label="Password" name="password" kind="password" autocomplete="new-password" value=password errors />
                    <p class="hint">"8 to 128 characters. Common passwords are refused."</p>
                    <TextField label="Team name" name="team_name" autocomplete="organization" value=team_name errors />
                    <FormEnd form=form.state() label="Sign up" class="primary" />
                </form>
                <p class="muted">"Already have an account? " <A href="/signin">"Sign in"</A></p>
            </section>
        </SignedOutOnly>
    }
}
