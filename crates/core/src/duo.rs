//! The port to Duo Security: the Universal Prompt (Web SDK v4, an OIDC-style redirect) and the
//! Auth API (push and passcodes). The adapter lives in `twofold-delivery` (`DuoClient`); the core
//! hands it the configuration read from the settings at each call, so a change in the admin area
//! applies to the next login.
//!
//! Failures come in three kinds, because they call for different answers:
//! [`DuoError::Unreachable`] (Duo did not answer: the fail mode decides),
//! [`DuoError::Refused`] (Duo answered no, or the settings cannot be used) and
//! [`DuoError::Invalid`] (Duo's answer did not pass Twofold's checks: never let through).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

/// A Duo "Web SDK" application: the Universal Prompt in the browser.
#[derive(Clone, PartialEq, Eq)]
pub struct DuoWebConfig {
    /// Duo's API hostname, e.g. `api-xxxxxxxx.duosecurity.com` (a host name, optionally with a
    /// port; never a URL: Twofold always speaks HTTPS to it).
    pub api_host: String,
    /// The application's client ID (20 characters).
    pub client_id: String,
    /// The application's client secret (40 characters).
    pub client_secret: String,
}

impl fmt::Debug for DuoWebConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DuoWebConfig")
            .field("api_host", &self.api_host)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A Duo "Auth API" application: pushes and passcodes from the API and the CLI.
#[derive(Clone, PartialEq, Eq)]
pub struct DuoAuthConfig {
    /// Duo's API hostname (as in [`DuoWebConfig::api_host`]).
    pub api_host: String,
    /// The integration key.
    pub ikey: String,
    /// The secret key.
    pub skey: String,
}

impl fmt::Debug for DuoAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DuoAuthConfig")
            .field("api_host", &self.api_host)
            .field("ikey", &self.ikey)
            .finish_non_exhaustive()
    }
}

/// What Duo's `/auth/v2/preauth` says about a user (its `result`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preauth {
    /// The user must authenticate (push, passcode…).
    Auth,
    /// The user may pass without a second factor (bypass, or an unenrolled user allowed by
    /// policy).
    Allow,
    /// The user is not allowed in (locked out, denied by policy); Duo's `status_msg`.
    Deny(String),
    /// The user is not enrolled at Duo and must enrol first.
    Enroll,
}

/// The end of a push or a passcode check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Duo allows the login.
    Allow,
    /// Duo denies it (the user pressed Deny, a wrong passcode, a locked-out user); Duo's
    /// `status_msg`, a sentence for the user.
    Deny(String),
    /// The user did not answer the push in time.
    Timeout,
}

/// A Duo call failed. Each message is a plain sentence fit for an operator or a user; it never
/// holds a secret, a token or a passcode. The cause goes to the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DuoError {
    /// Duo did not answer: connection refused, timeout, TLS failure, HTTP 5xx. The fail mode
    /// decides what happens.
    #[error("{0}")]
    Unreachable(String),
    /// Duo answered no (HTTP 4xx, a signature or credential it refused, an error or a denial),
    /// or the settings cannot be used (an API hostname that is not a host name).
    #[error("{0}")]
    Refused(String),
    /// Duo's answer failed Twofold's checks: the `id_token`'s signature, issuer, audience,
    /// times, nonce or user, or a malformed answer. Never let through.
    #[error("{0}")]
    Invalid(String),
}

impl DuoError {
    /// The sentence.
    pub fn message(&self) -> &str {
        match self {
            DuoError::Unreachable(m) | DuoError::Refused(m) | DuoError::Invalid(m) => m,
        }
    }

    /// What went wrong, for a person, in their language: whether Duo could not be reached,
    /// refused, or answered what Twofold's checks refused (the details, in English, are for the
    /// log and the audit).
    pub fn text(&self) -> crate::i18n::Text {
        crate::i18n::Text::new(match self {
            DuoError::Unreachable(_) => "err-duo-why-unreachable",
            DuoError::Refused(_) => "err-duo-why-refused",
            DuoError::Invalid(_) => "err-duo-why-invalid",
        })
    }

    /// Whether Duo could not be reached (the fail mode applies).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, DuoError::Unreachable(_))
    }
}

/// Duo Security, both APIs.
#[async_trait]
pub trait Duo: Send + Sync {
    /// `POST /oauth/v1/health_check` with a client assertion: Duo is up and takes these keys.
    async fn health_check(&self, config: &DuoWebConfig) -> Result<(), DuoError>;

    /// The URL of the Universal Prompt for `duo_username` (`/oauth/v1/authorize` with a signed
    /// request JWT), where Duo sends the browser back to `redirect_uri` with `state` and
    /// `duo_code` (or `error`). `state` and `nonce`: 16 to 1024 characters, random, bound to the
    /// half-logged-in session.
    fn authorize_url(
        &self,
        config: &DuoWebConfig,
        duo_username: &str,
        state: &str,
        nonce: &str,
        redirect_uri: &str,
    ) -> Result<String, DuoError>;

    /// Exchanges the `duo_code` of the callback at `/oauth/v1/token` and verifies the `id_token`
    /// (signature, issuer, audience, times, `expected_nonce`, `expected_username`, and Duo's
    /// result). `Ok` only when the user passed Duo's second factor.
    async fn exchange_code(
        &self,
        config: &DuoWebConfig,
        code: &str,
        redirect_uri: &str,
        expected_nonce: &str,
        expected_username: &str,
    ) -> Result<(), DuoError>;

    /// `GET /auth/v2/check`: Duo is up and takes these keys.
    async fn auth_check(&self, config: &DuoAuthConfig) -> Result<(), DuoError>;

    /// `POST /auth/v2/preauth`: whether and how `username` may authenticate.
    async fn preauth(&self, config: &DuoAuthConfig, username: &str) -> Result<Preauth, DuoError>;

    /// Sends a push to `username`'s device and waits up to `timeout` for the answer.
    async fn push(
        &self,
        config: &DuoAuthConfig,
        username: &str,
        timeout: Duration,
    ) -> Result<AuthOutcome, DuoError>;

    /// Checks a passcode (Duo Mobile's code, a hardware token, an SMS passcode) for `username`.
    async fn passcode(
        &self,
        config: &DuoAuthConfig,
        username: &str,
        passcode: &str,
    ) -> Result<AuthOutcome, DuoError>;
}
