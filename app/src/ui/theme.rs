//! Light or dark: the system's choice until the person picks one with the top bar's "Dark theme"
//! button; the pick is remembered in this browser (`localStorage`) and set as `data-theme` on
//! `<html>`, which `style/main.css` reads.

use leptos::prelude::*;

#[cfg(feature = "csr")]
const KEY: &str = "moth-theme";

/// Whether the page shows dark now: the remembered pick, else the system's preference.
#[cfg(feature = "csr")]
fn is_dark() -> bool {
    let window = window();
    match window.local_storage().ok().flatten().and_then(|s| s.get_item(KEY).ok().flatten()).as_deref() {
        Some("dark") => true,
        Some("light") => false,
        _ => window.match_media("(prefers-color-scheme: dark)").ok().flatten().is_some_and(|m| m.matches()),
    }
}

#[cfg(feature = "csr")]
fn remember(dark: bool) {
    let theme = if dark { "dark" } else { "light" };
    if let Some(storage) = window().local_storage().ok().flatten() {
        let _ = storage.set_item(KEY, theme);
    }
    apply(Some(theme));
}

#[cfg(feature = "csr")]
fn apply(theme: Option<&str>) {
    if let Some(root) = document().document_element() {
        let _ = match theme {
            Some(theme) => root.set_attribute("data-theme", theme),
            None => root.remove_attribute("data-theme"),
        };
    }
}

/// At start: the remembered pick, if any, before the first page shows.
#[cfg(feature = "csr")]
pub fn apply_remembered() {
    let stored = window().local_storage().ok().flatten().and_then(|s| s.get_item(KEY).ok().flatten());
    apply(stored.as_deref().filter(|t| *t == "dark" || *t == "light"));
}

#[cfg(not(feature = "csr"))]
fn is_dark() -> bool {
    false
}
#[cfg(not(feature = "csr"))]
fn remember(_: bool) {}
#[cfg(not(feature = "csr"))]
pub fn apply_remembered() {}

/// "Dark theme", pressed while the page is dark.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let dark = RwSignal::new(is_dark());
    view! {
        <button type="button" class="theme-toggle" aria-pressed=move || dark.get().to_string() on:click=move |_| {
            let now = !dark.get_untracked();
            dark.set(now);
            remember(now);
        }>"Dark theme"</button>
    }
}
