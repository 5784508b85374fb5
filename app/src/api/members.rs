//! One area of the API, declared once (see `api_area!` in `api/mod.rs`).

#[allow(clippy::wildcard_imports)] // the API speaks the whole model
use crate::model::*;

api_area! {
    /// The team: members, invitations, roles, the audit log.
    pub trait MembersApi {
        /// The members of the active team. OWNER, ADMIN and NORMAL members; guests may not list members.
        #[server(endpoint = "list_members")]
        fn list_members() -> Vec<Member>;

        /// Pending invitations of the active team (OWNER and ADMIN).
        #[server(endpoint = "list_invitations")]
        fn list_invitations() -> Vec<Invitation>;

        /// Invites an email address with a role; answers the single-use link (and emails it when SMTP is set).
        #[server(endpoint = "invite")]
        fn invite(input: InviteInput) -> CreatedInvitation;

        /// Revokes a pending invitation of the active team.
        #[server(endpoint = "revoke_invitation")]
        fn revoke_invitation(input: RevokeInvitationInput) -> ();

        /// Issues a pending invitation's link again, to be copied: the old link stops working, the
        /// expiry starts again (who may revoke the invitation may renew it).
        #[server(endpoint = "renew_invitation")]
        fn renew_invitation(input: RevokeInvitationInput) -> CreatedInvitation;

        /// What an invitation link offers (team, role, email); needs no session, only the token.
        #[server(endpoint = "invitation_info")]
        fn invitation_info(input: InvitationTokenInput) -> InvitationOffer;

        /// The signed-in user accepts an invitation addressed to their email and joins the team.
        #[server(endpoint = "accept_invitation")]
        fn accept_invitation(input: AcceptInvitationInput) -> Me;

        /// A new visitor creates an account through an invitation and joins the team (no team of their own).
        #[server(endpoint = "sign_up_with_invitation")]
        fn sign_up_with_invitation(input: InvitedSignUpInput) -> Me;

        /// Gives a member of the active team another role.
        #[server(endpoint = "change_role")]
        fn change_role(input: ChangeRoleInput) -> Member;

        /// Removes a member from the active team; their sessions lose access to it at once.
        #[server(endpoint = "remove_member")]
        fn remove_member(input: MemberInput) -> ();

        /// The OWNER makes another member the owner and becomes an ADMIN.
        #[server(endpoint = "transfer_ownership")]
        fn transfer_ownership(input: MemberInput) -> Me;

        /// Leaves the active team (not the OWNER); another team of the user becomes active, if any.
        #[server(endpoint = "leave_team")]
        fn leave_team() -> Option<Me>;

        /// A page of the active team's security events, newest first, filtered by kind, actor and time
        /// (OWNER and ADMIN).
        #[server(endpoint = "audit_log")]
        fn audit_log(#[server(default)] input: AuditQuery) -> AuditPage;
    }
}
