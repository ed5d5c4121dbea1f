//! The JSON API's own request and response types. Domain types never derive `Serialize`: these
//! are the wire contract, converted from the domain by hand.

use serde::{Deserialize, Serialize};
use twofold_core::factor::Factor;
use twofold_core::service::UserView;
use twofold_core::store::User;
use utoipa::ToSchema;

/// `POST /api/v1/users`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUser {
    /// 1–64 characters: letters, digits and `. _ @ + -`; unique without regard to case.
    pub(crate) username: String,
    /// `client` (default), `admin` or `owner`.
    pub(crate) role: Option<String>,
    /// Email address (for email codes and lockout notices).
    pub(crate) email: Option<String>,
    /// Phone number in E.164 (spaces, dashes, dots and parentheses are removed).
    pub(crate) phone: Option<String>,
    /// Password for the web portal (8–1024 characters).
    pub(crate) password: Option<String>,
}

/// `PATCH /api/v1/users/{username}`: absent fields stay; `""` clears email or phone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatchUser {
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) role: Option<String>,
    pub(crate) disabled: Option<bool>,
}

/// A factor, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FactorOut {
    /// 32 hex characters.
    pub(crate) id: String,
    /// `totp`, `hotp`, `email`, `sms`, `yubikey`, `duo` or `webauthn`.
    pub(crate) kind: String,
    pub(crate) label: String,
    /// False until a correct code confirms it.
    pub(crate) confirmed: bool,
    /// Unix time.
    pub(crate) created_at: i64,
    /// Unix time of the last successful use.
    pub(crate) last_used_at: Option<i64>,
    /// TOTP: the clock drift learned from the device, in 30-second steps (reset with
    /// `POST …/factors/{id}/reset-drift`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) drift: Option<i64>,
    /// HOTP: the counter the token is expected to show next (one past the last accepted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) counter: Option<u64>,
    /// YubiKey: the key's public id (modhex), once an OTP from it confirmed the factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) public_id: Option<String>,
    /// Security key or passkey, once registered: what is known of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) webauthn: Option<WebauthnOut>,
}

/// A registered security key or passkey (nothing secret: the private key stays on it).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebauthnOut {
    /// The credential id, base64url.
    pub(crate) credential_id: String,
    /// The authenticator model's AAGUID (all zeros when it does not say).
    pub(crate) aaguid: String,
    /// `synced` (a passkey that may be copied to the user's other devices) or `device_bound`.
    pub(crate) sync: &'static str,
    /// COSE algorithm: -7 (ES256), -8 (EdDSA) or -257 (RS256).
    pub(crate) algorithm: i64,
    /// The last signature counter accepted (0: the key keeps none).
    pub(crate) sign_count: u32,
}

impl From<&Factor> for FactorOut {
    fn from(f: &Factor) -> Self {
        FactorOut {
            id: f.id.to_string(),
            kind: f.kind().as_str().to_owned(),
            label: f.label.clone(),
            confirmed: f.confirmed,
            created_at: f.created_at,
            last_used_at: f.last_used_at,
            drift: match &f.data {
                twofold_core::factor::FactorData::Totp(t) => Some(t.drift),
                _ => None,
            },
            counter: match &f.data {
                twofold_core::factor::FactorData::Hotp(h) => Some(h.next()),
                _ => None,
            },
            public_id: match &f.data {
                twofold_core::factor::FactorData::Yubikey(y) => y.public_id.clone(),
                _ => None,
            },
            webauthn: match &f.data {
                twofold_core::factor::FactorData::Webauthn(Some(c)) => Some(WebauthnOut {
                    credential_id: twofold_core::factor::b64url(&c.credential_id),
                    aaguid: c.aaguid_text(),
                    sync: if c.backup_eligible {
                        "synced"
                    } else {
                        "device_bound"
                    },
                    algorithm: c.algorithm,
                    sign_count: c.sign_count,
                }),
                _ => None,
            },
        }
    }
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserOut {
    pub(crate) username: String,
    pub(crate) role: String,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) disabled: bool,
    /// Whether the second factor is locked now (too many failures).
    pub(crate) locked: bool,
    /// Until when (Unix time), if locked.
    pub(crate) locked_until: Option<i64>,
    /// Whether the user has a usable factor.
    pub(crate) has_2fa: bool,
    pub(crate) created_at: i64,
    pub(crate) factors: Vec<FactorOut>,
    pub(crate) backup_codes_remaining: i64,
}

impl From<&UserView> for UserOut {
    fn from(v: &UserView) -> Self {
        let u: &User = &v.user;
        UserOut {
            username: u.username.to_string(),
            role: u.role.as_str().to_owned(),
            email: u.email.clone(),
            phone: u.phone.clone(),
            disabled: u.disabled,
            locked: v.locked,
            locked_until: if v.locked { u.locked_until } else { None },
            has_2fa: v.has_2fa,
            created_at: u.created_at,
            factors: v.factors.iter().map(FactorOut::from).collect(),
            backup_codes_remaining: v.backup_codes_remaining,
        }
    }
}

/// `POST /api/v1/users/{username}/factors`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnrollRequest {
    /// The method: `totp`, `hotp` (a counter-based token), `email` (to the user's email),
    /// `sms` (to the user's phone), `yubikey`, `duo` or `webauthn` (a security key or passkey:
    /// the answer carries `public_key`, the options for `navigator.credentials.create()`).
    pub(crate) kind: String,
    /// A name for the device ("work phone"), 1–64 characters.
    pub(crate) label: Option<String>,
    /// YubiKey in local mode: the key's AES-128 key, 32 hex characters.
    pub(crate) aes_key: Option<String>,
    /// YubiKey in local mode: the key's private id, 12 hex characters.
    pub(crate) private_id: Option<String>,
    /// TOTP and HOTP: `sha1` (default), `sha256` or `sha512`.
    pub(crate) algorithm: Option<String>,
    /// TOTP and HOTP: 6 (default) or 8.
    pub(crate) digits: Option<i64>,
    /// TOTP: the step in seconds, 15 to 300 (default 30).
    pub(crate) period: Option<i64>,
}

impl std::fmt::Debug for EnrollRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The YubiKey's AES key and private id are secrets.
        f.debug_struct("EnrollRequest")
            .field("kind", &self.kind)
            .field("label", &self.label)
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

/// A new, unconfirmed factor; for TOTP with what the authenticator app needs.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EnrollResponse {
    #[serde(flatten)]
    pub(crate) factor: FactorOut,
    /// TOTP and HOTP: the secret in base32 (also inside the URI). Shown only now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) secret: Option<String>,
    /// TOTP and HOTP: the `otpauth://` key URI, with the algorithm, the digits and the period
    /// (TOTP) or the counter (HOTP).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) otpauth_uri: Option<String>,
    /// TOTP and HOTP: the URI as a QR code (SVG).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) qr_svg: Option<String>,
    /// Email and SMS: where the verification code went (masked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sent_to: Option<String>,
    /// Duo, when the Web SDK application is set: the Universal Prompt for this user. Send them
    /// there; the first successful Duo authentication confirms the factor (valid 5 minutes,
    /// once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) auth_url: Option<String>,
    /// WebAuthn: PublicKeyCredentialCreationOptions in WebAuthn Level 3 JSON form (what
    /// `PublicKeyCredential.parseCreationOptionsFromJSON` takes); its challenge is valid 5
    /// minutes, once. Confirm with the credential `create()` made.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub(crate) public_key: Option<serde_json::Value>,
}

/// A code was sent.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CodeSentOut {
    /// Where it went, masked: `a•••@example.com`, `+44••••••0958`.
    pub(crate) sent_to: String,
}

/// `POST …/factors/{id}/confirm`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfirmRequest {
    /// A current code from the factor. For Duo: a Duo passcode, or no code to send a push.
    pub(crate) code: Option<String>,
    /// WebAuthn: the credential `navigator.credentials.create()` made, as its `toJSON()`
    /// gives it.
    #[schema(value_type = Option<Object>)]
    pub(crate) credential: Option<Box<serde_json::value::RawValue>>,
}

/// `POST …/factors/{id}/resync`: two codes a counter-based token showed one after the other.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResyncRequest {
    /// A code from the token.
    pub(crate) code1: Option<String>,
    /// The code the token showed next.
    pub(crate) code2: Option<String>,
}

impl std::fmt::Debug for ResyncRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Codes are credentials while they are valid.
        f.write_str("ResyncRequest([redacted])")
    }
}

/// A confirmed factor; on the user's first, the backup codes (shown only now).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConfirmResponse {
    #[serde(flatten)]
    pub(crate) factor: FactorOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) backup_codes: Option<Vec<String>>,
}

/// A new set of backup codes.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BackupCodes {
    /// 10 codes, grouped `abcde-fghij`. Each works once.
    pub(crate) codes: Vec<String>,
}

/// `POST …/challenge`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChallengeRequest {
    /// `email` or `sms` (a code is sent: 202), or `webauthn` (200 with `public_key`, the
    /// options for `navigator.credentials.get()`).
    pub(crate) kind: String,
}

/// The options for `navigator.credentials.get()`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PublicKeyOut {
    /// PublicKeyCredentialRequestOptions in WebAuthn Level 3 JSON form (what
    /// `PublicKeyCredential.parseRequestOptionsFromJSON` takes); its challenge is valid 5
    /// minutes, once.
    #[schema(value_type = Object)]
    pub(crate) public_key: serde_json::Value,
}

/// `POST /api/v1/validate`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValidateRequest {
    pub(crate) username: String,
    /// The code: 6–8 digits (TOTP, then HOTP, then a pending email/SMS code, then a Duo passcode), a
    /// YubiKey OTP or a 10-character backup code. With `"method": "duo"` and no code: a Duo push
    /// (answered when the user approves, denies or 60 s pass).
    pub(crate) code: Option<String>,
    /// Restrict to one method: `totp`, `hotp`, `email`, `sms`, `yubikey`, `duo`, `webauthn` or
    /// `backup_code`.
    pub(crate) method: Option<String>,
    /// With `"method": "webauthn"`: the credential `navigator.credentials.get()` gave, as its
    /// `toJSON()` gives it, answering a challenge from `POST …/challenge`.
    #[schema(value_type = Option<Object>)]
    pub(crate) credential: Option<Box<serde_json::value::RawValue>>,
}

/// The answer to a validation.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ValidateResponse {
    pub(crate) ok: bool,
    /// What matched: `totp`, `hotp`, `email`, `sms`, `yubikey`, `duo`, `webauthn` or `backup_code`
    /// (when ok).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) method: Option<String>,
    /// Why not: `invalid_code`, `locked`, `not_enrolled` or `disabled` (when not ok).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
}

/// The owner's settings: booleans, numbers and strings by key; secrets show as `********`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SettingsOut {
    #[schema(value_type = Object)]
    pub(crate) settings: serde_json::Map<String, serde_json::Value>,
}

/// One audit record.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditOut {
    pub(crate) id: i64,
    /// Unix time.
    pub(crate) at: i64,
    /// `cli`, `token:NAME`, `user:NAME` or `system`.
    pub(crate) actor: String,
    pub(crate) subject: Option<String>,
    pub(crate) event: String,
    pub(crate) ip: Option<String>,
    pub(crate) detail: String,
}

/// Audit records, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AuditList {
    pub(crate) events: Vec<AuditOut>,
}

/// `GET /api/v1/audit` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(crate) struct AuditQuery {
    /// Only events about this user.
    pub(crate) username: Option<String>,
    /// Only this event (e.g. `2fa.failure`).
    pub(crate) event: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub(crate) limit: Option<u32>,
    /// Only records older than this id (paging).
    pub(crate) before: Option<i64>,
}

/// `/healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    pub(crate) status: &'static str,
}

/// The bodies that carry a password or a code never print them.
macro_rules! redacted_debug {
    ($($t:ident),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), "([redacted])"))
            }
        }
    )*};
}
redacted_debug!(CreateUser, ConfirmRequest, ValidateRequest);

/// One of a user's live sessions.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionOut {
    /// A handle for the session (a hash of its stored hash: never the cookie).
    pub(crate) id: String,
    /// A short description of the browser, e.g. "Firefox on Linux".
    pub(crate) browser: String,
    /// The client address it signed in from.
    pub(crate) ip: Option<String>,
    /// Unix time of the sign-in.
    pub(crate) created_at: i64,
    /// Unix time of the last recorded use (written at most once a minute).
    pub(crate) last_used_at: i64,
    /// Unix time it ends unless used again.
    pub(crate) expires_at: i64,
    /// The sign-in is complete (false: waiting for a second factor or an enrolment).
    pub(crate) complete: bool,
}

impl From<&twofold_core::service::SessionView> for SessionOut {
    fn from(s: &twofold_core::service::SessionView) -> Self {
        SessionOut {
            id: s.handle.clone(),
            browser: s.browser.clone(),
            ip: s.ip.clone(),
            created_at: s.first_use,
            last_used_at: s.last_use,
            expires_at: s.expires_at,
            complete: s.complete,
        }
    }
}

/// One of a user's remembered browsers: its sign-ins ask only for the password.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RememberedBrowserOut {
    /// A handle for the browser (a hash of its stored hash: never the cookie).
    pub(crate) id: String,
    /// A short description of the browser.
    pub(crate) browser: String,
    /// The client address of its last use.
    pub(crate) ip: Option<String>,
    /// Unix time it was remembered.
    pub(crate) created_at: i64,
    /// Unix time it last stood in for a second factor.
    pub(crate) last_used_at: i64,
    /// Unix time it stops counting.
    pub(crate) expires_at: i64,
}

impl From<&twofold_core::service::RememberedView> for RememberedBrowserOut {
    fn from(b: &twofold_core::service::RememberedView) -> Self {
        RememberedBrowserOut {
            id: b.handle.clone(),
            browser: b.browser.clone(),
            ip: b.ip.clone(),
            created_at: b.first_use,
            last_used_at: b.last_use,
            expires_at: b.expires_at,
        }
    }
}

/// `GET /api/v1/users/{username}/sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SessionsOut {
    /// Live sessions, newest sign-in first.
    pub(crate) sessions: Vec<SessionOut>,
    /// Remembered browsers that still count, most recently used first.
    pub(crate) remembered_browsers: Vec<RememberedBrowserOut>,
}

/// `DELETE /api/v1/users/{username}/sessions`: what was ended.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SignedOutOut {
    /// Sessions ended (at any stage of their sign-in).
    pub(crate) sessions_ended: u64,
    /// Remembered browsers forgotten.
    pub(crate) browsers_forgotten: u64,
}
