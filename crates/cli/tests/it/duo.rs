//! Duo Security through the API and the CLI, against the stand-in Duo
//! (`crates/delivery/tests/duo_server.py`: HTTPS on loopback under a certificate made here with
//! openssl, trusted through `TWOFOLD_EXTRA_CA_FILE`; first proven faithful by Duo's own SDKs in
//! `crates/delivery/tests/duo.rs`). Pushes approved, denied and timed out; passcodes right and
//! wrong; confirming a Duo factor by push and by passcode; the fail mode with the stand-in
//! stopped; `twofold user test-duo`; and the client secret never leaking.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::on_both;
use crate::support::{Api, Db, Env, Server};

const CLIENT_ID: &str = "DIWEBSDKCLIENT000001";
const CLIENT_SECRET: &str = "webSdkClientSecret0000000000000000000001";
const IKEY: &str = "DIAUTHAPIIKEY0000001";
const SKEY: &str = "authApiSecretKey000000000000000000000001";

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("TWOFOLD_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv")
        });
    let py = venv.join("bin/python");
    assert!(
        py.exists(),
        "{} is missing: ./scripts/test creates the test venv",
        py.display()
    );
    py
}

/// A self-signed certificate for 127.0.0.1 made with the openssl CLI: (cert, key).
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("duo-cert.pem"), dir.join("duo-key.pem"));
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec"])
        .args([
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
        ])
        .args(["-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl (./scripts/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

/// The stand-in Duo: killed when dropped (or by `stop`).
struct StandIn {
    child: Option<Child>,
    port: u16,
    cert: PathBuf,
}

impl StandIn {
    /// Starts it with the keys above and these users (`NAME=BEHAVIOUR`) and passcodes
    /// (`NAME=CODE`). Pushes are answered after 0.3 s; an ignored push times out at Duo after
    /// one second.
    fn start(dir: &Path, users: &[&str], passcodes: &[&str]) -> StandIn {
        let (cert, key) = certificate(dir);
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../delivery/tests/duo_server.py");
        let mut cmd = Command::new(venv_python());
        cmd.arg(script)
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .args(["--ikey", IKEY, "--skey", SKEY])
            .args([
                "--push-delay",
                "0.3",
                "--push-timeout",
                "1",
                "--long-poll",
                "1",
            ]);
        for u in users {
            cmd.args(["--user", u]);
        }
        for p in passcodes {
            cmd.args(["--passcode", p]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the test venv's python");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Drains the request records so the stand-in never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let ready = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("duo_server.py did not start");
        let port = ready
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("duo_server.py said {ready:?}"));
        StandIn {
            child: Some(child),
            port,
            cert,
        }
    }

    fn api_host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops it: Duo becomes unreachable (the port refuses connections).
    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Duo active for everyone, both applications set, through the CLI.
fn configure(env: &Env, duo: &StandIn) {
    for (k, v) in [
        ("methods.duo.active", "true"),
        ("methods.duo.clients", "true"),
        ("methods.duo.admins", "true"),
        ("methods.duo.api_host", duo.api_host().as_str()),
        ("methods.duo.client_id", CLIENT_ID),
        ("methods.duo.client_secret", CLIENT_SECRET),
        ("methods.duo.ikey", IKEY),
        ("methods.duo.skey", SKEY),
    ] {
        env.cli_ok(&["settings", "set", k, v]);
    }
}

fn serve(env: &Env, duo: &StandIn, log: &str) -> Server {
    env.serve_with(&[
        ("TWOFOLD_EXTRA_CA_FILE", duo.cert.to_str().unwrap()),
        ("TWOFOLD_LOG", log),
    ])
}

/// Creates `name` and a Duo factor; returns the factor's answer (201).
fn start_duo(api: &Api, name: &str) -> Value {
    let r = api.post("/api/v1/users", json!({"username": name}));
    assert_eq!(r.status, 201, "{r:?}");
    let r = api.post(
        &format!("/api/v1/users/{name}/factors"),
        json!({"kind": "duo", "label": "Duo Mobile"}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["kind"], "duo");
    assert_eq!(r.json["confirmed"], false);
    r.json
}

fn confirm(api: &Api, name: &str, id: &str, body: Value) -> crate::support::Reply {
    api.post(&format!("/api/v1/users/{name}/factors/{id}/confirm"), body)
}

fn validate(api: &Api, body: Value) -> crate::support::Reply {
    api.post("/api/v1/validate", body)
}

/// The audit details of `name`'s events named `event`, newest first.
fn audit(api: &Api, name: &str, event: &str) -> Vec<String> {
    let r = api.get(&format!("/api/v1/audit?username={name}&event={event}"));
    assert_eq!(r.status, 200, "{r:?}");
    r.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect()
}

fn pushes_and_passcodes_through_the_api(db: Db) {
    let env = Env::new(db);
    let duo = StandIn::start(
        env.data_dir(),
        &["alice=approve", "bob=deny", "carol=ignore"],
        &["alice=123456", "bob=111111", "carol=222222"],
    );
    configure(&env, &duo);
    env.cli_ok(&["settings", "set", "lockout.max_failures", "3"]);
    let token = env.token("app", "admin");
    let server = serve(&env, &duo, "warn");
    let api = server.api(&token);

    // With the Web SDK keys set, enrolment gives the Universal Prompt's URL for the user.
    let alice = start_duo(&api, "alice");
    let auth_url = alice["auth_url"].as_str().unwrap();
    assert!(
        auth_url.starts_with(&format!("https://{}/oauth/v1/authorize?", duo.api_host())),
        "{auth_url}"
    );
    assert!(
        auth_url.contains(&format!("client_id={CLIENT_ID}")),
        "{auth_url}"
    );
    assert!(!auth_url.contains(CLIENT_SECRET));
    // A push confirms it (the approve user), and the first factor brings the backup codes.
    let id = alice["id"].as_str().unwrap();
    let r = confirm(&api, "alice", id, json!({}));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["confirmed"], true);
    assert_eq!(r.json["backup_codes"].as_array().unwrap().len(), 10);
    let r = confirm(&api, "alice", id, json!({}));
    assert_eq!((r.status, r.error_code()), (409, "already_confirmed"));
    // One Duo account serves all of a user's devices.
    let r = api.post("/api/v1/users/alice/factors", json!({"kind": "duo"}));
    assert_eq!((r.status, r.error_code()), (409, "duo_enrolled"));

    // Bob denies pushes: a push does not confirm; his passcode does.
    let bob = start_duo(&api, "bob");
    let bob_id = bob["id"].as_str().unwrap();
    let r = confirm(&api, "bob", bob_id, json!({}));
    assert_eq!((r.status, r.error_code()), (422, "invalid_code"), "{r:?}");
    let r = confirm(&api, "bob", bob_id, json!({"code": "999999"}));
    assert_eq!((r.status, r.error_code()), (422, "invalid_code"), "{r:?}");
    let r = confirm(&api, "bob", bob_id, json!({"code": "12ab"}));
    assert_eq!((r.status, r.error_code()), (422, "malformed_code"), "{r:?}");
    let r = confirm(&api, "bob", bob_id, json!({"code": "111111"}));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["confirmed"], true);
    assert!(
        audit(&api, "bob", "2fa.failure")
            .iter()
            .any(|d| d == &format!("confirm factor={bob_id} kind=duo reason=denied"))
    );
    // Carol ignores pushes: Duo times out.
    let carol = start_duo(&api, "carol");
    let carol_id = carol["id"].as_str().unwrap();
    let r = confirm(&api, "carol", carol_id, json!({}));
    assert_eq!((r.status, r.error_code()), (422, "invalid_code"), "{r:?}");
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("in time"),
        "{r:?}"
    );
    let r = confirm(&api, "carol", carol_id, json!({"code": "222222"}));
    assert_eq!(r.status, 200, "{r:?}");

    // Pushes through /validate.
    let push = |name: &str| validate(&api, json!({"username": name, "method": "duo"}));
    let r = push("alice");
    assert_eq!(
        (r.status, &r.json),
        (200, &json!({"ok": true, "method": "duo"}))
    );
    assert!(audit(&api, "alice", "2fa.success")[0].starts_with("method=duo factor="));
    let r = push("bob");
    assert_eq!(
        (r.status, &r.json),
        (200, &json!({"ok": false, "reason": "invalid_code"}))
    );
    assert_eq!(
        audit(&api, "bob", "2fa.failure")[0],
        "kind=duo reason=denied"
    );
    let r = push("carol");
    assert_eq!(
        (r.status, &r.json),
        (200, &json!({"ok": false, "reason": "invalid_code"}))
    );
    assert_eq!(
        audit(&api, "carol", "2fa.failure")[0],
        "kind=duo reason=timeout"
    );

    // Passcodes: the code's shape (6–8 digits) tries TOTP, then email/SMS, then Duo.
    let r = validate(&api, json!({"username": "alice", "code": "123456"}));
    assert_eq!(r.json, json!({"ok": true, "method": "duo"}));
    // Each passcode works once at Duo.
    let r = validate(&api, json!({"username": "alice", "code": "123456"}));
    assert_eq!(r.json, json!({"ok": false, "reason": "invalid_code"}));
    let r = validate(
        &api,
        json!({"username": "alice", "code": "654321", "method": "duo"}),
    );
    assert_eq!(r.json, json!({"ok": false, "reason": "invalid_code"}));
    assert_eq!(
        audit(&api, "alice", "2fa.failure")[0],
        "kind=duo reason=denied"
    );
    // No code with another method named is not a push.
    let r = validate(&api, json!({"username": "alice", "method": "totp"}));
    assert_eq!((r.status, r.error_code()), (422, "missing_code"));

    // Denied pushes count toward the lockout: bob has 1 failure; two more lock him.
    assert_eq!(push("bob").json["reason"], "invalid_code");
    assert_eq!(push("bob").json["reason"], "invalid_code");
    assert_eq!(push("bob").json, json!({"ok": false, "reason": "locked"}));
    assert!(!audit(&api, "bob", "2fa.lockout").is_empty());

    // A user without Duo asking for a push is not enrolled for it.
    api.enrolled_user("dora");
    let r = validate(&api, json!({"username": "dora", "method": "duo"}));
    assert_eq!(r.json, json!({"ok": false, "reason": "not_enrolled"}));
}

fn fail_mode_closed_and_open(db: Db) {
    let env = Env::new(db);
    let mut duo = StandIn::start(env.data_dir(), &["alice=approve"], &[]);
    configure(&env, &duo);
    let token = env.token("app", "admin");
    let server = serve(&env, &duo, "warn");
    let api = server.api(&token);
    let alice = start_duo(&api, "alice");
    let id = alice["id"].as_str().unwrap();
    assert_eq!(confirm(&api, "alice", id, json!({})).status, 200);

    duo.stop();
    // Closed (the default): the second factor is refused while Duo cannot be reached.
    let r = validate(&api, json!({"username": "alice", "method": "duo"}));
    assert_eq!(
        (r.status, r.error_code()),
        (502, "duo_unreachable"),
        "{r:?}"
    );
    assert_eq!(
        r.json["error"]["message"],
        "Duo is unreachable; try another method or a backup code."
    );
    let r = validate(&api, json!({"username": "alice", "code": "123456"}));
    assert_eq!(
        (r.status, r.error_code()),
        (502, "duo_unreachable"),
        "{r:?}"
    );
    let failures = audit(&api, "alice", "2fa.failure");
    assert_eq!(
        failures[0],
        "kind=duo reason=duo_unreachable failmode=closed"
    );
    // Enrolment has no fail mode: a new Duo factor cannot be confirmed.
    let r = api.post("/api/v1/users", json!({"username": "zed"}));
    assert_eq!(r.status, 201);
    let r = api.post("/api/v1/users/zed/factors", json!({"kind": "duo"}));
    assert_eq!(
        (r.status, r.error_code()),
        (502, "duo_unreachable"),
        "{r:?}"
    );
    // … and leaves no half-made factor behind.
    let r = api.get("/api/v1/users/zed");
    assert_eq!(r.json["factors"], json!([]));

    // Open: the login passes on the password alone, audited loudly.
    env.cli_ok(&["settings", "set", "methods.duo.failmode", "open"]);
    let mut answer = Value::Null;
    for _ in 0..50 {
        // Settings changed by another process apply within SETTINGS_TTL seconds.
        let r = validate(&api, json!({"username": "alice", "method": "duo"}));
        answer = r.json;
        if r.status == 200 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(answer, json!({"ok": true, "method": "duo"}));
    let r = validate(&api, json!({"username": "alice", "code": "123456"}));
    assert_eq!(r.json, json!({"ok": true, "method": "duo"}));
    let success = audit(&api, "alice", "2fa.success");
    assert_eq!(
        success[0],
        format!("method=duo factor={id} reason=duo_failmode_open")
    );

    // Counted in /metrics, by fail mode.
    let metrics = api.get("/metrics");
    assert_eq!(metrics.status, 200);
    let text = metrics.json.as_str().unwrap();
    for mode in ["closed", "open"] {
        let line = text
            .lines()
            .find(|l| {
                l.starts_with(&format!(
                    "twofold_duo_unreachable_total{{failmode=\"{mode}\"}}"
                ))
            })
            .unwrap_or_else(|| panic!("no {mode} counter in\n{text}"));
        let n: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(n >= 2.0, "{line}");
    }
}

fn test_duo_from_the_cli(db: Db) {
    let env = Env::new(db);
    let duo = StandIn::start(
        env.data_dir(),
        &["alice=approve", "bob=deny", "carol=ignore"],
        &[],
    );
    let extra_ca = duo.cert.to_str().unwrap().to_owned();
    let run = |name: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_twofold"))
            .env_remove("TWOFOLD_CONFIG")
            .env("TWOFOLD_DATA_DIR", env.data_dir())
            .env("TWOFOLD_DATABASE_URL", &env.database_url)
            .env("TWOFOLD_EXTRA_CA_FILE", &extra_ca)
            .env("TWOFOLD_LOG", "error")
            .args(["user", "test-duo", name])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    env.cli_ok(&["user", "add", "alice"]);
    // Without the Auth API keys it says so.
    let (code, out, err) = run("alice");
    assert_eq!(code, Some(1));
    assert_eq!(out, "");
    assert!(
        err.starts_with("error: ") && err.contains("Auth API"),
        "{err}"
    );
    configure(&env, &duo);
    for name in ["bob", "carol", "dave"] {
        env.cli_ok(&["user", "add", name]);
    }
    assert_eq!(run("alice"), (Some(0), "allow\n".into(), String::new()));
    let (code, out, err) = run("bob");
    assert_eq!(
        (code, out.as_str()),
        (Some(1), "deny: Login request denied.\n")
    );
    assert_eq!(err, "error: Duo did not allow the login\n");
    let (code, out, err) = run("carol");
    assert_eq!((code, out.as_str()), (Some(1), "timeout\n"));
    assert_eq!(err, "error: the push was not answered in time\n");
    // Dave is unknown at Duo: preauth says enrol.
    let (code, out, _) = run("dave");
    assert_eq!(code, Some(1));
    assert!(
        out.starts_with("deny: dave is not enrolled at Duo"),
        "{out}"
    );
    let (code, out, err) = run("nobody");
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(err.starts_with("error: "), "{err}");
}

fn the_client_secret_never_leaks(db: Db) {
    let env = Env::new(db);
    let duo = StandIn::start(env.data_dir(), &["alice=approve"], &["alice=123456"]);
    configure(&env, &duo);
    let token = env.token("app", "admin");
    // Debug logging: the most the server ever writes.
    let server = serve(&env, &duo, "debug");
    let api = server.api(&token);

    // Shapes are checked when saved; a refusal does not echo the value.
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.duo.client_secret": "too-short-secret-value"}),
    );
    assert_eq!(
        (r.status, r.error_code()),
        (422, "invalid_setting"),
        "{r:?}"
    );
    assert!(!r.json.to_string().contains("too-short-secret-value"));
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.duo.api_host": "https://x/"}),
    );
    assert_eq!(
        (r.status, r.error_code()),
        (422, "invalid_setting"),
        "{r:?}"
    );
    // Set again through the API (write-only): shown masked.
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.duo.client_secret": CLIENT_SECRET}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["settings"]["methods.duo.client_secret"], "********");
    assert_eq!(r.json["settings"]["methods.duo.skey"], "********");

    // Use both applications.
    let alice = start_duo(&api, "alice");
    assert!(alice["auth_url"].is_string());
    let id = alice["id"].as_str().unwrap();
    assert_eq!(confirm(&api, "alice", id, json!({})).status, 200);
    let r = validate(&api, json!({"username": "alice", "code": "123456"}));
    assert_eq!(r.json, json!({"ok": true, "method": "duo"}));

    let audit_text = api.get("/api/v1/audit?limit=1000").json.to_string();
    let settings_api = api.get("/api/v1/settings").json.to_string();
    let shown = env.cli_ok(&["settings", "show"]);
    let shown_json = env.cli_ok(&["settings", "show", "--json"]);
    let (_, out, log) = server.terminate_with_log();
    let db_bytes = env.database_bytes();
    for (what, text) in [
        ("audit", audit_text),
        ("GET /api/v1/settings", settings_api),
        ("settings show", shown.clone()),
        ("settings show --json", shown_json),
        ("server stdout", out.join("\n")),
        ("server log", log.join("\n")),
        ("database", String::from_utf8_lossy(&db_bytes).into_owned()),
    ] {
        for secret in [CLIENT_SECRET, SKEY] {
            assert!(!text.contains(secret), "the Duo secret is in the {what}");
        }
    }
    assert!(shown.contains("methods.duo.client_secret"), "{shown}");
    assert!(!log.is_empty(), "debug logging wrote nothing");
}

on_both!(
    pushes_and_passcodes_through_the_api,
    fail_mode_closed_and_open,
    test_duo_from_the_cli,
    the_client_secret_never_leaks,
);
