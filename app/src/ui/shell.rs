//! The start page of a signed-in user: their open work across every project they read, and the
//! projects where something changed last (`my_work`).

use leptos::prelude::*;
use leptos_router::components::A;

use super::{issues::IssueTable, layout::SignedIn, set_ready};
use crate::{
    api::my_work,
    model::{Me, Role},
};

#[component]
pub fn Home() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <Welcome me /> } /> }
}

#[component]
fn Welcome(me: Me) -> impl IntoView {
    let work = LocalResource::new(my_work);
    let manager = matches!(me.team.role, Role::Owner | Role::Admin);
    Effect::new(move || set_ready(work.get().is_some()));
    let lists = move || {
        work.get().map(|answer| match answer {
            Ok(work) => {
                let projects = if work.recent_projects.is_empty() {
                    let next = if manager {
                        "No projects yet: create the first under “Projects”."
                    } else {
                        "You are not in any project yet: an owner or admin adds you to one."
                    };
                    view! { <p class="muted">{next}</p> }.into_any()
                } else {
                    let links = work.recent_projects.into_iter().map(|p| {
                        view! { <li><A href=format!("/projects/{}", p.key)>{format!("{} · {}", p.key, p.name)}</A></li> }
                    });
                    view! { <ul class="recent">{links.collect_view()}</ul> }.into_any()
                };
                view! {
                    <section class="card">
                        <h2>"Assigned to you"</h2>
                        <IssueTable issues=work.assigned empty="Nothing open is assigned to you." />
                    </section>
                    <section class="card">
                        <h2>"Reported by you"</h2>
                        <IssueTable issues=work.reported empty="You have no open reports." />
                    </section>
                    <section class="card">
                        <h2>"Recent projects"</h2>
                        {projects}
                    </section>
                }
                .into_any()
            }
            Err(e) => view! { <div class="alert" role="alert">{e.message}</div> }.into_any(),
        })
    };
    view! {
        <section class="card">
            <h1>{format!("Welcome, {}", me.user.display_name)}</h1>
            <p>
                "You are signed in to " <strong>{me.team.name}</strong> " as " <strong>{me.team.role.label()}</strong>
                ". Ctrl+K (⌘K) jumps to a project or an issue."
            </p>
        </section>
        {lists}
    }
}
