//! The audit log page (owners and admins): the team's security events, newest first, a page at a
//! time, filtered by kind, by who acted and by dates (UTC); and exports of what the filters select,
//! as CSV or JSON, with each entry's place in the team's chain.

use leptos::prelude::*;

use super::{layout::SignedIn, set_ready, time};
use crate::{
    api::{audit_log, list_members},
    model::{AuditEntry, AuditEvent, AuditQuery},
};

#[component]
pub fn AuditPage() -> impl IntoView {
    view! { <SignedIn page=|_| view! { <AuditLog /> } /> }
}

/// The filters as typed: a kind, a member's id, and two `YYYY-MM-DD` dates (the second included).
#[derive(Clone, Copy)]
struct Filters {
    event: RwSignal<String>,
    actor: RwSignal<String>,
    from: RwSignal<String>,
    to: RwSignal<String>,
}

impl Filters {
    fn query(&self) -> AuditQuery {
        let day = |text: String| time::start_of_date(&text);
        AuditQuery {
            event: Some(self.event.get_untracked()).filter(|e| !e.is_empty()),
            actor_id: self.actor.get_untracked().parse().ok(),
            from: day(self.from.get_untracked()),
            to: day(self.to.get_untracked()).map(|start| start + 86_400_000),
            ..AuditQuery::default()
        }
    }
}

/// The export address of what `query` selects.
fn export_href(query: &AuditQuery, format: &str) -> String {
    let mut pairs = Vec::new();
    if let Some(event) = &query.event {
        pairs.push(format!("event={event}"));
    }
    if let Some(actor) = query.actor_id {
        pairs.push(format!("actor={actor}"));
    }
    if let Some(from) = query.from {
        pairs.push(format!("from={from}"));
    }
    if let Some(to) = query.to {
        pairs.push(format!("to={to}"));
    }
    format!("/export/audit.{format}?{}", pairs.join("&"))
}

#[component]
fn AuditLog() -> impl IntoView {
    let filters = Filters {
        event: RwSignal::new(String::new()),
        actor: RwSignal::new(String::new()),
        from: RwSignal::new(String::new()),
        to: RwSignal::new(String::new()),
    };
    let query = RwSignal::new(AuditQuery::default());
    let page = LocalResource::new(move || audit_log(query.get()));
    let shown = RwSignal::new(Vec::<AuditEntry>::new());
    let next = RwSignal::new(None::<(i64, String)>);
    Effect::new(move || {
        let Some(Ok(loaded)) = page.get() else { return };
        if query.with_untracked(|q| q.before_at.is_none()) {
            shown.set(loaded.entries);
        } else {
            shown.update(|s| s.extend(loaded.entries));
        }
        next.set(loaded.next);
    });
    Effect::new(move || set_ready(page.get().is_some()));
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        query.set(filters.query());
    };
    let older = move |_| {
        if let Some((at, id)) = next.get_untracked() {
            query.update(|q| {
                q.before_at = Some(at);
                q.before_id = Some(id);
            });
        }
    };
    view! {
        <section class="card">
            <h1>"Audit log"</h1>
            <AuditFilters filters apply />
            <p class="actions-row">
                <a href=move || query.with(|q| export_href(&AuditQuery { before_at: None, before_id: None, ..q.clone() }, "csv")) download>"Export CSV"</a>
                " "
                <a href=move || query.with(|q| export_href(&AuditQuery { before_at: None, before_id: None, ..q.clone() }, "json")) download>"Export JSON"</a>
            </p>
            <div class="alert" role="alert">{move || page.get().and_then(Result::err).map(|e| e.message)}</div>
            <AuditTable shown />
            <Show when=move || next.get().is_some()>
                <button type="button" on:click=older>"Older entries"</button>
            </Show>
        </section>
    }
}

#[component]
fn AuditFilters(filters: Filters, apply: impl Fn(leptos::ev::SubmitEvent) + 'static) -> impl IntoView {
    let members = LocalResource::new(list_members);
    view! {
        <form class="filters" on:submit=apply>
            <label>"Event "
                <select on:change=move |ev| filters.event.set(event_target_value(&ev))>
                    <option value="">"All events"</option>
                    {AuditEvent::ALL.iter().map(|e| view! { <option value=e.as_str()>{e.label()}</option> }).collect_view()}
                </select>
            </label>
            " "
            <label>"Actor "
                <select on:change=move |ev| filters.actor.set(event_target_value(&ev))>
                    <option value="">"Anyone"</option>
                    {move || members.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|m| view! {
                        <option value=m.user_id.to_string()>{format!("{} <{}>", m.display_name, m.email)}</option>
                    }).collect_view()}
                </select>
            </label>
            " "
            <label>"From "<input type="date" on:change=move |ev| filters.from.set(event_target_value(&ev)) /></label>
            " "
            <label>"To "<input type="date" on:change=move |ev| filters.to.set(event_target_value(&ev)) /></label>
            " "
            <button type="submit">"Filter"</button>
        </form>
    }
}

#[component]
fn AuditTable(shown: RwSignal<Vec<AuditEntry>>) -> impl IntoView {
    view! {
        <table class="list">
            <thead>
                <tr><th>"Time (UTC)"</th><th>"Event"</th><th>"Outcome"</th><th>"Actor"</th><th>"Detail"</th><th>"Source"</th></tr>
            </thead>
            <tbody>
                {move || shown.get().into_iter().map(|e| view! {
                    <tr>
                        <td>{time::date_time(e.at)}</td>
                        <td>{AuditEvent::parse(&e.event).map_or(e.event, AuditEvent::label)}</td>
                        <td>{e.outcome}</td>
                        <td>{e.actor.unwrap_or_default()}</td>
                        <td>{e.detail}</td>
                        <td>{e.source_ip.unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
