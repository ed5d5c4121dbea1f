//! The owner's settings: every key Twofold knows, with its group and label on the admin page,
//! its type, default, help and validator, and the typed view the flows read. Stored in the
//! database as text (secrets sealed), editable from the admin area, the API and the CLI, all
//! through [`normalize`]. Flows never name a key: they read [`Settings`]' typed accessors.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use zeroize::Zeroizing;

use crate::crypto::{MasterKey, Sealed};
use crate::delivery::{EmailConfig, SmsConfig, SmtpSecurity};
use crate::duo::{DuoAuthConfig, DuoWebConfig};
use crate::error::{Error, Result};
use crate::factor::FactorKind;
use crate::i18n::Text;
use crate::identity::Role;
use crate::store::StoredValue;

/// The type of a setting's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingType {
    /// `true` / `false`.
    Bool,
    /// A decimal integer within the range.
    Int {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// Free text (no control characters, of at most the definition's `max_chars`).
    Text,
    /// One of the listed words.
    Choice(&'static [&'static str]),
    /// Text that is stored sealed and never shown back.
    Secret,
}

/// The shape a non-empty text or secret value must have (empty always passes: not set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Any text.
    Any,
    /// A positive whole number of at most 18 digits (a validation server's client id).
    ClientId,
    /// Non-empty standard base64 (a validation server's API key).
    Base64,
    /// `https://` URLs (`http://` only to this machine), separated by commas.
    ServerUrls,
    /// Exactly this many ASCII letters and digits (Duo's ids and secrets).
    Alnum(usize),
    /// A host name or IPv4 address with an optional port, no scheme or path.
    HostPort,
    /// A format with `{username}` or `{email}` and nothing else in braces.
    DuoUsername,
    /// A host name alone: no scheme, port or path (a WebAuthn relying party ID).
    HostName,
}

/// What a RADIUS Access-Request's password field holds (`radius.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RadiusMode {
    /// The second-factor code alone: the device checked the password elsewhere.
    Otp,
    /// The user's Twofold password immediately followed by the code.
    PasswordOtp,
    /// The password alone; the code follows in the answer to an Access-Challenge.
    Challenge,
}

/// Where a setting shows on the admin page: the General section or its method's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingGroup {
    /// Server-wide switches and limits.
    General,
    /// One method's switches and service.
    Method(FactorKind),
}

impl SettingGroup {
    /// Every group, in page order.
    pub fn all() -> impl Iterator<Item = SettingGroup> {
        std::iter::once(SettingGroup::General).chain(FactorKind::ALL.map(SettingGroup::Method))
    }

    /// The section's title.
    pub fn title(self) -> &'static str {
        match self {
            SettingGroup::General => "General",
            SettingGroup::Method(kind) => kind.title(),
        }
    }

    /// The section's explanation, if it has one; `duo_redirect_uri` is where Duo sends the
    /// browser back, which the Duo section names.
    pub fn help(self, duo_redirect_uri: &str) -> Option<String> {
        let text = match self {
            SettingGroup::General | SettingGroup::Method(FactorKind::Totp) => return None,
            SettingGroup::Method(FactorKind::Email) => {
                "With no SMTP host, messages are written to the outbox folder in the data directory."
            }
            SettingGroup::Method(FactorKind::Sms) => {
                "Provider outbox writes messages to the outbox folder; webhook, twilio and sns send them."
            }
            SettingGroup::Method(FactorKind::Yubikey) => {
                "Local mode checks OTPs with each key's AES key; server mode asks the validation servers."
            }
            SettingGroup::Method(FactorKind::Duo) => {
                return Some(format!(
                    "Two Duo applications: a Web SDK application (Client ID, Client Secret) for \
                     the Universal Prompt in the browser, with {duo_redirect_uri} as its redirect \
                     URI, and an Auth API application (Integration key, Secret key) for pushes \
                     and passcodes from the API and the CLI; both use the API hostname. Fail mode \
                     closed refuses the second factor while Duo cannot be reached; open lets such \
                     logins through on the password alone."
                ));
            }
            SettingGroup::Method(FactorKind::Hotp) => {
                "Tokens whose button shows the next code of a counter (RFC 4226). They are added \
                 through the API with their secret's parameters; a token pressed beyond the \
                 window is resynchronised with two codes in a row."
            }
            SettingGroup::Method(FactorKind::Webauthn) => {
                "Security keys (YubiKey, Titan, …) and passkeys (phones, laptops, password \
                 managers), checked by the browser's WebAuthn. The relying party ID is the public \
                 URL's host unless set here to a parent domain of it, which lets one key serve \
                 every subdomain; keys registered under one ID do not work under another."
            }
        };
        Some(text.to_owned())
    }

    /// The definitions of this group, in page order.
    pub fn definitions(self) -> impl Iterator<Item = &'static SettingDef> {
        DEFINITIONS.iter().filter(move |d| d.group == self)
    }

    /// The group's name in message ids: `general` or the method's kind (`totp`, `duo`, …).
    pub fn name(self) -> &'static str {
        match self {
            SettingGroup::General => "general",
            SettingGroup::Method(kind) => kind.as_str(),
        }
    }

    /// The message id of [`SettingGroup::title`] (`setting-group-general`, `setting-group-duo`).
    pub fn title_id(self) -> String {
        format!("setting-group-{}", self.name())
    }

    /// The message id of [`SettingGroup::help`] (`setting-group-duo-help`), for the groups that
    /// have one.
    pub fn help_id(self) -> Option<String> {
        match self {
            SettingGroup::General | SettingGroup::Method(FactorKind::Totp) => None,
            SettingGroup::Method(_) => Some(format!("setting-group-{}-help", self.name())),
        }
    }

    /// [`SettingGroup::help`] as a message for the admin page (the Duo group's names the
    /// redirect URI as `$redirect_uri`).
    pub fn help_text(self, duo_redirect_uri: &str) -> Option<crate::i18n::Text> {
        let text = crate::i18n::Text::new(self.help_id()?);
        Some(match self {
            SettingGroup::Method(FactorKind::Duo) => {
                text.arg("redirect_uri", duo_redirect_uri.to_owned())
            }
            _ => text,
        })
    }
}

/// The message id for a setting key: `setting-` and the key, dots and underscores as dashes.
fn key_message_id(key: &str) -> String {
    format!("setting-{}", key.replace(['.', '_'], "-"))
}

/// One known key: where it shows, what it means, and what it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingDef {
    /// The key, e.g. `lockout.max_failures`: the form field's name and the API's and CLI's key.
    pub key: &'static str,
    /// The admin page's section.
    pub group: SettingGroup,
    /// The admin page's label for the field.
    pub label: &'static str,
    /// Its type.
    pub ty: SettingType,
    /// The default as text (`""` for unset text).
    pub default: &'static str,
    /// One line for `--help`, the API document and the admin page.
    pub help: &'static str,
    /// The shape text must have.
    pub format: Format,
    /// The most characters text may have.
    pub max_chars: usize,
}

impl SettingDef {
    /// The message id of [`SettingDef::label`] on the admin page: `setting-` and the key, dots
    /// and underscores as dashes (`setting-lockout-max-failures`).
    pub fn label_id(&self) -> String {
        key_message_id(self.key)
    }

    /// The message id of [`SettingDef::help`] (`setting-lockout-max-failures-help`).
    pub fn help_id(&self) -> String {
        format!("{}-help", key_message_id(self.key))
    }

    /// Whether the value is a secret: sealed at rest, opened only by the flow that uses it and
    /// shown only as set or not.
    pub fn is_secret(&self) -> bool {
        self.ty == SettingType::Secret
    }

    /// Checks `value` and returns it normalised (text trimmed, integers in plain decimal). The
    /// reason never repeats the value, which may be a secret.
    pub fn validate(&self, value: &str) -> std::result::Result<String, SettingError> {
        let invalid = |reason: Text| SettingError::Invalid {
            key: self.key.to_owned(),
            reason,
        };
        match self.ty {
            SettingType::Bool => match value {
                "true" | "false" => Ok(value.to_owned()),
                _ => Err(invalid(Text::new("err-setting-expected-bool"))),
            },
            SettingType::Int { min, max } => match value.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n.to_string()),
                _ => Err(invalid(
                    Text::new("err-setting-expected-number")
                        .arg("min", min)
                        .arg("max", max),
                )),
            },
            SettingType::Choice(options) => {
                if options.contains(&value) {
                    Ok(value.to_owned())
                } else {
                    Err(invalid(
                        Text::new("err-setting-expected-choice").arg("options", options.join(", ")),
                    ))
                }
            }
            SettingType::Text | SettingType::Secret => {
                if value.chars().count() > self.max_chars || value.chars().any(char::is_control) {
                    return Err(invalid(Text::new("err-setting-text-too-long")));
                }
                let value = value.trim();
                if !value.is_empty() {
                    check_format(self.format, value).map_err(invalid)?;
                }
                Ok(value.to_owned())
            }
        }
    }
}

const fn def(
    group: SettingGroup,
    key: &'static str,
    ty: SettingType,
    default: &'static str,
    help: &'static str,
) -> SettingDef {
    SettingDef {
        key,
        group,
        label: help,
        ty,
        default,
        help,
        format: Format::Any,
        max_chars: 2048,
    }
}

impl SettingDef {
    const fn labelled(mut self, label: &'static str) -> Self {
        self.label = label;
        self
    }

    const fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    const fn max_chars(mut self, max: usize) -> Self {
        self.max_chars = max;
        self
    }
}

const BOOL: SettingType = SettingType::Bool;
const TEXT: SettingType = SettingType::Text;
const SECRET: SettingType = SettingType::Secret;
const GENERAL: SettingGroup = SettingGroup::General;
const TOTP: SettingGroup = SettingGroup::Method(FactorKind::Totp);
const EMAIL: SettingGroup = SettingGroup::Method(FactorKind::Email);
const SMS: SettingGroup = SettingGroup::Method(FactorKind::Sms);
const YUBIKEY: SettingGroup = SettingGroup::Method(FactorKind::Yubikey);
const DUO: SettingGroup = SettingGroup::Method(FactorKind::Duo);
const WEBAUTHN: SettingGroup = SettingGroup::Method(FactorKind::Webauthn);
const HOTP: SettingGroup = SettingGroup::Method(FactorKind::Hotp);

/// A method's three switches: activated, enabled for clients, enabled for admins.
const fn switches(
    group: SettingGroup,
    keys: [&'static str; 3],
    default: &'static str,
    title: [&'static str; 3],
) -> [SettingDef; 3] {
    [
        def(group, keys[0], BOOL, default, title[0]).labelled("Activate"),
        def(group, keys[1], BOOL, default, title[1]).labelled("Enable for Clients"),
        def(group, keys[2], BOOL, default, title[2]).labelled("Enable for Admins"),
    ]
}

const TOTP_SWITCHES: [SettingDef; 3] = switches(
    TOTP,
    [
        "methods.totp.active",
        "methods.totp.clients",
        "methods.totp.admins",
    ],
    "true",
    [
        "Time Based Tokens (authenticator apps) are activated.",
        "Time Based Tokens are enabled for clients.",
        "Time Based Tokens are enabled for admins.",
    ],
);
const EMAIL_SWITCHES: [SettingDef; 3] = switches(
    EMAIL,
    [
        "methods.email.active",
        "methods.email.clients",
        "methods.email.admins",
    ],
    "false",
    [
        "Email codes are activated.",
        "Email codes are enabled for clients.",
        "Email codes are enabled for admins.",
    ],
);
const SMS_SWITCHES: [SettingDef; 3] = switches(
    SMS,
    [
        "methods.sms.active",
        "methods.sms.clients",
        "methods.sms.admins",
    ],
    "false",
    [
        "SMS codes are activated.",
        "SMS codes are enabled for clients.",
        "SMS codes are enabled for admins.",
    ],
);
const YUBIKEY_SWITCHES: [SettingDef; 3] = switches(
    YUBIKEY,
    [
        "methods.yubikey.active",
        "methods.yubikey.clients",
        "methods.yubikey.admins",
    ],
    "false",
    [
        "YubiKey is activated.",
        "YubiKey is enabled for clients.",
        "YubiKey is enabled for admins.",
    ],
);
const DUO_SWITCHES: [SettingDef; 3] = switches(
    DUO,
    [
        "methods.duo.active",
        "methods.duo.clients",
        "methods.duo.admins",
    ],
    "false",
    [
        "Duo Security is activated.",
        "Duo Security is enabled for clients.",
        "Duo Security is enabled for admins.",
    ],
);
const WEBAUTHN_SWITCHES: [SettingDef; 3] = switches(
    WEBAUTHN,
    [
        "methods.webauthn.active",
        "methods.webauthn.clients",
        "methods.webauthn.admins",
    ],
    "false",
    [
        "Security keys and passkeys are activated.",
        "Security keys and passkeys are enabled for clients.",
        "Security keys and passkeys are enabled for admins.",
    ],
);

const HOTP_SWITCHES: [SettingDef; 3] = switches(
    HOTP,
    [
        "methods.hotp.active",
        "methods.hotp.clients",
        "methods.hotp.admins",
    ],
    "false",
    [
        "Counter-based tokens (HOTP) are activated.",
        "Counter-based tokens are enabled for clients.",
        "Counter-based tokens are enabled for admins.",
    ],
);

/// Every setting, in page order: the General section, then each method's (its three switches
/// first). Method keys follow `methods.<kind>.…`.
pub static DEFINITIONS: &[SettingDef] = &[
    def(
        GENERAL,
        "twofactor.enabled",
        BOOL,
        "true",
        "Server-wide switch: off, nobody is asked for a second factor (enrolments are kept).",
    )
    .labelled("Two-factor authentication is on for this server"),
    def(
        GENERAL,
        "force.clients",
        BOOL,
        "false",
        "Clients without a usable factor must enrol at their next login.",
    )
    .labelled("Force two-factor authentication for clients"),
    def(
        GENERAL,
        "force.admins",
        BOOL,
        "false",
        "Admins and owners without a usable factor must enrol at their next login.",
    )
    .labelled("Force two-factor authentication for admins"),
    def(
        GENERAL,
        "issuer",
        TEXT,
        "",
        "The name authenticator apps show; empty means the machine's hostname.",
    )
    .labelled("Issuer: the name authenticator apps show")
    // The issuer goes into every key URI twice and must fit a QR code.
    .max_chars(64),
    def(
        GENERAL,
        "totp.window",
        SettingType::Int { min: 0, max: 10 },
        "1",
        "Steps of clock drift tolerated each way.",
    )
    .labelled("Clock drift tolerated, in 30-second steps each way"),
    def(
        GENERAL,
        "hotp.window",
        SettingType::Int { min: 1, max: 100 },
        "10",
        "Counter-based tokens: how many codes ahead of the last one accepted are accepted \
         (presses of the token's button that were never used).",
    )
    .labelled("Counter-based tokens: codes accepted ahead of the last one used"),
    def(
        GENERAL,
        "lockout.max_failures",
        SettingType::Int { min: 1, max: 1000 },
        "5",
        "Consecutive failed second-factor attempts before a lockout.",
    )
    .labelled("Failed codes before a lockout"),
    def(
        GENERAL,
        "lockout.seconds",
        SettingType::Int {
            min: 1,
            max: 31_536_000,
        },
        "900",
        "How long a lockout lasts.",
    )
    .labelled("Lockout length in seconds"),
    def(
        GENERAL,
        "codes.ttl_seconds",
        SettingType::Int {
            min: 30,
            max: 86_400,
        },
        "600",
        "How long an email or SMS code stays valid.",
    )
    .labelled("Email and SMS codes are valid for (seconds)"),
    def(
        GENERAL,
        "session.idle_minutes",
        SettingType::Int {
            min: 1,
            max: 10_080,
        },
        "60",
        "A portal session ends after this many minutes without use.",
    )
    .labelled("Sign-ins end after this many minutes without use"),
    def(
        GENERAL,
        "session.max_hours",
        SettingType::Int { min: 1, max: 8_760 },
        "12",
        "A portal session ends this many hours after its sign-in, however much it is used.",
    )
    .labelled("Sign-ins end this many hours after signing in, however much they are used"),
    def(
        GENERAL,
        "remember.days",
        SettingType::Int { min: 0, max: 365 },
        "0",
        "The second-factor page offers \"Remember this browser\" for this many days: such a \
         browser's next sign-ins ask only for the password. 0 turns it off.",
    )
    .labelled("Remember a browser after its second factor for this many days (0: off)"),
    def(
        GENERAL,
        "remember.admins",
        BOOL,
        "false",
        "Admins and owners may have their browsers remembered too.",
    )
    .labelled("Remember browsers of admins and owners too"),
    def(
        GENERAL,
        "radius.mode",
        SettingType::Choice(&["otp", "password+otp", "challenge"]),
        "otp",
        "What the RADIUS server reads from the password field: otp (the code alone: the device \
         checked the password elsewhere), password+otp (the Twofold password immediately followed \
         by the code) or challenge (the password alone; the code is asked for in an \
         Access-Challenge).",
    )
    .labelled("RADIUS: what the password field holds"),
    def(
        GENERAL,
        "ui.language",
        SettingType::Choice(&["en", "de", "fr", "es", "pt-BR"]),
        "en",
        "The language of pages, emails and SMS for users who chose none and whose browser asks \
         for none Twofold speaks: en, de, fr, es or pt-BR.",
    )
    .labelled("Default language"),
    // Time Based Tokens.
    TOTP_SWITCHES[0],
    TOTP_SWITCHES[1],
    TOTP_SWITCHES[2],
    // Email.
    EMAIL_SWITCHES[0],
    EMAIL_SWITCHES[1],
    EMAIL_SWITCHES[2],
    def(
        EMAIL,
        "methods.email.from",
        TEXT,
        "",
        "The From address of code emails.",
    ),
    def(
        EMAIL,
        "methods.email.smtp.host",
        TEXT,
        "",
        "SMTP server; empty writes mail to the outbox folder.",
    ),
    def(
        EMAIL,
        "methods.email.smtp.port",
        SettingType::Int {
            min: 1,
            max: 65_535,
        },
        "587",
        "SMTP port.",
    ),
    def(
        EMAIL,
        "methods.email.smtp.security",
        SettingType::Choice(&["starttls", "tls", "none"]),
        "starttls",
        "SMTP transport security.",
    ),
    def(
        EMAIL,
        "methods.email.smtp.username",
        TEXT,
        "",
        "SMTP user name (empty: no authentication).",
    ),
    def(
        EMAIL,
        "methods.email.smtp.password",
        SECRET,
        "",
        "SMTP password.",
    ),
    // SMS.
    SMS_SWITCHES[0],
    SMS_SWITCHES[1],
    SMS_SWITCHES[2],
    def(
        SMS,
        "methods.sms.provider",
        SettingType::Choice(&["outbox", "webhook", "twilio", "sns"]),
        "outbox",
        "Where SMS codes go.",
    ),
    def(
        SMS,
        "methods.sms.webhook.url",
        TEXT,
        "",
        "Webhook provider: the URL that receives {\"to\", \"message\"}.",
    ),
    def(
        SMS,
        "methods.sms.webhook.secret",
        SECRET,
        "",
        "Webhook provider: HMAC-SHA256 key that signs the body.",
    ),
    def(
        SMS,
        "methods.sms.twilio.account_sid",
        TEXT,
        "",
        "Twilio Account SID.",
    ),
    def(
        SMS,
        "methods.sms.twilio.auth_token",
        SECRET,
        "",
        "Twilio Auth Token.",
    ),
    def(
        SMS,
        "methods.sms.twilio.from",
        TEXT,
        "",
        "Twilio sender number.",
    ),
    def(
        SMS,
        "methods.sms.twilio.api_base",
        TEXT,
        "https://api.twilio.com",
        "Twilio API base URL.",
    ),
    def(SMS, "methods.sms.sns.region", TEXT, "", "AWS SNS region."),
    def(
        SMS,
        "methods.sms.sns.access_key_id",
        TEXT,
        "",
        "AWS access key id.",
    ),
    def(
        SMS,
        "methods.sms.sns.secret_access_key",
        SECRET,
        "",
        "AWS secret access key.",
    ),
    def(
        SMS,
        "methods.sms.sns.endpoint",
        TEXT,
        "",
        "AWS SNS endpoint URL (empty: the region's).",
    ),
    // YubiKey.
    YUBIKEY_SWITCHES[0],
    YUBIKEY_SWITCHES[1],
    YUBIKEY_SWITCHES[2],
    def(
        YUBIKEY,
        "methods.yubikey.mode",
        SettingType::Choice(&["local", "server"]),
        "local",
        "Validate OTPs with the keys' AES secrets (local) or a validation server.",
    ),
    def(
        YUBIKEY,
        "methods.yubikey.client_id",
        TEXT,
        "",
        "Validation server client id.",
    )
    .format(Format::ClientId),
    def(
        YUBIKEY,
        "methods.yubikey.api_key",
        SECRET,
        "",
        "Validation server API key (base64).",
    )
    .format(Format::Base64),
    def(
        YUBIKEY,
        "methods.yubikey.servers",
        TEXT,
        "https://api.yubico.com/wsapi/2.0/verify",
        "Validation server URLs, separated by commas, tried in turn.",
    )
    .format(Format::ServerUrls),
    // Duo.
    DUO_SWITCHES[0],
    DUO_SWITCHES[1],
    DUO_SWITCHES[2],
    def(DUO, "methods.duo.api_host", TEXT, "", "Duo API hostname.").format(Format::HostPort),
    def(
        DUO,
        "methods.duo.client_id",
        TEXT,
        "",
        "Duo Web SDK application Client ID.",
    )
    .format(Format::Alnum(20)),
    def(
        DUO,
        "methods.duo.client_secret",
        SECRET,
        "",
        "Duo Web SDK application Client Secret.",
    )
    .format(Format::Alnum(40)),
    def(
        DUO,
        "methods.duo.ikey",
        TEXT,
        "",
        "Duo Auth API integration key.",
    )
    .format(Format::Alnum(20)),
    def(
        DUO,
        "methods.duo.skey",
        SECRET,
        "",
        "Duo Auth API secret key.",
    )
    .format(Format::Alnum(40)),
    def(
        DUO,
        "methods.duo.failmode",
        SettingType::Choice(&["closed", "open"]),
        "closed",
        "What happens when Duo cannot be reached.",
    ),
    def(
        DUO,
        "methods.duo.username_format",
        TEXT,
        "{username}",
        "The Duo username: {username} or {email}.",
    )
    .format(Format::DuoUsername),
    // Security keys and passkeys.
    WEBAUTHN_SWITCHES[0],
    WEBAUTHN_SWITCHES[1],
    WEBAUTHN_SWITCHES[2],
    def(
        WEBAUTHN,
        "methods.webauthn.user_verification",
        SettingType::Choice(&["preferred", "required", "discouraged"]),
        "preferred",
        "Whether the key must also check its user (a PIN, a fingerprint): required refuses keys \
         that did not; preferred asks but accepts; discouraged does not ask.",
    )
    .labelled("User verification (PIN or biometrics on the key)"),
    def(
        WEBAUTHN,
        "methods.webauthn.passwordless",
        BOOL,
        "false",
        "The sign-in page offers \"Sign in with a passkey\": a passkey that verifies its user \
         signs them in without a password.",
    )
    .labelled("Offer passwordless sign-in with a passkey"),
    def(
        WEBAUTHN,
        "methods.webauthn.attestation",
        SettingType::Choice(&["none", "direct"]),
        "none",
        "none asks keys for no device certificate; direct asks for one and records its format \
         (the certificate chain is not checked against a vendor list).",
    )
    .labelled("Attestation"),
    def(
        WEBAUTHN,
        "webauthn.rp_id",
        TEXT,
        "",
        "The relying party ID: empty for the public URL's host, or a parent domain of it \
         (example.com for login.example.com).",
    )
    .labelled("Relying party ID")
    .format(Format::HostName)
    .max_chars(253),
    // Counter-based tokens.
    HOTP_SWITCHES[0],
    HOTP_SWITCHES[1],
    HOTP_SWITCHES[2],
];

/// Finds a key's definition.
pub fn definition(key: &str) -> Option<&'static SettingDef> {
    DEFINITIONS.iter().find(|d| d.key == key)
}

/// A value refused for a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingError {
    /// No such key.
    #[error("unknown setting {0:?}")]
    Unknown(String),
    /// The value does not fit the key's type.
    #[error("invalid value for {key}: {reason}")]
    Invalid {
        /// The key.
        key: String,
        /// What is wrong.
        reason: Text,
    },
}

impl SettingError {
    /// The sentence for people, to be put into the reader's language.
    pub fn text(&self) -> Text {
        match self {
            SettingError::Unknown(key) => {
                Text::new("err-setting-unknown").arg("key", format!("{key:?}"))
            }
            SettingError::Invalid { key, reason } => Text::new("err-setting-invalid")
                .arg("key", key)
                .arg("reason", reason.clone()),
        }
    }

    /// The stable error code the API, the pages and the CLI answer with.
    pub fn code(&self) -> &'static str {
        match self {
            SettingError::Unknown(_) => "unknown_setting",
            SettingError::Invalid { .. } => "invalid_setting",
        }
    }
}

/// Checks and normalises a value given as text for `key`: the one validation the admin page,
/// the API and the CLI share.
pub fn normalize(key: &str, value: &str) -> std::result::Result<String, SettingError> {
    definition(key)
        .ok_or_else(|| SettingError::Unknown(key.to_owned()))?
        .validate(value)
}

/// Checks a non-empty text value's shape.
fn check_format(format: Format, value: &str) -> std::result::Result<(), Text> {
    let ok = match format {
        Format::Any => true,
        Format::ClientId => {
            value.len() <= 18 && value.bytes().all(|b| b.is_ascii_digit()) && value != "0"
        }
        Format::Base64 => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(value)
                .is_ok_and(|k| !k.is_empty())
        }
        Format::ServerUrls => value.split(',').map(str::trim).all(is_server_url),
        Format::Alnum(n) => value.len() == n && value.bytes().all(|b| b.is_ascii_alphanumeric()),
        Format::HostPort => is_host_port(value),
        Format::HostName => !value.contains(':') && is_host_port(value),
        Format::DuoUsername => {
            let rest = value.replace("{username}", "").replace("{email}", "");
            rest.len() < value.len() && !rest.contains(['{', '}']) && rest.len() <= 64
        }
    };
    if ok {
        return Ok(());
    }
    Err(match format {
        // Never: any text fits.
        Format::Any => Text::raw(""),
        Format::ClientId => Text::new("err-setting-client-id"),
        Format::Base64 => Text::new("err-setting-base64"),
        Format::ServerUrls => Text::new("err-setting-server-urls"),
        Format::Alnum(n) => Text::new("err-setting-duo-key").arg("count", n),
        Format::HostPort => Text::new("err-setting-host-port"),
        Format::DuoUsername => Text::new("err-setting-duo-username"),
        Format::HostName => Text::new("err-setting-host-name"),
    })
}

/// One validation server URL: `https://`, or `http://` to this machine only.
fn is_server_url(url: &str) -> bool {
    let (https, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(r), _) => (true, r),
        (None, Some(r)) => (false, r),
        (None, None) => return false,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return false;
    }
    let host = if authority.starts_with('[') {
        authority.split(']').next().map(|h| format!("{h}]"))
    } else {
        authority.split(':').next().map(str::to_owned)
    };
    let host = host.unwrap_or_default();
    https
        || host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}
/// A host name (or IPv4 address) with an optional port: what Duo calls the API hostname.
fn is_host_port(value: &str) -> bool {
    let (host, port) = match value.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (value, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    let labels_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    port_ok && labels_ok
}

/// The context a secret setting is sealed under: a value sealed for one key opens for no other.
pub(crate) fn seal_context(key: &str) -> String {
    format!("setting:{key}")
}

/// A secret setting that is set.
enum SecretValue {
    /// Stored in the clear (never written so, but read if found).
    Plain(Zeroizing<String>),
    /// Stored sealed; opened at its first use by a flow, then kept for this view's lifetime
    /// (`None`: it could not be opened).
    Sealed {
        sealed: Sealed,
        opened: OnceLock<Option<Zeroizing<String>>>,
    },
}

/// All settings, defaults filled in, read through typed accessors. Secrets stay sealed until a
/// flow that needs one asks for it: showing the settings needs only whether each is set.
/// `Debug` masks secrets.
pub struct Settings {
    /// Every setting that is not a secret.
    values: BTreeMap<&'static str, String>,
    /// The secrets that are set.
    secrets: BTreeMap<&'static str, SecretValue>,
    hostname: String,
    key: Option<Arc<MasterKey>>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for d in DEFINITIONS {
            if d.is_secret() {
                m.entry(&d.key, &if self.is_set(d.key) { "********" } else { "" });
            } else {
                m.entry(&d.key, &self.text(d.key));
            }
        }
        m.finish()
    }
}

impl Settings {
    /// Builds the view from the stored rows (unknown keys are ignored), the hostname the issuer
    /// defaults to and the master key that opens the secrets when a flow asks for one.
    pub fn from_stored(
        stored: Vec<(String, StoredValue)>,
        hostname: &str,
        key: Arc<MasterKey>,
    ) -> Self {
        let mut settings = Self::defaults(hostname);
        settings.key = Some(key);
        for (key, value) in stored {
            let Some(def) = definition(&key) else {
                continue;
            };
            match (def.is_secret(), value) {
                (true, StoredValue::Plain(v)) if v.is_empty() => {}
                (true, StoredValue::Plain(v)) => {
                    settings
                        .secrets
                        .insert(def.key, SecretValue::Plain(Zeroizing::new(v)));
                }
                (true, StoredValue::Sealed(sealed)) => {
                    settings.secrets.insert(
                        def.key,
                        SecretValue::Sealed {
                            sealed,
                            opened: OnceLock::new(),
                        },
                    );
                }
                (false, StoredValue::Plain(v)) => {
                    settings.values.insert(def.key, v);
                }
                // Only secrets are ever sealed: anything else keeps its default.
                (false, StoredValue::Sealed(_)) => {}
            }
        }
        settings
    }

    /// The defaults of a fresh install.
    pub fn defaults(hostname: &str) -> Self {
        Settings {
            values: DEFINITIONS
                .iter()
                .filter(|d| !d.is_secret())
                .map(|d| (d.key, d.default.to_owned()))
                .collect(),
            secrets: BTreeMap::new(),
            hostname: hostname.to_owned(),
            key: None,
        }
    }

    /// Whether a key has a value: for a secret, whether one is stored (nothing is opened).
    pub fn is_set(&self, key: &str) -> bool {
        match definition(key) {
            Some(d) if d.is_secret() => self.secrets.contains_key(d.key),
            _ => !self.text(key).is_empty(),
        }
    }

    /// A value as the admin page, the API and the CLI show it: a secret is [`MASK`] when set
    /// and empty when not, and is never opened; the issuer is what authenticator apps see.
    pub fn shown(&self, def: &SettingDef) -> String {
        if def.is_secret() {
            if self.is_set(def.key) { MASK } else { "" }.to_owned()
        } else if def.key == "issuer" {
            self.issuer().to_owned()
        } else {
            self.text(def.key).to_owned()
        }
    }

    /// A value that is not a secret, as text (`""` for an unknown key or a secret).
    fn text(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    fn flag(&self, key: &str) -> bool {
        self.text(key) == "true"
    }

    /// An integer value (0 if unparsable, which `normalize` prevents).
    fn int(&self, key: &str) -> i64 {
        self.text(key).parse().unwrap_or(0)
    }

    /// A secret, opened (at its first use; `""` when not set).
    fn secret(&self, key: &str) -> Result<&str> {
        match self.secrets.get(key) {
            None => Ok(""),
            Some(SecretValue::Plain(v)) => Ok(v.as_str()),
            Some(SecretValue::Sealed { sealed, opened }) => {
                let opened = opened.get_or_init(|| {
                    let bytes = self.key.as_ref()?.open(sealed, &seal_context(key)).ok()?;
                    String::from_utf8(bytes.to_vec()).ok().map(Zeroizing::new)
                });
                opened
                    .as_ref()
                    .map(|v| v.as_str())
                    .ok_or_else(|| Error::internal(&crate::crypto::OpenError))
            }
        }
    }

    /// The server-wide switch.
    pub fn twofactor_enabled(&self) -> bool {
        self.flag("twofactor.enabled")
    }

    /// Whether `kind` is activated.
    pub fn method_active(&self, kind: FactorKind) -> bool {
        self.flag(&format!("methods.{}.active", kind.as_str()))
    }

    /// Whether `kind` is activated and enabled for `role` (owners count as admins).
    pub fn method_available(&self, kind: FactorKind, role: Role) -> bool {
        let who = if role.is_staff() { "admins" } else { "clients" };
        self.method_active(kind) && self.flag(&format!("methods.{}.{who}", kind.as_str()))
    }

    /// Whether 2FA is forced for `role`.
    pub fn forced(&self, role: Role) -> bool {
        self.flag(if role.is_staff() {
            "force.admins"
        } else {
            "force.clients"
        })
    }

    /// The issuer authenticator apps show.
    pub fn issuer(&self) -> &str {
        match self.text("issuer") {
            "" => &self.hostname,
            i => i,
        }
    }

    /// `ui.language`: the language of readers who chose none and whose browser asks for none
    /// Twofold speaks.
    pub fn language(&self) -> crate::i18n::Lang {
        crate::i18n::Lang::from_tag(self.text("ui.language")).unwrap_or_default()
    }

    /// `totp.window`.
    pub fn totp_window(&self) -> u64 {
        u64::try_from(self.int("totp.window")).unwrap_or(1)
    }

    /// `hotp.window`: how many counters from the next expected one a code may match (1–100).
    pub fn hotp_window(&self) -> u64 {
        u64::try_from(self.int("hotp.window"))
            .unwrap_or(10)
            .clamp(1, 100)
    }

    /// `lockout.max_failures`.
    pub fn max_failures(&self) -> i64 {
        self.int("lockout.max_failures").max(1)
    }

    /// `lockout.seconds`.
    pub fn lockout_seconds(&self) -> i64 {
        self.int("lockout.seconds").max(1)
    }

    /// `session.idle_minutes`, in seconds.
    pub fn session_idle_seconds(&self) -> i64 {
        self.int("session.idle_minutes").max(1).saturating_mul(60)
    }

    /// `session.max_hours`, in seconds.
    pub fn session_max_seconds(&self) -> i64 {
        self.int("session.max_hours").max(1).saturating_mul(3600)
    }

    /// `remember.days`: how long a browser is remembered after a second factor given with
    /// "Remember this browser" ticked (0: not at all).
    pub fn remember_days(&self) -> i64 {
        self.int("remember.days").clamp(0, 365)
    }

    /// `remember.admins`: admins and owners may have their browsers remembered too.
    pub fn remember_admins(&self) -> bool {
        self.flag("remember.admins")
    }

    /// For how many days a browser of a user of `role` may be remembered: `None` when
    /// remembering is off, or the role is staff and `remember.admins` is not set.
    pub fn remember_days_for(&self, role: Role) -> Option<i64> {
        let days = self.remember_days();
        (days > 0 && (!role.is_staff() || self.remember_admins())).then_some(days)
    }

    /// `methods.webauthn.user_verification`.
    pub fn webauthn_user_verification(&self) -> twofold_otp::webauthn::UserVerification {
        use twofold_otp::webauthn::UserVerification;
        match self.text("methods.webauthn.user_verification") {
            "required" => UserVerification::Required,
            "discouraged" => UserVerification::Discouraged,
            _ => UserVerification::Preferred,
        }
    }

    /// `methods.webauthn.passwordless`: the sign-in page offers a passkey sign-in (only while
    /// the method is active).
    pub fn webauthn_passwordless(&self) -> bool {
        self.flag("methods.webauthn.passwordless") && self.flag("methods.webauthn.active")
    }

    /// `methods.webauthn.attestation` is `direct`.
    pub fn webauthn_direct_attestation(&self) -> bool {
        self.text("methods.webauthn.attestation") == "direct"
    }

    /// `webauthn.rp_id`, when set.
    pub fn webauthn_rp_id(&self) -> Option<&str> {
        Some(self.text("webauthn.rp_id")).filter(|t| !t.is_empty())
    }

    /// `radius.mode`: what a RADIUS Access-Request's password field holds.
    pub fn radius_mode(&self) -> RadiusMode {
        match self.text("radius.mode") {
            "password+otp" => RadiusMode::PasswordOtp,
            "challenge" => RadiusMode::Challenge,
            _ => RadiusMode::Otp,
        }
    }

    /// `codes.ttl_seconds`: how long an email or SMS code stays valid.
    pub fn code_ttl_seconds(&self) -> i64 {
        self.int("codes.ttl_seconds").max(30)
    }

    /// Where code emails go (the SMTP password opened).
    pub fn email_config(&self) -> Result<EmailConfig> {
        let non_empty = |k: &str| Some(self.text(k).to_owned()).filter(|v| !v.is_empty());
        Ok(EmailConfig {
            from: non_empty("methods.email.from")
                .unwrap_or_else(|| format!("twofold@{}", self.hostname)),
            smtp_host: non_empty("methods.email.smtp.host"),
            smtp_port: u16::try_from(self.int("methods.email.smtp.port")).unwrap_or(587),
            security: match self.text("methods.email.smtp.security") {
                "tls" => SmtpSecurity::Tls,
                "none" => SmtpSecurity::None,
                _ => SmtpSecurity::StartTls,
            },
            username: non_empty("methods.email.smtp.username"),
            password: self.secret("methods.email.smtp.password")?.to_owned(),
        })
    }

    /// Where SMS codes go (only the chosen provider's secret opened).
    pub fn sms_config(&self) -> Result<SmsConfig> {
        let g = |k: &str| self.text(k).to_owned();
        Ok(match self.text("methods.sms.provider") {
            "webhook" => SmsConfig::Webhook {
                url: g("methods.sms.webhook.url"),
                secret: self.secret("methods.sms.webhook.secret")?.to_owned(),
            },
            "twilio" => SmsConfig::Twilio {
                account_sid: g("methods.sms.twilio.account_sid"),
                auth_token: self.secret("methods.sms.twilio.auth_token")?.to_owned(),
                from: g("methods.sms.twilio.from"),
                api_base: g("methods.sms.twilio.api_base"),
            },
            "sns" => SmsConfig::Sns {
                region: g("methods.sms.sns.region"),
                access_key_id: g("methods.sms.sns.access_key_id"),
                secret_access_key: self.secret("methods.sms.sns.secret_access_key")?.to_owned(),
                endpoint: g("methods.sms.sns.endpoint"),
            },
            _ => SmsConfig::Outbox,
        })
    }

    /// Whether YubiKey OTPs are checked locally with each key's AES key (else by the
    /// validation servers).
    pub fn yubikey_local(&self) -> bool {
        self.text("methods.yubikey.mode") == "local"
    }

    /// The validation servers' client id.
    pub fn yubikey_client_id(&self) -> &str {
        self.text("methods.yubikey.client_id")
    }

    /// The validation servers' API key (base64, opened; `""` when not set).
    pub fn yubikey_api_key(&self) -> Result<&str> {
        self.secret("methods.yubikey.api_key")
    }

    /// The validation servers' URLs, in the order they are tried.
    pub fn yubikey_servers(&self) -> Vec<String> {
        self.text("methods.yubikey.servers")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Duo's API hostname (`""` when not set).
    pub fn duo_api_host(&self) -> &str {
        self.text("methods.duo.api_host")
    }

    /// Whether the Duo Web SDK application's three settings are set (nothing opened).
    pub fn duo_web_set(&self) -> bool {
        !self.duo_api_host().is_empty()
            && !self.text("methods.duo.client_id").is_empty()
            && self.is_set("methods.duo.client_secret")
    }

    /// Whether the Duo Auth API application's three settings are set (nothing opened).
    pub fn duo_auth_set(&self) -> bool {
        !self.duo_api_host().is_empty()
            && !self.text("methods.duo.ikey").is_empty()
            && self.is_set("methods.duo.skey")
    }

    /// The Duo Web SDK application, when its three settings are set (its secret opened).
    pub fn duo_web_config(&self) -> Result<Option<DuoWebConfig>> {
        let (api_host, client_id) = (self.duo_api_host(), self.text("methods.duo.client_id"));
        if !self.duo_web_set() {
            return Ok(None);
        }
        Ok(Some(DuoWebConfig {
            api_host: api_host.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: self.secret("methods.duo.client_secret")?.to_owned(),
        }))
    }

    /// The Duo Auth API application, when its three settings are set (its secret opened).
    pub fn duo_auth_config(&self) -> Result<Option<DuoAuthConfig>> {
        let (api_host, ikey) = (self.duo_api_host(), self.text("methods.duo.ikey"));
        if !self.duo_auth_set() {
            return Ok(None);
        }
        Ok(Some(DuoAuthConfig {
            api_host: api_host.to_owned(),
            ikey: ikey.to_owned(),
            skey: self.secret("methods.duo.skey")?.to_owned(),
        }))
    }

    /// Whether Duo's fail mode is open: a login Duo cannot be reached for passes on the
    /// password alone.
    pub fn duo_fail_open(&self) -> bool {
        self.text("methods.duo.failmode") == "open"
    }

    /// The user's name at Duo as a format with `{username}` and `{email}`.
    pub fn duo_username_format(&self) -> &str {
        match self.text("methods.duo.username_format") {
            "" => "{username}",
            f => f,
        }
    }
}

/// How a secret setting is shown once set.
pub const MASK: &str = "********";
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_a_fresh_install() {
        let s = Settings::defaults("host.example");
        assert!(s.twofactor_enabled());
        assert!(s.method_available(FactorKind::Totp, Role::Client));
        assert!(s.method_available(FactorKind::Totp, Role::Owner));
        assert!(!s.method_available(FactorKind::Email, Role::Client));
        assert!(!s.forced(Role::Client) && !s.forced(Role::Admin));
        assert_eq!(s.issuer(), "host.example");
        assert_eq!(
            (s.totp_window(), s.max_failures(), s.lockout_seconds()),
            (1, 5, 900)
        );
        assert_eq!(s.code_ttl_seconds(), 600);
        assert_eq!(s.remember_days(), 0);
        assert_eq!(s.remember_days_for(Role::Client), None);
        assert!(s.yubikey_local());
        assert_eq!(s.duo_username_format(), "{username}");
        assert_eq!(s.hotp_window(), 10);
        assert!(!s.method_active(FactorKind::Hotp));
        assert!(!s.method_available(FactorKind::Hotp, Role::Client));
    }

    #[test]
    fn the_hotp_window_is_one_to_a_hundred() {
        assert_eq!(normalize("hotp.window", "1").unwrap(), "1");
        assert_eq!(normalize("hotp.window", "100").unwrap(), "100");
        for bad in ["0", "101", "-1", "ten"] {
            assert!(normalize("hotp.window", bad).is_err(), "{bad}");
        }
        for key in [
            "methods.hotp.active",
            "methods.hotp.clients",
            "methods.hotp.admins",
        ] {
            assert_eq!(definition(key).unwrap().default, "false", "{key}");
        }
    }

    #[test]
    fn duo_settings_are_checked_for_shape() {
        let id = "DIWEBSDKCLIENT000001";
        let secret = "webSdkClientSecret0000000000000000000001";
        assert_eq!(normalize("methods.duo.client_id", id).unwrap(), id);
        assert_eq!(
            normalize("methods.duo.ikey", &format!(" {id} ")).unwrap(),
            id
        );
        assert_eq!(
            normalize("methods.duo.client_secret", secret).unwrap(),
            secret
        );
        assert_eq!(normalize("methods.duo.skey", secret).unwrap(), secret);
        for key in [
            "methods.duo.client_id",
            "methods.duo.client_secret",
            "methods.duo.api_host",
        ] {
            assert_eq!(
                normalize(key, "").unwrap(),
                "",
                "{key}: empty means not set"
            );
        }
        assert!(normalize("methods.duo.client_id", &id[1..]).is_err());
        assert!(normalize("methods.duo.ikey", "DIWEBSDKCLIENT00000!").is_err());
        assert!(normalize("methods.duo.client_secret", &secret[1..]).is_err());
        assert!(normalize("methods.duo.skey", &format!("{secret}x")).is_err());
        for good in [
            "api-xxxxxxxx.duosecurity.com",
            "127.0.0.1:8443",
            "localhost",
        ] {
            assert_eq!(normalize("methods.duo.api_host", good).unwrap(), good);
        }
        for bad in [
            "https://api-x.duosecurity.com",
            "api-x.duosecurity.com/path",
            "api-x.duosecurity.com:0",
            "api-x.duosecurity.com:99999",
            "user@api-x.duosecurity.com",
            "-bad.example",
            "a..b",
        ] {
            assert!(normalize("methods.duo.api_host", bad).is_err(), "{bad}");
        }
        assert!(normalize("methods.duo.username_format", "{email}").is_ok());
        assert!(normalize("methods.duo.username_format", "{username}@corp").is_ok());
        assert!(normalize("methods.duo.username_format", "plain").is_err());
        assert!(normalize("methods.duo.username_format", "{user}").is_err());
        // The refusal never echoes the value (a secret).
        let e = normalize("methods.duo.skey", "short-secret").unwrap_err();
        assert!(!e.to_string().contains("short-secret"), "{e}");
    }

    #[test]
    fn normalize_checks_types() {
        assert_eq!(normalize("force.clients", "true").unwrap(), "true");
        assert!(normalize("force.clients", "yes").is_err());
        assert_eq!(normalize("totp.window", "2").unwrap(), "2");
        assert!(normalize("totp.window", "11").is_err());
        assert!(normalize("totp.window", "x").is_err());
        assert!(normalize("methods.sms.provider", "carrier-pigeon").is_err());
        assert_eq!(normalize("issuer", " Acme ").unwrap(), "Acme");
        assert!(normalize("issuer", "a\nb").is_err());
        assert!(normalize("issuer", &"x".repeat(65)).is_err());
        assert_eq!(
            normalize("no.such", "1"),
            Err(SettingError::Unknown("no.such".into()))
        );
        for d in DEFINITIONS {
            assert_eq!(normalize(d.key, d.default).unwrap(), d.default, "{}", d.key);
        }
    }

    #[test]
    fn yubikey_settings_have_their_shapes() {
        assert!(normalize("methods.yubikey.client_id", "87").is_ok());
        assert!(normalize("methods.yubikey.client_id", "").is_ok());
        for bad in ["0", "-1", "abc", "1.5"] {
            assert!(
                normalize("methods.yubikey.client_id", bad).is_err(),
                "{bad}"
            );
        }
        assert!(normalize("methods.yubikey.api_key", "c2VjcmV0IGtleQ==").is_ok());
        assert!(normalize("methods.yubikey.api_key", "not base64!").is_err());
        assert!(
            normalize(
                "methods.yubikey.servers",
                "https://api.yubico.com/wsapi/2.0/verify, http://127.0.0.1:8080/wsapi/2.0/verify"
            )
            .is_ok()
        );
        for bad in [
            "http://example.com/wsapi/2.0/verify",
            "ftp://x",
            "https://",
            "http://localhost.evil.com/",
            "http://localhost@evil.com/",
            "http://127.evil.com/",
        ] {
            assert!(normalize("methods.yubikey.servers", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn definitions_are_unique_grouped_and_labelled() {
        let mut keys: Vec<&str> = DEFINITIONS.iter().map(|d| d.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), DEFINITIONS.len(), "a key is defined twice");
        // The table is in page order: each group's definitions are contiguous.
        let order: Vec<SettingGroup> = SettingGroup::all().collect();
        let mut last = 0;
        for d in DEFINITIONS {
            let at = order.iter().position(|g| *g == d.group).unwrap();
            assert!(at >= last, "{} is out of its group's place", d.key);
            last = at;
            assert!(!d.label.is_empty() && !d.help.is_empty(), "{}", d.key);
            if let SettingGroup::Method(kind) = d.group {
                // `methods.<kind>.…`, or the kind's own `<kind>.…` (`webauthn.rp_id`).
                assert!(
                    d.key.starts_with(&format!("methods.{}.", kind.as_str()))
                        || d.key.starts_with(&format!("{}.", kind.as_str())),
                    "{} is in the {kind} group",
                    d.key
                );
            }
        }
        for kind in FactorKind::ALL {
            let labels: Vec<&str> = SettingGroup::Method(kind)
                .definitions()
                .take(3)
                .map(|d| d.label)
                .collect();
            assert_eq!(
                labels,
                ["Activate", "Enable for Clients", "Enable for Admins"],
                "{kind}"
            );
        }
        assert!(SettingGroup::General.help("x").is_none());
        assert!(
            SettingGroup::Method(FactorKind::Duo)
                .help("https://2fa.example/login/duo/callback")
                .unwrap()
                .contains("https://2fa.example/login/duo/callback")
        );
    }

    #[test]
    fn every_label_help_and_group_is_in_the_catalogue_as_written_here() {
        use crate::i18n::Lang;
        let url = "https://2fa.example/login/duo/callback";
        // (id, the English this file has)
        let mut texts: Vec<(String, String)> = Vec::new();
        for d in DEFINITIONS {
            texts.push((d.label_id(), d.label.to_owned()));
            texts.push((d.help_id(), d.help.to_owned()));
        }
        let mut problems = Vec::new();
        for g in SettingGroup::all() {
            texts.push((g.title_id(), g.title().to_owned()));
            match (g.help_id(), g.help(url), g.help_text(url)) {
                (Some(id), Some(english), Some(text)) => {
                    if Lang::En.text(&text) != english {
                        problems.push(format!("{id}: the catalogue's English differs"));
                    }
                    texts.push((id, english));
                }
                (None, None, None) => {}
                _ => problems.push(format!("{}: help and help id disagree", g.name())),
            }
        }
        let mut ids: Vec<&str> = texts.iter().map(|(id, _)| id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), texts.len(), "two texts share a message id");
        for (id, english) in &texts {
            for lang in Lang::ALL {
                if !lang.has(id) {
                    problems.push(format!("{id} is not in the {lang} catalogue"));
                }
            }
            // The Duo group's help has an argument: checked above with it.
            if !id.starts_with("setting-group-duo-help") && Lang::En.t(id) != *english {
                problems.push(format!(
                    "{id}: the catalogue says {:?}, settings.rs {english:?}",
                    Lang::En.t(id)
                ));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn message_ids_follow_the_key() {
        let d = definition("lockout.max_failures").unwrap();
        assert_eq!(d.label_id(), "setting-lockout-max-failures");
        assert_eq!(d.help_id(), "setting-lockout-max-failures-help");
        let d = definition("methods.sms.twilio.account_sid").unwrap();
        assert_eq!(d.label_id(), "setting-methods-sms-twilio-account-sid");
        assert_eq!(SettingGroup::General.title_id(), "setting-group-general");
        assert_eq!(SettingGroup::General.help_id(), None);
        assert_eq!(
            SettingGroup::Method(FactorKind::Duo).help_id().as_deref(),
            Some("setting-group-duo-help")
        );
    }

    #[test]
    fn refusals_carry_their_code_and_never_the_value() {
        for (key, value, code, reason) in [
            (
                "no.such",
                "1",
                "unknown_setting",
                "unknown setting \"no.such\"",
            ),
            (
                "totp.window",
                "99",
                "invalid_setting",
                "invalid value for totp.window: expected a whole number from 0 to 10",
            ),
            (
                "force.clients",
                "yes",
                "invalid_setting",
                "invalid value for force.clients: expected true or false",
            ),
            (
                "methods.duo.failmode",
                "ajar",
                "invalid_setting",
                "invalid value for methods.duo.failmode: expected one of closed, open",
            ),
            (
                "issuer",
                "a\u{7}b",
                "invalid_setting",
                "invalid value for issuer: text of at most 2048 characters without control characters",
            ),
        ] {
            let e = normalize(key, value).unwrap_err();
            assert_eq!((e.code(), e.to_string().as_str()), (code, reason), "{key}");
        }
        let e = normalize("methods.sms.twilio.auth_token", &"s".repeat(2049)).unwrap_err();
        assert_eq!(e.code(), "invalid_setting");
    }

    fn sealed(key: &MasterKey, setting: &str, value: &str) -> StoredValue {
        StoredValue::Sealed(key.seal(
            &crate::crypto::OsRng,
            value.as_bytes(),
            &seal_context(setting),
        ))
    }

    #[test]
    fn showing_needs_only_whether_a_secret_is_set() {
        let sealing = MasterKey::from_bytes([7; 32]);
        let stored = vec![
            (
                "methods.duo.skey".to_owned(),
                sealed(
                    &sealing,
                    "methods.duo.skey",
                    "webSdkClientSecret0000000000000000000001",
                ),
            ),
            (
                "methods.duo.api_host".to_owned(),
                StoredValue::Plain("api-x.duosecurity.com".into()),
            ),
            (
                "methods.duo.ikey".to_owned(),
                StoredValue::Plain("DIWEBSDKCLIENT000001".into()),
            ),
            (
                "methods.sms.webhook.secret".to_owned(),
                StoredValue::Plain(String::new()),
            ),
        ];
        // A master key that cannot open what is stored: showing still works, opening does not.
        let other = Arc::new(MasterKey::from_bytes([8; 32]));
        let s = Settings::from_stored(stored.clone(), "host.example", other);
        let skey = definition("methods.duo.skey").unwrap();
        let webhook = definition("methods.sms.webhook.secret").unwrap();
        assert!(s.is_set(skey.key) && !s.is_set(webhook.key));
        assert_eq!(
            (s.shown(skey), s.shown(webhook)),
            (MASK.to_owned(), String::new())
        );
        assert!(format!("{s:?}").contains(r#""methods.duo.skey": "********""#));
        assert!(s.duo_auth_config().is_err(), "a flow needing it fails");
        // With the right key the flow gets it, opened once and kept.
        let s = Settings::from_stored(stored, "host.example", Arc::new(sealing));
        assert_eq!(s.shown(skey), MASK);
        let auth = s.duo_auth_config().unwrap().unwrap();
        assert_eq!(auth.skey, "webSdkClientSecret0000000000000000000001");
        assert_eq!(
            s.duo_web_config().unwrap(),
            None,
            "the Web SDK keys are not set"
        );
        assert!(!format!("{s:?}").contains("webSdkClientSecret"));
    }
}
