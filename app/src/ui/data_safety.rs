//! The owner's data-safety page (`/backups`, "Backups" in the menu; the `data_safety` API area): when
//! the team's data was last backed up, when a backup was last proven restorable by a restore drill,
//! and the moments it can be brought back to; and the team's own exports (to a download or the team's
//! bucket), with their progress and history.

use leptos::{ev::SubmitEvent, prelude::*};

use super::{
    form::{FormEnd, Submission, TextField},
    layout::SignedIn,
    set_ready, time,
};
use crate::{
    api::{backup_status, export_bucket, export_team, set_export_bucket, team_exports},
    error::AppError,
    model::{
        BackupOverview, ExportDestination, ExportSchedule, ExportStatus, TeamBucketInput, TeamExport, TeamExportInput,
    },
};

#[component]
pub fn DataSafetyPage() -> impl IntoView {
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
        <Exports />
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

/// "Export the team's data": the team's own bucket, the export form and the history with progress.
#[component]
fn Exports() -> impl IntoView {
    let version = RwSignal::new(0_u32);
    let history = LocalResource::new(move || {
        version.track();
        team_exports()
    });
    // While an export runs, the history is asked again every second to show its progress.
    Effect::new(move || {
        let running = history
            .get()
            .and_then(Result::ok)
            .is_some_and(|list| list.iter().any(|e| e.status == ExportStatus::Running));
        if running {
            set_timeout(move || version.update(|v| *v += 1), std::time::Duration::from_secs(1));
        }
    });
    view! {
        <section class="card">
            <h2>"Export the team's data"</h2>
            <p class="muted">
                "Everything of this team (projects, issues, comments, history, members, the audit log and every file) in one archive, encrypted with your passphrase or to your age key."
            </p>
            <ExportForm on_started=move || version.update(|v| *v += 1) />
            <h3>"Past exports"</h3>
            <table class="list" data-testid="exports">
                <thead>
                    <tr><th>"Started (UTC)"</th><th>"To"</th><th>"Progress"</th><th>"Result"</th><th>"Archive"</th></tr>
                </thead>
                <tbody>
                    {move || history.get().map(|r| match r {
                        Ok(list) if list.is_empty() => view! { <tr><td colspan="5" class="muted">"No export yet."</td></tr> }.into_any(),
                        Ok(list) => list.into_iter().map(|e| view! { <ExportRow export=e /> }).collect_view().into_any(),
                        Err(e) => view! { <tr><td colspan="5" class="alert" role="alert">{e.message}</td></tr> }.into_any(),
                    })}
                </tbody>
            </table>
        </section>
        <BucketSettings />
    }
}

#[component]
fn ExportRow(export: TeamExport) -> impl IntoView {
    let download = (export.status == ExportStatus::Done && export.destination == ExportDestination::Download)
        .then(|| format!("/export/team/{}", export.id));
    let to = match export.destination {
        ExportDestination::Download => "Download",
        ExportDestination::Bucket => "Team bucket",
    };
    view! {
        <tr data-status=export.status.as_str()>
            <td>{time::date_time(export.created_at)}</td>
            <td>{to}</td>
            <td><progress max="100" value=export.progress.to_string()>{format!("{}%", export.progress)}</progress></td>
            <td>{export.detail}</td>
            <td>{download.map(|href| view! { <a href=href download="">"Download"</a> })}</td>
        </tr>
    }
}

#[component]
fn ExportForm(on_started: impl Fn() + Send + Sync + Copy + 'static) -> impl IntoView {
    let to_bucket = RwSignal::new(false);
    let passphrase = RwSignal::new(String::new());
    let recipient = RwSignal::new(String::new());
    let start = Submission::new(export_team, move |_| {
        passphrase.set(String::new());
        on_started();
    });
    let errors = start.errors;
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let destination =
            if to_bucket.get_untracked() { ExportDestination::Bucket } else { ExportDestination::Download };
        let input = TeamExportInput {
            destination,
            passphrase: passphrase.get_untracked(),
            recipient: recipient.get_untracked(),
        };
        if let Some(message) = input.lock_error() {
            errors.set(Some(AppError::field("passphrase", message)));
            return;
        }
        start.submit(input);
    };
    view! {
        <form on:submit=submit novalidate>
            <fieldset>
                <legend>"Send it to"</legend>
                <label><input type="radio" name="destination" prop:checked=move || !to_bucket.get() on:change=move |_| to_bucket.set(false) />" a download"</label>
                <label><input type="radio" name="destination" prop:checked=move || to_bucket.get() on:change=move |_| to_bucket.set(true) />" the team's bucket"</label>
            </fieldset>
            <TextField label="Passphrase (12 characters or more)" name="passphrase" kind="password" autocomplete="new-password" value=passphrase errors />
            <TextField label="Or an age public key" name="recipient" placeholder="age1..." value=recipient errors />
            <FormEnd form=start.state() label="Export now" />
        </form>
    }
}

/// The team's own bucket: where "the team's bucket" exports go.
#[component]
fn BucketSettings() -> impl IntoView {
    let current = LocalResource::new(export_bucket);
    let endpoint = RwSignal::new(String::new());
    let region = RwSignal::new(String::from("us-east-1"));
    let bucket = RwSignal::new(String::new());
    let prefix = RwSignal::new(String::new());
    let access_key_id = RwSignal::new(String::new());
    let secret_access_key = RwSignal::new(String::new());
    let path_style = RwSignal::new(true);
    let schedule = RwSignal::new(ExportSchedule::Off);
    let schedule_recipient = RwSignal::new(String::new());
    let saved = RwSignal::new(false);
    Effect::new(move || {
        if let Some(Ok(Some(b))) = current.get() {
            endpoint.set(b.endpoint);
            region.set(b.region);
            bucket.set(b.bucket);
            prefix.set(b.prefix);
            access_key_id.set(b.access_key_id);
            path_style.set(b.path_style);
            schedule.set(b.schedule);
            schedule_recipient.set(b.schedule_recipient);
        }
    });
    let save = Submission::new(set_export_bucket, move |_| {
        secret_access_key.set(String::new());
        saved.set(true);
    });
    let errors = save.errors;
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let input = TeamBucketInput {
            endpoint: endpoint.get_untracked(),
            region: region.get_untracked(),
            bucket: bucket.get_untracked(),
            prefix: prefix.get_untracked(),
            access_key_id: access_key_id.get_untracked(),
            secret_access_key: secret_access_key.get_untracked(),
            path_style: path_style.get_untracked(),
            schedule: schedule.get_untracked(),
            schedule_recipient: schedule_recipient.get_untracked(),
        };
        if let Some(message) = input.schedule_error() {
            errors.set(Some(AppError::field("schedule_recipient", message)));
            return;
        }
        save.submit(input);
    };
    view! {
        <section class="card">
            <h2>"The team's bucket"</h2>
            <p class="muted">"An S3-compatible bucket of your own. The secret key is stored encrypted and never shown again."</p>
            <form on:submit=submit novalidate>
                <TextField label="Endpoint" name="endpoint" placeholder="https://s3.eu-central-1.amazonaws.com" value=endpoint errors />
                <TextField label="Region" name="region" value=region errors />
                <TextField label="Bucket" name="bucket" value=bucket errors />
                <TextField label="Key prefix" name="prefix" placeholder="moth/" value=prefix errors />
                <TextField label="Access key ID" name="access_key_id" value=access_key_id errors />
                <TextField label="Secret access key" name="secret_access_key" kind="password" autocomplete="new-password" value=secret_access_key errors />
                <label class="check"><input type="checkbox" prop:checked=move || path_style.get() on:change=move |ev| path_style.set(event_target_checked(&ev)) />" Path-style addresses (most S3-compatible stores)"</label>
                <ScheduleSelect schedule />
                <TextField label="Age public key for scheduled exports" name="schedule_recipient" placeholder="age1..." value=schedule_recipient errors />
                <FormEnd form=save.state() label="Save bucket" />
                <Show when=move || saved.get()><span class="muted" role="status">" Saved."</span></Show>
            </form>
        </section>
    }
}

/// "Export to it by itself": never, every day or every week.
#[component]
fn ScheduleSelect(schedule: RwSignal<ExportSchedule>) -> impl IntoView {
    view! {
        <div class="field">
            <label for="schedule">"Export to it by itself"</label>
            <select id="schedule" on:change=move |ev| schedule.set(ExportSchedule::parse(&event_target_value(&ev)).unwrap_or_default())>
                {[ExportSchedule::Off, ExportSchedule::Daily, ExportSchedule::Weekly].into_iter().map(|s| view! {
                    <option value=s.as_str() selected=move || schedule.get() == s>{match s {
                        ExportSchedule::Off => "Never",
                        ExportSchedule::Daily => "Every day",
                        ExportSchedule::Weekly => "Every week",
                    }}</option>
                }).collect_view()}
            </select>
        </div>
    }
}
