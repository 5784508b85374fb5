//! The formatting toolbar of the Markdown fields (a description, a comment): each tool wraps the
//! selected text in Markdown, or starts each selected line, and keeps that text selected. The edit is
//! a pure function of the text and the selection, so it is tested without a browser.

use leptos::{html, prelude::*};

/// One tool of the toolbar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    Bold,
    Italic,
    Code,
    Link,
    List,
}

impl Tool {
    const ALL: [Tool; 5] = [Tool::Bold, Tool::Italic, Tool::Code, Tool::Link, Tool::List];

    fn label(self) -> &'static str {
        match self {
            Tool::Bold => "Bold",
            Tool::Italic => "Italic",
            Tool::Code => "Code",
            Tool::Link => "Link",
            Tool::List => "List",
        }
    }
}

/// The text after applying `tool` to the selection `start..end` (in UTF-16 code units, as the
/// browser counts them), and the new selection: the text the tool wrapped, or the placeholder to
/// type over when nothing was selected.
pub fn apply(text: &str, start: u32, end: u32, tool: Tool) -> (String, u32, u32) {
    let (start, end) = (byte_offset(text, start.min(end)), byte_offset(text, start.max(end)));
    let selected = &text[start..end];
    let (before, after) = (&text[..start], &text[end..]);
    let (open, inner, close, placeholder) = match tool {
        Tool::Bold => ("**", selected.to_owned(), "**".to_owned(), "bold text"),
        Tool::Italic => ("_", selected.to_owned(), "_".to_owned(), "italic text"),
        Tool::Code => ("`", selected.to_owned(), "`".to_owned(), "code"),
        Tool::Link => ("[", selected.to_owned(), "](https://)".to_owned(), "link text"),
        Tool::List => {
            let at_line_start = before.is_empty() || before.ends_with('\n');
            let open = if at_line_start { "- " } else { "\n- " };
            (open, selected.replace('\n', "\n- "), String::new(), "item")
        }
    };
    let inner = if inner.is_empty() { placeholder.to_owned() } else { inner };
    let new_start = units(before) + units(open);
    let new_end = new_start + units(&inner);
    (format!("{before}{open}{inner}{close}{after}"), new_start, new_end)
}

pub(super) fn units(s: &str) -> u32 {
    u32::try_from(s.encode_utf16().count()).unwrap_or(u32::MAX)
}

/// The byte offset of the UTF-16 offset `unit` in `text` (the end when past it; never inside a
/// character).
pub(super) fn byte_offset(text: &str, unit: u32) -> usize {
    let mut seen = 0;
    for (at, c) in text.char_indices() {
        if seen >= unit {
            return at;
        }
        seen += u32::try_from(c.len_utf16()).unwrap_or(2);
    }
    text.len()
}

/// Applies `tool` to the selection of the `<textarea>` `area` whose text is `value`, and selects
/// the text it wrapped.
fn use_tool(area: NodeRef<html::Textarea>, value: RwSignal<String>, tool: Tool) {
    let Some(area) = area.get_untracked() else { return };
    let (start, end) = (area.selection_start().ok().flatten(), area.selection_end().ok().flatten());
    let (text, start, end) = apply(&value.get_untracked(), start.unwrap_or(0), end.unwrap_or(0), tool);
    area.set_value(&text);
    value.set(text);
    let _ = area.focus();
    let _ = area.set_selection_range(start, end);
}

/// Ctrl/Cmd+B and Ctrl/Cmd+I in the text, as in other editors (Ctrl/Cmd+K stays the palette's).
pub fn on_key(ev: &leptos::ev::KeyboardEvent, area: NodeRef<html::Textarea>, value: RwSignal<String>) {
    if !(ev.ctrl_key() || ev.meta_key()) || ev.alt_key() || ev.shift_key() {
        return;
    }
    let tool = match ev.key().as_str() {
        "b" => Tool::Bold,
        "i" => Tool::Italic,
        _ => return,
    };
    ev.prevent_default();
    use_tool(area, value, tool);
}

/// The toolbar above a Markdown field whose `<textarea>` is `area` and whose text is `value`; hidden
/// while the field shows its preview.
#[component]
pub fn MarkdownTools(
    area: NodeRef<html::Textarea>,
    value: RwSignal<String>,
    previewing: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <div role="toolbar" aria-label="Formatting" class="markdown-tools" hidden=move || previewing.get()>
            {Tool::ALL.into_iter().map(|tool| view! {
                <button type="button" class="small" on:click=move |_| use_tool(area, value, tool)>{tool.label()}</button>
            }).collect_view()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::{apply, Tool};

    #[test]
    fn each_tool_wraps_the_selection_and_keeps_it_selected() {
        assert_eq!(apply("fix the login", 8, 13, Tool::Bold), ("fix the **login**".to_owned(), 10, 15));
        assert_eq!(apply("fix the login", 8, 13, Tool::Italic), ("fix the _login_".to_owned(), 9, 14));
        assert_eq!(apply("run make", 4, 8, Tool::Code), ("run `make`".to_owned(), 5, 9));
        assert_eq!(apply("see docs", 4, 8, Tool::Link), ("see [docs](https://)".to_owned(), 5, 9));
        // A selection made backwards is the same selection.
        assert_eq!(apply("fix the login", 13, 8, Tool::Bold), ("fix the **login**".to_owned(), 10, 15));
    }

    #[test]
    fn nothing_selected_inserts_a_placeholder_to_type_over() {
        assert_eq!(apply("", 0, 0, Tool::Bold), ("**bold text**".to_owned(), 2, 11));
        assert_eq!(apply("a", 1, 1, Tool::List), ("a\n- item".to_owned(), 4, 8));
    }

    #[test]
    fn a_list_starts_every_selected_line() {
        assert_eq!(apply("one\ntwo", 0, 7, Tool::List), ("- one\n- two".to_owned(), 2, 11));
    }

    #[test]
    fn offsets_count_utf16_units_as_the_browser_does() {
        // "é" is one unit, "🐛" two: the selection of "bug" starts after both.
        let text = "é🐛 bug";
        assert_eq!(apply(text, 4, 7, Tool::Code), ("é🐛 `bug`".to_owned(), 5, 8));
        // An offset inside the emoji's pair does not split it.
        assert_eq!(apply(text, 2, 2, Tool::Bold).0, "é🐛**bold text** bug");
        // Past the end is the end.
        assert_eq!(apply("ab", 9, 9, Tool::Code).0, "ab`code`");
    }
}
