//! The operator's CLI against a real database, and `serve` start-up and shutdown.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

use crate::on_both;
use crate::support::{Api, Db, Env, totp};

on_both!(
    users_from_the_cli,
    settings_and_tokens_from_the_cli,
    serve_starts_fresh_and_stops_gracefully,
    in_flight_requests_finish_on_sigterm_and_sigint,
);

fn err_line(out: &std::process::Output) -> String {
    let e = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(e.lines().count(), 1, "one error line: {e:?}");
    assert!(e.starts_with("error: "), "{e:?}");
    e
}

fn users_from_the_cli(db: Db) {
    let env = Env::new(db);
    let out = env.cli_stdin(
        &[
            "user",
            "add",
            "Olivia",
            "--role",
            "admin",
            "--email",
            "olivia@example.com",
            "--password-stdin",
        ],
        "correct horse battery\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.cli_ok(&["user", "add", "pat", "--phone", "+44 20 7946 0958"]);

    let out = env.cli(&["user", "add", "olivia"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err_line(&out).contains("already exists"));
    let out = env.cli(&["user", "add", "bad name"]);
    assert_eq!(out.status.code(), Some(1));
    err_line(&out);
    let out = env.cli(&["user", "add", "quinn", "--role", "root"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a role outside the list is a usage error"
    );
    let out = env.cli_stdin(&["user", "add", "quinn", "--password-stdin"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(err_line(&out).contains("no password"));
    let out = env.cli(&["user", "show", "quinn"]);
    assert_eq!(out.status.code(), Some(1), "nothing was created");
    assert!(err_line(&out).contains("no user"));

    let list: Value = serde_json::from_str(&env.cli_ok(&["user", "list", "--json"])).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Olivia", "pat"]);
    assert_eq!(list[1]["phone"], "+442079460958");
    let show: Value =
        serde_json::from_str(&env.cli_ok(&["user", "show", "OLIVIA", "--json"])).unwrap();
    assert_eq!(show["role"], "admin");
    assert_eq!(show["email"], "olivia@example.com");
    assert_eq!(show["factors"], serde_json::json!([]));
    assert!(show.get("password_hash").is_none());

    let out = env.cli_stdin(
        &["user", "set-password", "pat", "--password-stdin"],
        "another good one\n",
    );
    assert!(out.status.success());
    let out = env.cli_stdin(
        &["user", "set-password", "pat", "--password-stdin"],
        "short\n",
    );
    assert_eq!(out.status.code(), Some(1));
    err_line(&out);

    // Disable / enable, reset-2fa, unlock through the CLI, seen by the API.
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let (id, secret) = api.start_totp("pat", None);
    api.post(
        &format!("/api/v1/users/pat/factors/{id}/confirm"),
        serde_json::json!({"code": totp(&secret, 0)}),
    );
    env.cli_ok(&["user", "disable", "pat"]);
    assert_eq!(api.validate("pat", &totp(&secret, 1))["reason"], "disabled");
    env.cli_ok(&["user", "enable", "pat"]);
    assert_eq!(api.validate("pat", &totp(&secret, 1))["ok"], true);
    assert!(env.cli_ok(&["user", "show", "pat"]).contains("2fa: on"));
    env.cli_ok(&["user", "reset-2fa", "pat"]);
    assert!(env.cli_ok(&["user", "show", "pat"]).contains("2fa: off"));
    assert_eq!(
        api.validate("pat", &totp(&secret, 0))["reason"],
        "not_enrolled"
    );
    let out = env.cli(&["user", "unlock", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    err_line(&out);
}

fn settings_and_tokens_from_the_cli(db: Db) {
    let env = Env::new(db);
    let shown = env.cli_ok(&["settings", "show"]);
    assert!(shown.contains("twofactor.enabled = true"));
    assert!(shown.contains("lockout.max_failures = 5"));
    env.cli_ok(&["settings", "set", "totp.window", "2"]);
    env.cli_ok(&[
        "settings",
        "set",
        "methods.duo.client_secret",
        "superSecretDuo00000000000000000000000001",
    ]);
    let json: Value = serde_json::from_str(&env.cli_ok(&["settings", "show", "--json"])).unwrap();
    assert_eq!(json["totp.window"], "2");
    assert_eq!(json["methods.duo.client_secret"], "********");
    assert!(
        !env.cli_ok(&["settings", "show"])
            .contains("superSecretDuo00000000000000000000000001")
    );
    for (key, value, says) in [
        ("no.such", "1", "unknown setting"),
        ("totp.window", "99", "totp.window"),
        ("force.clients", "yes", "true or false"),
    ] {
        let out = env.cli(&["settings", "set", key, value]);
        assert_eq!(out.status.code(), Some(1));
        assert!(err_line(&out).contains(says), "{key}");
    }
    assert_eq!(
        env.cli(&["settings", "set", "totp.window"]).status.code(),
        Some(2)
    );

    let out = env.cli(&["token", "create", "ci", "--scope", "validate"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "only the token: {stdout:?}");
    assert!(stdout.starts_with("tf_") && stdout.trim().len() == 67);
    let list = env.cli_ok(&["token", "list"]);
    assert!(list.contains("ci\tvalidate"));
    assert!(!list.contains(stdout.trim()));
    let out = env.cli(&["token", "create", "ci"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err_line(&out).contains("already exists"));
    assert_eq!(
        env.cli(&["token", "create", "x", "--scope", "god"])
            .status
            .code(),
        Some(2)
    );
    env.cli_ok(&["token", "revoke", "ci"]);
    assert_eq!(env.cli(&["token", "revoke", "ci"]).status.code(), Some(1));
    assert!(env.cli_ok(&["migrate"]).contains("migrations applied"));
}

fn serve_starts_fresh_and_stops_gracefully(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    assert_eq!(server.anonymous().get("/healthz").json["status"], "ok");
    #[cfg(unix)]
    if db == Db::Sqlite {
        use std::os::unix::fs::PermissionsExt;
        let key = env.data_dir().join("master.key");
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "master key mode");
        let dbmode = std::fs::metadata(env.data_dir().join("twofold.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dbmode & 0o077, 0, "database readable by others");
    }
    let (status, rest) = server.terminate();
    assert!(status.success(), "SIGTERM ends serve cleanly: {status:?}");
    let text = rest.join("\n");
    assert!(
        text.contains("/setup/"),
        "a fresh server prints the setup link: {text}"
    );

    // A node with another master key, or none, refuses to start on this database.
    let key_file = env.data_dir().join("master.key");
    let original = std::fs::read_to_string(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let out = env.cli(&["user", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err_line(&out).contains("master key file"), "missing key");
    assert!(!key_file.exists(), "no new key was made");
    std::fs::write(&key_file, format!("{}\n", "ab".repeat(32))).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = env.cli(&["user", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err_line(&out).contains("does not match"), "wrong key");
    std::fs::write(&key_file, original).unwrap();
    env.cli_ok(&["user", "list"]);

    // With an owner, no setup link.
    env.cli_stdin(
        &["user", "add", "root", "--role", "owner", "--password-stdin"],
        "owner password 1\n",
    );
    let server = env.serve();
    let (_, rest) = server.terminate();
    assert!(!rest.join("\n").contains("/setup/"));
}

/// `twofold` with none of the test process's own `TWOFOLD_*` variables: each test says what
/// the configuration is.
fn bare(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twofold"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("TWOFOLD_") {
            c.env_remove(key);
        }
    }
    c.env("TWOFOLD_LOG", "warn").args(args).stdin(Stdio::null());
    c
}

/// `twofold` on `env`'s data dir and database, listening on a free port.
fn on_env(env: &Env, args: &[&str]) -> Command {
    let mut c = bare(args);
    c.env("TWOFOLD_DATA_DIR", env.data_dir())
        .env("TWOFOLD_DATABASE_URL", &env.database_url)
        .env("TWOFOLD_LISTEN", "127.0.0.1:0");
    c
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A failure: status 1, nothing on stdout, one `error:` line; returns that line.
fn run_fails(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{cmd:?}: {out:?}");
    assert!(out.stdout.is_empty(), "{cmd:?} printed {out:?}");
    err_line(&out)
}

/// A `twofold serve` of this file's own, so a test can send it any signal.
struct Running {
    child: Option<Child>,
    base: String,
    out: Option<JoinHandle<Vec<String>>>,
    log: Option<JoinHandle<Vec<String>>>,
}

impl Running {
    fn start(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = std::thread::spawn(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
                .collect()
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = match lines.next() {
            Some(Ok(line)) => line,
            _ => {
                let _ = child.wait();
                panic!("serve printed nothing: {:?}", log.join().unwrap());
            }
        };
        let base = first
            .strip_prefix("twofold listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
            .to_owned();
        let out = std::thread::spawn(move || lines.map_while(Result::ok).collect());
        Running {
            child: Some(child),
            base,
            out: Some(out),
            log: Some(log),
        }
    }

    fn authority(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    /// Waits until the server answers `/healthz`, and a little more. (`serve` prints its
    /// address before its signal handlers are installed: a signal sent at once can still kill
    /// it the default way. Tests of shutdown send theirs once the server is running.)
    fn ready(&self) {
        let health = Api::new(&self.base, None).get("/healthz");
        assert_eq!(health.json["status"], "ok", "{health:?}");
        std::thread::sleep(Duration::from_millis(200));
    }

    fn signal(&self, name: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        let ok = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(ok.success(), "kill -{name} {pid}");
    }

    /// Waits for the process to end (at most 30 s); its status, stdout after the first line,
    /// and the log.
    fn wait(mut self) -> (ExitStatus, Vec<String>, Vec<String>) {
        let mut child = self.child.take().unwrap();
        let mut status = None;
        for _ in 0..300 {
            status = child.try_wait().unwrap();
            if status.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve did not stop within 30 s");
        };
        let out = self.out.take().unwrap().join().unwrap();
        let log = self.log.take().unwrap().join().unwrap();
        (status, out, log)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits (at most 10 s) until `authority` refuses new connections.
fn wait_until_refused(authority: &str) {
    for _ in 0..200 {
        match std::net::TcpStream::connect(authority) {
            Err(_) => return,
            Ok(probe) => drop(probe),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{authority} still accepts connections");
}

/// A request sent in two parts with a signal between them: the server stops taking new
/// connections but answers the one in flight, then exits with status 0. SIGTERM (what service
/// managers send) and SIGINT (Ctrl-C) alike.
fn in_flight_requests_finish_on_sigterm_and_sigint(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    for signal in ["TERM", "INT"] {
        let mut cmd = on_env(&env, &["serve"]);
        cmd.env("TWOFOLD_LOG", "info");
        let server = Running::start(cmd);
        server.ready();
        let name = format!("slow-{}", signal.to_lowercase());
        let body = format!(r#"{{"username": "{name}", "email": "{name}@example.com"}}"#);
        let (first, second) = body.split_at(body.len() / 2);
        let mut stream = std::net::TcpStream::connect(server.authority()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "POST /api/v1/users HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
            server.authority(),
            body.len()
        )
        .unwrap();
        stream.flush().unwrap();
        // Let the server take the request in, then ask it to stop.
        std::thread::sleep(Duration::from_millis(500));
        server.signal(signal);
        wait_until_refused(server.authority());
        // The request in flight is still served.
        stream.write_all(second.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 201"),
            "SIG{signal}: {answer:?}"
        );
        let (head, json) = answer.split_once("\r\n\r\n").unwrap();
        assert!(
            head.to_lowercase().contains("connection: close"),
            "the connection is not kept for more: {head}"
        );
        let json: Value = serde_json::from_str(json).unwrap();
        assert_eq!(json["username"], name.as_str());
        let (status, _, log) = server.wait();
        assert!(
            status.success(),
            "SIG{signal} ends serve cleanly: {status:?}"
        );
        let log = log.join("\n");
        assert!(log.contains("shutting down"), "SIG{signal}: {log}");
        assert!(log.contains("stopped"), "SIG{signal}: {log}");
        // And it was done, not half done.
        let shown = env.cli_ok(&["user", "show", &name, "--json"]);
        let shown: Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(shown["email"], format!("{name}@example.com"));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// The TOML file (`--config` or `TWOFOLD_CONFIG`) sets the listening address and the data
/// directory; a `TWOFOLD_*` variable overrides its key and leaves the others.
#[test]
fn configuration_file_and_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let from_file = tmp.path().join("from-file");
    let port = free_port();
    let config = tmp.path().join("twofold.toml");
    write_file(
        &config,
        &format!(
            "# Twofold\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\n\
             trusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\n",
            from_file.display()
        ),
    );
    let config = config.to_str().unwrap();

    // serve --config: where the file says, with its data in the file's data dir.
    let server = Running::start(bare(&["serve", "--config", config]));
    assert_eq!(server.base, format!("http://127.0.0.1:{port}"));
    server.ready();
    server.signal("TERM");
    let (status, _, _) = server.wait();
    assert!(status.success());
    for file in ["twofold.db", "master.key"] {
        assert!(
            from_file.join(file).is_file(),
            "no {file} in the file's data dir"
        );
    }

    // Data commands take the same file, by --config or TWOFOLD_CONFIG.
    run_ok(bare(&["user", "add", "uma", "--config", config]).env_remove("TWOFOLD_CONFIG"));
    let shown = run_ok(bare(&["user", "show", "uma"]).env("TWOFOLD_CONFIG", config));
    assert!(shown.contains("uma"), "{shown}");
    // --config wins over TWOFOLD_CONFIG.
    let missing = tmp.path().join("nowhere.toml");
    run_ok(bare(&["user", "show", "uma", "--config", config]).env("TWOFOLD_CONFIG", &missing));
    let line = run_fails(bare(&["user", "list"]).env("TWOFOLD_CONFIG", &missing));
    assert!(line.contains("nowhere.toml"), "{line}");
    let line = run_fails(&mut bare(&[
        "user",
        "list",
        "--config",
        missing.to_str().unwrap(),
    ]));
    assert!(line.contains("does not exist"), "{line}");

    // One variable overrides one key: the data dir moves, the address stays the file's.
    let from_env = tmp.path().join("from-env");
    let list = run_ok(
        bare(&["user", "list"])
            .env("TWOFOLD_CONFIG", config)
            .env("TWOFOLD_DATA_DIR", &from_env),
    );
    assert!(
        !list.contains("uma"),
        "another data dir, another database: {list}"
    );
    assert!(from_env.join("twofold.db").is_file());
    let server = Running::start({
        let mut c = bare(&["serve", "--config", config]);
        c.env("TWOFOLD_DATA_DIR", &from_env);
        c
    });
    assert_eq!(server.base, format!("http://127.0.0.1:{port}"));
    drop(server);
    // And the listening address, with the data dir still the file's. The file's port stays
    // taken meanwhile, so the port 0 the variable asks for cannot be handed that one again.
    let _file_port = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let server = Running::start({
        let mut c = bare(&["serve", "--config", config]);
        c.env("TWOFOLD_LISTEN", "127.0.0.1:0");
        c
    });
    assert_ne!(server.base, format!("http://127.0.0.1:{port}"));
    server.ready();
    server.signal("TERM");
    let (status, out, _) = server.wait();
    assert!(status.success(), "{status:?}");
    assert!(
        out.join("\n").contains("/setup/"),
        "no owner in the file's database yet: the setup link"
    );

    // A file that is not TOML, or a key with a bad value: one error line, status 1.
    let bad = tmp.path().join("bad.toml");
    write_file(&bad, "listen = [unclosed\n");
    let line = run_fails(&mut bare(&[
        "user",
        "list",
        "--config",
        bad.to_str().unwrap(),
    ]));
    assert!(line.contains("configuration"), "{line}");
    write_file(&bad, "listen = \"here\"\n");
    let line = run_fails(&mut bare(&[
        "user",
        "list",
        "--config",
        bad.to_str().unwrap(),
    ]));
    assert!(line.contains("listen"), "{line}");
    write_file(
        &bad,
        &format!(
            "data_dir = \"{}\"\ntrusted_proxies = [\"127.0.0.1\", \"localhost\"]\n",
            from_env.display()
        ),
    );
    let line = run_fails(&mut bare(&[
        "user",
        "list",
        "--config",
        bad.to_str().unwrap(),
    ]));
    assert!(
        line.contains("trusted_proxies") && line.contains("localhost"),
        "{line}"
    );
}

/// `TWOFOLD_MASTER_KEY_FILE` puts the key elsewhere: created there with mode 0600, none in the
/// data dir; without the variable the database is refused rather than given a new key.
#[test]
fn master_key_file_outside_the_data_dir() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let key = tmp.path().join("secrets").join("twofold.key");
    let with_key = |args: &[&str]| {
        let mut c = bare(args);
        c.env("TWOFOLD_DATA_DIR", &data)
            .env("TWOFOLD_MASTER_KEY_FILE", &key);
        c
    };
    run_ok(&mut with_key(&["user", "add", "kim"]));
    let text = std::fs::read_to_string(&key).unwrap();
    assert_eq!(text.trim().len(), 64, "64 hex characters");
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    let mode = std::fs::metadata(&key).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "key file mode {mode:o}");
    assert!(data.join("twofold.db").is_file());
    assert!(
        !data.join("master.key").exists(),
        "a key in the data dir too"
    );

    // serve uses it as well, and leaves it as it is.
    let mut cmd = with_key(&["serve"]);
    cmd.env("TWOFOLD_LISTEN", "127.0.0.1:0");
    let server = Running::start(cmd);
    server.ready();
    server.signal("TERM");
    assert!(server.wait().0.success());
    assert_eq!(std::fs::read_to_string(&key).unwrap(), text);
    assert!(!data.join("master.key").exists());

    // Without the variable the default place has no key: refused, and no new key is made.
    let line = run_fails(bare(&["user", "list"]).env("TWOFOLD_DATA_DIR", &data));
    assert!(line.contains("master key file"), "{line}");
    assert!(!data.join("master.key").exists(), "a new key was made");
    // Another key file is refused too: the database knows its key.
    let line = run_fails(
        bare(&["user", "list"])
            .env("TWOFOLD_DATA_DIR", &data)
            .env("TWOFOLD_MASTER_KEY_FILE", tmp.path().join("other.key")),
    );
    assert!(line.contains("master key"), "{line}");
    assert!(run_ok(&mut with_key(&["user", "list"])).contains("kim"));
}

/// The configuration refuses to guess: an unknown key in the file is an error naming the file,
/// the key and the nearest known key; an unknown `TWOFOLD_*` variable is a warning naming the
/// nearest one; a value's error names where it came from; `TWOFOLD_LISTEN` takes a bare port.
/// Nothing is created by a refused start.
#[test]
fn configuration_refuses_to_guess() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let file = tmp.path().join("twofold.toml");
    let with_file = |text: &str, args: &[&str]| {
        write_file(&file, text);
        let mut c = bare(args);
        c.arg("--config").arg(&file).env("TWOFOLD_DATA_DIR", &data);
        c
    };
    let shown = file.display().to_string();
    for args in [&["user", "list"][..], &["serve"]] {
        let line = run_fails(&mut with_file("lisen = \"127.0.0.1:0\"\n", args));
        assert!(
            line.contains(&shown) && line.contains("unknown key `lisen`; did you mean `listen`?"),
            "{args:?}: {line}"
        );
        let line = run_fails(&mut with_file(
            "[[access]]\ndomain = \"a.example.com\"\npolicy = \"deny\"\nrole = [\"admin\"]\n",
            args,
        ));
        assert!(
            line.contains(&shown)
                && line.contains("access rule 1: unknown key `role`; did you mean `roles`?"),
            "{args:?}: {line}"
        );
        // A file that is not TOML names the file and stays on one line.
        let line = run_fails(&mut with_file("listen = [unclosed\n", args));
        assert!(line.contains(&shown), "{args:?}: {line}");
        // A bad value names the file and the key; the same from the environment names the
        // variable.
        let line = run_fails(&mut with_file("public_url = \"2fa.example.com\"\n", args));
        assert!(
            line.contains(&format!("{shown}: public_url: must start with http")),
            "{args:?}: {line}"
        );
        let line = run_fails(
            bare(args)
                .env("TWOFOLD_DATA_DIR", &data)
                .env("TWOFOLD_LISTEN", "127.0.0.1:99999"),
        );
        assert!(
            line.starts_with("error: TWOFOLD_LISTEN: "),
            "{args:?}: {line}"
        );
        assert!(
            !line.contains("default"),
            "no internal profile names: {line}"
        );
        assert!(
            !data.exists(),
            "{args:?}: a refused start created the data dir"
        );
    }

    // A log filter that does not parse is refused, not replaced by the default.
    for args in [&["user", "list"][..], &["serve"]] {
        let line = run_fails(
            bare(args)
                .env("TWOFOLD_DATA_DIR", &data)
                .env("TWOFOLD_LOG", "twofold=loud"),
        );
        assert!(
            line.starts_with("error: TWOFOLD_LOG: \"twofold=loud\" is not a log filter"),
            "{line}"
        );
        assert!(!data.exists());
    }

    // A start that fails after its data directory was made leaves none behind: a port in use,
    // a command refused (a password too short) on a fresh directory.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let line = run_fails(
        bare(&["serve"])
            .env("TWOFOLD_DATA_DIR", &data)
            .env("TWOFOLD_LISTEN", taken.local_addr().unwrap().to_string()),
    );
    assert!(line.contains("cannot listen on"), "{line}");
    assert!(!data.exists(), "a failed serve created the data dir");
    drop(taken);
    let out = bare(&["user", "add", "bob", "--password-stdin"])
        .env("TWOFOLD_DATA_DIR", &data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"short\n")?;
            child.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!data.exists(), "a refused user add left a data dir");

    // An unknown variable is a warning, not an error: the command still runs.
    let out = bare(&["user", "list"])
        .env("TWOFOLD_DATA_DIR", &data)
        .env("TWOFOLD_PORT", "8081")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "warning: TWOFOLD_PORT is not a Twofold setting; did you mean TWOFOLD_LISTEN?"
        ),
        "{stderr}"
    );

    // In the file, a bare port may be a number as well as a string.
    let port = free_port();
    let line = run_ok(&mut with_file(
        &format!("listen = {port}\n"),
        &["check-config"],
    ));
    assert!(
        line.contains(&format!("listen: 127.0.0.1:{port}")),
        "{line}"
    );

    // A bare port listens on 127.0.0.1.
    let port = free_port();
    let server = Running::start({
        let mut c = bare(&["serve"]);
        c.env("TWOFOLD_DATA_DIR", &data)
            .env("TWOFOLD_LISTEN", port.to_string());
        c
    });
    assert_eq!(server.base, format!("http://127.0.0.1:{port}"));
    server.ready();
    server.signal("TERM");
    assert!(server.wait().0.success());
}

/// A PostgreSQL that cannot be reached is named, with the reason, within seconds: refused, no
/// answer (a listener that never speaks), an unknown host; and a failed start creates nothing.
#[test]
fn an_unreachable_postgresql_is_named_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let closed = free_port();
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    for (url, says, within) in [
        (
            format!("postgres://tf@127.0.0.1:{closed}/tf"),
            format!("cannot connect to PostgreSQL at 127.0.0.1:{closed}: connection refused"),
            2,
        ),
        (
            format!("postgres://tf@127.0.0.1:{silent_port}/tf"),
            format!(
                "cannot connect to PostgreSQL at 127.0.0.1:{silent_port}: no answer within 5 s"
            ),
            8,
        ),
        (
            "postgres://tf@nowhere.invalid/tf".to_owned(),
            "cannot connect to PostgreSQL at nowhere.invalid:5432: ".to_owned(),
            5,
        ),
    ] {
        #[allow(clippy::disallowed_methods)] // the test measures how long the start took
        let started = std::time::Instant::now();
        let line = run_fails(
            bare(&["user", "list"])
                .env("TWOFOLD_DATA_DIR", &data)
                .env("TWOFOLD_DATABASE_URL", &url),
        );
        let took = started.elapsed();
        assert!(
            line.starts_with(&format!("error: database: {says}")),
            "{url}: {line}"
        );
        assert!(took < Duration::from_secs(within), "{url}: {took:?}");
        assert!(!line.contains("pool timed out"), "{line}");
        assert!(!data.exists(), "{url}: a failed start created the data dir");
    }
    drop(silent);
    // A server that answers but has no such database says so.
    if let Ok(url) = std::env::var("TWOFOLD_TEST_POSTGRES_URL") {
        let (base, _) = url.rsplit_once('/').unwrap();
        let line = run_fails(
            bare(&["user", "list"])
                .env("TWOFOLD_DATA_DIR", &data)
                .env("TWOFOLD_DATABASE_URL", format!("{base}/no_such_database")),
        );
        assert!(line.contains("no such database"), "{line}");
    }
}

/// `check-config` checks the configuration and what it points at and changes nothing: a fresh
/// data directory stays uncreated; a key that does not match, a key others may read, an
/// unreachable database are problems (status 1); an address in use is a note.
#[test]
fn check_config_checks_and_changes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let check = |extra: &[(&str, String)]| {
        let mut c = bare(&["check-config"]);
        c.env("TWOFOLD_DATA_DIR", &data)
            .env("TWOFOLD_LISTEN", "127.0.0.1:0");
        for (k, v) in extra {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = check(&[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("does not exist yet"), "{out}");
    assert!(!out.contains("PROBLEM"), "{out}");
    assert!(!data.exists(), "check-config created the data dir");

    run_ok(bare(&["user", "list"]).env("TWOFOLD_DATA_DIR", &data));
    let db = std::fs::read(data.join("twofold.db")).unwrap();
    let (code, out, _) = check(&[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("answers") && out.contains("master key: matches the database"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(data.join("twofold.db")).unwrap(),
        db,
        "the database changed"
    );

    // Another key: a problem, and nothing is rewritten.
    let key = data.join("master.key");
    let original = std::fs::read(&key).unwrap();
    std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
    let (code, out, err) = check(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("PROBLEM  master key: does not match this database"),
        "{out}"
    );
    assert!(err.contains("check-config found 1 problem"), "{err}");
    std::fs::write(&key, &original).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out, _) = check(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("readable by group or others"), "{out}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    // An extra CA file without a certificate is a problem; a missing one too.
    let not_pem = tmp.path().join("not.pem");
    std::fs::write(&not_pem, "just text\n").unwrap();
    for (file, says) in [
        (not_pem.clone(), "holds no PEM certificate"),
        (tmp.path().join("missing.pem"), "cannot read"),
    ] {
        let (code, out, _) = check(&[("TWOFOLD_EXTRA_CA_FILE", file.display().to_string())]);
        assert_eq!(code, Some(1), "{out}");
        assert!(
            out.contains("PROBLEM  extra_ca_file: ") && out.contains(says),
            "{out}"
        );
    }

    // The RADIUS address is checked too; a bad one names its variable.
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let (code, out, _) = check(&[(
        "TWOFOLD_RADIUS_LISTEN",
        udp.local_addr().unwrap().to_string(),
    )]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("note     radius_listen: udp 127.0.0.1:"),
        "{out}"
    );
    drop(udp);
    let (code, _, err) = check(&[("TWOFOLD_RADIUS_LISTEN", "radius.example:1812".into())]);
    assert_eq!(code, Some(1));
    assert!(err.contains("TWOFOLD_RADIUS_LISTEN"), "{err}");

    // The address in use (by a running server, say) is only a note.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (code, out, _) = check(&[("TWOFOLD_LISTEN", taken.local_addr().unwrap().to_string())]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("note     listen:"), "{out}");
    drop(taken);

    // An unreachable PostgreSQL is a problem that names it.
    let port = free_port();
    let (code, out, _) = check(&[(
        "TWOFOLD_DATABASE_URL",
        format!("postgres://tf@127.0.0.1:{port}/tf"),
    )]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains(&format!("cannot connect to PostgreSQL at 127.0.0.1:{port}")),
        "{out}"
    );
    if let Ok(url) = std::env::var("TWOFOLD_TEST_POSTGRES_URL") {
        let (code, out, _) = check(&[("TWOFOLD_DATABASE_URL", url)]);
        assert!(out.contains("answers"), "{out}");
        // This data dir's key is not the shared database's (or it has none yet).
        assert!(code == Some(0) || out.contains("does not match"), "{out}");
    }
}

/// Two `serve` processes on one SQLite file both work; the second names the first in a note.
#[test]
fn a_second_server_on_one_sqlite_file_names_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let start = || {
        let mut c = bare(&["serve"]);
        c.env("TWOFOLD_DATA_DIR", &data)
            .env("TWOFOLD_LISTEN", "127.0.0.1:0");
        Running::start(c)
    };
    let first = start();
    first.ready();
    let first_pid = first.child.as_ref().unwrap().id();
    let second = start();
    second.ready();
    for s in [&first, &second] {
        let health = Api::new(&s.base, None).get("/healthz");
        assert_eq!(health.json["status"], "ok", "{health:?}");
    }
    second.signal("TERM");
    let (status, _, log) = second.wait();
    assert!(status.success());
    let log = log.join("\n");
    assert!(
        log.contains(&format!(
            "note: another twofold serve (pid {first_pid}) uses this SQLite database"
        )),
        "{log}"
    );
    first.signal("TERM");
    let (status, _, log) = first.wait();
    assert!(status.success());
    assert!(!log.join("\n").contains("another twofold serve"), "{log:?}");
}

/// The environment's values are checked before anything is touched.
#[test]
fn bad_environment_values_are_one_error_line() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    for (key, value, says) in [
        (
            "TWOFOLD_TRUSTED_PROXIES",
            "not-an-address",
            "TWOFOLD_TRUSTED_PROXIES: \"not-an-address\"",
        ),
        ("TWOFOLD_TRUSTED_PROXIES", "10.0.0.0/33", "10.0.0.0/33"),
        ("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1, ,bogus", "bogus"),
        (
            "TWOFOLD_TRUSTED_PROXIES",
            "192.168.1.1:80",
            "TWOFOLD_TRUSTED_PROXIES",
        ),
        (
            "TWOFOLD_LISTEN",
            "localhost",
            "TWOFOLD_LISTEN: \"localhost\"",
        ),
        (
            "TWOFOLD_PUBLIC_URL",
            "ftp://2fa.example.com",
            "TWOFOLD_PUBLIC_URL: must start",
        ),
    ] {
        for args in [&["user", "list"][..], &["serve"]] {
            let line = run_fails(
                bare(args)
                    .env("TWOFOLD_DATA_DIR", &data)
                    .env("TWOFOLD_LISTEN", "127.0.0.1:0")
                    .env(key, value),
            );
            assert!(line.contains(says), "{key}={value} {args:?}: {line}");
        }
        assert!(!data.exists(), "{key}={value}: the data dir was created");
    }
    // Good values: addresses and ranges, v4 and v6, with spaces.
    run_ok(bare(&["user", "list"]).env("TWOFOLD_DATA_DIR", &data).env(
        "TWOFOLD_TRUSTED_PROXIES",
        " 127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8",
    ));
    assert!(data.join("twofold.db").is_file());
}
