//! The Auth API as PyPI `duo_client` 5.7 (`Auth`) calls it: signed requests, the check,
//! preauth, pushes with their polling, and passcodes.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, DATE};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use twofold_core::duo::{AuthOutcome, DuoAuthConfig, DuoError, Preauth};

use super::DuoClient;
use super::http::{base_url, not_understood, refused};
use super::signature::{SignedRequest, canon_json, canon_params, http_date, sign_v5};
use crate::ATTEMPT_TIMEOUT;
use crate::sigv4::form_encode;

/// The pause between two `auth_status` polls (Duo long-polls, so this is only a floor).
const POLL_PAUSE: Duration = Duration::from_millis(500);

impl DuoClient {
    /// A signed Auth API call; Duo's `response` when it says `stat: OK`.
    pub(super) async fn api_call(
        &self,
        config: &DuoAuthConfig,
        method: Method,
        path: &'static str,
        params: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<Value, DuoError> {
        let base = base_url(&config.api_host)?;
        if config.ikey.trim().is_empty() || config.skey.is_empty() {
            return Err(DuoError::Refused(
                "The Duo Auth API integration key and secret key are not set.".into(),
            ));
        }
        let host = base.host_str().unwrap_or_default().to_ascii_lowercase();
        let date = http_date(self.clock.now());
        let mut url = base.clone();
        url.set_path(path);
        let (canonical_params, body) = if method == Method::GET {
            let query = form_encode(params);
            url.set_query(Some(&query));
            (canon_params(params), String::new())
        } else {
            let object: BTreeMap<&str, &str> = params.iter().copied().collect();
            (String::new(), canon_json(&object))
        };
        let authorization = sign_v5(
            config.ikey.trim(),
            config.skey.as_bytes(),
            &SignedRequest {
                date: &date,
                method: method.as_str(),
                host: &host,
                path,
                params: &canonical_params,
                body: &body,
            },
        );
        let mut request = self
            .client
            .request(method.clone(), url)
            .timeout(timeout)
            .header(DATE, &date)
            .header(AUTHORIZATION, authorization);
        if method != Method::GET {
            request = request.header(CONTENT_TYPE, "application/json").body(body);
        }
        let (status, answer) = self.exchange(path, request).await?;
        let answer: Option<Value> = serde_json::from_slice(&answer).ok();
        if status != StatusCode::OK {
            tracing::warn!(call = path, %status, "Duo refused the request");
            return Err(refused(status, answer.as_ref()));
        }
        match answer {
            Some(Value::Object(mut fields)) if fields.get("stat") == Some(&json!("OK")) => {
                match fields.remove("response") {
                    Some(response @ Value::Object(_)) => Ok(response),
                    _ => Err(not_understood(path)),
                }
            }
            _ => Err(not_understood(path)),
        }
    }

    async fn auth(
        &self,
        config: &DuoAuthConfig,
        params: &[(&str, &str)],
    ) -> Result<Value, DuoError> {
        self.api_call(
            config,
            Method::POST,
            "/auth/v2/auth",
            params,
            ATTEMPT_TIMEOUT,
        )
        .await
    }

    /// Polls `/auth/v2/auth_status` until the push is answered.
    async fn poll(
        &self,
        config: &DuoAuthConfig,
        txid: &str,
        request_timeout: Duration,
    ) -> Result<AuthOutcome, DuoError> {
        loop {
            let status = self
                .api_call(
                    config,
                    Method::GET,
                    "/auth/v2/auth_status",
                    &[("txid", txid)],
                    request_timeout,
                )
                .await?;
            if status.get("result") == Some(&json!("waiting")) {
                tokio::time::sleep(POLL_PAUSE).await;
                continue;
            }
            return auth_outcome(&status, "/auth/v2/auth_status");
        }
    }

    /// [`Duo::auth_check`](twofold_core::duo::Duo::auth_check).
    pub(super) async fn api_check(&self, config: &DuoAuthConfig) -> Result<(), DuoError> {
        let response = self
            .api_call(config, Method::GET, "/auth/v2/check", &[], ATTEMPT_TIMEOUT)
            .await?;
        if response.get("time").is_some_and(Value::is_number) {
            Ok(())
        } else {
            Err(not_understood("/auth/v2/check"))
        }
    }

    /// [`Duo::preauth`](twofold_core::duo::Duo::preauth).
    pub(super) async fn api_preauth(
        &self,
        config: &DuoAuthConfig,
        username: &str,
    ) -> Result<Preauth, DuoError> {
        check_username(username)?;
        let response = self
            .api_call(
                config,
                Method::POST,
                "/auth/v2/preauth",
                &[("username", username)],
                ATTEMPT_TIMEOUT,
            )
            .await?;
        match response.get("result").and_then(Value::as_str) {
            Some("auth") => Ok(Preauth::Auth),
            Some("allow") => Ok(Preauth::Allow),
            Some("deny") => Ok(Preauth::Deny(status_msg(&response))),
            Some("enroll") => Ok(Preauth::Enroll),
            _ => Err(not_understood("/auth/v2/preauth")),
        }
    }

    /// [`Duo::push`](twofold_core::duo::Duo::push).
    pub(super) async fn api_push(
        &self,
        config: &DuoAuthConfig,
        username: &str,
        timeout: Duration,
    ) -> Result<AuthOutcome, DuoError> {
        check_username(username)?;
        let started = self
            .auth(
                config,
                &[
                    ("async", "1"),
                    ("device", "auto"),
                    ("factor", "push"),
                    ("username", username),
                ],
            )
            .await?;
        let Some(txid) = started.get("txid").and_then(Value::as_str) else {
            // A user Duo answers at once (bypass, locked out) gets a result, not a transaction.
            return auth_outcome(&started, "/auth/v2/auth");
        };
        // Duo long-polls auth_status: a request may wait as long as the push itself.
        let request_timeout = timeout.saturating_add(ATTEMPT_TIMEOUT);
        match tokio::time::timeout(timeout, self.poll(config, txid, request_timeout)).await {
            Ok(outcome) => outcome,
            Err(_) => Ok(AuthOutcome::Timeout),
        }
    }

    /// [`Duo::passcode`](twofold_core::duo::Duo::passcode).
    pub(super) async fn api_passcode(
        &self,
        config: &DuoAuthConfig,
        username: &str,
        passcode: &str,
    ) -> Result<AuthOutcome, DuoError> {
        check_username(username)?;
        if passcode.is_empty() {
            return Ok(AuthOutcome::Deny("The passcode is empty.".into()));
        }
        let response = self
            .auth(
                config,
                &[
                    ("async", "0"),
                    ("factor", "passcode"),
                    ("passcode", passcode),
                    ("username", username),
                ],
            )
            .await?;
        auth_outcome(&response, "/auth/v2/auth")
    }
}

fn check_username(username: &str) -> Result<(), DuoError> {
    if username.is_empty() {
        return Err(DuoError::Refused("The Duo user name is empty.".into()));
    }
    Ok(())
}

/// Duo's `status_msg`, or a plain default.
fn status_msg(response: &Value) -> String {
    response
        .get("status_msg")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or("Duo denied the login.")
        .to_owned()
}

/// The outcome of an `/auth/v2/auth` or `/auth/v2/auth_status` answer.
fn auth_outcome(response: &Value, call: &str) -> Result<AuthOutcome, DuoError> {
    match response.get("result").and_then(Value::as_str) {
        Some("allow") => Ok(AuthOutcome::Allow),
        Some("deny") if response.get("status") == Some(&json!("timeout")) => {
            Ok(AuthOutcome::Timeout)
        }
        Some("deny") => Ok(AuthOutcome::Deny(status_msg(response))),
        _ => Err(not_understood(call)),
    }
}
