//! YubiKey in local mode through the API and the CLI: enrolment binds the key, each OTP works
//! once and only above the last counter, one key belongs to one user, concurrent uses win once,
//! and bulk import is all or nothing. A public id claimed by a user's own enrolment never
//! displaces a key an administrator registered, is found and released by an administrator, and
//! is taken over by an import only when told. OTPs come from PyPI `yubiotp` (an independent
//! implementation) in the test venv, as a key would type them.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::on_both;
use crate::portal::{Browser, PASSWORD, Page, add_user, confirmed_totp, factors_of};
use crate::support::{Api, Db, Env, Server, skip_postgres};

on_both!(
    local_keys_enrol_validate_once_and_in_order,
    one_key_belongs_to_one_user,
    concurrent_uses_of_one_otp_succeed_once,
    import_is_checked_first_and_all_or_nothing,
    yubikey_secrets_never_reach_the_database_in_clear,
    self_enrolment_cannot_claim_an_imported_key,
    self_enrolment_cannot_claim_a_key_a_validation_server_verified,
    a_squatted_public_id_is_found_released_and_then_enrolled_by_its_owner,
    an_import_takes_over_a_self_enrolled_public_id_only_when_told,
);

pub fn venv_python() -> PathBuf {
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

const YUBIOTP_MAKE: &str = r#"
import sys, binascii
from yubiotp.otp import OTP, encode_otp
for line in sys.stdin:
    key, uid, pub, use, sess, ts, rnd = line.split()
    pub = "" if pub == "-" else pub
    otp = OTP(binascii.unhexlify(uid), int(use), int(ts), int(sess), int(rnd))
    print(encode_otp(otp, binascii.unhexlify(key), public_id=pub.encode()).decode())
"#;

/// A YubiKey emulated with PyPI yubiotp: each `touch` types the next OTP.
#[derive(Debug, Clone)]
pub struct Key {
    pub public_id: String,
    pub private_id: String,
    pub aes_key: String,
    pub use_counter: u16,
    pub session: u8,
}

impl Key {
    /// A key with the given public id (modhex) and a key and private id derived from `seed`.
    pub fn new(public_id: &str, seed: u8) -> Key {
        Key {
            public_id: public_id.to_owned(),
            private_id: format!("{:02x}", seed).repeat(6),
            aes_key: (0..16)
                .map(|i| format!("{:02x}", seed.wrapping_mul(31).wrapping_add(i * 7)))
                .collect(),
            use_counter: 1,
            session: 0,
        }
    }

    /// The OTP for an explicit (use, session) counter, without touching the key's state.
    pub fn otp_at(&self, use_counter: u16, session: u8) -> String {
        make_otps(&[(self, use_counter, session)]).remove(0)
    }

    /// The next touch: the session counter goes up.
    pub fn touch(&mut self) -> String {
        let otp = self.otp_at(self.use_counter, self.session);
        self.session += 1;
        otp
    }

    /// Unplug and plug in again: the use counter goes up and the session counter restarts.
    pub fn replug(&mut self) {
        self.use_counter += 1;
        self.session = 0;
    }

    /// The API body that enrols it in local mode.
    pub fn enrol_body(&self, label: &str) -> Value {
        json!({"kind": "yubikey", "label": label, "aes_key": self.aes_key,
               "private_id": self.private_id})
    }
}

/// OTPs made by yubiotp, in one Python run.
pub fn make_otps(keys: &[(&Key, u16, u8)]) -> Vec<String> {
    let mut input = String::new();
    for (i, (k, use_counter, session)) in keys.iter().enumerate() {
        input.push_str(&format!(
            "{} {} {} {use_counter} {session} {} {}\n",
            k.aes_key,
            k.private_id,
            if k.public_id.is_empty() {
                "-"
            } else {
                &k.public_id
            },
            1000 + i,
            4242 + i
        ));
    }
    let mut child = Command::new(venv_python())
        .args(["-c", YUBIOTP_MAKE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "yubiotp failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Turns the YubiKey method on for everyone.
pub fn activate(api: &Api) {
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.yubikey.active": true, "methods.yubikey.clients": true,
               "methods.yubikey.admins": true}),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

/// Creates `username` and enrols and confirms `key` for them; returns the confirm answer.
pub fn enrolled(api: &Api, username: &str, key: &mut Key) -> Value {
    let r = api.post("/api/v1/users", json!({"username": username}));
    assert_eq!(r.status, 201, "{r:?}");
    let r = api.post(
        &format!("/api/v1/users/{username}/factors"),
        key.enrol_body("blue key"),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = api.post(
        &format!("/api/v1/users/{username}/factors/{id}/confirm"),
        json!({"code": key.touch()}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.json
}

/// A private id (12 hex characters) that differs from `private_id` in every byte.
pub fn other_private_id(private_id: &str) -> String {
    let other: String = private_id
        .bytes()
        .map(|b| if b == b'f' { '0' } else { 'f' })
        .collect();
    assert_ne!(other, private_id);
    other
}

/// The details of `username`'s newest `limit` `2fa.failure` audit events, newest first (a
/// refused code writes the factor's reason, then the validation's).
pub fn recent_failures(api: &Api, username: &str, limit: usize) -> Vec<String> {
    let r = api.get(&format!(
        "/api/v1/audit?username={username}&event=2fa.failure&limit={limit}"
    ));
    assert_eq!(r.status, 200, "{r:?}");
    r.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect()
}

fn flip(otp: &str, at: usize) -> String {
    let mut chars: Vec<char> = otp.chars().collect();
    chars[at] = if chars[at] == 'c' { 'b' } else { 'c' };
    chars.into_iter().collect()
}

fn local_keys_enrol_validate_once_and_in_order(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    let mut key = Key::new("vvccccdhkjkb", 1);
    assert_eq!(
        api.post("/api/v1/users", json!({"username": "ann"})).status,
        201
    );

    // Local mode needs the key's secret, in the right shape.
    let r = api.post("/api/v1/users/ann/factors", json!({"kind": "yubikey"}));
    assert_eq!(
        (r.status, r.error_code()),
        (422, "missing_yubikey_secret"),
        "{r:?}"
    );
    for (aes, pid, code) in [
        ("00112233", "a1a2a3a4a5a6", "invalid_aes_key"),
        (key.aes_key.as_str(), "a1a2a3", "invalid_private_id"),
        (&"zz".repeat(16), "a1a2a3a4a5a6", "invalid_aes_key"),
    ] {
        let r = api.post(
            "/api/v1/users/ann/factors",
            json!({"kind": "yubikey", "aes_key": aes, "private_id": pid}),
        );
        assert_eq!((r.status, r.error_code()), (422, code), "{r:?}");
    }
    assert_eq!(
        api.get("/api/v1/users/ann").json["factors"],
        json!([]),
        "refused enrolments leave nothing"
    );

    // A key that types no public id cannot be bound.
    let mut anonymous = Key::new("", 4);
    let r = api.post("/api/v1/users/ann/factors", anonymous.enrol_body("no id"));
    assert_eq!(r.status, 201, "{r:?}");
    let anonymous_id = r.json["id"].as_str().unwrap().to_owned();
    let r = api.post(
        &format!("/api/v1/users/ann/factors/{anonymous_id}/confirm"),
        json!({"code": anonymous.touch()}),
    );
    assert_eq!((r.status, r.error_code()), (422, "invalid_code"), "{r:?}");
    assert_eq!(
        api.delete(&format!("/api/v1/users/ann/factors/{anonymous_id}"))
            .status,
        204
    );

    let r = api.post("/api/v1/users/ann/factors", key.enrol_body("blue key"));
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["confirmed"], false);
    assert!(r.json.get("aes_key").is_none() && r.json.get("public_id").is_none());
    let id = r.json["id"].as_str().unwrap().to_owned();
    let confirm = format!("/api/v1/users/ann/factors/{id}/confirm");

    // An OTP from another key does not confirm it.
    let mut other = Key::new("vvccccdhkjkb", 2);
    let r = api.post(&confirm, json!({"code": other.touch()}));
    assert_eq!((r.status, r.error_code()), (422, "invalid_code"), "{r:?}");
    let r = api.post(&confirm, json!({"code": key.touch()}));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["confirmed"], true);
    assert_eq!(r.json["public_id"], "vvccccdhkjkb");
    assert_eq!(r.json["backup_codes"].as_array().unwrap().len(), 10);

    // Each OTP once, and only above the last accepted counter.
    let skipped = key.touch();
    let next = key.touch();
    assert_eq!(
        api.validate("ann", &next),
        json!({"ok": true, "method": "yubikey"})
    );
    assert_eq!(
        api.validate("ann", &next),
        json!({"ok": false, "reason": "invalid_code"}),
        "the same OTP again"
    );
    assert_eq!(
        api.validate("ann", &skipped),
        json!({"ok": false, "reason": "invalid_code"}),
        "an OTP with a lower counter"
    );
    // The next touch, and the next plug-in (use counter + 1, session counter reset).
    assert_eq!(api.validate("ann", &key.touch())["ok"], true);
    key.replug();
    let first_after_replug = key.touch();
    let r = api.call(
        "POST",
        "/api/v1/validate",
        Some(&json!({"username": "ann", "code": first_after_replug, "method": "yubikey"})),
    );
    assert_eq!(r.json, json!({"ok": true, "method": "yubikey"}), "{r:?}");
    // A session counter high in the earlier plug-in is still below the new use counter.
    let old_plug = key.otp_at(key.use_counter - 1, 200);
    assert_eq!(api.validate("ann", &old_plug)["ok"], false);

    // The same public id and AES key but another private id: the token decrypts and its CRC
    // holds, only the private id inside gives it away. Its counter is the one the real key's
    // next touch carries, so the refusal is not a replay (and consumes nothing).
    let impostor = Key {
        private_id: other_private_id(&key.private_id),
        ..key.clone()
    };
    let forged = impostor.otp_at(key.use_counter, key.session);
    assert_eq!(&forged[..12], key.public_id.as_str());
    assert_eq!(
        api.validate("ann", &forged),
        json!({"ok": false, "reason": "invalid_code"}),
        "an OTP with another private id"
    );
    let failures = recent_failures(&api, "ann", 2);
    assert!(
        failures.contains(&format!("kind=yubikey factor={id} reason=wrong_private_id")),
        "{failures:?}"
    );
    assert_eq!(
        api.validate("ann", &key.touch()),
        json!({"ok": true, "method": "yubikey"}),
        "the real key's OTP at that very counter"
    );

    // Another key with the same public id, a flipped character, a typed-in-caps OTP.
    assert_eq!(api.validate("ann", &other.touch())["ok"], false);
    let fresh = key.touch();
    assert_eq!(api.validate("ann", &flip(&fresh, 20))["ok"], false);
    assert_eq!(api.validate("ann", &flip(&fresh, 3))["ok"], false);
    assert_eq!(
        api.validate("ann", &fresh.to_uppercase()),
        json!({"ok": true, "method": "yubikey"}),
        "Caps Lock on: the same OTP in upper case"
    );
    // Malformed: 43 characters, not modhex.
    let r = api.call(
        "POST",
        "/api/v1/validate",
        Some(&json!({"username": "ann", "code": &key.touch()[..43]})),
    );
    assert_eq!((r.status, r.error_code()), (422, "malformed_code"), "{r:?}");
    let r = api.call(
        "POST",
        "/api/v1/validate",
        Some(&json!({"username": "ann", "code": "x".repeat(44)})),
    );
    assert_eq!((r.status, r.error_code()), (422, "malformed_code"), "{r:?}");

    // The audit log names why OTPs were refused, and never holds one.
    let audit = api
        .get("/api/v1/audit?username=ann&limit=100")
        .json
        .to_string();
    for reason in ["replayed_otp", "otp_does_not_decrypt"] {
        assert!(audit.contains(reason), "{reason} in {audit}");
    }
    assert!(!audit.contains(&fresh[12..]), "no OTP in the audit log");
    let user = api.get("/api/v1/users/ann").json;
    assert!(user["factors"][0]["last_used_at"].is_i64());
}

fn one_key_belongs_to_one_user(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    let mut key = Key::new("vvccccdhkjkb", 1);
    enrolled(&api, "ann", &mut key);

    // Bob enrols the very same key: the confirming OTP finds it registered.
    assert_eq!(
        api.post("/api/v1/users", json!({"username": "bob"})).status,
        201
    );
    let r = api.post("/api/v1/users/bob/factors", key.enrol_body("stolen"));
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = api.post(
        &format!("/api/v1/users/bob/factors/{id}/confirm"),
        json!({"code": key.touch()}),
    );
    assert_eq!(
        (r.status, r.error_code()),
        (409, "yubikey_registered"),
        "{r:?}"
    );
    assert_eq!(
        api.get("/api/v1/users/bob").json["factors"][0]["confirmed"],
        false
    );
    // Bob with a key of his own: Ann's key does not log Bob in, nor his hers.
    let mut bobs = Key::new("vvccccdhkjkc", 3);
    let r = api.post("/api/v1/users/bob/factors", bobs.enrol_body("his"));
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = api.post(
        &format!("/api/v1/users/bob/factors/{id}/confirm"),
        json!({"code": bobs.touch()}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(api.validate("bob", &key.touch())["ok"], false);
    assert_eq!(api.validate("ann", &bobs.touch())["ok"], false);
    assert_eq!(api.validate("ann", &key.touch())["ok"], true);
    assert_eq!(api.validate("bob", &bobs.touch())["ok"], true);
}

fn concurrent_uses_of_one_otp_succeed_once(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    api.patch("/api/v1/settings", json!({"lockout.max_failures": 100}));
    let mut key = Key::new("vvccccdhkjkb", 1);
    enrolled(&api, "ann", &mut key);
    let otp = key.touch();
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let api = api.clone();
            let otp = otp.clone();
            std::thread::spawn(move || api.validate("ann", &otp)["ok"] == json!(true))
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|w| *w)
        .count();
    assert_eq!(wins, 1, "50 concurrent uses of one OTP");
}

fn import_is_checked_first_and_all_or_nothing(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    for u in ["ann", "bob"] {
        assert_eq!(
            api.post("/api/v1/users", json!({"username": u})).status,
            201
        );
    }
    let mut a = Key::new("vvccccdhkjkb", 1);
    let mut b = Key::new("vvccccdhkjkc", 2);
    let good = format!(
        "username,public id,private id,aes key,label\n\
         # programmed 2026-11-23\n\
         ann,{},{},{},blue key\n\
         bob,{},{},{}\n",
        a.public_id, a.private_id, a.aes_key, b.public_id, b.private_id, b.aes_key
    );
    let bad = format!(
        "{good}nobody,vvccccdhkjkd,{},{}\n\
         ann,{},{},{}\n\
         bob,vvccccdhkjkf,a1a2a3,{}\n\
         bob,vvccccdhkjkg,{},{}extra\n\
         ann,vvccccdhkjkh\n",
        a.private_id,
        a.aes_key,
        a.public_id,
        a.private_id,
        a.aes_key,
        b.aes_key,
        b.private_id,
        b.aes_key,
    );
    let dir = tempfile::tempdir().unwrap();
    let (good_file, bad_file) = (dir.path().join("good.csv"), dir.path().join("bad.csv"));
    std::fs::write(&good_file, &good).unwrap();
    std::fs::write(&bad_file, &bad).unwrap();

    let out = env.cli(&["yubikey", "import", bad_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "line 5: no user named \"nobody\"",
        "line 6: the public id vvccccdhkjkb is in the file twice",
        "line 7: The private id is 12 hexadecimal characters",
        "line 8: The AES key is 32 hexadecimal characters",
        "line 9: expected 4 or 5 columns",
        "error: 5 bad row(s); nothing was imported",
    ] {
        assert!(err.contains(expected), "{expected:?} in {err}");
    }
    assert_eq!(api.get("/api/v1/users/ann").json["factors"], json!([]));

    let out = env.cli_ok(&[
        "yubikey",
        "import",
        "--dry-run",
        good_file.to_str().unwrap(),
    ]);
    assert!(out.contains("would import 2 key(s)"), "{out}");
    assert_eq!(api.get("/api/v1/users/ann").json["factors"], json!([]));

    let out = env.cli_ok(&["yubikey", "import", good_file.to_str().unwrap()]);
    assert!(out.contains("imported 2 key(s)"), "{out}");
    let ann = api.get("/api/v1/users/ann").json;
    assert_eq!(ann["factors"][0]["label"], "blue key");
    assert_eq!(ann["factors"][0]["confirmed"], true);
    assert_eq!(ann["factors"][0]["public_id"], a.public_id.as_str());
    assert_eq!(ann["has_2fa"], true);
    assert_eq!(api.validate("ann", &a.touch())["ok"], true);
    assert_eq!(api.validate("bob", &b.touch())["ok"], true);
    assert_eq!(api.validate("bob", &a.touch())["ok"], false);

    // Importing again: every key is registered now, nothing changes.
    let out = env.cli(&["yubikey", "import", good_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3: the YubiKey vvccccdhkjkb is already registered"),
        "{err}"
    );
    assert_eq!(
        api.get("/api/v1/users/ann").json["factors"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

fn hex_decode(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn b64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn yubikey_secrets_never_reach_the_database_in_clear(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    // Secrets no database page would hold by chance.
    let mut key = Key {
        public_id: "vvccccdhkjkb".into(),
        private_id: "5e3a91c7d24b".into(),
        aes_key: "9c2f1c2d5a8a1f0c9a38c9d8b37a84ab".into(),
        use_counter: 1,
        session: 0,
    };
    enrolled(&api, "ann", &mut key);
    assert_eq!(api.validate("ann", &key.touch())["ok"], true);
    // A client of the validation server, its key shown once.
    let out = env.cli_ok(&["yubikey", "client", "add", "pam"]);
    let client_key = out
        .lines()
        .find_map(|l| l.strip_prefix("key="))
        .unwrap()
        .to_owned();
    // The API key of server mode (which stays unused here: the key above is checked locally).
    let api_key = "q7Xh2mV9tLwR4sNcY8bKpE3uJzGaD6fo"; // 24 bytes of base64
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.yubikey.api_key": api_key, "methods.yubikey.client_id": "42"}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["settings"]["methods.yubikey.api_key"], "********");
    drop(server);

    let bytes = env.database_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let lower = text.to_lowercase();
    let raw_in = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    for (what, hex) in [("AES key", &key.aes_key), ("private id", &key.private_id)] {
        assert!(!lower.contains(hex.as_str()), "the {what} in hex");
        assert!(!raw_in(&hex_decode(hex)), "the {what}'s bytes");
    }
    for (what, b64) in [
        ("client key", &client_key),
        ("API key", &api_key.to_owned()),
    ] {
        assert!(!text.contains(b64.as_str()), "the {what} in base64");
        let raw = b64_decode(b64);
        assert!(!raw_in(&raw), "the {what}'s bytes");
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        assert!(!lower.contains(&hex), "the {what} in hex");
    }
    // …while what is not secret is there in clear (the search would find it).
    assert!(text.contains("vvccccdhkjkb") && text.contains("pam"));
}

#[test]
fn two_nodes_accept_one_otp_once() {
    if skip_postgres() {
        return;
    }
    let env = Env::new(Db::Postgres);
    let token = env.token("app", "admin");
    let a = env.serve();
    let b = env.serve();
    let (api_a, api_b) = (a.api(&token), b.api(&token));
    activate(&api_a);
    api_a.patch("/api/v1/settings", json!({"lockout.max_failures": 100}));
    let mut key = Key::new("vvccccdhkjkb", 1);
    enrolled(&api_a, "ann", &mut key);
    let otp = key.touch();
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let api = if i % 2 == 0 {
                api_a.clone()
            } else {
                api_b.clone()
            };
            let otp = otp.clone();
            std::thread::spawn(move || api.validate("ann", &otp)["ok"] == json!(true))
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|w| *w)
        .count();
    assert_eq!(wins, 1, "one OTP over two nodes");
    assert_eq!(api_b.validate("ann", &key.touch())["ok"], true);
}

/// The stand-in validation server of the delivery tests, knowing `keys` as YubiCloud would.
struct ValidationServer {
    child: std::process::Child,
    url: String,
}

impl ValidationServer {
    fn start(client_id: &str, key_b64: &str, keys: &[&Key]) -> ValidationServer {
        ValidationServer::start_in_mode(client_id, key_b64, keys, "ok")
    }

    /// One in a `--mode` of the stand-in (`badsig`, `othernonce`, `otherotp`, …): it still
    /// checks each request and decrypts the OTPs of `keys`, then answers as the mode says.
    fn start_in_mode(
        client_id: &str,
        key_b64: &str,
        keys: &[&Key],
        mode: &str,
    ) -> ValidationServer {
        use std::io::BufRead;
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../delivery/tests/yubico_server.py");
        let mut cmd = Command::new(venv_python());
        cmd.arg(script)
            .args(["--id", client_id, "--key", key_b64, "--mode", mode]);
        for k in keys {
            cmd.args(["--yubikey", &format!("{}={}", k.public_id, k.aes_key)]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = lines.next().unwrap().unwrap();
        let port = ready.strip_prefix("READY ").unwrap().to_owned();
        // Keep reading its request log so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        ValidationServer {
            child,
            url: format!("http://127.0.0.1:{port}/wsapi/2.0/verify"),
        }
    }
}

impl Drop for ValidationServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback URL where nothing listens.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/wsapi/2.0/verify")
}

#[test]
fn server_mode_asks_the_validation_servers_and_still_refuses_seen_counters() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    let key_b64 = "c2VjcmV0IGtleSBvZiB0aGUgY2xpZW50";
    let mut key = Key::new("vvccccdhkjkb", 1);
    let cloud = ValidationServer::start("42", key_b64, &[&key]);
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.yubikey.mode": "server", "methods.yubikey.client_id": "42",
               "methods.yubikey.api_key": key_b64,
               "methods.yubikey.servers": format!("{}, {}", closed_url(), cloud.url)}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        api.post("/api/v1/users", json!({"username": "ann"})).status,
        201
    );
    // Server mode: the validation service holds the key's secret; Twofold takes none.
    let r = api.post("/api/v1/users/ann/factors", key.enrol_body("blue key"));
    assert_eq!(
        (r.status, r.error_code()),
        (422, "unexpected_field"),
        "{r:?}"
    );
    let r = api.post(
        "/api/v1/users/ann/factors",
        json!({"kind": "yubikey", "label": "blue key"}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let mut stranger = Key::new("vvccccdhkjkc", 7);
    let confirm = format!("/api/v1/users/ann/factors/{id}/confirm");
    let r = api.post(&confirm, json!({"code": stranger.touch()}));
    assert_eq!((r.status, r.error_code()), (422, "invalid_code"), "{r:?}");
    let r = api.post(&confirm, json!({"code": key.touch()}));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["public_id"], "vvccccdhkjkb");

    // The first server is down, the second answers.
    let otp = key.touch();
    assert_eq!(
        api.validate("ann", &otp),
        json!({"ok": true, "method": "yubikey"})
    );
    assert_eq!(api.validate("ann", &otp)["ok"], false, "REPLAYED_OTP");
    let spent = key.otp_at(key.use_counter, key.session - 1);
    let older = key.otp_at(key.use_counter, 0);

    // A validation server that forgot everything (a fresh YubiCloud node): Twofold still
    // refuses counters it has accepted. (Settings changed through this server apply at once:
    // it drops its cached settings.)
    drop(cloud);
    let cloud = ValidationServer::start("42", key_b64, &[&key]);
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.yubikey.servers": cloud.url.clone()}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(api.validate("ann", &spent)["ok"], false);
    assert_eq!(api.validate("ann", &older)["ok"], false);
    assert_eq!(api.validate("ann", &key.touch())["ok"], true);

    // Answers that are not the answer to this request: a bad signature, another nonce, another
    // OTP. Each refuses the code at once — the good server listed after it is not asked — and
    // is audited with its reason.
    let mut held = Vec::new();
    for (mode, reason) in [
        (
            "badsig",
            "The YubiKey validation server's answer had a bad signature",
        ),
        (
            "othernonce",
            "The YubiKey validation server's answer did not echo the request's nonce.",
        ),
        (
            "otherotp",
            "The YubiKey validation server's answer was about another OTP.",
        ),
    ] {
        let liar = ValidationServer::start_in_mode("42", key_b64, &[&key], mode);
        let r = api.patch(
            "/api/v1/settings",
            json!({"methods.yubikey.servers": format!("{}, {}", liar.url, cloud.url)}),
        );
        assert_eq!(r.status, 200, "{r:?}");
        let otp = key.touch();
        assert_eq!(
            api.validate("ann", &otp),
            json!({"ok": false, "reason": "invalid_code"}),
            "{mode}"
        );
        let audited = format!("kind=yubikey factor={id} reason=validation_server: {reason}");
        let failures = recent_failures(&api, "ann", 2);
        assert!(
            failures.iter().any(|f| f.starts_with(&audited)),
            "{mode}: {failures:?}"
        );
        held.push(otp);
    }
    // Each of those OTPs was good and nothing consumed it: the honest server alone takes them,
    // in order.
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.yubikey.servers": cloud.url.clone()}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    for otp in &held {
        assert_eq!(
            api.validate("ann", otp),
            json!({"ok": true, "method": "yubikey"})
        );
    }

    // Without an API key, answers would be trusted unsigned: refused.
    assert_eq!(
        api.patch("/api/v1/settings", json!({"methods.yubikey.api_key": ""}))
            .status,
        200
    );
    assert_eq!(api.validate("ann", &key.touch())["ok"], false);
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.yubikey.api_key": key_b64}),
    );
    assert_eq!(r.status, 200, "{r:?}");

    // No server answering: refused, and the reason is audited.
    drop(cloud);
    assert_eq!(api.validate("ann", &key.touch())["ok"], false);
    let audit = api
        .get("/api/v1/audit?username=ann&limit=100")
        .json
        .to_string();
    for reason in [
        "no API key is set",
        "No YubiKey validation server could be reached.",
        "REPLAYED_OTP",
        "replayed_otp",
    ] {
        assert!(audit.contains(reason), "{reason} in {audit}");
    }
    let settings = api.get("/api/v1/settings").json.to_string();
    assert!(!settings.contains(key_b64), "the API key is write-only");
}

// --- Public ids claimed by self-enrolment ----------------------------------------------------

/// What the portal tells a user whose key another account holds.
const HELD_ELSEWHERE: &str = "This YubiKey is registered to another account. Ask an administrator.";

/// A portal session of a new client `name` with no second factor yet.
fn portal_user(env: &Env, server: &Server, name: &str) -> Browser {
    add_user(env, name, "client", &[]);
    let mut b = Browser::new(server);
    b.login(name, PASSWORD, "");
    assert_eq!(
        b.get("/account/security").status,
        200,
        "{name} is logged in"
    );
    b
}

/// The owner `root`, logged in to the portal with a backup code.
fn owner_browser(env: &Env, server: &Server, api: &Api) -> Browser {
    add_user(env, "root", "owner", &[]);
    let (_, _, codes) = confirmed_totp(api, "root", "phone");
    let mut b = Browser::new(server);
    b.login_with_backup_code("root", &codes[0]);
    b
}

/// Starts adding `key` in Security Settings as its user would (the key's AES key and private
/// id in the form); returns the pending factor's id.
fn start_self_enrolment(b: &mut Browser, key: &Key) -> String {
    let csrf = b.get("/account/security").csrf();
    let r = b.post(
        "/account/security/enroll",
        &[
            ("csrf", &csrf),
            ("kind", "yubikey"),
            ("label", "my key"),
            ("aes_key", &key.aes_key),
            ("private_id", &key.private_id),
        ],
    );
    let at = r
        .location
        .unwrap_or_else(|| panic!("a redirect to the enrolment: {}", r.body));
    at.rsplit('/').next().unwrap().to_owned()
}

/// Touches `key` on the enrolment page of the pending factor `id`.
fn touch_to_confirm(b: &mut Browser, id: &str, key: &mut Key) -> Page {
    let path = format!("/account/security/enroll/{id}");
    let csrf = b.get(&path).csrf();
    b.post(&path, &[("csrf", &csrf), ("code", &key.touch())])
}

/// The newest audit records of `event` about `username`: (actor, detail).
fn audited(api: &Api, username: &str, event: &str) -> Vec<(String, String)> {
    let r = api.get(&format!(
        "/api/v1/audit?username={username}&event={event}&limit=100"
    ));
    assert_eq!(r.status, 200, "{r:?}");
    r.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_owned(),
                e["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The browser's session has ended: its user's last confirmed factor went with the release.
fn assert_signed_out(b: &mut Browser) {
    let r = b.get("/account/security");
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(
        r.location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login")),
        "{:?}",
        r.location
    );
}

/// Imports `csv` with the CLI (`extra` flags first).
fn import(env: &Env, csv: &str, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.csv");
    std::fs::write(&file, csv).unwrap();
    let mut args = vec!["yubikey", "import"];
    args.extend_from_slice(extra);
    args.push(file.to_str().unwrap());
    env.cli(&args)
}

fn csv_row(username: &str, key: &Key) -> String {
    format!(
        "{username},{},{},{}\n",
        key.public_id, key.private_id, key.aes_key
    )
}

/// The audit log as text, which must hold none of `keys`' secrets nor these OTPs.
fn assert_no_secrets(api: &Api, keys: &[&Key], otps: &[&str]) {
    let audit = api.get("/api/v1/audit?limit=1000").json.to_string();
    for k in keys {
        assert!(!audit.contains(&k.aes_key), "an AES key in {audit}");
        assert!(!audit.contains(&k.private_id), "a private id in {audit}");
    }
    for otp in otps {
        assert!(!audit.contains(&otp[12..]), "an OTP in {audit}");
    }
}

fn self_enrolment_cannot_claim_an_imported_key(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    assert_eq!(
        api.post("/api/v1/users", json!({"username": "ann"})).status,
        201
    );
    let mut real = Key::new("vvccccdhkjkb", 1);
    let out = import(&env, &csv_row("ann", &real), &[]);
    assert!(out.status.success(), "{out:?}");

    // Mallory saw one OTP of Ann's key and programs a key of her own with its public id.
    let mut mallory = portal_user(&env, &server, "mallory");
    let mut forged = Key::new("vvccccdhkjkb", 9);
    let pending = start_self_enrolment(&mut mallory, &forged);
    let claim = forged.otp_at(forged.use_counter, forged.session);
    let r = touch_to_confirm(&mut mallory, &pending, &mut forged);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains(HELD_ELSEWHERE), "{}", r.body);
    assert!(
        !r.body.contains("ann"),
        "the holder is not named: {}",
        r.body
    );
    assert_eq!(factors_of(&api, "mallory"), vec![(pending.clone(), false)]);

    // Audited for both accounts, with ids and names only.
    let theirs = audited(&api, "mallory", "yubikey.conflict");
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0].0, "user:mallory");
    for part in [
        "public_id=vvccccdhkjkb",
        &format!("factor={pending}"),
        "origin=self_enrolled",
        "holder=ann",
        "holder_origin=administrator",
    ] {
        assert!(theirs[0].1.contains(part), "{part} in {theirs:?}");
    }
    let anns = audited(&api, "ann", "yubikey.conflict");
    assert_eq!(anns.len(), 1, "{anns:?}");
    assert!(
        anns[0].1.contains("claimed_by=mallory") && anns[0].1.contains("public_id=vvccccdhkjkb"),
        "{anns:?}"
    );

    // Nor through the API: an enrolment confirmed with the forged key is refused alike.
    let r = api.post("/api/v1/users/mallory/factors", forged.enrol_body("again"));
    assert_eq!(r.status, 201, "{r:?}");
    let again = r.json["id"].as_str().unwrap().to_owned();
    let r = api.post(
        &format!("/api/v1/users/mallory/factors/{again}/confirm"),
        json!({"code": forged.touch()}),
    );
    assert_eq!(
        (r.status, r.error_code()),
        (409, "yubikey_registered"),
        "{r:?}"
    );

    // Ann's key is hers and works; the forged one logs nobody in.
    assert_eq!(
        api.validate("ann", &real.touch()),
        json!({"ok": true, "method": "yubikey"})
    );
    assert_eq!(api.validate("ann", &forged.touch())["ok"], false);
    let ann = api.get("/api/v1/users/ann").json;
    assert_eq!(ann["factors"].as_array().unwrap().len(), 1);
    assert_eq!(ann["factors"][0]["public_id"], "vvccccdhkjkb");
    assert_no_secrets(&api, &[&real, &forged], &[&claim]);

    // Ann's own key added to her account a second time: refused as hers already, no
    // conflict between accounts.
    let conflicts = audited(&api, "ann", "yubikey.conflict").len();
    let r = api.post("/api/v1/users/ann/factors", real.enrol_body("twice"));
    assert_eq!(r.status, 201, "{r:?}");
    let twice = r.json["id"].as_str().unwrap().to_owned();
    let r = api.post(
        &format!("/api/v1/users/ann/factors/{twice}/confirm"),
        json!({"code": real.touch()}),
    );
    assert_eq!(
        (r.status, r.error_code()),
        (409, "yubikey_registered"),
        "{r:?}"
    );
    assert_eq!(
        r.json["error"]["message"],
        "This YubiKey is already one of this account's devices."
    );
    assert_eq!(audited(&api, "ann", "yubikey.conflict").len(), conflicts);
}

fn self_enrolment_cannot_claim_a_key_a_validation_server_verified(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    // Ann's key is confirmed through a validation server, in server mode.
    let key_b64 = "c2VjcmV0IGtleSBvZiB0aGUgY2xpZW50";
    let mut real = Key::new("vvccccdhkjkb", 1);
    let cloud = ValidationServer::start("42", key_b64, &[&real]);
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.yubikey.mode": "server", "methods.yubikey.client_id": "42",
               "methods.yubikey.api_key": key_b64, "methods.yubikey.servers": cloud.url.clone()}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        api.post("/api/v1/users", json!({"username": "ann"})).status,
        201
    );
    let r = api.post(
        "/api/v1/users/ann/factors",
        json!({"kind": "yubikey", "label": "blue key"}),
    );
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = api.post(
        &format!("/api/v1/users/ann/factors/{id}/confirm"),
        json!({"code": real.touch()}),
    );
    assert_eq!(r.status, 200, "{r:?}");

    // Back in local mode, Mallory adds a key of her own programmed with that public id.
    let r = api.patch("/api/v1/settings", json!({"methods.yubikey.mode": "local"}));
    assert_eq!(r.status, 200, "{r:?}");
    let mut mallory = portal_user(&env, &server, "mallory");
    let mut forged = Key::new("vvccccdhkjkb", 9);
    let pending = start_self_enrolment(&mut mallory, &forged);
    let r = touch_to_confirm(&mut mallory, &pending, &mut forged);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains(HELD_ELSEWHERE), "{}", r.body);
    assert_eq!(factors_of(&api, "mallory"), vec![(pending, false)]);
    let theirs = audited(&api, "mallory", "yubikey.conflict");
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert!(
        theirs[0].1.contains("holder=ann")
            && theirs[0].1.contains("holder_origin=validation_server"),
        "{theirs:?}"
    );
    let ann = api.get("/api/v1/users/ann").json;
    assert_eq!(ann["factors"][0]["public_id"], "vvccccdhkjkb");
    assert_eq!(ann["factors"][0]["confirmed"], true);
}

fn a_squatted_public_id_is_found_released_and_then_enrolled_by_its_owner(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    let mut owner = owner_browser(&env, &server, &api);

    // Ann's key is registered nowhere yet. Mallory saw one of its OTPs and claims its public
    // id first, with a key of her own programmed with it.
    let mut real = Key::new("vvccccdhkjkb", 1);
    let mut forged = Key::new("vvccccdhkjkb", 9);
    let mut mallory = portal_user(&env, &server, "mallory");
    let squat = start_self_enrolment(&mut mallory, &forged);
    let r = touch_to_confirm(&mut mallory, &squat, &mut forged);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Record your backup codes"), "{}", r.body);

    // Ann, adding her real key, is refused and told whom to ask.
    let mut ann = portal_user(&env, &server, "ann");
    let pending = start_self_enrolment(&mut ann, &real);
    let r = touch_to_confirm(&mut ann, &pending, &mut real);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains(HELD_ELSEWHERE), "{}", r.body);
    let conflict = audited(&api, "ann", "yubikey.conflict");
    assert_eq!(conflict.len(), 1, "{conflict:?}");
    for part in [
        "public_id=vvccccdhkjkb",
        "holder=mallory",
        "holder_origin=self_enrolled",
        &format!("holder_factor={squat}"),
    ] {
        assert!(conflict[0].1.contains(part), "{part} in {conflict:?}");
    }
    let held = audited(&api, "mallory", "yubikey.conflict");
    assert!(
        held.len() == 1 && held[0].1.contains("claimed_by=ann"),
        "{held:?}"
    );

    // The administrator searches for the public id (in any case) and finds its holder.
    let found = owner.get("/admin/users?q=VVCCCCDHKJKB");
    assert_eq!(found.status, 200);
    assert!(
        found
            .body
            .contains("The YubiKey <span class=\"public-id\">vvccccdhkjkb</span>"),
        "{}",
        found.body
    );
    assert!(
        found.body.contains(
            "is registered to <a href=\"/admin/users/mallory\">mallory</a> (self-enrolled)"
        ),
        "{}",
        found.body
    );
    let table = &found.body[found.body.find("id=\"users\"").unwrap()..];
    assert!(table.contains("/admin/users/mallory"), "{table}");
    // Nobody holds another public id; a username search is unchanged.
    let none = owner.get("/admin/users?q=vvccccdhkjkd");
    assert!(!none.body.contains("id=\"key-holder\""), "{}", none.body);
    assert!(none.body.contains("No users match."), "{}", none.body);

    // Her page shows the key, that she enrolled it herself, and the Release action.
    let release = format!("/admin/users/mallory/factors/{squat}/release");
    let detail = owner.get("/admin/users/mallory");
    assert_eq!(detail.status, 200);
    for part in [
        "vvccccdhkjkb",
        "(self-enrolled)",
        &format!("action=\"{release}\""),
    ] {
        assert!(detail.body.contains(part), "{part} in {}", detail.body);
    }
    // Without the form's token nothing happens.
    let r = owner.post(&release, &[]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(factors_of(&api, "mallory"), vec![(squat.clone(), true)]);
    let r = owner.post(&release, &[("csrf", &detail.csrf())]);
    assert_eq!(
        r.location.as_deref(),
        Some("/admin/users/mallory?notice=device_removed"),
        "{}",
        r.body
    );
    assert!(factors_of(&api, "mallory").is_empty(), "the squat is gone");
    assert_signed_out(&mut mallory);
    assert_eq!(
        api.get("/api/v1/users/mallory").json["backup_codes_remaining"],
        0
    );
    // Removed as any factor an administrator removes, and the release audited besides.
    let removed = audited(&api, "mallory", "factor.removed");
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0].0, "user:root");
    assert!(
        removed[0].1.contains(&format!("factor={squat}")),
        "{removed:?}"
    );
    let released = audited(&api, "mallory", "yubikey.released");
    assert_eq!(released.len(), 1, "{released:?}");
    assert_eq!(released[0].0, "user:root");
    for part in [
        &format!("factor={squat}"),
        "public_id=vvccccdhkjkb",
        "origin=self_enrolled",
    ] {
        assert!(released[0].1.contains(part), "{part} in {released:?}");
    }
    // Releasing it again finds nothing.
    let again = owner.post(&release, &[("csrf", &detail.csrf())]);
    assert_eq!(again.status, 404);

    // Ann touches her key again: it is hers now, and logs her in.
    let r = touch_to_confirm(&mut ann, &pending, &mut real);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Record your backup codes"), "{}", r.body);
    assert_eq!(
        api.validate("ann", &real.touch()),
        json!({"ok": true, "method": "yubikey"})
    );
    assert_eq!(api.validate("ann", &forged.touch())["ok"], false);
    let found = owner.get("/admin/users?q=vvccccdhkjkb");
    assert!(
        found
            .body
            .contains("is registered to <a href=\"/admin/users/ann\">ann</a> (self-enrolled)"),
        "{}",
        found.body
    );
    assert_no_secrets(&api, &[&real, &forged], &[]);
}

fn an_import_takes_over_a_self_enrolled_public_id_only_when_told(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    activate(&api);
    for u in ["ann", "bob", "carol"] {
        assert_eq!(
            api.post("/api/v1/users", json!({"username": u})).status,
            201
        );
    }
    let mut real = Key::new("vvccccdhkjkb", 1);
    let mut forged = Key::new("vvccccdhkjkb", 9);
    let mut mallory = portal_user(&env, &server, "mallory");
    let squat = start_self_enrolment(&mut mallory, &forged);
    assert_eq!(
        touch_to_confirm(&mut mallory, &squat, &mut forged).status,
        200
    );
    let mut bobs = Key::new("vvccccdhkjkc", 2);
    let out = import(&env, &csv_row("bob", &bobs), &[]);
    assert!(out.status.success(), "{out:?}");

    // Without the flag the row is refused, naming the holder and the way out.
    let rows = csv_row("ann", &real);
    let out = import(&env, &rows, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "line 1: the YubiKey vvccccdhkjkb is already registered to mallory (self-enrolled) \
             (--release-self-enrolled takes it over)"
        ),
        "{err}"
    );
    // A dry run with it says what it would release, and changes nothing.
    let out = import(&env, &rows, &["--dry-run", "--release-self-enrolled"]);
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("line 1: would release vvccccdhkjkb from mallory (self-enrolled)")
            && said.contains("would import 1 key(s)"),
        "{said}"
    );
    assert_eq!(factors_of(&api, "mallory"), vec![(squat.clone(), true)]);

    // A key an administrator registered is never taken over, flag or not.
    let out = import(
        &env,
        &format!("{rows}{}", csv_row("carol", &bobs)),
        &["--release-self-enrolled"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "line 2: the YubiKey vvccccdhkjkc is already registered to bob (imported or added \
             by an administrator)"
        ),
        "{err}"
    );
    assert_eq!(factors_of(&api, "mallory"), vec![(squat.clone(), true)]);
    assert_eq!(api.validate("bob", &bobs.touch())["ok"], true);

    // With it, the squat is released and the key imported in one go.
    let out = import(&env, &rows, &["--release-self-enrolled"]);
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("line 1: released vvccccdhkjkb from mallory (self-enrolled)")
            && said.contains("imported 1 key(s)"),
        "{said}"
    );
    assert!(factors_of(&api, "mallory").is_empty());
    assert_eq!(
        api.get("/api/v1/users/mallory").json["backup_codes_remaining"],
        0
    );
    assert_signed_out(&mut mallory);
    let removed = audited(&api, "mallory", "factor.removed");
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0].0, "cli");
    assert!(
        removed[0].1.contains(&format!("factor={squat}")),
        "{removed:?}"
    );
    let released = audited(&api, "mallory", "yubikey.released");
    assert_eq!(released.len(), 1, "{released:?}");
    assert_eq!(released[0].0, "cli");
    for part in [
        &format!("factor={squat}"),
        "public_id=vvccccdhkjkb",
        "origin=self_enrolled",
        "released_to=ann",
        "via=import",
    ] {
        assert!(released[0].1.contains(part), "{part} in {released:?}");
    }
    assert_eq!(
        api.validate("ann", &real.touch()),
        json!({"ok": true, "method": "yubikey"})
    );
    assert_eq!(api.validate("ann", &forged.touch())["ok"], false);
    assert_no_secrets(&api, &[&real, &forged, &bobs], &[]);
}
