//! Links that prove an email address (`/verify-email/<token>`): mailed, when its owner asks, to the
//! signed-in person's own address, signed with a key derived for this purpose only, and naming the
//! person and the address. Opening one marks that address of that person proven, so that
//! notification emails may go there; it proves nothing for anyone else or for another address.

use app::model::UserId;
use serde::{Deserialize, Serialize};

use crate::{files::crypto::Keys, signed::Signer};

/// How long a link works.
const VALID_FOR_SECS: i64 = 24 * 3600;

#[derive(Serialize, Deserialize)]
struct Claims {
    #[serde(rename = "u")]
    user: UserId,
    /// The address, lower-cased.
    #[serde(rename = "a")]
    address: String,
    #[serde(rename = "e")]
    expires_at: i64,
    #[serde(rename = "k")]
    key_id: String,
}

pub struct AddressProofs(Signer);

impl AddressProofs {
    pub fn new(keys: &Keys) -> Self {
        Self(keys.signer(b"moth address proof v1"))
    }

    /// The token of the link that proves `address` for `user`, made at `now` (Unix seconds).
    pub fn token(&self, user: UserId, address: &str, now: i64) -> String {
        let address = address.to_lowercase();
        self.0.sign(&Claims { user, address, expires_at: now + VALID_FOR_SECS, key_id: self.0.key_id().to_owned() })
    }

    /// The person and address a token this signer made names, if it has not expired at `now`.
    pub fn verify(&self, token: &str, now: i64) -> Option<(UserId, String)> {
        let claims: Claims = self.0.verify(token)?;
        (claims.key_id == self.0.key_id() && now < claims.expires_at).then_some((claims.user, claims.address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_purposes_key_makes_a_proof_and_it_expires() {
        let keys = Keys::from_key([5; 32]);
        let proofs = AddressProofs::new(&keys);
        let user = UserId(uuid::Uuid::new_v4());
        let token = proofs.token(user, "Dana@Example.org", 0);
        assert_eq!(proofs.verify(&token, 1), Some((user, "dana@example.org".to_owned())));
        assert_eq!(proofs.verify(&token, VALID_FOR_SECS), None, "expired");
        let unsubscribe = keys.signer(b"moth unsubscribe v1");
        let forged = unsubscribe.sign(&Claims {
            user,
            address: "dana@example.org".into(),
            expires_at: i64::MAX,
            key_id: keys.id().to_owned(),
        });
        assert_eq!(proofs.verify(&forged, 1), None);
    }
}
