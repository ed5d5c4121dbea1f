//! Who is calling: the API token (with its scope) and the client's IP address.

use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use ipnet::IpNet;
use serde::de::DeserializeOwned;
use twofold_core::audit::{Actor, Context};
use twofold_core::token::Scope;

use crate::AppState;
use crate::error::ApiError;

/// The client's address: the peer, or — when the peer is a trusted proxy — the right-most
/// address in `X-Forwarded-For` that is not itself a trusted proxy.
pub(crate) fn client_ip(parts: &Parts, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    // Walk from the nearest hop outwards; the first one that is not a trusted proxy is the
    // client. An entry that does not parse ends the walk: whatever stands left of it could have
    // been written by the client, so the peer is all we know.
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => continue,
            Ok(ip) => return Some(ip),
            Err(_) => return Some(peer),
        }
    }
    Some(peer)
}

/// What a route needs of the token.
pub(crate) trait Requirement {
    /// The scope the call needs (`admin` tokens may make every call).
    const SCOPE: Scope;
}

/// Routes for admin-scope tokens.
#[derive(Debug)]
pub(crate) struct NeedAdmin;
impl Requirement for NeedAdmin {
    const SCOPE: Scope = Scope::Admin;
}

/// `/validate` and `/challenge`.
#[derive(Debug)]
pub(crate) struct NeedValidate;
impl Requirement for NeedValidate {
    const SCOPE: Scope = Scope::Validate;
}

/// `/metrics`.
#[derive(Debug)]
pub(crate) struct NeedMetrics;
impl Requirement for NeedMetrics {
    const SCOPE: Scope = Scope::Metrics;
}

/// A caller whose token allows the route: carries the audit context (token name and IP).
#[derive(Debug)]
pub(crate) struct Authorized<R> {
    pub(crate) ctx: Context,
    _need: PhantomData<R>,
}

impl<R: Requirement + Send> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = client_ip(parts, &state.trusted_proxies).map(|ip| ip.to_string());
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        let Some(presented) = presented else {
            return Err(ApiError::unauthorized());
        };
        let Some(token) = state.service.authenticate_token(presented).await? else {
            // Not audited: an unauthenticated caller must not be able to write to the database.
            tracing::info!(
                ip = ip.as_deref().unwrap_or("-"),
                "refused an unknown API token"
            );
            return Err(ApiError::unauthorized());
        };
        let ctx = Context {
            actor: Actor::Token(token.name.clone()),
            ip,
        };
        if !token.scope.allows(R::SCOPE) {
            state.service.audit_token_refused(&ctx, "scope").await;
            return Err(ApiError::forbidden());
        }
        Ok(Authorized {
            ctx,
            _need: PhantomData,
        })
    }
}

/// A JSON body whose rejections use the API's error format: 413 over the size limit, 400 for
/// anything that cannot be read (not JSON, a missing field, a wrong type, an unknown field).
#[derive(Debug)]
pub(crate) struct Body<T>(pub(crate) T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::body_too_large())
            }
            Err(rejection) => Err(ApiError::unreadable(rejection.body_text())),
        }
    }
}

/// Query parameters whose rejections use the API's error format (400).
#[derive(Debug)]
pub(crate) struct Params<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for Params<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Params(q.0))
            .map_err(|r| ApiError::unreadable(r.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request from `peer` with the given `X-Forwarded-For` header lines.
    fn parts(peer: &str, forwarded: &[&str]) -> Parts {
        let mut req = axum::http::Request::builder().uri("/api/v1/validate");
        for f in forwarded {
            req = req.header("x-forwarded-for", *f);
        }
        let (mut parts, ()) = req.body(()).unwrap().into_parts();
        let peer: SocketAddr = format!("{peer}:40000").parse().unwrap();
        parts.extensions.insert(ConnectInfo(peer));
        parts
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let trusted = nets(&["10.0.0.0/8"]);
        for forwarded in [&[][..], &["203.0.113.7"], &["203.0.113.7, 10.0.0.2"]] {
            assert_eq!(
                client_ip(&parts("198.51.100.1", forwarded), &trusted),
                ip("198.51.100.1"),
                "{forwarded:?}"
            );
        }
        // With nothing configured, nobody is trusted.
        assert_eq!(
            client_ip(&parts("127.0.0.1", &["203.0.113.7"]), &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn a_trusted_peer_names_the_right_most_untrusted_hop() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1/32", "2001:db8::/32"]);
        let cases: &[(&str, &[&str], &str)] = &[
            ("127.0.0.1", &["203.0.113.7"], "203.0.113.7"),
            // What the client wrote itself stands left of what our proxies saw: ignored.
            ("127.0.0.1", &["1.1.1.1, 203.0.113.7"], "203.0.113.7"),
            // Trusted hops on the way are skipped.
            (
                "127.0.0.1",
                &["1.1.1.1, 203.0.113.7, 10.1.2.3"],
                "203.0.113.7",
            ),
            // Several header lines are one list, in order.
            (
                "10.0.0.1",
                &["1.1.1.1", "203.0.113.7", "10.9.9.9"],
                "203.0.113.7",
            ),
            (
                "10.0.0.1",
                &[" 2001:db8::5 , 2a00:1450::1 "],
                "2a00:1450::1",
            ),
            // Nothing forwarded, or only trusted hops: the peer (or the left-most proxy) is all
            // there is.
            ("127.0.0.1", &[], "127.0.0.1"),
            ("127.0.0.1", &["10.0.0.7, 10.0.0.8"], "127.0.0.1"),
        ];
        for (peer, forwarded, client) in cases {
            assert_eq!(
                client_ip(&parts(peer, forwarded), &trusted),
                ip(client),
                "{peer} {forwarded:?}"
            );
        }
    }

    #[test]
    fn junk_in_the_header_leaves_the_peer() {
        let trusted = nets(&["127.0.0.1/32", "10.0.0.0/8"]);
        for forwarded in [
            "not-an-address",
            "203.0.113.7, garbage",
            "203.0.113.7, 10.0.0.3, <script>",
            "203.0.113.7:8080",
            "",
        ] {
            assert_eq!(
                client_ip(&parts("127.0.0.1", &[forwarded]), &trusted),
                ip("127.0.0.1"),
                "{forwarded:?}"
            );
        }
        // Junk left of a good untrusted hop is never reached.
        assert_eq!(
            client_ip(&parts("127.0.0.1", &["garbage, 203.0.113.7"]), &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn no_peer_no_address() {
        let (parts, ()) = axum::http::Request::builder()
            .body(())
            .unwrap()
            .into_parts();
        assert_eq!(client_ip(&parts, &nets(&["0.0.0.0/0"])), None);
    }
}
