//! Keyboard shortcuts in the manner of Linear and GitHub, and the help dialog that lists them ("?").
//! One listener on the window: a key acts on the control of the page it names (found by a selector, so
//! pages need no wiring), never while the reader is typing, except Ctrl/Cmd+Enter, which sends the
//! form being written in, and Ctrl/Cmd+K, which opens the command palette (`palette.rs`).

use leptos::{
    html::Dialog,
    prelude::*,
    wasm_bindgen::JsCast,
    web_sys::{Element, HtmlElement, HtmlFormElement, KeyboardEvent},
};

/// The keys that act on a control of the page, and the control (the first that matches).
const CONTROLS: [(&str, &str); 5] = [
    ("c", "#new-issue"),
    ("/", "form[role=search] input"),
    ("e", "#issue-title"),
    ("a", "#assign-to-me"),
    ("s", "#issue-status"),
];

/// What the help dialog lists (static text: the dialog costs the bundle no view code per line).
const HELP: &str =
    "<dt><kbd>Ctrl</kbd>+<kbd>K</kbd></dt><dd>Jump to a project or an issue by key, number or title</dd>\
<dt><kbd>c</kbd></dt><dd>New issue, on a project's issues</dd>\
<dt><kbd>/</kbd></dt><dd>Search the project's issues</dd>\
<dt><kbd>j</kbd> <kbd>k</kbd></dt><dd>Next and previous issue in a list; Enter opens it</dd>\
<dt><kbd>e</kbd></dt><dd>Edit the issue's title</dd>\
<dt><kbd>a</kbd></dt><dd>Assign the issue to me</dd>\
<dt><kbd>s</kbd></dt><dd>Change the issue's status</dd>\
<dt><kbd>Ctrl</kbd>+<kbd>Enter</kbd></dt><dd>Send the form being written (⌘+Enter on a Mac)</dd>\
<dt><kbd>?</kbd></dt><dd>Show these shortcuts</dd>";

/// The issue links of a list, for `j` and `k`.
const LIST_LINKS: &str = "table.issues tbody td:first-child a";

#[component]
pub fn Shortcuts() -> impl IntoView {
    let dialog = NodeRef::<Dialog>::new();
    let listener = window_event_listener(leptos::ev::keydown, move |ev| on_key(&ev, dialog));
    on_cleanup(move || listener.remove());
    // A native modal dialog: the page behind it is inert, Escape closes it and focus goes back.
    view! {
        <dialog node_ref=dialog class="card shortcuts" aria-labelledby="shortcuts-title">
            <h2 id="shortcuts-title">"Shortcuts"</h2>
            <dl inner_html=HELP></dl>
            <form method="dialog"><button type="submit">"Close"</button></form>
        </dialog>
    }
}

fn on_key(ev: &KeyboardEvent, dialog: NodeRef<Dialog>) {
    let target = ev.target().and_then(|t| t.dyn_into::<Element>().ok());
    let key = ev.key();
    if key == "k" && (ev.ctrl_key() || ev.meta_key()) {
        if super::palette::open_palette() {
            ev.prevent_default();
        }
        return;
    }
    if key == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
        let form = target.and_then(|t| t.closest("form").ok().flatten());
        if let Some(form) = form.and_then(|f| f.dyn_into::<HtmlFormElement>().ok()) {
            ev.prevent_default();
            let _ = form.request_submit();
        }
        return;
    }
    let typing = target.is_some_and(|t| {
        matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            || t.closest("dialog[open]").ok().flatten().is_some()
    });
    if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented() {
        return;
    }
    if key == "?" {
        if let Some(dialog) = dialog.get_untracked() {
            ev.prevent_default();
            let _ = dialog.show_modal();
        }
    } else if key == "j" || key == "k" {
        if move_in_list(key == "j") {
            ev.prevent_default();
        }
    } else if let Some((_, selector)) = CONTROLS.iter().find(|(k, _)| *k == key) {
        let found = document().query_selector(selector).ok().flatten();
        if let Some(control) = found.and_then(|c| c.dyn_into::<HtmlElement>().ok()) {
            // The key must not also be typed into the field it focuses.
            ev.prevent_default();
            if matches!(control.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") {
                let _ = control.focus();
            } else {
                control.click();
            }
        }
    }
}

/// Moves focus to the next (or previous) issue of the list on the page; Enter then opens it.
fn move_in_list(forward: bool) -> bool {
    let row_of_focus = document()
        .active_element()
        .filter(|active| active.matches(LIST_LINKS).unwrap_or(false))
        .and_then(|link| link.closest("tr").ok().flatten());
    let row = match row_of_focus {
        Some(row) if forward => row.next_element_sibling(),
        Some(row) => row.previous_element_sibling(),
        None if forward => document().query_selector("table.issues tbody tr:first-child").ok().flatten(),
        None => document().query_selector("table.issues tbody tr:last-child").ok().flatten(),
    };
    let link = row.and_then(|row| row.query_selector("td:first-child a").ok().flatten());
    link.and_then(|l| l.dyn_into::<HtmlElement>().ok()).is_some_and(|l| l.focus().is_ok())
}
