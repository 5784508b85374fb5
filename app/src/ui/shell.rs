//! The start page of a signed-in user.

use leptos::prelude::*;

use super::{layout::SignedIn, set_ready};
use crate::model::Me;

#[component]
pub fn Home() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <Welcome me /> } /> }
}

#[component]
fn Welcome(me: Me) -> impl IntoView {
    Effect::new(|| set_ready(true));
    view! {
        <section class="card">
            <h1>{format!("Welcome, {}", me.user.display_name)}</h1>
            <p>
                "You are signed in to " <strong>{me.team.name}</strong> " as " <strong>{me.team.role.label()}</strong>
                "."
            </p>
        </section>
    }
}
