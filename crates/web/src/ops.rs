//! Operations: health, Prometheus metrics, the OpenAPI document, and the request metrics every
//! route records.

use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use crate::AppState;
use crate::api::wire::Health;
use crate::auth::{Authorized, NeedMetrics};
use crate::error::ApiError;

pub(crate) fn router(openapi: Arc<utoipa::openapi::OpenApi>) -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/wsapi/2.0/verify", get(wsapi_verify))
        .route(
            "/api/openapi.json",
            get(move || async move { Json(openapi.as_ref().clone()) }),
        )
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.service.store().ping().await {
        Ok(()) => Json(Health { status: "ok" }).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "health check: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                }),
            )
                .into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>, _auth: Authorized<NeedMetrics>) -> Response {
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Yubico validation protocol 2.0, for the keys held in local mode. The protocol answers every
/// outcome as a signed `status=` line over HTTP 200.
async fn wsapi_verify(
    State(state): State<AppState>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    parts: axum::http::request::Parts,
) -> Response {
    let ip = crate::auth::client_ip(&parts, &state.trusted_proxies).map(|ip| ip.to_string());
    let body = state
        .service
        .wsapi_verify(ip, query.as_deref().unwrap_or(""))
        .await;
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// Unknown paths: JSON under `/api/`, a page elsewhere.
pub(crate) async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::no_route().into_response()
    } else {
        crate::portal::page::not_found()
    }
}

/// Counts requests and their latency by route template (never the concrete path, which may hold
/// a username) and status.
///
/// Every label value is drawn from a fixed set: the route templates, `unmatched`, the known
/// methods and `other`. A label built from what the client sent would make each new value a
/// series the recorder keeps for the life of the process, so any client could grow the
/// server's memory and every scrape without bound.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    // Latency is measured on the monotonic clock; this is one of its two permitted readers.
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("twofold_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("twofold_http_request_duration_seconds", "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}

/// The metrics label of a request method: the standard methods a client of this server uses by
/// name, any other (including extension methods a client makes up) as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_labels_are_a_fixed_set() {
        for (m, label) in [
            (Method::GET, "GET"),
            (Method::HEAD, "HEAD"),
            (Method::POST, "POST"),
            (Method::PUT, "PUT"),
            (Method::PATCH, "PATCH"),
            (Method::DELETE, "DELETE"),
            (Method::OPTIONS, "OPTIONS"),
            (Method::CONNECT, "other"),
            (Method::TRACE, "other"),
        ] {
            assert_eq!(method_label(&m), label);
        }
        for invented in ["FOO", "get", "X-ANYTHING", "BREW"] {
            let m = Method::from_bytes(invented.as_bytes()).unwrap();
            assert_eq!(method_label(&m), "other", "{invented}");
        }
    }
}
