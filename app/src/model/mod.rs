//! Types that cross the wire between the browser and the server, with their garde rules.
//! Inputs are validated on both sides; outputs are plain data.

use garde::Validate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::AppError;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// A project's webhook.
    WebhookId
);
typed_id!(
    /// A user account.
    UserId
);
typed_id!(
    /// A team: the tenant.
    TeamId
);
typed_id!(
    /// An invitation to a team.
    InvitationId
);
typed_id!(
    /// A project of a team.
    ProjectId
);
typed_id!(
    /// A status of a project's workflow.
    StatusId
);

/// Who can see a project: its members only, or also guests who are members.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Visibility {
    #[default]
    Private,
    Public,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Visibility::Private, Visibility::Public].into_iter().find(|v| v.as_str() == s)
    }
}

/// The kind of a workflow status, which boards and filters group by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum StatusCategory {
    Open,
    InProgress,
    Done,
}

impl StatusCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCategory::Open => "open",
            StatusCategory::InProgress => "in_progress",
            StatusCategory::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [StatusCategory::Open, StatusCategory::InProgress, StatusCategory::Done].into_iter().find(|c| c.as_str() == s)
    }
}

/// The workflow every new project starts with.
pub const DEFAULT_WORKFLOW: [(&str, StatusCategory); 5] = [
    ("New", StatusCategory::Open),
    ("In progress", StatusCategory::InProgress),
    ("In review", StatusCategory::InProgress),
    ("Done", StatusCategory::Done),
    ("Closed", StatusCategory::Done),
];

/// A member's role in a team, from most to least powerful.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Role {
    Owner,
    Admin,
    Normal,
    Guest,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Normal, Role::Guest];

    /// The spelling used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "OWNER",
            Role::Admin => "ADMIN",
            Role::Normal => "NORMAL",
            Role::Guest => "GUEST",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// How the role is shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Normal => "Member",
            Role::Guest => "Guest",
        }
    }
}

/// Inputs that are tidied (trimmed, lower-cased) the same way on both sides before validation.
pub trait Normalize {
    #[must_use]
    fn normalize(self) -> Self;
}

/// garde rule: roles that can be given by invitation or role change. OWNER only moves by transfer.
/// (Here rather than in `rules`, which knows no model type.)
#[allow(clippy::trivially_copy_pass_by_ref)]
fn invitable_role(role: &Role, _: &()) -> garde::Result {
    if *role == Role::Owner {
        return Err(garde::Error::new("Ownership is transferred, not given as a role."));
    }
    Ok(())
}

/// Tidies and validates an input: the one entry point both the forms and the server functions use.
pub fn parse<T>(input: T) -> Result<garde::Valid<T>, AppError>
where
    T: Normalize + Validate<Context = ()>,
{
    Ok(garde::Unvalidated::new(input.normalize()).validate()?)
}

/// An enumeration with a lower-case spelling on the wire and in the database.
macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$variant_doc:meta])* $variant:ident => $text:tt),+ $(,)? } $(default $default:ident)?) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$variant_doc])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        $(
            impl Default for $name {
                fn default() -> Self {
                    $name::$default
                }
            }
        )?
    };
}

/// Inputs with nothing to tidy.
macro_rules! no_normalization {
    ($($t:ty),*) => {
        $(impl Normalize for $t {
            fn normalize(self) -> Self {
                self
            }
        })*
    };
}

no_normalization!(
    ArchiveProjectInput,
    ProjectMemberInput,
    SwitchTeamInput,
    ChangeRoleInput,
    MemberInput,
    RevokeInvitationInput,
    InvitationTokenInput,
    AcceptInvitationInput
);

// The tracker's types use the macros above, so they are declared after them.
mod accounts;
mod data_safety;
mod files;
mod issues;
mod members;
mod notifications;
mod projects;
#[cfg(feature = "ssr")]
mod sql;
mod sso;
mod tokens;
mod two_factor;
mod views;
mod webhooks;
pub use accounts::*;
pub use data_safety::*;
pub use files::*;
pub use issues::*;
pub use members::*;
pub use notifications::*;
pub use projects::*;
#[cfg(feature = "ssr")]
pub use sql::Flag;
pub use sso::*;
pub use tokens::*;
pub use two_factor::*;
pub use views::*;
pub use webhooks::*;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sign_up() -> SignUpInput {
        SignUpInput {
            email: "  Ann@Example.ORG ".into(),
            display_name: " Ann ".into(),
            password: "  a strong passphrase  ".into(),
            team_name: "Ann's team".into(),
        }
    }

    #[test]
    fn sign_up_is_normalized_but_the_password_is_kept_as_typed() {
        let valid = parse(sign_up()).expect("valid");
        assert_eq!(valid.email, "ann@example.org");
        assert_eq!(valid.display_name, "Ann");
        assert_eq!(valid.password, "  a strong passphrase  ");
    }

    #[test]
    fn a_short_password_is_reported_on_its_field() {
        let err = parse(SignUpInput { password: "short".into(), ..sign_up() }).unwrap_err();
        assert!(err.field_message("password").is_some(), "{err:?}");
        assert!(err.field_message("email").is_none());
    }

    #[test]
    fn a_password_of_128_characters_is_accepted_and_129_is_not() {
        let p128: String = "é".repeat(128);
        assert!(parse(SignUpInput { password: p128, ..sign_up() }).is_ok());
        let p129: String = "é".repeat(129);
        assert!(parse(SignUpInput { password: p129, ..sign_up() }).is_err());
    }

    #[test]
    fn a_malformed_email_is_refused() {
        let err = parse(SignUpInput { email: "not-an-email".into(), ..sign_up() }).unwrap_err();
        assert!(err.field_message("email").is_some());
    }

    #[test]
    fn roles_round_trip_through_their_spelling() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("owner"), None);
    }
}
