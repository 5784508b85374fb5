//! Access tokens on the account page: make one (name, scopes, days), see its secret once and copy it,
//! list and revoke them; owners and admins see and revoke the whole team's, and the owner turns tokens
//! on or off for the team. The server decides again on every call.

use leptos::prelude::*;

use super::{
    confirm::ConfirmButton,
    form::{load, FormAlert, FormEnd, ShownOnce, Submission, TextField},
    time::Moment,
};
use crate::{
    api::{create_access_token, list_access_tokens, revoke_access_token, set_token_policy},
    error::AppError,
    model::{
        AccessToken, AccessTokens, CreatedToken, NewTokenInput, Role, TokenIdInput, TokenPolicyInput, TokenScope,
        TOKEN_DEFAULT_DAYS,
    },
};

#[component]
pub fn AccessTokensSection(role: Role) -> impl IntoView {
    let listed = RwSignal::new(None::<AccessTokens>);
    let errors = RwSignal::new(None::<AppError>);
    load(listed, errors, list_access_tokens());
    let created = RwSignal::new(None::<CreatedToken>);
    let revoke = Submission::reporting_to(errors, revoke_access_token, move |list| listed.set(Some(list)));
    let policy = Submission::reporting_to(errors, set_token_policy, move |list| listed.set(Some(list)));
    let allowed = move || listed.get().is_none_or(|l| l.allowed);
    view! {
        <section class="card narrow" aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">"Access tokens"</h2>
            <p>"Scripts and CI jobs use a token with the REST API (" <code>"/api/v1"</code>
               "). A token acts as you in this team, within its scopes, until it expires or is revoked."</p>
            // Hidden rather than left out: the section's parts are built once (the bundle's budget).
            <label class="check" hidden=move || !listed.get().is_some_and(|l| l.may_change_policy)>
                <input type="checkbox" prop:checked=allowed
                    on:change=move |ev| policy.submit(TokenPolicyInput { allowed: event_target_checked(&ev) }) />
                "Allow access tokens in this team"
            </label>
            <p class="alert" hidden=allowed>"Your team has turned access tokens off."</p>
            <div hidden=move || !allowed()>
                <NewToken role created on_made=move || load(listed, errors, list_access_tokens()) />
            </div>
            <FormAlert errors />
            <TokenList listed revoke />
        </section>
    }
}

/// The form that makes a token, and the new token's secret, shown once.
#[component]
fn NewToken(role: Role, created: RwSignal<Option<CreatedToken>>, on_made: impl Fn() + Copy + 'static) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let days = RwSignal::new(TOKEN_DEFAULT_DAYS.to_string());
    let scopes = RwSignal::new(vec![TokenScope::Read]);
    let form = Submission::new(create_access_token, move |made: CreatedToken| {
        created.set(Some(made));
        name.set(String::new());
        on_made();
    });
    let errors = form.errors;
    let submit = form.on_submit(move || NewTokenInput {
        name: name.get_untracked(),
        scopes: scopes.get_untracked(),
        // Not a number: the server's rule answers on the field.
        expires_in_days: days.get_untracked().trim().parse().unwrap_or(0),
    });
    let manager = matches!(role, Role::Owner | Role::Admin);
    let scope_box = move |scope: TokenScope, label: &'static str| {
        view! {
            <label class="check">
                <input type="checkbox" name="scopes" value=scope.as_str()
                    prop:checked=move || scopes.with(|s| s.contains(&scope))
                    on:change=move |ev| scopes.update(|s| {
                        s.retain(|x| *x != scope);
                        if event_target_checked(&ev) { s.push(scope); }
                    }) />
                {label}
            </label>
        }
    };
    view! {
        <form on:submit=submit novalidate>
            <TextField label="Token name" name="name" value=name errors placeholder="CI nightly" />
            <fieldset>
                <legend>"Scopes"</legend>
                {scope_box(TokenScope::Read, "read: what you can read")}
                {scope_box(TokenScope::Write, "write: create, change and delete what you may")}
                {manager.then(|| scope_box(TokenScope::Admin, "admin: members and the audit log"))}
            </fieldset>
            <TextField label="Expires in (days, at most 365)" name="expires_in_days" kind="number" value=days errors />
            <FormEnd form=form.state() label="Create token" />
        </form>
        <ShownOnce id="token-secret" copy="Copy token" made=Signal::derive(move || {
            created.get().map(|made| (format!("Your new token \u{201c}{}\u{201d}", made.token.name), made.secret))
        }) />
    }
}

/// The tokens the signed-in user may see, each with "Revoke".
#[component]
fn TokenList(listed: RwSignal<Option<AccessTokens>>, revoke: Submission<TokenIdInput, AccessTokens>) -> impl IntoView {
    let row = move |token: AccessToken| {
        let scopes = token.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        let id = token.id;
        let used = token.last_used_at.map(|ms| {
            view! { <Moment ms /> {token.last_used_from.map(|from| format!(" from {from}"))} }
        });
        view! {
            <tr>
                <td>{token.name.clone()}</td>
                <td>{token.user.display_name}</td>
                <td>{scopes}</td>
                <td><Moment ms=token.expires_at /></td>
                <td>{used.map_or_else(|| view! { "never" }.into_any(), IntoAny::into_any)}</td>
                <td><ConfirmButton label="Revoke" name=format!("Revoke {}", token.name)
                    question=format!("Revoke \u{201c}{}\u{201d}? Scripts using it stop working at once.", token.name)
                    confirm="Revoke token"
                    on_confirm=move |()| revoke.submit(TokenIdInput { token_id: id }) /></td>
            </tr>
        }
    };
    view! {
        {move || listed.get().map(|list| if list.tokens.is_empty() {
            view! { <p class="muted">"No tokens yet."</p> }.into_any()
        } else {
            view! {
                <table aria-label="Access tokens">
                    <thead><tr><th>"Name"</th><th>"Person"</th><th>"Scopes"</th><th>"Expires"</th><th>"Last used"</th><th><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>{list.tokens.into_iter().map(row).collect_view()}</tbody>
                </table>
            }.into_any()
        })}
    }
}
