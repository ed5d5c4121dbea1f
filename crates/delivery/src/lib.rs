//! Delivery adapters for the [`Mailer`] and [`SmsSender`] ports of `twofold-core`: email over
//! SMTP, SMS through a webhook, Twilio or AWS SNS, and the outbox folder that stands in for both
//! when nothing is configured, so a fresh install works without a mail server or an SMS account.
//!
//! # Use
//!
//! ```no_run
//! # use std::path::PathBuf;
//! # fn main() -> Result<(), twofold_delivery::SetupError> {
//! let outbox = PathBuf::from("/var/lib/twofold/outbox");
//! let extra_ca = None; // the contents of TWOFOLD_EXTRA_CA_FILE, when it is set
//! let mailer = twofold_delivery::SmtpMailer::new(outbox.clone(), extra_ca.clone())?;
//! let sms = twofold_delivery::SmsGateway::new(outbox, extra_ca)?;
//! # let _ = (mailer, sms);
//! # Ok(())
//! # }
//! ```
//!
//! Both read their configuration from the call (`EmailConfig`, `SmsConfig`), so a settings change
//! applies to the next message. Time comes from a [`Clock`] (the system clock unless
//! `with_clock` says otherwise).
//!
//! # The outbox
//!
//! With no SMTP host, or with the SMS provider `outbox`, each message becomes one file in the
//! outbox folder (created `0700`, files `0600`, written under a temporary name and renamed, so a
//! reader never sees half a file): `<unix-time>-<random>.eml` holds the RFC 5322 message as it
//! would have been sent (multipart/alternative, text and HTML), `<unix-time>-<random>.sms` holds
//! `To: <number>`, a blank line and the text.
//!
//! # SMTP
//!
//! lettre's tokio transport over rustls: `starttls` requires STARTTLS (a server that does not offer
//! it is an error, never a silent plain-text fallback), `tls` is TLS from the first byte, `none`
//! is plain. Credentials are sent when a user name is set. A new connection per message.
//!
//! # SMS providers
//!
//! - `webhook`: `POST <url>` with `Content-Type: application/json` and the body
//!   `{"to":"+15550100","message":"…"}`, signed in the header
//!   `X-Twofold-Signature: sha256=<hex HMAC-SHA256(webhook.secret, raw body)>`
//!   ([`WEBHOOK_SIGNATURE_HEADER`]). The receiver
//!   recomputes the HMAC over the bytes it received and compares in constant time. Any 2xx is
//!   success.
//! - `twilio`: `POST {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form fields
//!   `To`, `From`, `Body`, HTTP basic auth with the account SID and auth token.
//! - `sns`: the SNS `Publish` action
//!   (`Action=Publish&PhoneNumber=…&Message=…&Version=2010-03-31`) as a form POST to `endpoint` (default `https://sns.{region}.amazonaws.com/`), signed with
//!   AWS Signature Version 4 for service `sns` in `region` (signed headers `content-type`, `host`,
//!   `x-amz-date`).
//!
//! Numbers must be E.164 (`+` and 2 to 15 digits).
//!
//! # Yubico validation servers
//!
//! [`YubicoClient`] is the [`YubicoVerifier`] port: a client of Yubico validation protocol 2.0
//! (`GET {server}?id=…&nonce=…&otp=…&h=…`, messages and signatures from `twofold_otp::wsapi`).
//! Each request carries a fresh nonce of 32 random letters and digits and, when an API key is
//! set, `h` signed with it; nothing else (no `timestamp`, `sl` or `timeout`: the server decides,
//! as with yubico-client's and pam_yubico's defaults). Servers are full verify URLs, e.g.
//! `https://api.yubico.com/wsapi/2.0/verify`, and must be `https://`: plain `http://` is
//! allowed only to a loopback address (`localhost`, `127.0.0.0/8`, `::1`), where nothing can be
//! overheard, for a local stand-in or a server behind a local TLS proxy.
//!
//! Servers are asked one after another, each with a 5 s timeout for the whole request
//! (`with_timeout` changes it). The next server is tried only when there was no usable
//! answer: no connection, a timeout, an HTTP error status, a body that is not the protocol's, or
//! `BACKEND_ERROR`. An answer with a bad signature, another nonce or another OTP is a refusal
//! at once, without trying further: the request reached a server that spent the OTP (its peers
//! would answer `REPLAYED_OTP` and hide the cause), a bad signature nearly always means a wrong
//! API key, the same for every server, and a tampered answer is an incident to audit, not to
//! route around. Every other status is final too. Only `status=OK`, signed and echoing the OTP
//! and nonce, accepts the OTP; with no usable answer at all the refusal is "unreachable". The
//! log names the server's host and the cause, never the key, the OTP or the request's URL.
//!
//! # Failures, timeouts, retries
//!
//! Timeouts are 5 seconds: for SMTP each network step (connecting, the TLS handshake, each
//! command's answer), for HTTP the whole request. A failure that may pass (no answer, a connection
//! reset, an SMTP 4xx, an HTTP 5xx) is retried once at once; a refusal (SMTP 5xx, HTTP 4xx, 3xx,
//! a TLS failure, a configuration mistake) is not. A retry after the server took the message but
//! its answer was lost can deliver it twice, which for a one-time code is the lesser evil.
//!
//! A failure becomes a [`DeliveryError`] whose message is a plain sentence for the user, e.g.
//! "The email could not be sent: the mail server did not answer." or "The SMS provider refused
//! the message (HTTP 401)."; it never holds a secret or a provider's response body. The cause is
//! logged with `tracing` at `warn` (never the password, token or message body).
//!
//! # Duo
//!
//! [`DuoClient`] implements the [`Duo`] port over HTTPS only (`https://{api_host}`; an API
//! hostname that is a URL or has a path is refused). The Universal Prompt (Web SDK v4) is spoken
//! as PyPI `duo_universal` 2.3 speaks it: client-assertion JWTs (HS512 under the client secret,
//! `iss` = `sub` = client ID, `aud` = the endpoint, `exp` five minutes on, `iat`, a random `jti`)
//! for `/oauth/v1/health_check` and `/oauth/v1/token`; the authorize URL with the SDK's request
//! JWT and the nonce beside it; the `id_token` checked as the SDK checks it (HS512 in constant
//! time, `iss` = `https://{api_host}/oauth/v1/token`, `aud`, `exp`/`iat` with 60 s of leeway, the
//! nonce, `preferred_username`) plus Duo's `auth_result`. The Auth API is signed as PyPI
//! `duo_client` 5.7's `Auth` signs by default: signature version 5, HMAC-SHA512 over the `Date`
//! (RFC 2822), method, host name, path, sorted RFC 3986-encoded parameters, the SHA-512 of the
//! JSON body (POST parameters travel as a sorted, compact JSON object) and of the (absent)
//! `X-Duo-*` headers, sent as `Authorization: Basic base64(ikey:hex)`. A push is `/auth/v2/auth`
//! with `async=1`, then `/auth/v2/auth_status` polled until an answer or the caller's timeout.
//! No answer (connection refused, timeout, TLS failure, HTTP 5xx) is `DuoError::Unreachable`,
//! which the fail mode handles; a 4xx is `Refused`; an answer that fails the checks is `Invalid`.
//!
//! # TLS
//!
//! Outgoing TLS (SMTP and HTTPS) uses rustls with the aws-lc-rs provider and verifies certificates
//! against the system's roots (rustls-platform-verifier) plus the PEM certificates given as
//! `extra_ca_pem` (the contents of `TWOFOLD_EXTRA_CA_FILE`).
//!
//! [`Mailer`]: twofold_core::delivery::Mailer
//! [`SmsSender`]: twofold_core::delivery::SmsSender
//! [`YubicoVerifier`]: twofold_core::yubico::YubicoVerifier
//! [`DeliveryError`]: twofold_core::delivery::DeliveryError
//! [`Clock`]: twofold_core::clock::Clock
//! [`Duo`]: twofold_core::duo::Duo

mod duo;
mod email;
mod outbox;
mod sigv4;
mod sms;
mod yubico;

use std::fmt;
use std::io;
use std::time::Duration;

use twofold_core::crypto::hex;

pub use duo::DuoClient;
pub use email::SmtpMailer;
pub use sms::{SmsGateway, WEBHOOK_SIGNATURE_HEADER};
pub use yubico::YubicoClient;

/// How long one attempt (connect, TLS, exchange) may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

/// An adapter could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The extra CA file holds no usable PEM certificate.
    #[error("the extra CA file (TWOFOLD_EXTRA_CA_FILE) holds no usable PEM certificate: {0}")]
    ExtraCa(String),
    /// The HTTP client could not be built (for instance, the system's roots could not be read).
    #[error("the HTTP client for SMS providers could not be built: {0}")]
    HttpClient(String),
}

/// Checks that `pem` holds at least one certificate, so a wrong file is caught at start-up.
fn check_extra_ca(pem: &[u8]) -> Result<(), SetupError> {
    match reqwest::Certificate::from_pem_bundle(pem) {
        Ok(certs) if certs.is_empty() => Err(SetupError::ExtraCa("no certificate found".into())),
        Ok(_) => Ok(()),
        Err(e) => Err(SetupError::ExtraCa(e.to_string())),
    }
}

/// The one way an adapter builds its HTTPS client: `timeout` for a whole attempt, no redirects
/// (a signed request is not replayed somewhere else), Twofold's user agent, and the PEM
/// certificates in `extra_ca_pem` (the contents of `TWOFOLD_EXTRA_CA_FILE`) trusted beside the
/// system's roots; `https_only` refuses plain HTTP.
fn http_client(
    extra_ca_pem: Option<Vec<u8>>,
    timeout: std::time::Duration,
    https_only: bool,
) -> Result<reqwest::Client, SetupError> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .https_only(https_only)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Twofold/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = extra_ca_pem {
        check_extra_ca(&pem)?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| SetupError::ExtraCa(e.to_string()))?;
        builder = builder.tls_certs_merge(certs);
    }
    builder
        .build()
        .map_err(|e| SetupError::HttpClient(e.to_string()))
}

/// Whether an `io::Error` of `kind` is among the causes of `error`. TLS libraries report a failed
/// handshake as `InvalidData`, often wrapped in another `io::Error`, whose `source()` skips the
/// wrapped error: hence the look inside with `get_ref`.
fn has_io_kind(error: &(dyn std::error::Error + 'static), kind: io::ErrorKind) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(io_error) = e.downcast_ref::<io::Error>() {
            if io_error.kind() == kind {
                return true;
            }
            if let Some(inner) = io_error.get_ref() {
                current = Some(inner);
                continue;
            }
        }
        current = e.source();
    }
    false
}

/// An error with its causes, `a: b: c`, for the log (reqwest's `Display` shows only the top).
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    #[test]
    fn io_kinds_are_found_inside_wrapped_io_errors() {
        let inner = io::Error::new(io::ErrorKind::InvalidData, "bad record");
        let outer = io::Error::other(inner);
        assert!(has_io_kind(&outer, io::ErrorKind::InvalidData));
        assert!(!has_io_kind(&outer, io::ErrorKind::TimedOut));
    }
}
