//! Form building blocks: a labelled input with its field message, the error slot of any other control,
//! and the form-level alert. Every validated control points at its own error slot with
//! `aria-describedby` and says `aria-invalid="true"` while the last error names its field, so that
//! garde's messages (from the browser's check or the server's) land next to the right control.

use leptos::prelude::*;

use crate::error::{AppError, ErrorCode};

/// The message the last error gives the field `name` (a garde path such as `fields.title`), if any.
pub fn field_message(errors: RwSignal<Option<AppError>>, name: &'static str) -> impl Fn() -> Option<String> + Copy {
    move || errors.with(|e| e.as_ref().and_then(|e| e.field_message(name).map(str::to_owned)))
}

/// `aria-invalid` for the control of field `name`.
pub fn aria_invalid(errors: RwSignal<Option<AppError>>, name: &'static str) -> impl Fn() -> &'static str + Copy {
    let message = field_message(errors, name);
    move || if message().is_some() { "true" } else { "false" }
}

/// The id of field `name`'s error slot, for the control's `aria-describedby`.
pub fn error_id(name: &str) -> String {
    let id: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    format!("{id}-error")
}

/// The error slot of field `name`: the paragraph its control names in `aria-describedby`. Its id is
/// [`error_id`] of the name unless `id` is given (when one page has two forms with the same field).
#[component]
pub fn FieldError(
    errors: RwSignal<Option<AppError>>,
    name: &'static str,
    #[prop(optional, into)] id: Option<String>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| error_id(name));
    view! { <p class="field-error" id=id>{field_message(errors, name)}</p> }
}

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
                aria-invalid=aria_invalid(errors, name)
                aria-describedby=error_id(name)
            />
            <FieldError errors name />
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
