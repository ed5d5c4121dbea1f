//! Real reverse proxies in front of forward authentication: Debian's nginx (`auth_request` to
//! `/auth/nginx`) and Caddy (`forward_auth` to `/auth/forward`), each running the very file in
//! `examples/forward-auth/` with its placeholders filled in, in front of a small application
//! that tells what it received. Requests go to the proxy as a browser's would (the application's
//! host in `Host`, the session cookie), over plain TCP so that paths arrive exactly as written.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::forward_auth::{PUBLIC, login_url, serve, sign_in};
use crate::on_both;
use crate::portal::{Browser, PASSWORD, add_user, admin_api, confirmed_totp};
use crate::support::{Db, Env};

on_both!(
    nginx_in_front_of_an_application,
    caddy_in_front_of_an_application
);

const APP: &str = "app.example.test";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Nginx,
    Caddy,
}

fn nginx_in_front_of_an_application(db: Db) {
    in_front_of_an_application(db, Kind::Nginx);
}

fn caddy_in_front_of_an_application(db: Db) {
    in_front_of_an_application(db, Kind::Caddy);
}

/// One request a client sent through the proxy; the application's answer or the proxy's.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the application received: the request target as it arrived, and its headers.
#[derive(Debug, Clone)]
struct Seen {
    target: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The marker of the application's own answers: a body with it came from behind the proxy.
const APP_SAYS: &str = "the application answers";

/// The application behind the proxy: answers every request 200 with [`APP_SAYS`] and keeps what
/// it received.
struct Upstream {
    addr: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Upstream {
    fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    Self::serve_one(conn, &seen);
                }
            })
        };
        Upstream {
            addr,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// Reads one request (head only: the tests send no bodies), keeps it, and then answers it,
    /// closing.
    fn serve_one(mut conn: TcpStream, seen: &Mutex<Vec<Seen>>) -> Option<()> {
        conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got).into_owned();
        let head = text.split("\r\n\r\n").next().unwrap_or("");
        let mut lines = head.split("\r\n");
        let target = lines.next()?.split(' ').nth(1)?.to_owned();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let body = format!("{APP_SAYS}: {target}\n");
        seen.lock().unwrap().push(Seen { target, headers });
        let _ = conn.write_all(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        Some(())
    }

    /// What it received since the last call.
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A running nginx or Caddy, killed (by its PID) when dropped.
struct Proxy {
    kind: Kind,
    child: Option<Child>,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

/// The example file with its placeholders filled in.
fn example(file: &str, fill: &[(&str, &str)]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/forward-auth")
        .join(file);
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (placeholder, value) in fill {
        assert!(text.contains(placeholder), "{file} has no {placeholder}");
        text = text.replace(placeholder, value);
    }
    text
}

/// Fails (never skips) when the proxy is not installed.
fn require(kind: Kind) {
    let (program, arg) = match kind {
        Kind::Nginx => ("nginx", "-V"),
        Kind::Caddy => ("caddy", "version"),
    };
    let out = Command::new(program).arg(arg).output().unwrap_or_else(|e| {
        panic!(
            "{program} cannot be run ({e}): ./scripts/test installs it (Debian's {program} \
             package), or apt-get install {program}"
        )
    });
    assert!(out.status.success(), "{program} {arg} failed");
    if kind == Kind::Nginx {
        // nginx -V prints its build options to stderr.
        let built = String::from_utf8_lossy(&out.stderr);
        assert!(
            built.contains("http_auth_request"),
            "this nginx lacks the auth_request module; Debian's nginx package (which \
             ./scripts/test installs) has it"
        );
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Proxy {
    /// Starts `kind` on a free loopback port in front of `upstream`, asking Twofold at
    /// `twofold` (host:port); waits until it listens.
    fn start(kind: Kind, twofold: &str, upstream: &str) -> Proxy {
        require(kind);
        let mut last_log = String::new();
        for _attempt in 0..3 {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            let log = d.join("proxy.log");
            let port = free_port();
            let mut cmd = match kind {
                Kind::Nginx => {
                    let site = example(
                        "nginx.conf",
                        &[
                            ("LISTEN_PORT", &format!("127.0.0.1:{port}")),
                            ("APP_HOST", APP),
                            ("AUTH_HOST", "auth.example.test"),
                            ("TWOFOLD_ADDRESS", twofold),
                            ("APP_UPSTREAM", upstream),
                        ],
                    );
                    std::fs::write(d.join("twofold.conf"), site).unwrap();
                    // The main configuration an installed nginx has, here: in the foreground,
                    // one process (killed by its PID), every path in the temporary directory,
                    // as the current user.
                    let p = d.display();
                    let main = format!(
                        "daemon off;\nmaster_process off;\npid {p}/nginx.pid;\n\
                         error_log stderr info;\nevents {{ worker_connections 64; }}\n\
                         http {{\n  access_log {p}/access.log;\n\
                         client_body_temp_path {p}/body;\n  proxy_temp_path {p}/proxy;\n\
                         fastcgi_temp_path {p}/fastcgi;\n  uwsgi_temp_path {p}/uwsgi;\n\
                         scgi_temp_path {p}/scgi;\n  include {p}/twofold.conf;\n}}\n"
                    );
                    std::fs::write(d.join("nginx.conf"), main).unwrap();
                    let mut c = Command::new("nginx");
                    c.arg("-p")
                        .arg(d)
                        .args(["-e", "stderr", "-c"])
                        .arg(d.join("nginx.conf"));
                    c
                }
                Kind::Caddy => {
                    let site = example(
                        "Caddyfile",
                        &[
                            ("APP_SITE", &format!("http://{APP}:{port}")),
                            ("AUTH_SITE", &format!("http://auth.example.test:{port}")),
                            ("TWOFOLD_ADDRESS", twofold),
                            ("APP_UPSTREAM", upstream),
                        ],
                    );
                    // Global options first: no admin endpoint, no certificates, the loopback
                    // only.
                    let file = format!(
                        "{{\n\tadmin off\n\tauto_https off\n\tdefault_bind 127.0.0.1\n}}\n\n{site}"
                    );
                    std::fs::write(d.join("Caddyfile"), file).unwrap();
                    let mut c = Command::new("caddy");
                    c.args(["run", "--adapter", "caddyfile", "--config"])
                        .arg(d.join("Caddyfile"))
                        .env("HOME", d)
                        .env("XDG_CONFIG_HOME", d)
                        .env("XDG_DATA_HOME", d);
                    c
                }
            };
            let log_file = std::fs::File::create(&log).unwrap();
            let child = cmd
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().unwrap())
                .stderr(log_file)
                .spawn()
                .unwrap();
            let mut proxy = Proxy {
                kind,
                child: Some(child),
                port,
                log: log.clone(),
                _dir: dir,
            };
            if proxy.listening() {
                return proxy;
            }
            // The port was taken in between, or the configuration failed (then every attempt
            // fails alike, and the log says why).
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("{kind:?} did not start:\n{last_log}");
    }

    /// Waits until the proxy accepts connections; false when it exited first.
    fn listening(&mut self) -> bool {
        for _ in 0..750 {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                eprintln!("{:?} exited: {status}", self.kind);
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "{:?} did not listen within 15 s:\n{}",
            self.kind,
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
    }

    /// `GET path` through the proxy for the application's host, with `headers` (a cookie, a
    /// forged header).
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        self.get_host(&format!("{APP}:{}", self.port), path, headers)
    }

    fn get_host(&self, host: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n");
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("Connection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).unwrap();
        let mut got = Vec::new();
        loop {
            let mut buf = [0u8; 8192];
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if !got.is_empty() => {
                    eprintln!("reading after {} bytes: {e}", got.len());
                    break;
                }
                Err(e) => panic!("{:?} GET {path}: {e}", self.kind),
            }
        }
        let text = String::from_utf8_lossy(&got).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{:?} GET {path}: no status in {head:?}", self.kind));
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let chunked = headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
        });
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// The URL a browser asked for, as the proxy tells Twofold (and Twofold sends it back in
    /// `next=`).
    fn url(&self, path: &str) -> String {
        format!("http://{APP}:{}{path}", self.port)
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = child.kill();
        let _ = child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- {:?} log:\n{}\n---",
                self.kind,
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

/// The session cookie of a browser signed in on the portal, as the proxy receives it.
fn cookie_of(b: &Browser) -> String {
    format!("tf_session={}", b.cookie("tf_session").unwrap())
}

/// Asserts the answer is a redirect to the sign-in that comes back to `url`, and that nothing
/// reached the application.
fn sends_to_sign_in(proxy: &Proxy, upstream: &Upstream, r: &Answer, url: &str) {
    assert_eq!(r.status, 302, "{:?} {url}: {r:?}", proxy.kind);
    assert_eq!(
        r.header("location"),
        Some(login_url(url).as_str()),
        "{:?} {url}",
        proxy.kind
    );
    assert!(!r.body.contains(APP_SAYS), "{r:?}");
    assert_eq!(
        upstream.take().len(),
        0,
        "{:?} {url} reached the app",
        proxy.kind
    );
}

/// Asserts the application answered `path` for `user` and received who it is.
fn passes_as(upstream: &Upstream, r: &Answer, path: &str, user: (&str, &str, &str)) {
    assert_eq!(r.status, 200, "{path}: {r:?}");
    assert!(r.body.contains(APP_SAYS), "{path}: {r:?}");
    let seen = upstream.take();
    assert_eq!(seen.len(), 1, "{path}: {seen:?}");
    let s = &seen[0];
    assert_eq!(s.target, path, "the application gets the path as sent");
    assert_eq!(s.header("remote-user"), Some(user.0), "{s:?}");
    assert_eq!(s.header("remote-email").unwrap_or(""), user.1, "{s:?}");
    assert_eq!(s.header("remote-role"), Some(user.2), "{s:?}");
    let users = s
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("remote-user"))
        .count();
    assert_eq!(users, 1, "one Remote-User only: {s:?}");
}

fn in_front_of_an_application(db: Db, kind: Kind) {
    let env = Env::new(db);
    let server = serve(&env, true);
    let api = admin_api(&env, &server);
    add_user(&env, "carl", "client", &["--email", "carl@example.test"]);
    let carl_secret = confirmed_totp(&api, "carl", "phone").1;
    add_user(&env, "dora", "client", &[]);
    confirmed_totp(&api, "dora", "phone");
    let upstream = Upstream::start();
    let twofold = server.base.trim_start_matches("http://");
    let proxy = Proxy::start(kind, twofold, &upstream.addr);

    // Signed out: the sign-in, which comes back to the URL asked for (port and query too).
    for path in ["/", "/wiki/page?x=1&y=%C3%A9"] {
        let r = proxy.get(path, &[]);
        sends_to_sign_in(&proxy, &upstream, &r, &proxy.url(path));
    }
    assert!(login_url("").starts_with(PUBLIC));
    // A bypass path passes anyone, and names nobody, whatever the client claims.
    let r = proxy.get(
        "/public/a",
        &[
            ("Remote-User", "owner"),
            ("Remote-Email", "owner@example.test"),
            ("Remote-Role", "owner"),
        ],
    );
    assert_eq!(r.status, 200, "{r:?}");
    let seen = upstream.take();
    assert_eq!(seen.len(), 1);
    for name in ["remote-user", "remote-email", "remote-role"] {
        assert_eq!(
            seen[0].header(name).unwrap_or(""),
            "",
            "{kind:?}: a client's {name} reached the application: {:?}",
            seen[0]
        );
    }

    // carl, signed in with both factors (on the portal, as a browser would be).
    let mut b = Browser::new(&server);
    let app = proxy.url("/");
    let r = sign_in(&mut b, "carl", &carl_secret, 1, &app);
    assert_eq!(r.location.as_deref(), Some(app.as_str()), "{}", r.body);
    let carl = cookie_of(&b);
    let who = ("carl", "carl@example.test", "client");
    let r = proxy.get("/wiki/page?x=1", &[("Cookie", &carl)]);
    passes_as(&upstream, &r, "/wiki/page?x=1", who);
    // What the client sends under those names is replaced by what Twofold says.
    let r = proxy.get(
        "/wiki/",
        &[
            ("Cookie", &carl),
            ("Remote-User", "ada"),
            ("Remote-Email", "ada@example.test"),
            ("Remote-Role", "owner"),
        ],
    );
    passes_as(&upstream, &r, "/wiki/", who);

    // A deny rule (the admin area, for clients): 403, and the application never sees it.
    for path in ["/admin", "/admin/users", "/%61dmin/users", "/ADMIN"] {
        let r = proxy.get(path, &[("Cookie", &carl)]);
        assert_eq!(r.status, 403, "{kind:?} {path}: {r:?}");
        assert!(!r.body.contains(APP_SAYS));
        assert_eq!(upstream.take().len(), 0, "{kind:?} {path}");
    }

    // Dot segments in any spelling: Twofold refuses to judge them (400), the proxy turns that
    // into an error, and the application is not reached, signed in or not.
    for path in [
        "/public/../admin",
        "/public/%2e%2e/admin",
        "/public/%2E%2E/admin",
        "/public/..%2fadmin",
        "/public/..%2Fadmin/users",
        "/public/.%2e/admin",
        "/public/..;/admin",
        "/wiki/../admin",
    ] {
        for cookie in [None, Some(carl.as_str())] {
            let headers: Vec<(&str, &str)> = cookie.map(|c| ("Cookie", c)).into_iter().collect();
            let r = proxy.get(path, &headers);
            assert!(
                r.status >= 400 && !r.body.contains(APP_SAYS),
                "{kind:?} {path} (cookie: {}): {r:?}",
                cookie.is_some()
            );
            let seen = upstream.take();
            assert!(
                seen.is_empty(),
                "{kind:?} {path} reached the application: {seen:?}"
            );
        }
    }

    // Forged forwarding headers sent to the proxy do not change what is asked: the proxy sets
    // them from the request itself.
    let r = proxy.get(
        "/",
        &[
            ("X-Original-URL", "http://public.example.test/"),
            ("X-Original-Method", "GET"),
            ("X-Forwarded-Host", "public.example.test"),
            ("X-Forwarded-Uri", "/public/x"),
            ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Method", "GET"),
        ],
    );
    sends_to_sign_in(&proxy, &upstream, &r, &app);

    // dora signs in for the one_factor part (the password only): it passes, the two_factor
    // rest does not (the sign-in again, for the second factor).
    let docs = proxy.url("/docs/");
    let mut d = Browser::new(&server);
    let r = d.login("dora", PASSWORD, &docs);
    assert_eq!(r.location.as_deref(), Some(docs.as_str()), "{}", r.body);
    let dora = cookie_of(&d);
    let r = proxy.get("/docs/", &[("Cookie", &dora)]);
    passes_as(&upstream, &r, "/docs/", ("dora", "", "client"));
    let r = proxy.get("/wiki/", &[("Cookie", &dora)]);
    sends_to_sign_in(&proxy, &upstream, &r, &proxy.url("/wiki/"));

    // Signing out on the portal: the application asks again.
    let csrf = b.get("/account/security").csrf();
    assert_eq!(b.post("/logout", &[("csrf", &csrf)]).status, 303);
    let r = proxy.get("/wiki/", &[("Cookie", &carl)]);
    sends_to_sign_in(&proxy, &upstream, &r, &proxy.url("/wiki/"));
}

/// A peer that is not a trusted proxy gets 403 `untrusted_proxy` however it forges the original
/// request, directly or through a proxy Twofold does not trust.
#[test]
fn forged_original_requests_from_untrusted_peers_are_refused() {
    let env = Env::new(Db::Sqlite);
    // Trusts 10.9.9.9 only: the test (and the proxies) connect from 127.0.0.1.
    let server = serve(&env, false);
    let api = crate::support::Api::new(&server.base, None);
    let twofold = server.base.trim_start_matches("http://");
    for (path, forged) in [
        (
            "/auth/nginx",
            "X-Original-URL: http://public.example.test/\r\nX-Original-Method: GET",
        ),
        (
            "/auth/forward",
            "X-Forwarded-Proto: http\r\nX-Forwarded-Host: public.example.test\r\n\
             X-Forwarded-Uri: /\r\nX-Forwarded-Method: GET\r\nX-Forwarded-For: 10.9.9.9",
        ),
    ] {
        let r = api.raw_tcp(&format!("GET {path} HTTP/1.1\r\n{forged}"), Vec::new());
        assert_eq!(r.status, 403, "{path}: {r:?}");
        assert_eq!(r.error_code(), "untrusted_proxy", "{path}");
    }
    let upstream = Upstream::start();
    for kind in [Kind::Nginx, Kind::Caddy] {
        let proxy = Proxy::start(kind, twofold, &upstream.addr);
        for path in ["/public/x", "/"] {
            let r = proxy.get(path, &[]);
            assert_eq!(r.status, 403, "{kind:?} {path}: {r:?}");
            assert!(!r.body.contains(APP_SAYS));
        }
        assert_eq!(upstream.take().len(), 0, "{kind:?}");
    }
}
