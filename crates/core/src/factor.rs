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
    /// A counter-based token or app (RFC 4226): each code is the next of a counter the token
    /// and Twofold both keep.
    Hotp,
}

impl FactorKind {
    /// Every kind, in the order pages list them.
    pub const ALL: [FactorKind; 7] = [
        FactorKind::Totp,
        FactorKind::Email,
        FactorKind::Sms,
        FactorKind::Yubikey,
        FactorKind::Duo,
        FactorKind::Webauthn,
        FactorKind::Hotp,
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
            FactorKind::Hotp => "hotp",
        }
    }

    /// The message id of [`FactorKind::title`], for pages in the reader's language.
    pub fn title_id(self) -> &'static str {
        match self {
            FactorKind::Totp => "kind-totp",
            FactorKind::Email => "kind-email",
            FactorKind::Sms => "kind-sms",
            FactorKind::Yubikey => "kind-yubikey",
            FactorKind::Duo => "kind-duo",
            FactorKind::Webauthn => "kind-webauthn",
            FactorKind::Hotp => "kind-hotp",
        }
    }

    /// The name pages show, in English (the CLI, the API document, logs).
    pub fn title(self) -> &'static str {
        match self {
            FactorKind::Totp => "Time Based Tokens",
            FactorKind::Email => "Email codes",
            FactorKind::Sms => "SMS codes",
            FactorKind::Yubikey => "YubiKey",
            FactorKind::Duo => "Duo Security",
            FactorKind::Webauthn => "Security key or passkey",
            FactorKind::Hotp => "Counter-based tokens",
        }
    }

    /// [`FactorKind::title`] as a catalogue text, for sentences in the reader's language.
    pub fn title_text(self) -> crate::i18n::Text {
        crate::i18n::Text::new(self.title_id())
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

/// HOTP parameters and state: a token whose codes follow a counter (RFC 4226).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotpData {
    /// The secret, sealed under the master key and bound to the factor id.
    pub secret: Sealed,
    /// HMAC algorithm.
    pub algorithm: twofold_otp::Algorithm,
    /// Code length.
    pub digits: twofold_otp::Digits,
    /// The last counter accepted (`None`: none yet). Only greater ones are accepted after it,
    /// so the counter the token is expected to show next is one more ([`HotpData::next`]).
    pub last_counter: Option<u64>,
}

impl HotpData {
    /// The counter the token is expected to show next: 0 before any was accepted.
    pub fn next(&self) -> u64 {
        self.last_counter.map_or(0, |c| c.saturating_add(1))
    }
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

/// A registered WebAuthn credential (a security key or passkey). Nothing here is secret: the
/// private key never leaves the authenticator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebauthnCredential {
    /// The credential id the authenticator chose (one credential id belongs to one user).
    pub credential_id: Vec<u8>,
    /// The public key as the authenticator gave it (a COSE_Key).
    pub public_key: Vec<u8>,
    /// Its COSE algorithm (-7 ES256, -8 EdDSA, -257 RS256).
    pub algorithm: i64,
    /// The last signature counter accepted; a later one must be greater (unless both are 0:
    /// an authenticator without a counter, as synced passkeys are).
    pub sign_count: u32,
    /// The authenticator model's AAGUID (all zero when it does not say).
    pub aaguid: [u8; 16],
    /// The credential may be synced to other devices (a passkey in a password manager or a
    /// platform account) rather than bound to one device.
    pub backup_eligible: bool,
    /// It was backed up (synced) when registered.
    pub backed_up: bool,
    /// The transports the browser reported (`usb`, `nfc`, `ble`, `internal`, `hybrid`).
    pub transports: Vec<String>,
    /// The attestation statement's format (`none` unless attestation was asked for).
    pub attestation_format: String,
    /// The user handle the key keeps for its user (empty when not recorded): an answer's
    /// handle is checked against it without a database read.
    pub user_handle: Vec<u8>,
}

impl WebauthnCredential {
    /// "synced passkey" or "device-bound", as pages show it.
    pub fn describe_sync(&self) -> &'static str {
        if self.backup_eligible {
            "synced passkey"
        } else {
            "device-bound"
        }
    }

    /// The prefix that keeps credential ids apart from YubiKey public ids in the one column of
    /// public identifiers that makes each belong to one user.
    pub const PUBLIC_ID_PREFIX: &'static str = "webauthn:";

    /// The stored public identifier: the prefix and the credential id in base64url.
    pub fn public_id(&self) -> String {
        format!("{}{}", Self::PUBLIC_ID_PREFIX, b64url(&self.credential_id))
    }

    /// The details kept as JSON beside the identifier and the counter.
    pub fn to_params(&self) -> String {
        serde_json::json!({
            "public_key": b64url(&self.public_key),
            "alg": self.algorithm,
            "aaguid": self.aaguid.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "backup_eligible": self.backup_eligible,
            "backed_up": self.backed_up,
            "transports": self.transports,
            "fmt": self.attestation_format,
            "user_handle": b64url(&self.user_handle),
        })
        .to_string()
    }

    /// Reads a stored credential back: its public identifier, its JSON details and its
    /// counter.
    pub fn from_stored(public_id: &str, params: &str, sign_count: i64) -> Result<Self, String> {
        let id = public_id
            .strip_prefix(Self::PUBLIC_ID_PREFIX)
            .and_then(b64url_decode)
            .ok_or("credential id")?;
        let v: serde_json::Value = serde_json::from_str(params).map_err(|e| e.to_string())?;
        let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str);
        let flag = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)
        };
        let aaguid_hex = text("aaguid").ok_or("aaguid")?;
        let mut aaguid = [0u8; 16];
        if aaguid_hex.len() != 32 {
            return Err("aaguid".into());
        }
        for (i, b) in aaguid.iter_mut().enumerate() {
            *b = aaguid_hex
                .get(2 * i..2 * i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("aaguid")?;
        }
        Ok(WebauthnCredential {
            credential_id: id,
            public_key: text("public_key")
                .and_then(b64url_decode)
                .ok_or("public key")?,
            algorithm: v
                .get("alg")
                .and_then(serde_json::Value::as_i64)
                .ok_or("alg")?,
            sign_count: u32::try_from(sign_count).map_err(|_| "sign count")?,
            aaguid,
            backup_eligible: flag("backup_eligible"),
            backed_up: flag("backed_up"),
            transports: v
                .get("transports")
                .and_then(serde_json::Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            attestation_format: text("fmt").unwrap_or("none").to_owned(),
            user_handle: text("user_handle")
                .and_then(b64url_decode)
                .unwrap_or_default(),
        })
    }

    /// The AAGUID as a UUID text.
    pub fn aaguid_text(&self) -> String {
        let h: String = self.aaguid.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

/// Base64url without padding, as WebAuthn writes binary values in JSON.
pub fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads base64url without padding.
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()
}

/// What a factor holds, by kind.
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
    /// A security key or passkey: its credential once registered, `None` while the
    /// registration is pending.
    Webauthn(Option<WebauthnCredential>),
    /// A counter-based token.
    Hotp(HotpData),
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
            FactorData::Webauthn(_) => FactorKind::Webauthn,
            FactorData::Hotp(_) => FactorKind::Hotp,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn every_kind_title_is_in_the_catalogue_and_the_same_in_english() {
        for kind in FactorKind::ALL {
            assert_eq!(kind.title_text().english(), kind.title(), "{kind:?}");
            assert!(!Lang::De.text(&kind.title_text()).starts_with("kind-"));
        }
        assert_eq!(
            Lang::De.text(&FactorKind::Hotp.title_text()),
            "Zählerbasierte Codes"
        );
    }
}
