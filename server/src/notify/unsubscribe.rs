//! One-click unsubscribe links (RFC 8058): `/unsubscribe/<token>`, the token signed with a key derived
//! for this purpose only and naming the one person whose email it turns off. A token cannot be made
//! for anyone else without the master key, and a file link's signature does not verify as one.

use app::model::UserId;
use serde::{Deserialize, Serialize};

use crate::{files::crypto::Keys, signed::Signer};

/// How long an unsubscribe link in a mail works.
const VALID_FOR_SECS: i64 = 90 * 24 * 3600;

#[derive(Serialize, Deserialize)]
struct Claims {
    #[serde(rename = "u")]
    user: UserId,
    #[serde(rename = "e")]
    expires_at: i64,
    #[serde(rename = "k")]
    key_id: String,
}

pub struct Links(Signer);

impl Links {
    pub fn new(keys: &Keys) -> Self {
        Self(keys.signer(b"moth unsubscribe v1"))
    }

    /// The token of `user`'s link, made at `now` (Unix seconds).
    pub fn token(&self, user: UserId, now: i64) -> String {
        self.0.sign(&Claims { user, expires_at: now + VALID_FOR_SECS, key_id: self.0.key_id().to_owned() })
    }

    /// The person a token this signer made names, if it has not expired at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Option<UserId> {
        let claims: Claims = self.0.verify(token)?;
        (claims.key_id == self.0.key_id() && now < claims.expires_at).then_some(claims.user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_links_key_does_not_sign_an_unsubscribe_link() {
        let keys = Keys::from_key([3; 32]);
        let links = Links::new(&keys);
        let user = UserId(uuid::Uuid::new_v4());
        assert_eq!(links.verify(&links.token(user, 0), 1), Some(user));
        assert_eq!(links.verify(&links.token(user, 0), VALID_FOR_SECS), None, "expired");
        let other_purpose = keys.signer(b"moth file links v1");
        let forged = other_purpose.sign(&Claims { user, expires_at: i64::MAX, key_id: keys.id().to_owned() });
        assert_eq!(links.verify(&forged, 1), None);
    }
}
