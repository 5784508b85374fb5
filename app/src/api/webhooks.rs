//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// A project's webhooks (OWNER and ADMIN): what they hear of, and how their deliveries went.
    pub trait WebhooksApi {
        /// Makes a hook of a project: its address (refused if it is not public, unless the operator
        /// allows private endpoints), its events, and whether it may receive internal content.
        /// Answers the hook and its signing secret, shown this once.
        #[server(endpoint = "create_webhook")]
        fn create_webhook(input: NewWebhookInput) -> CreatedWebhook;

        /// The hooks of a project, oldest first.
        #[server(endpoint = "list_webhooks")]
        fn list_webhooks(input: ProjectWebhooksInput) -> Vec<Webhook>;

        /// Deletes a hook and its deliveries.
        #[server(endpoint = "delete_webhook")]
        fn delete_webhook(input: WebhookIdInput) -> ();

        /// Queues a `webhook.test` event for a hook (sent as any other, signed).
        #[server(endpoint = "send_test_webhook")]
        fn send_test_webhook(input: WebhookIdInput) -> ();

        /// Sends one of a hook's deliveries again now (the same id and payload), and resumes the
        /// hook if it was paused.
        #[server(endpoint = "redeliver_webhook")]
        fn redeliver_webhook(input: RedeliverInput) -> ();

        /// A hook's last 50 deliveries, newest first.
        #[server(endpoint = "list_webhook_deliveries")]
        fn list_webhook_deliveries(input: WebhookIdInput) -> Vec<WebhookDelivery>;
    }
}
