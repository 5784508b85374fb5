//! The frame of every signed-in page: the top bar (team, role, team switcher, navigation, "Sign out")
//! around the page, which is only rendered once the session is known.

use leptos::prelude::*;
use leptos_router::{
    components::{Redirect, A},
    hooks::use_navigate,
    NavigateOptions,
};

use super::{
    form::{CommitSelect, Submission},
    set_ready, SessionState,
};
use crate::{
    api::{my_teams, sign_out, switch_team},
    error::AppError,
    model::{Me, Role, SwitchTeamInput, TeamId},
};

/// Renders `page` with the signed-in user, or sends visitors to the sign-in page.
fn on_account_page() -> bool {
    leptos_router::hooks::use_location().pathname.get_untracked() == "/account"
}

#[component]
pub fn SignedIn<F, V>(page: F) -> impl IntoView
where
    F: Fn(Me) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    on_cleanup(|| set_ready(false));
    let session = expect_context::<SessionState>();
    let page = StoredValue::new(page);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.me.await {
                    // The team requires a second factor this user has not set up: only the account page.
                    Ok(Some(me)) if me.two_factor_setup_required && !on_account_page() => {
                        view! { <Redirect path="/account" /> }.into_any()
                    }
                    Ok(Some(me)) => {
                        let required = me.two_factor_setup_required;
                        let content = NodeRef::<leptos::html::Div>::new();
                        Effect::new(move || {
                            if let Some(div) = content.get() {
                                // About five seconds at 60 frames a second.
                                super::claim_focus_after_navigation(div.into(), 300);
                            }
                        });
                        view! {
                            <TopBar me=me.clone() />
                            <Show when=move || required>
                                <p class="alert" role="alert">"Your team requires two-factor authentication: turn it on below to continue."</p>
                            </Show>
                            <div id="content" tabindex="-1" node_ref=content>{page.read_value()(me)}</div>
                        }
                            .into_any()
                    }
                    Ok(None) => view! { <Redirect path="/signin" /> }.into_any(),
                    Err(e) => {
                        Effect::new(|| set_ready(true));
                        view! { <div class="alert" role="alert">{e.message}</div> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn TopBar(me: Me) -> impl IntoView {
    let session = expect_context::<SessionState>();
    let navigate = use_navigate();
    let teams = LocalResource::new(my_teams);
    let errors = RwSignal::new(None::<AppError>);

    let switch = Submission::reporting_to(errors, switch_team, move |_| session.me.refetch());

    let leave = Action::new_local(|(): &()| sign_out());
    Effect::new(move || match leave.value().get() {
        Some(Ok(())) => {
            session.me.refetch();
            navigate("/signin", NavigateOptions::default());
        }
        Some(Err(e)) => errors.set(Some(e)),
        None => {}
    });

    let active = me.team.id;
    let team_options = move || {
        teams.get().map(|r| match r {
            Ok(list) => list
                .into_iter()
                .map(|t| {
                    let value = t.id.to_string();
                    view! { <option value=value selected=t.id == active>{t.name}</option> }
                })
                .collect_view()
                .into_any(),
            Err(e) => view! { <option disabled=true>{e.message}</option> }.into_any(),
        })
    };
    let role = me.team.role;

    view! {
        <header class="topbar">
            // The first stop of the Tab key: past the navigation to the page itself.
            <a class="skip-link" href="#content" on:click=|ev| {
                ev.prevent_default();
                super::focus_content();
            }>"Skip to content"</a>
            <A href="/" attr:class="brand">"Moth"</A>
            <nav class="nav" aria-label="Main">
                <A href="/projects">"Projects"</A>
                <Show when=move || role != Role::Guest>
                    <A href="/members">"Members"</A>
                </Show>
                <Show when=move || matches!(role, Role::Owner | Role::Admin)>
                    <A href="/audit">"Audit log"</A>
                    <A href="/quarantine">"Quarantine"</A>
                </Show>
                <Show when=move || role == Role::Owner>
                    <A href="/backups">"Backups"</A>
                </Show>
                <A href="/account">"Account"</A>
                <super::notifications::InboxLink />
            </nav>
            <span class="team" data-testid="team-name">{me.team.name.clone()}</span>
            <span class="role" data-testid="role">{role.label()}</span>
            <label class="switcher">
                "Team"
                <CommitSelect on_choose=move |value: String| {
                    if let Ok(team_id) = value.parse::<TeamId>() {
                        switch.submit(SwitchTeamInput { team_id });
                    }
                }>{team_options}</CommitSelect>
            </label>
            <button type="button" aria-keyshortcuts="Control+K" on:click=|_| {
                super::palette::open_palette();
            }>"Jump to…"</button>
            <super::palette::Palette />
            <span class="user">{me.user.display_name.clone()}</span>
            <super::theme::ThemeToggle />
            <button type="button" on:click=move |_| { leave.dispatch(()); }>"Sign out"</button>
        </header>
        <div class="alert" role="alert">{move || errors.get().map(|e| e.message)}</div>
    }
}
