//! Twofold over HTTP: the JSON API v1 (with its OpenAPI document), `/healthz` and `/metrics`.
//!
//! Handlers parse the wire types, call the core's [`Service`], and convert its answers back by
//! hand; every error goes out through [`error::ApiError`] in the one JSON format.

mod api;
mod auth;
pub mod error;
mod forward;
mod lang;
mod ops;
mod portal;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use ipnet::IpNet;
use metrics_exporter_prometheus::PrometheusHandle;
use twofold_core::Service;

/// The largest request body accepted (DESIGN: 413 above 2 MiB).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
    /// The pages' Content-Security-Policy, made once from the public URL and cookie domain.
    csp: Arc<(String, axum::http::HeaderValue)>,
}

/// The shared parts of [`AppState`].
pub struct Inner {
    /// The flows.
    pub service: Arc<Service>,
    /// Renders `/metrics`; `None` when no recorder is installed.
    pub metrics: Option<PrometheusHandle>,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Cookies get `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// The URL users see, without a trailing slash (`TWOFOLD_PUBLIC_URL`, else the listening
    /// address): Duo sends browsers back to `<public URL>/login/duo/callback`.
    pub public_url: String,
    /// The session cookie's `Domain` (`TWOFOLD_COOKIE_DOMAIN`): the portal's host only when
    /// `None`.
    pub cookie_domain: Option<String>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("trusted_proxies", &self.trusted_proxies)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// Wraps the shared parts.
    pub fn new(inner: Inner) -> Self {
        let csp = portal::page::content_security_policy(
            &inner.public_url,
            inner.cookie_domain.as_deref(),
        );
        let value = axum::http::HeaderValue::from_str(&csp)
            .unwrap_or_else(|_| axum::http::HeaderValue::from_static("default-src 'none'"));
        AppState {
            inner: Arc::new(inner),
            csp: Arc::new((csp, value)),
        }
    }

    /// The pages' Content-Security-Policy.
    pub(crate) fn csp(&self) -> &str {
        &self.csp.0
    }

    /// The same, as a header value.
    pub(crate) fn csp_header(&self) -> axum::http::HeaderValue {
        self.csp.1.clone()
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api::router();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api)
        .merge(ops::router(openapi))
        .merge(forward::router())
        .merge(portal::router())
        .fallback(ops::not_found)
        .layer(axum::middleware::from_fn(api_errors_as_json))
        .layer(axum::middleware::from_fn(ops::track))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            portal::page::security_headers,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(refuse_declared_oversize))
        // Outermost: every answer, the layers' own included, is in the request's language.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            lang::choose,
        ))
        .with_state(state)
}

/// A request that declares a body over the limit is answered at once, before any of it is read,
/// and the connection is closed; bodies without a declared length are cut off by
/// [`DefaultBodyLimit`] as they are read.
async fn refuse_declared_oversize(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        let mut resp = error::ApiError::body_too_large().into_response();
        resp.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return resp;
    }
    next.run(req).await
}

/// Paths whose errors are the API's JSON (the portal answers pages, `/wsapi` its protocol).
fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/healthz" || path == "/metrics"
}

/// The client errors the framework answers by itself — a method the route does not have (405,
/// with `Allow`), a path segment that cannot be decoded (400) — get the API's error format too,
/// like every other 4xx of the API. Answers that already are JSON pass unchanged.
async fn api_errors_as_json(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
    use axum::response::IntoResponse;
    let api = is_api_path(req.uri().path());
    let resp = next.run(req).await;
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !api || !resp.status().is_client_error() || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    // The framework's own text (e.g. "Invalid URL: Invalid UTF-8 in `username`") is short; a
    // longer one is not worth keeping.
    let said = axum::body::to_bytes(body, 1024)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .unwrap_or_default();
    let mut out = error::ApiError::client_error(parts.status, &said).into_response();
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            out.headers_mut().append(name, value.clone());
        }
    }
    out
}
