//! Duo Security through the API and the CLI, against the stand-in Duo
//! (`crates/delivery/tests/duo_server.py`: HTTPS on loopback under a certificate made here with
//! openssl, trusted through `TWOFOLD_EXTRA_CA_FILE`; first proven faithful by Duo's own SDKs in
//! `crates/delivery/tests/duo.rs`). Pushes approved, denied and timed out; passcodes right and
//! wrong; confirming a Duo factor by push and by passcode; an enrolment through the API's
//! `auth_url` finished at Twofold's callback by a browser without a session; the Duo username as
//! the email address; TOTP beside Duo; the fail mode with the stand-in stopped and with it
//! hanging past the attempt timeout; `twofold user test-duo`; and the client secret never leaking.

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
pub(crate) struct StandIn {
    child: Option<Child>,
    port: u16,
    pub(crate) cert: PathBuf,
}

impl StandIn {
    /// Starts it with the keys above and these users (`NAME=BEHAVIOUR`) and passcodes
    /// (`NAME=CODE`). Pushes are answered after 0.3 s; an ignored push times out at Duo after
    /// one second.
    pub(crate) fn start(dir: &Path, users: &[&str], passcodes: &[&str]) -> StandIn {
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
    pub(crate) fn stop(&mut self) {
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
pub(crate) fn configure(env: &Env, duo: &StandIn) {
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
pub(crate) fn start_duo(api: &Api, name: &str) -> Value {
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

pub(crate) fn confirm(api: &Api, name: &str, id: &str, body: Value) -> crate::support::Reply {
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

    // A portal login that passed unchecked is not a "Confirm it is you": sensitive actions ask
    // for it, and the open fail mode does not give it.
    let out = env.cli_stdin(
        &["user", "set-password", "alice", "--password-stdin"],
        "a good password\n",
    );
    assert!(out.status.success());
    let mut b = crate::portal::Browser::new(&server);
    let r = b.login("alice", "a good password", "");
    assert_eq!(r.location.as_deref(), Some("/login/2fa"), "{}", r.body);
    let r = b.second_factor("123456", false);
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
    let csrf = b.get("/account/security").csrf();
    let r = b.post("/account/security/backup-codes/new", &[("csrf", &csrf)]);
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("Confirm it is you"));
    let r = b.post(
        "/account/security/step-up",
        &[
            ("csrf", &csrf),
            ("password", "a good password"),
            ("code", "123456"),
            ("action", "new-codes"),
        ],
    );
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("Duo is unreachable"), "{}", r.body);

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
    the_username_format_can_be_the_email,
    enrolment_through_the_auth_url_logs_nobody_in,
    totp_and_duo_side_by_side,
    a_duo_login_remembers_the_browser,
);

/// A browser and an admin at the stand-in, in Python (the test client here speaks no TLS):
/// `config URL JSON` posts a configuration change; `approve URL DECISION` opens the Universal
/// Prompt at URL, prints the username it shows, presses DECISION and prints where Duo sends the
/// browser back (the redirect is not followed).
const STANDIN_CLIENT: &str = r#"
import re, ssl, sys, urllib.error, urllib.parse, urllib.request
cafile, action, url, arg = sys.argv[1:]

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

opener = urllib.request.build_opener(
    urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=cafile)), NoRedirect)
if action == "config":
    request = urllib.request.Request(
        url, data=arg.encode(), headers={"Content-Type": "application/json"})
    print(opener.open(request, timeout=30).status)
else:
    page = opener.open(url, timeout=30).read().decode()
    username = re.search(r'id="username">([^<]*)<', page).group(1)
    prompt = re.search(r'name="prompt" value="([^"]+)"', page).group(1)
    parts = urllib.parse.urlsplit(url)
    form = urllib.parse.urlencode({"prompt": prompt, "decision": arg}).encode()
    request = urllib.request.Request(
        f"{parts.scheme}://{parts.netloc}/frame/prompt", data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        opener.open(request, timeout=30)
        sys.exit("the prompt did not redirect")
    except urllib.error.HTTPError as e:
        if e.code != 302:
            raise
        print(username)
        print(e.headers["Location"])
"#;

impl StandIn {
    fn standin_client(&self, action: &str, url: &str, arg: &str) -> Vec<String> {
        let out = Command::new(venv_python())
            .args(["-c", STANDIN_CLIENT])
            .arg(&self.cert)
            .args([action, url, arg])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{action} {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Changes the stand-in's settings while it runs (`/_standin/config`).
    fn reconfigure(&self, change: Value) {
        let url = format!("https://{}/_standin/config", self.api_host());
        let out = self.standin_client("config", &url, &change.to_string());
        assert_eq!(out, ["200"]);
    }

    /// Opens the Universal Prompt at `auth_url` and presses `decision`: the username the prompt
    /// showed, and the URL Duo sends the browser back to.
    fn decide(&self, auth_url: &str, decision: &str) -> (String, String) {
        let mut out = self.standin_client("approve", auth_url, decision);
        assert_eq!(out.len(), 2, "{out:?}");
        let location = out.pop().unwrap();
        (out.pop().unwrap(), location)
    }
}

/// The claims of the request JWT in a Universal Prompt URL.
fn request_claims(auth_url: &str) -> Value {
    use base64::Engine as _;
    let jwt = auth_url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("request="))
        .unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// A plain GET that follows no redirect: the status, the `Set-Cookie` headers and the body.
fn get_page(url: &str) -> (u16, Vec<String>, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let resp = agent.get(url).call().unwrap();
    let status = resp.status().as_u16();
    let cookies = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    (
        status,
        cookies,
        resp.into_body().read_to_string().unwrap_or_default(),
    )
}

/// `methods.duo.username_format = "{email}"`: Duo knows the user by their email address, in
/// pushes, passcodes and the Universal Prompt; a user without one cannot use Duo.
fn the_username_format_can_be_the_email(db: Db) {
    let env = Env::new(db);
    // At Duo, "alice" would deny: only the email address approves.
    let duo = StandIn::start(
        env.data_dir(),
        &["alice@example.com=approve", "alice=deny"],
        &["alice@example.com=314159", "alice=271828"],
    );
    configure(&env, &duo);
    env.cli_ok(&["settings", "set", "methods.duo.username_format", "{email}"]);
    let token = env.token("app", "admin");
    let server = serve(&env, &duo, "warn");
    let api = server.api(&token);

    let r = api.post(
        "/api/v1/users",
        json!({"username": "alice", "email": "alice@example.com"}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let r = api.post("/api/v1/users/alice/factors", json!({"kind": "duo"}));
    assert_eq!(r.status, 201, "{r:?}");
    let claims = request_claims(r.json["auth_url"].as_str().unwrap());
    assert_eq!(claims["duo_uname"], "alice@example.com", "{claims}");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = confirm(&api, "alice", &id, json!({}));
    assert_eq!(r.status, 200, "a push to alice@example.com: {r:?}");
    let r = validate(&api, json!({"username": "alice", "method": "duo"}));
    assert_eq!(r.json, json!({"ok": true, "method": "duo"}), "{r:?}");
    let r = validate(&api, json!({"username": "alice", "code": "271828"}));
    assert_eq!(r.json, json!({"ok": false, "reason": "invalid_code"}));
    let r = validate(&api, json!({"username": "alice", "code": "314159"}));
    assert_eq!(r.json, json!({"ok": true, "method": "duo"}), "{r:?}");

    // A user without an email address: no Duo factor for them, and nothing left behind.
    let r = api.post("/api/v1/users", json!({"username": "bob"}));
    assert_eq!(r.status, 201, "{r:?}");
    let r = api.post("/api/v1/users/bob/factors", json!({"kind": "duo"}));
    assert_eq!((r.status, r.error_code()), (422, "missing_email"), "{r:?}");
    assert_eq!(
        r.json["error"]["message"],
        "Duo knows this account by its email address: add one to the account first."
    );
    assert_eq!(api.get("/api/v1/users/bob").json["factors"], json!([]));
    // Alice's address removed: her pushes and passcodes get the same error.
    let r = api.patch("/api/v1/users/alice", json!({"email": ""}));
    assert_eq!(r.status, 200, "{r:?}");
    for body in [
        json!({"username": "alice", "method": "duo"}),
        json!({"username": "alice", "code": "314159"}),
    ] {
        let r = validate(&api, body);
        assert_eq!((r.status, r.error_code()), (422, "missing_email"), "{r:?}");
    }
}

/// An enrolment started through the API: `auth_url` → Approve at Duo → Twofold's callback,
/// reached by a browser with no session: the factor is confirmed and nobody is logged in.
fn enrolment_through_the_auth_url_logs_nobody_in(db: Db) {
    let env = Env::new(db);
    let duo = StandIn::start(env.data_dir(), &["alice=approve"], &[]);
    configure(&env, &duo);
    let token = env.token("app", "admin");
    let server = serve(&env, &duo, "warn");
    let api = server.api(&token);
    let alice = start_duo(&api, "alice");
    let id = alice["id"].as_str().unwrap();
    let auth_url = alice["auth_url"].as_str().unwrap();

    let (shown, callback) = duo.decide(auth_url, "approve");
    assert_eq!(shown, "alice", "the prompt is for alice");
    assert!(
        callback.starts_with(&format!("{}/login/duo/callback?", server.base)),
        "{callback}"
    );
    assert!(callback.contains("duo_code=") && callback.contains("state="));
    let (status, cookies, page) = get_page(&callback);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Duo is set up"), "{page}");
    assert!(
        cookies.is_empty(),
        "no session (nor any other cookie) is set: {cookies:?}"
    );
    let user = api.get("/api/v1/users/alice").json;
    assert_eq!(user["factors"][0]["id"], id);
    assert_eq!(user["factors"][0]["confirmed"], true, "{user}");
    assert_eq!(user["has_2fa"], true);
    // The first factor: the page shows the backup codes, and they are the user's.
    let codes: Vec<&str> = page
        .split("<li>")
        .skip(1)
        .filter_map(|li| li.split("</li>").next())
        .collect();
    assert_eq!(codes.len(), 10, "{page}");
    let r = validate(&api, json!({"username": "alice", "code": codes[0]}));
    assert_eq!(r.json, json!({"ok": true, "method": "backup_code"}));
    // The confirmation is audited; no login is.
    assert!(
        audit(&api, "alice", "factor.confirmed")
            .iter()
            .any(|d| d.contains(id)),
        "{:?}",
        audit(&api, "alice", "factor.confirmed")
    );
    assert!(audit(&api, "alice", "login.password").is_empty());
    assert!(
        !audit(&api, "alice", "2fa.success")
            .iter()
            .any(|d| d.starts_with("method=duo")),
        "the callback completed no login"
    );

    // The same answer again is used up.
    let (_, cookies, page) = get_page(&callback);
    assert!(!page.contains("Duo is set up"), "{page}");
    assert!(cookies.is_empty(), "{cookies:?}");
}

/// A user with TOTP and Duo, the Auth API set: a 6-digit code is tried as TOTP first, then as a
/// Duo passcode, and the answer names the method that took it.
fn totp_and_duo_side_by_side(db: Db) {
    let env = Env::new(db);
    let mut duo = StandIn::start(env.data_dir(), &["alice=approve"], &[]);
    configure(&env, &duo);
    let token = env.token("app", "admin");
    let server = serve(&env, &duo, "warn");
    let api = server.api(&token);
    let (secret, _) = api.enrolled_user("alice");
    let r = api.post("/api/v1/users/alice/factors", json!({"kind": "duo"}));
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert_eq!(confirm(&api, "alice", &id, json!({})).status, 200);
    // A Duo passcode that is no TOTP code near now.
    let passcode = crate::support::wrong_code(&secret);
    duo.reconfigure(json!({"passcodes": {"alice": [passcode]}}));

    let r = validate(
        &api,
        json!({"username": "alice", "code": crate::support::totp(&secret, 1)}),
    );
    assert_eq!(r.json, json!({"ok": true, "method": "totp"}), "{r:?}");
    let r = validate(&api, json!({"username": "alice", "code": passcode}));
    assert_eq!(r.json, json!({"ok": true, "method": "duo"}), "{r:?}");
    let successes = audit(&api, "alice", "2fa.success");
    assert_eq!(
        successes[0],
        format!("method=duo factor={id}"),
        "{successes:?}"
    );
    // Used once at Duo; neither takes it again.
    let r = validate(&api, json!({"username": "alice", "code": passcode}));
    assert_eq!(r.json, json!({"ok": false, "reason": "invalid_code"}));

    // Duo unreachable: a code TOTP missed still counts as a failed guess (a right TOTP code
    // would have been answered at once, so the slow answer tells the client it was wrong).
    duo.stop();
    let r = validate(
        &api,
        json!({"username": "alice", "code": crate::support::wrong_code(&secret)}),
    );
    assert_eq!(
        (r.status, r.error_code()),
        (502, "duo_unreachable"),
        "{r:?}"
    );
    let failures = audit(&api, "alice", "2fa.failure");
    assert_eq!(
        failures[0], "reason=invalid_code duo=unavailable",
        "{failures:?}"
    );
}

/// The fail mode when Duo takes the request and never answers: after the attempt timeout Duo is
/// unreachable — closed refuses, open lets the login through, both audited. (SQLite only: the
/// database plays no part, and each case waits out a timeout.)
#[test]
fn fail_mode_when_duo_does_not_answer_in_time() {
    let env = Env::new(Db::Sqlite);
    let duo = StandIn::start(env.data_dir(), &["alice=approve"], &["alice=123456"]);
    configure(&env, &duo);
    let token = env.token("app", "admin");
    let server = serve(&env, &duo, "warn");
    let api = server.api(&token);
    let alice = start_duo(&api, "alice");
    let id = alice["id"].as_str().unwrap().to_owned();
    assert_eq!(confirm(&api, "alice", &id, json!({})).status, 200);
    duo.reconfigure(json!({"misbehave": ["hang"]}));

    // A push and a passcode at once: one timeout's wait for both.
    let both = |api: &Api| {
        #[allow(clippy::disallowed_methods)] // the test measures how long Twofold waited
        let started = std::time::Instant::now();
        let push = {
            let api = api.clone();
            std::thread::spawn(move || {
                validate(&api, json!({"username": "alice", "method": "duo"}))
            })
        };
        let passcode = validate(api, json!({"username": "alice", "code": "123456"}));
        let push = push.join().unwrap();
        (push, passcode, started.elapsed())
    };
    let (push, passcode, waited) = both(&api);
    for r in [&push, &passcode] {
        assert_eq!(
            (r.status, r.error_code()),
            (502, "duo_unreachable"),
            "{r:?}"
        );
        assert_eq!(
            r.json["error"]["message"],
            "Duo is unreachable; try another method or a backup code."
        );
    }
    assert!(
        waited >= Duration::from_millis(4900) && waited < Duration::from_secs(20),
        "Twofold waited for its attempt timeout (5 s): {waited:?}"
    );
    let failures = audit(&api, "alice", "2fa.failure");
    assert_eq!(
        failures[..2],
        ["kind=duo reason=duo_unreachable failmode=closed"; 2],
        "{failures:?}"
    );

    // A change made through this server applies at once (it drops its cached settings).
    let r = api.patch("/api/v1/settings", json!({"methods.duo.failmode": "open"}));
    assert_eq!(r.status, 200, "{r:?}");
    let (push, passcode, _) = both(&api);
    for r in [&push, &passcode] {
        assert_eq!(
            (r.status, &r.json),
            (200, &json!({"ok": true, "method": "duo"})),
            "{r:?}"
        );
    }
    let open = format!("method=duo factor={id} reason=duo_failmode_open");
    let successes = audit(&api, "alice", "2fa.success");
    assert_eq!(successes[..2], [open.clone(), open], "{successes:?}");
}

/// "Log in with Duo" with "Remember this browser" ticked: the approval at the Universal Prompt
/// remembers the browser, and the user's next sign-in there skips Duo. Unticked, nothing is
/// remembered; a pass of the open fail mode (nothing was checked) never is.
fn a_duo_login_remembers_the_browser(db: Db) {
    use crate::portal::{Browser, PASSWORD};
    let env = Env::new(db);
    let mut duo = StandIn::start(env.data_dir(), &["alice=approve"], &[]);
    configure(&env, &duo);
    env.cli_ok(&["settings", "set", "remember.days", "30"]);
    let token = env.token("app", "admin");
    let server = serve(&env, &duo, "warn");
    let api = server.api(&token);
    let alice = start_duo(&api, "alice");
    let id = alice["id"].as_str().unwrap();
    let r = confirm(&api, "alice", id, json!({}));
    assert_eq!(r.status, 200, "confirmed by a push: {r:?}");
    let out = env.cli_stdin(
        &["user", "set-password", "alice", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success());

    // The password step, then "Log in with Duo" (ticked or not): where the form sends the
    // browser.
    let to_duo = |b: &mut Browser, remember: bool| {
        b.cookies.retain(|(n, _)| n != "tf_session");
        let r = b.login("alice", PASSWORD, "");
        assert_eq!(r.location.as_deref(), Some("/login/2fa"), "{}", r.body);
        let page = b.get("/login/2fa");
        assert!(
            page.body.contains("id=\"remember-duo\""),
            "the Duo form has its box: {}",
            page.body
        );
        let csrf = page.csrf();
        let mut form = vec![("csrf", csrf.as_str())];
        if remember {
            form.push(("remember", "1"));
        }
        b.post("/login/duo", &form)
    };
    let approved = |b: &mut Browser, remember: bool| {
        let r = to_duo(b, remember);
        assert_eq!(r.status, 303, "{}", r.body);
        let (shown, callback) = duo.decide(r.location.as_deref().unwrap(), "approve");
        assert_eq!(shown, "alice");
        let r = b.get(callback.strip_prefix(&server.base).unwrap());
        assert_eq!(
            r.location.as_deref(),
            Some("/account/security"),
            "{}",
            r.body
        );
        r
    };

    let mut b = Browser::new(&server);
    let r = approved(&mut b, false);
    assert!(r.set_cookie("tf_remember").is_none(), "not ticked");
    let r = approved(&mut b, true);
    assert!(r.set_cookie("tf_remember").is_some(), "{:?}", r.headers);
    assert_eq!(audit(&api, "alice", "browser.remembered").len(), 1);
    // The next sign-in: the password alone, no Duo.
    b.cookies.retain(|(n, _)| n != "tf_session");
    let r = b.login("alice", PASSWORD, "");
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
    assert_eq!(audit(&api, "alice", "browser.remembered_used").len(), 1);

    // Duo unreachable with the open fail mode: the sign-in passes unchecked, and the browser is
    // not remembered however the box was ticked.
    let r = api.patch("/api/v1/settings", json!({"methods.duo.failmode": "open"}));
    assert_eq!(r.status, 200, "{r:?}");
    duo.stop();
    let mut c = Browser::new(&server);
    let r = to_duo(&mut c, true);
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
    assert!(r.set_cookie("tf_remember").is_none(), "{:?}", r.headers);
    assert_eq!(audit(&api, "alice", "browser.remembered").len(), 1);
}
