//! Twofold over HTTP: the JSON API v1 (with its OpenAPI document), `/healthz` and `/metrics`.
//!
//! Handlers parse the wire types, call the core's [`Service`], and convert its answers back by
//! hand; every error goes out through [`error::ApiError`] in the one JSON format.

mod api;
mod auth;
pub mod error;
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
        AppState {
            inner: Arc::new(inner),
        }
    }
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    let (api, openapi) = api::router();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api)
        .merge(ops::router(openapi))
        .merge(portal::router())
        .fallback(ops::not_found)
        .layer(axum::middleware::from_fn(ops::track))
        .layer(axum::middleware::from_fn(portal::page::security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
