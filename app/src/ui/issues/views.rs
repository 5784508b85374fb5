//! Saved views: the list's filter and order kept under a name, opened from "Saved views…", saved by a
//! small form and deleted (the one the address shows) after one question. Views come with the project
//! (`open_project`); each save or delete answers the project's views afresh.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use leptos_router::{hooks::use_navigate, NavigateOptions};

use crate::ui::address::{with_view, ListAddress};
use crate::ui::{
    confirm::ConfirmButton,
    form::{aria_invalid, error_id, CommitSelect, FieldError, FormAlert},
};
use crate::{
    api::{delete_view, save_view},
    error::AppError,
    model::{parse, ProjectId, SaveViewInput, SavedView, ViewFilter, ViewIdInput},
};

/// What a save or a delete answered: the views, or why not.
fn answered(
    views: RwSignal<Vec<SavedView>>,
    errors: RwSignal<Option<AppError>>,
    status: RwSignal<String>,
    done: &str,
) -> impl Fn(Result<Vec<SavedView>, AppError>) {
    let done = done.to_owned();
    move |answer| match answer {
        Ok(list) => {
            views.set(list);
            errors.set(None);
            status.set(done.clone());
        }
        Err(e) => errors.set(Some(e)),
    }
}

/// A view as "Saved views…" offers it: by name, and for a shared one by whom.
fn view_option(view: SavedView) -> impl IntoView {
    let label = if view.shared { format!("{} (shared by {})", view.name, view.owner) } else { view.name };
    view! { <option value=view.id.to_string()>{label}</option> }
}

/// "Saved views…", "Delete view" for the view the address shows (if the reader may), and the form that
/// saves the address's filter and order under a name.
#[component]
pub(super) fn SavedViews(
    address: ListAddress,
    project_id: ProjectId,
    views: Vec<SavedView>,
    /// Members share views with the team; guests keep theirs to themselves.
    can_share: bool,
) -> impl IntoView {
    let views = RwSignal::new(views);
    let errors = RwSignal::new(None::<AppError>);
    let status = RwSignal::new(String::new());
    let (name, shared) = (RwSignal::new(String::new()), RwSignal::new(false));
    let navigate = use_navigate();
    let open = move |id: String| {
        let query = views.with_untracked(|vs| vs.iter().find(|v| v.id.to_string() == id).map(|v| v.query.clone()));
        if let Some(query) = query {
            let href = format!("{}{}", address.base.get_value(), with_view(address.view_name(), &query));
            navigate(&href, NavigateOptions::default());
        }
    };
    // The saved view the address shows, if any: what "Delete view" deletes.
    let shown = move || {
        let query = address.filter.with(|f| f.query(address.sort.get()));
        views.with(|vs| vs.iter().find(|v| v.query == query && v.deletable).cloned())
    };
    let on_save = move |ev: SubmitEvent| {
        ev.prevent_default();
        let view = ViewFilter { filter: address.filter.get_untracked(), sort: address.sort.get_untracked() };
        let input = SaveViewInput { project_id, name: name.get_untracked(), view, shared: shared.get_untracked() };
        if let Err(e) = parse(input.clone()) {
            errors.set(Some(e));
            return;
        }
        let done = answered(views, errors, status, &format!("Saved view {}.", input.name.trim()));
        spawn_local(async move {
            let answer = save_view(input).await;
            if answer.is_ok() {
                name.set(String::new());
            }
            done(answer);
        });
    };
    let delete = move |view: SavedView| {
        let done = answered(views, errors, status, &format!("Deleted view {}.", view.name));
        spawn_local(async move { done(delete_view(ViewIdInput { view_id: view.id }).await) });
    };
    view! {
        <div class="filters saved-views">
            <CommitSelect label="Saved views" on_choose=open>
                <option value="" selected=true>"Saved views…"</option>
                {move || views.get().into_iter().map(view_option).collect_view()}
            </CommitSelect>
            {move || shown().map(|v| view! {
                <ConfirmButton label="Delete view" name=format!("Delete view {}", v.name)
                    question=format!("Delete the view {}{}?", v.name, if v.shared { " for everyone" } else { "" })
                    confirm="Delete view" on_confirm=move || delete(v.clone()) />
            })}
            <form class="save-view" on:submit=on_save>
                <input aria-label="View name" placeholder="Name this view" maxlength="60"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))
                    aria-invalid=aria_invalid(errors, "name") aria-describedby=error_id("name") />
                {can_share.then(|| view! {
                    <label><input type="checkbox" prop:checked=move || shared.get()
                        on:change=move |ev| shared.set(event_target_checked(&ev)) />" Share with the team"</label>
                })}
                <button type="submit">"Save view"</button>
                <span class="sr-only" role="status">{move || status.get()}</span>
                <FieldError errors name="name" />
                <FormAlert errors />
            </form>
        </div>
    }
}
