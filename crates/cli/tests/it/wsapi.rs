//! Twofold as a Yubico validation server (`GET /wsapi/2.0/verify`): every status of the protocol
//! through our own client code, then real clients — PyPI `yubico-client`, and Debian's
//! `pam_yubico.so` driven by `pamtester` — pointed at Twofold with an id and key from
//! `twofold yubikey client add`.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;
use twofold_otp::wsapi::{ClientRequest, ParsedResponse, Status, parse_response};

use crate::on_both;
use crate::support::{Db, Env, Server};

use crate::yubikey::{Key, activate, enrolled, other_private_id, venv_python};

on_both!(
    every_status_of_the_protocol,
    backend_error_when_a_key_cannot_be_opened_or_the_database_fails,
);

/// A registered client: its id and decoded key.
struct Client {
    id: u64,
    key_b64: String,
    key: Vec<u8>,
}

fn add_client(env: &Env, name: &str, extra: &[&str]) -> Client {
    let mut args = vec!["yubikey", "client", "add", name];
    args.extend_from_slice(extra);
    let out = env.cli_ok(&args);
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("id="))
        .unwrap()
        .parse()
        .unwrap();
    let key_b64 = out
        .lines()
        .find_map(|l| l.strip_prefix("key="))
        .unwrap()
        .to_owned();
    use base64::Engine as _;
    let key = base64::engine::general_purpose::STANDARD
        .decode(&key_b64)
        .unwrap();
    assert_eq!(key.len(), 20);
    Client { id, key_b64, key }
}

fn get(server: &Server, query: &str) -> String {
    let url = format!("{}/wsapi/2.0/verify?{query}", server.base);
    let resp = ureq::get(&url).call().unwrap();
    assert_eq!(resp.status(), 200);
    resp.into_body().read_to_string().unwrap()
}

/// Sends a signed request and checks the answer's signature and echo; returns the answer.
fn verify(server: &Server, client: &Client, req: &ClientRequest) -> ParsedResponse {
    let body = get(server, &req.query(&client.key));
    let parsed = parse_response(&body).unwrap();
    assert!(
        parsed.verify_signature(&client.key),
        "the answer is signed with the client's key: {body}"
    );
    parsed
}

fn nonce(n: u32) -> String {
    format!("twofoldtestnonce{n:08}")
}

fn every_status_of_the_protocol(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    let mut key = Key::new("vvccccdhkjkb", 1);
    enrolled(&api, "ann", &mut key);
    let pam = add_client(&env, "pam", &[]);
    let open = add_client(&env, "open", &["--allow-unsigned"]);
    let list = env.cli_ok(&["yubikey", "client", "list"]);
    assert!(
        list.contains(&format!("{}\tpam\tsigned only", pam.id)),
        "{list}"
    );
    assert!(
        list.contains(&format!("{}\topen\tunsigned allowed", open.id)),
        "{list}"
    );
    assert!(!list.contains(&pam.key_b64), "keys are shown once");

    // OK, with the key's counters on request, and the otp and nonce echoed.
    let otp = key.touch();
    let req = ClientRequest::new(pam.id, &otp, &nonce(1)).with_counters();
    let answer = verify(&server, &pam, &req);
    answer.check(&req, &pam.key).unwrap();
    assert_eq!(answer.status(), Some(Status::Ok), "{answer:?}");
    assert_eq!(answer.get("sessioncounter"), Some("1"));
    assert_eq!(answer.get("sessionuse"), Some("1"));
    assert_eq!(answer.get("sl"), Some("100"));
    let t = answer.get("t").unwrap();
    assert!(
        t.len() == 24 && t.as_bytes()[10] == b'T' && t.as_bytes()[19] == b'Z',
        "t is YYYY-MM-DDThh:mm:ssZmmmm: {t}"
    );
    // The same request again is REPLAYED_REQUEST; the same OTP with a new nonce REPLAYED_OTP.
    assert_eq!(
        verify(&server, &pam, &req).status(),
        Some(Status::ReplayedRequest)
    );
    let again = ClientRequest::new(pam.id, &otp, &nonce(2));
    assert_eq!(
        verify(&server, &pam, &again).status(),
        Some(Status::ReplayedOtp)
    );
    // The counter is the one Twofold's own logins use: the OTP is spent there too.
    assert_eq!(api.validate("ann", &otp)["ok"], false);
    let skipped = key.touch();
    assert_eq!(api.validate("ann", &key.touch())["ok"], true);
    let req = ClientRequest::new(pam.id, &skipped, &nonce(3));
    assert_eq!(
        verify(&server, &pam, &req).status(),
        Some(Status::ReplayedOtp)
    );

    // Another key with the same public id, an unknown key, a flipped character: BAD_OTP.
    let mut stranger = Key::new("vvccccdhkjkb", 9);
    let mut unknown = Key::new("ccccccccccch", 5);
    let fresh = key.touch();
    let flipped = format!(
        "{}{}",
        &fresh[..30],
        if &fresh[30..31] == "c" { "b" } else { "c" }
    ) + &fresh[31..];
    for (n, bad) in [stranger.touch(), unknown.touch(), flipped]
        .iter()
        .enumerate()
    {
        let req = ClientRequest::new(pam.id, bad, &nonce(10 + n as u32));
        assert_eq!(
            verify(&server, &pam, &req).status(),
            Some(Status::BadOtp),
            "{bad}"
        );
    }
    // A wrong signature; no signature from a client that must sign.
    let wrong = Client {
        id: pam.id,
        key_b64: String::new(),
        key: vec![7; 20],
    };
    let req = ClientRequest::new(pam.id, &fresh, &nonce(20));
    let body = get(&server, &req.query(&wrong.key));
    let parsed = parse_response(&body).unwrap();
    assert_eq!(parsed.status(), Some(Status::BadSignature), "{body}");
    assert!(
        parsed.verify_signature(&pam.key),
        "signed with the real key"
    );
    let unsigned = format!("id={}&otp={fresh}&nonce={}", pam.id, nonce(21));
    let body = get(&server, &unsigned);
    assert_eq!(
        parse_response(&body).unwrap().status(),
        Some(Status::BadSignature)
    );
    // The OTP was not spent by the refused requests: an unsigned request from the client that
    // may send them takes it.
    let unsigned = format!("id={}&otp={fresh}&nonce={}", open.id, nonce(22));
    let body = get(&server, &unsigned);
    let parsed = parse_response(&body).unwrap();
    assert_eq!(parsed.status(), Some(Status::Ok), "{body}");
    assert!(parsed.verify_signature(&open.key));

    // The same public id and AES key but another private id: the token decrypts, the private id
    // inside gives it away. BAD_OTP, and the real key's OTP at that very counter still works.
    let impostor = Key {
        private_id: other_private_id(&key.private_id),
        ..key.clone()
    };
    let forged = impostor.otp_at(key.use_counter, key.session);
    let req = ClientRequest::new(pam.id, &forged, &nonce(23));
    assert_eq!(verify(&server, &pam, &req).status(), Some(Status::BadOtp));
    let req = ClientRequest::new(pam.id, &key.touch(), &nonce(24));
    assert_eq!(verify(&server, &pam, &req).status(), Some(Status::Ok));

    // Unknown client, missing or malformed parameters.
    let req = ClientRequest::new(9999, &key.touch(), &nonce(30));
    let body = get(&server, &req.query(&pam.key));
    assert_eq!(
        parse_response(&body).unwrap().status(),
        Some(Status::NoSuchClient)
    );
    for query in [
        format!("id={}&otp={}", pam.id, key.touch()),
        format!("otp={}&nonce={}", key.touch(), nonce(31)),
        format!("id={}&otp={}&nonce=short", pam.id, key.touch()),
        format!("id=abc&otp={}&nonce={}", key.touch(), nonce(32)),
        String::new(),
    ] {
        let body = get(&server, &query);
        assert_eq!(
            parse_response(&body).unwrap().status(),
            Some(Status::MissingParameter),
            "{query}: {body}"
        );
    }
    // A malformed OTP from a known client.
    let req = ClientRequest::new(pam.id, "not-an-otp", &nonce(33));
    assert_eq!(verify(&server, &pam, &req).status(), Some(Status::BadOtp));

    // The YubiKey method switched off: OPERATION_NOT_ALLOWED. (Settings changed through this
    // server apply at once: it drops its cached settings.)
    let r = api.patch("/api/v1/settings", json!({"methods.yubikey.active": false}));
    assert_eq!(r.status, 200, "{r:?}");
    let req = ClientRequest::new(pam.id, &key.touch(), &nonce(40));
    assert_eq!(
        verify(&server, &pam, &req).status(),
        Some(Status::OperationNotAllowed)
    );
    let r = api.patch("/api/v1/settings", json!({"methods.yubikey.active": true}));
    assert_eq!(r.status, 200, "{r:?}");

    // The login policy holds here too: a role without YubiKey, a locked user.
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.yubikey.clients": false}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let req = ClientRequest::new(pam.id, &key.touch(), &nonce(41));
    assert_eq!(verify(&server, &pam, &req).status(), Some(Status::BadOtp));
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.yubikey.clients": true, "lockout.max_failures": 1}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        api.validate("ann", "000000"),
        json!({"ok": false, "reason": "invalid_code"})
    );
    let req = ClientRequest::new(pam.id, &key.touch(), &nonce(42));
    assert_eq!(
        verify(&server, &pam, &req).status(),
        Some(Status::BadOtp),
        "locked"
    );
    assert_eq!(api.post_empty("/api/v1/users/ann/unlock").status, 204);
    let req = ClientRequest::new(pam.id, &key.touch(), &nonce(43));
    assert_eq!(
        verify(&server, &pam, &req).status(),
        Some(Status::Ok),
        "unlocked"
    );

    // A revoked client is unknown.
    env.cli_ok(&["yubikey", "client", "revoke", "pam"]);
    let req = ClientRequest::new(pam.id, &key.touch(), &nonce(50));
    let body = get(&server, &req.query(&pam.key));
    assert_eq!(
        parse_response(&body).unwrap().status(),
        Some(Status::NoSuchClient)
    );

    // The audit log names the client and the outcome, never the OTP or the key.
    let audit = api
        .get("/api/v1/audit?username=ann&limit=200")
        .json
        .to_string();
    assert!(audit.contains("token:yubikey-client:pam"), "{audit}");
    assert!(audit.contains("via=wsapi"), "{audit}");
    for reason in [
        "reason=method_not_enabled",
        "reason=locked",
        "via=wsapi reason=wrong_private_id",
    ] {
        assert!(audit.contains(reason), "{reason} in {audit}");
    }
    assert!(!audit.contains(&fresh[12..]) && !audit.contains(&pam.key_b64));
}

/// Runs one SQL statement on the environment's database behind the server's back: Python's
/// sqlite3 on the SQLite file, psql on PostgreSQL.
fn sql(env: &Env, statement: &str) {
    let out = match env.db {
        Db::Sqlite => Command::new(venv_python())
            .args([
                "-c",
                "import sqlite3, sys\n\
                 c = sqlite3.connect(sys.argv[1], timeout=30)\n\
                 c.execute(sys.argv[2])\n\
                 c.commit()\n",
            ])
            .arg(env.data_dir().join("twofold.db"))
            .arg(statement)
            .output()
            .unwrap(),
        Db::Postgres => Command::new("psql")
            .args([
                &env.database_url,
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                statement,
            ])
            .output()
            .expect("psql"),
    };
    assert!(
        out.status.success(),
        "{statement}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `BACKEND_ERROR`, answered when Twofold cannot do its part. (A node started with another
/// master key would be the natural way to make a client's sealed key unopenable, but `serve`
/// refuses to start on a database whose key check does not match — cli.rs tests that — so the
/// sealed value is swapped in the database instead.)
fn backend_error_when_a_key_cannot_be_opened_or_the_database_fails(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    let mut key = Key::new("vvccccdhkjkb", 1);
    enrolled(&api, "ann", &mut key);
    let pam = add_client(&env, "pam", &[]);
    let other = add_client(&env, "other", &[]);
    let req = ClientRequest::new(pam.id, &key.touch(), &nonce(1));
    assert_eq!(verify(&server, &pam, &req).status(), Some(Status::Ok));

    // Pam's sealed key replaced by another client's: a genuine sealed value, but bound to
    // another client's name, so it does not open as pam's.
    sql(
        &env,
        "UPDATE wsapi_clients SET key = (SELECT key FROM wsapi_clients WHERE name = 'other') \
         WHERE name = 'pam'",
    );
    let otp = key.touch();
    let req = ClientRequest::new(pam.id, &otp, &nonce(2));
    let body = get(&server, &req.query(&pam.key));
    let parsed = parse_response(&body).unwrap();
    assert_eq!(parsed.status(), Some(Status::BackendError), "{body}");
    assert!(
        !parsed.verify_signature(&pam.key) && !parsed.verify_signature(&other.key),
        "an answer Twofold cannot sign with the client's key: {body}"
    );
    // Nothing was consumed: the other client takes the same OTP.
    let req = ClientRequest::new(other.id, &otp, &nonce(3));
    let answer = verify(&server, &other, &req);
    answer.check(&req, &other.key).unwrap();
    assert_eq!(answer.status(), Some(Status::Ok));

    // The database fails under the check (the table of answered requests is gone): BACKEND_ERROR,
    // signed with the client's key, and again nothing is consumed.
    sql(
        &env,
        "ALTER TABLE wsapi_requests RENAME TO wsapi_requests_away",
    );
    let otp = key.touch();
    let req = ClientRequest::new(other.id, &otp, &nonce(4));
    let answer = verify(&server, &other, &req);
    assert_eq!(answer.status(), Some(Status::BackendError), "{answer:?}");
    sql(
        &env,
        "ALTER TABLE wsapi_requests_away RENAME TO wsapi_requests",
    );
    let req = ClientRequest::new(other.id, &otp, &nonce(5));
    let answer = verify(&server, &other, &req);
    answer.check(&req, &other.key).unwrap();
    assert_eq!(
        answer.status(),
        Some(Status::Ok),
        "once the database is back"
    );
}

const YUBICO_CLIENT: &str = r#"
import sys
from yubico_client import Yubico
client_id, key, url, otp = sys.argv[1:]
client = Yubico(client_id, key, api_urls=(url,), max_retries=1)
for attempt in range(2):
    try:
        print("verified" if client.verify(otp, timestamp=True) else "refused")
    except Exception as e:
        print("error", type(e).__name__, getattr(e, "status_code", ""), str(e)[:100])
"#;

#[test]
fn yubico_client_verifies_and_reports_the_replay() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    let mut key = Key::new("vvccccdhkjkb", 1);
    enrolled(&api, "ann", &mut key);
    let client = add_client(&env, "python", &[]);
    let url = format!("{}/wsapi/2.0/verify", server.base);
    let otp = key.touch();
    let out = Command::new(venv_python())
        .args([
            "-c",
            YUBICO_CLIENT,
            &client.id.to_string(),
            &client.key_b64,
            &url,
            &otp,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "verified", "a fresh OTP: {text}");
    assert!(
        lines[1].starts_with("error StatusCodeError REPLAYED_OTP"),
        "the same OTP again: {text}"
    );
    // With a wrong key, yubico-client refuses the answer's signature.
    let wrong = "AAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let out = Command::new(venv_python())
        .args([
            "-c",
            YUBICO_CLIENT,
            &client.id.to_string(),
            wrong,
            &url,
            &key.touch(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("verified"), "{text}");
}

/// A PAM service file for pam_yubico against Twofold; removed on drop.
struct PamService {
    name: String,
    path: std::path::PathBuf,
}

impl PamService {
    fn new(content: &str) -> PamService {
        let name = format!("twofold-test-{}", std::process::id());
        let path = std::path::Path::new("/etc/pam.d").join(&name);
        if std::fs::write(&path, content).is_err() {
            // Not root: sudo, as scripts/test installs packages.
            let mut child = Command::new("sudo")
                .args(["-n", "tee", path.to_str().unwrap()])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(content.as_bytes())
                .unwrap();
            assert!(
                child.wait().unwrap().success(),
                "cannot write {}",
                path.display()
            );
        }
        PamService { name, path }
    }

    /// `pamtester SERVICE USER authenticate` with `otp` typed at the prompt; true on success.
    fn authenticate(&self, user: &str, otp: &str) -> bool {
        let mut child = Command::new("pamtester")
            .args([&self.name, user, "authenticate"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("pamtester (Debian package pamtester; scripts/test installs it)");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{otp}\n").as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("successfully authenticated") || text.contains("Authentication"),
            "pamtester said: {text}"
        );
        out.status.success()
    }
}

impl Drop for PamService {
    fn drop(&mut self) {
        if std::fs::remove_file(&self.path).is_err() {
            let _ = Command::new("sudo")
                .args(["-n", "rm", "-f", self.path.to_str().unwrap()])
                .status();
        }
    }
}

#[test]
fn pam_yubico_accepts_a_fresh_otp_and_refuses_replays_and_other_keys() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    let mut ann = Key::new("vvccccdhkjkb", 1);
    let mut bob = Key::new("vvccccdhkjkc", 2);
    enrolled(&api, "ann", &mut ann);
    enrolled(&api, "bob", &mut bob);
    let client = add_client(&env, "pam", &[]);
    let authfile = env.data_dir().join("authorized_yubikeys");
    std::fs::write(
        &authfile,
        format!("ann:{}\nbob:{}\n", ann.public_id, bob.public_id),
    )
    .unwrap();
    let pam = PamService::new(&format!(
        "auth required pam_yubico.so id={} key={} urllist={}/wsapi/2.0/verify authfile={}\n\
         account required pam_permit.so\n",
        client.id,
        client.key_b64,
        server.base,
        authfile.display()
    ));
    let otp = ann.touch();
    assert!(
        pam.authenticate("ann", &otp),
        "a fresh OTP for the right user"
    );
    assert!(!pam.authenticate("ann", &otp), "the same OTP again");
    assert!(
        !pam.authenticate("bob", &ann.touch()),
        "Ann's key for Bob (the authfile maps keys to users)"
    );
    assert!(pam.authenticate("bob", &bob.touch()), "Bob's own key");
    // Twofold saw each request: the replay is audited as such.
    let audit = api
        .get("/api/v1/audit?username=ann&limit=50")
        .json
        .to_string();
    assert!(audit.contains("reason=replayed_otp"), "{audit}");
}
