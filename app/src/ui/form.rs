//! Form building blocks: a labelled input with its field message, and the form-level alert.

use leptos::prelude::*;

use crate::error::{AppError, ErrorCode};

/// A labelled text input bound to `value`. `name` is the field's name in the request, so that the
/// server's field errors land next to the right input.
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    errors: RwSignal<Option<AppError>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
) -> impl IntoView {
    let message = move || errors.with(|e| e.as_ref().and_then(|e| e.field_message(name).map(str::to_owned)));
    let error_id = format!("{name}-error");
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input
                id=name
                name=name
                type=kind
                autocomplete=autocomplete
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=move || if message().is_some() { "true" } else { "false" }
                aria-describedby=error_id.clone()
            />
            <p class="field-error" id=error_id>{message}</p>
        </div>
    }
}

/// The form-level message: errors that belong to no single field.
#[component]
pub fn FormAlert(errors: RwSignal<Option<AppError>>) -> impl IntoView {
    let message = move || {
        errors.with(|e| match e {
            Some(e) if e.code == ErrorCode::InvalidInput && !e.fields.is_empty() => None,
            Some(e) => Some(e.message.clone()),
            None => None,
        })
    };
    view! {
        <div class="alert" role="alert">
            {message}
        </div>
    }
}
