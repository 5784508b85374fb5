//! The single-page app: routes, the session every page reads, and the readiness signal for test suites.

// Leptos components take their props by value, and a page's view reads best as one function.
#![allow(clippy::needless_pass_by_value)]

mod account;
mod address;
mod audit;
mod auth;
mod confirm;
mod data_safety;
mod files;
mod form;
mod inbox;
mod invite;
mod inviting;
mod issues;
mod layout;
mod markdown_tools;
mod members;
mod mentions;
mod notifications;
mod palette;
mod projects;
mod public;
mod shell;
mod shortcuts;
mod sso;
mod theme;
mod time;
mod tokens;
mod webhooks;

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Router, Routes, A},
    path,
};

use crate::{api::who_am_i, bundles::Bundle, error::AppError, model::Me};

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

/// Names the page in the browser's tab and history ("WEB-3 Login fails · Moth").
pub fn set_title(title: &str) {
    document().set_title(&format!("{title} · Moth"));
}

/// The title a route has before its data loads; pages that load a name refine it. Only what the
/// address itself says appears here.
fn route_title(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => "Home".to_owned(),
        ["signin"] => "Sign in".to_owned(),
        ["signup"] => "Sign up".to_owned(),
        ["members"] => "Members".to_owned(),
        ["audit"] => "Audit log".to_owned(),
        ["quarantine"] => "Quarantine".to_owned(),
        ["account"] => "Account".to_owned(),
        ["notifications"] => "Notifications".to_owned(),
        ["backups"] => "Backups".to_owned(),
        ["projects"] => "Projects".to_owned(),
        ["projects", key] => format!("{key} issues"),
        ["projects", key, "settings"] => format!("{key} settings"),
        ["projects", key, "issues", number] => format!("{key}-{number}"),
        ["p", _] => "Public project".to_owned(),
        ["p", _, "issues", number] => format!("Public issue {number}"),
        ["invite", _] => "Invitation".to_owned(),
        _ => "Page not found".to_owned(),
    }
}

/// Moves focus to the page's content (`#content`, else `<main>`), so that after a navigation a
/// keyboard or screen-reader user starts at the new page rather than on the body.
pub fn focus_content() {
    let target = document().get_element_by_id("content").or_else(|| document().query_selector("main").ok().flatten());
    if let Some(element) =
        target.and_then(|e| leptos::wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::HtmlElement>(e).ok())
    {
        let _ = element.focus();
    }
}

/// Whether focus is nowhere in particular: on the body, or on `<main>`, where a navigation puts it
/// while no page has mounted yet.
fn focus_is_lost() -> bool {
    document().active_element().is_none_or(|active| {
        active.tag_name().eq_ignore_ascii_case("main") || document().body().is_some_and(|body| active == *body)
    })
}

/// Whether the app has navigated since it loaded: from then on a page that mounts later than the
/// navigation (after its session is known) takes the focus the old page lost.
static NAVIGATED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// For content that mounts after a navigation: takes focus if it fell to the body when the old page
/// went away, and never steals it from a control. A page under `<Suspense>` is built, and may be
/// moved into place, after it first mounts (which drops focus again), so this watches a frame at a
/// time for up to `frames`, until someone focuses something else.
pub fn claim_focus_after_navigation(content: leptos::web_sys::HtmlElement, frames: u32) {
    if !NAVIGATED.load(std::sync::atomic::Ordering::Relaxed) || frames == 0 {
        return;
    }
    let on_content = document().active_element().is_some_and(|active| active == *content);
    if !on_content && !focus_is_lost() {
        return;
    }
    if !on_content && content.is_connected() {
        let _ = content.focus();
    }
    request_animation_frame(move || claim_focus_after_navigation(content, frames - 1));
}

/// Every navigation names the page and, after the first, moves focus to its content.
#[component]
fn NavigationEffects() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    Effect::new(move |previous: Option<String>| {
        let path = location.pathname.get();
        if previous.as_ref() != Some(&path) {
            set_title(&route_title(&path));
            if previous.is_some() {
                NAVIGATED.store(true, std::sync::atomic::Ordering::Relaxed);
                // Onto <main> if the old page took focus with it; a signed-in page moves it on to
                // its content when that mounts (`claim_focus_after_navigation`).
                request_animation_frame(|| {
                    if focus_is_lost() {
                        focus_content();
                    }
                });
            }
        }
        path
    });
}

/// What every route of either bundle stands in: the session every page reads, live notifications,
/// the theme; the router, focus and titles, the shortcuts.
#[component]
fn Frame(children: Children) -> impl IntoView {
    let session = SessionState { me: LocalResource::new(who_am_i) };
    provide_context(session);
    notifications::Live::provide(session);
    theme::apply_remembered();
    arrived_from_the_other_bundle();
    view! {
        <Router>
            <NavigationEffects />
            <shortcuts::Shortcuts />
            <main class="page" tabindex="-1">
                {children()}
            </main>
        </Router>
    }
}

/// The main bundle's app (see [`crate::bundles`]): the tracker.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <Frame>
            <Routes fallback=|| view! { <Elsewhere drawn_here=Bundle::Main /> }>
                // Signing in and joining a team.
                <Route path=path!("/signin") view=auth::SignInPage />
                <Route path=path!("/signup") view=auth::SignUpPage />
                <Route path=path!("/invite/:token") view=invite::InvitePage />
                // The tracker.
                <Route path=path!("/") view=shell::Home />
                <Route path=path!("/notifications") view=inbox::NotificationsPage />
                <Route path=path!("/projects") view=projects::ProjectsPage />
                <Route path=path!("/projects/:key") view=projects::ProjectPage />
                <Route path=path!("/projects/:key/issues/:number") view=issues::IssuePage />
                // Published projects, which anyone may read.
                <Route path=path!("/p/:id") view=public::PublicProjectPage />
                <Route path=path!("/p/:id/issues/:number") view=public::PublicIssuePage />
            </Routes>
        </Frame>
    }
}

/// The settings bundle's app (see [`crate::bundles`]): the team's, the account's and a project's
/// settings.
#[component]
pub fn SettingsApp() -> impl IntoView {
    view! {
        <Frame>
            <Routes fallback=|| view! { <Elsewhere drawn_here=Bundle::Settings /> }>
                // The team's.
                <Route path=path!("/members") view=members::MembersPage />
                <Route path=path!("/audit") view=audit::AuditPage />
                <Route path=path!("/quarantine") view=files::QuarantinePage />
                <Route path=path!("/backups") view=data_safety::DataSafetyPage />
                // The signed-in person's own.
                <Route path=path!("/account") view=account::AccountPage />
                // A project's (owners and admins).
                <Route path=path!("/projects/:key/settings") view=projects::ProjectSettingsPage />
            </Routes>
        </Frame>
    }
}

/// Set in the tab's session storage when a navigation crosses to the other bundle, so that the
/// page loaded there manages focus as after any navigation.
#[cfg(feature = "csr")]
const CROSSED: &str = "moth-crossed-bundles";

/// A route this bundle has no page for: the other bundle's page, which the browser loads from the
/// server (replacing the history entry the router has just made), or nothing at all.
#[component]
fn Elsewhere(drawn_here: Bundle) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let path = location.pathname.get_untracked();
    if Bundle::for_path(&path) == drawn_here {
        return view! { <NotFound /> }.into_any();
    }
    // The router has already put the new address in the history (its query included); if not, the
    // path alone.
    let browser = window().location();
    let address = match (browser.pathname(), browser.href()) {
        (Ok(shown), Ok(href)) if shown == path => href,
        _ => path,
    };
    set_ready(false);
    #[cfg(feature = "csr")]
    if let Ok(Some(storage)) = window().session_storage() {
        let _ = storage.set_item(CROSSED, "1");
    }
    let _ = window().location().replace(&address);
    ().into_any()
}

/// After crossing from the other bundle, this page takes focus when it mounts, as after any
/// navigation within a bundle.
#[cfg(feature = "csr")]
fn arrived_from_the_other_bundle() {
    let Ok(Some(storage)) = window().session_storage() else { return };
    if storage.get_item(CROSSED).ok().flatten().is_some() {
        let _ = storage.remove_item(CROSSED);
        NAVIGATED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[cfg(not(feature = "csr"))]
fn arrived_from_the_other_bundle() {}

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
