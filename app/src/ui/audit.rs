//! The audit log page (owners and admins): the team's security events, newest first.

use leptos::prelude::*;

use super::{layout::SignedIn, set_ready, time};
use crate::api::audit_log;

#[component]
pub fn AuditPage() -> impl IntoView {
    view! { <SignedIn page=|_| view! { <AuditLog /> } /> }
}

#[component]
fn AuditLog() -> impl IntoView {
    let entries = LocalResource::new(audit_log);
    Effect::new(move || set_ready(entries.get().is_some()));
    view! {
        <section class="card">
            <h1>"Audit log"</h1>
            <table class="list">
                <thead>
                    <tr><th>"Time (UTC)"</th><th>"Event"</th><th>"Outcome"</th><th>"Actor"</th><th>"Detail"</th><th>"Source"</th></tr>
                </thead>
                <tbody>
                    {move || entries.get().map(|r| match r {
                        Ok(list) => list.into_iter().map(|e| view! {
                            <tr>
                                <td>{time::date_time(e.at)}</td>
                                <td>{e.event}</td>
                                <td>{e.outcome}</td>
                                <td>{e.actor.unwrap_or_default()}</td>
                                <td>{e.detail}</td>
                                <td>{e.source_ip.unwrap_or_default()}</td>
                            </tr>
                        }).collect_view().into_any(),
                        Err(e) => view! { <tr><td colspan="6" class="alert" role="alert">{e.message}</td></tr> }.into_any(),
                    })}
                </tbody>
            </table>
        </section>
    }
}
