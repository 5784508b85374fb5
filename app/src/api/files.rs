//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// Attachments: their list, links to them on the file origin, deleting them, and the refused
    /// uploads. (Uploading is the route `POST /upload/issues/<id>`, which streams a body no server
    /// function could.)
    pub trait FilesApi {
        /// The files attached to an issue the actor may see, oldest first.
        #[server(endpoint = "list_attachments")]
        fn list_attachments(input: IssueIdInput) -> Vec<Attachment>;

        /// A short-lived signed link to one attachment on the file origin, for those who may see its issue.
        #[server(endpoint = "attachment_link")]
        fn attachment_link(input: AttachmentIdInput) -> FileLink;

        /// Deletes an attachment (its uploader, OWNER and ADMIN); the stored bytes go with it.
        #[server(endpoint = "delete_attachment")]
        fn delete_attachment(input: AttachmentIdInput) -> ();

        /// The team's refused uploads, newest first (OWNER and ADMIN): metadata only.
        #[server(endpoint = "quarantine")]
        fn quarantine() -> Vec<RejectedUpload>;
    }
}
