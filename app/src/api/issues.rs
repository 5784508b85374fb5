//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// Issues and comments, and the published (anonymous) reading of them.
    pub trait IssuesApi {
        /// Files an issue in a project the actor sees (guests too; their reports stay internal).
        #[server(endpoint = "create_issue")]
        fn create_issue(input: NewIssueInput) -> Issue;

        /// An issue by `KEY-number`, with the comments and history the actor may see.
        #[server(endpoint = "get_issue")]
        fn get_issue(input: IssueRefInput) -> IssueDetail;

        /// A page of a project's issues the actor may see, by number (keyset: pass `after`).
        #[server(endpoint = "list_issues")]
        fn list_issues(input: ListIssuesInput) -> IssuePage;

        /// A project's issues page in one round trip: the project (as `get_project`) and the first page of
        /// its issues (as `list_issues`).
        #[server(endpoint = "open_project")]
        fn open_project(input: OpenProjectInput) -> ProjectPage;

        /// Where the command palette can go for `q` (a key, a number or words of a title): the projects
        /// and issues the actor may read, across every project of the team they read.
        #[server(endpoint = "jump_to")]
        fn jump_to(input: JumpInput) -> JumpTargets;

        /// The start page: the actor's open issues (assigned to them, reported by them) across every
        /// project they read, and the projects where something they may read changed last.
        #[server(endpoint = "my_work")]
        fn my_work() -> HomeLists;

        /// Edits an issue (members, not guests); every changed field goes to the history.
        #[server(endpoint = "update_issue")]
        fn update_issue(input: UpdateIssueInput) -> Issue;

        /// Moves an issue to another status of its project's workflow (members, not guests).
        #[server(endpoint = "change_status")]
        fn change_status(input: ChangeStatusInput) -> Issue;

        /// Deletes an issue softly; its history stays (OWNER and ADMIN).
        #[server(endpoint = "delete_issue")]
        fn delete_issue(input: IssueIdInput) -> ();

        /// Comments on an issue the actor sees; guests' comments are public.
        #[server(endpoint = "add_comment")]
        fn add_comment(input: NewCommentInput) -> Comment;

        /// Markdown rendered and sanitised exactly as saving it would, with the issue keys the actor may
        /// open as links: the Preview of what is being written (signed-in actors).
        #[server(endpoint = "preview_markdown")]
        fn preview_markdown(input: PreviewInput) -> String;

        /// Edits one's own comment.
        #[server(endpoint = "edit_comment")]
        fn edit_comment(input: EditCommentInput) -> Comment;

        /// Deletes one's own comment; OWNER and ADMIN may delete any.
        #[server(endpoint = "delete_comment")]
        fn delete_comment(input: CommentIdInput) -> ();

        /// A published project's name, description and workflow; needs no session.
        #[server(endpoint = "published_project")]
        fn published_project(input: PublishedProjectInput) -> ProjectDetail;

        /// The public issues of a published project, by number; needs no session.
        #[server(endpoint = "published_issues")]
        fn published_issues(input: PublishedProjectInput) -> IssuePage;

        /// One public issue of a published project with its public comments; needs no session.
        #[server(endpoint = "published_issue")]
        fn published_issue(input: PublishedIssueInput) -> IssueDetail;
    }
}
