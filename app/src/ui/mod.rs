//! The single-page app: routes, the session every page reads, and the readiness signal for test suites.

// Leptos components take their props by value, and a page's view reads best as one function.
#![allow(clippy::needless_pass_by_value)]

mod account;
mod address;
mod audit;
mod auth;
mod backups;
mod files;
mod form;
mod invite;
mod issues;
mod layout;
mod members;
mod projects;
mod public;
mod shell;
mod time;

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes, A},
    path,
};

use crate::{api::who_am_i, error::AppError, model::Me};

/// Who is signed in, as the server says; pages refetch it after signing in or out.
#[derive(Clone, Copy)]
pub struct SessionState {
    pub me: LocalResource<Result<Option<Me>, AppError>>,
}

/// Marks the page as loaded (`<body data-ready="true">`) or not, for people's scripts and our own
/// end-to-end suites.
pub fn set_ready(ready: bool) {
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-ready", if ready { "true" } else { "false" });
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_context(SessionState { me: LocalResource::new(who_am_i) });

    view! {
        <Router>
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=shell::Home />
                    <Route path=path!("/signin") view=auth::SignInPage />
                    <Route path=path!("/signup") view=auth::SignUpPage />
                    <Route path=path!("/members") view=members::MembersPage />
                    <Route path=path!("/audit") view=audit::AuditPage />
                    <Route path=path!("/quarantine") view=files::QuarantinePage />
                    <Route path=path!("/account") view=account::AccountPage />
                    <Route path=path!("/backups") view=backups::BackupsPage />
                    <Route path=path!("/projects") view=projects::ProjectsPage />
                    <Route path=path!("/projects/:key") view=projects::ProjectPage />
                    <Route path=path!("/projects/:key/settings") view=projects::ProjectSettingsPage />
                    <Route path=path!("/projects/:key/issues/:number") view=issues::IssuePage />
                    <Route path=path!("/p/:id") view=public::PublicProjectPage />
                    <Route path=path!("/p/:id/issues/:number") view=public::PublicIssuePage />
                    <Route path=path!("/invite/:token") view=invite::InvitePage />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    Effect::new(|| set_ready(true));
    on_cleanup(|| set_ready(false));
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <A href="/">"Go to the start page"</A>
        </section>
    }
}
