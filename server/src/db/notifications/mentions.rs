//! `@name` in a comment or description: `@dana` names the member whose address is `dana@...` (when
//! only one member's is), `@dana@example.org` the member with that address. A mention reaches, is
//! offered for and is shown as a link to only those who may read the issue, each by their own
//! [`ReadScope`] as their membership is now.

use std::collections::BTreeSet;

use app::model::{IssueId, Mentionable, Role, TeamId, UserId};

use crate::{
    actor::Actor,
    db::{
        issues::{self, StoredIssue, Visible},
        like_literal,
        scope::ReadScope,
        Db, DbError, TeamScope,
    },
};

/// The most people the editor is offered at once.
const MAX_CHOICES: usize = 8;
/// The most members whose address or name fits a prefix that are checked for the issue.
const MAX_CHECKED: i64 = 40;

/// The most mentions one text notifies.
const MAX_MENTIONS: usize = 50;

/// The names mentioned in `text` (Markdown), lower-cased, without the `@`: see
/// [`crate::markdown::mentions_in`].
pub fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (_, name) in crate::markdown::mentions_in(text) {
        if out.len() == MAX_MENTIONS {
            break;
        }
        out.insert(name);
    }
    out
}

/// The members `names` mention, out of `members` (id and address).
pub fn resolve(names: &BTreeSet<String>, members: &[(UserId, String)]) -> BTreeSet<UserId> {
    let mut out = BTreeSet::new();
    for name in names {
        let found: Vec<UserId> = if name.contains('@') {
            members.iter().filter(|(_, email)| email.eq_ignore_ascii_case(name)).map(|(id, _)| *id).collect()
        } else {
            members
                .iter()
                .filter(|(_, email)| email.split('@').next().is_some_and(|local| local.eq_ignore_ascii_case(name)))
                .map(|(id, _)| *id)
                .collect()
        };
        // An ambiguous short name notifies nobody rather than the wrong person.
        if let [one] = found.as_slice() {
            out.insert(*one);
        }
    }
    out
}

/// Whether `user`, with `role` in `team`, may read the issue (and its internal text, if `internal`).
async fn reads(
    db: &Db,
    team: TeamId,
    (user, role): (UserId, Role),
    issue: IssueId,
    internal: bool,
) -> Result<bool, DbError> {
    let scope = ReadScope::recipient(team, user, role);
    if internal && !scope.reader().sees_internal() {
        return Ok(false);
    }
    issues::readable_by(db, scope, issue).await
}

/// What follows the `@` for `email`: its local part when no other member of the team has it, else
/// the whole address.
async fn handle(db: &Db, team: TeamId, email: &str) -> Result<String, DbError> {
    let local = email.split('@').next().unwrap_or(email);
    let sharing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.team_id = $1 AND u.email LIKE $2 ESCAPE '\\'",
    )
    .bind(team)
    .bind(format!("{}@%", like_literal(local)))
    .fetch_one(db.pool())
    .await?;
    Ok(if sharing == 1 { local.to_owned() } else { email.to_owned() })
}

/// The people the actor could mention in a text of `issue` (see the module): members of the team but
/// the actor whose address, name or a word of the name starts with `prefix`, by address.
pub async fn candidates(
    db: &Db,
    actor: &Actor,
    issue: &Visible<StoredIssue>,
    internal: bool,
    prefix: &str,
) -> Result<Vec<Mentionable>, DbError> {
    let team = issue.team_id();
    let prefix = like_literal(&prefix.to_lowercase());
    let rows: Vec<(UserId, Role, String, String)> = sqlx::query_as(
        "SELECT m.user_id, m.role, u.email, u.display_name FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.team_id = $1 AND m.user_id <> $2 AND (u.email LIKE $3 ESCAPE '\\' \
         OR lower(u.display_name) LIKE $3 ESCAPE '\\' OR lower(u.display_name) LIKE $4 ESCAPE '\\') \
         ORDER BY u.email LIMIT $5",
    )
    .bind(team)
    .bind(actor.user_id())
    .bind(format!("{prefix}%"))
    .bind(format!("% {prefix}%"))
    .bind(MAX_CHECKED)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for (user, role, email, name) in rows {
        if out.len() == MAX_CHOICES {
            break;
        }
        if reads(db, team, (user, role), issue.id, internal).await? {
            out.push(Mentionable { handle: handle(db, team, &email).await?, name });
        }
    }
    Ok(out)
}

/// Of `names` mentioned in the texts of `issue`, those that name one member who may read it, with
/// that member, for a reader who sees internal text (members; guests and anonymous readers get
/// none, as they get no list of the team's people). At most [`MAX_LINKED_MENTIONS`] names are
/// looked up.
///
/// [`MAX_LINKED_MENTIONS`]: crate::markdown::MAX_LINKED_MENTIONS
pub async fn people_mentioned(
    db: &Db,
    issue: &Visible<StoredIssue>,
    names: &BTreeSet<String>,
) -> Result<Vec<(String, UserId)>, DbError> {
    if !issue.reader().sees_internal() {
        return Ok(Vec::new());
    }
    let team = issue.team_id();
    let mut out = Vec::new();
    for name in names.iter().take(crate::markdown::MAX_LINKED_MENTIONS) {
        let pattern = if name.contains('@') { like_literal(name) } else { format!("{}@%", like_literal(name)) };
        let found: Vec<(UserId, Role)> = sqlx::query_as(
            "SELECT m.user_id, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.team_id = $1 AND u.email LIKE $2 ESCAPE '\\' LIMIT 2",
        )
        .bind(team)
        .bind(pattern)
        .fetch_all(db.pool())
        .await?;
        if let [one] = found.as_slice() {
            if reads(db, team, *one, issue.id, false).await? {
                out.push((name.clone(), one.0));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found_where_they_start_a_word() {
        let found = names("@Dana can you check? cc @ann@example.org, not mail@host or @.");
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["ann@example.org", "dana"]);
    }

    #[test]
    fn a_short_name_two_members_share_mentions_nobody() {
        let (a, b) = (UserId(uuid::Uuid::new_v4()), UserId(uuid::Uuid::new_v4()));
        let members = [(a, "dana@one.example".to_owned()), (b, "dana@two.example".to_owned())];
        assert!(resolve(&names("@dana"), &members).is_empty());
        assert_eq!(resolve(&names("@dana@two.example"), &members).into_iter().collect::<Vec<_>>(), [b]);
    }
}
