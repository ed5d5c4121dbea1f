//! The test harness: a fresh environment (data dir + database) per test, the server as a child
//! process, the CLI against the same database, an HTTP client, and oathtool.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Defines `NAME_sqlite` and `NAME_postgres` tests that both run `NAME(Db)`.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name($crate::support::Db::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                if $crate::support::skip_postgres() { return; }
                super::$name($crate::support::Db::Postgres)
            } )*
        }
    };
}

/// PostgreSQL variants fail without a server, unless explicitly skipped.
pub fn skip_postgres() -> bool {
    if std::env::var_os("TWOFOLD_TEST_POSTGRES_URL").is_some() {
        return false;
    }
    if std::env::var("TWOFOLD_TEST_SKIP_POSTGRES").as_deref() == Ok("1") {
        return true;
    }
    panic!(
        "TWOFOLD_TEST_POSTGRES_URL is not set: run through ./scripts/test (or scripts/with-postgres)"
    );
}

pub fn now() -> u64 {
    #[allow(clippy::disallowed_methods)]
    let t = SystemTime::now();
    t.duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    #[allow(clippy::disallowed_methods)]
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A data directory and a database of its own.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub db: Db,
    pub database_url: String,
}

impl Env {
    pub fn new(db: Db) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let database_url = match db {
            Db::Sqlite => format!("sqlite://{}", dir.path().join("twofold.db").display()),
            Db::Postgres => {
                let base = std::env::var("TWOFOLD_TEST_POSTGRES_URL").unwrap();
                let name = unique("tf");
                let out = Command::new("psql")
                    .args([&base, "-q", "-c", &format!("CREATE DATABASE {name}")])
                    .output()
                    .expect("psql");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let cut = base.rfind('/').unwrap();
                format!("{}/{name}", &base[..cut])
            }
        };
        Env {
            dir,
            db,
            database_url,
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The `twofold` command for this environment, to add arguments and variables to.
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_twofold"));
        c.env_remove("TWOFOLD_CONFIG")
            .env("TWOFOLD_DATA_DIR", self.dir.path())
            .env("TWOFOLD_DATABASE_URL", &self.database_url)
            .env("TWOFOLD_LISTEN", "127.0.0.1:0")
            .env("TWOFOLD_LOG", "warn");
        c
    }

    /// Runs a CLI command against this environment.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs a CLI command with `input` on stdin.
    pub fn cli_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    /// Runs a CLI command that must succeed; returns its stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(
            out.status.success(),
            "twofold {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Creates an API token of `scope`.
    pub fn token(&self, name: &str, scope: &str) -> String {
        self.cli_ok(&["token", "create", name, "--scope", scope])
            .trim()
            .to_owned()
    }

    /// Starts `twofold serve` and waits until it listens.
    pub fn serve(&self) -> Server {
        self.serve_with(&[])
    }

    pub fn serve_with(&self, env: &[(&str, &str)]) -> Server {
        let mut cmd = self.command();
        cmd.arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        // The log goes to stderr: read it in the background too (tests may inspect it).
        let stderr = child.stderr.take().unwrap();
        let errs = std::thread::spawn(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<_>>()
        });
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next().expect("serve printed nothing").unwrap();
        let base = first
            .strip_prefix("twofold listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        // With a RADIUS server, its address is the next line.
        let radius = env
            .iter()
            .any(|(k, v)| *k == "TWOFOLD_RADIUS_LISTEN" && !v.is_empty())
            .then(|| {
                let line = lines.next().expect("no RADIUS line").unwrap();
                line.strip_prefix("RADIUS listening on udp ")
                    .unwrap_or_else(|| panic!("unexpected RADIUS line {line:?}"))
                    .parse::<std::net::SocketAddr>()
                    .unwrap()
            });
        // Keep reading stdout in the background so the child never blocks on a full pipe.
        let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
        Server {
            child: Some(child),
            base,
            radius,
            rest: Some(rest),
            errs: Some(errs),
        }
    }

    /// Every byte of the database: the SQLite files, or a pg_dump of the PostgreSQL database.
    pub fn database_bytes(&self) -> Vec<u8> {
        match self.db {
            Db::Sqlite => {
                let mut all = Vec::new();
                for suffix in ["", "-wal", "-shm"] {
                    let p: PathBuf = self.dir.path().join(format!("twofold.db{suffix}"));
                    if let Ok(b) = std::fs::read(&p) {
                        all.extend(b);
                    }
                }
                assert!(!all.is_empty());
                all
            }
            Db::Postgres => {
                let out = Command::new("pg_dump")
                    .arg(&self.database_url)
                    .output()
                    .expect("pg_dump");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                out.stdout
            }
        }
    }

    /// Runs SQL statements on this environment's database directly (Python's sqlite3 module,
    /// or psql), for a test that plants a fault the product cannot make itself.
    pub fn sql(&self, statements: &str) {
        let out = match self.db {
            Db::Sqlite => Command::new("python3")
                .args([
                    "-c",
                    "import sqlite3, sys\n\
                     c = sqlite3.connect(sys.argv[1])\n\
                     c.executescript(sys.argv[2])\n\
                     c.commit()",
                ])
                .arg(self.dir.path().join("twofold.db"))
                .arg(statements)
                .output()
                .expect("python3"),
            Db::Postgres => Command::new("psql")
                .args([
                    &self.database_url,
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    statements,
                ])
                .output()
                .expect("psql"),
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The database's content as SQL, to tell whether a command wrote: SQLite's own dump (by
    /// Python's sqlite3 module, read-only), or a pg_dump without the random token recent
    /// versions put in every dump. Unlike the files' bytes, it does not change when a
    /// connection merely checkpoints the WAL or rewrites its index.
    pub fn database_dump(&self) -> String {
        match self.db {
            Db::Sqlite => {
                let script = "import sqlite3, sys\n\
                              c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)\n\
                              print('\\n'.join(c.iterdump()))";
                let out = Command::new("python3")
                    .args(["-c", script])
                    .arg(self.dir.path().join("twofold.db"))
                    .output()
                    .expect("python3");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8(out.stdout).unwrap()
            }
            Db::Postgres => String::from_utf8(self.database_bytes())
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
                .map(|l| format!("{l}\n"))
                .collect(),
        }
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if self.db != Db::Postgres {
            return;
        }
        if let (Ok(base), Some(name)) = (
            std::env::var("TWOFOLD_TEST_POSTGRES_URL"),
            self.database_url.rsplit('/').next(),
        ) {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = Command::new("psql")
                .args([&base, "-q", "-c", &drop])
                .output();
        }
    }
}

/// A running server, stopped when dropped.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    /// The RADIUS server's address, when `TWOFOLD_RADIUS_LISTEN` was set.
    pub radius: Option<std::net::SocketAddr>,
    rest: Option<std::thread::JoinHandle<Vec<String>>>,
    errs: Option<std::thread::JoinHandle<Vec<String>>>,
}

impl Server {
    pub fn api(&self, token: &str) -> Api {
        Api::new(&self.base, Some(token))
    }

    pub fn anonymous(&self) -> Api {
        Api::new(&self.base, None)
    }

    /// Sends SIGTERM and waits; returns the exit status and the rest of stdout.
    pub fn terminate(self) -> (std::process::ExitStatus, Vec<String>) {
        let (status, out, _) = self.terminate_with_log();
        (status, out)
    }

    /// Sends SIGTERM and waits; returns the exit status, the rest of stdout and all of stderr
    /// (the log).
    pub fn terminate_with_log(mut self) -> (std::process::ExitStatus, Vec<String>, Vec<String>) {
        let mut child = self.child.take().unwrap();
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let status = child.wait().unwrap();
        let rest = self.rest.take().unwrap().join().unwrap();
        let errs = self.errs.take().unwrap().join().unwrap();
        (status, rest, errs)
    }
}

impl Server {
    /// Sends `name` (`TERM`, `INT`, …) to the server.
    pub fn signal(&self, name: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Polls for the server's exit for at most `limit`: its status, or `None` while it runs.
    pub fn exited_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut().unwrap();
        for _ in 0..=limit.as_millis() / 20 {
            if let Some(status) = child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Stops the server if it still runs and returns its log (stderr).
    pub fn log(mut self) -> Vec<String> {
        let mut child = self.child.take().unwrap();
        let _ = child.kill();
        let _ = child.wait();
        self.rest.take().unwrap().join().unwrap();
        self.errs.take().unwrap().join().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let Some(mut c) = self.child.take() else {
            return;
        };
        // Whether the server was still running tells a failed test apart from a server that
        // died under it; its log says why.
        let exited = c.try_wait().ok().flatten();
        let _ = c.kill();
        let _ = c.wait();
        if std::thread::panicking() {
            let log = self
                .errs
                .take()
                .and_then(|t| t.join().ok())
                .unwrap_or_default();
            eprintln!(
                "--- server {} ({}) log:\n{}\n---",
                self.base,
                match exited {
                    Some(status) => format!("had exited: {status}"),
                    None => "was running".to_owned(),
                },
                log.join("\n")
            );
        }
    }
}

/// A small JSON client. 4xx/5xx are answers, not errors.
#[derive(Clone)]
pub struct Api {
    agent: ureq::Agent,
    pub base: String,
    token: Option<String>,
    /// Headers sent with every request (e.g. `Accept-Language`).
    headers: Vec<(String, String)>,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub json: Value,
}

impl Reply {
    pub fn error_code(&self) -> &str {
        self.json["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {self:?}"))
    }
}

impl Api {
    pub fn new(base: &str, token: Option<&str>) -> Api {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            // A fresh connection per request: a pooled one the server is closing at that
            // moment fails the request with "Peer disconnected" (a race every HTTP client has,
            // seen once in CI), and no test here is about keep-alive.
            .max_idle_connections(0)
            .build()
            .into();
        Api {
            agent,
            base: base.to_owned(),
            token: token.map(str::to_owned),
            headers: Vec::new(),
        }
    }

    /// The same client, sending header `name` with every request.
    pub fn with_header(&self, name: &str, value: &str) -> Api {
        let mut api = self.clone();
        api.headers.push((name.to_owned(), value.to_owned()));
        api
    }

    pub fn with_token(&self, token: Option<&str>) -> Api {
        Api {
            token: token.map(str::to_owned),
            ..self.clone()
        }
    }

    pub fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut req = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(t) = &self.token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        for (name, value) in &self.headers {
            req = req.header(name, value);
        }
        let resp = match body {
            Some(b) => self.agent.run(req.body(b).unwrap()),
            None => self.agent.run(req.body(()).unwrap()),
        }
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.into_body().read_to_string().unwrap_or_default();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, json }
    }

    /// Sends `head` (request line and headers, without the blank line) and then `body` over a
    /// plain TCP connection, writing from a second thread so a server that answers early and
    /// closes cannot turn the test into a broken pipe; returns the status and the parsed body.
    pub fn raw_tcp(&self, head: &str, body: Vec<u8>) -> Reply {
        use std::io::Read;
        let authority = self.base.trim_start_matches("http://");
        let stream = std::net::TcpStream::connect(authority).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut auth = String::new();
        if let Some(t) = &self.token {
            auth = format!("Authorization: Bearer {t}\r\n");
        }
        let mut request = format!("{head}\r\nHost: {authority}\r\n{auth}\r\n").into_bytes();
        request.extend_from_slice(&body);
        let mut writer = stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            // Errors are expected once the server has answered and closed.
            let _ = writer.write_all(&request);
        });
        let mut got = Vec::new();
        let mut reader = stream;
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                // A reset after the answer arrived (the server closed with our bytes unread).
                Err(_) if !got.is_empty() => break,
                // Linux does not restart a read with a timeout after a signal, even with
                // SA_RESTART; this machine delivers such interruptions now and then.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => panic!("{head}: {e} ({:?})", e.kind()),
            }
        }
        let _ = reader.shutdown(std::net::Shutdown::Both);
        sender.join().unwrap();
        let text = String::from_utf8_lossy(&got).into_owned();
        let (resp_head, resp_body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = resp_head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{head}: no status in {resp_head:?}"));
        let json = serde_json::from_str(resp_body).unwrap_or(Value::String(resp_body.to_owned()));
        Reply { status, json }
    }

    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        match body {
            Some(b) => self.raw(
                method,
                path,
                Some("application/json"),
                Some(serde_json::to_vec(b).unwrap()),
            ),
            None => self.raw(method, path, None, None),
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None)
    }

    pub fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(&body))
    }

    pub fn post_empty(&self, path: &str) -> Reply {
        self.call("POST", path, None)
    }

    pub fn patch(&self, path: &str, body: Value) -> Reply {
        self.call("PATCH", path, Some(&body))
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.call("DELETE", path, None)
    }

    pub fn validate(&self, username: &str, code: &str) -> Value {
        let r = self.post(
            "/api/v1/validate",
            serde_json::json!({"username": username, "code": code}),
        );
        assert_eq!(r.status, 200, "{r:?}");
        r.json
    }

    /// The status of a validation call (for refused tokens).
    pub fn validate_status(&self, username: &str, code: &str) -> u16 {
        self.post(
            "/api/v1/validate",
            serde_json::json!({"username": username, "code": code}),
        )
        .status
    }

    /// Creates a user and a confirmed TOTP factor; returns the secret and the backup codes.
    pub fn enrolled_user(&self, username: &str) -> (String, Vec<String>) {
        let r = self.post("/api/v1/users", serde_json::json!({"username": username}));
        assert_eq!(r.status, 201, "{r:?}");
        let (id, secret) = self.start_totp(username, None);
        let r = self.post(
            &format!("/api/v1/users/{username}/factors/{id}/confirm"),
            serde_json::json!({"code": totp(&secret, 0)}),
        );
        assert_eq!(r.status, 200, "{r:?}");
        let codes = r.json["backup_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        (secret, codes)
    }

    /// Starts a TOTP enrolment; returns the factor id and the secret.
    pub fn start_totp(&self, username: &str, label: Option<&str>) -> (String, String) {
        let body = match label {
            Some(l) => serde_json::json!({"kind": "totp", "label": l}),
            None => serde_json::json!({"kind": "totp"}),
        };
        let r = self.post(&format!("/api/v1/users/{username}/factors"), body);
        assert_eq!(r.status, 201, "{r:?}");
        (
            r.json["id"].as_str().unwrap().to_owned(),
            r.json["secret"].as_str().unwrap().to_owned(),
        )
    }
}

/// Runs oathtool (the authenticator app of the tests); its code, trimmed.
pub fn oathtool(args: &[&str]) -> String {
    let out = Command::new("oathtool")
        .args(args)
        .output()
        .expect("oathtool (./scripts/test installs it)");
    assert!(
        out.status.success(),
        "oathtool {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The TOTP code of `secret` `steps` steps from now, computed by oathtool.
pub fn totp(secret: &str, steps: i64) -> String {
    let t = now() as i64 + steps * 30;
    let out = Command::new("oathtool")
        .args(["--totp", "-b", &format!("-N@{t}"), secret])
        .output()
        .expect("oathtool (./scripts/test installs it)");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A 6-digit code that is certainly not the code of any step near now.
pub fn wrong_code(secret: &str) -> String {
    let near: Vec<String> = (-3..=3).map(|s| totp(secret, s)).collect();
    (0..1000)
        .map(|n| format!("{:06}", 123_456 + n))
        .find(|c| !near.contains(c))
        .unwrap()
}
