//! The server's edge towards the network: what a client can make it keep (metrics series,
//! connections) and how long a slow or silent client can hold it.

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{Db, Env, Server};

/// Requests with methods a client made up are counted under one `other` label: however many
/// methods are invented, the number of method labels in /metrics stays that of the known set.
#[test]
fn invented_methods_do_not_grow_the_metrics() {
    let env = Env::new(Db::Sqlite);
    let metrics = env.token("prometheus", "metrics");
    let server = env.serve();
    let api = server.api(&metrics);
    for n in 0..60 {
        let r = api.raw_tcp(
            &format!("XMETHOD{n} /healthz HTTP/1.1\r\nConnection: close"),
            Vec::new(),
        );
        assert_eq!(r.status, 405, "{r:?}");
    }
    let r = api.raw_tcp(
        "XMETHOD0 /no/such/route HTTP/1.1\r\nConnection: close",
        Vec::new(),
    );
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(server.anonymous().get("/healthz").status, 200);

    let r = api.get("/metrics");
    assert_eq!(r.status, 200);
    let text = r.json.as_str().unwrap().to_owned();
    let methods: BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("twofold_http_requests_total{"))
        .filter_map(|l| l.split("method=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(methods.contains("other"), "{methods:?}\n{text}");
    assert!(methods.contains("GET"), "{methods:?}");
    assert!(
        methods.len() <= 8,
        "method labels: {methods:?} (the known methods and `other`)"
    );
    assert!(!text.contains("XMETHOD"), "a made-up method became a label");
    let routes: BTreeSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("twofold_http_requests_total{"))
        .filter_map(|l| l.split("route=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(routes.contains("unmatched"), "{routes:?}");
    assert!(!routes.contains("/no/such/route"), "{routes:?}");
}

/// A monotonic reading, for the test's own deadlines and measurements.
fn now() -> Instant {
    // Tests measure how long the server took; this is their clock.
    #[allow(clippy::disallowed_methods)]
    Instant::now()
}

/// A connection to `server` whose reads give up after a short while, so a test can poll.
fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    stream
}

/// What the server sent before it closed `stream`, and when it closed it (from `since`). Fails
/// the test if the connection is still open after `limit`.
fn closed_within(stream: &mut TcpStream, since: Instant, limit: Duration) -> (Duration, String) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            // A reset is a close too (the server closed with our bytes unread).
            Err(_) => break,
        }
        assert!(
            since.elapsed() < limit,
            "the connection is still open after {limit:?}; received {:?}",
            String::from_utf8_lossy(&got)
        );
    }
    (since.elapsed(), String::from_utf8_lossy(&got).into_owned())
}

/// Reads one whole answer (head and `Content-Length` body) from a connection kept alive.
fn read_answer(stream: &mut TcpStream) -> String {
    answer_or_close(stream).expect("closed before an answer")
}

/// Reads one whole answer from a connection kept alive, or `None` if the server closed the
/// connection before sending any of one.
fn answer_or_close(stream: &mut TcpStream) -> Option<String> {
    let since = now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= length {
                return Some(text);
            }
        }
        match stream.read(&mut buf) {
            Ok(0) if got.is_empty() => return None,
            Ok(0) => panic!("closed mid-answer: {text:?}"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) if got.is_empty() => return None,
            Err(e) => panic!("{e}: {text:?}"),
        }
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "no answer: {text:?}"
        );
    }
}

fn healthz(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: twofold\r\n\r\n")
        .unwrap();
    read_answer(stream)
}

/// A request whose headers are complete and whose body stops after its first bytes.
fn stalled_body(server: &Server, token: &str) -> TcpStream {
    let mut stream = connect(server);
    write!(
        stream,
        "POST /api/v1/validate HTTP/1.1\r\nHost: twofold\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"username\":"
    )
    .unwrap();
    stream
}

/// Half-sent headers, and no request at all, are closed once the header timeout has passed;
/// so is a kept-alive connection left idle after an answer.
#[test]
fn slow_or_missing_headers_are_closed_after_the_header_timeout() {
    let env = Env::new(Db::Sqlite);
    let server = env.serve_with(&[("TWOFOLD_TEST_HEADER_TIMEOUT_MS", "600")]);
    let start = now();
    let mut half = connect(&server);
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: twofold\r\n")
        .unwrap();
    let mut silent = connect(&server);
    let mut idle = connect(&server);
    assert!(healthz(&mut idle).starts_with("HTTP/1.1 200"));
    let answered = now();

    for (name, stream, since) in [
        ("half-sent headers", &mut half, start),
        ("no request", &mut silent, start),
        ("idle after an answer", &mut idle, answered),
    ] {
        let (after, got) = closed_within(stream, since, Duration::from_secs(3));
        assert!(
            after >= Duration::from_millis(400),
            "{name}: closed after {after:?}"
        );
        assert!(!got.contains("200 OK"), "{name}: {got:?}");
    }
    assert_eq!(server.anonymous().get("/healthz").status, 200);
}

/// A body that stops coming is answered 408 and its connection closed once the body timeout
/// has passed, and so is one that trickles in a byte at a time: the timeout bounds the whole
/// body, not each wait.
#[test]
fn a_stalled_or_trickling_body_is_answered_408() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "validate");
    let server = env.serve_with(&[("TWOFOLD_TEST_BODY_TIMEOUT_MS", "700")]);

    let start = now();
    let mut stalled = stalled_body(&server, &token);
    let (after, got) = closed_within(&mut stalled, start, Duration::from_secs(3));
    assert!(
        after >= Duration::from_millis(500),
        "answered after {after:?}"
    );
    assert!(got.starts_with("HTTP/1.1 408"), "{got:?}");
    assert!(got.to_lowercase().contains("connection: close"), "{got:?}");
    assert!(got.contains("\"request_timeout\""), "{got:?}");

    let start = now();
    let mut trickle = stalled_body(&server, &token);
    let mut writer = trickle.try_clone().unwrap();
    let drip = std::thread::spawn(move || {
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(150));
            if writer.write_all(b" ").is_err() {
                return;
            }
        }
    });
    let (_, got) = closed_within(&mut trickle, start, Duration::from_secs(2));
    assert!(got.starts_with("HTTP/1.1 408"), "{got:?}");
    drip.join().unwrap();
    assert_eq!(server.anonymous().get("/healthz").status, 200);
}

/// Over the cap of connections from one address a new connection is closed without an answer,
/// while those already open are still served; a connection that ends frees its place.
#[test]
fn connections_over_the_per_address_cap_are_closed_at_once() {
    let env = Env::new(Db::Sqlite);
    let metrics = env.token("prometheus", "metrics");
    let server = env.serve_with(&[("TWOFOLD_TEST_MAX_CONNECTIONS_PER_IP", "3")]);
    let mut open: Vec<TcpStream> = (0..3).map(|_| connect(&server)).collect();
    for stream in &mut open {
        assert!(healthz(stream).starts_with("HTTP/1.1 200"));
    }
    for _ in 0..3 {
        let start = now();
        let mut extra = connect(&server);
        // Written before the server closes it, or refused: either way no answer comes.
        let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: twofold\r\n\r\n");
        let (after, got) = closed_within(&mut extra, start, Duration::from_secs(2));
        assert_eq!(got, "", "an extra connection was answered");
        assert!(
            after < Duration::from_secs(1),
            "closed only after {after:?}"
        );
    }
    for stream in &mut open {
        assert!(healthz(stream).starts_with("HTTP/1.1 200"), "still served");
    }
    // The server learns of the close a moment later: until then a new connection is refused
    // (and counted as refused).
    drop(open.pop());
    let mut refused = 3;
    let start = now();
    loop {
        let mut again = connect(&server);
        let _ =
            again.write_all(b"GET /healthz HTTP/1.1\r\nHost: twofold\r\nConnection: close\r\n\r\n");
        let (_, got) = closed_within(&mut again, now(), Duration::from_secs(2));
        if got.starts_with("HTTP/1.1 200") {
            break;
        }
        assert_eq!(got, "", "a refused connection was answered");
        refused += 1;
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "the place was not freed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(open);
    let text = server.api(&metrics).get("/metrics").json;
    let text = text.as_str().unwrap();
    assert!(
        text.contains(&format!("twofold_connections_refused_total {refused}\n")),
        "{refused} refused: {text}"
    );
}

/// Over the cap of connections in total, whatever their address, a new one is closed at once.
#[test]
fn connections_over_the_total_cap_are_closed_at_once() {
    let env = Env::new(Db::Sqlite);
    let server = env.serve_with(&[("TWOFOLD_TEST_MAX_CONNECTIONS", "2")]);
    let mut open: Vec<TcpStream> = (0..2).map(|_| connect(&server)).collect();
    for stream in &mut open {
        assert!(healthz(stream).starts_with("HTTP/1.1 200"));
    }
    let start = now();
    let mut extra = connect(&server);
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: twofold\r\n\r\n");
    let (_, got) = closed_within(&mut extra, start, Duration::from_secs(2));
    assert_eq!(got, "", "an extra connection was answered");
    assert!(healthz(&mut open[0]).starts_with("HTTP/1.1 200"));
}

/// The answers in `got`, and how many of them said `Connection: close`.
fn answers(got: &str) -> (usize, usize) {
    let heads: Vec<&str> = got
        .split("HTTP/1.1 ")
        .skip(1)
        .filter_map(|answer| answer.split("\r\n\r\n").next())
        .collect();
    let closing = heads
        .iter()
        .filter(|head| head.to_lowercase().contains("connection: close"))
        .count();
    (heads.len(), closing)
}

/// Clients that pipeline requests and stop reading the answers: once a write to them has made
/// no progress for the write timeout, their connections are reset, so they cannot hold the
/// server's connections (here both of them) for ever.
#[test]
fn clients_that_stop_reading_are_cut_off_after_the_write_timeout() {
    let env = Env::new(Db::Sqlite);
    let server = env.serve_with(&[
        ("TWOFOLD_TEST_WRITE_TIMEOUT_MS", "500"),
        ("TWOFOLD_TEST_MAX_CONNECTIONS", "2"),
    ]);
    let request = "GET /api/openapi.json HTTP/1.1\r\nHost: twofold\r\n\r\n";
    // Both connections are served once (so both hold a place), then ask for enough answers to
    // fill both sides' socket buffers many times over, and read none of them.
    let mut slow: Vec<TcpStream> = (0..2).map(|_| connect(&server)).collect();
    let mut size = 0;
    for stream in &mut slow {
        stream.write_all(request.as_bytes()).unwrap();
        size = read_answer(stream).len();
    }
    let count = (32 << 20) / size + 1;
    let pipelined = request.repeat(count);
    let start = now();
    for stream in &mut slow {
        // What the server does not take in a second stays unsent: it reads requests only as it
        // answers them.
        stream
            .set_write_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let _ = stream.write_all(pipelined.as_bytes());
    }

    // Both places are taken until the server gives up on both slow clients (which the test
    // must not read from before: reading would let the server go on writing).
    loop {
        let mut fresh: Vec<TcpStream> = (0..2).map(|_| connect(&server)).collect();
        let served = fresh
            .iter_mut()
            .map(|stream| {
                let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: twofold\r\n\r\n");
                answer_or_close(stream)
            })
            .filter(|answer| {
                answer
                    .as_ref()
                    .is_some_and(|a| a.starts_with("HTTP/1.1 200"))
            })
            .count();
        if served == 2 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the clients that stopped reading still hold {} connections",
            2 - served
        );
        drop(fresh);
        std::thread::sleep(Duration::from_millis(100));
    }
    for stream in &mut slow {
        let (_, got) = closed_within(stream, now(), Duration::from_secs(5));
        // Cut off, not ended by the request limit (whose last answer says so) or by answering
        // everything.
        let (answered, closing) = answers(&got);
        assert_eq!(closing, 0, "{answered} answers, the last saying close");
        assert!(answered < count, "all {count} answered");
    }
    assert_eq!(server.anonymous().get("/healthz").status, 200);
}

/// A connection serves at most the request limit: the last answer says `Connection: close` and
/// the connection is closed after it, requests pipelined behind it unanswered.
#[test]
fn a_connection_serves_at_most_the_request_limit() {
    let env = Env::new(Db::Sqlite);
    let server = env.serve_with(&[("TWOFOLD_TEST_MAX_REQUESTS_PER_CONNECTION", "5")]);

    let mut kept = connect(&server);
    for n in 1..5 {
        let answer = healthz(&mut kept);
        assert!(answer.starts_with("HTTP/1.1 200"), "{n}: {answer:?}");
        assert_eq!(answers(&answer), (1, 0), "{n}: kept alive: {answer:?}");
    }
    let last = healthz(&mut kept);
    assert!(last.starts_with("HTTP/1.1 200"), "{last:?}");
    assert_eq!(answers(&last), (1, 1), "the fifth closes: {last:?}");
    let (_, rest) = closed_within(&mut kept, now(), Duration::from_secs(3));
    assert_eq!(rest, "");

    let mut pipelining = connect(&server);
    pipelining
        .write_all(
            b"GET /healthz HTTP/1.1\r\nHost: twofold\r\n\r\n"
                .repeat(8)
                .as_slice(),
        )
        .unwrap();
    let (_, got) = closed_within(&mut pipelining, now(), Duration::from_secs(3));
    assert_eq!(answers(&got), (5, 1), "{got:?}");
    assert!(got.starts_with("HTTP/1.1 200"), "{got:?}");
}

/// Past its lifetime a connection takes no new request: a busy one is closed after an answer
/// (which says so, or before the next request), an idle one at once.
#[test]
fn a_connection_is_closed_once_past_its_lifetime() {
    let env = Env::new(Db::Sqlite);
    let server = env.serve_with(&[("TWOFOLD_TEST_CONNECTION_AGE_MS", "800")]);
    let start = now();
    let mut busy = connect(&server);
    let mut idle = connect(&server);
    assert!(healthz(&mut idle).starts_with("HTTP/1.1 200"));

    let mut served = 0;
    let closed_after = loop {
        let _ = busy.write_all(b"GET /healthz HTTP/1.1\r\nHost: twofold\r\n\r\n");
        let Some(answer) = answer_or_close(&mut busy) else {
            break start.elapsed();
        };
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer:?}");
        served += 1;
        if answers(&answer).1 == 1 {
            let (after, rest) = closed_within(&mut busy, start, Duration::from_secs(3));
            assert_eq!(rest, "");
            break after;
        }
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "still kept alive after {served} answers"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        closed_after >= Duration::from_millis(700),
        "closed after {closed_after:?}"
    );
    assert!(served >= 3, "only {served} answers");

    let (after, got) = closed_within(&mut idle, start, Duration::from_secs(3));
    assert_eq!(got, "");
    assert!(
        after >= Duration::from_millis(700),
        "closed after {after:?}"
    );
    assert_eq!(server.anonymous().get("/healthz").status, 200);
}

/// A request still in flight when a connection is past its lifetime gets the closing grace to
/// finish; past it the connection is cut off whatever it was doing (here waiting for a body
/// whose own timeout is far off).
#[test]
fn a_request_still_in_flight_after_the_closing_grace_is_cut_off() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "validate");
    let server = env.serve_with(&[
        ("TWOFOLD_TEST_CONNECTION_AGE_MS", "500"),
        ("TWOFOLD_TEST_CLOSING_GRACE_MS", "500"),
    ]);
    let start = now();
    let mut stalled = stalled_body(&server, &token);
    let (after, got) = closed_within(&mut stalled, start, Duration::from_secs(3));
    assert_eq!(got, "", "answered");
    assert!(
        after >= Duration::from_millis(800),
        "closed after {after:?}"
    );
    assert_eq!(server.anonymous().get("/healthz").status, 200);
}

/// SIGTERM with a client whose request never completes: the server stops accepting, waits for
/// the shutdown deadline, and exits cleanly then.
#[test]
fn sigterm_exits_by_the_deadline_despite_a_stalled_client() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "validate");
    let mut server = env.serve_with(&[
        ("TWOFOLD_TEST_SHUTDOWN_DRAIN_MS", "800"),
        ("TWOFOLD_LOG", "info"),
    ]);
    let _stalled = stalled_body(&server, &token);
    let mut half = connect(&server);
    half.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
    // Let the server take the stalled request in.
    std::thread::sleep(Duration::from_millis(300));
    let start = now();
    server.signal("TERM");
    let status = server.exited_within(Duration::from_secs(3));
    let after = start.elapsed();
    assert!(status.is_some(), "still running 3 s after SIGTERM");
    assert!(status.unwrap().success(), "{status:?}");
    assert!(
        after >= Duration::from_millis(600),
        "exited after {after:?}"
    );
    let log = server.log().join("\n");
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("shutdown deadline"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}

/// A second SIGTERM or SIGINT during the drain exits at once, with a request still in flight.
#[test]
fn a_second_signal_ends_the_drain_at_once() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "validate");
    for (first, second) in [("TERM", "INT"), ("INT", "TERM"), ("TERM", "TERM")] {
        let mut server = env.serve_with(&[("TWOFOLD_LOG", "info")]);
        let _stalled = stalled_body(&server, &token);
        std::thread::sleep(Duration::from_millis(300));
        server.signal(first);
        assert_eq!(
            server.exited_within(Duration::from_millis(300)),
            None,
            "SIG{first}: the drain waits for the request in flight"
        );
        let start = now();
        server.signal(second);
        let status = server.exited_within(Duration::from_secs(2));
        assert!(
            status.is_some_and(|s| s.success()),
            "SIG{first} then SIG{second}: {status:?} after {:?}",
            start.elapsed()
        );
        let log = server.log().join("\n");
        assert!(log.contains("a second signal"), "{log}");
    }
}
