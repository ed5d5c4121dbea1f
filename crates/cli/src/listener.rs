//! The server's side of the network: connections accepted under a cap per client address (an
//! IPv6 client's /64) and a cap in total, timeouts that bound how long a slow client can hold
//! one — reading its requests or its answers —, a bound on each connection's requests and life,
//! and the drain at shutdown with its deadline.
//!
//! Each connection is served by hyper's HTTP/1 connection directly (what `axum::serve` does, less
//! its lack of limits): the router sees every request with the peer's address as
//! `ConnectInfo<SocketAddr>`, as before.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::Response;
use hyper::body::{Body as HttpBody, Bytes, Frame, Incoming, SizeHint};
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
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

/// How long a write of an answer may make no progress (the client reads nothing, so the socket's
/// buffers stay full); past it the connection is reset. It bounds each wait, not the whole
/// answer: a client that reads slowly but steadily is served.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Requests served on one connection: the answer to the last one says `Connection: close` and
/// the connection is closed after it (requests pipelined behind it are dropped unanswered).
pub(crate) const MAX_REQUESTS_PER_CONNECTION: usize = 1_000;

/// How long a connection may live. Past it the connection takes no new request: an idle one is
/// closed at once, the answer to a request in flight says `Connection: close`. Clients that keep
/// connections alive simply open a new one.
pub(crate) const MAX_CONNECTION_AGE: Duration = Duration::from_secs(10 * 60);

/// How long a connection past [`MAX_CONNECTION_AGE`] may take to finish the request in flight
/// before it is cut off whatever it is doing, so that no connection outlives the two together.
/// Longer than the slowest legitimate request, a Duo push waited for (a minute, and the requests
/// to Duo around it).
pub(crate) const CLOSING_GRACE: Duration = Duration::from_secs(2 * 60);

/// Connections open at once from one client address. Over it a new connection is closed as soon
/// as it is accepted. An IPv6 client counts by its /64, the block one host or site is usually
/// given (an IPv4-mapped address counts as the IPv4 address). Addresses in `trusted_proxies` are
/// exempt (a reverse proxy carries every client's connections); they count towards
/// [`MAX_CONNECTIONS`] only.
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
    pub(crate) write: Duration,
    pub(crate) requests: usize,
    pub(crate) age: Duration,
    pub(crate) grace: Duration,
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
            write: millis("TWOFOLD_TEST_WRITE_TIMEOUT_MS", WRITE_TIMEOUT),
            requests: count(
                "TWOFOLD_TEST_MAX_REQUESTS_PER_CONNECTION",
                MAX_REQUESTS_PER_CONNECTION,
            ),
            age: millis("TWOFOLD_TEST_CONNECTION_AGE_MS", MAX_CONNECTION_AGE),
            grace: millis("TWOFOLD_TEST_CLOSING_GRACE_MS", CLOSING_GRACE),
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
    /// By [`client_key`].
    per_ip: HashMap<IpAddr, usize>,
}

/// One admitted connection; dropping it (when its task ends) frees its place.
#[derive(Debug)]
struct Admitted {
    open: Arc<Open>,
    key: IpAddr,
}

/// What the per-address cap counts `ip` under: an IPv4 address itself (an IPv4-mapped IPv6
/// address is taken as the IPv4 one), an IPv6 address by its /64, since one host is commonly
/// given a whole /64 and could otherwise open the cap's worth of connections from each of its
/// addresses.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !u128::from(u64::MAX))),
    }
}

impl Open {
    fn new(limits: Limits) -> Arc<Open> {
        Arc::new(Open {
            limits,
            counts: Mutex::new(Counts::default()),
        })
    }

    /// Counts a new connection from `ip` (under its [`client_key`]), or refuses it when a cap is
    /// reached. `exempt` lifts the per-address cap (trusted proxies).
    fn admit(self: &Arc<Open>, ip: IpAddr, exempt: bool) -> Option<Admitted> {
        let key = client_key(ip);
        // The lock guards two integer updates and is never held across an await; a panic while
        // it is held cannot leave the counts half-changed, so a poisoned lock is still right.
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= self.limits.total {
            return None;
        }
        let mine = counts.per_ip.entry(key).or_insert(0);
        if !exempt && *mine >= self.limits.per_ip {
            return None;
        }
        *mine += 1;
        counts.total += 1;
        Some(Admitted {
            open: Arc::clone(self),
            key,
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
        if let Some(n) = counts.per_ip.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.per_ip.remove(&self.key);
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
        let service = service(app.clone(), peer, limits.body_read, limits.requests);
        let http = Arc::clone(&http);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let result = {
                let io = TokioIo::new(WriteTimeout::new(stream, limits.write));
                let conn = http.serve_connection(io, service);
                let mut conn = std::pin::pin!(conn);
                let old = tokio::time::sleep(limits.age);
                let mut old = std::pin::pin!(old);
                let cut = tokio::time::sleep(limits.age.saturating_add(limits.grace));
                let mut cut = std::pin::pin!(cut);
                let mut closing = false;
                loop {
                    tokio::select! {
                        result = conn.as_mut() => break Some(result),
                        // The server is shutting down, or the connection has lived long
                        // enough: finish the request in flight, answer it with `Connection:
                        // close`, and close an idle connection at once.
                        _ = stop.changed(), if !closing => {
                            conn.as_mut().graceful_shutdown();
                            closing = true;
                        }
                        () = old.as_mut(), if !closing => {
                            conn.as_mut().graceful_shutdown();
                            closing = true;
                        }
                        () = cut.as_mut() => break None,
                    }
                }
                // The connection and its socket are dropped here, before its place is freed:
                // a client never sees its connection closed while it still counts.
            };
            match result {
                Some(Ok(())) => {}
                Some(Err(e)) => tracing::debug!(error = %e, "connection ended with an error"),
                None => tracing::debug!(%peer, "connection cut off: past its lifetime"),
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
/// body read under its deadline; the answer to the `max_requests`th request closes the
/// connection.
fn service(
    app: Router,
    peer: SocketAddr,
    body_read: Duration,
    max_requests: usize,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response,
    Error = Infallible,
    Future = impl Future<Output = Result<Response, Infallible>> + Send,
> + Clone {
    let app = TowerToHyperService::new(app);
    let served = Arc::new(AtomicUsize::new(0));
    hyper::service::service_fn(move |req: Request<Incoming>| {
        let last = served.fetch_add(1, Ordering::Relaxed).saturating_add(1) >= max_requests;
        let (mut parts, body) = req.into_parts();
        parts.extensions.insert(ConnectInfo(peer));
        // The language of the listener's own answer (a body that did not arrive in time).
        let lang = parts
            .headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(twofold_core::i18n::negotiate)
            .unwrap_or_default();
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
            let mut response = answer.await?;
            if expired.load(Ordering::Relaxed) {
                return Ok(body_timed_out(lang));
            }
            if last {
                // hyper closes the connection once an answer saying so is sent.
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response)
        }
    })
}

/// The answer to a request whose body did not arrive in time, whatever the handler made of the
/// failed read, its message in the language the request's `Accept-Language` asks for (else
/// English). The connection is closed after it: the rest of that body may still come.
fn body_timed_out(lang: twofold_core::i18n::Lang) -> Response {
    let mut response = twofold_web::error::ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        twofold_core::i18n::Text::new("err-api-body-timeout"),
    )
    .into_response_in(lang);
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A connection's socket whose writes fail once one has made no progress for `limit`: a client
/// that stops reading its answers (pipelining requests, say) cannot hold the connection, and the
/// answers queued for it, for ever. Reads are untouched; they have hyper's and the body's
/// timeouts.
struct WriteTimeout<S> {
    inner: S,
    limit: Duration,
    /// Started when a write first has to wait, dropped when one makes progress.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// A socket that can be made to reset instead of closing gracefully: one whose client stopped
/// reading has answers queued that would otherwise stay in the kernel, sent to nobody, after the
/// connection is closed.
trait Abort {
    fn abort_on_close(&self);
}

impl Abort for TcpStream {
    fn abort_on_close(&self) {
        if let Err(e) = self.set_zero_linger() {
            tracing::debug!(error = %e, "cannot make a stalled connection reset");
        }
    }
}

impl<S> WriteTimeout<S> {
    fn new(inner: S, limit: Duration) -> WriteTimeout<S> {
        WriteTimeout {
            inner,
            limit,
            stalled: None,
        }
    }
}

impl<S: Abort> WriteTimeout<S> {
    /// Passes on the outcome of a write (or flush or shutdown), failing it if it has been
    /// waiting for too long.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let limit = self.limit;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if stalled.as_mut().poll(cx).is_ready() {
            self.inner.abort_on_close();
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client read nothing of its answer in time",
            )));
        }
        Poll::Pending
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteTimeout<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Abort + Unpin> AsyncWrite for WriteTimeout<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.watch(cx, poll)
    }
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
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            client_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(client_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_key(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(client_key(ip("::1")), ip("::"));

        let open = Open::new(limits(2, 100));
        let host = [
            ip("2001:db8:1:2::1"),
            ip("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            ip("2001:db8:1:2:1234::9"),
        ];
        let first = open.admit(host[0], false).unwrap();
        let second = open.admit(host[1], false).unwrap();
        assert!(
            open.admit(host[2], false).is_none(),
            "another address of the same /64 is over the cap"
        );
        let neighbour = open.admit(ip("2001:db8:1:3::1"), false);
        assert!(neighbour.is_some(), "the next /64 has its own cap");

        let v4 = [
            open.admit(ip("::ffff:192.0.2.7"), false).unwrap(),
            open.admit(ip("192.0.2.7"), false).unwrap(),
        ];
        assert!(open.admit(ip("::ffff:192.0.2.7"), false).is_none());
        assert!(open.admit(ip("192.0.2.7"), false).is_none());
        let other_v4 = open.admit(ip("192.0.2.8"), false);
        assert!(other_v4.is_some(), "IPv4 addresses count one by one");

        drop(first);
        let again = open.admit(host[2], false);
        assert!(again.is_some(), "a freed place of the /64 is reusable");
        drop((second, neighbour, v4, other_v4, again));
        assert_eq!(open.total(), 0);
        assert!(open.counts.lock().unwrap().per_ip.is_empty());
    }

    /// A writer that takes one byte each time it is given a tick, and waits otherwise.
    struct Ticks {
        ticks: tokio::sync::mpsc::UnboundedReceiver<()>,
        aborted: Arc<AtomicBool>,
    }

    impl Abort for Ticks {
        fn abort_on_close(&self) {
            self.aborted.store(true, Ordering::Relaxed);
        }
    }

    impl AsyncWrite for Ticks {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            _: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().ticks.poll_recv(cx).map(|_| Ok(1))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Writes `n` bytes one at a time through `writer`.
    async fn write_bytes(writer: &mut WriteTimeout<Ticks>, n: usize) -> io::Result<()> {
        for _ in 0..n {
            std::future::poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, b"x")).await?;
        }
        Ok(())
    }

    fn ticking(limit: Duration) -> (WriteTimeout<Ticks>, tokio::sync::mpsc::UnboundedSender<()>) {
        let (tx, ticks) = tokio::sync::mpsc::unbounded_channel();
        let writer = Ticks {
            ticks,
            aborted: Arc::new(AtomicBool::new(false)),
        };
        (WriteTimeout::new(writer, limit), tx)
    }

    #[tokio::test]
    async fn a_write_that_makes_no_progress_fails_and_resets_the_socket() {
        let (mut writer, tx) = ticking(Duration::from_millis(300));
        let started = tokio::time::Instant::now();
        let err = write_bytes(&mut writer, 1).await.unwrap_err();
        let after = started.elapsed();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(after >= Duration::from_millis(300), "{after:?}");
        assert!(after < Duration::from_secs(2), "{after:?}");
        assert!(writer.inner.aborted.load(Ordering::Relaxed));
        drop(tx);
    }

    #[tokio::test]
    async fn a_slow_but_steady_reader_is_served_past_the_write_timeout() {
        let (mut writer, tx) = ticking(Duration::from_millis(300));
        let feeder = tokio::spawn(async move {
            for _ in 0..8 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = tx.send(());
            }
        });
        let started = tokio::time::Instant::now();
        write_bytes(&mut writer, 8).await.unwrap();
        assert!(started.elapsed() >= Duration::from_millis(600));
        assert!(!writer.inner.aborted.load(Ordering::Relaxed));
        feeder.await.unwrap();

        // A stall after progress is timed from that progress, not from the first wait.
        let (mut writer, tx) = ticking(Duration::from_millis(300));
        let feeder = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let _ = tx.send(());
            tx
        });
        let started = tokio::time::Instant::now();
        let err = write_bytes(&mut writer, 2).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        let after = started.elapsed();
        assert!(after >= Duration::from_millis(500), "{after:?}");
        drop(feeder.await.unwrap());
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
        assert_eq!(defaults.write, WRITE_TIMEOUT);
        assert_eq!(defaults.requests, MAX_REQUESTS_PER_CONNECTION);
        assert_eq!(defaults.age, MAX_CONNECTION_AGE);
        assert_eq!(defaults.grace, CLOSING_GRACE);
        assert_eq!(defaults.per_ip, MAX_CONNECTIONS_PER_IP);
        assert_eq!(defaults.total, MAX_CONNECTIONS);
        assert_eq!(defaults.drain, SHUTDOWN_DRAIN);
        let low = Limits::lowered_by(|name| {
            Some(
                match name {
                    "TWOFOLD_TEST_HEADER_TIMEOUT_MS" => "300",
                    "TWOFOLD_TEST_BODY_TIMEOUT_MS" => "400",
                    "TWOFOLD_TEST_WRITE_TIMEOUT_MS" => "200",
                    "TWOFOLD_TEST_MAX_REQUESTS_PER_CONNECTION" => "7",
                    "TWOFOLD_TEST_CONNECTION_AGE_MS" => "900",
                    "TWOFOLD_TEST_CLOSING_GRACE_MS" => "0",
                    "TWOFOLD_TEST_MAX_CONNECTIONS_PER_IP" => "3",
                    "TWOFOLD_TEST_MAX_CONNECTIONS" => "0",
                    _ => "500",
                }
                .to_owned(),
            )
        });
        assert_eq!(low.header_read, Duration::from_millis(300));
        assert_eq!(low.body_read, Duration::from_millis(400));
        assert_eq!(low.write, Duration::from_millis(200));
        assert_eq!(low.requests, 7);
        assert_eq!(low.age, Duration::from_millis(900));
        assert_eq!(low.grace, Duration::from_millis(1), "never zero");
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
