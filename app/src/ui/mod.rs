//! The single-page app: routes, the session every page reads, and the readiness signal for test suites.

// Leptos components take their props by value, and a page's view reads best as one function.
#![allow(clippy::needless_pass_by_value)]

mod account;
mod address;
mod audit;
mod auth;
mod data_safety;
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

/// After a sign-in, a sign-up or an accepted invitation: the session is read again and the app
/// starts over at its start page, in the team the session now belongs to.
pub fn start_over_signed_in<Answer>() -> impl Fn(Answer) + 'static {
    let session = expect_context::<SessionState>();
    let navigate = leptos_router::hooks::use_navigate();
    move |_| {
        session.me.refetch();
        navigate("/", leptos_router::NavigateOptions::default());
    }
}

/// Becomes true once `errors` says the password was right and the account's second factor is asked.
pub fn second_factor_asked(errors: RwSignal<Option<AppError>>) -> RwSignal<bool> {
    let asked = RwSignal::new(false);
    Effect::new(move || {
        if errors.get().is_some_and(|e| e.code == crate::error::ErrorCode::SecondFactorRequired) {
            asked.set(true);
        }
    });
    asked
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
                    <Route path=path!("/backups") view=data_safety::DataSafetyPage />
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
