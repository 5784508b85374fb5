//! Projects on the wire: their settings, workflow and members.

use garde::Validate;
use serde::{Deserialize, Serialize};

#[allow(clippy::wildcard_imports)] // the shared ids, roles and rules of the model
use super::*;
use crate::rules;

/// A new project (OWNER and ADMIN).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct NewProjectInput {
    #[garde(custom(rules::name))]
    pub name: String,
    #[garde(custom(rules::project_key))]
    pub key: String,
    #[garde(custom(rules::description))]
    #[serde(default)]
    pub description: String,
    #[garde(skip)]
    #[serde(default)]
    pub visibility: Visibility,
}

impl Normalize for NewProjectInput {
    fn normalize(self) -> Self {
        Self {
            name: self.name.trim().to_owned(),
            key: self.key.trim().to_ascii_uppercase(),
            description: self.description,
            visibility: self.visibility,
        }
    }
}

/// Rename, describe, change visibility or publish a project (OWNER and ADMIN).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct UpdateProjectInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(custom(rules::name))]
    pub name: String,
    #[garde(custom(rules::description))]
    #[serde(default)]
    pub description: String,
    #[garde(skip)]
    pub visibility: Visibility,
    /// Anyone with the project's public address may read its public issues. Public projects only.
    #[garde(skip)]
    #[serde(default)]
    pub published: bool,
}

impl Normalize for UpdateProjectInput {
    fn normalize(self) -> Self {
        Self { name: self.name.trim().to_owned(), ..self }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ArchiveProjectInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(skip)]
    pub archived: bool,
}

/// Names a project by its key (`WEB`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ProjectKeyInput {
    #[garde(custom(rules::project_key))]
    pub key: String,
}

impl Normalize for ProjectKeyInput {
    fn normalize(self) -> Self {
        Self { key: self.key.trim().to_ascii_uppercase() }
    }
}

/// Adds a status at the end of a project's workflow (OWNER and ADMIN).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct AddStatusInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(custom(rules::status_name))]
    pub name: String,
    #[garde(skip)]
    pub category: StatusCategory,
}

impl Normalize for AddStatusInput {
    fn normalize(self) -> Self {
        Self { name: self.name.trim().to_owned(), ..self }
    }
}

/// Renames a status, or moves it to another place (0 = first) in its workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct EditStatusInput {
    #[garde(skip)]
    pub status_id: StatusId,
    #[garde(custom(rules::status_name))]
    pub name: String,
    #[garde(range(min = 0, max = 100))]
    pub position: i64,
}

impl Normalize for EditStatusInput {
    fn normalize(self) -> Self {
        Self { name: self.name.trim().to_owned(), ..self }
    }
}

/// Adds a team member to a project, or removes them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct ProjectMemberInput {
    #[garde(skip)]
    pub project_id: ProjectId,
    #[garde(skip)]
    pub user_id: UserId,
}

#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Project {
    pub id: ProjectId,
    pub key: String,
    pub name: String,
    pub description: String,
    pub visibility: Visibility,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "Flag"))]
    pub published: bool,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "Flag"))]
    pub archived: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectStatus {
    pub id: StatusId,
    pub name: String,
    pub category: StatusCategory,
    pub position: i64,
}

/// A project with its workflow and (for members who may see them) its members.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectDetail {
    pub project: Project,
    pub statuses: Vec<ProjectStatus>,
    pub members: Vec<Member>,
}
