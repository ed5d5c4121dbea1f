//! A client of Duo Security: the Universal Prompt (OIDC) endpoints and the Auth API, the
//! [`Duo`] port of `twofold-core` over one reqwest client (rustls, HTTPS only).
//!
//! The wire formats follow Duo's own client libraries: PyPI `duo_universal` 2.3 for the Universal
//! Prompt and PyPI `duo_client` 5.7 (`Auth`) for the Auth API, whose default is signature
//! version 5.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, DATE};
use reqwest::{Client, Method, RequestBuilder, StatusCode, Url};
use serde_json::{Value, json};
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;
use twofold_core::clock::{Clock, SystemClock};
use twofold_core::duo::{AuthOutcome, Duo, DuoAuthConfig, DuoError, DuoWebConfig, Preauth};

use crate::sigv4::{form_encode, uri_encode};
use crate::{ATTEMPT_TIMEOUT, ErrorChain, SetupError, has_io_kind, hex};

/// How long the JWTs Twofold signs live (Duo refuses more than five minutes).
const JWT_LIFETIME: i64 = 300;
/// The clock skew allowed when checking an `id_token`'s `exp` and `iat` (as `duo_universal`).
const LEEWAY: f64 = 60.0;
/// What `duo_universal` checks of a client ID and secret.
const CLIENT_ID_LENGTH: usize = 20;
const CLIENT_SECRET_LENGTH: usize = 40;
/// What Duo accepts as `state` and `nonce`.
const STATE_LENGTHS: std::ops::RangeInclusive<usize> = 16..=1024;
/// `client_assertion_type` of the token request.
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The pause between two `auth_status` polls (Duo long-polls, so this is only a floor).
const POLL_PAUSE: Duration = Duration::from_millis(500);
/// The most of an answer that is read.
const MAX_ANSWER: usize = 64 * 1024;

const FORM: &str = "application/x-www-form-urlencoded";

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

    /// Sends `request` and reads the answer (at most [`MAX_ANSWER`] bytes); no answer or a 5xx
    /// is [`DuoError::Unreachable`]. `what` names the call in the log.
    async fn exchange(
        &self,
        what: &'static str,
        request: RequestBuilder,
    ) -> Result<(StatusCode, Vec<u8>), DuoError> {
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                // A URL may carry a transaction id: keep it out of the log.
                let e = e.without_url();
                tracing::warn!(call = what, error = %ErrorChain(&e), "Duo could not be reached");
                return Err(unreachable(&e));
            }
        };
        let status = response.status();
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > MAX_ANSWER {
                        tracing::warn!(call = what, %status, "Duo's answer is too long");
                        return Err(DuoError::Invalid(
                            "Duo's answer was not understood (too long).".into(),
                        ));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    let e = e.without_url();
                    tracing::warn!(call = what, error = %ErrorChain(&e), "Duo's answer broke off");
                    return Err(unreachable(&e));
                }
            }
        }
        if status.is_server_error() {
            tracing::warn!(call = what, %status, "Duo could not answer");
            return Err(DuoError::Unreachable(format!(
                "Duo could not answer (HTTP {}).",
                status.as_u16()
            )));
        }
        Ok((status, body))
    }

    /// A signed Auth API call; Duo's `response` when it says `stat: OK`.
    async fn api_call(
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
}

#[async_trait]
impl Duo for DuoClient {
    async fn health_check(&self, config: &DuoWebConfig) -> Result<(), DuoError> {
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

    fn authorize_url(
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

    async fn exchange_code(
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

    async fn auth_check(&self, config: &DuoAuthConfig) -> Result<(), DuoError> {
        let response = self
            .api_call(config, Method::GET, "/auth/v2/check", &[], ATTEMPT_TIMEOUT)
            .await?;
        if response.get("time").is_some_and(Value::is_number) {
            Ok(())
        } else {
            Err(not_understood("/auth/v2/check"))
        }
    }

    async fn preauth(&self, config: &DuoAuthConfig, username: &str) -> Result<Preauth, DuoError> {
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

    async fn push(
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

    async fn passcode(
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

// --- Requests -----------------------------------------------------------------------------------

/// `https://{api_host}/`: the API hostname must be a host name with an optional port, never a URL
/// (so never plain HTTP).
fn base_url(api_host: &str) -> Result<Url, DuoError> {
    let host = api_host.trim().to_ascii_lowercase();
    let bad = || {
        DuoError::Refused(
            "The Duo API hostname is not valid: give the host name only, like \
             api-xxxxxxxx.duosecurity.com."
                .into(),
        )
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return Err(bad());
    }
    let url = Url::parse(&format!("https://{host}/")).map_err(|_| bad())?;
    let rebuilt = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    // Anything the URL parser changed (a default port, an odd IP spelling) is not a plain host.
    if rebuilt != host {
        return Err(bad());
    }
    Ok(url)
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

fn check_username(username: &str) -> Result<(), DuoError> {
    if username.is_empty() {
        return Err(DuoError::Refused("The Duo user name is empty.".into()));
    }
    Ok(())
}

/// The error for a request that got no HTTP answer.
fn unreachable(error: &reqwest::Error) -> DuoError {
    let sentence = if error.is_timeout() {
        "Duo did not answer in time."
    } else if error.is_connect() && has_io_kind(error, io::ErrorKind::InvalidData) {
        "A secure connection to Duo could not be made."
    } else if error.is_connect() {
        "Duo could not be reached."
    } else {
        "The connection to Duo failed."
    };
    DuoError::Unreachable(sentence.into())
}

/// The error for a 4xx (or another unexpected status): Duo's `message` or OAuth `error` when it
/// is a short plain word or phrase.
fn refused(status: StatusCode, answer: Option<&Value>) -> DuoError {
    let reason = answer
        .and_then(|a| a.get("message").or_else(|| a.get("error")))
        .and_then(Value::as_str)
        .filter(|m| {
            !m.is_empty()
                && m.len() <= 80
                && m.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b" _-.,'".contains(&b))
        });
    DuoError::Refused(match reason {
        Some(reason) => format!(
            "Duo refused the request (HTTP {}: {reason}).",
            status.as_u16()
        ),
        None => format!("Duo refused the request (HTTP {}).", status.as_u16()),
    })
}

fn not_understood(call: &str) -> DuoError {
    tracing::warn!(call, "Duo's answer was not understood");
    DuoError::Invalid("Duo's answer was not understood.".into())
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

/// 36 random characters for a `jti`.
fn random_id() -> Result<String, DuoError> {
    let mut bytes = [0_u8; 18];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "the random source failed");
        DuoError::Refused("Twofold could not make a random value.".into())
    })?;
    Ok(hex(&bytes))
}

// --- Auth API signatures (duo_client's signature version 5) ------------------------------------

/// What signature version 5 covers.
struct SignedRequest<'a> {
    /// The `Date` header, RFC 2822.
    date: &'a str,
    method: &'a str,
    /// The API host name, lower case, without the port.
    host: &'a str,
    path: &'a str,
    /// [`canon_params`] of the query (empty for a JSON body).
    params: &'a str,
    /// The body (empty for GET).
    body: &'a str,
}

/// `Basic base64(ikey:hex(HMAC-SHA512(skey, canonical)))`, the canonical request being the date,
/// method, host, path, parameters, SHA-512 of the body and SHA-512 of the `X-Duo-*` headers
/// (none), one per line.
fn sign_v5(ikey: &str, skey: &[u8], request: &SignedRequest<'_>) -> String {
    let no_headers = hex(&Sha512::digest(b""));
    let canonical = [
        request.date,
        &request.method.to_ascii_uppercase(),
        &request.host.to_ascii_lowercase(),
        request.path,
        request.params,
        &hex(&Sha512::digest(request.body.as_bytes())),
        &no_headers,
    ]
    .join("\n");
    let signature = hex(&hmac_sha512(skey, canonical.as_bytes()));
    format!("Basic {}", STANDARD.encode(format!("{ikey}:{signature}")))
}

/// Parameters as `name=value&…`, each RFC 3986-encoded, sorted by name then value.
fn canon_params(params: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A JSON object as duo_client writes the body it signs: `json.dumps(params, sort_keys=True,
/// separators=(",", ":"))`, so sorted keys, no spaces and, like Python's default
/// `ensure_ascii`, every character outside ASCII's printable range as `\uXXXX` (UTF-16).
fn canon_json(object: &BTreeMap<&str, &str>) -> String {
    // serde_json writes a BTreeMap in key order, without spaces; only string contents can hold
    // characters past `~`.
    let json = serde_json::to_string(object).unwrap_or_default();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() && c != '\u{7f}' {
            out.push(c);
        } else {
            let mut units = [0_u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

/// The `Date` header as Python's `email.utils.formatdate()` writes it:
/// `Tue, 14 Nov 2023 22:13:20 -0000`.
fn http_date(now: i64) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day, hour, minute, second) = twofold_otp::text::utc_parts(now);
    let weekday = DAYS[usize::try_from(twofold_otp::text::weekday(now)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!("{weekday}, {day:02} {month} {year:04} {hour:02}:{minute:02}:{second:02} -0000")
}

// --- JWT (HS512) ---------------------------------------------------------------------------------

fn hmac_sha512(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = new_mac(key);
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn new_mac(key: &[u8]) -> Hmac<Sha512> {
    match <Hmac<Sha512> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length; this is never reached.
        Err(_) => <Hmac<Sha512> as KeyInit>::new(&Default::default()),
    }
}

/// A compact JWS of `claims`, HS512 under `secret`.
fn jwt_hs512(claims: &Value, secret: &[u8]) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(hmac_sha512(secret, signing_input.as_bytes()));
    format!("{signing_input}.{signature}")
}

/// What an `id_token` must say.
struct Expected<'a> {
    secret: &'a [u8],
    /// `https://{api_host}/oauth/v1/token`.
    issuer: &'a str,
    /// The client ID.
    audience: &'a str,
    nonce: &'a str,
    username: &'a str,
    now: i64,
}

/// Checks an `id_token` as `duo_universal` does, and Duo's result in it.
fn verify_id_token(token: &str, expected: &Expected<'_>) -> Result<(), DuoError> {
    let invalid = |what: &str| {
        DuoError::Invalid(format!(
            "Duo's answer could not be verified: the id_token's {what}."
        ))
    };
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid("format is wrong"));
    };
    let signing_input = &token[..header.len() + 1 + payload.len()];
    let header: Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or_else(|| invalid("header is malformed"))?;
    if header.get("alg") != Some(&json!("HS512")) {
        return Err(invalid("algorithm is not HS512"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| invalid("signature is malformed"))?;
    let mut mac = new_mac(expected.secret);
    mac.update(signing_input.as_bytes());
    // Constant-time comparison.
    mac.verify_slice(&signature)
        .map_err(|_| invalid("signature is not valid"))?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .filter(Value::is_object)
        .ok_or_else(|| invalid("claims are malformed"))?;

    if claims.get("iss").and_then(Value::as_str) != Some(expected.issuer) {
        return Err(invalid("issuer is not this Duo API host"));
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expected.audience,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected.audience)),
        _ => false,
    };
    if !audience_ok {
        return Err(invalid("audience is not this application"));
    }
    #[allow(clippy::cast_precision_loss)] // Unix seconds fit an f64 exactly.
    let now = expected.now as f64;
    let time = |name: &str| claims.get(name).and_then(Value::as_f64);
    match time("exp") {
        Some(exp) if exp > now - LEEWAY => {}
        Some(_) => return Err(invalid("time has expired")),
        None => return Err(invalid("expiry time is missing")),
    }
    match time("iat") {
        Some(iat) if iat <= now + LEEWAY => {}
        Some(_) => return Err(invalid("issue time is in the future")),
        None => return Err(invalid("issue time is missing")),
    }
    if claims.get("nbf").is_some() && !time("nbf").is_some_and(|nbf| nbf <= now + LEEWAY) {
        return Err(invalid("not-before time is in the future"));
    }
    let nonce = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
    if !bool::from(nonce.as_bytes().ct_eq(expected.nonce.as_bytes())) {
        return Err(invalid("nonce does not match this login"));
    }
    if claims.get("preferred_username").and_then(Value::as_str) != Some(expected.username) {
        return Err(invalid("user is not the one logging in"));
    }
    if let Some(result) = claims.get("auth_result")
        && result.get("result") != Some(&json!("allow"))
    {
        let message = result
            .get("status_msg")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty() && m.len() <= 200)
            .unwrap_or("the login was not approved");
        return Err(DuoError::Refused(format!(
            "Duo denied the login: {message}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    #[test]
    fn dates_as_python_formatdate() {
        assert_eq!(http_date(NOW), "Tue, 14 Nov 2023 22:13:20 -0000");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 -0000");
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 -0000");
    }

    /// Vectors computed with duo_client 5.7.0's `sign(…, sig_version=5)`.
    #[test]
    fn signature_v5_matches_duo_client() {
        let ikey = "DIWJ8X6AEYOR5OMC6TQ1";
        let skey = b"Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep";
        let date = http_date(NOW);
        let mut body = BTreeMap::new();
        body.insert("username", "alice");
        let post = sign_v5(
            ikey,
            skey,
            &SignedRequest {
                date: &date,
                method: "POST",
                host: "API-XXXXXXXX.duosecurity.com",
                path: "/auth/v2/preauth",
                params: "",
                body: &canon_json(&body),
            },
        );
        assert_eq!(
            post,
            "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6YTRmM2ExNDkxZDM2YWQwYjU0ODg3OWU5ODJhNzcyZWQ2MTEx\
             NGEyN2MxYmUzY2YyOWQ0MjdlZTBiOWFmZDJhZWIzMjAyMWY3YTE2OTcyNDEyZjNkOTZhNWEyNGQzNmQwOD\
             kwN2RjMDE4NmViNTc1ZGUwYWJjODViZWJiM2E0YTU="
        );
        let params = canon_params(&[
            ("txid", "45f7c92b-f45f-4862-8545-e0f58e78075a"),
            ("x y", "a/b~c d"),
        ]);
        let get = sign_v5(
            ikey,
            skey,
            &SignedRequest {
                date: &date,
                method: "GET",
                host: "api-xxxxxxxx.duosecurity.com",
                path: "/auth/v2/auth_status",
                params: &params,
                body: "",
            },
        );
        assert_eq!(
            get,
            "Basic RElXSjhYNkFFWU9SNU9NQzZUUTE6YTU1OTFjNDkyMzM4NmQwNGUxNThmMmRlYjYxYTRjZDE4Yzg0\
             MmExYjBhZThkZjM0NjM2ZTAxZmFkMmY2Y2M1ZDlmMzE2YjVkZGNkNjgyOTMzZWMyNzNmNmVhMmM3M2VlOT\
             U0MGZlNzc5MTVlMGZmZjE0YWIzYjA3NzNjYzMxMzQ="
        );
    }

    #[test]
    fn api_hosts() {
        for good in [
            "api-xxxxxxxx.duosecurity.com",
            " API-XXXXXXXX.duosecurity.com ",
            "127.0.0.1:8443",
            "localhost:1",
        ] {
            assert!(base_url(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "http://api-x.duosecurity.com",
            "https://api-x.duosecurity.com",
            "api-x.duosecurity.com/path",
            "user@api-x.duosecurity.com",
            "api-x.duosecurity.com:443",
            "api-x.duosecurity.com?x=1",
            "a b",
        ] {
            assert!(matches!(base_url(bad), Err(DuoError::Refused(_))), "{bad}");
        }
    }

    fn expected() -> Expected<'static> {
        Expected {
            secret: b"0123456789012345678901234567890123456789",
            issuer: "https://api-x.duosecurity.com/oauth/v1/token",
            audience: "DIXXXXXXXXXXXXXXXXXX",
            nonce: "nonce-nonce-nonce-nonce",
            username: "alice",
            now: NOW,
        }
    }

    fn claims() -> Value {
        json!({
            "iss": "https://api-x.duosecurity.com/oauth/v1/token",
            "aud": "DIXXXXXXXXXXXXXXXXXX",
            "exp": NOW + 300,
            "iat": NOW,
            "nonce": "nonce-nonce-nonce-nonce",
            "preferred_username": "alice",
            "auth_result": {"result": "allow", "status": "allow", "status_msg": "Login Successful"},
        })
    }

    fn with(change: impl FnOnce(&mut Value)) -> String {
        let mut claims = claims();
        change(&mut claims);
        jwt_hs512(&claims, expected().secret)
    }

    #[test]
    fn id_token_checks() {
        let e = expected();
        assert_eq!(verify_id_token(&with(|_| {}), &e), Ok(()));
        // Within the leeway.
        assert_eq!(
            verify_id_token(&with(|c| c["exp"] = json!(NOW - 59)), &e),
            Ok(())
        );
        assert_eq!(
            verify_id_token(&with(|c| c["aud"] = json!(["other", e.audience])), &e),
            Ok(())
        );
        let invalid: Vec<(&str, String)> = vec![
            (
                "iss",
                with(|c| c["iss"] = json!("https://other/oauth/v1/token")),
            ),
            ("aud", with(|c| c["aud"] = json!("DIOTHER"))),
            ("exp", with(|c| c["exp"] = json!(NOW - 61))),
            (
                "no exp",
                with(|c| drop(c.as_object_mut().unwrap().remove("exp"))),
            ),
            ("iat", with(|c| c["iat"] = json!(NOW + 61))),
            (
                "no iat",
                with(|c| drop(c.as_object_mut().unwrap().remove("iat"))),
            ),
            ("nbf", with(|c| c["nbf"] = json!(NOW + 600))),
            (
                "nonce",
                with(|c| c["nonce"] = json!("another-nonce-xxxxxxx")),
            ),
            (
                "no nonce",
                with(|c| drop(c.as_object_mut().unwrap().remove("nonce"))),
            ),
            ("user", with(|c| c["preferred_username"] = json!("mallory"))),
            (
                "secret",
                jwt_hs512(&claims(), b"another secret another secret another s"),
            ),
            ("garbage", "a.b.c".to_owned()),
            ("two parts", "a.b".to_owned()),
        ];
        for (what, token) in invalid {
            assert!(
                matches!(verify_id_token(&token, &e), Err(DuoError::Invalid(_))),
                "{what}"
            );
        }
        // A changed payload under the old signature.
        let good = with(|_| {});
        let mut parts: Vec<&str> = good.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(with(|c| c["preferred_username"] = json!("alice2")));
        parts[1] = &other;
        assert!(matches!(
            verify_id_token(&parts.join("."), &e),
            Err(DuoError::Invalid(_))
        ));
        // The same signature bytes spelled with stray bits in the last character.
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let last = good.chars().last().unwrap();
        let index = alphabet.find(last).unwrap();
        let stray = alphabet.chars().nth(index ^ 1).unwrap();
        let respelled = format!("{}{stray}", &good[..good.len() - 1]);
        assert!(matches!(
            verify_id_token(&respelled, &e),
            Err(DuoError::Invalid(_))
        ));
        // alg none.
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
        assert!(matches!(
            verify_id_token(&format!("{header}.{payload}."), &e),
            Err(DuoError::Invalid(_))
        ));
        // Duo says deny.
        assert!(matches!(
            verify_id_token(
                &with(
                    |c| c["auth_result"] = json!({"result": "deny", "status_msg": "Login denied"})
                ),
                &e
            ),
            Err(DuoError::Refused(_))
        ));
    }

    #[test]
    fn canonical_json_is_sorted_and_compact() {
        let mut object = BTreeMap::new();
        object.insert("username", "al\"ice");
        object.insert("async", "1");
        assert_eq!(canon_json(&object), r#"{"async":"1","username":"al\"ice"}"#);
        // As Python's json.dumps(…, sort_keys=True, separators=(",", ":")) writes it.
        let mut object = BTreeMap::new();
        object.insert("username", "zo\u{eb}\u{1f600}\u{7f}\"/\n");
        object.insert("async", "1");
        assert_eq!(
            canon_json(&object),
            r#"{"async":"1","username":"zo\u00eb\ud83d\ude00\u007f\"/\n"}"#
        );
    }
}
