//! The server's side of the network: connections accepted under a cap per client address and a
//! cap in total, timeouts that bound how long a slow client can hold one, and the drain at
//! shutdown with its deadline.
//!
//! Each connection is served by hyper's HTTP/1 connection directly (what `axum::serve` does, less
//! its lack of limits): the router sees every request with the peer's address as
//! `ConnectInfo<SocketAddr>`, as before.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::body::{Body as HttpBody, Bytes, Frame, Incoming, SizeHint};
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::exit::Failure;

/// How long a client may take to send a request's line and headers, counted from when the server
/// starts waiting for them: a new connection, or the previous answer sent on a kept-alive one
/// (so it is also how long an idle connection is kept). Past it the connection is closed.
pub(crate) const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's body, counted from when its headers arrived;
/// past it the request is answered 408 and the connection closed. The largest body accepted
/// (2 MiB) in this time is about 140 kB/s. It bounds the whole body, not the gap between two
/// pieces of it, so trickling a byte now and then does not keep a request open.
pub(crate) const BODY_READ_TIMEOUT: Duration = Duration::from_secs(15);

/// Connections open at once from one client address. Over it a new connection is closed as soon
/// as it is accepted. Addresses in `trusted_proxies` are exempt (a reverse proxy carries every
/// client's connections); they count towards [`MAX_CONNECTIONS`] only.
pub(crate) const MAX_CONNECTIONS_PER_IP: usize = 64;

/// Connections open at once in total; over it a new connection is closed as soon as it is
/// accepted. Well under the usual limit of 1024 open files per process, which the database also
/// needs some of.
pub(crate) const MAX_CONNECTIONS: usize = 768;

/// After SIGTERM or SIGINT, how long requests in flight may take to finish before the server
/// exits regardless. A second signal during that time exits at once.
pub(crate) const SHUTDOWN_DRAIN: Duration = Duration::from_secs(5);

/// The limits in force: the constants above, or lower values the integration tests ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub(crate) header_read: Duration,
    pub(crate) body_read: Duration,
    pub(crate) per_ip: usize,
    pub(crate) total: usize,
    pub(crate) drain: Duration,
}

impl Limits {
    /// The constants, each lowered by its `TWOFOLD_TEST_*` variable when that is set.
    ///
    /// These variables are for the integration tests only, which cannot wait ten seconds for a
    /// timeout or open 64 connections to reach a cap; they are not configuration and are not
    /// documented as such. A value can only lower a limit, never raise or disable it, so setting
    /// one in production cannot weaken the server.
    pub(crate) fn from_env() -> Limits {
        Limits::lowered_by(|name| std::env::var(name).ok())
    }

    fn lowered_by(var: impl Fn(&str) -> Option<String>) -> Limits {
        let number = |name: &str| var(name).and_then(|v| v.trim().parse::<u64>().ok());
        let millis = |name: &str, limit: Duration| {
            number(name).map_or(limit, |ms| limit.min(Duration::from_millis(ms.max(1))))
        };
        let count = |name: &str, limit: usize| {
            number(name).map_or(limit, |n| {
                limit.min(usize::try_from(n).unwrap_or(usize::MAX).max(1))
            })
        };
        Limits {
            header_read: millis("TWOFOLD_TEST_HEADER_TIMEOUT_MS", HEADER_READ_TIMEOUT),
            body_read: millis("TWOFOLD_TEST_BODY_TIMEOUT_MS", BODY_READ_TIMEOUT),
            per_ip: count(
                "TWOFOLD_TEST_MAX_CONNECTIONS_PER_IP",
                MAX_CONNECTIONS_PER_IP,
            ),
            total: count("TWOFOLD_TEST_MAX_CONNECTIONS", MAX_CONNECTIONS),
            drain: millis("TWOFOLD_TEST_SHUTDOWN_DRAIN_MS", SHUTDOWN_DRAIN),
        }
    }
}

/// SIGTERM and SIGINT, installed once and received as often as they come.
#[derive(Debug)]
pub(crate) struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers: from now on either signal is ours to handle, not a default kill.
    pub(crate) fn install() -> Result<Signals, Failure> {
        use tokio::signal::unix::{SignalKind, signal};
        let handler = |kind: SignalKind, name: &str| {
            signal(kind).map_err(|e| Failure::value(format_args!("cannot handle {name}: {e}")))
        };
        Ok(Signals {
            term: handler(SignalKind::terminate(), "SIGTERM")?,
            int: handler(SignalKind::interrupt(), "SIGINT")?,
        })
    }

    /// Completes when the next SIGTERM or SIGINT arrives.
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {},
            _ = self.int.recv() => {},
        }
    }
}

/// The connections open, by client address, under the caps.
#[derive(Debug)]
struct Open {
    limits: Limits,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// One admitted connection; dropping it (when its task ends) frees its place.
#[derive(Debug)]
struct Admitted {
    open: Arc<Open>,
    ip: IpAddr,
}

impl Open {
    fn new(limits: Limits) -> Arc<Open> {
        Arc::new(Open {
            limits,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Counts a new connection from `ip`, or refuses it when a cap is reached. `exempt` lifts the
    /// per-address cap (trusted proxies).
    fn admit(self: &Arc<Open>, ip: IpAddr, exempt: bool) -> Option<Admitted> {
        // The lock guards two integer updates and is never held across an await; a panic while
        // it is held cannot leave the counts half-changed, so a poisoned lock is still right.
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= self.limits.total {
            return None;
        }
        let mine = counts.per_ip.entry(ip).or_insert(0);
        if !exempt && *mine >= self.limits.per_ip {
            return None;
        }
        *mine += 1;
        counts.total += 1;
        Some(Admitted {
            open: Arc::clone(self),
            ip,
        })
    }

    fn total(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut counts = self
            .open
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_ip.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
    }
}

/// Serves `app` on `listener` until the first signal, then drains: no new connections, the
/// requests in flight get until the deadline (or the next signal) to finish.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    trusted_proxies: &[IpNet],
    signals: &mut Signals,
) {
    let open = Open::new(limits);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let http = Arc::new(http);
    // Each connection's task holds a receiver: it learns of the shutdown by a change, and the
    // sender sees every task gone when the last receiver is dropped.
    let (stop_tx, stop_rx) = watch::channel(false);

    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = signals.recv() => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) if is_per_connection(&e) => continue,
            Err(e) => {
                // Out of descriptors or memory: accepting again at once would spin.
                tracing::error!(error = %e, "cannot accept connections; trying again in a second");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    () = signals.recv() => break,
                }
            }
        };
        let ip = peer.ip().to_canonical();
        let exempt = trusted_proxies.iter().any(|net| net.contains(&ip));
        let Some(admitted) = open.admit(ip, exempt) else {
            // Closed here, before any task or buffer exists for it. Logged at debug only: a
            // client that opens connections in a loop would otherwise fill the log.
            metrics::counter!("twofold_connections_refused_total").increment(1);
            tracing::debug!(%ip, "connection refused: too many open");
            drop(stream);
            continue;
        };
        let service = service(app.clone(), peer, limits.body_read);
        let http = Arc::clone(&http);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let result = {
                let conn = http.serve_connection(TokioIo::new(stream), service);
                let mut conn = std::pin::pin!(conn);
                tokio::select! {
                    result = conn.as_mut() => result,
                    _ = stop.changed() => {
                        // Finish the request in flight, answer it with `Connection: close`,
                        // and close an idle connection at once.
                        conn.as_mut().graceful_shutdown();
                        conn.await
                    }
                }
                // The connection and its socket are dropped here, before its place is freed:
                // a client never sees its connection closed while it still counts.
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(admitted);
            drop(stop);
        });
    }

    tracing::info!("shutting down: finishing requests in flight");
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(true);
    tokio::select! {
        () = stop_tx.closed() => {}
        () = tokio::time::sleep(limits.drain) => {
            tracing::warn!(
                connections = open.total(),
                "requests still in flight at the shutdown deadline are cut off"
            );
        }
        () = signals.recv() => {
            tracing::warn!(
                connections = open.total(),
                "a second signal: requests still in flight are cut off"
            );
        }
    }
}

/// Errors of one connection that was being accepted (the client gave up first): nothing to wait
/// for before the next.
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    )
}

/// The service of one connection: the router, with the peer's address on every request and the
/// body read under its deadline.
fn service(
    app: Router,
    peer: SocketAddr,
    body_read: Duration,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response,
    Error = Infallible,
    Future = impl Future<Output = Result<Response, Infallible>> + Send,
> + Clone {
    let app = TowerToHyperService::new(app);
    hyper::service::service_fn(move |req: Request<Incoming>| {
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(ConnectInfo(peer));
        let expired = Arc::new(AtomicBool::new(false));
        let body = if body.is_end_stream() {
            Body::new(body)
        } else {
            Body::new(DeadlineBody {
                inner: body,
                deadline: tokio::time::Instant::now() + body_read,
                sleep: None,
                expired: Arc::clone(&expired),
            })
        };
        let answer = app.call(Request::from_parts(parts, body));
        async move {
            let response = answer.await?;
            if expired.load(Ordering::Relaxed) {
                return Ok(body_timed_out());
            }
            Ok(response)
        }
    })
}

/// The answer to a request whose body did not arrive in time, whatever the handler made of the
/// failed read. The connection is closed after it: the rest of that body may still come.
fn body_timed_out() -> Response {
    let mut response = twofold_web::error::ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "The request body did not arrive in time.",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once its deadline has passed.
struct DeadlineBody {
    inner: Incoming,
    deadline: tokio::time::Instant,
    /// Made the first time the body has to wait: most bodies arrive with their headers and
    /// never need a timer.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Set when the deadline failed the body, for the answer to say so.
    expired: Arc<AtomicBool>,
}

/// The error a body gives when its deadline passed.
#[derive(Debug)]
struct BodyTimeout;

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimeout {}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_ready() {
            this.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(Box::new(BodyTimeout))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_ip: usize, total: usize) -> Limits {
        Limits {
            per_ip,
            total,
            ..Limits::lowered_by(|_| None)
        }
    }

    #[test]
    fn the_caps_count_per_address_and_in_total_and_free_on_drop() {
        let open = Open::new(limits(2, 3));
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let a1 = open.admit(a, false).unwrap();
        let a2 = open.admit(a, false).unwrap();
        assert!(open.admit(a, false).is_none(), "over the per-address cap");
        let b1 = open.admit(b, false).unwrap();
        assert!(open.admit(b, false).is_none(), "over the total cap");
        assert_eq!(open.total(), 3);
        drop(a1);
        assert_eq!(open.total(), 2);
        let a3 = open.admit(a, false).unwrap();
        drop((a2, a3, b1));
        assert_eq!(open.total(), 0);
        assert!(
            open.counts.lock().unwrap().per_ip.is_empty(),
            "no entry kept"
        );
    }

    #[test]
    fn trusted_proxies_are_held_to_the_total_cap_only() {
        let open = Open::new(limits(1, 3));
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<Admitted> = (0..3).map(|_| open.admit(proxy, true).unwrap()).collect();
        assert!(open.admit(proxy, true).is_none());
        drop(held);
        assert_eq!(open.total(), 0);
    }

    #[test]
    fn test_variables_only_lower_the_limits() {
        let defaults = Limits::lowered_by(|_| None);
        assert_eq!(defaults.header_read, HEADER_READ_TIMEOUT);
        assert_eq!(defaults.body_read, BODY_READ_TIMEOUT);
        assert_eq!(defaults.per_ip, MAX_CONNECTIONS_PER_IP);
        assert_eq!(defaults.total, MAX_CONNECTIONS);
        assert_eq!(defaults.drain, SHUTDOWN_DRAIN);
        let low = Limits::lowered_by(|name| {
            Some(
                match name {
                    "TWOFOLD_TEST_HEADER_TIMEOUT_MS" => "300",
                    "TWOFOLD_TEST_BODY_TIMEOUT_MS" => "400",
                    "TWOFOLD_TEST_MAX_CONNECTIONS_PER_IP" => "3",
                    "TWOFOLD_TEST_MAX_CONNECTIONS" => "0",
                    _ => "500",
                }
                .to_owned(),
            )
        });
        assert_eq!(low.header_read, Duration::from_millis(300));
        assert_eq!(low.body_read, Duration::from_millis(400));
        assert_eq!(low.per_ip, 3);
        assert_eq!(low.total, 1, "never zero");
        assert_eq!(low.drain, Duration::from_millis(500));
        let high = Limits::lowered_by(|name| {
            Some(
                if name.ends_with("_MS") {
                    "999999999"
                } else {
                    "100000"
                }
                .to_owned(),
            )
        });
        assert_eq!(high, defaults, "a larger value changes nothing");
        let junk = Limits::lowered_by(|_| Some("ten".to_owned()));
        assert_eq!(junk, defaults);
    }
}
