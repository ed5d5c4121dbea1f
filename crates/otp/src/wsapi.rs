//! Yubico validation protocol 2.0 (`/wsapi/2.0/verify`): requests, answers and their signatures.
//!
//! Both sides of the protocol, as pure functions: a validation **server** parses a request with
//! [`VerifyRequest::parse`], checks its signature with [`verify_request_signature`] and answers
//! with the body [`VerifyResponse::body`] builds; a **client** builds a signed query string with
//! [`ClientRequest::query`], parses the answer with [`parse_response`] and checks it with
//! [`ParsedResponse::check`].
//!
//! # The protocol, in short
//!
//! A request is an HTTP GET with the parameters `id` (the client's number), `otp`, `nonce` (16
//! to 40 letters and digits), and optionally `h` (the signature), `timestamp=1` (ask for the
//! key's counters), `sl` (0–100, `fast` or `secure`) and `timeout` (seconds). The answer is
//! `key=value` lines separated by CRLF: `h`, `t`, `otp`, `nonce`, `sl`, on request `timestamp`,
//! `sessioncounter` and `sessionuse`, then `status`, and an empty line.
//!
//! A signature ([`sign`]) is `base64(HMAC-SHA1(key, "k1=v1&k2=v2…"))` over every pair but `h`,
//! sorted by key, under the client's API key (the base64-decoded one).
//!
//! # What real peers do (checked against their sources)
//!
//! - **yubikey-val** (Yubico's server) checks a request's signature over the *decoded* values
//!   (PHP's `$_GET`, with `h` removed), and signs its answers with the client's key, or with an
//!   empty key when it answers before knowing the client (`MISSING_PARAMETER`,
//!   `NO_SUCH_CLIENT`). It echoes `otp` and `nonce` with `OK`, `REPLAYED_OTP`,
//!   `REPLAYED_REQUEST` and `NOT_ENOUGH_ANSWERS`, and leaves them out of every other status;
//!   `sl` goes with `OK` (and `NOT_ENOUGH_ANSWERS`). `t` is `YYYY-MM-DDThh:mm:ssZ0` and the three
//!   digits of the milliseconds, e.g. `2010-04-23T20:34:51Z0678`.
//! - **libykclient** (behind pam_yubico) signs the query text as it sends it
//!   (`id=…&nonce=…&otp=…`, the OTP percent-encoded), and percent-encodes `h` entirely.
//! - **yubico-client** (PyPI) signs its `urlencode`d query (encoded values) and sends `h` with
//!   only `+` escaped (`/` and `=` raw).
//!
//! Since the values real clients send (digits, modhex, letters and digits) are the same encoded
//! and decoded, both readings agree in practice; [`verify_request_signature`] accepts a
//! signature over either, so a client that encodes some other character one way or the other
//! is served too. [`ClientRequest::query`] signs the decoded values, as yubikey-val checks them.
//! A literal `+` in `h` is read as `+` (base64 never holds a space), so a client that forgets to
//! escape it is not refused.
//!
//! # Errors
//!
//! Every request error maps to `MISSING_PARAMETER` ([`WsapiError::status`]), as yubikey-val
//! answers any absent or malformed parameter.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use subtle::ConstantTimeEq;

/// The shortest nonce the protocol allows.
pub const MIN_NONCE_LEN: usize = 16;
/// The longest nonce the protocol allows.
pub const MAX_NONCE_LEN: usize = 40;

/// The longest request query string read (real requests are under 300 bytes).
pub const MAX_QUERY_LEN: usize = 2048;
/// The most parameters a request may have (the protocol defines 7).
pub const MAX_PAIRS: usize = 32;

/// Longest text kept from a peer in an error (a parameter name, a status).
const ERROR_TEXT_MAX: usize = 40;

// --- Status -------------------------------------------------------------------------------------

/// The `status` of an answer, with exactly the protocol's strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `OK`: the OTP is valid.
    Ok,
    /// `BAD_OTP`: the OTP is invalid or malformed.
    BadOtp,
    /// `REPLAYED_OTP`: the OTP has been seen before.
    ReplayedOtp,
    /// `BAD_SIGNATURE`: the request's signature does not match.
    BadSignature,
    /// `MISSING_PARAMETER`: a parameter is missing (or malformed).
    MissingParameter,
    /// `NO_SUCH_CLIENT`: the client id is unknown.
    NoSuchClient,
    /// `OPERATION_NOT_ALLOWED`: the client may not verify OTPs.
    OperationNotAllowed,
    /// `BACKEND_ERROR`: the server failed.
    BackendError,
    /// `NOT_ENOUGH_ANSWERS`: the server could not reach the requested share of its peers.
    NotEnoughAnswers,
    /// `REPLAYED_REQUEST`: the same OTP and nonce have been seen before.
    ReplayedRequest,
}

impl Status {
    /// Every status, in the protocol document's order.
    pub const ALL: [Status; 10] = [
        Status::Ok,
        Status::BadOtp,
        Status::ReplayedOtp,
        Status::BadSignature,
        Status::MissingParameter,
        Status::NoSuchClient,
        Status::OperationNotAllowed,
        Status::BackendError,
        Status::NotEnoughAnswers,
        Status::ReplayedRequest,
    ];

    /// The protocol string, e.g. `REPLAYED_OTP`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadOtp => "BAD_OTP",
            Status::ReplayedOtp => "REPLAYED_OTP",
            Status::BadSignature => "BAD_SIGNATURE",
            Status::MissingParameter => "MISSING_PARAMETER",
            Status::NoSuchClient => "NO_SUCH_CLIENT",
            Status::OperationNotAllowed => "OPERATION_NOT_ALLOWED",
            Status::BackendError => "BACKEND_ERROR",
            Status::NotEnoughAnswers => "NOT_ENOUGH_ANSWERS",
            Status::ReplayedRequest => "REPLAYED_REQUEST",
        }
    }

    /// The status for a protocol string (exact, upper case), or `None`.
    #[must_use]
    pub fn from_protocol(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether yubikey-val echoes the request's `otp` and `nonce` with this status (`OK`,
    /// `REPLAYED_OTP`, `REPLAYED_REQUEST`, `NOT_ENOUGH_ANSWERS`): the statuses it reaches only
    /// after it has checked the request.
    #[must_use]
    pub fn echoes_request(self) -> bool {
        matches!(
            self,
            Status::Ok | Status::ReplayedOtp | Status::ReplayedRequest | Status::NotEnoughAnswers
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// --- Errors -------------------------------------------------------------------------------------

/// A request or an answer that does not follow the protocol, or an answer that fails its checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WsapiError {
    /// A required request parameter is absent or empty.
    #[error("the parameter {0:?} is missing")]
    MissingParameter(&'static str),
    /// A request parameter appears twice (its name, cut to 40 characters).
    #[error("the parameter {0:?} appears more than once")]
    DuplicateParameter(String),
    /// A request parameter's value is not valid.
    #[error("the parameter {0:?} is not valid")]
    InvalidParameter(&'static str),
    /// The query string is not valid percent-encoded UTF-8.
    #[error("the query string is not valid percent-encoded UTF-8")]
    BadEncoding,
    /// The query string is longer than [`MAX_QUERY_LEN`] or has more than [`MAX_PAIRS`]
    /// parameters.
    #[error("the query string is too long")]
    TooLong,
    /// The answer is not `key=value` lines, or names a key twice.
    #[error("the answer is not a list of distinct key=value lines")]
    MalformedResponse,
    /// The answer lacks a field it must have.
    #[error("the answer has no {0:?}")]
    MissingField(&'static str),
    /// The answer's signature is absent or does not match.
    #[error("the answer's signature does not match")]
    BadSignature,
    /// The answer does not echo the request's nonce.
    #[error("the answer does not echo the request's nonce")]
    NonceMismatch,
    /// The answer does not echo the request's OTP.
    #[error("the answer does not echo the request's OTP")]
    OtpMismatch,
}

impl WsapiError {
    /// The status a server answers for this request error: `MISSING_PARAMETER` for every
    /// request error, as yubikey-val does; `BACKEND_ERROR` for the answer-side errors, which a
    /// server never meets.
    #[must_use]
    pub fn status(&self) -> Status {
        match self {
            WsapiError::MissingParameter(_)
            | WsapiError::DuplicateParameter(_)
            | WsapiError::InvalidParameter(_)
            | WsapiError::BadEncoding
            | WsapiError::TooLong => Status::MissingParameter,
            WsapiError::MalformedResponse
            | WsapiError::MissingField(_)
            | WsapiError::BadSignature
            | WsapiError::NonceMismatch
            | WsapiError::OtpMismatch => Status::BackendError,
        }
    }
}

fn cut(text: &str) -> String {
    text.chars().take(ERROR_TEXT_MAX).collect()
}

// --- Signatures ---------------------------------------------------------------------------------

/// The protocol signature of `pairs` under `key`: `base64(HMAC-SHA1(key, "k1=v1&k2=v2…"))` with
/// the pairs sorted by key (then value) and any `h` left out. `key` is the decoded API key; an
/// empty key is allowed (yubikey-val signs with it when it does not know the client).
#[must_use]
pub fn sign<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)], key: &[u8]) -> String {
    BASE64.encode(mac(pairs, key))
}

fn mac<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)], key: &[u8]) -> Vec<u8> {
    let mut sorted: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, _)| *k != "h")
        .collect();
    sorted.sort_unstable();
    let mut m = hmac_sha1(key);
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            m.update(b"&");
        }
        m.update(k.as_bytes());
        m.update(b"=");
        m.update(v.as_bytes());
    }
    m.finalize().into_bytes().to_vec()
}

fn hmac_sha1(key: &[u8]) -> Hmac<sha1::Sha1> {
    match <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key) {
        Ok(m) => m,
        // Unreachable: HMAC takes keys of any length. An all-zero key rather than a panic.
        Err(_) => <Hmac<sha1::Sha1> as KeyInit>::new(&Default::default()),
    }
}

/// Whether the base64 signature `given` is the MAC `expected`, in constant time.
fn signature_matches(given: &str, expected: &[u8]) -> bool {
    let Ok(given) = BASE64.decode(given.trim()) else {
        return false;
    };
    bool::from(given.as_slice().ct_eq(expected))
}

/// Whether `request` carries a valid signature under `key` (the client's decoded API key): its
/// `h` matches the signature over the other pairs, either as the client sent them
/// (percent-encoded, what libykclient and yubico-client sign) or decoded (what yubikey-val
/// checks). Compared in constant time. `false` when the request has no `h`.
#[must_use]
pub fn verify_request_signature(request: &VerifyRequest, key: &[u8]) -> bool {
    let Some(h) = request.signature() else {
        return false;
    };
    let raw: Vec<(&str, &str)> = request
        .raw
        .iter()
        .zip(&request.pairs)
        .filter(|(_, (decoded_key, _))| decoded_key != "h")
        .map(|((k, v), _)| (k.as_str(), v.as_str()))
        .collect();
    let as_sent = signature_matches(h, &mac(&raw, key));
    let decoded = signature_matches(h, &mac(&request.pairs, key));
    as_sent | decoded
}

// --- Percent-encoding ---------------------------------------------------------------------------

/// Percent-encodes everything but the unreserved characters of RFC 3986.
fn percent_encode(text: &str, out: &mut String) {
    crate::text::percent_encode_into(text, b"", out);
}

/// Decodes one query-string component: `%XX` escapes, and `+` as a space unless `plus_literal`.
fn percent_decode(text: &str, plus_literal: bool) -> Result<String, WsapiError> {
    crate::text::percent_decode(text, !plus_literal).ok_or(WsapiError::BadEncoding)
}

// --- Requests (server side) ---------------------------------------------------------------------

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
    raw: Vec<(String, String)>,
    /// The same pairs, decoded (`h` read with `+` literal).
    pairs: Vec<(String, String)>,
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

// --- Answers (server side) ----------------------------------------------------------------------

/// The key's counters, sent when the request asked with `timestamp=1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyCounters {
    /// The key's internal 24-bit timestamp (8 Hz) when the button was pressed.
    pub timestamp: u32,
    /// The use counter (`sessioncounter`: power-ups).
    pub session_counter: u16,
    /// The session use counter (`sessionuse`: presses since power-up).
    pub session_use: u8,
}

/// An answer to a `verify` request; [`VerifyResponse::body`] renders and signs it.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyResponse {
    status: Status,
    otp: Option<String>,
    nonce: Option<String>,
    sl: Option<u8>,
    counters: Option<KeyCounters>,
}

impl fmt::Debug for VerifyResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyResponse")
            .field("status", &self.status)
            .field("echoes", &self.otp.is_some())
            .field("sl", &self.sl)
            .field("counters", &self.counters)
            .finish()
    }
}

impl VerifyResponse {
    /// An answer with `status` and nothing else (plus `h` and `t`).
    #[must_use]
    pub fn new(status: Status) -> Self {
        VerifyResponse {
            status,
            otp: None,
            nonce: None,
            sl: None,
            counters: None,
        }
    }

    /// The answer yubikey-val gives `request` with `status`: the request's `otp` and `nonce`
    /// echoed when the status is one it echoes them with ([`Status::echoes_request`]). Add
    /// [`sync_level`](Self::sync_level) and, when [`VerifyRequest::wants_counters`],
    /// [`counters`](Self::counters) for an `OK`.
    #[must_use]
    pub fn for_request(request: &VerifyRequest, status: Status) -> Self {
        let response = VerifyResponse::new(status);
        if status.echoes_request() {
            response.echo(request.otp(), request.nonce())
        } else {
            response
        }
    }

    /// Echoes `otp` and `nonce` (exactly as the client sent them: clients compare them byte for
    /// byte). A value holding a control character (CR, LF…) or white space at either end is
    /// never written: it could add lines to the answer, or would not read back the same.
    #[must_use]
    pub fn echo(mut self, otp: &str, nonce: &str) -> Self {
        self.otp = Some(otp.to_owned());
        self.nonce = Some(nonce.to_owned());
        self
    }

    /// Adds `sl`, the percentage of peers that confirmed the OTP (at most 100). A server with
    /// no peers, like Twofold on one shared database, may send 100.
    #[must_use]
    pub fn sync_level(mut self, percent: u8) -> Self {
        self.sl = Some(percent.min(100));
        self
    }

    /// Adds `timestamp`, `sessioncounter` and `sessionuse` (the client asked with
    /// `timestamp=1`).
    #[must_use]
    pub fn counters(mut self, counters: KeyCounters) -> Self {
        self.counters = Some(counters);
        self
    }

    /// The answer's status.
    #[must_use]
    pub fn status(&self) -> Status {
        self.status
    }

    /// The fields but `h`, in the order yubikey-val writes them: `t`, `otp`, `nonce`, `sl`,
    /// `timestamp`, `sessioncounter`, `sessionuse`, `status`. `now_ms` is the Unix time in
    /// milliseconds.
    #[must_use]
    pub fn fields(&self, now_ms: u64) -> Vec<(&'static str, String)> {
        let mut fields = vec![("t", format_t(now_ms))];
        // A value that would not come back from its line as it is (a control character such as
        // CR or LF, white space at either end) is not echoed.
        let printable = |v: &&String| v.trim() == v.as_str() && !v.chars().any(char::is_control);
        if let (Some(otp), Some(nonce)) = (
            self.otp.as_ref().filter(printable),
            self.nonce.as_ref().filter(printable),
        ) {
            fields.push(("otp", otp.clone()));
            fields.push(("nonce", nonce.clone()));
        }
        if let Some(sl) = self.sl {
            fields.push(("sl", sl.to_string()));
        }
        if let Some(c) = self.counters {
            fields.push(("timestamp", c.timestamp.to_string()));
            fields.push(("sessioncounter", c.session_counter.to_string()));
            fields.push(("sessionuse", c.session_use.to_string()));
        }
        fields.push(("status", self.status.as_str().to_owned()));
        fields
    }

    /// The body: `h` (signed with `key`, the client's decoded API key, or empty when the client
    /// is unknown) then [`fields`](Self::fields), one `key=value` per line, each line ended by
    /// CRLF, and an empty line at the end, as yubikey-val writes it.
    #[must_use]
    pub fn body(&self, key: &[u8], now_ms: u64) -> String {
        let fields = self.fields(now_ms);
        let mut body = format!("h={}\r\n", sign(&fields, key));
        for (k, v) in &fields {
            body.push_str(k);
            body.push('=');
            body.push_str(v);
            body.push_str("\r\n");
        }
        body.push_str("\r\n");
        body
    }
}

/// The protocol's `t`: UTC as `YYYY-MM-DDThh:mm:ssZ` then the milliseconds in four digits (the
/// `Z0` + three digits of yubikey-val), e.g. `2010-11-23T19:30:00Z0123`, from a Unix time in
/// milliseconds.
#[must_use]
pub fn format_t(unix_ms: u64) -> String {
    let secs = i64::try_from(unix_ms / 1000).unwrap_or(i64::MAX);
    let millis = unix_ms % 1000;
    let (year, month, day, hour, minute, second) = crate::text::utc_parts(secs);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z{millis:04}")
}

// --- Client side --------------------------------------------------------------------------------

/// A request a client sends: `id`, `otp`, `nonce`, optionally `timestamp=1`, `sl`, `timeout`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientRequest {
    id: u64,
    otp: String,
    nonce: String,
    timestamp: bool,
    sl: Option<SyncLevel>,
    timeout: Option<u32>,
}

impl fmt::Debug for ClientRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRequest")
            .field("id", &self.id)
            .field("otp_len", &self.otp.len())
            .field("nonce", &self.nonce)
            .finish_non_exhaustive()
    }
}

impl ClientRequest {
    /// A request for `otp` by client `id` with `nonce` (the caller draws it at random: 16 to 40
    /// letters and digits, see [`is_valid_nonce`]).
    #[must_use]
    pub fn new(id: u64, otp: &str, nonce: &str) -> Self {
        ClientRequest {
            id,
            otp: otp.to_owned(),
            nonce: nonce.to_owned(),
            timestamp: false,
            sl: None,
            timeout: None,
        }
    }

    /// Asks for the key's counters (`timestamp=1`).
    #[must_use]
    pub fn with_counters(mut self) -> Self {
        self.timestamp = true;
        self
    }

    /// Asks for a sync level (`sl`).
    #[must_use]
    pub fn with_sync_level(mut self, sl: SyncLevel) -> Self {
        self.sl = Some(sl);
        self
    }

    /// Asks for a sync timeout in seconds (`timeout`).
    #[must_use]
    pub fn with_timeout(mut self, seconds: u32) -> Self {
        self.timeout = Some(seconds);
        self
    }

    /// The OTP sent.
    #[must_use]
    pub fn otp(&self) -> &str {
        &self.otp
    }

    /// The nonce sent.
    #[must_use]
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The pairs sent, sorted by key, without `h`.
    #[must_use]
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![
            ("id", self.id.to_string()),
            ("nonce", self.nonce.clone()),
            ("otp", self.otp.clone()),
        ];
        if let Some(sl) = self.sl {
            pairs.push(("sl", sl.to_string()));
        }
        if let Some(t) = self.timeout {
            pairs.push(("timeout", t.to_string()));
        }
        if self.timestamp {
            pairs.push(("timestamp", "1".to_owned()));
        }
        pairs
    }

    /// The query string (without `?`), percent-encoded, with `h` last when `key` (the decoded
    /// API key) is not empty. The signature covers the decoded values, as yubikey-val checks
    /// them.
    #[must_use]
    pub fn query(&self, key: &[u8]) -> String {
        let pairs = self.pairs();
        let mut query = String::new();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                query.push('&');
            }
            query.push_str(k);
            query.push('=');
            percent_encode(v, &mut query);
        }
        if !key.is_empty() {
            query.push_str("&h=");
            percent_encode(&sign(&pairs, key), &mut query);
        }
        query
    }
}

/// A parsed answer: its fields (values as written, `h` apart).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedResponse {
    fields: Vec<(String, String)>,
    signature: Option<String>,
    status: String,
}

/// Parses an answer body: `key=value` lines (CRLF or LF, surrounding white space and empty
/// lines ignored; a value may hold `=`).
///
/// # Errors
///
/// [`WsapiError::MalformedResponse`] for a line without `=`, an empty key or a key given twice
/// (two `status` lines would be an attack); [`WsapiError::MissingField`] without `status`.
pub fn parse_response(body: &str) -> Result<ParsedResponse, WsapiError> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut signature = None;
    for line in body.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (key, value) = line.split_once('=').ok_or(WsapiError::MalformedResponse)?;
        if key.is_empty() {
            return Err(WsapiError::MalformedResponse);
        }
        if key == "h" {
            if signature.replace(value.to_owned()).is_some() {
                return Err(WsapiError::MalformedResponse);
            }
            continue;
        }
        if fields.iter().any(|(k, _)| k == key) {
            return Err(WsapiError::MalformedResponse);
        }
        fields.push((key.to_owned(), value.to_owned()));
    }
    let status = fields
        .iter()
        .find(|(k, _)| k == "status")
        .map(|(_, v)| v.clone())
        .ok_or(WsapiError::MissingField("status"))?;
    Ok(ParsedResponse {
        fields,
        signature,
        status,
    })
}

impl ParsedResponse {
    /// A field's value, as written.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The `status` text, as written.
    #[must_use]
    pub fn status_text(&self) -> &str {
        &self.status
    }

    /// The status, if it is one of the protocol's.
    #[must_use]
    pub fn status(&self) -> Option<Status> {
        Status::from_protocol(&self.status)
    }

    /// The signature `h`, if any.
    #[must_use]
    pub fn signature(&self) -> Option<&str> {
        self.signature.as_deref()
    }

    /// Every field but `h`, in the order written.
    #[must_use]
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// Whether `h` is the signature of the other fields under `key`, in constant time.
    #[must_use]
    pub fn verify_signature(&self, key: &[u8]) -> bool {
        self.signature
            .as_deref()
            .is_some_and(|h| signature_matches(h, &mac(&self.fields, key)))
    }

    /// The checks a client makes before it believes an answer to `request`:
    ///
    /// - with a `key` (the decoded API key; empty: the client does not sign), the signature
    ///   must match. One exception, for a clear refusal reason only: a `NO_SUCH_CLIENT` or
    ///   `MISSING_PARAMETER` answer signed with the empty key passes, because yubikey-val signs
    ///   those before it knows the client's key. Neither is ever `OK`.
    /// - `otp` and `nonce`, when present, must be exactly the request's; with `OK` they must be
    ///   present.
    ///
    /// Passing says nothing of the status: only [`Status::Ok`] accepts the OTP.
    ///
    /// # Errors
    ///
    /// [`WsapiError::BadSignature`], [`WsapiError::OtpMismatch`],
    /// [`WsapiError::NonceMismatch`].
    pub fn check(&self, request: &ClientRequest, key: &[u8]) -> Result<(), WsapiError> {
        if !key.is_empty() && !self.verify_signature(key) {
            let keyless = matches!(
                self.status(),
                Some(Status::NoSuchClient | Status::MissingParameter)
            ) && self.verify_signature(b"");
            if !keyless {
                return Err(WsapiError::BadSignature);
            }
        }
        let ok = self.status() == Some(Status::Ok);
        match self.get("otp") {
            Some(otp) if otp != request.otp() => return Err(WsapiError::OtpMismatch),
            None if ok => return Err(WsapiError::OtpMismatch),
            _ => {}
        }
        match self.get("nonce") {
            Some(nonce) if nonce != request.nonce() => return Err(WsapiError::NonceMismatch),
            None if ok => return Err(WsapiError::NonceMismatch),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    /// base64 "c2VjcmV0LWtleS1mb3ItdHdvZm9sZC10ZXN0cw==".
    const KEY: &[u8] = b"secret-key-for-twofold-tests";
    const OTP: &str = "vvvvvvcucrlcietctckflvnncdgckubflugerlnr";
    const NONCE: &str = "askjdnkajsndjkasndkjsnad";

    #[test]
    fn statuses_are_the_protocol_strings() {
        let strings: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            strings,
            [
                "OK",
                "BAD_OTP",
                "REPLAYED_OTP",
                "BAD_SIGNATURE",
                "MISSING_PARAMETER",
                "NO_SUCH_CLIENT",
                "OPERATION_NOT_ALLOWED",
                "BACKEND_ERROR",
                "NOT_ENOUGH_ANSWERS",
                "REPLAYED_REQUEST"
            ]
        );
        for s in Status::ALL {
            assert_eq!(Status::from_protocol(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.as_str());
        }
        assert_eq!(Status::from_protocol("ok"), None);
        assert_eq!(Status::from_protocol("DELAYED_OTP"), None);
    }

    /// Known answers computed independently with Python's `hmac` and `base64` modules.
    #[test]
    fn signature_known_answers() {
        // The protocol document's example request, signed; given in another order.
        let pairs = [
            ("otp", OTP),
            ("id", "87"),
            ("timeout", "8"),
            ("sl", "50"),
            ("nonce", NONCE),
        ];
        assert_eq!(sign(&pairs, KEY), "n3i56QLBK3c21L1qjV2TrJG5rNk=");
        // "Getting started writing clients"' example answer, signed; `h` is left out.
        let answer = [
            ("h", "ignored"),
            ("t", "2010-04-23T20:34:51Z0678"),
            ("otp", "cccccccbcjdifctrndncchkftchjlnbhvhtugdljibej"),
            ("nonce", "aef3a7835277a28da831005c2ae3b919e2076a62"),
            ("sl", "75"),
            ("status", "OK"),
        ];
        assert_eq!(sign(&answer, KEY), "ERrhrY08bGF0vpHrQtpcMRN4J5s=");
        // An empty key (yubikey-val's NO_SUCH_CLIENT).
        let unknown = [
            ("status", "NO_SUCH_CLIENT"),
            ("t", "2010-04-23T20:34:51Z0678"),
        ];
        assert_eq!(sign(&unknown, b""), "vGDzLTMsqS8Cy46LRRUTbnH1Zak=");
    }

    #[test]
    fn t_format() {
        assert_eq!(format_t(0), "1970-01-01T00:00:00Z0000");
        assert_eq!(format_t(1_290_540_600_123), "2010-11-23T19:30:00Z0123");
        assert_eq!(format_t(951_782_400_999), "2000-02-29T00:00:00Z0999");
        assert_eq!(format_t(4_102_444_799_000), "2099-12-31T23:59:59Z0000");
    }

    #[test]
    fn parses_the_document_example() {
        let query = format!("otp={OTP}&id=87&timeout=8&sl=50&nonce={NONCE}");
        let r = VerifyRequest::parse(&query).unwrap();
        assert_eq!(r.id(), 87);
        assert_eq!(r.otp(), OTP);
        assert_eq!(r.nonce(), NONCE);
        assert_eq!(r.sync_level(), Some(SyncLevel::Percent(50)));
        assert_eq!(r.timeout(), Some(8));
        assert!(!r.wants_counters());
        assert_eq!(r.signature(), None);
        assert!(!verify_request_signature(&r, KEY));

        let r = VerifyRequest::parse(&format!(
            "{query}&timestamp=1&h=n3i56QLBK3c21L1qjV2TrJG5rNk="
        ))
        .unwrap();
        assert!(r.wants_counters());
        // timestamp=1 is signed too: this h was made without it.
        assert!(!verify_request_signature(&r, KEY));
        let r = VerifyRequest::parse(&format!("{query}&h=n3i56QLBK3c21L1qjV2TrJG5rNk%3D")).unwrap();
        assert!(verify_request_signature(&r, KEY));
        assert!(!verify_request_signature(&r, b"another key"));
    }

    #[test]
    fn signatures_over_encoded_or_decoded_values_are_accepted() {
        // A value that differs encoded and decoded.
        let sent = format!("id=1&nonce={NONCE}&otp=a%2Bb");
        let encoded = sign(&[("id", "1"), ("nonce", NONCE), ("otp", "a%2Bb")], KEY);
        let decoded = sign(&[("id", "1"), ("nonce", NONCE), ("otp", "a+b")], KEY);
        assert_ne!(encoded, decoded);
        for h in [&encoded, &decoded] {
            let mut q = sent.clone();
            q.push_str("&h=");
            percent_encode(h, &mut q);
            let r = VerifyRequest::parse(&q).unwrap();
            assert_eq!(r.otp(), "a+b");
            assert!(verify_request_signature(&r, KEY), "{h}");
        }
        // yubico-client escapes only `+` in h; a raw `+` is read as `+` too.
        let h = sign(&[("id", "1"), ("nonce", NONCE), ("otp", OTP)], KEY);
        for form in [h.replace('+', "%2B"), h.clone()] {
            let r =
                VerifyRequest::parse(&format!("id=1&nonce={NONCE}&otp={OTP}&h={form}")).unwrap();
            assert_eq!(r.signature(), Some(h.as_str()));
            assert!(verify_request_signature(&r, KEY));
        }
    }

    #[test]
    fn request_errors() {
        let ok = format!("id=1&otp={OTP}&nonce={NONCE}");
        assert!(VerifyRequest::parse(&ok).is_ok());
        let cases: Vec<(String, WsapiError)> = vec![
            (String::new(), WsapiError::MissingParameter("id")),
            (
                format!("otp={OTP}&nonce={NONCE}"),
                WsapiError::MissingParameter("id"),
            ),
            (
                format!("id=&otp={OTP}&nonce={NONCE}"),
                WsapiError::MissingParameter("id"),
            ),
            (
                format!("id=1&nonce={NONCE}"),
                WsapiError::MissingParameter("otp"),
            ),
            (
                format!("id=1&otp={OTP}"),
                WsapiError::MissingParameter("nonce"),
            ),
            (
                format!("id=0&otp={OTP}&nonce={NONCE}"),
                WsapiError::InvalidParameter("id"),
            ),
            (
                format!("id=-1&otp={OTP}&nonce={NONCE}"),
                WsapiError::InvalidParameter("id"),
            ),
            (
                format!("id=1x&otp={OTP}&nonce={NONCE}"),
                WsapiError::InvalidParameter("id"),
            ),
            (
                format!("id=99999999999999999999&otp={OTP}&nonce={NONCE}"),
                WsapiError::InvalidParameter("id"),
            ),
            (
                format!("id=1&otp={OTP}&nonce=short"),
                WsapiError::InvalidParameter("nonce"),
            ),
            (
                format!("id=1&otp={OTP}&nonce={}", "a".repeat(41)),
                WsapiError::InvalidParameter("nonce"),
            ),
            (
                format!("id=1&otp={OTP}&nonce=askjdnkajsndjkasndkjs-ad"),
                WsapiError::InvalidParameter("nonce"),
            ),
            (format!("{ok}&sl=101"), WsapiError::InvalidParameter("sl")),
            (format!("{ok}&sl=-1"), WsapiError::InvalidParameter("sl")),
            (format!("{ok}&sl=slow"), WsapiError::InvalidParameter("sl")),
            (
                format!("{ok}&timeout=5s"),
                WsapiError::InvalidParameter("timeout"),
            ),
            (
                format!("{ok}&timeout=99999999999"),
                WsapiError::InvalidParameter("timeout"),
            ),
            (
                format!("{ok}&id=2"),
                WsapiError::DuplicateParameter("id".into()),
            ),
            (
                format!("{ok}&x=1&x=2"),
                WsapiError::DuplicateParameter("x".into()),
            ),
            (format!("{ok}&x=%zz"), WsapiError::BadEncoding),
            (format!("{ok}&x=%4"), WsapiError::BadEncoding),
            (format!("{ok}&x=%ff"), WsapiError::BadEncoding),
            (
                format!("{ok}&x={}", "a".repeat(MAX_QUERY_LEN)),
                WsapiError::TooLong,
            ),
            (
                format!(
                    "{ok}{}",
                    (0..MAX_PAIRS)
                        .map(|i| format!("&k{i}=v"))
                        .collect::<String>()
                ),
                WsapiError::TooLong,
            ),
        ];
        for (query, expected) in cases {
            let err = VerifyRequest::parse(&query).unwrap_err();
            assert_eq!(err, expected, "{query}");
            assert_eq!(err.status(), Status::MissingParameter);
        }
    }

    #[test]
    fn optional_parameters() {
        let ok = format!("id=007&otp={OTP}&nonce={NONCE}");
        let parse = |extra: &str| VerifyRequest::parse(&format!("{ok}&{extra}")).unwrap();
        assert_eq!(parse("").id(), 7);
        assert_eq!(parse("sl=fast").sync_level(), Some(SyncLevel::Fast));
        assert_eq!(parse("sl=SECURE").sync_level(), Some(SyncLevel::Secure));
        assert_eq!(parse("sl=0").sync_level(), Some(SyncLevel::Percent(0)));
        assert_eq!(parse("sl=100").sync_level(), Some(SyncLevel::Percent(100)));
        assert_eq!(parse("sl=").sync_level(), None);
        assert_eq!(parse("timeout=").timeout(), None);
        assert!(!parse("timestamp=0").wants_counters());
        assert!(!parse("timestamp=yes").wants_counters());
        assert_eq!(parse("h=").signature(), None);
        // Unknown parameters are kept, and empty pieces skipped.
        let r = parse("foo=bar&&baz");
        assert!(r.pairs().iter().any(|(k, v)| k == "foo" && v == "bar"));
        assert!(r.pairs().iter().any(|(k, v)| k == "baz" && v.is_empty()));
        // `+` is a space outside `h`.
        assert_eq!(
            VerifyRequest::parse(&format!("id=1&otp=a+b%20c&nonce={NONCE}"))
                .unwrap()
                .otp(),
            "a b c"
        );
    }

    #[test]
    fn debug_hides_the_otp() {
        let r = VerifyRequest::parse(&format!("id=1&otp={OTP}&nonce={NONCE}")).unwrap();
        assert!(!format!("{r:?}").contains(OTP));
        let c = ClientRequest::new(1, OTP, NONCE);
        assert!(!format!("{c:?}").contains(OTP));
    }

    #[test]
    fn answer_bodies() {
        let request =
            VerifyRequest::parse(&format!("id=1&otp={OTP}&nonce={NONCE}&timestamp=1")).unwrap();
        let ok = VerifyResponse::for_request(&request, Status::Ok)
            .sync_level(100)
            .counters(KeyCounters {
                timestamp: 5_993_928,
                session_counter: 338,
                session_use: 0,
            });
        let body = ok.body(KEY, 1_290_540_600_123);
        let lines: Vec<&str> = body.split("\r\n").collect();
        assert_eq!(
            lines[1..],
            [
                "t=2010-11-23T19:30:00Z0123",
                &format!("otp={OTP}"),
                &format!("nonce={NONCE}"),
                "sl=100",
                "timestamp=5993928",
                "sessioncounter=338",
                "sessionuse=0",
                "status=OK",
                "",
                ""
            ]
        );
        assert!(lines[0].starts_with("h="));
        let parsed = parse_response(&body).unwrap();
        assert!(parsed.verify_signature(KEY));
        assert_eq!(parsed.status(), Some(Status::Ok));
        assert_eq!(parsed.get("sessioncounter"), Some("338"));

        // No echo with a status yubikey-val answers before checking the request.
        for status in [Status::BadOtp, Status::BadSignature, Status::NoSuchClient] {
            let body = VerifyResponse::for_request(&request, status).body(KEY, 0);
            assert!(!body.contains("otp="), "{body}");
            assert!(!body.contains("nonce="), "{body}");
            assert!(body.contains(&format!("status={status}\r\n")));
        }
        let replay = VerifyResponse::for_request(&request, Status::ReplayedOtp).body(KEY, 0);
        assert!(replay.contains(&format!("otp={OTP}\r\n")));
    }

    #[test]
    fn echo_only_what_reads_back() {
        for otp in ["x ", " x", "x\ty"] {
            let body = VerifyResponse::new(Status::ReplayedOtp)
                .echo(otp, NONCE)
                .body(KEY, 0);
            assert!(!body.contains("otp="), "{body:?}");
            assert!(parse_response(&body).unwrap().verify_signature(KEY));
        }
    }

    #[test]
    fn echo_never_adds_lines() {
        let body = VerifyResponse::new(Status::ReplayedOtp)
            .echo("x\r\nstatus=OK", NONCE)
            .body(KEY, 0);
        assert_eq!(body.matches("status=").count(), 1);
        assert!(!body.contains("otp="));
    }

    #[test]
    fn client_query_and_checks() {
        let request = ClientRequest::new(87, OTP, NONCE);
        let query = request.query(KEY);
        // Python: base64(hmac.new(KEY, b"id=87&nonce=…&otp=…", sha1)), quoted.
        assert_eq!(
            query,
            format!("id=87&nonce={NONCE}&otp={OTP}&h=tfk1il5AoXXRbcCMAovQGPuAKtM%3D")
        );
        assert_eq!(request.query(b""), format!("id=87&nonce={NONCE}&otp={OTP}"));
        let with_all = ClientRequest::new(87, OTP, NONCE)
            .with_sync_level(SyncLevel::Percent(50))
            .with_timeout(8)
            .with_counters();
        let h = "n3i56QLBK3c21L1qjV2TrJG5rNk=";
        let without_ts = ClientRequest::new(87, OTP, NONCE)
            .with_sync_level(SyncLevel::Percent(50))
            .with_timeout(8);
        assert!(
            without_ts
                .query(KEY)
                .ends_with("&h=n3i56QLBK3c21L1qjV2TrJG5rNk%3D")
        );
        assert!(!with_all.query(KEY).contains(h));

        let answer = |r: VerifyResponse, key: &[u8]| parse_response(&r.body(key, 7)).unwrap();
        let ok = VerifyResponse::new(Status::Ok)
            .echo(OTP, NONCE)
            .sync_level(100);
        assert_eq!(answer(ok.clone(), KEY).check(&request, KEY), Ok(()));
        assert_eq!(
            answer(ok.clone(), b"other").check(&request, KEY),
            Err(WsapiError::BadSignature)
        );
        // Unsigned clients do not check the signature.
        assert_eq!(answer(ok.clone(), b"other").check(&request, b""), Ok(()));
        let other_nonce = VerifyResponse::new(Status::Ok).echo(OTP, "bbbbbbbbbbbbbbbbbbbb");
        assert_eq!(
            answer(other_nonce, KEY).check(&request, KEY),
            Err(WsapiError::NonceMismatch)
        );
        let other_otp = VerifyResponse::new(Status::Ok).echo("cccccc", NONCE);
        assert_eq!(
            answer(other_otp, KEY).check(&request, KEY),
            Err(WsapiError::OtpMismatch)
        );
        let bare_ok = VerifyResponse::new(Status::Ok);
        assert_eq!(
            answer(bare_ok, KEY).check(&request, KEY),
            Err(WsapiError::OtpMismatch)
        );
        // A refusal without echo passes the checks (and is still a refusal).
        let bad_otp = answer(VerifyResponse::new(Status::BadOtp), KEY);
        assert_eq!(bad_otp.check(&request, KEY), Ok(()));
        assert_eq!(bad_otp.status(), Some(Status::BadOtp));
        // yubikey-val signs NO_SUCH_CLIENT with an empty key.
        let unknown = answer(VerifyResponse::new(Status::NoSuchClient), b"");
        assert_eq!(unknown.check(&request, KEY), Ok(()));
        let forged_ok = answer(VerifyResponse::new(Status::Ok).echo(OTP, NONCE), b"");
        assert_eq!(
            forged_ok.check(&request, KEY),
            Err(WsapiError::BadSignature)
        );
        let unsigned = parse_response("status=OK\r\n").unwrap();
        assert_eq!(unsigned.check(&request, KEY), Err(WsapiError::BadSignature));
    }

    #[test]
    fn response_parsing() {
        assert_eq!(
            parse_response("").unwrap_err(),
            WsapiError::MissingField("status")
        );
        assert_eq!(
            parse_response("<html>oops</html>").unwrap_err(),
            WsapiError::MalformedResponse
        );
        assert_eq!(
            parse_response("status=OK\nstatus=BAD_OTP").unwrap_err(),
            WsapiError::MalformedResponse
        );
        assert_eq!(
            parse_response("h=a\nh=b\nstatus=OK").unwrap_err(),
            WsapiError::MalformedResponse
        );
        assert_eq!(
            parse_response("=x\nstatus=OK").unwrap_err(),
            WsapiError::MalformedResponse
        );
        let r = parse_response("\n h=abc= \r\nstatus=DELAYED_OTP\r\n\r\n").unwrap();
        assert_eq!(r.signature(), Some("abc="));
        assert_eq!(r.status_text(), "DELAYED_OTP");
        assert_eq!(r.status(), None);
        // The example answer of Yubico's documentation, verified with our known key.
        let doc = "h=ERrhrY08bGF0vpHrQtpcMRN4J5s=\r\nt=2010-04-23T20:34:51Z0678\r\n\
                   otp=cccccccbcjdifctrndncchkftchjlnbhvhtugdljibej\r\n\
                   nonce=aef3a7835277a28da831005c2ae3b919e2076a62\r\nsl=75\r\nstatus=OK\r\n\r\n";
        assert!(parse_response(doc).unwrap().verify_signature(KEY));
    }

    fn nonce_strategy() -> impl Strategy<Value = String> {
        "[A-Za-z0-9]{16,40}"
    }

    proptest! {
        #[test]
        fn parse_never_panics(query in ".{0,300}") {
            let _ = VerifyRequest::parse(&query);
            let _ = parse_response(&query);
        }

        #[test]
        fn parse_never_panics_on_query_like_text(query in "([a-z%+=&0-9A-F]{0,12}&?){0,12}") {
            if let Ok(r) = VerifyRequest::parse(&query) {
                let _ = verify_request_signature(&r, KEY);
            }
        }

        #[test]
        fn client_query_round_trips(
            id in 1u64..,
            otp in "[!-~]{1,64}",
            nonce in nonce_strategy(),
            key in proptest::collection::vec(any::<u8>(), 0..40),
            sl in proptest::option::of(0u8..=100),
            timeout in proptest::option::of(any::<u32>()),
            counters in any::<bool>(),
        ) {
            let mut request = ClientRequest::new(id, &otp, &nonce);
            if let Some(sl) = sl {
                request = request.with_sync_level(SyncLevel::Percent(sl));
            }
            if let Some(t) = timeout {
                request = request.with_timeout(t);
            }
            if counters {
                request = request.with_counters();
            }
            let parsed = VerifyRequest::parse(&request.query(&key)).unwrap();
            prop_assert_eq!(parsed.id(), id);
            prop_assert_eq!(parsed.otp(), otp.as_str());
            prop_assert_eq!(parsed.nonce(), nonce.as_str());
            prop_assert_eq!(parsed.sync_level(), sl.map(SyncLevel::Percent));
            prop_assert_eq!(parsed.timeout(), timeout);
            prop_assert_eq!(parsed.wants_counters(), counters);
            prop_assert_eq!(verify_request_signature(&parsed, &key), !key.is_empty());

            // And the answer back.
            let status = Status::ALL[usize::try_from(id % 10).unwrap()];
            let body = VerifyResponse::for_request(&parsed, status).sync_level(100).body(&key, id);
            let answer = parse_response(&body).unwrap();
            prop_assert_eq!(answer.status(), Some(status));
            prop_assert!(answer.verify_signature(&key));
            prop_assert_eq!(answer.check(&request, &key), Ok(()));
        }

        #[test]
        fn t_has_the_protocol_shape(ms in 0u64..253_402_300_800_000) {
            let t = format_t(ms);
            prop_assert_eq!(t.len(), 24);
            let b = t.as_bytes();
            prop_assert_eq!((b[4], b[7], b[10], b[13], b[16], b[19]), (b'-', b'-', b'T', b':', b':', b'Z'));
        }
    }
}
