//! SMS: the `SmsSender` port for the outbox folder, a signed webhook, Twilio's Messages API and
//! AWS SNS `Publish`, over one reqwest client (rustls).

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Client, RequestBuilder, Url};
use twofold_core::clock::{Clock, SystemClock};
use twofold_core::delivery::{DeliveryError, SmsConfig, SmsSender};
use twofold_core::i18n::Text;

use crate::outbox::Outbox;
use crate::sigv4::{Signer, form_encode, hmac_sha256, uri_encode};
use crate::{ATTEMPT_TIMEOUT, ErrorChain, SetupError, has_io_kind, hex};

/// The header that carries the webhook signature: `sha256=<hex HMAC-SHA256(secret, body)>`.
pub const WEBHOOK_SIGNATURE_HEADER: &str = "X-Twofold-Signature";

const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Sends SMS through the configured provider, or writes it to the outbox folder.
pub struct SmsGateway {
    outbox: Outbox,
    client: Client,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsGateway")
            .field("outbox", &self.outbox)
            .finish_non_exhaustive()
    }
}

impl SmsGateway {
    /// A gateway that writes to `outbox_dir` for the provider `outbox` and trusts the PEM
    /// certificates in `extra_ca_pem` (the contents of `TWOFOLD_EXTRA_CA_FILE`) beside the
    /// system's roots for HTTPS.
    ///
    /// # Errors
    ///
    /// [`SetupError::ExtraCa`] when `extra_ca_pem` holds no PEM certificate,
    /// [`SetupError::HttpClient`] when the HTTP client cannot be built.
    pub fn new(outbox_dir: PathBuf, extra_ca_pem: Option<Vec<u8>>) -> Result<Self, SetupError> {
        let client = crate::http_client(extra_ca_pem, ATTEMPT_TIMEOUT, false)?;
        Ok(SmsGateway {
            outbox: Outbox::new(outbox_dir),
            client,
            clock: Arc::new(SystemClock),
        })
    }

    /// Uses `clock` for SigV4 dates and the outbox file names.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    async fn webhook(&self, url: &str, secret: &str, to: &str, text: &str) -> Outcome {
        let url = parse_url("webhook", url)?;
        // Written by hand to keep the documented key order; each value is a JSON string.
        let body = format!(
            r#"{{"to":{},"message":{}}}"#,
            serde_json::Value::from(to),
            serde_json::Value::from(text)
        );
        let signature = format!(
            "sha256={}",
            hex(&hmac_sha256(secret.as_bytes(), body.as_bytes()))
        );
        self.post("webhook", || {
            self.client
                .post(url.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(WEBHOOK_SIGNATURE_HEADER, &signature)
                .body(body.clone())
        })
        .await
    }

    async fn twilio(
        &self,
        account_sid: &str,
        auth_token: &str,
        from: &str,
        api_base: &str,
        to: &str,
        text: &str,
    ) -> Outcome {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            api_base.trim().trim_end_matches('/'),
            uri_encode(account_sid, false)
        );
        let url = parse_url("twilio", &url)?;
        let body = form_encode(&[("To", to), ("From", from), ("Body", text)]);
        self.post("twilio", || {
            self.client
                .post(url.clone())
                .basic_auth(account_sid, Some(auth_token))
                .header(CONTENT_TYPE, FORM)
                .body(body.clone())
        })
        .await
    }

    async fn sns(&self, signer: &Signer<'_>, endpoint: &str, to: &str, text: &str) -> Outcome {
        let endpoint = endpoint.trim();
        let url = if endpoint.is_empty() {
            let region = signer.region;
            if region.is_empty()
                || !region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(DeliveryError::new(Text::new("err-sms-region-invalid")));
            }
            format!("https://sns.{region}.amazonaws.com/")
        } else {
            endpoint.to_owned()
        };
        let url = parse_url("sns", &url)?;
        let body = form_encode(&[
            ("Action", "Publish"),
            ("PhoneNumber", to),
            ("Message", text),
            ("Version", "2010-03-31"),
        ]);
        self.post("sns", || {
            // Signed at each attempt, so a retry carries a fresh date.
            let signature = signer.sign(
                "POST",
                &url,
                &[("content-type", FORM)],
                body.as_bytes(),
                self.clock.now(),
            );
            self.client
                .post(url.clone())
                .header(CONTENT_TYPE, FORM)
                .header("x-amz-date", signature.amz_date)
                .header(AUTHORIZATION, signature.authorization)
                .body(body.clone())
        })
        .await
    }

    /// Sends the request `make` builds; once more after a failure that may pass (no answer, a
    /// 5xx), never after a refusal (a 4xx).
    async fn post(&self, provider: &'static str, make: impl Fn() -> RequestBuilder) -> Outcome {
        let mut attempt = 1;
        loop {
            let (error, retry) = match make().send().await {
                Ok(response) if response.status().is_success() => {
                    tracing::info!(provider, status = %response.status(), "SMS sent");
                    return Ok(());
                }
                Ok(response) => {
                    let status = response.status();
                    tracing::warn!(provider, attempt, %status, "the SMS provider refused the message");
                    let error = if status.is_server_error() {
                        Text::new("err-sms-provider-failed").arg("status", status.as_u16())
                    } else {
                        Text::new("err-sms-provider-refused").arg("status", status.as_u16())
                    };
                    (error, status.is_server_error())
                }
                Err(e) => {
                    // The URL may carry a token (a webhook's query string): keep it out of logs.
                    let e = e.without_url();
                    tracing::warn!(provider, attempt, error = %ErrorChain(&e), "sending SMS failed");
                    classify(&e)
                }
            };
            if retry && attempt == 1 {
                attempt += 1;
                continue;
            }
            return Err(DeliveryError::new(error));
        }
    }
}

type Outcome = Result<(), DeliveryError>;

#[async_trait]
impl SmsSender for SmsGateway {
    async fn send(&self, config: &SmsConfig, to: &str, text: &str) -> Result<(), DeliveryError> {
        let to = to.trim();
        if !is_e164(to) {
            tracing::warn!("SMS to a number not in E.164 format");
            return Err(DeliveryError::new(Text::new("err-sms-number-invalid")));
        }
        match config {
            SmsConfig::Outbox => self
                .outbox
                .write(
                    self.clock.now(),
                    "sms",
                    format!("To: {to}\n\n{text}\n").into_bytes(),
                )
                .await
                .map(|_| ()),
            SmsConfig::Webhook { url, secret } => self.webhook(url, secret, to, text).await,
            SmsConfig::Twilio {
                account_sid,
                auth_token,
                from,
                api_base,
            } => {
                self.twilio(account_sid, auth_token, from, api_base, to, text)
                    .await
            }
            SmsConfig::Sns {
                region,
                access_key_id,
                secret_access_key,
                endpoint,
            } => {
                let signer = Signer {
                    access_key_id,
                    secret_access_key,
                    region: region.trim(),
                    service: "sns",
                };
                self.sns(&signer, endpoint, to, text).await
            }
        }
    }
}

/// `+` then 2 to 15 digits, the first not 0 (ITU-T E.164).
fn is_e164(number: &str) -> bool {
    let Some(digits) = number.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

fn parse_url(provider: &str, url: &str) -> Result<Url, DeliveryError> {
    match Url::parse(url.trim()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => Ok(url),
        _ => {
            tracing::warn!(provider, "the SMS provider URL is not a valid http(s) URL");
            Err(DeliveryError::new(Text::new("err-sms-url-invalid")))
        }
    }
}

/// The sentence for a request that got no HTTP answer, and whether to try again.
fn classify(error: &reqwest::Error) -> (Text, bool) {
    let sentence = if error.is_timeout() {
        Text::new("err-sms-no-answer")
    } else if error.is_connect() && has_io_kind(error, io::ErrorKind::InvalidData) {
        // A failed TLS handshake (an untrusted certificate, a server that does not speak TLS).
        return (Text::new("err-sms-tls-failed"), false);
    } else if error.is_connect() {
        Text::new("err-sms-unreachable")
    } else {
        Text::new("err-sms-connection-failed")
    };
    (sentence, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164() {
        for good in ["+15550100", "+447700900123", "+12"] {
            assert!(is_e164(good), "{good}");
        }
        for bad in [
            "15550100",
            "+",
            "+1",
            "+0123",
            "+1555-0100",
            "+1234567890123456",
            " +1",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }
}
