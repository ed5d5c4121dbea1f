//! Email: the `Mailer` port over SMTP (lettre on tokio and rustls), or into the outbox folder when
//! no SMTP host is set.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::{self, AsyncSmtpTransport};
use lettre::{AsyncTransport, Message, Tokio1Executor};
use twofold_core::clock::{Clock, SystemClock};
use twofold_core::delivery::{DeliveryError, EmailConfig, EmailMessage, Mailer, SmtpSecurity};
use twofold_core::i18n::Text;

use crate::outbox::Outbox;
use crate::{ATTEMPT_TIMEOUT, SetupError, has_io_kind};

/// Sends email over SMTP, or writes it to the outbox folder when `EmailConfig::smtp_host` is
/// `None` (or empty).
pub struct SmtpMailer {
    outbox: Outbox,
    extra_ca: Option<Certificate>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("outbox", &self.outbox)
            .field("extra_ca", &self.extra_ca.is_some())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer that writes to `outbox_dir` when no SMTP host is configured and trusts the PEM
    /// certificates in `extra_ca_pem` (the contents of `TWOFOLD_EXTRA_CA_FILE`) beside the
    /// system's roots.
    ///
    /// # Errors
    ///
    /// [`SetupError::ExtraCa`] when `extra_ca_pem` holds no PEM certificate.
    pub fn new(outbox_dir: PathBuf, extra_ca_pem: Option<Vec<u8>>) -> Result<Self, SetupError> {
        let extra_ca = match extra_ca_pem {
            Some(pem) => {
                crate::check_extra_ca(&pem)?;
                Some(Certificate::from_pem(&pem).map_err(|e| SetupError::ExtraCa(e.to_string()))?)
            }
            None => None,
        };
        Ok(SmtpMailer {
            outbox: Outbox::new(outbox_dir),
            extra_ca,
            clock: Arc::new(SystemClock),
        })
    }

    /// Uses `clock` for the `Date` header and the outbox file names.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn tls_parameters(&self, host: &str) -> Result<TlsParameters, smtp::Error> {
        let mut builder = TlsParameters::builder(host.to_owned());
        if let Some(cert) = &self.extra_ca {
            builder = builder.add_root_certificate(cert.clone());
        }
        builder.build_rustls()
    }

    async fn send_smtp(
        &self,
        host: &str,
        config: &EmailConfig,
        email: &Message,
    ) -> Result<(), DeliveryError> {
        let tls = match config.security {
            SmtpSecurity::StartTls | SmtpSecurity::Tls => {
                let parameters = self.tls_parameters(host).map_err(|e| {
                    tracing::warn!(host, error = %e, "cannot set up TLS for SMTP");
                    failure(Text::new("err-email-tls-setup"))
                })?;
                if config.security == SmtpSecurity::StartTls {
                    Tls::Required(parameters)
                } else {
                    Tls::Wrapper(parameters)
                }
            }
            SmtpSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(config.smtp_port)
            .tls(tls)
            .timeout(Some(ATTEMPT_TIMEOUT));
        if let Some(user) = &config.username {
            builder = builder.credentials(Credentials::new(user.clone(), config.password.clone()));
        }
        let transport = builder.build();

        let mut attempt = 1;
        loop {
            let error = match transport.send(email.clone()).await {
                Ok(_) => {
                    tracing::info!(host, port = config.smtp_port, "email sent");
                    return Ok(());
                }
                Err(e) => e,
            };
            let (problem, retry) = classify(&error);
            tracing::warn!(
                host,
                port = config.smtp_port,
                attempt,
                error = %error,
                "sending email failed"
            );
            if retry && attempt == 1 {
                attempt += 1;
                continue;
            }
            return Err(failure(problem));
        }
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(
        &self,
        config: &EmailConfig,
        message: &EmailMessage,
    ) -> Result<(), DeliveryError> {
        let now = self.clock.now();
        let email = build_message(config, message, now)?;
        match config.smtp_host.as_deref().map(str::trim) {
            Some(host) if !host.is_empty() => self.send_smtp(host, config, &email).await,
            _ => self
                .outbox
                .write(now, "eml", email.formatted())
                .await
                .map(|_| ()),
        }
    }
}

/// The RFC 5322 message: From, To, Subject, Date, Message-ID and a multipart/alternative body.
fn build_message(
    config: &EmailConfig,
    message: &EmailMessage,
    now: i64,
) -> Result<Message, DeliveryError> {
    let from: Mailbox = config.from.trim().parse().map_err(|e| {
        tracing::warn!(from = %config.from, error = %e, "the email From address is not valid");
        failure(Text::new("err-email-from-invalid"))
    })?;
    let to: Mailbox = message.to.trim().parse().map_err(|e| {
        tracing::warn!(to = %message.to, error = %e, "the email recipient address is not valid");
        failure(Text::new("err-email-to-invalid"))
    })?;
    let date = UNIX_EPOCH + Duration::from_secs(u64::try_from(now).unwrap_or(0));
    Message::builder()
        .from(from)
        .to(to)
        .subject(message.subject.clone())
        .date(date)
        .message_id(None)
        .multipart(MultiPart::alternative_plain_html(
            message.text.clone(),
            message.html.clone(),
        ))
        .map_err(|e| {
            tracing::warn!(error = %e, "cannot build the email");
            failure(Text::new("err-email-build"))
        })
}

fn failure(problem: Text) -> DeliveryError {
    DeliveryError::new(Text::new("err-email-not-sent").arg("problem", problem))
}

/// What went wrong, as the end of a sentence, and whether another attempt may succeed.
fn classify(error: &smtp::Error) -> (Text, bool) {
    if let Some(code) = error.status() {
        let code = code.to_string();
        return if error.is_transient() {
            (Text::new("err-email-server-busy"), true)
        } else if code == "530" {
            (Text::new("err-email-auth-required"), false)
        } else if code == "535" || code == "534" {
            (Text::new("err-email-auth-refused"), false)
        } else {
            (Text::new("err-email-refused"), false)
        };
    }
    if error.is_tls() {
        return (tls_failed(), false);
    }
    if error.is_client() {
        // lettre's client errors are fixed sentences; these two are configuration mistakes.
        let text = error.to_string();
        return if text.contains("STARTTLS") {
            (Text::new("err-email-no-starttls"), false)
        } else if text.contains("authentication mechanism") {
            (Text::new("err-email-no-auth"), false)
        } else {
            (Text::new("err-email-cannot-take"), false)
        };
    }
    if error.is_response() {
        return (Text::new("err-email-bad-answer"), false);
    }
    if error.is_timeout() {
        return (no_answer(), true);
    }
    // A connection or network error: tokio-rustls reports a failed handshake (an untrusted
    // certificate, a server that does not speak TLS) as `InvalidData`.
    if has_io_kind(error, io::ErrorKind::InvalidData) {
        (tls_failed(), false)
    } else {
        (no_answer(), true)
    }
}

fn no_answer() -> Text {
    Text::new("err-email-no-answer")
}

fn tls_failed() -> Text {
    Text::new("err-email-tls-failed")
}
