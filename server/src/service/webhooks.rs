//! A project's webhooks (OWNER and ADMIN): made with a secret shown once and sealed at rest, an
//! address the SSRF guard allows, and the events they hear of; their deliveries are the webhook
//! worker's (`crate::webhooks`).

use app::{
    api::{RequestParts, WebhooksApi},
    error::{AppError, ErrorCode},
    model::{
        parse, CreatedWebhook, NewWebhookInput, ProjectWebhooksInput, RedeliverInput, Webhook, WebhookDelivery,
        WebhookIdInput,
    },
};
use base64::{engine::general_purpose::STANDARD, Engine};

use super::Service;
use crate::{
    db::{audit, projects, webhooks},
    export::ssrf,
    policy::Action,
};

#[async_trait::async_trait]
impl WebhooksApi for Service {
    async fn create_webhook(&self, req: &RequestParts, input: NewWebhookInput) -> Result<CreatedWebhook, AppError> {
        let input = parse(input)?.into_inner();
        let (request, actor) = self.actor_for(req, Action::ManageWebhooks).await?;
        let project = projects::find(&self.db, &actor, input.project_id).await?.ok_or_else(AppError::not_found)?;
        if webhooks::list(&self.db, &actor, project.id).await?.len() >= webhooks::MAX_PER_PROJECT {
            let message = format!("A project has at most {} webhooks: delete one first.", webhooks::MAX_PER_PROJECT);
            return Err(AppError::new(ErrorCode::Conflict, message));
        }
        if webhooks::count_of_team(&self.db, &actor).await? >= webhooks::MAX_PER_TEAM {
            let message = format!("A team has at most {} webhooks: delete one first.", webhooks::MAX_PER_TEAM);
            return Err(AppError::new(ErrorCode::Conflict, message));
        }
        ssrf::check_url(&input.url, self.allow_private_endpoints)
            .await
            .map_err(|e| AppError::field("url", format!("Moth does not connect there: {e}.")))?;
        let (bytes, secret) = crate::webhooks::sign::new_secret();
        let sealed = self.files.keys.seal(&bytes);
        let hook = webhooks::NewHook {
            project: project.id,
            url: &input.url,
            events: &input.events,
            internal: input.internal,
            secret: webhooks::SealedSecret {
                secret: STANDARD.encode(&sealed.bytes),
                key_id: sealed.key_id,
                wrapped_key: sealed.wrapped_key,
            },
        };
        let webhook = webhooks::create(&self.db, &actor, hook, self.now()).await?;
        let events: Vec<&str> = webhook.events.iter().map(|e| e.as_str()).collect();
        let detail = format!(
            "hook {} of {} to {} for {}{}",
            webhook.id,
            project.key,
            webhook.url,
            events.join(", "),
            if webhook.internal { ", internal content included" } else { "" }
        );
        self.audit(&request, audit::Event::WebhookCreated, Some(&actor), detail).await;
        Ok(CreatedWebhook { webhook, secret })
    }

    async fn list_webhooks(&self, req: &RequestParts, input: ProjectWebhooksInput) -> Result<Vec<Webhook>, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor_for(req, Action::ManageWebhooks).await?;
        let project = projects::find(&self.db, &actor, input.project_id).await?.ok_or_else(AppError::not_found)?;
        Ok(webhooks::list(&self.db, &actor, project.id).await?)
    }

    async fn delete_webhook(&self, req: &RequestParts, input: WebhookIdInput) -> Result<(), AppError> {
        let input = parse(input)?.into_inner();
        let (request, actor) = self.actor_for(req, Action::ManageWebhooks).await?;
        let hook = webhooks::find(&self.db, &actor, input.webhook_id).await?.ok_or_else(AppError::not_found)?;
        if webhooks::delete(&self.db, &actor, hook.id).await? {
            let detail = format!("hook {} to {}", hook.id, hook.url);
            self.audit(&request, audit::Event::WebhookDeleted, Some(&actor), detail).await;
        }
        Ok(())
    }

    async fn send_test_webhook(&self, req: &RequestParts, input: WebhookIdInput) -> Result<(), AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor_for(req, Action::ManageWebhooks).await?;
        let hook = webhooks::find(&self.db, &actor, input.webhook_id).await?.ok_or_else(AppError::not_found)?;
        webhooks::queue_test(&self.db, &actor, &hook, self.now()).await?;
        self.db.ring_outbox();
        Ok(())
    }

    async fn redeliver_webhook(&self, req: &RequestParts, input: RedeliverInput) -> Result<(), AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor_for(req, Action::ManageWebhooks).await?;
        let hook = webhooks::find(&self.db, &actor, input.webhook_id).await?.ok_or_else(AppError::not_found)?;
        if !webhooks::redeliver(&self.db, &actor, &hook, &input.message_id, self.now()).await? {
            return Err(AppError::not_found());
        }
        self.db.ring_outbox();
        Ok(())
    }

    async fn list_webhook_deliveries(
        &self,
        req: &RequestParts,
        input: WebhookIdInput,
    ) -> Result<Vec<WebhookDelivery>, AppError> {
        let input = parse(input)?.into_inner();
        let (_, actor) = self.actor_for(req, Action::ManageWebhooks).await?;
        let hook = webhooks::find(&self.db, &actor, input.webhook_id).await?.ok_or_else(AppError::not_found)?;
        Ok(webhooks::deliveries(&self.db, &actor, &hook).await?)
    }
}
