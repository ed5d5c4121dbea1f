//! Answers, server side: rendering and signing a `verify` answer.

use std::fmt;

use super::{Status, VerifyRequest, sign};

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
