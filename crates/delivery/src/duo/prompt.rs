//! The Universal Prompt (OIDC) as PyPI `duo_universal` 2.3 speaks it: client assertions, the
//! health check, the authorization URL and the code exchange with its `id_token` check.

use reqwest::header::CONTENT_TYPE;
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};
use twofold_core::duo::{DuoError, DuoWebConfig};

use super::DuoClient;
use super::http::{base_url, not_understood, refused};
use super::jwt::{Expected, jwt_hs512, verify_id_token};
use crate::hex;
use crate::sigv4::form_encode;

/// How long the JWTs Twofold signs live (Duo refuses more than five minutes).
const JWT_LIFETIME: i64 = 300;
/// What `duo_universal` checks of a client ID and secret.
const CLIENT_ID_LENGTH: usize = 20;
const CLIENT_SECRET_LENGTH: usize = 40;
/// What Duo accepts as `state` and `nonce`.
const STATE_LENGTHS: std::ops::RangeInclusive<usize> = 16..=1024;
/// `client_assertion_type` of the token request.
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const FORM: &str = "application/x-www-form-urlencoded";

impl DuoClient {
    /// The client assertion for `endpoint`: HS512 under the client secret.
    fn client_assertion(&self, config: &DuoWebConfig, endpoint: &str) -> Result<String, DuoError> {
        let now = self.clock.now();
        let claims = json!({
            "iss": config.client_id,
            "sub": config.client_id,
            "aud": endpoint,
            "exp": now + JWT_LIFETIME,
            "iat": now,
            "jti": random_id()?,
        });
        Ok(jwt_hs512(&claims, config.client_secret.as_bytes()))
    }

    /// [`Duo::health_check`](twofold_core::duo::Duo::health_check).
    pub(super) async fn web_health_check(&self, config: &DuoWebConfig) -> Result<(), DuoError> {
        let endpoint = web_endpoint(config, "/oauth/v1/health_check")?;
        let assertion = self.client_assertion(config, endpoint.as_str())?;
        let body = form_encode(&[
            ("client_assertion", &assertion),
            ("client_id", &config.client_id),
        ]);
        let request = self
            .client
            .post(endpoint)
            .header(CONTENT_TYPE, FORM)
            .body(body);
        let (status, answer) = self.exchange("/oauth/v1/health_check", request).await?;
        let answer: Option<Value> = serde_json::from_slice(&answer).ok();
        if status != StatusCode::OK {
            tracing::warn!(%status, "Duo refused the health check");
            return Err(refused(status, answer.as_ref()));
        }
        match answer {
            Some(answer) if answer.get("stat") == Some(&json!("OK")) => Ok(()),
            _ => Err(not_understood("/oauth/v1/health_check")),
        }
    }

    /// [`Duo::authorize_url`](twofold_core::duo::Duo::authorize_url).
    pub(super) fn web_authorize_url(
        &self,
        config: &DuoWebConfig,
        duo_username: &str,
        state: &str,
        nonce: &str,
        redirect_uri: &str,
    ) -> Result<String, DuoError> {
        let mut url = web_endpoint(config, "/oauth/v1/authorize")?;
        if duo_username.is_empty() {
            return Err(DuoError::Refused("The Duo user name is empty.".into()));
        }
        if !STATE_LENGTHS.contains(&state.len()) || !STATE_LENGTHS.contains(&nonce.len()) {
            return Err(DuoError::Refused(
                "The Duo state and nonce must be 16 to 1024 characters long.".into(),
            ));
        }
        let redirect = Url::parse(redirect_uri).ok();
        if !redirect.is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
            return Err(DuoError::Refused(
                "The Duo redirect URI is not a valid http(s) URL.".into(),
            ));
        }
        // `https://{api_host}`, the audience duo_universal gives the request.
        let origin = url.origin().ascii_serialization();
        // The claims duo_universal's create_auth_url signs; the nonce travels beside them.
        let claims = json!({
            "scope": "openid",
            "redirect_uri": redirect_uri,
            "client_id": config.client_id,
            "iss": config.client_id,
            "aud": origin,
            "exp": self.clock.now() + JWT_LIFETIME,
            "state": state,
            "response_type": "code",
            "duo_uname": duo_username,
            "use_duo_code_attribute": true,
        });
        let request = jwt_hs512(&claims, config.client_secret.as_bytes());
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &config.client_id)
            .append_pair("request", &request)
            .append_pair("nonce", nonce);
        Ok(url.into())
    }

    /// [`Duo::exchange_code`](twofold_core::duo::Duo::exchange_code).
    pub(super) async fn web_exchange_code(
        &self,
        config: &DuoWebConfig,
        code: &str,
        redirect_uri: &str,
        expected_nonce: &str,
        expected_username: &str,
    ) -> Result<(), DuoError> {
        let endpoint = web_endpoint(config, "/oauth/v1/token")?;
        if code.is_empty() || expected_nonce.is_empty() || expected_username.is_empty() {
            return Err(DuoError::Invalid(
                "Duo's answer could not be verified: the code, nonce or user is missing.".into(),
            ));
        }
        let assertion = self.client_assertion(config, endpoint.as_str())?;
        // The fields duo_universal sends (it puts them in the query string; Duo takes the
        // form body the OAuth specification names, which keeps the assertion out of URLs).
        let body = form_encode(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", &config.client_id),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ]);
        let request = self
            .client
            .post(endpoint.clone())
            .header(CONTENT_TYPE, FORM)
            .body(body);
        let (status, answer) = self.exchange("/oauth/v1/token", request).await?;
        let answer: Option<Value> = serde_json::from_slice(&answer).ok();
        if status != StatusCode::OK {
            tracing::warn!(%status, "Duo refused the code exchange");
            return Err(refused(status, answer.as_ref()));
        }
        let Some(id_token) = answer
            .as_ref()
            .and_then(|a| a.get("id_token"))
            .and_then(Value::as_str)
        else {
            return Err(not_understood("/oauth/v1/token"));
        };
        let issuer = endpoint.as_str();
        let checked = verify_id_token(
            id_token,
            &Expected {
                secret: config.client_secret.as_bytes(),
                issuer,
                audience: &config.client_id,
                nonce: expected_nonce,
                username: expected_username,
                now: self.clock.now(),
            },
        );
        if let Err(e) = &checked {
            tracing::warn!(error = %e, "Duo's id_token was not accepted");
        }
        checked
    }
}

/// `https://{api_host}{path}` for the Web SDK application, whose keys are checked for shape first.
fn web_endpoint(config: &DuoWebConfig, path: &str) -> Result<Url, DuoError> {
    let mut url = base_url(&config.api_host)?;
    if config.client_id.chars().count() != CLIENT_ID_LENGTH
        || config.client_secret.chars().count() != CLIENT_SECRET_LENGTH
    {
        return Err(DuoError::Refused(
            "The Duo client ID must be 20 characters and the client secret 40.".into(),
        ));
    }
    url.set_path(path);
    Ok(url)
}

/// 36 random characters for a `jti`.
fn random_id() -> Result<String, DuoError> {
    let mut bytes = [0_u8; 18];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "the random source failed");
        DuoError::Refused("Twofold could not make a random value.".into())
    })?;
    Ok(hex(&bytes))
}
