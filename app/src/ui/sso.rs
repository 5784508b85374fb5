//! Single sign-on in the app: the OWNER's settings (on the members page) and a team's button on the
//! sign-in page (`/signin?team=<id>`). The round trip itself is the server's (`/sso/...`).

use leptos::prelude::*;

use super::form::{load, Submission, TextField};
use crate::{
    api::{configure_sso, sso_settings, sso_sign_in_option},
    error::AppError,
    model::{ConfigureSsoInput, Role, SsoConfiguration, SsoTeamInput, TeamId},
};

/// The team's identity provider: issuer, client, the domains it claims, the role of newcomers, and
/// whether members must use it (OWNER).
#[component]
pub fn SsoSettings() -> impl IntoView {
    let errors = RwSignal::new(None::<AppError>);
    let saved = RwSignal::new(None::<Option<SsoConfiguration>>);
    let (issuer, display_name, client_id, client_secret, domains) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
    );
    let (role, required, enabled) = (RwSignal::new(Role::Normal), RwSignal::new(false), RwSignal::new(true));
    let fill = move |current: &Option<SsoConfiguration>| {
        if let Some(c) = current {
            issuer.set(c.issuer.clone());
            display_name.set(c.display_name.clone());
            client_id.set(c.client_id.clone());
            domains.set(c.domains.iter().map(|d| d.domain.clone()).collect::<Vec<_>>().join(", "));
            role.set(c.new_member_role);
            required.set(c.required);
            enabled.set(c.enabled);
        }
        client_secret.set(String::new());
    };
    Effect::new(move || {
        if let Some(current) = saved.get() {
            fill(&current);
        }
    });
    load(saved, errors, sso_settings());
    let save = Submission::reporting_to(errors, configure_sso, move |c: SsoConfiguration| saved.set(Some(Some(c))));
    let submit = save.on_submit(move || ConfigureSsoInput {
        issuer: issuer.get_untracked(),
        display_name: display_name.get_untracked(),
        client_id: client_id.get_untracked(),
        client_secret: client_secret.get_untracked(),
        domains: domains.get_untracked().split([',', ' ']).filter(|d| !d.is_empty()).map(str::to_owned).collect(),
        new_member_role: role.get_untracked(),
        required: required.get_untracked(),
        enabled: enabled.get_untracked(),
    });
    let status = move || {
        saved.get().flatten().map(|c| {
            let proofs: Vec<String> = c
                .domains
                .iter()
                .map(|d| format!("{} ({})", d.domain, if d.proven { "proven" } else { "not proven yet" }))
                .collect();
            view! {
                <p class="hint">"Register this redirect URI at the provider: " <code>{c.redirect_uri}</code></p>
                <p class="hint">"Your team's sign-in page: " <a href=c.sign_in_url.clone() rel="external">{c.sign_in_url.clone()}</a></p>
                <p class="hint">"Domains: " {if proofs.is_empty() { "none".to_owned() } else { proofs.join(", ") }}</p>
            }
        })
    };
    view! {
        <section class="card" aria-labelledby="sso-heading">
            <h2 id="sso-heading">"Single sign-on"</h2>
            <p class="hint">"People sign in with your OpenID Connect provider. An operator proves each email domain (moth sso prove-domain); only then can a verified email of it link an existing account, once its owner confirms with their password."</p>
            {status}
            <form on:submit=submit novalidate>
                <TextField label="Issuer" name="issuer" id="sso-issuer" value=issuer errors placeholder="https://login.example.com" />
                <TextField label="Button name" name="display_name" id="sso-display-name" value=display_name errors />
                <TextField label="Client id" name="client_id" id="sso-client-id" value=client_id errors />
                <TextField label="Client secret" name="client_secret" id="sso-client-secret" kind="password" value=client_secret errors placeholder="unchanged if empty" />
                <TextField label="Domains the team owns" name="domains" id="sso-domains" value=domains errors placeholder="example.com, example.org" />
                <div class="field">
                    <label for="sso-role">"Role of newcomers"</label>
                    <select id="sso-role" on:change=move |ev| role.set(if event_target_value(&ev) == "GUEST" { Role::Guest } else { Role::Normal })>
                        <option value="NORMAL" selected=move || role.get() == Role::Normal>"Normal"</option>
                        <option value="GUEST" selected=move || role.get() == Role::Guest>"Guest"</option>
                    </select>
                </div>
                <label class="check"><input type="checkbox" prop:checked=move || enabled.get() on:change=move |ev| enabled.set(event_target_checked(&ev)) />"On"</label>
                <label class="check"><input type="checkbox" prop:checked=move || required.get() on:change=move |ev| required.set(event_target_checked(&ev)) />"Required for members (the owner keeps a password with two-factor authentication)"</label>
                <div class="alert" role="alert">{move || errors.get().map(|e| e.message)}</div>
                <button type="submit" class="primary" disabled=move || save.pending()>"Save single sign-on"</button>
            </form>
        </section>
    }
}

/// "Sign in with <provider>" for the team of `/signin?team=<id>`, if it has one.
#[component]
pub fn SsoButton(team_id: TeamId) -> impl IntoView {
    let option = LocalResource::new(move || sso_sign_in_option(SsoTeamInput { team_id }));
    move || {
        option.get().and_then(Result::ok).flatten().map(|o| {
            view! {
                <p><a class="button primary" href=o.start_url rel="external">{format!("Sign in with {}", o.display_name)}</a></p>
            }
        })
    }
}
