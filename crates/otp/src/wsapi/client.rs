//! The client side: signed requests, and the parsing and checks of answers.

use std::fmt;

use super::signature::{mac, signature_matches};
use super::{Status, SyncLevel, WsapiError, percent_encode, sign};

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
    /// letters and digits, see [`is_valid_nonce`](super::is_valid_nonce)).
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
