//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// Projects, their workflow and members.
    pub trait ProjectsApi {
        /// The projects the actor may see: all of the team's for OWNER and ADMIN, the ones they belong to for
        /// NORMAL members, and the public ones they belong to for guests.
        #[server(endpoint = "list_projects")]
        fn list_projects() -> Vec<Project>;

        /// Creates a project with the default workflow (OWNER and ADMIN).
        #[server(endpoint = "create_project")]
        fn create_project(input: NewProjectInput) -> Project;

        /// A project the actor may see, by key, with its workflow and members.
        #[server(endpoint = "get_project")]
        fn get_project(input: ProjectKeyInput) -> ProjectDetail;

        /// Renames, describes, changes the visibility of or publishes a project (OWNER and ADMIN).
        #[server(endpoint = "update_project")]
        fn update_project(input: UpdateProjectInput) -> Project;

        /// Archives or restores a project (OWNER and ADMIN).
        #[server(endpoint = "archive_project")]
        fn archive_project(input: ArchiveProjectInput) -> Project;

        /// Adds a team member to a project (OWNER and ADMIN); guests only to public projects.
        #[server(endpoint = "add_project_member")]
        fn add_project_member(input: ProjectMemberInput) -> ();

        /// Removes a member from a project (OWNER and ADMIN).
        #[server(endpoint = "remove_project_member")]
        fn remove_project_member(input: ProjectMemberInput) -> ();

        /// Adds a status at the end of a project's workflow (OWNER and ADMIN).
        #[server(endpoint = "add_status")]
        fn add_status(input: AddStatusInput) -> ProjectStatus;

        /// Renames a status and moves it to a place in its workflow (OWNER and ADMIN); answers the workflow.
        #[server(endpoint = "edit_status")]
        fn edit_status(input: EditStatusInput) -> Vec<ProjectStatus>;
    }
}
