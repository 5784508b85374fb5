//! `@` suggestions in a Markdown field of an issue: typing `@da` lists the people the text may
//! mention (`mention_candidates`: those who may read the issue, and its internal text when the text
//! is internal); ArrowUp/ArrowDown move, Enter or Tab writes `@handle `, Escape closes. Where the
//! mention being typed starts and how it is completed are pure functions of the text and the caret,
//! tested without a browser.

use leptos::{html, prelude::*};

use super::markdown_tools::{byte_offset, units};
use crate::{
    model::{IssueId, MentionInput, Mentionable},
    rules::is_mention_char,
};

/// The issue a field's text belongs to, and whether that text is internal now (who it may mention).
#[derive(Clone, Copy)]
pub struct MentionSource {
    pub issue_id: IssueId,
    pub internal: Callback<(), bool>,
}

/// The mention being typed just before `caret` (UTF-16 units, as the browser counts): where its `@`
/// stands and what follows it. A mention starts a word, as the server reads one.
pub fn typed_at(text: &str, caret: u32) -> Option<(u32, String)> {
    let before = &text[..byte_offset(text, caret)];
    let start = before.char_indices().rev().find(|(_, c)| !is_mention_char(*c)).map_or(0, |(i, c)| i + c.len_utf8());
    let typed = before[start..].strip_prefix('@')?;
    let after_word = before[..start].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_');
    (!after_word && typed.len() <= 100 && typed.matches('@').count() <= 1)
        .then(|| (units(&before[..start]), typed.to_owned()))
}

/// `text` with the mention typed from `at` to `caret` replaced by `@handle ` and the caret after it.
pub fn complete(text: &str, at: u32, caret: u32, handle: &str) -> (String, u32) {
    let (start, end) = (byte_offset(text, at), byte_offset(text, caret));
    let written = format!("@{handle} ");
    let caret = at + units(&written);
    (format!("{}{written}{}", &text[..start], &text[end..]), caret)
}

/// The suggestions of one field: its text and `<textarea>`, where the mention being typed stands,
/// and the people offered for it.
#[derive(Clone, Copy)]
pub struct Suggestions {
    source: MentionSource,
    area: NodeRef<html::Textarea>,
    value: RwSignal<String>,
    /// The question asked last (answers to earlier keystrokes that arrive late are dropped), and where
    /// the mention it asked about stands: its `@` and the caret.
    asked: StoredValue<(u32, u32, u32)>,
    choices: RwSignal<Vec<Mentionable>>,
    active: RwSignal<usize>,
}

impl Suggestions {
    pub fn new(source: MentionSource, area: NodeRef<html::Textarea>, value: RwSignal<String>) -> Self {
        Self {
            source,
            area,
            value,
            asked: StoredValue::new((0, 0, 0)),
            choices: RwSignal::new(Vec::new()),
            active: RwSignal::new(0),
        }
    }

    /// After the text changed: asks for the people fitting the mention being typed, if one is.
    pub fn on_input(self) {
        let caret = self.area.get_untracked().and_then(|a| a.selection_start().ok().flatten()).unwrap_or(0);
        let typed = self.value.with_untracked(|text| typed_at(text, caret));
        let at = typed.as_ref().map_or(0, |(at, _)| *at);
        let asked = self.asked.get_value().0 + 1;
        self.asked.set_value((asked, at, caret));
        let Some((_, prefix)) = typed else {
            self.choices.set(Vec::new());
            return;
        };
        let internal = self.source.internal.run(());
        let input = MentionInput { issue_id: self.source.issue_id, internal, prefix };
        leptos::task::spawn_local(async move {
            let people = crate::api::mention_candidates(input).await.unwrap_or_default();
            if self.asked.get_value().0 == asked {
                self.active.set(0);
                self.choices.set(people);
            }
        });
    }

    /// A key in the field while people are offered; answers whether it was the list's.
    pub fn on_key(self, ev: &leptos::ev::KeyboardEvent) -> bool {
        let count = self.choices.with_untracked(Vec::len);
        if count == 0 {
            // Escape before the first answer came still means "no list" (the key stays the page's).
            if ev.key() == "Escape" {
                self.close();
            }
            return false;
        }
        match ev.key().as_str() {
            "ArrowDown" => self.active.update(|i| *i = (*i + 1) % count),
            "ArrowUp" => self.active.update(|i| *i = (*i + count - 1) % count),
            "Enter" | "Tab" => self.choose(self.active.get_untracked()),
            "Escape" => self.close(),
            _ => return false,
        }
        ev.prevent_default();
        true
    }

    /// Hides the list until the next keystroke. The question still in flight is forgotten too, or
    /// its answer, arriving after Escape, would open the list again.
    fn close(self) {
        self.asked.update_value(|(asked, _, _)| *asked += 1);
        self.choices.set(Vec::new());
    }

    /// Writes the `n`th person offered into the text.
    fn choose(self, n: usize) {
        let Some(person) = self.choices.with_untracked(|c| c.get(n).cloned()) else { return };
        let (_, at, caret) = self.asked.get_value();
        let (text, caret) = complete(&self.value.get_untracked(), at, caret, &person.handle);
        self.close();
        self.value.set(text.clone());
        if let Some(area) = self.area.get_untracked() {
            area.set_value(&text);
            let _ = area.focus();
            let _ = area.set_selection_range(caret, caret);
        }
    }
}

/// The option of the list `list` that the keys point at, for the field's `aria-activedescendant`.
pub fn active_option(suggestions: Option<Suggestions>, list: String) -> impl Fn() -> Option<String> {
    move || {
        let s = suggestions?;
        let open = s.choices.with(|c| !c.is_empty());
        open.then(|| format!("{list}-{}", s.active.get()))
    }
}

/// The people offered, below the field whose list id is `id`.
pub fn mention_list(suggestions: Suggestions, id: String) -> impl IntoView {
    let Suggestions { choices, active, .. } = suggestions;
    let list_id = id.clone();
    let options = move || {
        let id = id.clone();
        choices
            .get()
            .into_iter()
            .enumerate()
            .map(move |(n, person)| {
                view! {
                    // Pressed, not clicked: the field keeps the focus and its caret.
                    <li role="option" id=format!("{id}-{n}") aria-selected=move || (active.get() == n).to_string()
                        on:mousedown=move |ev| {
                            ev.prevent_default();
                            suggestions.choose(n);
                        }>
                        {person.name}" "<span class="muted">"@"{person.handle}</span>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <ul role="listbox" id=list_id aria-label="People to mention" class="mentions" hidden=move || choices.with(Vec::is_empty)>
            {options}
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::{complete, typed_at};

    #[test]
    fn a_mention_is_typed_where_an_at_starts_a_word() {
        assert_eq!(typed_at("cc @da", 6), Some((3, "da".to_owned())));
        assert_eq!(typed_at("@", 1), Some((0, String::new())));
        assert_eq!(typed_at("cc @dana@exa", 12), Some((3, "dana@exa".to_owned())));
        // Only what stands before the caret counts.
        assert_eq!(typed_at("cc @dana later", 6), Some((3, "da".to_owned())));
        for (text, caret) in [("mail@host", 9), ("cc @dana ", 9), ("a@b@c@d", 7), ("plain", 5), ("é@da", 4)] {
            assert_eq!(typed_at(text, caret), None, "{text}");
        }
    }

    #[test]
    fn completing_writes_the_handle_and_puts_the_caret_after_it() {
        assert_eq!(complete("cc @da, ok", 3, 6, "dana"), ("cc @dana , ok".to_owned(), 9));
        // Offsets are UTF-16 units: "🐛" is two.
        assert_eq!(complete("🐛 @d", 3, 5, "dana@x.org"), ("🐛 @dana@x.org ".to_owned(), 15));
    }
}
