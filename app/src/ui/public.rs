//! The public address of a published project, `/p/<project id>`: anyone may read its public issues and
//! public comments, without signing in. Read-only.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

use super::set_ready;
use crate::{
    api::{published_issue, published_issues, published_project},
    model::{IssueSummary, ProjectId, PublishedIssueInput, PublishedProjectInput},
};

fn project_id() -> Option<ProjectId> {
    use_params_map().read_untracked().get("id").and_then(|id| id.parse().ok())
}

#[component]
pub fn PublicProjectPage() -> impl IntoView {
    on_cleanup(|| set_ready(false));
    let Some(id) = project_id() else {
        Effect::new(|| set_ready(true));
        return view! { <section class="card"><div class="alert" role="alert">"Not found."</div></section> }.into_any();
    };
    let project = LocalResource::new(move || published_project(PublishedProjectInput { project_id: id, after: 0 }));
    let issues = LocalResource::new(move || published_issues(PublishedProjectInput { project_id: id, after: 0 }));
    Effect::new(move || set_ready(project.get().is_some() && issues.get().is_some()));
    // Later pages, appended below the first by "More issues", like the members' list.
    let extra = RwSignal::new(Vec::<IssueSummary>::new());
    let next = RwSignal::new(None::<i64>);
    Effect::new(move || {
        if let Some(Ok(first)) = issues.get() {
            next.set(first.next_after);
        }
    });
    let more =
        Action::new_local(move |after: &i64| published_issues(PublishedProjectInput { project_id: id, after: *after }));
    Effect::new(move || {
        if let Some(Ok(page)) = more.value().get() {
            next.set(page.next_after);
            extra.update(|e| e.extend(page.issues));
        }
    });
    view! {
        {move || match (project.get(), issues.get()) {
            (Some(Ok(detail)), Some(Ok(page))) => view! {
                <section class="card">
                    <p class="muted">"Public issues, read-only"</p>
                    <h1>{format!("{} {}", detail.project.key, detail.project.name)}</h1>
                    <table class="list issues">
                        <thead><tr><th>"Issue"</th><th>"Title"</th><th>"Status"</th><th>"Severity"</th></tr></thead>
                        <tbody>
                            {page.issues.into_iter().chain(extra.get()).map(|i| {
                                let href = format!("/p/{id}/issues/{}", i.number);
                                view! {
                                    <tr>
                                        <td><A href=href>{i.reference}</A></td>
                                        <td>{i.title}</td>
                                        <td>{i.status.name}</td>
                                        <td>{i.severity.as_str()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    <Show when=move || next.get().is_some()>
                        <button type="button" on:click=move |_| {
                            if let Some(after) = next.get_untracked() {
                                more.dispatch(after);
                            }
                        }>"More issues"</button>
                    </Show>
                </section>
            }.into_any(),
            (Some(Err(e)), _) | (_, Some(Err(e))) => view! {
                <section class="card"><div class="alert" role="alert">{e.message}</div></section>
            }.into_any(),
            _ => view! { <p class="muted">"Loading…"</p> }.into_any(),
        }}
    }
    .into_any()
}

#[component]
pub fn PublicIssuePage() -> impl IntoView {
    on_cleanup(|| set_ready(false));
    let params = use_params_map();
    let Some(id) = project_id() else {
        Effect::new(|| set_ready(true));
        return view! { <section class="card"><div class="alert" role="alert">"Not found."</div></section> }.into_any();
    };
    // Asked again when a link in the text leads to another issue on the same route.
    let detail = LocalResource::new(move || {
        let number: i64 = params.read().get("number").and_then(|n| n.parse().ok()).unwrap_or(0);
        published_issue(PublishedIssueInput { project_id: id, number })
    });
    Effect::new(move || set_ready(detail.get().is_some()));
    view! {
        {move || detail.get().map(|r| match r {
            Ok(detail) => {
                let back = format!("/p/{id}");
                view! {
                    <section class="card">
                        <p class="muted"><A href=back>"All public issues"</A></p>
                        <h1>{format!("{} {}", detail.issue.reference, detail.issue.title)}</h1>
                        <dl class="meta">
                            <dt>"Status"</dt><dd>{detail.issue.status.name.clone()}</dd>
                            <dt>"Severity"</dt><dd>{detail.issue.severity.as_str()}</dd>
                        </dl>
                        <div class="markdown" inner_html=detail.issue.description_html.clone()></div>
                    </section>
                    <section class="card">
                        <h2>"Comments"</h2>
                        <ul class="comments">
                            {detail.comments.into_iter().map(|c| view! {
                                <li class="comment">
                                    <p class="muted"><strong>{c.author.display_name}</strong></p>
                                    <div class="markdown" inner_html=c.body_html></div>
                                </li>
                            }).collect_view()}
                        </ul>
                    </section>
                }.into_any()
            }
            Err(e) => view! { <section class="card"><div class="alert" role="alert">{e.message}</div></section> }.into_any(),
        })}
    }
    .into_any()
}
