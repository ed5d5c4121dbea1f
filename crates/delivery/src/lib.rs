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
//!   `X-Twofold-Signature: sha256=<hex HMAC-SHA256(webhook.secret, raw body)>`. The receiver
//!   recomputes the HMAC over the bytes it received and compares in constant time. Any 2xx is
//!   success.
//! - `twilio`: `POST {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form fields
//!   `To`, `From`, `Body`, HTTP basic auth with the account SID and auth token.
//! - `sns`: the SNS `Publish` action (`Action=Publish&Message=…&PhoneNumber=…&Version=2010-03-31`)
//!   as a form POST to `endpoint` (default `https://sns.{region}.amazonaws.com/`), signed with
//!   AWS Signature Version 4 for service `sns` in `region` (signed headers `content-type`, `host`,
//!   `x-amz-date`).
//!
//! Numbers must be E.164 (`+` and 2 to 15 digits).
//!
//! # Failures, timeouts, retries
//!
//! Every attempt has a 5 second timeout. A failure that may pass (no answer, a connection reset,
//! an SMTP 4xx, an HTTP 5xx) is retried once; a refusal (SMTP 5xx, HTTP 4xx, a TLS failure) is
//! not. A failure becomes a [`DeliveryError`] whose message is a plain sentence for the user,
//! e.g. "The email could not be sent: the mail server did not answer." or "The SMS provider
//! refused the message (HTTP 401)."; it never holds a secret or a provider's response body. The
//! cause is logged with `tracing` at `warn` (never the password, token or message body).
//!
//! # TLS
//!
//! Outgoing TLS (SMTP and HTTPS) uses rustls with the aws-lc-rs provider and verifies certificates
//! against the system's roots (rustls-platform-verifier) plus the PEM certificates given as
//! `extra_ca_pem` (the contents of `TWOFOLD_EXTRA_CA_FILE`).
//!
//! [`Mailer`]: twofold_core::delivery::Mailer
//! [`SmsSender`]: twofold_core::delivery::SmsSender
//! [`DeliveryError`]: twofold_core::delivery::DeliveryError
//! [`Clock`]: twofold_core::clock::Clock

mod email;
mod outbox;
mod sigv4;
mod sms;

use std::time::Duration;

pub use email::SmtpMailer;
pub use sms::{SmsGateway, WEBHOOK_SIGNATURE_HEADER};

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
