//! Projects: the list of what the actor may see, "New project" for owners and admins, and a project's
//! page with its workflow, members and settings.

use leptos::{ev::SubmitEvent, prelude::*};
use leptos_router::{components::A, hooks::use_params_map};

use super::{
    confirm::ConfirmButton,
    form::{aria_invalid, FieldError, FormAlert, FormEnd, Submission, TextArea, TextField},
    layout::SignedIn,
    set_ready,
};
use crate::{
    api::{
        add_project_member, add_status, archive_project, create_project, edit_status, get_project, list_members,
        list_projects, open_project, remove_project_member, update_project,
    },
    error::AppError,
    model::{
        AddStatusInput, ArchiveProjectInput, EditStatusInput, IssuePage, Me, Member, NewProjectInput, OpenProjectInput,
        ProjectDetail, ProjectId, ProjectKeyInput, ProjectMemberInput, Role, SavedView, StatusCategory,
        UpdateProjectInput, UserId, Visibility,
    },
};

fn is_manager(me: &Me) -> bool {
    matches!(me.team.role, Role::Owner | Role::Admin)
}

fn visibility_label(v: Visibility) -> &'static str {
    match v {
        Visibility::Private => "Private",
        Visibility::Public => "Public",
    }
}

#[component]
pub fn ProjectsPage() -> impl IntoView {
    view! { <SignedIn page=|me| view! { <Projects me /> } /> }
}

#[component]
fn Projects(me: Me) -> impl IntoView {
    let projects = LocalResource::new(list_projects);
    Effect::new(move || set_ready(projects.get().is_some()));
    let manager = is_manager(&me);
    view! {
        <section class="card">
            <div class="card-head">
                <h1>"Projects"</h1>
                <Show when=move || manager>
                    <NewProject on_created=move || projects.refetch() />
                </Show>
            </div>
            <table class="list">
                <thead>
                    <tr><th>"Key"</th><th>"Name"</th><th>"Visibility"</th><th>"State"</th></tr>
                </thead>
                <tbody>
                    {move || projects.get().map(|r| match r {
                        // An empty list says what to do next, as the reader may do it.
                        Ok(list) if list.is_empty() => view! {
                            <tr><td colspan="4" class="muted">{if manager {
                                "No projects yet. Create the first with “New project”."
                            } else {
                                "You are not in any project yet: an owner or admin adds you to one."
                            }}</td></tr>
                        }.into_any(),
                        Ok(list) => list.into_iter().map(|p| {
                            let href = format!("/projects/{}", p.key);
                            view! {
                                <tr>
                                    <td><A href=href>{p.key.clone()}</A></td>
                                    <td>{p.name}</td>
                                    <td>{visibility_label(p.visibility)}{p.published.then_some(", published")}</td>
                                    <td>{if p.archived { "Archived" } else { "Active" }}</td>
                                </tr>
                            }
                        }).collect_view().into_any(),
                        Err(e) => view! { <tr><td colspan="4" class="alert" role="alert">{e.message}</td></tr> }.into_any(),
                    })}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn NewProject(on_created: impl Fn() + Send + Sync + Copy + 'static) -> impl IntoView {
    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let key = RwSignal::new(String::new());
    let visibility = RwSignal::new(Visibility::Private);
    let navigate = leptos_router::hooks::use_navigate();
    let form = Submission::new(create_project, move |project: crate::model::Project| {
        name.set(String::new());
        key.set(String::new());
        open.set(false);
        on_created();
        // A new project opens, ready for its first issue.
        navigate(&format!("/projects/{}", project.key), leptos_router::NavigateOptions::default());
    });
    let errors = form.errors;
    let submit = form.on_submit(move || NewProjectInput {
        name: name.get_untracked(),
        key: key.get_untracked(),
        description: String::new(),
        visibility: visibility.get_untracked(),
    });
    view! {
        <button type="button" class="primary-inline" on:click=move |_| open.update(|o| *o = !*o)>"New project"</button>
        <Show when=move || open.get()>
            <form class="invite" on:submit=submit novalidate>
                <TextField label="Name" name="name" value=name errors />
                <TextField label="Key" name="key" value=key errors />
                <p class="hint">"2 to 10 capital letters or digits, like WEB. Issues are numbered WEB-1, WEB-2, …"</p>
                <div class="field">
                    <label for="visibility">"Visibility"</label>
                    <select id="visibility" name="visibility" on:change=move |ev| {
                        if let Some(v) = Visibility::parse(&event_target_value(&ev)) {
                            visibility.set(v);
                        }
                    }>
                        <option value="private" selected=true>"Private: members only"</option>
                        <option value="public">"Public: guests may be members"</option>
                    </select>
                </div>
                <FormEnd form=form.state() label="Create" />
            </form>
        </Show>
    }
}

/// `/projects/KEY`: the project's issues, under a short header.
#[component]
pub fn ProjectPage() -> impl IntoView {
    let resource = project_of_the_address(true);
    view! { <SignedIn page=move |me| view! { <ProjectView me resource settings=false /> } /> }
}

/// `/projects/KEY/settings`: name, audience, publishing, members, workflow and archiving.
#[component]
pub fn ProjectSettingsPage() -> impl IntoView {
    let resource = project_of_the_address(false);
    view! { <SignedIn page=move |me| view! { <ProjectView me resource settings=true /> } /> }
}

/// The project named in the address, and with `issues` the first page of its issues: one request,
/// sent as the page mounts, at the same time as the session check.
fn project_of_the_address(issues: bool) -> ProjectResource {
    let key = use_params_map().read_untracked().get("key").unwrap_or_default();
    let list = super::address::list_of_the_address;
    LocalResource::new(move || {
        let key = key.clone();
        // Read when (re)fetched, so that a refetch asks for the list the address shows then.
        let (filter, sort) = list();
        async move {
            if issues {
                let page = open_project(OpenProjectInput { key, filter, sort }).await?;
                Ok((page.detail, Some((page.issues, page.views))))
            } else {
                Ok((get_project(ProjectKeyInput { key }).await?, None))
            }
        }
    })
}

/// The project, and on its issues page the first page of issues and the saved views.
type ProjectResource = LocalResource<Result<(ProjectDetail, Option<(IssuePage, Vec<SavedView>)>), AppError>>;

#[component]
fn ProjectView(me: Me, resource: ProjectResource, settings: bool) -> impl IntoView {
    // The issues report readiness once their list has loaded; the settings once the project has.
    Effect::new(move || {
        if resource.get().is_some_and(|r| r.is_err() || settings) {
            set_ready(true);
        }
    });
    let manager = is_manager(&me);
    let me = StoredValue::new(me);
    view! {
        {move || resource.get().map(|r| match r {
            Ok((detail, _)) if settings => view! {
                <ProjectBody detail=detail.clone() manager settings on_changed=move || resource.refetch() />
            }.into_any(),
            Ok((detail, first)) => view! {
                <ProjectBody detail=detail.clone() manager settings on_changed=move || resource.refetch()
                    can_watch=me.with_value(|me| me.team.role != crate::model::Role::Guest) />
                <super::issues::ProjectIssues detail me=me.get_value() first />
            }.into_any(),
            Err(e) => view! {
                <section class="card"><h1>"Project"</h1><div class="alert" role="alert">{e.message}</div></section>
            }.into_any(),
        })}
    }
}

/// A project's page head: what it is, its views, its workflow and members (managers may remove them),
/// and on the settings page the settings.
#[component]
fn ProjectBody(
    detail: ProjectDetail,
    manager: bool,
    /// The settings page: the manager's settings are shown (and the issues are not).
    settings: bool,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
    /// Members may watch the project (its new issues reach their inbox).
    #[prop(optional)]
    can_watch: bool,
) -> impl IntoView {
    let project = detail.project.clone();
    let id = project.id;
    view! {
        <section class="card">
            <ProjectHead project=project.clone() manager settings />
            {can_watch.then(|| view! { <p><super::notifications::WatchProject project_id=id /></p> })}
            // The issues page opens on its list: the workflow and the members wait behind a disclosure
            // there, and stand open on the settings page.
            <details class="project-details" open=settings>
                <summary>"Project details: workflow and members"</summary>
                {project.published.then(|| {
                    let path = format!("/p/{}", project.id);
                    view! { <p>"Public address: " <a href=path.clone()>{path.clone()}</a></p> }
                })}
                <h2>"Workflow"</h2>
                <ol class="workflow">
                    {detail.statuses.iter().map(|s| view! { <li>{s.name.clone()}<span class="muted">{format!(" ({})", s.category.as_str().replace('_', " "))}</span></li> }).collect_view()}
                </ol>
                <ProjectMembers project_id=id members=detail.members manager on_changed />
            </details>
        </section>
        <Show when=move || manager && settings>
            <section class="card">
                <h2>"Settings"</h2>
                <ProjectSettings project=project.clone() on_changed />
                <ProjectMemberAdder project_id=id on_changed />
                <WorkflowEditor project_id=id statuses=detail.statuses.clone() on_changed />
                <ArchiveProject project_id=id archived=project.archived on_changed />
            </section>
            <section class="card">
                <super::webhooks::ProjectWebhooks project_id=id />
            </section>
        </Show>
    }
}

/// The project's title, audience, description, public address and views.
#[component]
fn ProjectHead(project: crate::model::Project, manager: bool, settings: bool) -> impl IntoView {
    let issues = format!("/projects/{}", project.key);
    let settings_href = format!("/projects/{}/settings", project.key);
    view! {
        <h1>{format!("{} {}", project.key, project.name)}</h1>
        <p class="muted">
            {visibility_label(project.visibility)}
            {project.published.then_some(", published")}
            {project.archived.then_some(", archived")}
        </p>
        <p class="description">{project.description.clone()}</p>
        <nav class="views" aria-label="Project">
            <A href=issues attr:aria-current=(!settings).then_some("page")>"Issues"</A>
            <Show when=move || manager>
                <A href=settings_href.clone() attr:aria-current=settings.then_some("page")>"Settings"</A>
            </Show>
        </nav>
    }
}

/// The project's members; managers may remove them.
#[component]
fn ProjectMembers(
    project_id: ProjectId,
    members: Vec<Member>,
    manager: bool,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let remove = Submission::new(remove_project_member, move |()| on_changed());
    let has_members = !members.is_empty();
    view! {
        <FormAlert errors=remove.errors />
        <Show when=move || has_members>
            <h2>"Project members"</h2>
            <ul class="project-members">
                {members.clone().into_iter().map(|m| {
                    let user_id = m.user_id;
                    let label = format!("Remove from project: {}", m.display_name);
                    let question = format!("Remove {} from this project? They lose what only its members see.", m.display_name);
                    view! {
                        <li>
                            {m.display_name}" · "{m.role.label()}
                            <Show when=move || manager>
                                " "
                                <ConfirmButton label="Remove from project" name=label.clone() question=question.clone()
                                    confirm="Remove" on_confirm=move || remove.submit(ProjectMemberInput { project_id, user_id }) />
                            </Show>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </Show>
    }
}

/// Name, description, audience and publication.
#[component]
fn ProjectSettings(
    project: crate::model::Project,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let name = RwSignal::new(project.name.clone());
    let description = RwSignal::new(project.description.clone());
    let published = RwSignal::new(project.published);
    let visibility = RwSignal::new(project.visibility);
    let save = Submission::new(update_project, move |_| on_changed());
    let errors = save.errors;
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        save.submit(UpdateProjectInput {
            project_id: project.id,
            name: name.get_untracked(),
            description: description.get_untracked(),
            visibility: visibility.get_untracked(),
            published: published.get_untracked(),
        });
    };
    view! {
        <form on:submit=on_submit>
            <TextField label="Rename to" name="name" id="project-name" value=name errors />
            <TextArea label="About the project" name="description" id="project-description" rows=3 value=description errors />
            <div class="field">
                <label for="project-visibility">"Audience"</label>
                <select id="project-visibility" on:change=move |ev| {
                    if let Some(v) = Visibility::parse(&event_target_value(&ev)) {
                        visibility.set(v);
                    }
                }>
                    <option value="private" selected=visibility.get_untracked() == Visibility::Private>"Private"</option>
                    <option value="public" selected=visibility.get_untracked() == Visibility::Public>"Public"</option>
                </select>
            </div>
            <label class="check">
                <input type="checkbox" prop:checked=move || published.get() on:change=move |ev| published.set(event_target_checked(&ev))
                    aria-invalid=aria_invalid(errors, "published") aria-describedby="project-published-error" />
                "Published: anyone with the address may read its public issues"
            </label>
            <FieldError errors name="published" id="project-published-error" />
            <FormAlert errors />
            <p class="actions-row"><button type="submit" disabled=move || save.pending()>"Save"</button></p>
        </form>
    }
}

/// Adds a member of the team to the project.
#[component]
fn ProjectMemberAdder(project_id: ProjectId, on_changed: impl Fn() + Send + Sync + Copy + 'static) -> impl IntoView {
    let team_members = LocalResource::new(list_members);
    let chosen = RwSignal::new(None::<UserId>);
    let add = Submission::new(add_project_member, move |()| on_changed());
    view! {
        <div class="field-row">
            <div class="field">
                <label for="team-member">"Team member"</label>
                <select id="team-member" on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok())>
                    <option value="">"Choose…"</option>
                    {move || team_members.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|m| view! {
                        <option value=m.user_id.to_string()>{format!("{} ({})", m.display_name, m.role.label())}</option>
                    }).collect_view()}
                </select>
            </div>
            <button type="button" class="align-end" on:click=move |_| {
                if let Some(user_id) = chosen.get_untracked() {
                    add.submit(ProjectMemberInput { project_id, user_id });
                }
            }>"Add to project"</button>
        </div>
        <FormAlert errors=add.errors />
    }
}

/// The workflow's statuses to rename and reorder, and a new status.
#[component]
fn WorkflowEditor(
    project_id: ProjectId,
    statuses: Vec<crate::model::ProjectStatus>,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let new_status = RwSignal::new(String::new());
    let new_category = RwSignal::new(StatusCategory::Open);
    let add = Submission::new(add_status, move |_| {
        new_status.set(String::new());
        on_changed();
    });
    view! {
        <h3>"Workflow"</h3>
        <ol class="status-editor">
            {statuses.into_iter().enumerate().map(|(i, s)| {
                view! { <StatusRow status=s position=i64::try_from(i).unwrap_or(0) on_changed /> }
            }).collect_view()}
        </ol>
        <div class="field-row">
            <TextField label="Status name" name="name" id="status-name" value=new_status errors=add.errors />
            <div class="field">
                <label for="status-category">"Category"</label>
                <select id="status-category" on:change=move |ev| if let Some(c) = StatusCategory::parse(&event_target_value(&ev)) { new_category.set(c) }>
                    <option value="open">"open"</option>
                    <option value="in_progress">"in progress"</option>
                    <option value="done">"done"</option>
                </select>
            </div>
            <button type="button" class="align-end" on:click=move |_| {
                add.submit(AddStatusInput { project_id, name: new_status.get_untracked(), category: new_category.get_untracked() });
            }>"Add status"</button>
        </div>
        <FormAlert errors=add.errors />
    }
}

/// One status of the workflow editor: its name to edit, "Rename" and "Move up".
#[component]
fn StatusRow(
    status: crate::model::ProjectStatus,
    position: i64,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let status_id = status.id;
    let name = RwSignal::new(status.name.clone());
    let label = format!("Name of status {}", status.name);
    let edit = Submission::new(edit_status, move |_| on_changed());
    let errors = edit.errors;
    let error_id = format!("status-{status_id}-error");
    view! {
        <li class="status-row">
            <input aria-label=label prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))
                aria-invalid=aria_invalid(errors, "name") aria-describedby=error_id.clone() />
            <button type="button" on:click=move |_| {
                edit.submit(EditStatusInput { status_id, name: name.get_untracked(), position });
            }>"Rename"</button>
            <button type="button" disabled=position == 0 on:click=move |_| {
                edit.submit(EditStatusInput { status_id, name: name.get_untracked(), position: position - 1 });
            }>"Move up"</button>
            <FieldError errors name="name" id=error_id />
        </li>
    }
}

/// Archives the project, or restores an archived one.
#[component]
fn ArchiveProject(
    project_id: ProjectId,
    archived: bool,
    on_changed: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let archive = Submission::new(archive_project, move |_| on_changed());
    view! {
        <FormAlert errors=archive.errors />
        <p class="actions-row">
            <button type="button" class="danger" on:click=move |_| {
                archive.submit(ArchiveProjectInput { project_id, archived: !archived });
            }>{if archived { "Restore" } else { "Archive" }}</button>
        </p>
    }
}
