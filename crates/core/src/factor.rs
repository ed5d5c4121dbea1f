//! Second factors: the kinds Twofold knows and the typed data each carries.

use std::fmt;
use std::str::FromStr;

use crate::crypto::Sealed;

/// A method (factor kind). Every kind is listed, even those whose flows land later, so settings
/// and storage know them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FactorKind {
    /// Authenticator app (RFC 6238).
    Totp,
    /// A code sent by email.
    Email,
    /// A code sent by SMS.
    Sms,
    /// Yubico OTP.
    Yubikey,
    /// Duo Security.
    Duo,
    /// WebAuthn security key or passkey.
    Webauthn,
}

impl FactorKind {
    /// Every kind, in the order pages list them.
    pub const ALL: [FactorKind; 6] = [
        FactorKind::Totp,
        FactorKind::Email,
        FactorKind::Sms,
        FactorKind::Yubikey,
        FactorKind::Duo,
        FactorKind::Webauthn,
    ];

    /// The wire, storage and settings name.
    pub fn as_str(self) -> &'static str {
        match self {
            FactorKind::Totp => "totp",
            FactorKind::Email => "email",
            FactorKind::Sms => "sms",
            FactorKind::Yubikey => "yubikey",
            FactorKind::Duo => "duo",
            FactorKind::Webauthn => "webauthn",
        }
    }

    /// The name pages show.
    pub fn title(self) -> &'static str {
        match self {
            FactorKind::Totp => "Time Based Tokens",
            FactorKind::Email => "Email codes",
            FactorKind::Sms => "SMS codes",
            FactorKind::Yubikey => "YubiKey",
            FactorKind::Duo => "Duo Security",
            FactorKind::Webauthn => "Security key or passkey",
        }
    }
}

/// The text is not a factor kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown factor kind {0:?}")]
pub struct UnknownKind(pub String);

impl FromStr for FactorKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FactorKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

impl fmt::Display for FactorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A factor's id: 16 random bytes as 32 lower-case hex characters, made by the core before the
/// row exists so that sealed data can be bound to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FactorId(String);

impl FactorId {
    /// Wraps an id read from storage or a URL; only lower-case hex of length 32 is an id.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| FactorId(text.to_owned()))
    }

    /// A new random id.
    pub fn generate(rng: &dyn crate::crypto::Rng) -> Self {
        let mut b = [0u8; 16];
        rng.fill(&mut b);
        FactorId(b.iter().map(|x| format!("{x:02x}")).collect())
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FactorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// TOTP parameters and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpData {
    /// The secret, sealed under the master key and bound to the factor id.
    pub secret: Sealed,
    /// HMAC algorithm.
    pub algorithm: twofold_otp::Algorithm,
    /// Code length.
    pub digits: twofold_otp::Digits,
    /// Step in seconds.
    pub period: u64,
    /// The last time step accepted; only later ones are accepted after it.
    pub last_step: Option<u64>,
    /// The clock drift learned from the device, in steps (capped).
    pub drift: i64,
}

/// A YubiKey in Yubico OTP mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YubikeyData {
    /// The key's public id (modhex, usually 12 characters): bound by the confirming OTP, or given
    /// at import. One key belongs to one user.
    pub public_id: Option<String>,
    /// Local mode: the AES-128 key and the 6-byte private id, sealed together (22 bytes) under the
    /// master key and bound to the factor. `None`: checked by the validation servers.
    pub secret: Option<Sealed>,
    /// The last accepted (use counter, session counter), packed by
    /// [`twofold_otp::yubico::Counter::packed`]; only greater ones are accepted after it.
    pub last_counter: Option<u32>,
    /// Added by its user in the portal with a secret they supplied (local mode): the public id
    /// is then only what the user's own OTP claimed, so Twofold's validation server does not
    /// vouch for this key to other applications. Keys imported by the operator, enrolled
    /// through the admin API, or confirmed by a validation server are not.
    pub self_enrolled: bool,
}

impl YubikeyData {
    /// Where the key's public id comes from.
    pub fn origin(&self) -> YubikeyOrigin {
        match (self.self_enrolled, &self.secret) {
            (true, _) => YubikeyOrigin::SelfEnrolled,
            (false, Some(_)) => YubikeyOrigin::Administrator,
            (false, None) => YubikeyOrigin::ValidationServer,
        }
    }
}

/// Where a YubiKey factor's public id comes from, which says how far it is to be trusted.
///
/// In local mode Twofold cannot tell a key from another programmed with the same public id: it
/// checks an OTP with the AES key it was given. A public id is therefore only as good as whoever
/// supplied that AES key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YubikeyOrigin {
    /// A user added it in the portal with an AES key of their own choosing: the public id is
    /// only what their own OTP claimed.
    SelfEnrolled,
    /// The operator imported it, or an administrator (the CLI, an admin API token) enrolled it
    /// with its AES key.
    Administrator,
    /// A Yubico validation server vouched for the confirming OTP (server mode).
    ValidationServer,
}

impl YubikeyOrigin {
    /// The short name audit details carry.
    pub fn as_str(self) -> &'static str {
        match self {
            YubikeyOrigin::SelfEnrolled => "self_enrolled",
            YubikeyOrigin::Administrator => "administrator",
            YubikeyOrigin::ValidationServer => "validation_server",
        }
    }

    /// The words pages and the CLI show.
    pub fn describe(self) -> &'static str {
        match self {
            YubikeyOrigin::SelfEnrolled => "self-enrolled",
            YubikeyOrigin::Administrator => "imported or added by an administrator",
            YubikeyOrigin::ValidationServer => "verified by a validation server",
        }
    }
}

/// What a factor holds, by kind. Kinds whose flows are not built yet carry no data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactorData {
    /// An authenticator app.
    Totp(TotpData),
    /// Codes by email to the address proven at enrolment.
    Email {
        /// The address codes go to.
        address: String,
    },
    /// Codes by SMS to the number proven at enrolment.
    Sms {
        /// The E.164 number codes go to.
        phone: String,
    },
    /// A YubiKey.
    Yubikey(YubikeyData),
    /// Duo (flows land with the Duo issue).
    Duo,
    /// WebAuthn (roadmap).
    Webauthn,
}

impl FactorData {
    /// The kind of this data.
    pub fn kind(&self) -> FactorKind {
        match self {
            FactorData::Totp(_) => FactorKind::Totp,
            FactorData::Email { .. } => FactorKind::Email,
            FactorData::Sms { .. } => FactorKind::Sms,
            FactorData::Yubikey(_) => FactorKind::Yubikey,
            FactorData::Duo => FactorKind::Duo,
            FactorData::Webauthn => FactorKind::Webauthn,
        }
    }
}

/// One enrolled (or enrolling) factor of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Factor {
    /// Its id.
    pub id: FactorId,
    /// The owner's user id.
    pub user_id: i64,
    /// The user's name for it ("work phone").
    pub label: String,
    /// Whether a correct code has confirmed it; unconfirmed factors never log anyone in.
    pub confirmed: bool,
    /// Unix time of creation.
    pub created_at: i64,
    /// Unix time of the last successful use, if any.
    pub last_used_at: Option<i64>,
    /// Kind and typed data.
    pub data: FactorData,
}

impl Factor {
    /// The kind.
    pub fn kind(&self) -> FactorKind {
        self.data.kind()
    }
}

/// The longest label, in characters.
pub const MAX_LABEL_LEN: usize = 64;

/// Checks a label: 1–64 characters, no control characters, surrounding spaces trimmed.
pub fn parse_label(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty() && t.chars().count() <= MAX_LABEL_LEN && !t.chars().any(char::is_control))
        .then(|| t.to_owned())
}
