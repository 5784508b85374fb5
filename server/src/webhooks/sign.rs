//! Signatures per the Standard Webhooks specification: the secret is `whsec_` and the base64 of its
//! bytes; each message is signed as `<webhook-id>.<webhook-timestamp>.<body>` with HMAC-SHA256, and
//! `webhook-signature` carries `v1,` and the base64 of the MAC.

use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// How the secret is written: the specification's prefix.
const PREFIX: &str = "whsec_";

/// A new secret's bytes (24, as the specification's examples) and its written form.
pub fn new_secret() -> (Vec<u8>, String) {
    let mut bytes = vec![0_u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let written = format!("{PREFIX}{}", STANDARD.encode(&bytes));
    (bytes, written)
}

/// The `webhook-signature` header of a message.
pub fn signature(secret: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    for part in [id.as_bytes(), b".", timestamp.to_string().as_bytes(), b".", body.as_bytes()] {
        mac.update(part);
    }
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specifications_example_verifies() {
        let secret = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("base64");
        let signed = signature(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, r#"{"test": 2432232314}"#);
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_new_secret_is_written_as_the_specification_writes_it() {
        let (bytes, written) = new_secret();
        assert_eq!(STANDARD.decode(written.strip_prefix("whsec_").expect("prefix")).expect("base64"), bytes);
        assert_ne!(new_secret().0, bytes);
    }
}
