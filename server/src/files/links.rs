//! Signed, short-lived links to one file: `/f/<claims>.<signature>`, where the claims (team, object,
//! disposition, expiry, key id) are base64url JSON and the signature is HMAC-SHA256 over them with a
//! key derived from the master key. A link is issued only after the access check of the server
//! function that asks for it; the file origin checks the signature (in constant time) and the expiry,
//! and reads nothing else of the request: no cookie, no session.

use app::model::{AttachmentId, TeamId};
use serde::{Deserialize, Serialize};

use super::crypto::Keys;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "t")]
    pub team_id: TeamId,
    #[serde(rename = "a")]
    pub attachment_id: AttachmentId,
    /// Shown in the browser (raster images) rather than downloaded.
    #[serde(rename = "i")]
    pub inline: bool,
    /// Unix seconds after which the link is refused.
    #[serde(rename = "e")]
    pub expires_at: i64,
    #[serde(rename = "k")]
    pub key_id: String,
}

pub struct Signer(crate::signed::Signer);

impl Signer {
    pub fn new(keys: &Keys) -> Self {
        Self(keys.signer(b"moth file links v1"))
    }

    /// The token for a link path.
    pub fn sign(&self, team_id: TeamId, attachment_id: AttachmentId, inline: bool, expires_at: i64) -> String {
        let key_id = self.0.key_id().to_owned();
        self.0.sign(&Claims { team_id, attachment_id, inline, expires_at, key_id })
    }

    /// The claims of a token this signer made that has not expired at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Option<Claims> {
        let claims: Claims = self.0.verify(token)?;
        (claims.key_id == self.0.key_id() && now < claims.expires_at).then_some(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

    #[test]
    fn altered_foreign_and_expired_links_are_refused() {
        let signer = Signer::new(&Keys::from_key([1; 32]));
        let (team, file) = (TeamId(uuid::Uuid::new_v4()), AttachmentId(uuid::Uuid::new_v4()));
        let token = signer.sign(team, file, false, 1_000);
        assert_eq!(signer.verify(&token, 999).map(|c| c.attachment_id), Some(file));
        assert!(signer.verify(&token, 1_000).is_none(), "expired");
        let other = Signer::new(&Keys::from_key([2; 32]));
        assert!(other.verify(&token, 0).is_none(), "another key");
        let (claims, signature) = token.split_once('.').expect("two parts");
        let longer = Claims { expires_at: 99_999, ..signer.verify(&token, 0).expect("valid") };
        let forged = format!("{}.{signature}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(&longer).expect("json")));
        assert!(signer.verify(&forged, 0).is_none(), "claims changed under the old signature");
        assert!(signer.verify(&format!("{claims}.{}", &signature[1..]), 0).is_none(), "signature changed");
    }
}
