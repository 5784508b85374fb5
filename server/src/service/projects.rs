//! Projects of the active team: listing what the actor may see, and (OWNER, ADMIN) creating, changing,
//! archiving projects and managing their members.

use app::{
    api::{ProjectsApi, RequestParts},
    error::{AppError, ErrorCode},
    model::{
        parse, ArchiveProjectInput, NewProjectInput, Project, ProjectDetail, ProjectId, ProjectKeyInput,
        ProjectMemberInput, UpdateProjectInput, Visibility,
    },
};

use super::Service;
use crate::{
    actor::Actor,
    db::{
        audit, members,
        projects::{self, ProjectChanges},
    },
    policy::{self, Action},
};

impl Service {
    /// A project of the actor's team that the actor may see, or "not found".
    async fn visible_project(&self, actor: &Actor, id: ProjectId) -> Result<Project, AppError> {
        projects::find(&self.db, actor, id).await?.ok_or_else(AppError::not_found)
    }
}

impl Service {
    /// The project with this key that the actor may see, with its workflow and (for members who may
    /// list members) its members: what `get_project` and `open_project` answer.
    pub(super) async fn project_detail(&self, actor: &Actor, key: &str) -> Result<ProjectDetail, AppError> {
        let project = projects::find_by_key(&self.db, actor, key).await?.ok_or_else(AppError::not_found)?;
        let statuses = projects::statuses(&self.db, actor, project.id).await?;
        // Guests do not see who else belongs to the project.
        let members = if policy::may(actor, Action::ListMembers) {
            projects::members(&self.db, actor, project.id).await?
        } else {
            Vec::new()
        };
        Ok(ProjectDetail { project, statuses, members })
    }
}

#[async_trait::async_trait]
impl ProjectsApi for Service {
    async fn list_projects(&self, req: &RequestParts) -> Result<Vec<Project>, AppError> {
        let (_, actor) = self.actor(req).await?;
        Ok(projects::list(&self.db, &actor).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn create_project(&self, req: &RequestParts, input: NewProjectInput) -> Result<Project, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::ManageProjects).await?;
        let id = match projects::create(&self.db, &actor, &input, self.now()).await {
            Ok(id) => id,
            Err(e) if e.is_unique_violation() => {
                return Err(AppError::field("key", "Another project of this team uses this key."));
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(project_id = %id, team_id = %actor.team_id(), "project created");
        let project = self.visible_project(&actor, id).await?;
        let detail = format!("project {} ({})", project.key, project.visibility.as_str());
        self.audit(&request, audit::Event::ProjectCreated, Some(&actor), detail).await;
        Ok(project)
    }

    async fn get_project(&self, req: &RequestParts, input: ProjectKeyInput) -> Result<ProjectDetail, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor(req).await?;
        self.project_detail(&actor, &input.key).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_project(&self, req: &RequestParts, input: UpdateProjectInput) -> Result<Project, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::ManageProjects).await?;
        let project = self.visible_project(&actor, input.project_id).await?;
        if input.published && input.visibility != Visibility::Public {
            return Err(AppError::field("published", "Only a public project can be published."));
        }
        if input.visibility == Visibility::Private && projects::guest_count(&self.db, &actor, project.id).await? > 0 {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "Guests belong to this project: remove them before making it private.",
            ));
        }
        let changes = ProjectChanges {
            name: &input.name,
            description: &input.description,
            visibility: input.visibility,
            published: input.published,
        };
        if !projects::update(&self.db, &actor, project.id, &changes, self.now()).await? {
            return Err(AppError::not_found());
        }
        let detail = format!(
            "project {}: audience {} -> {}, published {} -> {}",
            project.key,
            project.visibility.as_str(),
            input.visibility.as_str(),
            project.published,
            input.published
        );
        self.audit(&request, audit::Event::ProjectChanged, Some(&actor), detail).await;
        self.visible_project(&actor, project.id).await
    }

    async fn archive_project(&self, req: &RequestParts, input: ArchiveProjectInput) -> Result<Project, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::ManageProjects).await?;
        let project = self.visible_project(&actor, input.project_id).await?;
        if !projects::set_archived(&self.db, &actor, project.id, input.archived, self.now()).await? {
            return Err(AppError::not_found());
        }
        let done = if input.archived { "archived" } else { "restored" };
        self.audit(&request, audit::Event::ProjectArchived, Some(&actor), format!("project {} {done}", project.key))
            .await;
        self.visible_project(&actor, project.id).await
    }

    #[tracing::instrument(skip_all)]
    async fn add_project_member(&self, req: &RequestParts, input: ProjectMemberInput) -> Result<(), AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::ManageProjects).await?;
        let project = self.visible_project(&actor, input.project_id).await?;
        let member = members::find(&self.db, &actor, input.user_id).await?.ok_or_else(AppError::not_found)?;
        if !policy::may_join_project(member.role, project.visibility) {
            return Err(AppError::new(ErrorCode::Forbidden, "Guests can only join public projects."));
        }
        match projects::add_member(&self.db, &actor, project.id, member.user_id, self.now()).await {
            Ok(()) => {
                let detail = format!("{} ({}) to project {}", member.email, member.role.label(), project.key);
                self.audit(&request, audit::Event::ProjectMemberAdded, Some(&actor), detail).await;
                Ok(())
            }
            Err(e) if e.is_unique_violation() => {
                Err(AppError::new(ErrorCode::Conflict, "This person is already a member of the project."))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn remove_project_member(&self, req: &RequestParts, input: ProjectMemberInput) -> Result<(), AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor_for(req, Action::ManageProjects).await?;
        let project = self.visible_project(&actor, input.project_id).await?;
        let member = members::find(&self.db, &actor, input.user_id).await?.ok_or_else(AppError::not_found)?;
        if !projects::remove_member(&self.db, &actor, project.id, member.user_id).await? {
            return Err(AppError::not_found());
        }
        let detail = format!("{} ({}) from project {}", member.email, member.user_id, project.key);
        self.audit(&request, audit::Event::ProjectMemberRemoved, Some(&actor), detail).await;
        Ok(())
    }

    async fn add_status(
        &self,
        req: &RequestParts,
        input: app::model::AddStatusInput,
    ) -> Result<app::model::ProjectStatus, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor_for(req, Action::ManageProjects).await?;
        let project = self.visible_project(&actor, input.project_id).await?;
        let id = match projects::add_status(&self.db, &actor, project.id, &input.name, input.category).await {
            Ok(id) => id,
            Err(e) if e.is_unique_violation() => {
                return Err(AppError::field("name", "The workflow has this status already."))
            }
            Err(e) => return Err(e.into()),
        };
        projects::statuses(&self.db, &actor, project.id)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(AppError::internal)
    }

    async fn edit_status(
        &self,
        req: &RequestParts,
        input: app::model::EditStatusInput,
    ) -> Result<Vec<app::model::ProjectStatus>, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor_for(req, Action::ManageProjects).await?;
        let project_id =
            projects::status_project(&self.db, &actor, input.status_id).await?.ok_or_else(AppError::not_found)?;
        let project = self.visible_project(&actor, project_id).await?;
        let mut order: Vec<app::model::StatusId> =
            projects::statuses(&self.db, &actor, project.id).await?.into_iter().map(|s| s.id).collect();
        order.retain(|id| *id != input.status_id);
        let place = usize::try_from(input.position).unwrap_or(usize::MAX).min(order.len());
        order.insert(place, input.status_id);
        match projects::edit_workflow(&self.db, &actor, project.id, (input.status_id, &input.name), &order).await {
            Ok(()) => Ok(projects::statuses(&self.db, &actor, project.id).await?),
            Err(e) if e.is_unique_violation() => Err(AppError::field("name", "The workflow has this status already.")),
            Err(e) => Err(e.into()),
        }
    }
}
