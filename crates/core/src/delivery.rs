//! The delivery ports: how one-time codes and notices leave Twofold. Adapters live in
//! `twofold-delivery` (SMTP, SMS providers, the outbox folder); the core hands them the
//! configuration read from the settings at the moment of sending, so a change in the admin area
//! applies to the next message without a restart.

use std::fmt;

use async_trait::async_trait;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required, not opportunistic).
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// No encryption (a relay on localhost).
    None,
}

/// Where email goes: an SMTP server, or the outbox folder when no host is set.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailConfig {
    /// The From address.
    pub from: String,
    /// SMTP host; `None`: write to the outbox.
    pub smtp_host: Option<String>,
    /// SMTP port.
    pub smtp_port: u16,
    /// Transport security.
    pub security: SmtpSecurity,
    /// SMTP user name; `None`: no authentication.
    pub username: Option<String>,
    /// SMTP password (opened from its sealed setting).
    pub password: String,
}

impl fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailConfig")
            .field("from", &self.from)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("security", &self.security)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// An email to send: a text body and an HTML alternative.
#[derive(Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// Recipient address (validated).
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

impl fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The body may hold a code.
        f.debug_struct("EmailMessage")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Which SMS provider, with its settings.
#[derive(Clone, PartialEq, Eq)]
pub enum SmsConfig {
    /// Write each message to the outbox folder.
    Outbox,
    /// POST `{"to", "message"}` as JSON to a URL, signed with HMAC-SHA256 of the body.
    Webhook {
        /// The endpoint.
        url: String,
        /// The signing key.
        secret: String,
    },
    /// Twilio's Messages API.
    Twilio {
        /// Account SID (also the basic-auth user).
        account_sid: String,
        /// Auth token (the basic-auth password).
        auth_token: String,
        /// Sender number.
        from: String,
        /// API base URL, normally `https://api.twilio.com`.
        api_base: String,
    },
    /// AWS SNS `Publish`, signed with Signature Version 4.
    Sns {
        /// AWS region, e.g. `eu-west-1`.
        region: String,
        /// Access key id.
        access_key_id: String,
        /// Secret access key.
        secret_access_key: String,
        /// Endpoint URL (empty: `https://sns.{region}.amazonaws.com`).
        endpoint: String,
    },
}

impl fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmsConfig::Outbox => f.write_str("Outbox"),
            SmsConfig::Webhook { url, .. } => f
                .debug_struct("Webhook")
                .field("url", url)
                .finish_non_exhaustive(),
            SmsConfig::Twilio {
                account_sid,
                api_base,
                ..
            } => f
                .debug_struct("Twilio")
                .field("account_sid", account_sid)
                .field("api_base", api_base)
                .finish_non_exhaustive(),
            SmsConfig::Sns {
                region, endpoint, ..
            } => f
                .debug_struct("Sns")
                .field("region", region)
                .field("endpoint", endpoint)
                .finish_non_exhaustive(),
        }
    }
}

/// A message could not be delivered. `message` is a plain sentence fit to show the user (it
/// never holds a secret), put into the reader's language where it is shown; the cause goes to
/// the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    /// What to tell the user.
    pub message: crate::i18n::Text,
}

impl DeliveryError {
    /// An error with a sentence for the user.
    pub fn new(message: crate::i18n::Text) -> Self {
        DeliveryError { message }
    }
}

/// Sends email.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message with the given configuration.
    async fn send(&self, config: &EmailConfig, message: &EmailMessage)
    -> Result<(), DeliveryError>;
}

/// Sends SMS.
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Sends `text` to the E.164 number `to` with the given provider.
    async fn send(&self, config: &SmsConfig, to: &str, text: &str) -> Result<(), DeliveryError>;
}
