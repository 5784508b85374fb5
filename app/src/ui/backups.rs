//! The owner's "Backups" page: when the team's data was last backed up, when a backup was last
//! proven restorable by a restore drill, and the moments it can be brought back to.

use leptos::prelude::*;

use super::{layout::SignedIn, set_ready, time};
use crate::{api::backup_status, model::BackupOverview};

#[component]
pub fn BackupsPage() -> impl IntoView {
    view! { <SignedIn page=|_| view! { <Backups /> } /> }
}

#[component]
fn Backups() -> impl IntoView {
    let overview = LocalResource::new(backup_status);
    Effect::new(move || set_ready(overview.get().is_some()));
    view! {
        <section class="card">
            <h1>"Backups"</h1>
            <p class="muted">
                "Moth keeps encrypted snapshots of all data, and proves them by restoring them on a schedule."
            </p>
            {move || overview.get().map(|r| match r {
                Ok(overview) => view! { <Overview overview /> }.into_any(),
                Err(e) => view! { <p class="alert" role="alert">{e.message}</p> }.into_any(),
            })}
        </section>
    }
}

#[component]
fn Overview(overview: BackupOverview) -> impl IntoView {
    let when = |at: Option<i64>, none: &'static str| at.map_or_else(|| none.to_owned(), time::date_time);
    let restore =
        overview.last_restore_ms.map(|ms| format!(" (restored and checked in {}.{} s)", ms / 1000, (ms % 1000) / 100));
    let failed = overview.last_drill_passed == Some(false);
    let points = overview.restore_points.clone();
    view! {
        <dl class="meta">
            <dt>"Last backup"</dt>
            <dd data-testid="last-backup">{when(overview.last_backup_at, "No backup yet.")}</dd>
            <dt>"Last proven restorable"</dt>
            <dd data-testid="last-verified">
                {when(overview.last_verified_at, "Not yet proven by a restore drill.")}
                {restore}
            </dd>
        </dl>
        <Show when=move || failed>
            <p class="alert" role="alert">"The last restore drill failed. The operators have been alerted."</p>
        </Show>
        <h2>"Restore points"</h2>
        <ul data-testid="restore-points">
            {if points.is_empty() {
                view! { <li class="muted">"None yet."</li> }.into_any()
            } else {
                points.into_iter().map(|ms| view! { <li>{time::date_time(ms)}</li> }).collect_view().into_any()
            }}
        </ul>
    }
}
