//! The safety net of every destructive button: the first click asks, only the second acts.

use leptos::{html, prelude::*};

/// A button that asks once before it destroys something. The first click shows `question` with a
/// confirming button and "Cancel"; focus moves to "Cancel", so a second Enter or a double click
/// destroys nothing, and returns to the button when the question is withdrawn. Only the confirming
/// button calls `on_confirm`.
#[component]
pub fn ConfirmButton(
    /// The button's text: "Delete issue".
    #[prop(into)]
    label: String,
    /// What the button's accessible name says beyond its text, when several stand on a page
    /// ("Remove attachment shot.png"); it starts with `label`, as WCAG 2.5.3 asks.
    #[prop(optional, into)]
    name: Option<String>,
    /// The question, naming what goes: "Delete WEB-7 for everyone? This cannot be undone."
    #[prop(into)]
    question: String,
    /// The confirming button's text: "Delete WEB-7".
    #[prop(into)]
    confirm: String,
    /// A callback rather than a generic closure, so that the component's code exists once.
    #[prop(into)]
    on_confirm: Callback<()>,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let trigger = NodeRef::<html::Button>::new();
    let cancel = NodeRef::<html::Button>::new();
    // Focus follows the question: onto "Cancel" when it opens, back to the button when it closes.
    Effect::new(move |was_asking: Option<bool>| {
        let now = asking.get();
        if now {
            if let Some(button) = cancel.get() {
                let _ = button.focus();
            }
        } else if was_asking == Some(true) {
            if let Some(button) = trigger.get_untracked() {
                let _ = button.focus();
            }
        }
        now
    });
    let name = name.unwrap_or_else(|| label.clone());
    view! {
        <button type="button" class="danger" node_ref=trigger aria-label=name aria-expanded=move || asking.get().to_string()
            on:click=move |_| asking.set(true)>{label}</button>
        <Show when=move || asking.get()>
            <span class="confirm" role="group" aria-label=question.clone()>
                <span class="confirm-question">{question.clone()}</span>" "
                <button type="button" class="danger" on:click=move |_| {
                    asking.set(false);
                    on_confirm.run(());
                }>{confirm.clone()}</button>" "
                <button type="button" node_ref=cancel on:click=move |_| asking.set(false)
                    on:keydown=move |ev| if ev.key() == "Escape" { asking.set(false) }>"Cancel"</button>
            </span>
        </Show>
    }
}
