//! Form building blocks: a labelled input with its field message, the error slot of any other control,
//! and the form-level alert. Every validated control points at its own error slot with
//! `aria-describedby` and says `aria-invalid="true"` while the last error names its field, so that
//! garde's messages (from the browser's check or the server's) land next to the right control.

use std::future::Future;

use leptos::prelude::*;

use crate::{
    error::{AppError, ErrorCode},
    model::{parse, Normalize},
};

/// A form's submission: [`Submission::submit`] checks the input with the shared rules in the browser
/// and sends it only if they pass; the last error, the browser's or the server's, is in `errors`, and
/// the `on_ok` given to [`Submission::new`] runs after each success. Answers apply in the order they
/// were sent: one that arrives after a later one's is dropped.
///
/// Not a Leptos `Action`: an action's reactive machinery was compiled once per input and answer type,
/// some 36 times over; here the reactive state is the same few signals for every form
/// (docs/performance.md, "The front end on the wire").
pub struct Submission<I: 'static, O: 'static> {
    send: StoredValue<Box<dyn Fn(I)>, LocalStorage>,
    pub errors: RwSignal<Option<AppError>>,
    in_flight: RwSignal<u32>,
    _answer: std::marker::PhantomData<fn() -> O>,
}

impl<I, O> Clone for Submission<I, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I, O> Copy for Submission<I, O> {}

/// The order of a form's submissions: how many were sent, and the newest whose answer applied.
#[derive(Clone, Copy, Default)]
struct Sequence {
    sent: u64,
    applied: u64,
}

/// An answer on its way: when it arrives, what applies it, or the error.
type Answer = std::pin::Pin<Box<dyn Future<Output = Result<Box<dyn FnOnce()>, AppError>>>>;

/// A form's requests in flight and their order, the same for every input and answer type.
#[derive(Clone, Copy)]
struct Order {
    in_flight: RwSignal<u32>,
    sequence: StoredValue<Sequence>,
    errors: RwSignal<Option<AppError>>,
}

impl Order {
    /// Awaits `answer` and applies it, unless a later request's answer has applied first.
    fn run(self, answer: Answer) {
        let Self { in_flight, sequence, errors } = self;
        sequence.update_value(|s| s.sent += 1);
        let number = sequence.get_value().sent;
        in_flight.update(|n| *n += 1);
        leptos::task::spawn_local(async move {
            let answer = answer.await;
            in_flight.try_update(|n| *n = n.saturating_sub(1));
            let Some(latest) = sequence.try_get_value().map(|s| s.applied < number) else { return };
            if !latest {
                return;
            }
            sequence.update_value(|s| s.applied = number);
            match answer {
                Ok(apply) => {
                    errors.try_set(None);
                    apply();
                }
                Err(e) => {
                    errors.try_set(Some(e));
                }
            }
        });
    }
}

/// Loads `answer` into `into` (its error into `errors`): for a section that sets its data from
/// several answers (its list, and what each change answers), where a resource would be a second copy.
pub fn load<O: Send + Sync + 'static>(
    into: RwSignal<Option<O>>,
    errors: RwSignal<Option<AppError>>,
    answer: impl Future<Output = Result<O, AppError>> + 'static,
) {
    let order = Order { in_flight: RwSignal::new(0), sequence: StoredValue::new(Sequence::default()), errors };
    order.run(Box::pin(async move {
        let answer = answer.await?;
        Ok(Box::new(move || into.set(Some(answer))) as Box<dyn FnOnce()>)
    }));
}

impl<I, O> Submission<I, O>
where
    I: Normalize + garde::Validate<Context = ()> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    pub fn new<Fut>(send: impl Fn(I) -> Fut + 'static, on_ok: impl Fn(O) + 'static) -> Self
    where
        Fut: Future<Output = Result<O, AppError>> + 'static,
    {
        Self::reporting_to(RwSignal::new(None), send, on_ok)
    }

    /// Like [`Submission::new`], with the errors shown in `errors`, which several submissions of one
    /// page (the buttons of a table, say) may share.
    pub fn reporting_to<Fut>(
        errors: RwSignal<Option<AppError>>,
        send: impl Fn(I) -> Fut + 'static,
        on_ok: impl Fn(O) + 'static,
    ) -> Self
    where
        Fut: Future<Output = Result<O, AppError>> + 'static,
    {
        let order = Order { in_flight: RwSignal::new(0_u32), sequence: StoredValue::new(Sequence::default()), errors };
        let on_ok = std::rc::Rc::new(on_ok);
        // Only this wrapper is compiled per input and answer type; the waiting, ordering and error
        // handling are `Order::run`'s, compiled once.
        let send = move |input: I| {
            let answer = send(input);
            let on_ok = on_ok.clone();
            order.run(Box::pin(async move {
                let answer = answer.await?;
                Ok(Box::new(move || on_ok(answer)) as Box<dyn FnOnce()>)
            }));
        };
        let send: Box<dyn Fn(I)> = Box::new(send);
        Self {
            send: StoredValue::new_local(send),
            errors,
            in_flight: order.in_flight,
            _answer: std::marker::PhantomData,
        }
    }

    /// Checks `input` and sends it, or shows why not.
    pub fn submit(self, input: I) {
        match parse(input.clone()) {
            Ok(_) => {
                self.errors.set(None);
                self.send.with_value(|send| send(input));
            }
            Err(e) => self.errors.set(Some(e)),
        }
    }

    /// The form's `on:submit` handler: the browser does not send the form itself; `input()` is
    /// submitted as [`Submission::submit`] does.
    pub fn on_submit(
        self,
        input: impl Fn() -> I + Copy + 'static,
    ) -> impl Fn(leptos::ev::SubmitEvent) + Copy + 'static {
        move |ev| {
            ev.prevent_default();
            self.submit(input());
        }
    }

    /// Whether an answer is awaited (the submit button is disabled meanwhile).
    pub fn pending(self) -> bool {
        self.in_flight.get() > 0
    }

    /// What the end of its form shows ([`FormEnd`]), apart from the types of its input and answer.
    pub fn state(self) -> FormState {
        FormState { errors: self.errors, in_flight: self.in_flight }
    }
}

/// A submission's errors and whether it is being sent.
#[derive(Clone, Copy)]
pub struct FormState {
    errors: RwSignal<Option<AppError>>,
    in_flight: RwSignal<u32>,
}

/// The end of a form: its alert (for an error that names no field) and its submit button, disabled
/// while the form is being sent.
#[component]
pub fn FormEnd(
    form: FormState,
    label: &'static str,
    #[prop(default = "primary-inline")] class: &'static str,
) -> impl IntoView {
    let FormState { errors, in_flight } = form;
    let sending = move || in_flight.get() > 0;
    view! {
        <FormAlert errors />
        <button type="submit" class=class disabled=sending>{label}</button>
    }
}

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

/// The status region where a secret is shown once, when it is made (an access token's, a webhook's):
/// `made` gives its label and the secret, shown with a button that copies it.
#[component]
pub fn ShownOnce(
    id: &'static str,
    copy: &'static str,
    #[prop(into)] made: Signal<Option<(String, String)>>,
) -> impl IntoView {
    let shown = move || {
        made.get().map(|(label, secret)| {
            let copied = RwSignal::new(false);
            let value = secret.clone();
            view! {
                <div class="created">
                    <label for=id>{label}</label>
                    <input id=id readonly=true prop:value=secret />
                    <button type="button" on:click=move |_| { copy_to_clipboard(&value); copied.set(true); }>{copy}</button>
                    <span class="muted">{move || copied.get().then_some("Copied.")}</span>
                    <p class="hint">"Copy it now: it is not shown again."</p>
                </div>
            }
        })
    };
    view! { <div role="status">{shown}</div> }
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

/// A labelled text input bound to `value`. `name` is the field's garde path in the request, so that
/// the server's field errors land next to the right input; `id` (default: `name`) tells two controls of
/// the same field on one page apart, and names the error slot (`<id>-error`).
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    errors: RwSignal<Option<AppError>>,
    #[prop(optional)] id: Option<&'static str>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] placeholder: Option<&'static str>,
) -> impl IntoView {
    let id = id.unwrap_or(name);
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
                aria-invalid=aria_invalid(errors, name)
                aria-describedby=error_id(id)
            />
            <FieldError errors name id=error_id(id) />
        </div>
    }
}

/// A labelled multi-line field, like [`TextField`]. Without a `label` the control is named by
/// `aria-label` (the edit box of a comment, which its comment heads). With `preview`, the field is
/// Markdown: a formatting toolbar (`markdown_tools`) and a "Preview" toggle that shows the text as
/// the server renders it when saved (`preview_markdown`: the same sanitiser, and issue keys linked
/// for this reader), so the preview is the result.
#[component]
pub fn TextArea(
    #[prop(optional)] label: Option<&'static str>,
    name: &'static str,
    value: RwSignal<String>,
    errors: RwSignal<Option<AppError>>,
    #[prop(optional, into)] id: Option<String>,
    #[prop(optional)] aria_label: Option<&'static str>,
    #[prop(default = 4)] rows: u32,
    #[prop(optional)] preview: bool,
    /// The issue whose people `@` offers ([`super::mentions`]).
    #[prop(optional_no_strip)]
    mentions: Option<super::mentions::MentionSource>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| name.to_owned());
    let previewing = RwSignal::new(false);
    let area = NodeRef::<leptos::html::Textarea>::new();
    let suggestions = mentions.map(|source| super::mentions::Suggestions::new(source, area, value));
    let list_id = format!("{id}-mentions");
    // What the server answered: the rendered text, or why it refused it.
    let rendered = RwSignal::new(Ok::<String, String>(String::new()));
    // One toggle button: pressed, it shows the preview; pressed again, the text to edit.
    let toggle_preview = move |_| {
        if previewing.get_untracked() {
            previewing.set(false);
            return;
        }
        previewing.set(true);
        rendered.set(Ok(String::new()));
        let text = value.get_untracked();
        leptos::task::spawn_local(async move {
            let answer = crate::api::preview_markdown(crate::model::PreviewInput { text }).await;
            rendered.set(answer.map_err(|e| e.message));
        });
    };
    view! {
        <div class="field">
            {label.map(|label| view! { <label for=id.clone()>{label}</label> })}
            {preview.then(|| view! {
                <button type="button" class="small preview-toggle" aria-pressed=move || previewing.get().to_string()
                    on:click=toggle_preview>"Preview"</button>
                <super::markdown_tools::MarkdownTools area value previewing />
            })}
            <textarea
                node_ref=area
                on:keydown=move |ev| {
                    if suggestions.is_some_and(|s| s.on_key(&ev)) {
                        return;
                    }
                    if preview {
                        super::markdown_tools::on_key(&ev, area, value);
                    }
                }
                id=id.clone()
                aria-label=aria_label
                name=name
                rows=rows
                hidden=move || previewing.get()
                prop:value=move || value.get()
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    if let Some(s) = suggestions {
                        s.on_input();
                    }
                }
                aria-invalid=aria_invalid(errors, name)
                aria-describedby=error_id(&id)
                aria-autocomplete=suggestions.map(|_| "list")
                aria-controls=suggestions.map(|_| list_id.clone())
                aria-activedescendant=super::mentions::active_option(suggestions, list_id.clone())
            ></textarea>
            {suggestions.map(|suggestions| super::mentions::mention_list(suggestions, list_id.clone()))}
            <Show when=move || previewing.get()>
                <div class="markdown preview" data-testid="preview" inner_html=move || rendered.get().unwrap_or_default()></div>
                <p class="alert" role="alert" hidden=move || rendered.with(Result::is_ok)>{move || rendered.get().err()}</p>
            </Show>
            <FieldError errors name id=error_id(&id) />
        </div>
    }
}

/// A `<select>` that acts only when a choice is committed: a click or tap on an option, or Enter.
/// Arrow keys and type-ahead browse the options without acting (WCAG 3.2.2): a closed select in
/// Chromium fires `change` on every ArrowDown, which would navigate away under a keyboard user.
#[component]
pub fn CommitSelect(
    /// The accessible name, when no `<label>` wraps the select.
    #[prop(optional, into)]
    label: Option<String>,
    #[prop(optional)] id: Option<&'static str>,
    /// A callback rather than a generic closure, so that the component's code exists once.
    #[prop(into)]
    on_choose: Callback<String>,
    children: Children,
) -> impl IntoView {
    let browsing = StoredValue::new(false);
    let act = move |value: String| {
        if !value.is_empty() {
            on_choose.run(value);
        }
    };
    let on_enter = act;
    view! {
        <select aria-label=label id=id
            on:pointerdown=move |_| browsing.set_value(false)
            on:keydown=move |ev| match ev.key().as_str() {
                "Enter" => {
                    ev.prevent_default();
                    browsing.set_value(false);
                    on_enter(event_target_value(&ev));
                }
                // Alt+ArrowDown opens the list, whose choice then commits with a `change`.
                "ArrowUp" | "ArrowDown" | "ArrowLeft" | "ArrowRight" | "Home" | "End" | "PageUp" | "PageDown" => {
                    browsing.set_value(!ev.alt_key());
                }
                key if key.chars().count() == 1 && key != " " => browsing.set_value(true),
                _ => {}
            }
            on:change=move |ev| {
                if !browsing.get_value() {
                    act(event_target_value(&ev));
                }
            }
        >{children()}</select>
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

/// Fetches the common-password list for a sign-up form, once per page load (see
/// `rules::is_common_password`); failures are harmless: the server checks the same list.
#[cfg(feature = "csr")]
pub fn fetch_common_passwords() {
    use wasm_bindgen::{closure::Closure, JsCast};
    static ASKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if ASKED.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else { return };
    if xhr.open("GET", "/common-passwords.txt").is_err() {
        return;
    }
    let answered = xhr.clone();
    let onload = Closure::once_into_js(move || {
        if answered.status().unwrap_or(0) == 200 {
            if let Ok(Some(text)) = answered.response_text() {
                crate::rules::load_common_passwords(&text);
            }
        }
    });
    xhr.set_onload(Some(onload.unchecked_ref()));
    let _ = xhr.send();
}

#[cfg(not(feature = "csr"))]
pub fn fetch_common_passwords() {}

/// Puts `text` on the clipboard (an invitation link, a new access token).
#[cfg(feature = "csr")]
pub fn copy_to_clipboard(text: &str) {
    let _promise = window().navigator().clipboard().write_text(text);
}

#[cfg(not(feature = "csr"))]
pub fn copy_to_clipboard(_: &str) {}
