//! Bulk import of TOTP and HOTP keys from other systems: key URIs, pam_google_authenticator and
//! pam_oath files, a plain CSV, Google Authenticator's export QR codes, and PSKC (RFC 6030)
//! containers ([`pskc`], read whole rather than by line).
//!
//! A file is read line by line by [`KeyFileParser`], which turns each line into keys or a
//! refusal with its line number; nothing is kept of a line but the keys it held, and the keys
//! are handed over [`IMPORT_BATCH_KEYS`] at a time ([`KeyFileParser::take_keys`]), so memory is
//! bounded by [`MAX_IMPORT_LINE`] and the batch, whatever the file's length.
//! [`Service::import_key_batch`] checks a batch against the store user by user: a key the user
//! already holds (same kind, same secret, compared after opening the user's existing secrets)
//! is skipped, so running an import twice imports nothing the second time. The batch is written
//! by one store call with one commit, each user in a savepoint of its own: a user's creation,
//! new factors (confirmed), scratch codes and audit records are written all or none.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU64;
use std::str::FromStr;

use subtle::ConstantTimeEq as _;
use twofold_otp::{Algorithm, Digits, KeyUri, OtpKind, Secret};
use zeroize::Zeroizing;

use super::{MAX_FACTORS, Service, factor_secret_context};
use crate::audit::{AuditEvent, Context};
use crate::error::{Error, Result};
use crate::factor::{Factor, FactorData, FactorId, FactorKind, HotpData, TotpData, parse_label};
use crate::i18n::Text;
use crate::identity::{Role, Username};
use crate::store::{ImportEntry, ImportedRows, NewUser, StoreError, User};

mod pskc;
pub use pskc::{MAX_PBKDF2_ITERATIONS, MAX_PSKC_BYTES, PskcKey, parse_pskc};

/// The longest line an import reads, in bytes (without its line break). Longer lines mean the
/// file is not a key file: the import stops there.
pub const MAX_IMPORT_LINE: usize = 4096;
/// The most keys one import reads from standard input, which is held in memory to be checked
/// whole before anything is written (a file is read twice instead, and has no such limit).
pub const MAX_IMPORT_KEYS: usize = 10_000;
/// The most lines one import refuses or remarks on before it stops: more means the file is
/// not a key file, and the report must stay bounded too.
pub const MAX_IMPORT_PROBLEMS: usize = 1000;
/// The most scratch codes one ~/.google_authenticator file may hold.
pub const MAX_SCRATCH_CODES: usize = 100;
/// The fewest secret bytes an imported key may have (80 bits, RFC 4226's minimum is 128; 80 is
/// what pam_google_authenticator writes).
pub const MIN_SECRET_BYTES: usize = 10;
/// The shortest and longest TOTP step an imported key may have, in seconds.
pub const IMPORT_PERIODS: std::ops::RangeInclusive<u64> = 15..=300;

/// The formats `twofold import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// One `otpauth://totp/…` or `otpauth://hotp/…` key URI a line, or `username,URI`.
    Otpauth,
    /// One user's `~/.google_authenticator` (pam_google_authenticator).
    PamGoogleAuthenticator,
    /// pam_oath's `users.oath`: `HOTP[/T30[/6]] user - hexsecret [counter [time]]`.
    UsersOath,
    /// `username,kind,secret,algorithm,digits,period,counter`.
    Csv,
    /// Google Authenticator's export: `otpauth-migration://offline?data=…` a line.
    GoogleAuthenticator,
    /// An RFC 6030 PSKC `<KeyContainer>`, plain, password-protected or encrypted with a
    /// pre-shared key: read whole by [`parse_pskc`], not line by line.
    Pskc,
}

impl ImportFormat {
    /// Every format, in the order the documentation lists them.
    pub const ALL: [ImportFormat; 6] = [
        ImportFormat::Otpauth,
        ImportFormat::PamGoogleAuthenticator,
        ImportFormat::UsersOath,
        ImportFormat::Csv,
        ImportFormat::GoogleAuthenticator,
        ImportFormat::Pskc,
    ];

    /// The name `--format` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Otpauth => "otpauth",
            ImportFormat::PamGoogleAuthenticator => "pam-google-authenticator",
            ImportFormat::UsersOath => "users.oath",
            ImportFormat::Csv => "csv",
            ImportFormat::GoogleAuthenticator => "google-authenticator",
            ImportFormat::Pskc => "pskc",
        }
    }
}

impl FromStr for ImportFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        ImportFormat::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ImportFormat::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown format {s:?} (expected {})", names.join(", "))
            })
    }
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One key read from a file.
#[derive(Clone)]
pub struct ImportedKey {
    /// The line it was read from (1-based).
    pub line: usize,
    /// Whose it is, as the file names them.
    pub username: String,
    /// TOTP with its period, or HOTP with the counter its next code uses.
    pub kind: OtpKind,
    /// The secret.
    pub secret: Secret,
    /// The HMAC algorithm.
    pub algorithm: Algorithm,
    /// The code length.
    pub digits: Digits,
    /// A label from the file (the issuer), when it has one.
    pub label: Option<String>,
    /// Scratch codes that go with the key (pam_google_authenticator: 8 digits each), to become
    /// the user's backup codes.
    pub scratch_codes: Vec<String>,
    /// The TOTP clock drift the old system learned, in steps (PSKC's `<TimeDrift>`).
    pub drift: i64,
}

impl fmt::Debug for ImportedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImportedKey")
            .field("line", &self.line)
            .field("username", &self.username)
            .field("kind", &self.kind)
            .field("secret", &"[redacted]")
            .field("algorithm", &self.algorithm)
            .field("digits", &self.digits)
            .field("scratch_codes", &self.scratch_codes.len())
            .field("drift", &self.drift)
            .finish()
    }
}

impl ImportedKey {
    fn factor_kind(&self) -> FactorKind {
        match self.kind {
            OtpKind::Totp { .. } => FactorKind::Totp,
            OtpKind::Hotp { .. } => FactorKind::Hotp,
        }
    }
}

/// What a file held: the keys, the lines refused, and remarks on lines read but not imported.
#[derive(Debug, Default)]
pub struct ParsedKeys {
    /// The keys, in file order.
    pub keys: Vec<ImportedKey>,
    /// Lines refused: line and why.
    pub refused: Vec<(usize, String)>,
    /// Lines read but not imported, and why (options Twofold's own settings replace, scratch
    /// codes).
    pub notes: Vec<(usize, String)>,
}

/// Reads a key file line by line.
#[derive(Debug)]
pub struct KeyFileParser {
    format: ImportFormat,
    username: Option<String>,
    parsed: ParsedKeys,
    seen_content: bool,
    pam: PamState,
}

#[derive(Debug, Default)]
struct PamState {
    secret: Option<(usize, Secret)>,
    totp: bool,
    hotp_counter: Option<u64>,
    step: Option<(usize, String)>,
    scratch: Vec<(usize, String)>,
}

impl KeyFileParser {
    /// A parser for `format`. `username` names the owner of keys whose line does not: it is
    /// required for `pam-google-authenticator`, whose file names no one.
    pub fn new(format: ImportFormat, username: Option<&str>) -> Result<Self> {
        if format == ImportFormat::PamGoogleAuthenticator && username.is_none() {
            return Err(Error::invalid(
                "missing_username",
                Text::raw("A ~/.google_authenticator file names no user: give --username."),
            ));
        }
        Ok(KeyFileParser {
            format,
            username: username.map(str::to_owned),
            parsed: ParsedKeys::default(),
            seen_content: false,
            pam: PamState::default(),
        })
    }

    /// How many keys were read so far.
    pub fn keys_read(&self) -> usize {
        self.parsed.keys.len()
    }

    /// Hands over the keys read so far (for an import that writes a long file batch by batch);
    /// the refusals and notes stay for [`KeyFileParser::finish`].
    pub fn take_keys(&mut self) -> Vec<ImportedKey> {
        std::mem::take(&mut self.parsed.keys)
    }

    /// How many lines were refused or remarked on so far.
    pub fn problems(&self) -> usize {
        self.parsed.refused.len() + self.parsed.notes.len()
    }

    /// Reads line `n` (1-based), its line break removed.
    pub fn line(&mut self, n: usize, text: &str) {
        let t = text.trim();
        let first = !self.seen_content;
        if t.is_empty() {
            return;
        }
        if self.format == ImportFormat::PamGoogleAuthenticator {
            self.seen_content = true;
            self.pam_line(n, t, first);
            return;
        }
        if t.starts_with('#') {
            return;
        }
        self.seen_content = true;
        let result = match self.format {
            ImportFormat::Otpauth => self.otpauth_line(t).map(|k| vec![k]),
            ImportFormat::UsersOath => users_oath_line(t).map(|k| vec![k]),
            ImportFormat::Csv => {
                if first
                    && t.split(',')
                        .next()
                        .is_some_and(|c| c.trim().eq_ignore_ascii_case("username"))
                {
                    return;
                }
                csv_line(t).map(|k| vec![k])
            }
            ImportFormat::GoogleAuthenticator => self.migration_line(t),
            ImportFormat::PamGoogleAuthenticator => return,
            ImportFormat::Pskc => Err("a PSKC file is XML, read whole by parse_pskc".into()),
        };
        match result {
            Ok(keys) => {
                for mut k in keys {
                    match check_key(&k) {
                        Ok(()) => {
                            k.line = n;
                            self.parsed.keys.push(k);
                        }
                        Err(why) => self.parsed.refused.push((n, why)),
                    }
                }
            }
            Err(why) => self.parsed.refused.push((n, why)),
        }
    }

    /// The keys read, once the last line was.
    pub fn finish(mut self) -> ParsedKeys {
        if self.format == ImportFormat::PamGoogleAuthenticator {
            self.pam_finish();
        } else if !self.seen_content {
            self.parsed
                .refused
                .push((0, "the file holds no keys".into()));
        }
        self.parsed
    }

    /// `username,URI` or a URI alone, whose owner is `--username` or the label's account.
    fn otpauth_line(&self, t: &str) -> std::result::Result<ImportedKey, String> {
        let (given, uri) = split_username(t, "otpauth:");
        let uri = KeyUri::parse(uri).map_err(|e| format!("not a usable otpauth URI: {e}"))?;
        let username = given
            .map(str::to_owned)
            .or_else(|| self.username.clone())
            .unwrap_or_else(|| uri.account.clone());
        Ok(ImportedKey {
            line: 0,
            username,
            kind: uri.kind,
            secret: uri.secret,
            algorithm: uri.algorithm,
            digits: uri.digits,
            label: uri.issuer,
            scratch_codes: Vec::new(),
            drift: 0,
        })
    }

    fn migration_line(&self, t: &str) -> std::result::Result<Vec<ImportedKey>, String> {
        let (given, uri) = split_username(t, "otpauth-migration:");
        let rest = strip_prefix_ignore_case(uri, "otpauth-migration://offline?")
            .ok_or("not an otpauth-migration://offline?data=… URI")?;
        let data = rest
            .split('&')
            .find_map(|p| p.strip_prefix("data="))
            .ok_or("the URI has no data parameter")?;
        let data =
            percent_decode(data).ok_or("the data parameter is not valid percent-encoding")?;
        let bytes = {
            use base64::Engine as _;
            let cleaned: String = data.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(cleaned.trim_end_matches('='))
                .or_else(|_| {
                    base64::engine::general_purpose::STANDARD_NO_PAD
                        .decode(cleaned.trim_end_matches('='))
                })
                .map_err(|_| "the data parameter is not base64 (a truncated URI?)")?
        };
        let params = migration::decode(&bytes)?;
        if params.is_empty() {
            return Err("the export holds no keys".into());
        }
        let mut keys = Vec::new();
        for (i, p) in params.into_iter().enumerate() {
            let at = |why: String| format!("key {} of the export: {why}", i + 1);
            let (issuer, account) = match p.name.split_once(':') {
                Some((i, a)) => (Some(i.trim().to_owned()), a.trim().to_owned()),
                None => (None, p.name.trim().to_owned()),
            };
            let issuer = Some(p.issuer)
                .filter(|i| !i.trim().is_empty())
                .or(issuer.filter(|i| !i.is_empty()));
            let username = given
                .map(str::to_owned)
                .or_else(|| self.username.clone())
                .unwrap_or(account);
            if username.is_empty() {
                return Err(at("it names no account".into()));
            }
            let secret =
                Secret::from_bytes(p.secret).map_err(|_| at("its secret is empty".into()))?;
            let algorithm = match p.algorithm {
                0 | 1 => Algorithm::Sha1,
                2 => Algorithm::Sha256,
                3 => Algorithm::Sha512,
                4 => return Err(at("MD5 keys are not supported".into())),
                n => return Err(at(format!("unknown algorithm {n}"))),
            };
            let digits = match p.digits {
                0 | 1 => Digits::SIX,
                2 => Digits::EIGHT,
                n => return Err(at(format!("unknown digit count {n}"))),
            };
            let kind = match p.otp_type {
                0 | 2 => OtpKind::Totp {
                    period: twofold_otp::Totp::DEFAULT_PERIOD,
                },
                1 => OtpKind::Hotp {
                    counter: u64::try_from(p.counter)
                        .map_err(|_| at("its counter is negative".into()))?,
                },
                n => return Err(at(format!("unknown type {n}"))),
            };
            keys.push(ImportedKey {
                line: 0,
                username,
                kind,
                secret,
                algorithm,
                digits,
                label: issuer,
                scratch_codes: Vec::new(),
                drift: 0,
            });
        }
        Ok(keys)
    }

    fn pam_line(&mut self, n: usize, t: &str, first: bool) {
        if first {
            match Secret::from_base32(&t.replace(' ', "")) {
                Ok(s) => self.pam.secret = Some((n, s)),
                Err(_) => self.parsed.refused.push((
                    n,
                    "the first line of a ~/.google_authenticator file is the base32 secret".into(),
                )),
            }
            return;
        }
        if let Some(option) = t.strip_prefix('"') {
            let mut words = option.split_whitespace();
            match words.next() {
                Some("TOTP_AUTH") => self.pam.totp = true,
                Some("HOTP_COUNTER") => match words.next().and_then(|c| c.parse().ok()) {
                    Some(c) => self.pam.hotp_counter = Some(c),
                    None => self
                        .parsed
                        .refused
                        .push((n, "HOTP_COUNTER is not followed by a counter".into())),
                },
                Some("STEP_SIZE") => {
                    self.pam.step = Some((n, words.next().unwrap_or_default().to_owned()));
                }
                Some(o @ ("RATE_LIMIT" | "WINDOW_SIZE" | "DISALLOW_REUSE")) => {
                    self.parsed.notes.push((
                        n,
                        format!("{o} not imported: Twofold's own settings govern this"),
                    ));
                }
                Some(o) => self
                    .parsed
                    .notes
                    .push((n, format!("option {o} not imported"))),
                None => {}
            }
            return;
        }
        if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
            if self.pam.scratch.len() == MAX_SCRATCH_CODES {
                self.parsed
                    .refused
                    .push((n, format!("more than {MAX_SCRATCH_CODES} scratch codes")));
            } else if self.pam.scratch.iter().any(|(_, c)| c == t) {
                self.parsed
                    .refused
                    .push((n, "this scratch code is in the file twice".into()));
            } else {
                self.pam.scratch.push((n, t.to_owned()));
            }
            return;
        }
        self.parsed.refused.push((
            n,
            "expected an option line (\" NAME) or an 8-digit scratch code".into(),
        ));
    }

    fn pam_finish(&mut self) {
        let Some((line, secret)) = self.pam.secret.take() else {
            if !self.parsed.refused.iter().any(|(n, _)| *n == 1) {
                self.parsed.refused.push((0, "the file is empty".into()));
            }
            return;
        };
        let kind = if self.pam.totp {
            let period = match &self.pam.step {
                None => Some(twofold_otp::Totp::DEFAULT_PERIOD),
                Some((_, s)) => s.parse().ok().and_then(NonZeroU64::new),
            };
            match period {
                Some(period) => OtpKind::Totp { period },
                None => {
                    let n = self.pam.step.as_ref().map_or(line, |(n, _)| *n);
                    self.parsed
                        .refused
                        .push((n, "STEP_SIZE is not a number of seconds".into()));
                    return;
                }
            }
        } else if let Some(c) = self.pam.hotp_counter {
            OtpKind::Hotp { counter: c }
        } else {
            self.parsed.refused.push((
                line,
                "the file has neither \" TOTP_AUTH nor \" HOTP_COUNTER: it is truncated or not \
                 a ~/.google_authenticator file"
                    .into(),
            ));
            return;
        };
        let key = ImportedKey {
            line,
            username: self.username.clone().unwrap_or_default(),
            kind,
            secret,
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
            label: None,
            scratch_codes: self.pam.scratch.drain(..).map(|(_, c)| c).collect(),
            drift: 0,
        };
        match check_key(&key) {
            Ok(()) => self.parsed.keys.push(key),
            Err(why) => self.parsed.refused.push((line, why)),
        }
    }
}

/// `username,rest` when the line starts with a username and a comma before `scheme`.
fn split_username<'a>(t: &'a str, scheme: &str) -> (Option<&'a str>, &'a str) {
    if strip_prefix_ignore_case(t, scheme).is_some() {
        return (None, t);
    }
    match t.split_once(',') {
        Some((user, rest)) => (Some(user.trim()), rest.trim()),
        None => (None, t),
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `HOTP[/E|/T<seconds>][/<digits>] user PIN hexsecret [counter [time]]`.
fn users_oath_line(t: &str) -> std::result::Result<ImportedKey, String> {
    let fields: Vec<&str> = t.split_whitespace().collect();
    let [token, user, pin, secret, rest @ ..] = fields.as_slice() else {
        return Err(
            "expected `TYPE user PIN hexsecret [counter [time]]` (at least 4 fields)".into(),
        );
    };
    let mut parts = token.split('/');
    if !parts.next().is_some_and(|p| p.eq_ignore_ascii_case("HOTP")) {
        return Err(format!(
            "unknown token type {token:?} (expected HOTP, HOTP/E, HOTP/T30, HOTP/T30/6, …)"
        ));
    }
    let mut period = None;
    let mut digits = Digits::SIX;
    for (i, p) in parts.enumerate() {
        let bad = || format!("unknown token type {token:?}");
        if i == 0 && p.eq_ignore_ascii_case("E") {
            continue;
        }
        if i == 0 && (p.starts_with('T') || p.starts_with('t')) {
            let s = p
                .get(1..)
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or_else(bad)?;
            period = Some(NonZeroU64::new(s).ok_or_else(bad)?);
            continue;
        }
        if i <= 1 {
            let n: u64 = p.parse().map_err(|_| bad())?;
            digits = Digits::new(n).map_err(|_| format!("{n} digits: a code has 6, 7 or 8"))?;
            continue;
        }
        return Err(bad());
    }
    if *pin != "-" {
        return Err(
            "the line has a PIN (third field): Twofold does not keep pam_oath PINs; give the \
             user a password instead and write - there"
                .into(),
        );
    }
    let secret = hex_secret(secret)?;
    let counter = match rest.first() {
        Some(c) => c
            .parse::<u64>()
            .map_err(|_| format!("the counter {c:?} is not a number"))?,
        None => 0,
    };
    Ok(ImportedKey {
        line: 0,
        username: (*user).to_owned(),
        kind: match period {
            Some(period) => OtpKind::Totp { period },
            None => OtpKind::Hotp { counter },
        },
        secret,
        algorithm: Algorithm::Sha1,
        digits,
        label: None,
        scratch_codes: Vec::new(),
        drift: 0,
    })
}

fn hex_secret(text: &str) -> std::result::Result<Secret, String> {
    let bad = || "the secret is not hexadecimal".to_owned();
    if !text.len().is_multiple_of(2) {
        return Err("the secret has an odd number of hex digits".into());
    }
    let bytes = (0..text.len() / 2)
        .map(|i| {
            text.get(2 * i..2 * i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(bad)
        })
        .collect::<std::result::Result<Vec<u8>, String>>()?;
    Secret::from_bytes(bytes).map_err(|_| "the secret is empty".to_owned())
}

/// `username,kind,secret,algorithm,digits,period,counter`: empty fields take the defaults.
fn csv_line(t: &str) -> std::result::Result<ImportedKey, String> {
    let cols: Vec<&str> = t.split(',').map(str::trim).collect();
    if !(3..=7).contains(&cols.len()) {
        return Err(format!(
            "expected 3 to 7 columns (username,kind,secret,algorithm,digits,period,counter), \
             found {}",
            cols.len()
        ));
    }
    let col = |i: usize| cols.get(i).copied().filter(|c| !c.is_empty());
    let username = col(0).ok_or("the username is empty")?;
    let secret = Secret::from_base32(&col(2).unwrap_or_default().replace(' ', ""))
        .map_err(|e| format!("the secret is not base32: {e}"))?;
    let algorithm = match col(3) {
        None => Algorithm::Sha1,
        Some(a) => a
            .parse()
            .map_err(|_| format!("unknown algorithm {a:?} (expected SHA1, SHA256 or SHA512)"))?,
    };
    let digits = match col(4) {
        None => Digits::SIX,
        Some(d) => d
            .parse()
            .ok()
            .and_then(|n| Digits::new(n).ok())
            .ok_or_else(|| format!("{d:?} digits: a code has 6, 7 or 8"))?,
    };
    let kind =
        match col(1).map(str::to_ascii_lowercase).as_deref() {
            Some("totp") => {
                if col(6).is_some() {
                    return Err("a totp key has no counter".into());
                }
                OtpKind::Totp {
                    period: match col(5) {
                        None => twofold_otp::Totp::DEFAULT_PERIOD,
                        Some(p) => p.parse().ok().and_then(NonZeroU64::new).ok_or_else(|| {
                            format!("the period {p:?} is not a number of seconds")
                        })?,
                    },
                }
            }
            Some("hotp") => {
                if col(5).is_some() {
                    return Err("a hotp key has no period".into());
                }
                OtpKind::Hotp {
                    counter: match col(6) {
                        None => 0,
                        Some(c) => c
                            .parse()
                            .map_err(|_| format!("the counter {c:?} is not a number"))?,
                    },
                }
            }
            _ => return Err("the kind is totp or hotp".into()),
        };
    Ok(ImportedKey {
        line: 0,
        username: username.to_owned(),
        kind,
        secret,
        algorithm,
        digits,
        label: None,
        scratch_codes: Vec::new(),
        drift: 0,
    })
}

/// What every imported key must be, whatever the format: a secret of at least 80 bits and a
/// period Twofold checks.
fn check_key(k: &ImportedKey) -> std::result::Result<(), String> {
    if k.secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "the secret has {} bits; at least {} are required",
            k.secret.len() * 8,
            MIN_SECRET_BYTES * 8
        ));
    }
    if let OtpKind::Totp { period } = k.kind
        && !IMPORT_PERIODS.contains(&period.get())
    {
        return Err(format!(
            "a period of {period} seconds is not supported ({} to {})",
            IMPORT_PERIODS.start(),
            IMPORT_PERIODS.end()
        ));
    }
    if k.username.trim().is_empty() {
        return Err("the key names no user".into());
    }
    Ok(())
}

/// Google Authenticator's export payload (a protobuf `MigrationPayload`), read for the fields
/// that make a key and nothing else. Every length is checked against what is left, so a
/// truncated or hostile payload is an error, never a panic or a large allocation.
mod migration {
    /// One `OtpParameters`.
    #[derive(Default)]
    pub(super) struct Params {
        pub(super) secret: Vec<u8>,
        pub(super) name: String,
        pub(super) issuer: String,
        pub(super) algorithm: u64,
        pub(super) digits: u64,
        pub(super) otp_type: u64,
        pub(super) counter: i64,
    }

    /// The most keys one export holds (Google Authenticator splits larger exports).
    const MAX_KEYS: usize = 100;

    struct Reader<'a> {
        bytes: &'a [u8],
    }

    enum Value<'a> {
        Varint(u64),
        Bytes(&'a [u8]),
        Other,
    }

    impl<'a> Reader<'a> {
        fn varint(&mut self) -> Result<u64, String> {
            let mut value = 0u64;
            for i in 0..10 {
                let (&b, rest) = self.bytes.split_first().ok_or("the export is truncated")?;
                self.bytes = rest;
                value |= u64::from(b & 0x7f) << (7 * i);
                if b & 0x80 == 0 {
                    return Ok(value);
                }
            }
            Err("the export holds a malformed number".into())
        }

        fn take(&mut self, n: u64) -> Result<&'a [u8], String> {
            let n = usize::try_from(n).map_err(|_| "the export is truncated")?;
            if n > self.bytes.len() {
                return Err("the export is truncated".into());
            }
            let (head, rest) = self.bytes.split_at(n);
            self.bytes = rest;
            Ok(head)
        }

        fn field(&mut self) -> Result<Option<(u64, Value<'a>)>, String> {
            if self.bytes.is_empty() {
                return Ok(None);
            }
            let tag = self.varint()?;
            let value = match tag & 7 {
                0 => Value::Varint(self.varint()?),
                1 => {
                    self.take(8)?;
                    Value::Other
                }
                2 => {
                    let n = self.varint()?;
                    Value::Bytes(self.take(n)?)
                }
                5 => {
                    self.take(4)?;
                    Value::Other
                }
                _ => return Err("the export is not a Google Authenticator export".into()),
            };
            Ok(Some((tag >> 3, value)))
        }
    }

    fn text(bytes: &[u8]) -> Result<String, String> {
        String::from_utf8(bytes.to_vec()).map_err(|_| "a name in the export is not UTF-8".into())
    }

    /// The keys of a `MigrationPayload`.
    pub(super) fn decode(bytes: &[u8]) -> Result<Vec<Params>, String> {
        let mut out = Vec::new();
        let mut r = Reader { bytes };
        while let Some((field, value)) = r.field()? {
            if let (1, Value::Bytes(b)) = (field, value) {
                if out.len() == MAX_KEYS {
                    return Err(format!("an export holds at most {MAX_KEYS} keys"));
                }
                out.push(params(b)?);
            }
        }
        Ok(out)
    }

    fn params(bytes: &[u8]) -> Result<Params, String> {
        let mut p = Params::default();
        let mut r = Reader { bytes };
        while let Some((field, value)) = r.field()? {
            match (field, value) {
                (1, Value::Bytes(b)) => p.secret = b.to_vec(),
                (2, Value::Bytes(b)) => p.name = text(b)?,
                (3, Value::Bytes(b)) => p.issuer = text(b)?,
                (4, Value::Varint(v)) => p.algorithm = v,
                (5, Value::Varint(v)) => p.digits = v,
                (6, Value::Varint(v)) => p.otp_type = v,
                // int64 on the wire: two's complement in a varint.
                (7, Value::Varint(v)) => p.counter = v as i64,
                _ => {}
            }
        }
        Ok(p)
    }
}

/// How an import runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyImportOptions {
    /// Check everything and report what a real run would do, writing nothing.
    pub dry_run: bool,
    /// Create the users the file names that do not exist (with `role`, no password).
    pub create_users: bool,
    /// The role of users created.
    pub role: Role,
}

/// An import's outcome. Line 0 means the whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyImportReport {
    /// Users created (or, on a dry run, that would be).
    pub users_created: Vec<String>,
    /// Keys imported (or that would be): line, username, kind.
    pub imported: Vec<(usize, String, FactorKind)>,
    /// Scratch codes imported as backup codes (or that would be): line, username, how many.
    pub backup_codes: Vec<(usize, String, usize)>,
    /// Keys the user already holds: line and why.
    pub skipped: Vec<(usize, String)>,
    /// Lines refused: line and why.
    pub refused: Vec<(usize, String)>,
    /// Lines read but not imported, not errors: line and why.
    pub notes: Vec<(usize, String)>,
    /// Whether anything was written.
    pub written: bool,
}

/// The most keys [`Service::import_key_batch`] is given at once by `twofold import`: each batch
/// is written with one commit (each user in it still all-or-nothing), so memory stays bounded
/// by the batch whatever the file's length.
pub const IMPORT_BATCH_KEYS: usize = 500;

/// One user's part of a batch, once checked against the store.
struct UserPlan {
    username: Username,
    /// The user's id, or `None` for a user to create.
    user_id: Option<i64>,
    fresh: Vec<ImportedKey>,
    scratch: Vec<String>,
    scratch_line: usize,
}

impl Service {
    /// Imports the keys a file held (see [`KeyFileParser`]): the parser's refusals and notes,
    /// then [`Service::import_key_batch`] over all its keys, the report sorted by line.
    pub async fn import_keys(
        &self,
        ctx: &Context,
        parsed: ParsedKeys,
        options: KeyImportOptions,
    ) -> Result<KeyImportReport> {
        let mut report = KeyImportReport {
            refused: parsed.refused,
            notes: parsed.notes,
            ..KeyImportReport::default()
        };
        self.import_key_batch(ctx, parsed.keys, options, &mut report)
            .await?;
        report.refused.sort_by_key(|(n, _)| *n);
        report.skipped.sort_by_key(|(n, _)| *n);
        report.imported.sort_by_key(|(n, _, _)| *n);
        Ok(report)
    }

    /// Imports a batch of keys, user by user, adding what happened to `report`: a user's keys
    /// that are new to them are written confirmed, together with the user when it is created
    /// (`create_users`) and the user's scratch codes and audit records, all or nothing; keys
    /// they already hold (same kind, same secret) are skipped; unknown users are refused unless
    /// `create_users`. The whole batch is one store call ([`Factors::import_batch`], one
    /// commit); a user whose write conflicts (created or changed meanwhile) is refused alone.
    /// A file longer than a batch is imported batch by batch: a user named in two batches is
    /// imported twice, the second time as an existing user.
    ///
    /// [`Factors::import_batch`]: crate::store::Factors::import_batch
    pub async fn import_key_batch(
        &self,
        ctx: &Context,
        keys: Vec<ImportedKey>,
        options: KeyImportOptions,
        report: &mut KeyImportReport,
    ) -> Result<()> {
        // Each user's keys, in the order the batch first names them.
        let mut order: Vec<String> = Vec::new();
        let mut by_user: HashMap<String, Vec<ImportedKey>> = HashMap::new();
        for key in keys {
            let name = match Username::parse(&key.username) {
                Ok(name) => name.key(),
                Err(e) => {
                    report.refused.push((
                        key.line,
                        format!("invalid username {:?}: {e}", key.username),
                    ));
                    continue;
                }
            };
            if !by_user.contains_key(&name) {
                order.push(name.clone());
            }
            by_user.entry(name).or_default().push(key);
        }
        let now = self.now();
        // The batch's users that exist, with their factors: a few queries for the batch.
        let mut found: HashMap<String, (User, Vec<Factor>)> = self
            .store
            .users_with_factors(&order)
            .await?
            .into_iter()
            .map(|(u, f)| (u.username.key(), (u, f)))
            .collect();
        let mut plans: Vec<UserPlan> = Vec::with_capacity(order.len());
        for name in order {
            let keys = by_user.remove(&name).unwrap_or_default();
            let user = found.remove(&name);
            if let Some(plan) = self.plan_user(user, keys, options, report).await? {
                plans.push(plan);
            }
        }
        if options.dry_run {
            for plan in &plans {
                if plan.user_id.is_none() {
                    report.users_created.push(plan.username.to_string());
                }
                for k in &plan.fresh {
                    report
                        .imported
                        .push((k.line, plan.username.to_string(), k.factor_kind()));
                }
                if !plan.scratch.is_empty() {
                    report.backup_codes.push((
                        plan.scratch_line,
                        plan.username.to_string(),
                        plan.scratch.len(),
                    ));
                }
            }
            return Ok(());
        }
        if plans.is_empty() {
            return Ok(());
        }
        let entries: Vec<ImportEntry> = plans
            .iter()
            .map(|p| match p.user_id {
                Some(id) => ImportEntry::Existing(id),
                None => ImportEntry::Create(NewUser {
                    username: p.username.clone(),
                    role: options.role,
                    email: None,
                    phone: None,
                    password_hash: None,
                    created_at: now,
                }),
            })
            .collect();
        let rows = |i: usize, user_id: i64| -> ImportedRows {
            let Some(plan) = plans.get(i) else {
                return ImportedRows::default();
            };
            let subject = Some(plan.username.as_str());
            let mut audit = Vec::new();
            if plan.user_id.is_none() {
                audit.push(self.audit_record(
                    ctx,
                    subject,
                    AuditEvent::UserCreated,
                    format!("role={} via=import", options.role),
                ));
            }
            let backup_codes = self.backup_rows(user_id, &plan.scratch);
            if !plan.scratch.is_empty() {
                audit.push(self.audit_record(
                    ctx,
                    subject,
                    AuditEvent::BackupCodesRegenerated,
                    format!("imported={} via=import", plan.scratch.len()),
                ));
            }
            let factors: Vec<Factor> = plan
                .fresh
                .iter()
                .map(|k| self.imported_factor(user_id, k, now))
                .collect();
            for f in &factors {
                audit.push(self.audit_record(
                    ctx,
                    subject,
                    AuditEvent::FactorEnrolled,
                    format!("kind={} factor={} import", f.kind(), f.id),
                ));
            }
            ImportedRows {
                factors,
                backup_codes,
                audit,
            }
        };
        let outcomes = self.store.import_batch(&entries, &rows).await?;
        for (plan, outcome) in plans.iter().zip(outcomes) {
            let username = &plan.username;
            match outcome {
                Ok(_) => {}
                Err(StoreError::Conflict(what)) => {
                    let why = match (plan.user_id, what) {
                        (None, "user") => {
                            format!("the user {username} was created meanwhile; run again")
                        }
                        (Some(_), "user") => format!("the user {username} was removed meanwhile"),
                        _ => format!(
                            "{username}'s keys could not be written ({what} already exists), \
                             nothing of theirs was; run again"
                        ),
                    };
                    for k in &plan.fresh {
                        report.refused.push((k.line, why.clone()));
                    }
                    if plan.fresh.is_empty() {
                        report.refused.push((plan.scratch_line, why));
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            report.written = true;
            if plan.user_id.is_none() {
                report.users_created.push(username.to_string());
            }
            if !plan.scratch.is_empty() {
                report.backup_codes.push((
                    plan.scratch_line,
                    username.to_string(),
                    plan.scratch.len(),
                ));
            }
            for k in &plan.fresh {
                report
                    .imported
                    .push((k.line, username.to_string(), k.factor_kind()));
            }
        }
        Ok(())
    }

    /// Checks one user's keys against the store: what is new to them, what they already hold,
    /// and whether they exist. `None` when there is nothing to write for them.
    async fn plan_user(
        &self,
        found: Option<(User, Vec<Factor>)>,
        keys: Vec<ImportedKey>,
        options: KeyImportOptions,
        report: &mut KeyImportReport,
    ) -> Result<Option<UserPlan>> {
        let Some(first) = keys.first() else {
            return Ok(None);
        };
        let username = Username::parse(&first.username)
            .map_err(|e| Error::invalid("invalid_username", e.text()))?;
        if found.is_none() && !options.create_users {
            for k in &keys {
                report.refused.push((
                    k.line,
                    format!("no user named {:?} (--create-users creates it)", k.username),
                ));
            }
            return Ok(None);
        }
        // The secrets the user already holds, opened to be compared.
        let mut held: Vec<(FactorKind, Zeroizing<Vec<u8>>, String)> = Vec::new();
        let count = found.as_ref().map_or(0, |(_, factors)| factors.len());
        if let Some((user, factors)) = &found {
            for f in factors {
                let sealed = match &f.data {
                    FactorData::Totp(t) => &t.secret,
                    FactorData::Hotp(h) => &h.secret,
                    _ => continue,
                };
                let bytes = self
                    .key
                    .open(sealed, &factor_secret_context(user.id, &f.id))
                    .map_err(|e| Error::internal(&e))?;
                held.push((f.kind(), Zeroizing::new(bytes.to_vec()), f.id.to_string()));
            }
        }
        let user = found.map(|(u, _)| u);
        // The scratch codes of the keys kept (new, or held already): a refused key's codes are
        // not imported either.
        let mut kept_scratch: Vec<(usize, Vec<String>)> = Vec::new();
        let mut fresh: Vec<ImportedKey> = Vec::new();
        for k in keys {
            let kind = k.factor_kind();
            let same = |s: &[u8]| bool::from(s.ct_eq(k.secret.expose()));
            if let Some((_, _, id)) = held.iter().find(|(hk, s, _)| *hk == kind && same(s)) {
                kept_scratch.push((k.line, k.scratch_codes.clone()));
                report.skipped.push((
                    k.line,
                    format!("{} already has this {kind} key (factor {id})", k.username),
                ));
                continue;
            }
            if let Some(prev) = fresh
                .iter()
                .find(|p| p.factor_kind() == kind && same(p.secret.expose()))
            {
                report.refused.push((
                    k.line,
                    format!(
                        "the same {kind} key for {} as line {}",
                        k.username, prev.line
                    ),
                ));
                continue;
            }
            if count + fresh.len() >= MAX_FACTORS {
                report.refused.push((
                    k.line,
                    format!("{} would hold more than {MAX_FACTORS} factors", k.username),
                ));
                continue;
            }
            kept_scratch.push((k.line, k.scratch_codes.clone()));
            fresh.push(k);
        }
        // Scratch codes, kept as backup codes: those the user already has (a second run)
        // are skipped, found by the same keyed hash a code typed at login is.
        let mut scratch: Vec<String> = Vec::new();
        let mut scratch_line = 0;
        for (line, codes) in &kept_scratch {
            for c in codes {
                if !scratch.contains(c) {
                    scratch.push(c.clone());
                    scratch_line = *line;
                }
            }
        }
        if let (Some(user), false) = (&user, scratch.is_empty()) {
            let have: Vec<String> = self
                .store
                .backup_codes(user.id)
                .await?
                .into_iter()
                .map(|r| r.lookup)
                .collect();
            let before = scratch.len();
            scratch.retain(|c| {
                // Under the sealing key and the one before it: while a rotation runs, a code
                // imported before it may still be hashed under the previous key.
                !self
                    .key
                    .lookup_hashes(&super::backup_lookup_context(user.id), c.as_bytes())
                    .iter()
                    .any(|lookup| have.contains(lookup))
            });
            if scratch.len() < before {
                report.skipped.push((
                    scratch_line,
                    format!(
                        "{} already has {} of these scratch codes as backup codes",
                        user.username,
                        before - scratch.len()
                    ),
                ));
            }
        }
        if fresh.is_empty() && scratch.is_empty() {
            return Ok(None);
        }
        let user_id = user.as_ref().map(|u| u.id);
        Ok(Some(UserPlan {
            username: user.map_or(username, |u| u.username),
            user_id,
            fresh,
            scratch,
            scratch_line,
        }))
    }

    fn imported_factor(&self, user_id: i64, k: &ImportedKey, now: i64) -> Factor {
        let id = FactorId::generate(self.rng.as_ref());
        let secret = self.key.seal(
            self.rng.as_ref(),
            k.secret.expose(),
            &factor_secret_context(user_id, &id),
        );
        let data = match k.kind {
            OtpKind::Totp { period } => FactorData::Totp(TotpData {
                secret,
                algorithm: k.algorithm,
                digits: k.digits,
                period: period.get(),
                last_step: None,
                drift: k.drift,
            }),
            // The file gives the counter the next code uses; the factor keeps the last one
            // accepted.
            OtpKind::Hotp { counter } => FactorData::Hotp(HotpData {
                secret,
                algorithm: k.algorithm,
                digits: k.digits,
                last_counter: counter.checked_sub(1),
            }),
        };
        let label = k
            .label
            .as_deref()
            .and_then(parse_label)
            .unwrap_or_else(|| format!("Imported {}", k.factor_kind().as_str().to_uppercase()));
        Factor {
            id,
            user_id,
            label,
            confirmed: true,
            created_at: now,
            last_used_at: None,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(format: ImportFormat, user: Option<&str>, text: &str) -> ParsedKeys {
        let mut p = KeyFileParser::new(format, user).unwrap();
        for (i, l) in text.lines().enumerate() {
            p.line(i + 1, l);
        }
        p.finish()
    }

    const S: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

    #[test]
    fn otpauth_lines_name_their_user() {
        let p = parse(
            ImportFormat::Otpauth,
            None,
            &format!(
                "otpauth://totp/Acme:alice?secret={S}&digits=8&period=60\n\
                 bob,otpauth://hotp/x?secret={S}&counter=5\n# c\n\n"
            ),
        );
        assert!(p.refused.is_empty(), "{:?}", p.refused);
        assert_eq!(p.keys[0].username, "alice");
        assert_eq!(p.keys[0].digits.get(), 8);
        assert_eq!(p.keys[0].label.as_deref(), Some("Acme"));
        assert_eq!(p.keys[1].username, "bob");
        assert_eq!(p.keys[1].kind, OtpKind::Hotp { counter: 5 });
        assert_eq!(p.keys[1].line, 2);
    }

    #[test]
    fn short_secrets_bad_digits_and_algorithms_are_refused_by_line() {
        let p = parse(
            ImportFormat::Csv,
            None,
            &format!(
                "username,kind,secret\na,totp,JBSWY3DP\nb,totp,{S},MD5\nc,totp,{S},,9\n\
                 d,totp,{S},,,5\ne,hotp,{S},,,,3\nf,totp,not*base32"
            ),
        );
        assert!(
            p.keys.len() == 1 && p.keys[0].username == "e",
            "{:?}",
            p.keys
        );
        let lines: Vec<usize> = p.refused.iter().map(|(n, _)| *n).collect();
        assert_eq!(lines, [2, 3, 4, 5, 7]);
        assert!(p.refused[0].1.contains("40 bits"), "{:?}", p.refused);
    }

    #[test]
    fn users_oath_types_and_pins() {
        let hex = "3132333435363738393031323334353637383930";
        let p = parse(
            ImportFormat::UsersOath,
            None,
            &format!(
                "HOTP a - {hex} 7\nHOTP/T30 b - {hex}\nHOTP/T60/8 c - {hex}\nHOTP d 1234 {hex}\n\
                 TOTP e - {hex}\nHOTP/E/8 f - {hex} 0 2020-01-01T00:00:00L\nHOTP/T30/9 g - {hex}"
            ),
        );
        assert_eq!(p.keys.len(), 4, "{:?}", p.refused);
        assert_eq!(p.keys[0].kind, OtpKind::Hotp { counter: 7 });
        assert!(matches!(p.keys[2].kind, OtpKind::Totp { period } if period.get() == 60));
        assert_eq!(p.keys[2].digits.get(), 8);
        let lines: Vec<usize> = p.refused.iter().map(|(n, _)| *n).collect();
        assert_eq!(lines, [4, 5, 7]);
        assert!(p.refused[0].1.contains("PIN"));
    }

    #[test]
    fn pam_files_need_their_mode_line() {
        let p = parse(
            ImportFormat::PamGoogleAuthenticator,
            Some("alice"),
            "LZXXLGNU5L7MCCFD5TQBW5FSQE\n\" RATE_LIMIT 3 30\n\" TOTP_AUTH\n10608493\n84260978",
        );
        assert_eq!(p.keys.len(), 1);
        assert_eq!(p.keys[0].scratch_codes, ["10608493", "84260978"]);
        let p = parse(
            ImportFormat::PamGoogleAuthenticator,
            Some("alice"),
            "LZXXLGNU5L7MCCFD5TQBW5FSQE\n\" WINDOW_SIZE 3\n",
        );
        assert!(p.keys.is_empty());
        assert!(p.refused[0].1.contains("truncated"));
        let p = parse(
            ImportFormat::PamGoogleAuthenticator,
            Some("alice"),
            "I5GEX64LDNNAYCTGTS3KWIGV5I\n\" HOTP_COUNTER 4\n",
        );
        assert_eq!(p.keys[0].kind, OtpKind::Hotp { counter: 4 });
        assert!(KeyFileParser::new(ImportFormat::PamGoogleAuthenticator, None).is_err());
    }

    #[test]
    fn migration_payloads_decode_and_truncation_is_refused() {
        // One TOTP key: secret "12345678901234567890", name "Acme:alice", SHA1, 6 digits.
        let mut p = vec![0x0a, 20];
        p.extend_from_slice(b"12345678901234567890");
        p.extend_from_slice(&[0x12, 10]);
        p.extend_from_slice(b"Acme:alice");
        p.extend_from_slice(&[0x20, 1, 0x28, 1, 0x30, 2]);
        let mut payload = vec![0x0a, p.len() as u8];
        payload.extend_from_slice(&p);
        payload.extend_from_slice(&[0x10, 1]);
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(&payload);
        let enc = data
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        let cut = base64::engine::general_purpose::STANDARD.encode(&payload[..payload.len() - 9]);
        let text = format!(
            "otpauth-migration://offline?data={enc}\notpauth-migration://offline?data={cut}"
        );
        let parsed = parse(ImportFormat::GoogleAuthenticator, None, &text);
        assert_eq!(parsed.keys.len(), 1);
        assert_eq!(parsed.keys[0].username, "alice");
        assert_eq!(parsed.keys[0].secret.expose(), b"12345678901234567890");
        assert_eq!(parsed.refused.len(), 1);
        assert!(
            parsed.refused[0].1.contains("truncated"),
            "{:?}",
            parsed.refused
        );
        // Hostile lengths and endless varints are errors.
        assert!(migration::decode(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(
            migration::decode(&[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ])
            .is_err()
        );
    }
}
