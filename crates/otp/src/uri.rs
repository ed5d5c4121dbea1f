//! `otpauth://` key URIs, the format authenticator apps scan from QR codes.
//!
//! `otpauth://TYPE/LABEL?PARAMETERS` where TYPE is `totp` or `hotp`, LABEL is `Issuer:account`
//! (the issuer prefix is optional; the colon may be written `%3A`), and PARAMETERS are `secret`
//! (required, base32), `issuer`, `algorithm` (`SHA1`, `SHA256`, `SHA512`), `digits` (6–8),
//! `period` (TOTP, seconds, default 30) and `counter` (HOTP, required).
//!
//! Parsing is deliberately tolerant where real exporters differ — scheme, type and parameter
//! names in any case, `+` as a space in parameter values, unknown parameters (`image`, `color`)
//! ignored, the `issuer` parameter preferred when it and the label prefix disagree — and strict
//! where a mistake would produce a wrong code: a missing or invalid secret, a bad number, an
//! unknown algorithm, a repeated parameter or broken percent-encoding is a [`UriError`].

use std::fmt::Write as _;
use std::num::NonZeroU64;

use crate::hotp::{Algorithm, Digits};
use crate::secret::{Secret, SecretError};
use crate::{Hotp, Totp};

/// TOTP or HOTP, with the parameter that belongs to each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpKind {
    /// Time-based, with the step length in seconds.
    Totp {
        /// Step length in seconds.
        period: NonZeroU64,
    },
    /// Counter-based, with the next counter value.
    Hotp {
        /// The counter the next code uses.
        counter: u64,
    },
}

/// A parsed or to-be-built key URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUri {
    /// TOTP with its period, or HOTP with its counter.
    pub kind: OtpKind,
    /// Who issued the key (the service name the app shows), if known.
    pub issuer: Option<String>,
    /// The account name (username or email).
    pub account: String,
    /// The shared secret.
    pub secret: Secret,
    /// The HMAC hash function.
    pub algorithm: Algorithm,
    /// The code length.
    pub digits: Digits,
}

/// Why a URI could not be parsed or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// It does not start with `otpauth://`.
    #[error("not an otpauth:// URI")]
    Scheme,
    /// The type is neither `totp` nor `hotp`.
    #[error("unknown OTP type {0:?} (expected totp or hotp)")]
    Type(String),
    /// The label is missing or its account part is empty.
    #[error("the label has no account name")]
    MissingAccount,
    /// The issuer or account contains a colon, which the label format cannot carry.
    #[error("the issuer and account name may not contain a colon")]
    ColonInLabel,
    /// A `%` not followed by two hex digits, or bytes that are not UTF-8.
    #[error("invalid percent-encoding")]
    PercentEncoding,
    /// A parameter appears twice.
    #[error("parameter {0:?} appears more than once")]
    DuplicateParameter(String),
    /// A required parameter is absent.
    #[error("missing parameter {0:?}")]
    MissingParameter(&'static str),
    /// The secret is empty or not base32.
    #[error("invalid secret: {0}")]
    Secret(#[from] SecretError),
    /// `algorithm` is not SHA1, SHA256 or SHA512.
    #[error("unknown algorithm {0:?}")]
    Algorithm(String),
    /// `digits` is not 6, 7 or 8.
    #[error("invalid digits {0:?} (expected 6, 7 or 8)")]
    Digits(String),
    /// `period` is not a positive integer.
    #[error("invalid period {0:?} (expected a positive number of seconds)")]
    Period(String),
    /// `counter` is not a non-negative 64-bit integer.
    #[error("invalid counter {0:?}")]
    Counter(String),
    /// The label issuer and the `issuer` parameter are both present but the parameter is empty.
    #[error("the issuer parameter is empty")]
    EmptyIssuer,
}

impl KeyUri {
    /// A TOTP key URI with the defaults every app supports (SHA-1, 6 digits, 30 seconds).
    pub fn new_totp(issuer: Option<String>, account: String, secret: Secret) -> Self {
        KeyUri {
            kind: OtpKind::Totp {
                period: Totp::DEFAULT_PERIOD,
            },
            issuer,
            account,
            secret,
            algorithm: Algorithm::Sha1,
            digits: Digits::SIX,
        }
    }

    /// Parses a key URI; see the module documentation for what is accepted.
    pub fn parse(uri: &str) -> Result<Self, UriError> {
        let rest = strip_prefix_ignore_case(uri, "otpauth://").ok_or(UriError::Scheme)?;
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (otp_type, label) = path.split_once('/').unwrap_or((path, ""));

        let label = percent_decode(label, false)?;
        // Apps write "Issuer: account" as often as "Issuer:account"; surrounding spaces are never
        // part of either name.
        let (label_issuer, account) = match label.split_once(':') {
            Some((issuer, account)) => (Some(issuer.trim().to_owned()), account.trim()),
            None => (None, label.trim()),
        };
        if account.is_empty() {
            return Err(UriError::MissingAccount);
        }

        let mut params = Params::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode(name, true)?.to_ascii_lowercase();
            let value = percent_decode(value, true)?;
            params.set(name, value)?;
        }

        let secret_text = params.secret.ok_or(UriError::MissingParameter("secret"))?;
        // Some exporters group the secret in blocks or pad it; spaces are never data.
        let secret = Secret::from_base32(&secret_text.replace(' ', ""))?;
        let algorithm = match params.algorithm {
            Some(a) => a.parse().map_err(|_| UriError::Algorithm(a))?,
            None => Algorithm::Sha1,
        };
        let digits = match params.digits {
            Some(d) => d
                .parse()
                .ok()
                .and_then(|n| Digits::new(n).ok())
                .ok_or(UriError::Digits(d))?,
            None => Digits::SIX,
        };
        let kind = match otp_type.to_ascii_lowercase().as_str() {
            "totp" => OtpKind::Totp {
                period: match params.period {
                    Some(p) => p
                        .parse()
                        .ok()
                        .and_then(NonZeroU64::new)
                        .ok_or(UriError::Period(p))?,
                    None => Totp::DEFAULT_PERIOD,
                },
            },
            "hotp" => {
                let c = params
                    .counter
                    .ok_or(UriError::MissingParameter("counter"))?;
                OtpKind::Hotp {
                    counter: c.parse().map_err(|_| UriError::Counter(c))?,
                }
            }
            _ => return Err(UriError::Type(otp_type.to_owned())),
        };
        let issuer = match params.issuer {
            Some(i) if i.trim().is_empty() => return Err(UriError::EmptyIssuer),
            Some(i) => Some(i),
            None => label_issuer.filter(|i| !i.is_empty()),
        };
        Ok(KeyUri {
            kind,
            issuer,
            account: account.to_owned(),
            secret,
            algorithm,
            digits,
        })
    }

    /// Builds the URI text. It contains the secret: treat it as one.
    pub fn to_uri(&self) -> Result<String, UriError> {
        if self.account.is_empty() {
            return Err(UriError::MissingAccount);
        }
        if self.account.contains(':') || self.issuer.as_deref().is_some_and(|i| i.contains(':')) {
            return Err(UriError::ColonInLabel);
        }
        if self.issuer.as_deref().is_some_and(|i| i.trim().is_empty()) {
            return Err(UriError::EmptyIssuer);
        }
        let (kind, extra) = match self.kind {
            OtpKind::Totp { period } => ("totp", format!("period={period}")),
            OtpKind::Hotp { counter } => ("hotp", format!("counter={counter}")),
        };
        let mut out = format!("otpauth://{kind}/");
        if let Some(issuer) = &self.issuer {
            out.push_str(&percent_encode(issuer));
            out.push(':');
        }
        out.push_str(&percent_encode(&self.account));
        let _ = write!(out, "?secret={}", self.secret.to_base32());
        if let Some(issuer) = &self.issuer {
            let _ = write!(out, "&issuer={}", percent_encode(issuer));
        }
        let _ = write!(
            out,
            "&algorithm={}&digits={}&{extra}",
            self.algorithm,
            self.digits.get()
        );
        Ok(out)
    }

    /// A TOTP engine for this key, or `None` for an HOTP key.
    pub fn to_totp(&self) -> Option<Totp> {
        match self.kind {
            OtpKind::Totp { period } => {
                Some(Totp::new(&self.secret, self.algorithm, self.digits, period))
            }
            OtpKind::Hotp { .. } => None,
        }
    }

    /// An HOTP engine for this key (for a TOTP key, over its time steps).
    pub fn to_hotp(&self) -> Hotp {
        Hotp::new(&self.secret, self.algorithm, self.digits)
    }
}

#[derive(Default)]
struct Params {
    secret: Option<String>,
    issuer: Option<String>,
    algorithm: Option<String>,
    digits: Option<String>,
    period: Option<String>,
    counter: Option<String>,
}

impl Params {
    fn set(&mut self, name: String, value: String) -> Result<(), UriError> {
        let slot = match name.as_str() {
            "secret" => &mut self.secret,
            "issuer" => &mut self.issuer,
            "algorithm" => &mut self.algorithm,
            "digits" => &mut self.digits,
            "period" => &mut self.period,
            "counter" => &mut self.counter,
            _ => return Ok(()),
        };
        if slot.is_some() {
            return Err(UriError::DuplicateParameter(name));
        }
        *slot = Some(value);
        Ok(())
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Decodes `%XX` escapes; in query values (`plus_is_space`) `+` is a space, as in HTML forms.
fn percent_decode(s: &str, plus_is_space: bool) -> Result<String, UriError> {
    crate::text::percent_decode(s, plus_is_space).ok_or(UriError::PercentEncoding)
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so spaces become `%20` (which
/// every app reads, unlike `+`).
fn percent_encode(s: &str) -> String {
    crate::text::percent_encode(s, b"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secret() -> Secret {
        Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap()
    }

    #[test]
    fn parses_the_google_example() {
        let u = KeyUri::parse(
            "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
        )
        .unwrap();
        assert_eq!(u.issuer.as_deref(), Some("Example"));
        assert_eq!(u.account, "alice@google.com");
        assert_eq!(u.secret, secret());
        assert_eq!(
            u.kind,
            OtpKind::Totp {
                period: Totp::DEFAULT_PERIOD
            }
        );
        assert_eq!((u.algorithm, u.digits), (Algorithm::Sha1, Digits::SIX));
    }

    #[test]
    fn parses_real_world_variants() {
        // Encoded colon and space, lower-case secret, explicit parameters, unknown ones ignored.
        let u = KeyUri::parse(
            "OTPAUTH://TOTP/ACME%20Co%3A%20john.doe%40email.com?secret=jbswy3dpehpk3pxp\
             &issuer=ACME+Co&algorithm=sha256&digits=8&period=60&image=https%3A%2F%2Fx%2Fy.png",
        )
        .unwrap();
        assert_eq!(u.issuer.as_deref(), Some("ACME Co"));
        assert_eq!(u.account, "john.doe@email.com");
        assert_eq!(u.algorithm, Algorithm::Sha256);
        assert_eq!(u.digits.get(), 8);
        assert_eq!(
            u.kind,
            OtpKind::Totp {
                period: NonZeroU64::new(60).unwrap()
            }
        );

        // No issuer anywhere; padded secret; HOTP with a counter.
        let u = KeyUri::parse("otpauth://hotp/bob?secret=MZXW6YQ%3D&counter=42").unwrap();
        assert_eq!(u.issuer, None);
        assert_eq!(u.kind, OtpKind::Hotp { counter: 42 });
        assert_eq!(u.secret.expose(), b"foob");

        // Issuer only in the label.
        let u = KeyUri::parse("otpauth://totp/GitHub:octocat?secret=JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(u.issuer.as_deref(), Some("GitHub"));
        // The parameter wins when they disagree.
        let u = KeyUri::parse("otpauth://totp/Old:me?secret=JBSWY3DPEHPK3PXP&issuer=New").unwrap();
        assert_eq!(u.issuer.as_deref(), Some("New"));
    }

    #[test]
    fn rejects_malformed_uris() {
        let cases: &[(&str, UriError)] = &[
            ("https://totp/a?secret=JBSWY3DP", UriError::Scheme),
            ("otpauth:/totp/a?secret=JBSWY3DP", UriError::Scheme),
            (
                "otpauth://motp/a?secret=JBSWY3DP",
                UriError::Type("motp".into()),
            ),
            ("otpauth://totp/?secret=JBSWY3DP", UriError::MissingAccount),
            (
                "otpauth://totp/Issuer:?secret=JBSWY3DP",
                UriError::MissingAccount,
            ),
            ("otpauth://totp/a", UriError::MissingParameter("secret")),
            (
                "otpauth://totp/a?secret=",
                UriError::Secret(SecretError::Empty),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&secret=JBSWY3DP",
                UriError::DuplicateParameter("secret".into()),
            ),
            (
                "otpauth://totp/a%2?secret=JBSWY3DP",
                UriError::PercentEncoding,
            ),
            (
                "otpauth://totp/a%FF?secret=JBSWY3DP",
                UriError::PercentEncoding,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&algorithm=MD5",
                UriError::Algorithm("MD5".into()),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&digits=10",
                UriError::Digits("10".into()),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&digits=six",
                UriError::Digits("six".into()),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&period=0",
                UriError::Period("0".into()),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&period=-30",
                UriError::Period("-30".into()),
            ),
            (
                "otpauth://hotp/a?secret=JBSWY3DP",
                UriError::MissingParameter("counter"),
            ),
            (
                "otpauth://hotp/a?secret=JBSWY3DP&counter=x",
                UriError::Counter("x".into()),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP&issuer=",
                UriError::EmptyIssuer,
            ),
        ];
        for (uri, expected) in cases {
            assert_eq!(KeyUri::parse(uri).as_ref().err(), Some(expected), "{uri}");
        }
        assert!(matches!(
            KeyUri::parse("otpauth://totp/a?secret=JBSW1Y3DP"),
            Err(UriError::Secret(SecretError::Base32(_)))
        ));
    }

    #[test]
    fn builds_what_apps_read() {
        let u = KeyUri::new_totp(Some("Big Corp".into()), "ann@example.com".into(), secret());
        assert_eq!(
            u.to_uri().unwrap(),
            "otpauth://totp/Big%20Corp:ann%40example.com?secret=JBSWY3DPEHPK3PXP\
             &issuer=Big%20Corp&algorithm=SHA1&digits=6&period=30"
        );
        let bad = KeyUri::new_totp(Some("a:b".into()), "x".into(), secret());
        assert_eq!(bad.to_uri(), Err(UriError::ColonInLabel));
        let bad = KeyUri::new_totp(None, String::new(), secret());
        assert_eq!(bad.to_uri(), Err(UriError::MissingAccount));
    }

    fn label_text() -> impl Strategy<Value = String> {
        // Any printable text without a colon; the label format cannot carry one.
        "[^:\\p{C}]{1,24}".prop_filter("not blank", |s| {
            !s.trim().is_empty() && s.trim_start() == s && s.trim_end() == s
        })
    }

    proptest! {
        #[test]
        fn build_then_parse_round_trips(
            issuer in proptest::option::of(label_text()),
            account in label_text(),
            bytes in proptest::collection::vec(any::<u8>(), 1..64),
            alg in prop_oneof![Just(Algorithm::Sha1), Just(Algorithm::Sha256), Just(Algorithm::Sha512)],
            digits in 6u64..=8,
            hotp: bool,
            n in 1u64..=u64::MAX,
        ) {
            let kind = if hotp { OtpKind::Hotp { counter: n } } else { OtpKind::Totp { period: NonZeroU64::new(n).unwrap() } };
            let u = KeyUri {
                kind, issuer, account,
                secret: Secret::from_bytes(bytes).unwrap(),
                algorithm: alg,
                digits: Digits::new(digits).unwrap(),
            };
            let text = u.to_uri().unwrap();
            prop_assert_eq!(KeyUri::parse(&text).unwrap(), u);
        }

        #[test]
        fn parse_never_panics(s in "otpauth://\\PC{0,80}") {
            let _ = KeyUri::parse(&s);
        }
    }
}
