//! The signed-in shell: the active team, the user's role, a team switcher and "Sign out".

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_navigate, NavigateOptions};

use super::{set_ready, SessionState};
use crate::{
    api::{my_teams, sign_out, switch_team},
    error::AppError,
    model::{Me, SwitchTeamInput, TeamId},
};

#[component]
pub fn Home() -> impl IntoView {
    on_cleanup(|| set_ready(false));
    let session = expect_context::<SessionState>();
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match session.me.await {
                    Ok(Some(me)) => view! { <Shell me /> }.into_any(),
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
fn Shell(me: Me) -> impl IntoView {
    let session = expect_context::<SessionState>();
    let navigate = use_navigate();
    let teams = LocalResource::new(my_teams);
    let errors = RwSignal::new(None::<AppError>);

    Effect::new(move || set_ready(teams.get().is_some()));

    let switch = Action::new_local(|team_id: &TeamId| switch_team(SwitchTeamInput { team_id: *team_id }));
    Effect::new(move || match switch.value().get() {
        Some(Ok(_)) => session.me.refetch(),
        Some(Err(e)) => errors.set(Some(e)),
        None => {}
    });

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

    view! {
        <header class="topbar">
            <span class="brand">"Moth"</span>
            <span class="team" data-testid="team-name">{me.team.name.clone()}</span>
            <span class="role" data-testid="role">{me.team.role.label()}</span>
            <label class="switcher">
                "Team"
                <select on:change=move |ev| {
                    if let Ok(id) = event_target_value(&ev).parse::<TeamId>() {
                        switch.dispatch(id);
                    }
                }>{team_options}</select>
            </label>
            <span class="user">{me.user.display_name.clone()}</span>
            <button type="button" on:click=move |_| { leave.dispatch(()); }>"Sign out"</button>
        </header>
        <section class="card">
            <h1>{format!("Welcome, {}", me.user.display_name)}</h1>
            <p>
                "You are signed in to " <strong>{me.team.name}</strong> " as "
                <strong>{me.team.role.label()}</strong> "."
            </p>
            <div class="alert" role="alert">{move || errors.get().map(|e| e.message)}</div>
        </section>
    }
}
