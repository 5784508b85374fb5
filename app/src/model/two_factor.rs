//! Two-factor authentication on the wire.

use garde::Validate;
use serde::{Deserialize, Serialize};

#[allow(clippy::wildcard_imports)] // the shared ids, roles and rules of the model
use super::*;
use crate::rules;

/// Whether the signed-in user has two-factor authentication on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorInfo {
    pub enabled: bool,
}

/// A new authenticator key, shown once while two-factor authentication is being turned on: the key
/// to type, the `otpauth://` address, and that address as a QR code (SVG markup made by the server).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorSetup {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

/// The ten single-use recovery codes, shown once when two-factor authentication is turned on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// An authentication code (6 digits) or a recovery code (`xxxxx-xxxxx`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct TwoFactorCodeInput {
    #[garde(length(chars, min = 1, max = 32), custom(crate::rules::one_time_code))]
    pub code: String,
}

impl Normalize for TwoFactorCodeInput {
    fn normalize(self) -> Self {
        Self { code: self.code.chars().filter(|c| !c.is_whitespace()).collect() }
    }
}

/// Turning two-factor authentication on changes how one signs in, so it asks for the password again
/// (re-authentication), besides a code from the new key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct EnableTwoFactorInput {
    #[garde(length(chars, min = 1, max = 32), custom(crate::rules::one_time_code))]
    pub code: String,
    #[garde(custom(rules::password_given))]
    pub password: String,
}

impl Normalize for EnableTwoFactorInput {
    fn normalize(self) -> Self {
        Self { code: self.code.chars().filter(|c| !c.is_whitespace()).collect(), password: self.password }
    }
}

/// Whether the active team requires two-factor authentication of its members.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Validate)]
pub struct TwoFactorRequirementInput {
    #[garde(skip)]
    pub required: bool,
}

impl Normalize for TwoFactorRequirementInput {
    fn normalize(self) -> Self {
        self
    }
}
