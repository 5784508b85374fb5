//! Attachments: uploading (called by the `http::upload` routes, which stream the body), listing,
//! links to the file origin, deleting, and the Quarantine of refused uploads. Every upload is
//! authorised before its body is read, runs the whole pipeline of [`crate::files`], and leaves an audit
//! event whether it was stored or refused. Files attach to an issue or to one of its comments; a
//! comment's files follow the comment's visibility, and those of an internal comment are never named
//! in the issue's history (guests read the history of public issues).

use app::{
    api::{FilesApi, RequestParts},
    error::{AppError, ErrorCode},
    model::{
        parse, Attachment, AttachmentIdInput, CommentId, FileLink, IssueId, IssueIdInput, IssueVisibility,
        RejectedUpload, TeamId,
    },
};
use bytes::Bytes;

use super::{Request, Service};
use crate::{
    actor::Actor,
    db::{
        attachments::{self, Refused},
        audit,
        issues::{self, Change, StoredIssue, Visible},
    },
    files::{Rejection, Step},
    policy::{self, Action},
};

/// Where an upload goes, established before its body is read: an issue, or a comment of it (with
/// the comment's visibility).
pub struct UploadTarget {
    request: Request,
    actor: Actor,
    issue: Visible<StoredIssue>,
    comment: Option<(CommentId, IssueVisibility)>,
}

impl Service {
    /// Step 0 of an upload: a signed-in member who may see the issue (guests: public issues and
    /// their own, in public projects they belong to). Anyone else learns only "not found".
    pub async fn upload_target(&self, req: &RequestParts, issue_id: IssueId) -> Result<UploadTarget, AppError> {
        let (request, actor) = self.actor(req).await?;
        let issue = issues::find(&self.db, &actor, issue_id).await?.ok_or_else(AppError::not_found)?;
        Ok(UploadTarget { request, actor, issue, comment: None })
    }

    /// Step 0 of an upload to a comment: the comment's author, who still sees it; others who see it
    /// are refused, anyone else learns only "not found".
    pub async fn comment_upload_target(
        &self,
        req: &RequestParts,
        comment_id: CommentId,
    ) -> Result<UploadTarget, AppError> {
        let (request, actor) = self.actor(req).await?;
        let (issue, comment) =
            issues::find_comment(&self.db, &actor, comment_id).await?.ok_or_else(AppError::not_found)?;
        if !policy::may_attach_to_comment(&actor, comment.author.id) {
            return Err(AppError::new(ErrorCode::Forbidden, "You can attach files only to your own comments."));
        }
        Ok(UploadTarget { request, actor, issue, comment: Some((comment.id, comment.visibility)) })
    }

    /// A place in the upload pipeline, to hold from before the body is read until the file is stored;
    /// `None` when none came free in time (then the caller answers `busy`).
    pub async fn upload_slot(&self, target: &UploadTarget) -> Option<crate::files::fair::Place> {
        self.files.slot(target.request.address(), &target.actor.team_id().to_string()).await
    }

    /// Runs the pipeline on an upload's bytes and records the outcome. The caller holds a
    /// [`Service::upload_slot`].
    pub async fn upload<S, E>(&self, target: UploadTarget, name: &str, body: S) -> Result<Attachment, AppError>
    where
        S: tokio_stream::Stream<Item = Result<Bytes, E>> + Unpin + Send,
    {
        let mut counted = Counted { body, bytes: 0 };
        let accepted = self.files.accept(name, &mut counted).await;
        let outcome = accepted.as_ref().map_or_else(|r| r.step.as_str(), |_| "stored");
        self.files.metrics.count_upload(outcome);
        match accepted {
            Ok(stored) => {
                let comment = target.comment.map(|(id, _)| id);
                // A file of an internal comment is not named in the history guests may read.
                let told = target.comment.is_none_or(|(_, visibility)| visibility == IssueVisibility::Public);
                let change = Change { field: "attachment", old: String::new(), new: stored.name.clone() };
                let history = told.then_some(&change);
                let (db, actor, issue, now) = (&self.db, &target.actor, &target.issue, self.now());
                let attachment =
                    match attachments::insert(db, actor, issue, comment, &stored.as_row(), history, now).await {
                        Ok(attachment) => attachment,
                        Err(e) => {
                            // Not recorded (the comment was deleted meanwhile, or the database failed):
                            // nothing would ever serve or remove the stored bytes, so they go now.
                            self.remove_stored(&stored.storage_key).await;
                            return Err(e.into());
                        }
                    };
                let on = comment.map_or_else(String::new, |c| format!(" (comment {c})"));
                let detail = format!("{} ({} bytes) on issue {}{on}", stored.name, stored.size, target.issue.id);
                self.audit(&target.request, audit::Event::FileAttached, Some(&target.actor), detail).await;
                attachment.ok_or_else(AppError::internal)
            }
            Err(rejection) if rejection.timed_out => Err(AppError::new(ErrorCode::RequestTimeout, rejection.reason)),
            Err(rejection) => Err(self.refuse(&target, name, counted.bytes, &rejection).await),
        }
    }

    /// A signed, short-lived link to a file the actor may see (the caller found it through the
    /// actor's visibility rules).
    fn link_to(&self, team: TeamId, attachment: &Attachment) -> FileLink {
        let inline = app::model::FILE_TYPES
            .iter()
            .any(|t| t.inline && t.mime == attachment.content_type && attachment.name.ends_with(t.extension));
        let ttl = i64::try_from(self.files.link_ttl.as_secs()).unwrap_or(300);
        let expires_at = self.now() / 1000 + ttl;
        let token = self.files.links.sign(team, attachment.id, inline, expires_at);
        FileLink { url: format!("{}/f/{token}", self.files.files_url), expires_at: expires_at * 1000 }
    }

    /// Links for files the actor may see, listed for them.
    pub(super) fn add_links(&self, team: TeamId, files: &mut [Attachment]) {
        for file in files {
            file.link = Some(self.link_to(team, file));
        }
    }

    /// Removes a deleted attachment's bytes from the object store.
    pub(super) async fn remove_stored(&self, storage_key: &str) {
        if let Err(e) = self.files.store.delete(storage_key).await {
            // The row is gone, so nothing serves the object; it is only space.
            tracing::error!(error = %e, key = %storage_key, "a deleted attachment's bytes were not removed");
        }
    }

    /// Records a refused upload (Quarantine and the audit log) and answers why it was refused.
    pub async fn refuse(&self, target: &UploadTarget, name: &str, size: u64, rejection: &Rejection) -> AppError {
        let shown_name: String = name.chars().filter(|c| !c.is_control()).take(255).collect();
        let refused = Refused {
            name: &shown_name,
            size,
            step: rejection.step.as_str(),
            reason: &rejection.reason,
            signature: rejection.signature.as_deref(),
        };
        if let Err(e) = attachments::record_rejection(&self.db, &target.actor, &refused, self.now()).await {
            tracing::error!(error = %e, "a refused upload was not recorded");
        }
        let detail = format!(
            "{shown_name:?} ({size} bytes) refused at {}: {}{}",
            rejection.step.as_str(),
            rejection.reason,
            rejection.signature.as_deref().map(|s| format!(" [{s}]")).unwrap_or_default()
        );
        let record = audit::Record {
            event: audit::Event::UploadRejected,
            success: false,
            team_id: Some(target.actor.team_id()),
            actor_id: Some(target.actor.user_id()),
            detail,
            source_ip: target.request.source_ip.clone(),
        };
        audit::record(&self.db, record, self.now()).await;
        match (rejection.step, rejection.unavailable) {
            (_, true) => AppError::new(ErrorCode::Unavailable, rejection.reason.clone()),
            (Step::Size, _) => AppError::new(ErrorCode::TooLarge, rejection.reason.clone()),
            _ => AppError::field("file", rejection.reason.clone()),
        }
    }
}

/// A body that counts the bytes read from it (for the Quarantine's size of a refused upload).
struct Counted<S> {
    body: S,
    bytes: u64,
}

impl<S, E> tokio_stream::Stream for Counted<S>
where
    S: tokio_stream::Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let polled = std::pin::Pin::new(&mut self.body).poll_next(cx);
        if let std::task::Poll::Ready(Some(Ok(piece))) = &polled {
            self.bytes += piece.len() as u64;
        }
        polled
    }
}

#[async_trait::async_trait]
impl FilesApi for Service {
    async fn list_attachments(&self, req: &RequestParts, input: IssueIdInput) -> Result<Vec<Attachment>, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor(req).await?;
        let issue = issues::find(&self.db, &actor, input.issue_id).await?.ok_or_else(AppError::not_found)?;
        let mut files = attachments::of_issue(&self.db, &issue).await?;
        self.add_links(actor.team_id(), &mut files);
        Ok(files)
    }

    async fn attachment_link(&self, req: &RequestParts, input: AttachmentIdInput) -> Result<FileLink, AppError> {
        let input = parse(input)?;
        let (_, actor) = self.actor(req).await?;
        let found = attachments::find(&self.db, &actor, input.attachment_id).await?.ok_or_else(AppError::not_found)?;
        Ok(self.link_to(actor.team_id(), &found.attachment))
    }

    async fn delete_attachment(&self, req: &RequestParts, input: AttachmentIdInput) -> Result<(), AppError> {
        let input = parse(input)?;
        let (request, actor) = self.actor(req).await?;
        let found = attachments::find(&self.db, &actor, input.attachment_id).await?.ok_or_else(AppError::not_found)?;
        if !policy::may_delete_attachment(&actor, found.uploader) {
            return Err(AppError::new(ErrorCode::Forbidden, "You can delete only the files you attached."));
        }
        let change = Change { field: "attachment", old: found.attachment.name.clone(), new: String::new() };
        let history = found.shown_in_history().then_some(&change);
        let Some(storage_key) = attachments::delete(&self.db, &actor, &found, history, self.now()).await? else {
            return Err(AppError::not_found());
        };
        self.remove_stored(&storage_key).await;
        let detail = format!("{} on {}-{}", found.attachment.name, found.issue.key, found.issue.number);
        self.audit(&request, audit::Event::AttachmentDeleted, Some(&actor), detail).await;
        Ok(())
    }

    async fn quarantine(&self, req: &RequestParts) -> Result<Vec<RejectedUpload>, AppError> {
        let (_, actor) = self.actor_for(req, Action::ReadQuarantine).await?;
        Ok(attachments::quarantine(&self.db, &actor, 200).await?)
    }
}
