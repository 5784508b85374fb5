//! The secret of a personal access token, parsed before anything looks it up.
//!
//! `moth_pat_` + 43 base62 characters (256 random bits) + 6 base62 characters of checksum (the first
//! four bytes of the body's SHA-256). The fixed prefix lets secret scanners recognise a leaked token;
//! the checksum refuses a mistyped or truncated one without a database look-up. Only the SHA-256 of
//! the whole secret is stored: for 256 random bits a slow hash adds nothing but cost on every request.

use rand::RngCore;
use sha2::{Digest, Sha256};

pub const PREFIX: &str = "moth_pat_";
const BODY_CHARS: usize = 43;
const CHECKSUM_CHARS: usize = 6;
const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A token secret whose form and checksum are right (it may still be unknown, expired or revoked).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

/// Never printed: a secret must not reach a log through `{:?}`.
impl std::fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSecret(…)")
    }
}

/// Why a presented text is not a token at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// Not `moth_pat_` followed by 49 base62 characters.
    Form,
    /// The form is right and the checksum is not: a typo or a cut-off copy.
    Checksum,
}

fn checksum(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let mut value = u64::from(u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]));
    let mut out = [b'0'; CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[usize::try_from(value % 62).unwrap_or(0)];
        value /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl TokenSecret {
    /// A new random secret.
    pub fn generate() -> Self {
        let mut body = String::with_capacity(BODY_CHARS);
        let mut bytes = [0u8; 64];
        while body.len() < BODY_CHARS {
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            // Only bytes below 248 (4 x 62) are used, so every character is equally likely.
            for byte in bytes.iter().filter(|b| **b < 248).take(BODY_CHARS - body.len()) {
                body.push(char::from(ALPHABET[usize::from(*byte % 62)]));
            }
        }
        let checksum = checksum(&body);
        Self(format!("{PREFIX}{body}{checksum}"))
    }

    /// The secret in `text`, if its form and checksum are right.
    pub fn parse(text: &str) -> Result<Self, Malformed> {
        let rest = text.strip_prefix(PREFIX).ok_or(Malformed::Form)?;
        if rest.len() != BODY_CHARS + CHECKSUM_CHARS || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Malformed::Form);
        }
        let (body, sum) = rest.split_at(BODY_CHARS);
        if !crate::digest::constant_time_eq(checksum(body).as_bytes(), sum.as_bytes()) {
            return Err(Malformed::Checksum);
        }
        Ok(Self(text.to_owned()))
    }

    /// What is stored and looked up: the SHA-256 of the whole secret, in hex.
    pub fn hash(&self) -> String {
        crate::digest::sha256_hex(self.0.as_bytes())
    }

    /// The secret itself, for the one answer that shows it.
    pub fn reveal(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_secret_parses_and_a_changed_character_does_not() {
        let secret = TokenSecret::generate().reveal();
        assert_eq!(secret.len(), PREFIX.len() + BODY_CHARS + CHECKSUM_CHARS);
        assert!(TokenSecret::parse(&secret).is_ok());
        let mut typo = secret.clone().into_bytes();
        let at = PREFIX.len() + 5;
        typo[at] = if typo[at] == b'a' { b'b' } else { b'a' };
        assert_eq!(TokenSecret::parse(&String::from_utf8(typo).expect("text")), Err(Malformed::Checksum));
        assert_eq!(TokenSecret::parse(&secret[..secret.len() - 1]), Err(Malformed::Form));
        assert_eq!(TokenSecret::parse(&secret.replace(PREFIX, "moth_xyz_")), Err(Malformed::Form));
    }

    #[test]
    fn two_secrets_differ() {
        assert_ne!(TokenSecret::generate(), TokenSecret::generate());
    }
}
