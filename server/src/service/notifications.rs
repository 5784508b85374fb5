//! The inbox, watching and notification settings of the signed-in person. Entries are read with the
//! reader's scope as it is now (`db::notifications::inbox`); watching needs the issue or project to be
//! one the actor reads.

use app::{
    api::{NotificationsApi, RequestParts},
    error::{AppError, ErrorCode},
    model::{
        parse, Inbox, InboxInput, IssueIdInput, MarkReadInput, MentionInput, Mentionable, NotificationPreferences,
        ProjectWatchingInput, WatchIssueInput, WatchProjectInput,
    },
};

use super::Service;
use crate::{
    db::{accounts, issues, notifications, projects},
    notify::proof::AddressProofs,
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

    async fn mention_candidates(&self, req: &RequestParts, input: MentionInput) -> Result<Vec<Mentionable>, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor(req).await?;
        let issue = issues::find(&self.db, &actor, input.issue_id).await?.ok_or_else(AppError::not_found)?;
        if !policy::may(&actor, Action::ListMembers) {
            let message = "Guests mention the people they see on the issue by typing their @name.";
            return Err(AppError::new(ErrorCode::Forbidden, message));
        }
        Ok(notifications::mention_candidates(&self.db, &actor, &issue, input.internal, &input.prefix).await?)
    }

    async fn project_watching(&self, req: &RequestParts, input: ProjectWatchingInput) -> Result<bool, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor(req).await?;
        let project = projects::find(&self.db, &actor, input.project_id).await?.ok_or_else(AppError::not_found)?;
        Ok(notifications::is_watching_project(&self.db, &actor, project.id).await?)
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

    async fn send_address_proof(&self, req: &RequestParts) -> Result<bool, AppError> {
        let (_, actor) = self.actor(req).await?;
        if notifications::settings(&self.db, actor.user_id()).await?.email_verified {
            return Err(AppError::new(ErrorCode::Conflict, "Your address is already proven."));
        }
        let Some((message, base)) = self.mailer.compose() else { return Ok(false) };
        let user = accounts::find_user(&self.db, actor.user_id()).await?.ok_or_else(AppError::unauthenticated)?;
        self.one_proof_a_minute(actor.user_id())?;
        let token = AddressProofs::new(&self.files.keys).token(actor.user_id(), &user.email, self.now_secs());
        let to =
            user.email.parse().map_err(|_| AppError::new(ErrorCode::Unavailable, "Your address cannot be mailed."))?;
        let body = format!(
            "Open this link to prove that this address is yours, so that Moth may email you notifications \
             (it works for 24 hours):\n{base}/verify-email/{token}\n\n\
             If you did not ask for this, ignore this email.\n"
        );
        let message = message
            .to(to)
            .subject("Prove your email address for Moth")
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| crate::error::internal("address proof mail", e))?;
        self.mailer.deliver(message).await.map_err(|e| {
            tracing::error!(error = %e, "address proof not sent");
            AppError::new(ErrorCode::Unavailable, "The email could not be sent; try again in a few minutes.")
        })?;
        Ok(true)
    }
}

impl Service {
    /// Refuses a second address proof for one person within a minute (each is a mail Moth sends).
    fn one_proof_a_minute(&self, user: app::model::UserId) -> Result<(), AppError> {
        let now = self.now();
        let mut sent = self.proofs_sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sent.retain(|_, at| now - *at < 60_000);
        if let Some(at) = sent.get(&user) {
            let message = "A link was mailed to you less than a minute ago: check your mail, or ask again shortly.";
            let wait = u64::try_from((60_000 - (now - at)) / 1000 + 1).unwrap_or(60);
            return Err(AppError { retry_after: Some(wait), ..AppError::new(ErrorCode::RateLimited, message) });
        }
        sent.insert(user, now);
        Ok(())
    }

    /// Opens a link that proves an address (`GET /verify-email/<token>`): answers whether it proved
    /// its person's address (false: not valid, expired, or no longer their address).
    pub async fn prove_address(&self, token: &str) -> Result<bool, AppError> {
        let Some((user, address)) = AddressProofs::new(&self.files.keys).verify(token, self.now_secs()) else {
            return Ok(false);
        };
        Ok(notifications::prove_address(&self.db, user, &address, self.now()).await?)
    }

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
