//! Tokens that carry their own claims: `<claims>.<signature>`, the claims base64url JSON and the
//! signature HMAC-SHA256 over them with a key derived from the master key for one purpose only (a
//! file link's key cannot sign an unsubscribe link). Verified in constant time.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use serde::{de::DeserializeOwned, Serialize};
use sha2::Sha256;

pub struct Signer {
    key: [u8; 32],
    key_id: String,
}

impl Signer {
    /// A signer with `key`, derived from the master key `key_id` for one purpose only
    /// (`Keys::signer` makes them).
    pub fn new(key: [u8; 32], key_id: String) -> Self {
        Self { key, key_id }
    }

    /// The id of the master key the signing key comes from (claims carry it, so that a rotated key
    /// refuses old tokens).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    fn mac(&self) -> Hmac<Sha256> {
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key);
        mac.unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"))
    }

    pub fn sign(&self, claims: &impl Serialize) -> String {
        let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(claims.as_bytes());
        format!("{claims}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// The claims of a token this signer made (the caller checks what they say: expiry, key id).
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Option<C> {
        let (claims, signature) = token.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(claims.as_bytes());
        mac.verify_slice(&signature).ok()?;
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()
    }
}
