//! The board: a column per status, cards that link to their issue, moved by dragging with the pointer
//! or, in the WAI-ARIA manner, with the keyboard (Space picks a card up, the arrows choose a column,
//! Space drops it, Escape puts it back). A move shows at once and rolls back, with a message, when the
//! workflow refuses it; a live region tells screen-reader users what happened.

use leptos::{prelude::*, task::spawn_local};
use leptos_router::components::A;

use crate::{
    api::change_status,
    model::{ChangeStatusInput, IssueId, IssueSummary, IssueVisibility, ProjectStatus, StatusRef},
};

/// The board's state: the cards as shown (moved before the server answers), what is being dragged or
/// carried with the keyboard, and what the live region and the alert say.
#[derive(Clone, Copy)]
struct BoardState {
    cards: RwSignal<Vec<IssueSummary>>,
    statuses: StoredValue<Vec<ProjectStatus>>,
    dragging: RwSignal<Option<IssueId>>,
    /// The card carried with the keyboard, and the column it is over.
    carried: RwSignal<Option<(IssueId, usize)>>,
    announcement: RwSignal<String>,
    refused: RwSignal<Option<String>>,
    /// Moves made so far: a refused move is rolled back only if it is still its card's latest.
    moves: StoredValue<(u32, Vec<(IssueId, u32)>)>,
}

impl BoardState {
    fn card(&self, id: IssueId) -> Option<IssueSummary> {
        self.cards.with_untracked(|cards| cards.iter().find(|c| c.id == id).cloned())
    }

    fn set_status(&self, id: IssueId, status: StatusRef) {
        self.cards.update(|cards| {
            if let Some(card) = cards.iter_mut().find(|c| c.id == id) {
                card.status = status;
            }
        });
    }

    /// Moves a card to `to` at once, asks the server, and puts it back if the server refuses.
    fn move_card(self, id: IssueId, to: &ProjectStatus) {
        let Some(card) = self.card(id) else { return };
        if card.status.id == to.id {
            self.announcement.set(format!("{} stays in {}.", card.reference, to.name));
            return;
        }
        let from = card.status.clone();
        self.set_status(id, StatusRef { id: to.id, name: to.name.clone(), category: to.category });
        self.refused.set(None);
        self.announcement.set(format!("{} moved to {}.", card.reference, to.name));
        focus_card_soon(id);
        let status_id = to.id;
        let this_move = self.moves.with_value(|(made, _)| made + 1);
        self.moves.update_value(|(made, latest)| {
            *made = this_move;
            latest.retain(|(card, _)| *card != id);
            latest.push((id, this_move));
        });
        spawn_local(async move {
            if let Err(e) = change_status(ChangeStatusInput { issue_id: id, status_id }).await {
                // A later move of the card stands (or rolls back) by its own answer.
                if !self.moves.with_value(|(_, latest)| latest.contains(&(id, this_move))) {
                    return;
                }
                let message = format!("{} stays in {}: {}", card.reference, from.name, e.message);
                self.set_status(id, from);
                self.announcement.set(message.clone());
                self.refused.set(Some(message));
                focus_card_soon(id);
            }
        });
    }

    /// The keyboard's side of dragging, on a focused card.
    fn on_card_key(self, id: IssueId, ev: &leptos::ev::KeyboardEvent) {
        let columns = self.statuses.with_value(Vec::len);
        let Some(card) = self.card(id) else { return };
        let here = self.statuses.with_value(|s| s.iter().position(|st| st.id == card.status.id)).unwrap_or(0);
        let column_name = |index: usize| self.statuses.with_value(|s| s.get(index).map(|st| st.name.clone()));
        match (ev.key().as_str(), self.carried.get_untracked()) {
            (" ", None) => {
                ev.prevent_default();
                self.carried.set(Some((id, here)));
                self.announcement.set(format!(
                    "Picked up {}, in {}. Left and right arrows choose a column, Space drops, Escape cancels.",
                    card.reference,
                    column_name(here).unwrap_or_default()
                ));
            }
            ("ArrowLeft" | "ArrowRight", Some((carried, over))) if carried == id => {
                ev.prevent_default();
                let over = if ev.key() == "ArrowLeft" { over.saturating_sub(1) } else { (over + 1).min(columns - 1) };
                self.carried.set(Some((id, over)));
                self.announcement.set(format!("{} over {}.", card.reference, column_name(over).unwrap_or_default()));
            }
            (" " | "Enter", Some((carried, over))) if carried == id => {
                ev.prevent_default();
                self.carried.set(None);
                if let Some(to) = self.statuses.with_value(|s| s.get(over).cloned()) {
                    self.move_card(id, &to);
                }
            }
            ("Escape", Some((carried, _))) if carried == id => {
                self.carried.set(None);
                self.announcement.set(format!("{} put back in {}.", card.reference, card.status.name));
            }
            _ => {}
        }
    }
}

/// After a card moves it is drawn again in its new column; focus follows it there.
fn focus_card_soon(id: IssueId) {
    request_animation_frame(move || {
        let card = document().get_element_by_id(&format!("card-{id}"));
        if let Some(card) =
            card.and_then(|e| leptos::wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::HtmlElement>(e).ok())
        {
            let _ = card.focus();
        }
    });
}

#[component]
pub(super) fn Board(
    issues: Vec<IssueSummary>,
    statuses: Vec<ProjectStatus>,
    can_edit: bool,
    project_key: String,
) -> impl IntoView {
    let board = BoardState {
        cards: RwSignal::new(issues),
        statuses: StoredValue::new(statuses.clone()),
        dragging: RwSignal::new(None),
        carried: RwSignal::new(None),
        announcement: RwSignal::new(String::new()),
        refused: RwSignal::new(None),
        moves: StoredValue::new((0, Vec::new())),
    };
    let key = StoredValue::new(project_key);
    view! {
        <div class="alert" role="alert">{move || board.refused.get()}</div>
        <p id="board-help" class="hint">{can_edit.then_some(
            "Drag a card to another column, or focus it and press Space, choose a column with the arrow keys and press Space again."
        )}</p>
        <div class="sr-only" aria-live="assertive">{move || board.announcement.get()}</div>
        <div class="board">
            {statuses.into_iter().enumerate().map(|(index, status)| {
                let status = StoredValue::new(status);
                let over = move || board.carried.get().is_some_and(|(_, over)| over == index);
                view! {
                    <section class="column" class:drop-target=over aria-label=status.with_value(|s| s.name.clone())
                        on:dragover=move |ev| if can_edit && board.dragging.get_untracked().is_some() { ev.prevent_default() }
                        on:drop=move |ev| {
                            ev.prevent_default();
                            if let Some(id) = board.dragging.get_untracked() {
                                board.dragging.set(None);
                                board.move_card(id, &status.get_value());
                            }
                        }>
                        <h3>{status.with_value(|s| s.name.clone())}
                            <span class="muted">{move || format!(" {}", board.cards.with(|c| c.iter().filter(|i| i.status.id == status.with_value(|s| s.id)).count()))}</span>
                        </h3>
                        // Drawn again when a card moves in or out (a keyed list costs the bundle more
                        // than it saves here); focus follows the moved card (`focus_card_soon`).
                        {move || board.cards.get().into_iter().filter(|i| i.status.id == status.with_value(|s| s.id)).map(|card| view! {
                            <Card card board can_edit project_key=key.get_value() />
                        }).collect_view()}
                    </section>
                }
            }).collect_view()}
        </div>
    }
}

/// One card: its key and title as a link, what matters for triage, and the internal mark.
#[component]
fn Card(card: IssueSummary, board: BoardState, can_edit: bool, project_key: String) -> impl IntoView {
    let id = card.id;
    let href = format!("/projects/{project_key}/issues/{}", card.number);
    let assignees = card.assignees.iter().map(|a| a.display_name.clone()).collect::<Vec<_>>().join(", ");
    let carried = move || board.carried.get().is_some_and(|(c, _)| c == id);
    view! {
        <article class="issue-card" id=format!("card-{id}") class:carried=carried
            tabindex=can_edit.then_some("0") draggable=can_edit.then_some("true")
            aria-roledescription=can_edit.then_some("draggable card") aria-describedby=can_edit.then_some("board-help")
            aria-label=format!("{} {}", card.reference, card.title)
            on:dragstart=move |_| board.dragging.set(Some(id))
            on:dragend=move |_| board.dragging.set(None)
            on:keydown=move |ev| if can_edit { board.on_card_key(id, &ev) }>
            <A href=href>{format!("{} {}", card.reference, card.title)}</A>
            <span class="card-meta">
                <span title="Severity">{card.severity.as_str()}</span>" · "
                <span title="Priority">{card.priority.as_str()}</span>
                {(card.visibility == IssueVisibility::Internal).then(|| view! { " " <span class="badge">"internal"</span> })}
            </span>
            {(!assignees.is_empty()).then(|| view! { <span class="muted">{assignees}</span> })}
        </article>
    }
}
