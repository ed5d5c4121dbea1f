//! The owner's settings: every key Twofold knows, its type and default, and the typed view the
//! flows read. Stored in the database as text (secrets sealed), editable from the admin area, the
//! API and the CLI.

use std::collections::BTreeMap;

use crate::factor::FactorKind;
use crate::identity::Role;

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
    /// Free text (at most 2,048 characters, no control characters).
    Text,
    /// One of the listed words.
    Choice(&'static [&'static str]),
    /// Text that is stored sealed and never shown back.
    Secret,
}

/// One known key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingDef {
    /// The key, e.g. `lockout.max_failures`.
    pub key: &'static str,
    /// Its type.
    pub ty: SettingType,
    /// The default as text (`""` for unset text).
    pub default: &'static str,
    /// One line for `--help`, the API document and the admin page.
    pub help: &'static str,
}

const fn def(
    key: &'static str,
    ty: SettingType,
    default: &'static str,
    help: &'static str,
) -> SettingDef {
    SettingDef {
        key,
        ty,
        default,
        help,
    }
}

const BOOL: SettingType = SettingType::Bool;
const TEXT: SettingType = SettingType::Text;
const SECRET: SettingType = SettingType::Secret;

/// Every setting. Method keys follow `methods.<kind>.…`.
pub static DEFINITIONS: &[SettingDef] = &[
    def(
        "twofactor.enabled",
        BOOL,
        "true",
        "Server-wide switch: off, nobody is asked for a second factor (enrolments are kept).",
    ),
    def(
        "force.clients",
        BOOL,
        "false",
        "Clients without a usable factor must enrol at their next login.",
    ),
    def(
        "force.admins",
        BOOL,
        "false",
        "Admins and owners without a usable factor must enrol at their next login.",
    ),
    def(
        "issuer",
        TEXT,
        "",
        "The name authenticator apps show; empty means the machine's hostname.",
    ),
    def(
        "totp.window",
        SettingType::Int { min: 0, max: 10 },
        "1",
        "Steps of clock drift tolerated each way.",
    ),
    def(
        "lockout.max_failures",
        SettingType::Int { min: 1, max: 1000 },
        "5",
        "Consecutive failed second-factor attempts before a lockout.",
    ),
    def(
        "lockout.seconds",
        SettingType::Int {
            min: 1,
            max: 31_536_000,
        },
        "900",
        "How long a lockout lasts.",
    ),
    def(
        "session.idle_minutes",
        SettingType::Int {
            min: 1,
            max: 10_080,
        },
        "60",
        "A portal session ends after this many minutes without use.",
    ),
    def(
        "session.max_hours",
        SettingType::Int { min: 1, max: 8_760 },
        "12",
        "A portal session ends this many hours after its sign-in, however much it is used.",
    ),
    def(
        "codes.ttl_seconds",
        SettingType::Int {
            min: 30,
            max: 86_400,
        },
        "600",
        "How long an email or SMS code stays valid.",
    ),
    // Per-method switches.
    def(
        "methods.totp.active",
        BOOL,
        "true",
        "Time Based Tokens (authenticator apps) are activated.",
    ),
    def(
        "methods.totp.clients",
        BOOL,
        "true",
        "Time Based Tokens are enabled for clients.",
    ),
    def(
        "methods.totp.admins",
        BOOL,
        "true",
        "Time Based Tokens are enabled for admins.",
    ),
    def(
        "methods.email.active",
        BOOL,
        "false",
        "Email codes are activated.",
    ),
    def(
        "methods.email.clients",
        BOOL,
        "false",
        "Email codes are enabled for clients.",
    ),
    def(
        "methods.email.admins",
        BOOL,
        "false",
        "Email codes are enabled for admins.",
    ),
    def(
        "methods.sms.active",
        BOOL,
        "false",
        "SMS codes are activated.",
    ),
    def(
        "methods.sms.clients",
        BOOL,
        "false",
        "SMS codes are enabled for clients.",
    ),
    def(
        "methods.sms.admins",
        BOOL,
        "false",
        "SMS codes are enabled for admins.",
    ),
    def(
        "methods.yubikey.active",
        BOOL,
        "false",
        "YubiKey is activated.",
    ),
    def(
        "methods.yubikey.clients",
        BOOL,
        "false",
        "YubiKey is enabled for clients.",
    ),
    def(
        "methods.yubikey.admins",
        BOOL,
        "false",
        "YubiKey is enabled for admins.",
    ),
    def(
        "methods.duo.active",
        BOOL,
        "false",
        "Duo Security is activated.",
    ),
    def(
        "methods.duo.clients",
        BOOL,
        "false",
        "Duo Security is enabled for clients.",
    ),
    def(
        "methods.duo.admins",
        BOOL,
        "false",
        "Duo Security is enabled for admins.",
    ),
    def(
        "methods.webauthn.active",
        BOOL,
        "false",
        "Security keys and passkeys are activated.",
    ),
    def(
        "methods.webauthn.clients",
        BOOL,
        "false",
        "Security keys and passkeys are enabled for clients.",
    ),
    def(
        "methods.webauthn.admins",
        BOOL,
        "false",
        "Security keys and passkeys are enabled for admins.",
    ),
    // Email.
    def(
        "methods.email.from",
        TEXT,
        "",
        "The From address of code emails.",
    ),
    def(
        "methods.email.smtp.host",
        TEXT,
        "",
        "SMTP server; empty writes mail to the outbox folder.",
    ),
    def(
        "methods.email.smtp.port",
        SettingType::Int {
            min: 1,
            max: 65_535,
        },
        "587",
        "SMTP port.",
    ),
    def(
        "methods.email.smtp.security",
        SettingType::Choice(&["starttls", "tls", "none"]),
        "starttls",
        "SMTP transport security.",
    ),
    def(
        "methods.email.smtp.username",
        TEXT,
        "",
        "SMTP user name (empty: no authentication).",
    ),
    def("methods.email.smtp.password", SECRET, "", "SMTP password."),
    // SMS.
    def(
        "methods.sms.provider",
        SettingType::Choice(&["outbox", "webhook", "twilio", "sns"]),
        "outbox",
        "Where SMS codes go.",
    ),
    def(
        "methods.sms.webhook.url",
        TEXT,
        "",
        "Webhook provider: the URL that receives {\"to\", \"message\"}.",
    ),
    def(
        "methods.sms.webhook.secret",
        SECRET,
        "",
        "Webhook provider: HMAC-SHA256 key that signs the body.",
    ),
    def(
        "methods.sms.twilio.account_sid",
        TEXT,
        "",
        "Twilio Account SID.",
    ),
    def(
        "methods.sms.twilio.auth_token",
        SECRET,
        "",
        "Twilio Auth Token.",
    ),
    def("methods.sms.twilio.from", TEXT, "", "Twilio sender number."),
    def(
        "methods.sms.twilio.api_base",
        TEXT,
        "https://api.twilio.com",
        "Twilio API base URL.",
    ),
    def("methods.sms.sns.region", TEXT, "", "AWS SNS region."),
    def(
        "methods.sms.sns.access_key_id",
        TEXT,
        "",
        "AWS access key id.",
    ),
    def(
        "methods.sms.sns.secret_access_key",
        SECRET,
        "",
        "AWS secret access key.",
    ),
    def(
        "methods.sms.sns.endpoint",
        TEXT,
        "",
        "AWS SNS endpoint URL (empty: the region's).",
    ),
    // YubiKey.
    def(
        "methods.yubikey.mode",
        SettingType::Choice(&["local", "server"]),
        "local",
        "Validate OTPs with the keys' AES secrets (local) or a validation server.",
    ),
    def(
        "methods.yubikey.client_id",
        TEXT,
        "",
        "Validation server client id.",
    ),
    def(
        "methods.yubikey.api_key",
        SECRET,
        "",
        "Validation server API key (base64).",
    ),
    def(
        "methods.yubikey.servers",
        TEXT,
        "https://api.yubico.com/wsapi/2.0/verify",
        "Validation server URLs, separated by commas, tried in turn.",
    ),
    // Duo.
    def("methods.duo.api_host", TEXT, "", "Duo API hostname."),
    def(
        "methods.duo.client_id",
        TEXT,
        "",
        "Duo Web SDK application Client ID.",
    ),
    def(
        "methods.duo.client_secret",
        SECRET,
        "",
        "Duo Web SDK application Client Secret.",
    ),
    def(
        "methods.duo.ikey",
        TEXT,
        "",
        "Duo Auth API integration key.",
    ),
    def("methods.duo.skey", SECRET, "", "Duo Auth API secret key."),
    def(
        "methods.duo.failmode",
        SettingType::Choice(&["closed", "open"]),
        "closed",
        "What happens when Duo cannot be reached.",
    ),
    def(
        "methods.duo.username_format",
        TEXT,
        "{username}",
        "The Duo username: {username} or {email}.",
    ),
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
        reason: String,
    },
}

/// Checks and normalises a value given as text (CLI) for `key`.
pub fn normalize(key: &str, value: &str) -> Result<String, SettingError> {
    let def = definition(key).ok_or_else(|| SettingError::Unknown(key.to_owned()))?;
    let invalid = |reason: &str| SettingError::Invalid {
        key: key.to_owned(),
        reason: reason.to_owned(),
    };
    match def.ty {
        SettingType::Bool => match value {
            "true" | "false" => Ok(value.to_owned()),
            _ => Err(invalid("expected true or false")),
        },
        SettingType::Int { min, max } => match value.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n.to_string()),
            _ => Err(invalid(&format!(
                "expected a whole number from {min} to {max}"
            ))),
        },
        SettingType::Choice(options) => {
            if options.contains(&value) {
                Ok(value.to_owned())
            } else {
                Err(invalid(&format!("expected one of {}", options.join(", "))))
            }
        }
        SettingType::Text | SettingType::Secret => {
            // The issuer goes into every key URI twice and must fit a QR code.
            let max = if key == "issuer" { 64 } else { 2048 };
            if value.chars().count() > max || value.chars().any(char::is_control) {
                Err(invalid(
                    "text of at most 2048 characters without control characters",
                ))
            } else {
                let value = value.trim();
                check_shape(key, value).map_err(invalid)?;
                Ok(value.to_owned())
            }
        }
    }
}

/// Key-specific shapes of text settings (empty always passes: not set).
fn check_shape(key: &str, value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Ok(());
    }
    match key {
        "methods.yubikey.client_id" => {
            if value.len() <= 18 && value.bytes().all(|b| b.is_ascii_digit()) && value != "0" {
                Ok(())
            } else {
                Err("the client id is a positive whole number")
            }
        }
        "methods.yubikey.api_key" => {
            use base64::Engine as _;
            match base64::engine::general_purpose::STANDARD.decode(value) {
                Ok(k) if !k.is_empty() => Ok(()),
                _ => Err("the API key is base64, as the validation service gave it"),
            }
        }
        "methods.yubikey.servers" => {
            let ok = value.split(',').map(str::trim).all(|url| {
                let (https, rest) =
                    match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
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
            });
            if ok {
                Ok(())
            } else {
                Err(
                    "validation server URLs start with https:// (http:// only to this machine), separated by commas",
                )
            }
        }
        "methods.duo.client_id" | "methods.duo.ikey" => {
            if value.len() == 20 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(())
            } else {
                Err("20 letters and digits, as Duo's admin panel shows it")
            }
        }
        "methods.duo.client_secret" | "methods.duo.skey" => {
            if value.len() == 40 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                Ok(())
            } else {
                Err("40 letters and digits, as Duo's admin panel shows it")
            }
        }
        "methods.duo.api_host" => {
            if is_host_port(value) {
                Ok(())
            } else {
                Err(
                    "a host name with an optional :port, like api-xxxxxxxx.duosecurity.com (no https://, no path)",
                )
            }
        }
        "methods.duo.username_format" => {
            let rest = value.replace("{username}", "").replace("{email}", "");
            if rest.len() < value.len() && !rest.contains(['{', '}']) && rest.len() <= 64 {
                Ok(())
            } else {
                Err("a format with {username} or {email}, like {username} or {email}")
            }
        }
        _ => Ok(()),
    }
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

/// All settings as text, defaults filled in. Secrets are held opened (in memory only) and
/// `Debug` masks them.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    values: BTreeMap<&'static str, String>,
    hostname: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for d in DEFINITIONS {
            let v = self.get(d.key);
            if d.ty == SettingType::Secret && !v.is_empty() {
                m.entry(&d.key, &"********");
            } else {
                m.entry(&d.key, &v);
            }
        }
        m.finish()
    }
}

impl Settings {
    /// Builds the view from stored values (unknown stored keys are ignored) and the hostname the
    /// issuer defaults to.
    pub fn from_stored(stored: &BTreeMap<String, String>, hostname: &str) -> Self {
        let values = DEFINITIONS
            .iter()
            .map(|d| {
                (
                    d.key,
                    stored
                        .get(d.key)
                        .cloned()
                        .unwrap_or_else(|| d.default.to_owned()),
                )
            })
            .collect();
        Settings {
            values,
            hostname: hostname.to_owned(),
        }
    }

    /// The defaults of a fresh install.
    pub fn defaults(hostname: &str) -> Self {
        Self::from_stored(&BTreeMap::new(), hostname)
    }

    /// A value as text (`""` for an unknown key).
    pub fn get(&self, key: &str) -> &str {
        self.values.get(key).map_or("", String::as_str)
    }

    /// A boolean value.
    pub fn flag(&self, key: &str) -> bool {
        self.get(key) == "true"
    }

    /// An integer value (0 if unparsable, which `normalize` prevents).
    pub fn int(&self, key: &str) -> i64 {
        self.get(key).parse().unwrap_or(0)
    }

    /// The server-wide switch.
    pub fn twofactor_enabled(&self) -> bool {
        self.flag("twofactor.enabled")
    }

    /// Whether `kind` is activated and enabled for `role` (owners count as admins).
    pub fn method_available(&self, kind: FactorKind, role: Role) -> bool {
        let k = kind.as_str();
        let who = if role.is_staff() { "admins" } else { "clients" };
        self.flag(&format!("methods.{k}.active")) && self.flag(&format!("methods.{k}.{who}"))
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
        match self.get("issuer") {
            "" => &self.hostname,
            i => i,
        }
    }

    /// `totp.window`.
    pub fn totp_window(&self) -> u64 {
        u64::try_from(self.int("totp.window")).unwrap_or(1)
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

    /// Every key and value, in key order (secrets included: callers mask them).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.values.iter().map(|(k, v)| (*k, v.as_str()))
    }
}

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
        assert_eq!(s.int("codes.ttl_seconds"), 600);
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
}
