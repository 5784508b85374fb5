//! Hearing of activity: the top bar's "Notifications" link with the unread count, the "Watch" toggles
//! of issues and projects, and the account page's notification settings (the inbox page is `inbox`).
//!
//! Each tab holds one Server-Sent Events connection (`GET /live`, opened while someone is signed in).
//! Its events are hints without content (the unread count, "the issue you follow changed"); what
//! changed is read again through the server functions, with the reader's rules.

use leptos::prelude::*;
use leptos_router::components::A;

use super::{
    form::{load, FormAlert, Submission},
    SessionState,
};
use crate::{
    api::{
        issue_watching, notification_settings, project_watching, save_notification_settings, send_address_proof,
        watch_issue, watch_project,
    },
    error::AppError,
    model::{
        IssueId, IssueIdInput, NotificationLevel, NotificationPreferences, ProjectId, ProjectWatchingInput,
        WatchIssueInput, WatchProjectInput,
    },
};

/// What the tab's live connection has heard, shared by the top bar, the inbox and the issue page.
#[derive(Clone, Copy)]
pub struct Live {
    /// The unread count the server last told (`None` before it spoke).
    pub unread: RwSignal<Option<i64>>,
    /// The issue whose page is open: the connection follows its activity.
    pub following: RwSignal<Option<IssueId>>,
    /// Counts the followed issue's `issue` events.
    pub issue_changed: RwSignal<u32>,
}

impl Live {
    /// Provides the tab's `Live` and keeps its connection open while someone is signed in, following
    /// the issue whose page is open (a new connection for another issue, team or person).
    pub fn provide(session: SessionState) {
        let live =
            Live { unread: RwSignal::new(None), following: RwSignal::new(None), issue_changed: RwSignal::new(0) };
        provide_context(live);
        Effect::new(move |opened: Option<Option<_>>| {
            // Who is signed in, in which team, and which issue they follow: another connection for each.
            let who = session.me.with(|me| match me {
                Some(Ok(Some(me))) => Some((me.user.id, me.team.id)),
                _ => None,
            });
            let wanted = who.map(|who| (who, live.following.get()));
            if opened.flatten() != wanted {
                if let Some((_, issue)) = wanted {
                    connection::open(issue, live);
                } else {
                    connection::close();
                    live.unread.set(None);
                }
            }
            wanted
        });
    }

    /// The issue page follows its issue while it is open.
    pub fn follow(self, issue: Option<IssueId>) {
        if self.following.get_untracked() != issue {
            self.following.set(issue);
        }
    }
}

#[cfg(feature = "csr")]
mod connection {
    use std::cell::RefCell;

    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};
    use web_sys::{EventSource, MessageEvent};

    type Listener = Closure<dyn FnMut(MessageEvent)>;

    thread_local! {
        /// The open connection and its listeners (dropped after it is closed).
        static OPEN: RefCell<Option<(EventSource, Listener, Listener)>> = const { RefCell::new(None) };
    }

    /// Opens the tab's connection (closing any other). The browser reconnects by itself after a
    /// network error, with `Last-Event-ID`, and hears only of what it missed.
    pub fn open(issue: Option<crate::model::IssueId>, live: super::Live) {
        close();
        let address = issue.map_or_else(|| "/live".to_owned(), |issue| format!("/live?issue={issue}"));
        let Ok(source) = EventSource::new(&address) else { return };
        let inbox = Listener::new(move |event: MessageEvent| {
            if let Some(unread) = event.data().as_string().and_then(|d| d.parse().ok()) {
                live.unread.set(Some(unread));
            }
        });
        let issue = Listener::new(move |_| live.issue_changed.update(|n| *n = n.wrapping_add(1)));
        let _ = source.add_event_listener_with_callback("inbox", inbox.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("issue", issue.as_ref().unchecked_ref());
        OPEN.with(|open| *open.borrow_mut() = Some((source, inbox, issue)));
    }

    pub fn close() {
        if let Some((source, ..)) = OPEN.with(|open| open.borrow_mut().take()) {
            source.close();
        }
    }
}

#[cfg(not(feature = "csr"))]
mod connection {
    pub fn open(_: Option<crate::model::IssueId>, _: super::Live) {}
    pub fn close() {}
}

/// The top bar's link to the inbox, with the unread count (live).
#[component]
pub fn InboxLink() -> impl IntoView {
    let live = expect_context::<Live>();
    let count = move || {
        live.unread.get().filter(|n| *n > 0).map(|n| {
            view! { " " <span class="badge" data-testid="unread">{n}</span><span class="sr-only">" unread"</span> }
        })
    };
    view! { <A href="/notifications">"Notifications" {count}</A> }
}

/// A "Watch" toggle (`aria-pressed`): `watching` is `None` until the server said.
#[component]
fn WatchToggle(
    watching: RwSignal<Option<bool>>,
    errors: RwSignal<Option<AppError>>,
    on_toggle: Callback<bool>,
) -> impl IntoView {
    view! {
        <button type="button" class="watch" aria-pressed=move || watching.get().unwrap_or(false).to_string()
            disabled=move || watching.get().is_none()
            on:click=move |_| on_toggle.run(!watching.get_untracked().unwrap_or(false))>"Watch"</button>
        <FormAlert errors />
    }
}

/// Watching an issue: its activity reaches the inbox (and mail, as the settings say).
#[component]
pub fn WatchIssue(issue_id: IssueId) -> impl IntoView {
    let watching = RwSignal::new(None::<bool>);
    let errors = RwSignal::new(None::<AppError>);
    load(watching, errors, issue_watching(IssueIdInput { issue_id }));
    let toggle = Submission::reporting_to(errors, watch_issue, move |now: bool| watching.set(Some(now)));
    let on_toggle = Callback::new(move |on: bool| toggle.submit(WatchIssueInput { issue_id, watching: on }));
    view! { <WatchToggle watching errors on_toggle /> }
}

/// Watching a project (members): its new issues reach the inbox.
#[component]
pub fn WatchProject(project_id: ProjectId) -> impl IntoView {
    let watching = RwSignal::new(None::<bool>);
    let errors = RwSignal::new(None::<AppError>);
    load(watching, errors, project_watching(ProjectWatchingInput { project_id }));
    let toggle = Submission::reporting_to(errors, watch_project, move |now: bool| watching.set(Some(now)));
    let on_toggle = Callback::new(move |on: bool| toggle.submit(WatchProjectInput { project_id, watching: on }));
    view! { <WatchToggle watching errors on_toggle /> }
}

/// The account page's notification settings, saved as they are chosen.
#[component]
pub fn NotificationSettings() -> impl IntoView {
    let saved = RwSignal::new(None::<NotificationPreferences>);
    let errors = RwSignal::new(None::<AppError>);
    let status = RwSignal::new("");
    load(saved, errors, notification_settings());
    let save = Submission::reporting_to(errors, save_notification_settings, move |now| {
        saved.set(Some(now));
        status.set("Notification settings saved.");
    });
    let prove = move |_| {
        leptos::task::spawn_local(async move {
            match send_address_proof().await {
                Ok(true) => status.set("A link is on its way to your address: open it within 24 hours."),
                Ok(false) => status.set("This server sends no email."),
                Err(e) => errors.set(Some(e)),
            }
        });
    };
    let change = move |edit: &dyn Fn(&mut NotificationPreferences)| {
        if let Some(mut now) = saved.get_untracked() {
            edit(&mut now);
            save.submit(now);
        }
    };
    let level = move |value: NotificationLevel, label: &'static str| {
        view! {
            <label class="check">
                <input type="radio" name="notify-level" value=value.as_str()
                    prop:checked=move || saved.with(|s| s.as_ref().is_some_and(|s| s.level == value))
                    on:change=move |_| change(&|p: &mut NotificationPreferences| p.level = value) />
                {label}
            </label>
        }
    };
    let verified = move || saved.with(|s| s.as_ref().is_none_or(|s| s.email_verified));
    view! {
        <section class="card narrow" aria-labelledby="notify-heading">
            <h2 id="notify-heading">"Notifications"</h2>
            <fieldset disabled=move || saved.with(Option::is_none)>
                <legend>"Tell me about"</legend>
                {level(NotificationLevel::All, "All activity on the issues I watch")}
                {level(NotificationLevel::Participating, "Only mentions and assignments")}
                {level(NotificationLevel::None, "Nothing")}
            </fieldset>
            <label class="check">
                <input type="checkbox" prop:checked=move || saved.with(|s| s.as_ref().is_some_and(|s| s.email))
                    disabled=move || saved.with(Option::is_none)
                    on:change=move |ev| { let on = event_target_checked(&ev); change(&|p: &mut NotificationPreferences| p.email = on); } />
                "Also by email (a few minutes after a burst of activity, one mail per issue)"
            </label>
            <p class="muted" hidden=verified>
                "Mail goes only to an address that has been proven: yours has not. "
                <button type="button" on:click=prove>"Mail me a link to prove it"</button>
            </p>
            <p class="sr-only" role="status">{move || status.get()}</p>
            <FormAlert errors />
        </section>
    }
}
