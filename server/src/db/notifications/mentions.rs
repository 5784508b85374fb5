//! `@name` in a comment or description: `@dana` names the member whose address is `dana@...` (when
//! only one member's is), `@dana@example.org` the member with that address.

use std::collections::BTreeSet;

use app::model::UserId;

/// The most mentions one text notifies.
const MAX_MENTIONS: usize = 50;

/// The names mentioned in `text`, lower-cased, without the `@`.
pub fn names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() && out.len() < MAX_MENTIONS {
        let starts = chars[i] == '@' && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'));
        if !starts {
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < chars.len() && (chars[end].is_ascii_alphanumeric() || "._%+-@".contains(chars[end])) {
            end += 1;
        }
        let name: String = chars[i + 1..end].iter().collect();
        let name = name.trim_end_matches(['.', '-', '@']).to_lowercase();
        if !name.is_empty() && name.matches('@').count() <= 1 {
            out.insert(name);
        }
        i = end;
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
