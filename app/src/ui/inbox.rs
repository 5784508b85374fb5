//! The inbox page (`/notifications`): the signed-in person's entries, newest first, each naming the
//! issue (a link, which marks the entry read), who did what, when and why they heard; mark read, mark
//! all read, older pages. It reads the list again whenever the tab's live connection tells a new
//! unread count.

use leptos::prelude::*;
use leptos_router::components::A;

use super::{
    form::{load, FormAlert, Submission},
    layout::SignedIn,
    notifications::Live,
    set_ready,
    time::Moment,
};
use crate::{
    api::{list_notifications, mark_notifications_read},
    error::AppError,
    model::{ActivityKind, Inbox, InboxInput, MarkReadInput, Notification, NotificationReason},
};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    view! { <SignedIn page=|_| view! { <InboxView /> } /> }
}

#[component]
fn InboxView() -> impl IntoView {
    let live = expect_context::<Live>();
    let listed = RwSignal::new(None::<Inbox>);
    let errors = RwSignal::new(None::<AppError>);
    // Read again whenever the count the server tells changes: a new entry, or entries read elsewhere.
    Effect::new(move || {
        live.unread.track();
        load(listed, errors, list_notifications(InboxInput::default()));
    });
    Effect::new(move || set_ready(listed.with(Option::is_some)));
    let mark = Submission::reporting_to(errors, mark_notifications_read, move |inbox: Inbox| {
        live.unread.set(Some(inbox.unread));
        listed.set(Some(inbox));
    });
    // The next page is added below the entries shown.
    let older = move |_| {
        let before = listed.with_untracked(|l| l.as_ref().and_then(|l| l.next_before));
        leptos::task::spawn_local(async move {
            match list_notifications(InboxInput { before, unread_only: false }).await {
                Ok(page) => listed.update(|l| {
                    if let Some(l) = l {
                        l.entries.extend(page.entries);
                        l.next_before = page.next_before;
                    }
                }),
                Err(e) => errors.set(Some(e)),
            }
        });
    };
    let entries = move || {
        listed.get().map(|inbox| {
            if inbox.entries.is_empty() {
                return view! { <p class="muted">"Nothing yet. Activity on the issues you watch appears here."</p> }
                    .into_any();
            }
            let rows = inbox.entries.into_iter().map(|entry| entry_view(entry, mark, live)).collect_view();
            view! { <ul class="inbox" data-testid="inbox">{rows}</ul> }.into_any()
        })
    };
    let unread = move || listed.with(|l| l.as_ref().map_or(0, |l| l.unread));
    view! {
        <section class="card" aria-labelledby="inbox-heading">
            <h1 id="inbox-heading">"Notifications"</h1>
            <p class="actions-row">
                <span role="status">{move || format!("{} unread", unread())}</span>
                <button type="button" disabled=move || unread() == 0
                    on:click=move |_| mark.submit(MarkReadInput { ids: Vec::new(), all: true })>"Mark all read"</button>
            </p>
            <FormAlert errors />
            {entries}
            <button type="button" hidden=move || listed.with(|l| l.as_ref().is_none_or(|l| l.next_before.is_none()))
                on:click=older>"Show older"</button>
        </section>
    }
}

/// One entry: the issue by key and title (a link), who did what, when, and why the reader heard.
fn entry_view(entry: Notification, mark: Submission<MarkReadInput, Inbox>, live: Live) -> impl IntoView {
    let (key, number) = entry.issue_key.rsplit_once('-').unwrap_or((entry.issue_key.as_str(), ""));
    let href = format!("/projects/{key}/issues/{number}");
    let what = match entry.kind {
        ActivityKind::Created => "created it".to_owned(),
        ActivityKind::Commented => "commented".to_owned(),
        ActivityKind::Changed if entry.fields.is_empty() => "changed it".to_owned(),
        ActivityKind::Changed => format!("changed {}", entry.fields.join(", ").replace('_', " ")),
    };
    let why = match entry.reason {
        NotificationReason::Mentioned => "mentioned you",
        NotificationReason::Assigned => "you are assigned",
        NotificationReason::Watching => "you watch it",
    };
    let id = entry.id;
    let read = entry.read;
    // Opening an unread entry marks it read; the page goes away meanwhile, so only the tab's count
    // (which outlives it) hears the answer.
    let open = move |_| {
        if !read {
            leptos::task::spawn_local(async move {
                if let Ok(inbox) = mark_notifications_read(MarkReadInput { ids: vec![id], all: false }).await {
                    live.unread.set(Some(inbox.unread));
                }
            });
        }
    };
    view! {
        <li class=if read { "read" } else { "unread" }>
            <A href=href on:click=open>{format!("{} {}", entry.issue_key, entry.issue_title)}</A>
            <span>{format!(" {} {what} · ", entry.actor)}<Moment ms=entry.created_at />{format!(" · {why}")}</span>
            {(!read).then(|| view! {
                " " <button type="button" on:click=move |_| mark.submit(MarkReadInput { ids: vec![id], all: false })>
                    "Mark read" <span class="sr-only">{format!(" {}", entry.issue_key)}</span>
                </button>
            })}
        </li>
    }
}
