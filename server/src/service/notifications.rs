//! The inbox, watching and notification settings of the signed-in person. Entries are read with the
//! reader's scope as it is now (`db::notifications::inbox`); watching needs the issue or project to be
//! one the actor reads.

use app::{
    api::{NotificationsApi, RequestParts},
    error::{AppError, ErrorCode},
    model::{
        parse, Inbox, InboxInput, IssueIdInput, MarkReadInput, NotificationPreferences, WatchIssueInput,
        WatchProjectInput,
    },
};

use super::Service;
use crate::{
    db::{issues, notifications, projects},
    policy::{self, Action},
};

#[async_trait::async_trait]
impl NotificationsApi for Service {
    async fn list_notifications(&self, req: &RequestParts, input: InboxInput) -> Result<Inbox, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor(req).await?;
        Ok(notifications::inbox(&self.db, &actor, input.before, input.unread_only).await?)
    }

    async fn mark_notifications_read(&self, req: &RequestParts, input: MarkReadInput) -> Result<Inbox, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor(req).await?;
        let ids = (!input.all).then_some(input.ids.as_slice());
        notifications::mark_read(&self.db, &actor, ids, self.now()).await?;
        Ok(notifications::inbox(&self.db, &actor, None, false).await?)
    }

    async fn watch_issue(&self, req: &RequestParts, input: WatchIssueInput) -> Result<bool, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor(req).await?;
        let issue = issues::find(&self.db, &actor, input.issue_id).await?.ok_or_else(AppError::not_found)?;
        notifications::watch_issue(&self.db, &actor, &issue, input.watching, self.now()).await?;
        Ok(notifications::is_watching(&self.db, &actor, &issue).await?)
    }

    async fn issue_watching(&self, req: &RequestParts, input: IssueIdInput) -> Result<bool, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor(req).await?;
        let issue = issues::find(&self.db, &actor, input.issue_id).await?.ok_or_else(AppError::not_found)?;
        Ok(notifications::is_watching(&self.db, &actor, &issue).await?)
    }

    async fn watch_project(&self, req: &RequestParts, input: WatchProjectInput) -> Result<bool, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor(req).await?;
        let project = projects::find(&self.db, &actor, input.project_id).await?.ok_or_else(AppError::not_found)?;
        if !policy::may(&actor, Action::WatchProjects) {
            let message = "Guests watch the issues they take part in, not whole projects.";
            return Err(AppError::new(ErrorCode::Forbidden, message));
        }
        notifications::watch_project(&self.db, &actor, project.id, input.watching, self.now()).await?;
        Ok(input.watching)
    }

    async fn notification_settings(&self, req: &RequestParts) -> Result<NotificationPreferences, AppError> {
        let (_, actor) = self.actor(req).await?;
        Ok(notifications::settings(&self.db, actor.user_id()).await?)
    }

    async fn save_notification_settings(
        &self,
        req: &RequestParts,
        input: NotificationPreferences,
    ) -> Result<NotificationPreferences, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor(req).await?;
        notifications::save_settings(&self.db, actor.user_id(), &input, self.now()).await?;
        Ok(notifications::settings(&self.db, actor.user_id()).await?)
    }
}

impl Service {
    /// The actor of a live connection's session as it is now (see `http::live`): the same reading of
    /// a session as every server function's, `None` once it is not signed in, not a member, or owes
    /// the team a second factor.
    pub async fn live_actor(&self, session: &tower_sessions::Session) -> Result<Option<crate::actor::Actor>, AppError> {
        let Some(actor) = self.sessions.actor(&self.db, session).await? else { return Ok(None) };
        if actor.team_requires_two_factor() && !self.has_two_factor(actor.user_id()).await? {
            return Ok(None);
        }
        Ok(Some(actor))
    }

    /// Now, in Unix seconds (signed links count in seconds).
    pub fn now_secs(&self) -> i64 {
        self.now() / 1000
    }
}
