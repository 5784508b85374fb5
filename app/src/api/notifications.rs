//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// The signed-in person's inbox, what they watch, and how they hear of activity, in the active team.
    pub trait NotificationsApi {
        /// The signed-in person's inbox in the active team, newest first, 50 a page: each entry names
        /// the issue by key and title, who acted and what changed, read with their read rules now
        /// (an entry of an issue or comment they can no longer read is not shown); and the unread count.
        #[server(endpoint = "list_notifications")]
        fn list_notifications(input: InboxInput) -> Inbox;

        /// Marks entries of the signed-in person (by id, or all of the active team) read; answers the
        /// first page of the inbox.
        #[server(endpoint = "mark_notifications_read")]
        fn mark_notifications_read(input: MarkReadInput) -> Inbox;

        /// Watches or unwatches an issue the actor reads; answers whether they watch it now.
        #[server(endpoint = "watch_issue")]
        fn watch_issue(input: WatchIssueInput) -> bool;

        /// Whether the actor watches an issue they read.
        #[server(endpoint = "issue_watching")]
        fn issue_watching(input: IssueIdInput) -> bool;

        /// Watches or unwatches a project the actor reads (members, not guests): new issues of a
        /// watched project notify them. Answers whether they watch it now.
        #[server(endpoint = "watch_project")]
        fn watch_project(input: WatchProjectInput) -> bool;

        /// Up to 8 people a text of an issue the actor reads could mention (members, not guests, may
        /// ask): members of the team, not the actor, whose address or name starts with the prefix and
        /// who may read the issue now; for an internal text, only those who read internal text.
        #[server(endpoint = "mention_candidates")]
        fn mention_candidates(input: MentionInput) -> Vec<Mentionable>;

        /// Whether the actor watches a project they read.
        #[server(endpoint = "project_watching")]
        fn project_watching(input: ProjectWatchingInput) -> bool;

        /// The signed-in person's notification settings.
        #[server(endpoint = "notification_settings")]
        fn notification_settings() -> NotificationPreferences;

        /// Mails the signed-in person a link (valid 24 hours) that proves their address, so that
        /// notification emails may go there. Answers `false` when this server sends no email.
        #[server(endpoint = "send_address_proof")]
        fn send_address_proof() -> bool;

        /// Saves the signed-in person's notification settings (`email_verified` is ignored).
        #[server(endpoint = "save_notification_settings")]
        fn save_notification_settings(input: NotificationPreferences) -> NotificationPreferences;
    }
}
