//! Who may do what: the one place that decides access. Every service method asks [`may`] before it acts;
//! the data layer adds the second line (every tenant query is filtered by the actor's team).

use app::model::{Role, TeamMembership, TokenScope, UserId};

use crate::actor::Actor;

/// Something an actor wants to do in their active team.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    ListMembers,
    /// Change or remove members at all; checked before a target is looked up, so that actors who may
    /// not manage members learn nothing from the answers about ids.
    ManageMembers,
    ListInvitations,
    /// Invite someone with this role.
    Invite(Role),
    /// Revoke an invitation for this role.
    RevokeInvitation(Role),
    /// Change a member's role from one to another.
    ChangeRole {
        from: Role,
        to: Role,
    },
    /// Remove a member who has this role.
    RemoveMember(Role),
    TransferOwnership,
    LeaveTeam,
    ReadAuditLog,
    /// See the uploads the pipeline refused ("Quarantine").
    ReadQuarantine,
    /// Create projects, change their settings, archive them, manage their members.
    ManageProjects,
    /// Edit issues, set their status, visibility, priority and assignees (members, not guests).
    EditIssues,
    /// Delete issues (softly; their history stays).
    DeleteIssues,
    /// See the backups and restore points, and export the whole team (its data, all of it).
    TeamData,
    /// Share saved views with the team, and see the ones others shared (members, not guests).
    ShareViews,
    /// Watch a whole project, hearing of each new issue (members, not guests).
    WatchProjects,
    /// See and revoke every member's access tokens (OWNER and ADMIN; everyone manages their own).
    ManageTokens,
    /// Turn the token API on or off for the team (OWNER).
    SetTokenPolicy,
    /// Make, list and delete a project's webhooks, and see their deliveries (OWNER and ADMIN).
    ManageWebhooks,
    /// See and configure the team's single sign-on, and see how each member signs in (OWNER).
    ConfigureSso,
}

/// What an actor reads of the team's projects and issues: decided here, from the [`Actor`] alone, and
/// applied by the data layer, which derives it itself (no caller passes it in). Anonymous readers of a
/// published project are a reader of their own, made only by `db::projects::find_published`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    /// OWNER and ADMIN: every project of the team, everything in it.
    Manager(UserId),
    /// NORMAL: the projects they are a member of, everything in them.
    Member(UserId),
    /// GUEST: the public projects they are a member of; in them public issues and their own reports,
    /// public comments, and only the history recorded while the issue was visible to them.
    Guest(UserId),
    /// Anyone, signed in or not, reading a published project: public issues and comments, no history.
    Anonymous,
}

impl Reader {
    /// The reader an actor is.
    pub fn of(actor: &Actor) -> Self {
        Self::member(actor.user_id(), actor.role())
    }

    /// The reader a member of a team with `role` is (the recipient of a notification, whose role is
    /// read from their membership when it is delivered).
    pub fn member(user: UserId, role: Role) -> Self {
        match role {
            Role::Owner | Role::Admin => Reader::Manager(user),
            Role::Normal => Reader::Member(user),
            Role::Guest => Reader::Guest(user),
        }
    }

    /// Whether the reader sees every project of the team without being a member.
    pub fn sees_all_projects(self) -> bool {
        matches!(self, Reader::Manager(_))
    }

    /// Whether the reader sees internal issues, internal comments and the whole history.
    pub fn sees_internal(self) -> bool {
        matches!(self, Reader::Manager(_) | Reader::Member(_))
    }

    /// The signed-in user behind the reader, if any.
    pub fn user(self) -> Option<UserId> {
        match self {
            Reader::Manager(user) | Reader::Member(user) | Reader::Guest(user) => Some(user),
            Reader::Anonymous => None,
        }
    }

    /// Which entries of an issue's history the reader sees. A guest sees the whole history of their own
    /// report (it was always visible to them), and of any other issue only the entries recorded while
    /// the issue was public both before and after the change: nothing written while it was internal
    /// reaches them, neither as an old nor as a new value.
    pub fn history_of(self, reporter: UserId) -> HistoryShown {
        match self {
            Reader::Manager(_) | Reader::Member(_) => HistoryShown::All,
            Reader::Guest(user) if user == reporter => HistoryShown::All,
            Reader::Guest(_) => HistoryShown::RecordedWhilePublic,
            Reader::Anonymous => HistoryShown::None,
        }
    }
}

/// What [`Reader::history_of`] lets through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HistoryShown {
    All,
    RecordedWhilePublic,
    None,
}

/// Whether a member with `role` may belong to a project of `visibility`: guests only to public ones.
pub fn may_join_project(role: Role, visibility: app::model::Visibility) -> bool {
    role != Role::Guest || visibility == app::model::Visibility::Public
}

/// Whether `actor` may do `action` in their active team: their role allows it, and so does the door
/// they came in by (a token's scopes).
pub fn may(actor: &Actor, action: Action) -> bool {
    allowed(actor.role(), action) && actor.has_scope(scope_of(action))
}

/// The token scope an action needs besides the role (a session has them all): `read` to list the
/// members, `write` to change projects and issues, `admin` for everything about members, the audit
/// log, tokens and the team's data.
pub fn scope_of(action: Action) -> TokenScope {
    match action {
        Action::ListMembers => TokenScope::Read,
        Action::ManageProjects
        | Action::EditIssues
        | Action::DeleteIssues
        | Action::ShareViews
        | Action::WatchProjects => TokenScope::Write,
        Action::ManageMembers
        | Action::ListInvitations
        | Action::Invite(_)
        | Action::RevokeInvitation(_)
        | Action::ChangeRole { .. }
        | Action::RemoveMember(_)
        | Action::TransferOwnership
        | Action::LeaveTeam
        | Action::ReadAuditLog
        | Action::ReadQuarantine
        | Action::TeamData
        | Action::ManageTokens
        | Action::SetTokenPolicy
        | Action::ManageWebhooks
        | Action::ConfigureSso => TokenScope::Admin,
    }
}

/// The rules, by role. OWNER: everything. ADMIN: manages members below ADMIN. NORMAL: sees the
/// members. GUEST: nothing here. Nobody gives the OWNER role except by transfer.
pub fn allowed(role: Role, action: Action) -> bool {
    use Role::{Admin, Guest, Normal, Owner};
    let is_manager = matches!(role, Owner | Admin);
    // The roles this actor may hand out, change or take away.
    let manages = |target: Role| match role {
        Owner => target != Owner,
        Admin => matches!(target, Normal | Guest),
        Normal | Guest => false,
    };
    match action {
        Action::ListMembers | Action::EditIssues | Action::ShareViews | Action::WatchProjects => role != Guest,
        Action::ManageMembers
        | Action::ListInvitations
        | Action::ReadAuditLog
        | Action::ReadQuarantine
        | Action::ManageProjects
        | Action::DeleteIssues
        | Action::ManageTokens
        | Action::ManageWebhooks => is_manager,
        Action::Invite(target) | Action::RevokeInvitation(target) | Action::RemoveMember(target) => manages(target),
        Action::ChangeRole { from, to } => manages(from) && manages(to),
        Action::TransferOwnership | Action::TeamData | Action::SetTokenPolicy | Action::ConfigureSso => role == Owner,
        Action::LeaveTeam => role != Owner,
    }
}

/// Whether the actor may edit a comment: only their own.
pub fn may_edit_comment(actor: &Actor, author: UserId) -> bool {
    author == actor.user_id()
}

/// Whether the actor may delete a comment: their own, or any as OWNER or ADMIN.
pub fn may_delete_comment(actor: &Actor, author: UserId) -> bool {
    author == actor.user_id() || matches!(actor.role(), Role::Owner | Role::Admin)
}

/// Whether `actor` sees a saved view of a project they read: their own, and the shared ones unless
/// they are a guest (a view's name and filter are the team's words).
pub fn may_see_view(actor: &Actor, owner: UserId, shared: bool) -> bool {
    owner == actor.user_id() || (shared && may(actor, Action::ShareViews))
}

/// Whether `actor` may delete a saved view they see: their own, or a shared one as OWNER or ADMIN.
pub fn may_delete_view(actor: &Actor, owner: UserId, shared: bool) -> bool {
    owner == actor.user_id() || (shared && matches!(actor.role(), Role::Owner | Role::Admin))
}

/// Whether `actor` may attach files to a comment by `author`: only to their own, like editing it.
pub fn may_attach_to_comment(actor: &Actor, author: UserId) -> bool {
    may_edit_comment(actor, author)
}

/// Whether `actor` may delete an attachment `uploader` uploaded: the uploader, OWNER and ADMIN.
pub fn may_delete_attachment(actor: &Actor, uploader: UserId) -> bool {
    may_delete_comment(actor, uploader)
}

/// Whether a user may make a team their active one: only a team they are a member of.
pub fn may_enter_team(membership: Option<&TeamMembership>) -> bool {
    membership.is_some()
}

/// Whether a user may accept an invitation: only one addressed to their own (normalised) email.
pub fn may_accept_invitation(user_email: &str, invitation_email: &str) -> bool {
    user_email == invitation_email
}

/// Whether a member can receive ownership: an admin or normal member, never a guest or oneself.
pub fn may_receive_ownership(actor: &Actor, target_user: UserId, target_role: Role) -> bool {
    target_user != actor.user_id() && matches!(target_role, Role::Admin | Role::Normal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::{Admin, Guest, Normal, Owner};

    #[test]
    fn only_the_owner_deals_with_admins() {
        assert!(allowed(Owner, Action::Invite(Admin)));
        assert!(!allowed(Admin, Action::Invite(Admin)));
        assert!(allowed(Admin, Action::Invite(Guest)));
        assert!(!allowed(Admin, Action::ChangeRole { from: Admin, to: Normal }));
        assert!(!allowed(Admin, Action::ChangeRole { from: Normal, to: Admin }));
        assert!(allowed(Owner, Action::ChangeRole { from: Admin, to: Guest }));
        assert!(!allowed(Admin, Action::RemoveMember(Admin)));
    }

    #[test]
    fn nobody_is_given_or_loses_ownership_except_by_transfer() {
        for role in Role::ALL {
            assert!(!allowed(role, Action::Invite(Owner)));
            assert!(!allowed(role, Action::ChangeRole { from: Normal, to: Owner }));
            assert!(!allowed(role, Action::ChangeRole { from: Owner, to: Admin }));
            assert!(!allowed(role, Action::RemoveMember(Owner)));
            assert_eq!(allowed(role, Action::TransferOwnership), role == Owner);
        }
        assert!(!allowed(Owner, Action::LeaveTeam));
    }

    #[test]
    fn normal_members_and_guests_manage_nothing() {
        for role in [Normal, Guest] {
            for target in Role::ALL {
                assert!(!allowed(role, Action::Invite(target)));
                assert!(!allowed(role, Action::RemoveMember(target)));
            }
            assert!(!allowed(role, Action::ReadAuditLog));
            assert!(!allowed(role, Action::ListInvitations));
            assert!(allowed(role, Action::LeaveTeam));
        }
        assert!(allowed(Normal, Action::ListMembers));
        assert!(!allowed(Guest, Action::ListMembers));
    }
}
