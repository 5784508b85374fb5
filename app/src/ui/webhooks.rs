//! A project's webhooks on its settings page (OWNER and ADMIN): add one (address, events, internal
//! content or not) and copy its secret, shown once; for each hook, its last deliveries with
//! "Redeliver", "Send test event" and "Delete". The server decides again on every call.

use leptos::prelude::*;

use super::{
    confirm::ConfirmButton,
    form::{load, FieldError, FormAlert, FormEnd, ShownOnce, Submission, TextField},
    time::Moment,
};
use crate::{
    api::{
        create_webhook, delete_webhook, list_webhook_deliveries, list_webhooks, redeliver_webhook, send_test_webhook,
    },
    error::AppError,
    model::{
        CreatedWebhook, NewWebhookInput, ProjectId, ProjectWebhooksInput, RedeliverInput, Webhook, WebhookDelivery,
        WebhookEvent, WebhookIdInput,
    },
};

#[component]
pub fn ProjectWebhooks(project_id: ProjectId) -> impl IntoView {
    let listed = RwSignal::new(None::<Vec<Webhook>>);
    let errors = RwSignal::new(None::<AppError>);
    let reload = Callback::new(move |()| load(listed, errors, list_webhooks(ProjectWebhooksInput { project_id })));
    reload.run(());
    view! {
        <section aria-labelledby="hooks-heading">
            <h2 id="hooks-heading">"Webhooks"</h2>
            <p>"Moth sends each event a hook names to its address, signed with the hook's secret. A hook \
                receives only what a guest of the project could read, unless it may receive internal content."</p>
            <NewWebhook project_id on_made=reload />
            <FormAlert errors />
            {move || listed.get().map(|hooks| if hooks.is_empty() {
                view! { <p class="muted">"No webhooks yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="hooks">
                        {hooks.into_iter().map(|hook| view! { <li><HookItem hook errors on_changed=reload /></li> }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </section>
    }
}

/// The form that adds a hook, and the new hook's secret, shown once.
#[component]
fn NewWebhook(project_id: ProjectId, on_made: Callback<()>) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let events = RwSignal::new(vec![WebhookEvent::IssueCreated, WebhookEvent::IssueStatusChanged]);
    let internal = RwSignal::new(false);
    let created = RwSignal::new(None::<CreatedWebhook>);
    let form = Submission::new(create_webhook, move |made: CreatedWebhook| {
        created.set(Some(made));
        url.set(String::new());
        on_made.run(());
    });
    let errors = form.errors;
    let submit = form.on_submit(move || NewWebhookInput {
        project_id,
        url: url.get_untracked(),
        events: events.get_untracked(),
        internal: internal.get_untracked(),
    });
    view! {
        <form on:submit=submit novalidate>
            <TextField label="Address" name="url" value=url errors placeholder="https://chat.example/hooks/moth" />
            <fieldset aria-describedby="events-error">
                <legend>"Events"</legend>
                {WebhookEvent::ALL.into_iter().map(|event| view! {
                    <label class="check">
                        <input type="checkbox" name="events" value=event.as_str()
                            prop:checked=move || events.with(|e| e.contains(&event))
                            on:change=move |ev| events.update(|e| {
                                e.retain(|x| *x != event);
                                if event_target_checked(&ev) { e.push(event); }
                            }) />
                        {event.as_str()}
                    </label>
                }).collect_view()}
                <FieldError errors name="events" id="events-error".to_owned() />
            </fieldset>
            <label class="check">
                <input type="checkbox" prop:checked=move || internal.get()
                    on:change=move |ev| internal.set(event_target_checked(&ev)) />
                "May receive internal issues and comments"
            </label>
            <FormEnd form=form.state() label="Add webhook" />
        </form>
        <ShownOnce id="hook-secret" copy="Copy secret" made=Signal::derive(move || {
            created.get().map(|made| (format!("The signing secret of {}", made.webhook.url), made.secret))
        }) />
    }
}

/// One hook: what it hears, why it is paused if it is, its buttons, and its deliveries behind a
/// disclosure button.
#[component]
fn HookItem(hook: Webhook, errors: RwSignal<Option<AppError>>, on_changed: Callback<()>) -> impl IntoView {
    let id = hook.id;
    let deliveries = RwSignal::new(None::<Vec<WebhookDelivery>>);
    let open = RwSignal::new(false);
    let refresh = Callback::new(move |()| {
        if open.get_untracked() {
            load(deliveries, errors, list_webhook_deliveries(WebhookIdInput { webhook_id: id }));
        }
    });
    let test = Submission::reporting_to(errors, send_test_webhook, move |()| refresh.run(()));
    let delete = Submission::reporting_to(errors, delete_webhook, move |()| on_changed.run(()));
    let events = hook.events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ");
    let audience = if hook.internal { "internal content too" } else { "what a guest could read" };
    view! {
        <p><strong>{hook.url.clone()}</strong><br />
            <span class="muted">{format!("{events}; {audience}")}</span></p>
        {hook.paused_reason.map(|reason| view! { <p class="alert">{format!("Paused. {reason}")}</p> })}
        <button type="button" on:click=move |_| test.submit(WebhookIdInput { webhook_id: id })>"Send test event"</button>
        " "
        <ConfirmButton label="Delete" name=format!("Delete the webhook to {}", hook.url)
            question=format!("Delete the webhook to {}? Its deliveries go with it.", hook.url)
            confirm="Delete webhook" on_confirm=move |()| delete.submit(WebhookIdInput { webhook_id: id }) />
        " "
        <button type="button" aria-expanded=move || open.get().to_string() on:click=move |_| {
            open.update(|o| *o = !*o);
            refresh.run(());
        }>"Deliveries"</button>
        <Show when=move || open.get()>
            <Deliveries id deliveries errors refresh />
        </Show>
    }
}

/// A hook's last deliveries, newest first, each with "Redeliver".
#[component]
fn Deliveries(
    id: crate::model::WebhookId,
    deliveries: RwSignal<Option<Vec<WebhookDelivery>>>,
    errors: RwSignal<Option<AppError>>,
    refresh: Callback<()>,
) -> impl IntoView {
    let redeliver = Submission::reporting_to(errors, redeliver_webhook, move |()| refresh.run(()));
    let row = move |d: WebhookDelivery| {
        let outcome = match (d.delivered_at, d.status_code, &d.last_error) {
            (Some(_), Some(code), _) => format!("received ({code})"),
            (_, _, Some(error)) => error.clone(),
            _ => "waiting".to_owned(),
        };
        let message_id = d.message_id.clone();
        view! {
            <tr>
                <td>{d.event}</td>
                <td><Moment ms=d.created_at /></td>
                <td>{outcome}</td>
                <td>{d.latency_ms.map(|ms| format!("{ms} ms"))}</td>
                <td>{d.attempts}</td>
                <td><button type="button" on:click=move |_| redeliver.submit(RedeliverInput {
                    webhook_id: id, message_id: message_id.clone() })>"Redeliver"</button></td>
            </tr>
        }
    };
    view! {
        <p><button type="button" on:click=move |_| refresh.run(())>"Refresh deliveries"</button></p>
        {move || deliveries.get().map(|list| if list.is_empty() {
            view! { <p class="muted">"Nothing sent yet."</p> }.into_any()
        } else {
            view! {
                <table aria-label="Deliveries">
                    <thead><tr><th>"Event"</th><th>"When"</th><th>"Outcome"</th><th>"Took"</th><th>"Attempts"</th>
                        <th><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>{list.into_iter().map(row).collect_view()}</tbody>
                </table>
            }.into_any()
        })}
    }
}
