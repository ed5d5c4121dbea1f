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

mod client;
mod error;
mod request;
mod response;
mod signature;
mod status;
#[cfg(test)]
mod tests;

pub use client::{ClientRequest, ParsedResponse, parse_response};
pub use error::WsapiError;
pub use request::{SyncLevel, VerifyRequest, is_valid_nonce};
pub use response::{KeyCounters, VerifyResponse, format_t};
pub use signature::{sign, verify_request_signature};
pub use status::Status;

/// The shortest nonce the protocol allows.
pub const MIN_NONCE_LEN: usize = 16;
/// The longest nonce the protocol allows.
pub const MAX_NONCE_LEN: usize = 40;

/// The longest request query string read (real requests are under 300 bytes).
pub const MAX_QUERY_LEN: usize = 2048;
/// The most parameters a request may have (the protocol defines 7).
pub const MAX_PAIRS: usize = 32;

// --- Percent-encoding ---------------------------------------------------------------------------

/// Percent-encodes everything but the unreserved characters of RFC 3986.
fn percent_encode(text: &str, out: &mut String) {
    crate::text::percent_encode_into(text, b"", out);
}

/// Decodes one query-string component: `%XX` escapes, and `+` as a space unless `plus_literal`.
fn percent_decode(text: &str, plus_literal: bool) -> Result<String, WsapiError> {
    crate::text::percent_decode(text, !plus_literal).ok_or(WsapiError::BadEncoding)
}
