//! Forward authentication: `GET /auth/nginx` (nginx `auth_request`) and `GET /auth/forward`
//! (Traefik ForwardAuth, Caddy `forward_auth`). A reverse proxy asks whether the request it
//! holds may pass; the core answers from the portal session cookie the browser sent along and the
//! `[[access]]` rules. Only trusted proxies are answered, and no answer sets a cookie.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use twofold_core::access::Target;
use twofold_core::i18n::Text;
use twofold_core::service::{ForwardAnswer, Identity};

use crate::AppState;
use crate::error::ApiError;
use crate::portal::page::{SESSION_COOKIE, cookie, encode_component};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/nginx", any(nginx))
        .route("/auth/forward", any(forward))
}

/// Which proxy protocol asked: they differ in how the original request is told and in what a
/// visitor who must sign in gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Asker {
    /// `X-Original-URL`, `X-Original-Method`; sign in: 401 with the login URL in `Location`
    /// (nginx turns it into a redirect with `auth_request_set` and `error_page 401`).
    Nginx,
    /// `X-Forwarded-Proto`, `-Host`, `-Uri`, `-Method`; sign in: 302 to the login for GET and
    /// HEAD, 401 for other methods.
    Forward,
}

async fn nginx(State(state): State<AppState>, req: Parts) -> Response {
    answer(&state, &req, Asker::Nginx).await
}

async fn forward(State(state): State<AppState>, req: Parts) -> Response {
    answer(&state, &req, Asker::Forward).await
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn answer(state: &AppState, req: &Parts, asker: Asker) -> Response {
    let trusted =
        req.extensions
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ConnectInfo(peer)| {
                state.trusted_proxies.iter().any(|n| n.contains(&peer.ip()))
            });
    if !trusted {
        return no_store(
            ApiError::new(
                StatusCode::FORBIDDEN,
                "untrusted_proxy",
                Text::new("err-forward-untrusted-proxy"),
            )
            .into_response(),
        );
    }
    let headers = &req.headers;
    let (target, method) = match asker {
        Asker::Nginx => (
            header_text(headers, "x-original-url").map(Target::from_url),
            header_text(headers, "x-original-method"),
        ),
        Asker::Forward => (
            match (
                header_text(headers, "x-forwarded-proto"),
                header_text(headers, "x-forwarded-host"),
                header_text(headers, "x-forwarded-uri"),
            ) {
                (Some(proto), Some(host), Some(uri)) => Some(Target::from_parts(proto, host, uri)),
                _ => None,
            },
            header_text(headers, "x-forwarded-method"),
        ),
    };
    let target = match target {
        Some(Ok(t)) => t,
        Some(Err(_)) => {
            return no_store(
                ApiError::bad_request(Text::new("err-forward-bad-target")).into_response(),
            );
        }
        None => {
            let which = match asker {
                Asker::Nginx => "X-Original-URL",
                Asker::Forward => "X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Uri",
            };
            return no_store(
                ApiError::bad_request(
                    Text::new("err-forward-headers-missing").arg("headers", which),
                )
                .into_response(),
            );
        }
    };
    let session = cookie(headers, SESSION_COOKIE);
    let decided = state
        .service
        .forward_auth(session.as_deref(), &target)
        .await;
    let resp = match decided {
        Ok(ForwardAnswer::Allow(who)) => allowed(who.as_ref()),
        Ok(ForwardAnswer::Deny) => ApiError::new(
            StatusCode::FORBIDDEN,
            "access_denied",
            Text::new("err-forward-denied"),
        )
        .into_response(),
        Ok(ForwardAnswer::SignIn) => {
            let login = format!(
                "{}/login?next={}",
                state.public_url,
                encode_component(target.url())
            );
            let safe_method = method
                .unwrap_or(req.method.as_str())
                .eq_ignore_ascii_case("GET")
                || method
                    .unwrap_or(req.method.as_str())
                    .eq_ignore_ascii_case("HEAD");
            let status = if asker == Asker::Forward && safe_method {
                StatusCode::FOUND
            } else {
                StatusCode::UNAUTHORIZED
            };
            let mut resp = if status == StatusCode::FOUND {
                status.into_response()
            } else {
                ApiError::new(status, "sign_in", Text::new("err-forward-sign-in")).into_response()
            };
            if let Ok(v) = HeaderValue::from_str(&login) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
        Err(e) => ApiError::from(e).into_response(),
    };
    no_store(resp)
}

/// 200, with who is signed in when someone is. A `bypass` rule names nobody: the three headers
/// are there, empty, so that a proxy copying them never leaves the client's, or something of
/// its own (Caddy 2.6's `copy_headers` puts its unreplaced placeholder there when the header
/// is missing), in their place. A value that cannot be a header (it cannot happen with checked
/// usernames and addresses) fails closed rather than pass without it.
fn allowed(who: Option<&Identity>) -> Response {
    let mut resp = StatusCode::OK.into_response();
    let values = match who {
        Some(who) => [
            ("remote-user", who.username.as_str()),
            ("remote-email", who.email.as_deref().unwrap_or("")),
            ("remote-role", who.role.as_str()),
        ],
        None => [
            ("remote-user", ""),
            ("remote-email", ""),
            ("remote-role", ""),
        ],
    };
    for (name, value) in values {
        let Ok(v) = HeaderValue::from_str(value) else {
            tracing::error!(
                header = name,
                "a signed-in user's value is not a header value"
            );
            return ApiError::from(twofold_core::Error::internal(&BadHeader)).into_response();
        };
        resp.headers_mut().insert(HeaderName::from_static(name), v);
    }
    resp
}

#[derive(Debug)]
struct BadHeader;

impl std::fmt::Display for BadHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a Remote-* value is not a header value")
    }
}

impl std::error::Error for BadHeader {}

fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}
