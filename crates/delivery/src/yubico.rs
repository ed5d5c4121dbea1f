//! A client of Yubico validation protocol 2.0, for `methods.yubikey.mode = server`: the
//! [`YubicoVerifier`] port of `twofold-core` over one reqwest client (rustls). The messages and
//! their signatures are `twofold_otp::wsapi`'s.

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Client, Url};
use twofold_core::yubico::{YubicoRefusal, YubicoServerConfig, YubicoVerifier};
use twofold_otp::wsapi::{self, ClientRequest, Status, WsapiError};
use twofold_otp::yubico::Counter;

use crate::{ATTEMPT_TIMEOUT, ErrorChain, SetupError, has_io_kind};

/// The nonce's length: 32 letters and digits (the protocol allows 16 to 40).
const NONCE_LEN: usize = 32;
/// The largest answer read; a real one is about 250 bytes.
const MAX_ANSWER: usize = 4096;
/// The longest OTP sent (a Yubico OTP is 32 to 64 characters, 44 usually).
const MAX_OTP: usize = 64;

/// Verifies Yubico OTPs with validation servers, one after another.
pub struct YubicoClient {
    client: Client,
    timeout: Duration,
}

impl fmt::Debug for YubicoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("YubicoClient")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl YubicoClient {
    /// A client that trusts the PEM certificates in `extra_ca_pem` (the contents of
    /// `TWOFOLD_EXTRA_CA_FILE`) beside the system's roots, and gives each server 5 seconds.
    ///
    /// # Errors
    ///
    /// [`SetupError::ExtraCa`] when `extra_ca_pem` holds no PEM certificate,
    /// [`SetupError::HttpClient`] when the HTTP client cannot be built.
    pub fn new(extra_ca_pem: Option<Vec<u8>>) -> Result<Self, SetupError> {
        let client = crate::http_client(extra_ca_pem, ATTEMPT_TIMEOUT, false)?;
        Ok(YubicoClient {
            client,
            timeout: ATTEMPT_TIMEOUT,
        })
    }

    /// Gives each server `timeout` (the whole request: connection, TLS, answer) instead of 5 s.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Asks one server. `Err(None)`: no usable answer, try the next one.
    async fn ask(
        &self,
        server: &Url,
        client_id: u64,
        key: &[u8],
        otp: &str,
    ) -> Result<(Status, Option<Counter>), Option<YubicoRefusal>> {
        let host = server.host_str().unwrap_or_default();
        let nonce = nonce().ok_or_else(|| {
            Some(YubicoRefusal::Misconfigured(
                "Twofold could not make a random nonce.".into(),
            ))
        })?;
        let request = ClientRequest::new(client_id, otp, &nonce).with_counters();
        let mut url = server.clone();
        url.set_query(Some(&request.query(key)));

        let response = match self.client.get(url).timeout(self.timeout).send().await {
            Ok(response) => response,
            Err(e) => {
                // The URL holds the OTP and the signature: keep it out of the log.
                let e = e.without_url();
                let tls = e.is_connect() && has_io_kind(&e, io::ErrorKind::InvalidData);
                tracing::warn!(
                    host,
                    timeout = e.is_timeout(),
                    tls,
                    error = %ErrorChain(&e),
                    "the YubiKey validation server did not answer"
                );
                return Err(None);
            }
        };
        let status = response.status();
        if !status.is_success() {
            tracing::warn!(host, %status, "the YubiKey validation server answered an HTTP error");
            return Err(None);
        }
        let Some(body) = read_capped(response).await else {
            tracing::warn!(
                host,
                "the YubiKey validation server's answer could not be read"
            );
            return Err(None);
        };
        let answer = match wsapi::parse_response(&body) {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(host, error = %e, "the YubiKey validation server's answer is not of the protocol");
                return Err(None);
            }
        };
        if let Err(e) = answer.check(&request, key) {
            tracing::warn!(
                host,
                error = %e,
                status = answer.status_text(),
                "the YubiKey validation server's answer failed its checks"
            );
            return Err(Some(match e {
                WsapiError::NonceMismatch => YubicoRefusal::NonceMismatch,
                WsapiError::OtpMismatch => YubicoRefusal::OtpMismatch,
                _ => YubicoRefusal::BadSignature,
            }));
        }
        let counter = match (
            answer.get("sessioncounter").and_then(|v| v.parse().ok()),
            answer.get("sessionuse").and_then(|v| v.parse().ok()),
        ) {
            (Some(use_counter), Some(session_counter)) => Some(Counter {
                use_counter,
                session_counter,
            }),
            _ => None,
        };
        match answer.status() {
            Some(status) => Ok((status, counter)),
            None => Err(Some(YubicoRefusal::Status(answer.status_text().to_owned()))),
        }
    }
}

#[async_trait]
impl YubicoVerifier for YubicoClient {
    async fn verify(
        &self,
        config: &YubicoServerConfig,
        otp: &str,
    ) -> Result<Option<Counter>, YubicoRefusal> {
        let client_id = config
            .client_id
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| {
                YubicoRefusal::Misconfigured("the client id is not a positive number.".into())
            })?;
        if config.servers.is_empty() {
            return Err(YubicoRefusal::Misconfigured(
                "no validation server is configured.".into(),
            ));
        }
        let servers = config
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| {
                server_url(s).ok_or_else(|| {
                    YubicoRefusal::Misconfigured(format!(
                        "validation server {} is not an https:// URL (plain http:// is allowed \
                         only to this machine).",
                        i + 1
                    ))
                })
            })
            .collect::<Result<Vec<Url>, _>>()?;
        if otp.is_empty() || otp.len() > MAX_OTP || !otp.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(YubicoRefusal::Status(Status::BadOtp.as_str().to_owned()));
        }

        let mut last = None;
        for server in &servers {
            match self.ask(server, client_id, &config.api_key, otp).await {
                Ok((Status::Ok, counter)) => return Ok(counter),
                // A server-side failure: another server may do better.
                Ok((Status::BackendError, _)) => {
                    last = Some(YubicoRefusal::Status(Status::BackendError.as_str().into()));
                }
                // A checked verdict is final.
                Ok((status, _)) => return Err(YubicoRefusal::Status(status.as_str().to_owned())),
                Err(Some(refusal)) => return Err(refusal),
                Err(None) => {}
            }
        }
        Err(last.unwrap_or(YubicoRefusal::Unreachable))
    }
}

/// A server's verify URL: `https://…`, or `http://…` to a loopback address.
fn server_url(text: &str) -> Option<Url> {
    let url = Url::parse(text.trim()).ok()?;
    let host = url.host_str()?;
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Some(url),
        "http" if loopback => Some(url),
        _ => None,
    }
}

/// 32 random letters and digits.
fn nonce() -> Option<String> {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut nonce = String::with_capacity(NONCE_LEN);
    while nonce.len() < NONCE_LEN {
        let mut bytes = [0u8; 64];
        if let Err(e) = getrandom::fill(&mut bytes) {
            tracing::error!(error = %e, "the random source failed");
            return None;
        }
        // 248 = 4 × 62: below it, `b % 62` is uniform.
        for b in bytes.into_iter().filter(|b| *b < 248) {
            if nonce.len() == NONCE_LEN {
                break;
            }
            nonce.push(char::from(ALPHABET[usize::from(b % 62)]));
        }
    }
    Some(nonce)
}

/// The body as text, if it is UTF-8 and at most [`MAX_ANSWER`] bytes.
async fn read_capped(mut response: reqwest::Response) -> Option<String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn nonces_are_fresh_and_valid() {
        let a = nonce().unwrap();
        let b = nonce().unwrap();
        assert!(wsapi::is_valid_nonce(&a), "{a}");
        assert_eq!(a.len(), NONCE_LEN);
        assert_ne!(a, b);
    }

    #[test]
    fn server_urls() {
        for good in [
            "https://api.yubico.com/wsapi/2.0/verify",
            " https://yk.example.org:8443/wsapi/2.0/verify ",
            "http://127.0.0.1:8000/wsapi/2.0/verify",
            "http://[::1]/verify",
            "http://localhost/verify",
        ] {
            assert!(server_url(good).is_some(), "{good}");
        }
        for bad in [
            "http://api.yubico.com/wsapi/2.0/verify",
            "http://10.0.0.1/verify",
            "ftp://127.0.0.1/",
            "api.yubico.com/wsapi/2.0/verify",
            "",
        ] {
            assert!(server_url(bad).is_none(), "{bad}");
        }
    }
}
