//! Saved views of a project's list: a name for a filter and order, for oneself or shared with the
//! team's members. Who sees and deletes which is `policy::may_see_view` and `policy::may_delete_view`.

use app::{
    api::{RequestParts, ViewsApi},
    error::{AppError, ErrorCode},
    model::{parse, SaveViewInput, SavedView, ViewIdInput, VIEWS_PER_PERSON},
};

use super::Service;
use crate::{
    db::{
        audit, projects,
        views::{self, SaveError},
    },
    policy::{self, Action},
};

#[async_trait::async_trait]
impl ViewsApi for Service {
    async fn save_view(&self, req: &RequestParts, input: SaveViewInput) -> Result<Vec<SavedView>, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor(req).await?;
        let project = projects::find(&self.db, &actor, input.project_id).await?.ok_or_else(AppError::not_found)?;
        if input.shared && !policy::may(&actor, Action::ShareViews) {
            return Err(AppError::new(ErrorCode::Forbidden, "Guests save views for themselves only."));
        }
        match views::save(&self.db, &actor, project.id, &input.name, &input.view, input.shared, self.now()).await {
            Ok(_) => {}
            Err(SaveError::NameTaken) => {
                let message = if input.shared {
                    "You or a shared view of this project already use this name."
                } else {
                    "You already have a view of this project with this name."
                };
                return Err(AppError::field("name", message));
            }
            Err(SaveError::TooMany) => {
                let message = format!("You keep {VIEWS_PER_PERSON} views in this project already: delete one first.");
                return Err(AppError::new(ErrorCode::Conflict, message));
            }
            Err(SaveError::Db(e)) => return Err(e.into()),
        }
        Ok(views::of_project(&self.db, &actor, project.id).await?)
    }

    async fn delete_view(&self, req: &RequestParts, input: ViewIdInput) -> Result<Vec<SavedView>, AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor(req).await?;
        let view = views::find(&self.db, &actor, input.view_id).await?.ok_or_else(AppError::not_found)?;
        // The view's project must still be one the actor reads (membership may have ended).
        let project = projects::find(&self.db, &actor, view.project_id).await?.ok_or_else(AppError::not_found)?;
        if !policy::may_delete_view(&actor, view.owner_id, view.shared) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "Only its author, an owner or an admin may delete a shared view.",
            ));
        }
        if !views::delete(&self.db, &actor, view.id).await? {
            return Err(AppError::not_found());
        }
        let shared = if view.shared { "shared" } else { "personal" };
        let detail = format!("{shared} view {:?} of {} by {}", view.name, project.key, view.owner);
        self.audit(&request, audit::Event::ViewDeleted, Some(&actor), detail).await;
        Ok(views::of_project(&self.db, &actor, project.id).await?)
    }
}
