//! A client of Duo Security: the Universal Prompt (OIDC) endpoints and the Auth API, the
//! [`Duo`] port of `twofold-core` over one reqwest client (rustls, HTTPS only).
//!
//! The wire formats follow Duo's own client libraries: PyPI `duo_universal` 2.3 for the Universal
//! Prompt and PyPI `duo_client` 5.7 (`Auth`) for the Auth API, whose default is signature
//! version 5.
//!
//! `prompt` holds the Universal Prompt's calls and `auth_api` the Auth API's, which the [`Duo`]
//! implementation here forwards to; `http` the exchange both make, `signature` the Auth API's
//! request signatures and `jwt` the JWTs.

mod auth_api;
mod http;
mod jwt;
mod prompt;
mod signature;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Client;
use twofold_core::clock::{Clock, SystemClock};
use twofold_core::duo::{AuthOutcome, Duo, DuoAuthConfig, DuoError, DuoWebConfig, Preauth};

use crate::{ATTEMPT_TIMEOUT, SetupError};

/// Duo Security over HTTPS.
pub struct DuoClient {
    client: Client,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for DuoClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DuoClient").finish_non_exhaustive()
    }
}

impl DuoClient {
    /// A client that trusts the PEM certificates in `extra_ca_pem` (the contents of
    /// `TWOFOLD_EXTRA_CA_FILE`) beside the system's roots. It speaks HTTPS only.
    ///
    /// # Errors
    ///
    /// [`SetupError::ExtraCa`] when `extra_ca_pem` holds no PEM certificate,
    /// [`SetupError::HttpClient`] when the HTTP client cannot be built.
    pub fn new(extra_ca_pem: Option<Vec<u8>>) -> Result<Self, SetupError> {
        let client = crate::http_client(extra_ca_pem, ATTEMPT_TIMEOUT, true)?;
        Ok(DuoClient {
            client,
            clock: Arc::new(SystemClock),
        })
    }

    /// Uses `clock` for JWT times, `id_token` checks and request dates.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

#[async_trait]
impl Duo for DuoClient {
    async fn health_check(&self, config: &DuoWebConfig) -> Result<(), DuoError> {
        self.web_health_check(config).await
    }

    fn authorize_url(
        &self,
        config: &DuoWebConfig,
        duo_username: &str,
        state: &str,
        nonce: &str,
        redirect_uri: &str,
    ) -> Result<String, DuoError> {
        self.web_authorize_url(config, duo_username, state, nonce, redirect_uri)
    }

    async fn exchange_code(
        &self,
        config: &DuoWebConfig,
        code: &str,
        redirect_uri: &str,
        expected_nonce: &str,
        expected_username: &str,
    ) -> Result<(), DuoError> {
        self.web_exchange_code(
            config,
            code,
            redirect_uri,
            expected_nonce,
            expected_username,
        )
        .await
    }

    async fn auth_check(&self, config: &DuoAuthConfig) -> Result<(), DuoError> {
        self.api_check(config).await
    }

    async fn preauth(&self, config: &DuoAuthConfig, username: &str) -> Result<Preauth, DuoError> {
        self.api_preauth(config, username).await
    }

    async fn push(
        &self,
        config: &DuoAuthConfig,
        username: &str,
        timeout: Duration,
    ) -> Result<AuthOutcome, DuoError> {
        self.api_push(config, username, timeout).await
    }

    async fn passcode(
        &self,
        config: &DuoAuthConfig,
        username: &str,
        passcode: &str,
    ) -> Result<AuthOutcome, DuoError> {
        self.api_passcode(config, username, passcode).await
    }
}
