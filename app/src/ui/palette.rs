//! The command palette (Ctrl/Cmd+K, or the top bar's "Jump to…"): type a key (`WEB-3`), a number or
//! words of a title and go to a project or an issue. The server answers by the reader's own scope
//! (`jump_to`); the browser checks the same rule first, so it asks only what the server would take.

use leptos::{html::Dialog, prelude::*, wasm_bindgen::JsCast};

use crate::{
    api::jump_to,
    model::{JumpInput, JumpTargets},
    rules::JumpQuery,
};

/// The palette's dialog, which the keyboard shortcut opens (`shortcuts.rs` finds it by this id).
pub const PALETTE_ID: &str = "palette";

/// Opens the palette, if the page has one (signed-in pages do).
pub fn open_palette() -> bool {
    let dialog = document().get_element_by_id(PALETTE_ID);
    dialog.and_then(|d| d.dyn_into::<leptos::web_sys::HtmlDialogElement>().ok()).is_some_and(|d| d.show_modal().is_ok())
}

/// Where an option goes, and what it says.
struct Target {
    href: String,
    label: String,
}

fn targets(found: JumpTargets) -> Vec<Target> {
    let projects = found
        .projects
        .into_iter()
        .map(|p| Target { href: format!("/projects/{}", p.key), label: format!("{} · {} (project)", p.key, p.name) });
    let issues = found.issues.into_iter().map(|i| {
        let (key, number) = i.reference.split_once('-').unwrap_or_default();
        Target {
            href: format!("/projects/{key}/issues/{number}"),
            label: format!("{} {} · {}", i.reference, i.title, i.status.name),
        }
    });
    projects.chain(issues).collect()
}

/// What the palette shows: the options for the latest query, the active one and a hint.
#[derive(Clone, Copy)]
struct Options {
    found: RwSignal<Vec<Target>>,
    hint: RwSignal<String>,
    active: RwSignal<usize>,
    /// Only the answer to the latest query is shown. Each keystroke that makes a valid query asks
    /// (bounded answers of ten, well within the per-session rate); an answer that comes late is dropped.
    latest: StoredValue<u32>,
}

impl Options {
    fn on_input(self, q: String) {
        let asked = self.latest.get_value() + 1;
        self.latest.set_value(asked);
        if let Err(rule) = JumpQuery::parse(&q) {
            self.found.set(Vec::new());
            self.hint.set(rule.to_owned());
            return;
        }
        self.hint.set("Searching…".to_owned());
        leptos::task::spawn_local(self.ask(q, asked));
    }

    async fn ask(self, q: String, asked: u32) {
        let answer = jump_to(JumpInput { q }).await;
        if self.latest.get_value() != asked {
            return;
        }
        self.active.set(0);
        match answer {
            Ok(answer) => {
                let answer = targets(answer);
                self.hint.set(format!("{} found", answer.len()));
                self.found.set(answer);
            }
            Err(e) => {
                self.found.set(Vec::new());
                self.hint.set(e.message);
            }
        }
    }

    /// Arrows choose an option; Enter answers the chosen one, to follow.
    fn on_key(self, ev: &leptos::ev::KeyboardEvent) -> Option<usize> {
        let count = self.found.with_untracked(Vec::len);
        if count == 0 {
            return None;
        }
        match ev.key().as_str() {
            "ArrowDown" => self.active.update(|a| *a = (*a + 1) % count),
            "ArrowUp" => self.active.update(|a| *a = (*a + count - 1) % count),
            "Enter" => {
                ev.prevent_default();
                return Some(self.active.get_untracked());
            }
            _ => return None,
        }
        ev.prevent_default();
        None
    }
}

#[component]
pub fn Palette() -> impl IntoView {
    let dialog = NodeRef::<Dialog>::new();
    let options = Options {
        found: RwSignal::new(Vec::new()),
        hint: RwSignal::new(String::new()),
        active: RwSignal::new(0),
        latest: StoredValue::new(0),
    };
    let Options { found, hint, active, .. } = options;
    let navigate = leptos_router::hooks::use_navigate();
    // Following an option closes the palette and goes there.
    let go = move |n: usize| {
        if let Some(href) = found.with_untracked(|found| found.get(n).map(|t| t.href.clone())) {
            if let Some(dialog) = dialog.get_untracked() {
                dialog.close();
            }
            navigate(&href, leptos_router::NavigateOptions::default());
        }
    };
    let on_keydown = {
        let go = go.clone();
        move |ev: leptos::ev::KeyboardEvent| {
            if let Some(n) = options.on_key(&ev) {
                go(n);
            }
        }
    };
    // A click on an option follows it: the option's number is the end of its id.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let option = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok());
        let option = option.and_then(|o| o.closest("[role=option]").ok().flatten());
        if let Some(n) = option.and_then(|o| o.id().rsplit('-').next().and_then(|n| n.parse().ok())) {
            go(n);
        }
    };
    let items = move || {
        found.with(|found| {
            found
                .iter()
                .enumerate()
                .map(|(n, target)| {
                    view! {
                        <li role="option" id=format!("palette-option-{n}") aria-selected=move || (active.get() == n).to_string()>
                            {target.label.clone()}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <dialog id=PALETTE_ID node_ref=dialog class="card palette" aria-labelledby="palette-title">
            <h2 id="palette-title">"Jump to"</h2>
            <input
                type="text"
                role="combobox"
                aria-labelledby="palette-title"
                placeholder="WEB-3, 42 or words"
                aria-controls="palette-options"
                aria-expanded=move || (!found.with(Vec::is_empty)).to_string()
                aria-activedescendant=move || (!found.with(Vec::is_empty)).then(|| format!("palette-option-{}", active.get()))
                autocomplete="off"
                on:input=move |ev| options.on_input(event_target_value(&ev))
                on:keydown=on_keydown
            />
            <p class="hint" role="status">{move || hint.get()}</p>
            <ul id="palette-options" role="listbox" aria-label="Results" on:click=on_click>{items}</ul>
        </dialog>
    }
}
