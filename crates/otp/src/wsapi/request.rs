//! Requests, server side: parsing a `verify` request.

use std::fmt;

use super::error::cut;
use super::{MAX_NONCE_LEN, MAX_PAIRS, MAX_QUERY_LEN, MIN_NONCE_LEN, WsapiError, percent_decode};

/// The `sl` parameter: the share of a server's peers that must confirm an OTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncLevel {
    /// A percentage, 0 to 100.
    Percent(u8),
    /// `fast`: the server's configured fast level.
    Fast,
    /// `secure`: the server's configured secure level.
    Secure,
}

impl SyncLevel {
    fn parse(text: &str) -> Option<SyncLevel> {
        if text.eq_ignore_ascii_case("fast") {
            Some(SyncLevel::Fast)
        } else if text.eq_ignore_ascii_case("secure") {
            Some(SyncLevel::Secure)
        } else if !text.is_empty() && text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse()
                .ok()
                .filter(|p| *p <= 100)
                .map(SyncLevel::Percent)
        } else {
            None
        }
    }
}

impl fmt::Display for SyncLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncLevel::Percent(p) => write!(f, "{p}"),
            SyncLevel::Fast => f.write_str("fast"),
            SyncLevel::Secure => f.write_str("secure"),
        }
    }
}

/// A parsed `verify` request, with its raw pairs kept for the signature check.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyRequest {
    id: u64,
    otp: String,
    nonce: String,
    signature: Option<String>,
    timestamp: bool,
    sl: Option<SyncLevel>,
    timeout: Option<u32>,
    /// The pairs as they appeared in the query string (still percent-encoded).
    pub(super) raw: Vec<(String, String)>,
    /// The same pairs, decoded (`h` read with `+` literal).
    pub(super) pairs: Vec<(String, String)>,
}

impl fmt::Debug for VerifyRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The OTP is a one-time code: only its public part (or its length) is shown.
        f.debug_struct("VerifyRequest")
            .field("id", &self.id)
            .field("otp_len", &self.otp.len())
            .field("nonce", &self.nonce)
            .field("signed", &self.signature.is_some())
            .field("timestamp", &self.timestamp)
            .field("sl", &self.sl)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl VerifyRequest {
    /// Parses a raw URL query string (without the `?`). Values are percent-decoded (`+` is a
    /// space, except in `h`); empty pieces (`a=1&&b=2`) are skipped; a piece without `=` is a
    /// key with an empty value; unknown parameters are kept (they are signed too). Optional
    /// parameters with an empty value count as absent, as in yubikey-val.
    ///
    /// # Errors
    ///
    /// [`WsapiError::MissingParameter`] when `id`, `otp` or `nonce` is absent or empty,
    /// [`WsapiError::DuplicateParameter`] when a name appears twice,
    /// [`WsapiError::InvalidParameter`] for an `id` that is not a positive integer, a nonce
    /// that is not 16 to 40 letters and digits, an `sl` that is not 0–100, `fast` or `secure`,
    /// or a `timeout` that is not a number of seconds; [`WsapiError::BadEncoding`] for a bad
    /// `%` escape or bytes that are not UTF-8. Each maps to `MISSING_PARAMETER`.
    pub fn parse(query: &str) -> Result<VerifyRequest, WsapiError> {
        // Bounded before any work: the duplicate check below is quadratic in the pairs.
        if query.len() > MAX_QUERY_LEN
            || query.split('&').filter(|p| !p.is_empty()).count() > MAX_PAIRS
        {
            return Err(WsapiError::TooLong);
        }
        let mut raw = Vec::new();
        let mut pairs: Vec<(String, String)> = Vec::new();
        for piece in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            let key = percent_decode(k, false)?;
            let value = percent_decode(v, key == "h")?;
            if pairs.iter().any(|(seen, _)| *seen == key) {
                return Err(WsapiError::DuplicateParameter(cut(&key)));
            }
            raw.push((k.to_owned(), v.to_owned()));
            pairs.push((key, value));
        }
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };

        let id = get("id").ok_or(WsapiError::MissingParameter("id"))?;
        let id = parse_id(id).ok_or(WsapiError::InvalidParameter("id"))?;
        let otp = get("otp").ok_or(WsapiError::MissingParameter("otp"))?;
        let nonce = get("nonce").ok_or(WsapiError::MissingParameter("nonce"))?;
        if !is_valid_nonce(nonce) {
            return Err(WsapiError::InvalidParameter("nonce"));
        }
        let sl = match get("sl") {
            None => None,
            Some(text) => Some(SyncLevel::parse(text).ok_or(WsapiError::InvalidParameter("sl"))?),
        };
        let timeout = match get("timeout") {
            None => None,
            Some(text) if text.bytes().all(|b| b.is_ascii_digit()) => Some(
                text.parse()
                    .map_err(|_| WsapiError::InvalidParameter("timeout"))?,
            ),
            Some(_) => return Err(WsapiError::InvalidParameter("timeout")),
        };
        // The protocol: "timestamp=1 requests timestamp and session counter information";
        // any other value is ignored, as yubikey-val does.
        let timestamp = get("timestamp") == Some("1");
        let signature = get("h").map(str::to_owned);
        Ok(VerifyRequest {
            id,
            otp: otp.to_owned(),
            nonce: nonce.to_owned(),
            signature,
            timestamp,
            sl,
            timeout,
            raw,
            pairs,
        })
    }

    /// The client id.
    #[must_use]
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The OTP exactly as given (decoded); checking it is the caller's work.
    #[must_use]
    pub fn otp(&self) -> &str {
        &self.otp
    }

    /// The nonce (16 to 40 letters and digits).
    #[must_use]
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The signature `h`, if the request is signed.
    #[must_use]
    pub fn signature(&self) -> Option<&str> {
        self.signature.as_deref()
    }

    /// Whether the client asked for the key's counters (`timestamp=1`).
    #[must_use]
    pub fn wants_counters(&self) -> bool {
        self.timestamp
    }

    /// The requested sync level, if any.
    #[must_use]
    pub fn sync_level(&self) -> Option<SyncLevel> {
        self.sl
    }

    /// The requested timeout in seconds, if any.
    #[must_use]
    pub fn timeout(&self) -> Option<u32> {
        self.timeout
    }

    /// Every (key, value) pair as decoded, in the order given, `h` included.
    #[must_use]
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

fn parse_id(text: &str) -> Option<u64> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok().filter(|id| *id > 0)
    } else {
        None
    }
}

/// Whether `nonce` is 16 to 40 ASCII letters and digits.
#[must_use]
pub fn is_valid_nonce(nonce: &str) -> bool {
    (MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&nonce.len())
        && nonce.bytes().all(|b| b.is_ascii_alphanumeric())
}
