//! The signed-in user's account page: two-factor authentication, turned on with a key shown as a QR
//! code and as text and confirmed by a code from it (then the recovery codes are shown once), and
//! turned off with a current code; notification settings (`notifications`); and access tokens for the
//! REST API (`tokens`).

use leptos::prelude::*;

use super::{
    form::{FormAlert, FormEnd, Submission, TextField},
    layout::SignedIn,
    set_ready,
    tokens::AccessTokensSection,
};
use crate::{
    api::{disable_two_factor, enable_two_factor, start_two_factor, two_factor_status},
    model::{EnableTwoFactorInput, Me, RecoveryCodes, TwoFactorCodeInput, TwoFactorSetup},
};

#[component]
pub fn AccountPage() -> impl IntoView {
    // Tokens wait while the team requires a second factor this user has not set up (nothing else works).
    let tokens = |me: &Me| {
        (!me.two_factor_setup_required).then(|| {
            view! { <super::notifications::NotificationSettings /> <AccessTokensSection role=me.team.role /> }
        })
    };
    view! { <SignedIn page=move |me| view! { <TwoFactor /> {tokens(&me)} } /> }
}

#[component]
fn TwoFactor() -> impl IntoView {
    let version = RwSignal::new(0_u32);
    let status = LocalResource::new(move || {
        version.track();
        two_factor_status()
    });
    Effect::new(move || set_ready(status.get().is_some()));
    let codes = RwSignal::new(None::<RecoveryCodes>);
    // Turning it on (or off) may change what the team lets this user do.
    let session = expect_context::<super::SessionState>();
    view! {
        <section class="card narrow">
            <h1>"Your account"</h1>
            <h2>"Two-factor authentication"</h2>
            {move || status.get().map(|r| match r {
                Ok(s) if s.enabled => view! {
                    <p data-testid="two-factor-state">"On: signing in asks for a code from your authenticator app."</p>
                    <RecoveryCodeList codes on_saved=move || { codes.set(None); session.me.refetch() } />
                    <TurnOff on_done=move || { codes.set(None); version.update(|v| *v += 1); session.me.refetch() } />
                }.into_any(),
                Ok(_) => view! {
                    <p data-testid="two-factor-state">"Off: your password alone signs you in."</p>
                    <TurnOn on_done=move |shown| { codes.set(Some(shown)); version.update(|v| *v += 1) } />
                }.into_any(),
                Err(e) => view! { <p class="alert" role="alert">{e.message}</p> }.into_any(),
            })}
        </section>
    }
}

/// The recovery codes, right after they were made (they are not shown again); once the user says
/// they have kept them, the session is read again (a team that required this lets them in now).
#[component]
fn RecoveryCodeList(
    codes: RwSignal<Option<RecoveryCodes>>,
    on_saved: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    move || {
        codes.get().map(|c| {
            view! {
                <p>"Your recovery codes. Keep them somewhere safe: each signs you in once if you lose your device. They are not shown again."</p>
                <ul class="recovery-codes" aria-label="Recovery codes">
                    {c.codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
                </ul>
                <button type="button" on:click=move |_| on_saved()>"I have kept my recovery codes"</button>
            }
        })
    }
}

/// "Turn on": a new key (QR code and text), confirmed by a code from it.
#[component]
fn TurnOn(on_done: impl Fn(RecoveryCodes) + Send + Sync + Copy + 'static) -> impl IntoView {
    let setup = RwSignal::new(None::<TwoFactorSetup>);
    let start_errors = RwSignal::new(None);
    // No input to check: the key is asked for directly.
    let start = move |_| {
        leptos::task::spawn_local(async move {
            match start_two_factor().await {
                Ok(s) => setup.set(Some(s)),
                Err(e) => start_errors.set(Some(e)),
            }
        });
    };
    let code = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = Submission::new(enable_two_factor, on_done);
    let errors = confirm.errors;
    let submit = confirm
        .on_submit(move || EnableTwoFactorInput { code: code.get_untracked(), password: password.get_untracked() });
    view! {
        <Show when=move || setup.get().is_some() fallback=move || view! {
            <button type="button" class="primary-inline" on:click=start>"Turn on"</button>
            <FormAlert errors=start_errors />
        }>
            <p>"Scan this code with your authenticator app, or type the key, then enter the code the app shows."</p>
            // The SVG is made by the server from the key's address (no user text in it).
            <div class="qr" inner_html=move || setup.get().map(|s| s.qr_svg).unwrap_or_default()></div>
            <p>"Key: " <code data-testid="two-factor-key">{move || setup.get().map(|s| s.secret).unwrap_or_default()}</code></p>
            <form on:submit=submit novalidate>
                <TextField label="Authentication code" name="code" autocomplete="one-time-code" value=code errors />
                <TextField label="Your password" name="password" kind="password" autocomplete="current-password" value=password errors />
                <FormEnd form=confirm.state() label="Turn on" />
            </form>
        </Show>
    }
}

/// "Turn off", confirmed by a current code (or a recovery code).
#[component]
fn TurnOff(on_done: impl Fn() + Send + Sync + Copy + 'static) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let form = Submission::new(disable_two_factor, move |()| on_done());
    let errors = form.errors;
    let submit = form.on_submit(move || TwoFactorCodeInput { code: code.get_untracked() });
    view! {
        <form on:submit=submit novalidate>
            <TextField label="Authentication code" name="code" autocomplete="one-time-code" value=code errors />
            <FormEnd form=form.state() label="Turn off" class="danger" />
        </form>
    }
}
