//! Security keys and passkeys (WebAuthn) through the JSON API. A software authenticator
//! (`webauthn_authenticator.py`, written from the specification with PyPI cryptography and
//! cbor2) plays the browser and the key; PyPI webauthn (py_webauthn) checks the same options,
//! registrations and assertions as a second, independent relying party.
//!
//! Each algorithm enrols and validates; an answer works once, for its own challenge, user,
//! origin and relying party, with its user present (and verified when required) and a counter
//! that grows; a credential id belongs to one factor; malformed answers are refused without a
//! server error; failures lock; an old challenge has expired; and on two nodes an answer is
//! still taken once.

use std::process::Command;

use serde_json::{Value, json};

use crate::on_both;
use crate::support::{Api, Db, Env, Reply, Server, skip_postgres};
use crate::yubikey::venv_python;

on_both!(
    each_algorithm_enrols_and_validates,
    two_keys_on_one_user_and_one_removed,
    an_assertion_and_a_challenge_work_once,
    a_challenge_answers_only_for_its_own_user,
    a_key_answers_only_for_its_own_user,
    tampered_assertions_are_refused,
    a_parent_domain_rp_id_accepts_https_origins_under_it,
    a_counter_that_does_not_grow_is_refused_and_audited,
    user_verification_when_required,
    a_credential_id_is_registered_once,
    tampered_registrations_are_refused,
    malformed_credentials_are_422_and_not_counted,
    failures_lock_the_user,
    an_expired_challenge_is_refused,
);

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/webauthn_authenticator.py"
);

/// The software authenticator and browser, with its key files in a directory of its own.
struct Authenticator {
    dir: tempfile::TempDir,
    /// The origin of the page, as the browser reports it.
    origin: String,
}

/// One run of the authenticator script.
struct Run {
    code: i32,
    out: Value,
    err: String,
}

impl Authenticator {
    fn new(origin: &str) -> Authenticator {
        Authenticator {
            dir: tempfile::tempdir().unwrap(),
            origin: origin.to_owned(),
        }
    }

    fn run(&self, args: &[String]) -> Run {
        let out = Command::new(venv_python())
            .arg(SCRIPT)
            .args(args)
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            out: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn key_file(&self, key: &str) -> String {
        self.dir
            .path()
            .join(format!("{key}.json"))
            .display()
            .to_string()
    }

    /// `create` or `get` with the credential of key file `key`, and `extra` flags.
    fn ceremony(&self, command: &str, key: &str, options: &Value, extra: &[&str]) -> Run {
        let mut args = vec![
            command.to_owned(),
            format!("--options={options}"),
            format!("--origin={}", self.origin),
            format!("--key-file={}", self.key_file(key)),
        ];
        args.extend(extra.iter().map(|a| (*a).to_owned()));
        self.run(&args)
    }

    /// A new credential for creation options: `toJSON()` of what `create()` gave.
    fn create(&self, key: &str, options: &Value, extra: &[&str]) -> Value {
        let r = self.ceremony("create", key, options, extra);
        assert_eq!(r.code, 0, "create {extra:?}: {}", r.err);
        r.out["credential"].clone()
    }

    /// An assertion for request options: `toJSON()` of what `get()` gave.
    fn get(&self, key: &str, options: &Value, extra: &[&str]) -> Value {
        let r = self.ceremony("get", key, options, extra);
        assert_eq!(r.code, 0, "get {extra:?}: {}", r.err);
        r.out["credential"].clone()
    }

    /// The last counter the key signed.
    fn counter(&self, key: &str) -> u64 {
        let text = std::fs::read_to_string(self.key_file(key)).unwrap();
        let stored: Value = serde_json::from_str(&text).unwrap();
        stored["counter"].as_u64().unwrap()
    }

    /// py_webauthn parses the options (`creation` or `request`).
    fn check_options(&self, kind: &str, options: &Value) {
        let r = self.run(&[
            "check-options".into(),
            format!("--kind={kind}"),
            format!("--options={options}"),
        ]);
        assert_eq!(r.code, 0, "check-options {kind}: {}", r.err);
        assert_eq!(r.out["ok"], true);
    }

    /// py_webauthn verifies a registration made for `options`.
    fn py_verify_registration(&self, credential: &Value, options: &Value) -> Value {
        let r = self.run(&[
            "verify-registration".into(),
            format!("--credential={credential}"),
            format!("--challenge={}", challenge_of(options)),
            format!("--origin={}", self.origin),
            format!("--rp-id={}", options["rp"]["id"].as_str().unwrap()),
        ]);
        assert_eq!(r.code, 0, "verify-registration: {}", r.err);
        r.out
    }

    /// py_webauthn verifies an assertion made for `options` against the COSE key it took from
    /// the registration, and the counter stored so far.
    fn py_verify_assertion(
        &self,
        credential: &Value,
        options: &Value,
        public_key: &str,
        counter: u64,
    ) -> Value {
        let r = self.run(&[
            "verify-assertion".into(),
            format!("--credential={credential}"),
            format!("--challenge={}", challenge_of(options)),
            format!("--origin={}", self.origin),
            format!("--rp-id={}", options["rpId"].as_str().unwrap()),
            format!("--public-key={public_key}"),
            format!("--counter={counter}"),
        ]);
        assert_eq!(r.code, 0, "verify-assertion: {}", r.err);
        r.out
    }
}

/// A server with WebAuthn on, an admin API client and an authenticator at the server's origin.
/// (Fields drop in order: the server stops before its database goes.)
struct Rig {
    auth: Authenticator,
    api: Api,
    server: Server,
    env: Env,
    token: String,
}

impl Rig {
    /// The server stopped and started again with `serve_env`. It listens on another port: the
    /// browser follows it to its new origin.
    fn restarted(self, serve_env: &[(&str, &str)]) -> Rig {
        let Rig {
            mut auth,
            server,
            env,
            token,
            ..
        } = self;
        drop(server);
        let server = env.serve_with(serve_env);
        auth.origin = origin_of(&server);
        Rig {
            auth,
            api: server.api(&token),
            server,
            env,
            token,
        }
    }
}

fn rig(db: Db) -> Rig {
    rig_with(db, &[], &[])
}

/// A rig with `settings` set before the server starts, and `serve_env` for `twofold serve`.
fn rig_with(db: Db, settings: &[(&str, &str)], serve_env: &[(&str, &str)]) -> Rig {
    let env = Env::new(db);
    enable(&env, settings);
    let token = env.token("app", "admin");
    let server = env.serve_with(serve_env);
    let api = server.api(&token);
    let auth = Authenticator::new(&origin_of(&server));
    Rig {
        auth,
        api,
        server,
        env,
        token,
    }
}

/// Turns WebAuthn on for clients (what API-made users are), with further `settings`.
fn enable(env: &Env, settings: &[(&str, &str)]) {
    let on = [
        ("methods.webauthn.active", "true"),
        ("methods.webauthn.clients", "true"),
    ];
    for (key, value) in on.iter().chain(settings) {
        env.cli_ok(&["settings", "set", key, value]);
    }
}

/// The origin WebAuthn gives a server listening on a loopback address: localhost, its port.
fn origin_of(server: &Server) -> String {
    let port = server.base.rsplit(':').next().unwrap();
    format!("http://localhost:{port}")
}

fn challenge_of(options: &Value) -> String {
    options["challenge"].as_str().unwrap().to_owned()
}

/// `options` with `allowCredentials` naming only `credential_id`: what a client that ignores
/// the server's list could answer with.
fn allowing(options: &Value, credential_id: &str) -> Value {
    let mut o = options.clone();
    o["allowCredentials"] = json!([{"type": "public-key", "id": credential_id}]);
    o
}

fn add_user(api: &Api, username: &str) {
    let r = api.post("/api/v1/users", json!({"username": username}));
    assert_eq!(r.status, 201, "{r:?}");
}

/// Starts a `webauthn` enrolment: the pending factor's id and the creation options.
fn start(api: &Api, username: &str, label: &str) -> (String, Value) {
    let r = api.post(
        &format!("/api/v1/users/{username}/factors"),
        json!({"kind": "webauthn", "label": label}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["kind"], "webauthn");
    assert_eq!(r.json["confirmed"], false);
    (
        r.json["id"].as_str().unwrap().to_owned(),
        r.json["public_key"].clone(),
    )
}

fn confirm(api: &Api, username: &str, id: &str, credential: &Value) -> Reply {
    api.post(
        &format!("/api/v1/users/{username}/factors/{id}/confirm"),
        json!({"credential": credential}),
    )
}

/// A key registered and confirmed.
struct Enrolled {
    /// The factor's id.
    id: String,
    /// The credential id, base64url.
    credential_id: String,
    /// The creation options it answered.
    options: Value,
    /// What `create()` gave.
    credential: Value,
    /// The confirmation's answer.
    confirmed: Value,
}

/// Registers a new credential in key file `key` (with `create`'s `extra` flags) as a factor of
/// `username`.
fn enrol(rig: &Rig, username: &str, key: &str, extra: &[&str]) -> Enrolled {
    let (id, options) = start(&rig.api, username, key);
    let credential = rig.auth.create(key, &options, extra);
    let r = confirm(&rig.api, username, &id, &credential);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["confirmed"], true, "{r:?}");
    Enrolled {
        id,
        credential_id: credential["id"].as_str().unwrap().to_owned(),
        options,
        credential,
        confirmed: r.json,
    }
}

/// The request options of a security-key sign-in of `username`.
fn options(api: &Api, username: &str) -> Value {
    let r = api.post(
        &format!("/api/v1/users/{username}/challenge"),
        json!({"kind": "webauthn"}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    r.json["public_key"].clone()
}

fn validate(api: &Api, username: &str, credential: &Value) -> Reply {
    api.post(
        "/api/v1/validate",
        json!({"username": username, "method": "webauthn", "credential": credential}),
    )
}

#[track_caller]
fn accepted(api: &Api, username: &str, credential: &Value) {
    let r = validate(api, username, credential);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json, json!({"ok": true, "method": "webauthn"}));
}

#[track_caller]
fn refused(api: &Api, username: &str, credential: &Value) {
    let r = validate(api, username, credential);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json, json!({"ok": false, "reason": "invalid_code"}));
}

/// A fresh challenge answered by key file `key`, validated.
#[track_caller]
fn sign_in(rig: &Rig, username: &str, key: &str) {
    let o = options(&rig.api, username);
    let c = rig.auth.get(key, &o, &[]);
    accepted(&rig.api, username, &c);
}

fn user(api: &Api, username: &str) -> Value {
    let r = api.get(&format!("/api/v1/users/{username}"));
    assert_eq!(r.status, 200, "{r:?}");
    r.json
}

/// The factor `id` of `username`, as the API shows it.
fn factor(api: &Api, username: &str, id: &str) -> Value {
    user(api, username)["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no factor {id}"))
        .clone()
}

/// The signature counter stored for factor `id`.
fn sign_count(api: &Api, username: &str, id: &str) -> u64 {
    factor(api, username, id)["webauthn"]["sign_count"]
        .as_u64()
        .unwrap()
}

/// The details of the newest `limit` audit records of `event` about `username`, newest first.
fn audited(api: &Api, username: &str, event: &str, limit: usize) -> Vec<String> {
    let r = api.get(&format!(
        "/api/v1/audit?username={username}&event={event}&limit={limit}"
    ));
    assert_eq!(r.status, 200, "{r:?}");
    r.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect()
}

/// The reason the newest refusal of `username` was audited with.
fn last_failure(api: &Api, username: &str) -> String {
    let newest = audited(api, username, "2fa.failure", 1);
    let detail = newest.first().expect("no 2fa.failure");
    detail
        .rsplit_once("reason=")
        .unwrap_or_else(|| panic!("no reason in {detail:?}"))
        .1
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn set(api: &Api, settings: Value) {
    let r = api.patch("/api/v1/settings", settings);
    assert_eq!(r.status, 200, "{r:?}");
}

// --- the tests ----------------------------------------------------------------------------

/// Each algorithm registers and validates; py_webauthn parses both kinds of options and
/// accepts the very registration and assertion Twofold accepted; the API shows what is known of
/// the key.
fn each_algorithm_enrols_and_validates(db: Db) {
    let rig = rig(db);
    let cases = [
        ("es256", -7, &[][..], "device_bound"),
        (
            "eddsa",
            -8,
            &["--backup-eligible", "--backed-up"][..],
            "synced",
        ),
        ("rs256", -257, &[][..], "device_bound"),
    ];
    for (alg, cose, flags, sync) in cases {
        let name = format!("user-{alg}");
        add_user(&rig.api, &name);
        let (id, creation) = start(&rig.api, &name, alg);
        assert_eq!(creation["rp"]["id"], "localhost");
        assert_eq!(creation["user"]["name"], name.as_str());
        assert_eq!(creation["excludeCredentials"], json!([]));
        rig.auth.check_options("creation", &creation);

        let mut extra = vec!["--alg", alg];
        extra.extend_from_slice(flags);
        let credential = rig.auth.create(alg, &creation, &extra);
        let py = rig.auth.py_verify_registration(&credential, &creation);
        assert_eq!(py["credential_id"], credential["id"]);
        let r = confirm(&rig.api, &name, &id, &credential);
        assert_eq!(r.status, 200, "{r:?}");
        assert_eq!(r.json["confirmed"], true);
        // The first factor brings the backup codes.
        assert_eq!(
            r.json["backup_codes"].as_array().unwrap().len(),
            10,
            "{r:?}"
        );

        let shown = factor(&rig.api, &name, &id);
        assert_eq!(
            shown["webauthn"],
            json!({
                "credential_id": credential["id"],
                "aaguid": "00000000-0000-0000-0000-000000000000",
                "sync": sync,
                "algorithm": cose,
                "sign_count": 0,
            }),
            "{alg}"
        );

        let request = options(&rig.api, &name);
        assert_eq!(request["rpId"], "localhost");
        assert_eq!(
            request["allowCredentials"],
            json!([{"type": "public-key", "id": credential["id"], "transports": ["usb"]}])
        );
        assert_ne!(request["challenge"], creation["challenge"]);
        rig.auth.check_options("request", &request);
        let assertion = rig.auth.get(alg, &request, &[]);
        let public_key = py["public_key"].as_str().unwrap();
        let checked = rig
            .auth
            .py_verify_assertion(&assertion, &request, public_key, 0);
        assert_eq!(checked["sign_count"], 1);
        accepted(&rig.api, &name, &assertion);

        let shown = factor(&rig.api, &name, &id);
        assert_eq!(shown["webauthn"]["sign_count"], 1);
        assert!(shown["last_used_at"].is_i64(), "{shown}");
        assert_eq!(user(&rig.api, &name)["has_2fa"], true);
    }
}

/// Two keys on one user each answer; a removed one is refused and the other still works.
fn two_keys_on_one_user_and_one_removed(db: Db) {
    let rig = rig(db);
    add_user(&rig.api, "ann");
    let first = enrol(&rig, "ann", "first", &[]);
    let second = enrol(&rig, "ann", "second", &["--alg", "eddsa"]);
    assert!(first.confirmed["backup_codes"].is_array());
    // Only the first factor brings backup codes.
    assert!(
        second.confirmed["backup_codes"].is_null(),
        "{}",
        second.confirmed
    );
    // The second registration was told not to make another credential on the first key.
    assert_eq!(
        second.options["excludeCredentials"],
        json!([{"type": "public-key", "id": first.credential_id, "transports": ["usb"]}])
    );

    let o = options(&rig.api, "ann");
    let allowed: Vec<&Value> = o["allowCredentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["id"])
        .collect();
    assert_eq!(allowed.len(), 2);
    assert!(allowed.contains(&&json!(first.credential_id)));
    assert!(allowed.contains(&&json!(second.credential_id)));
    let c = rig.auth.get("first", &o, &[]);
    accepted(&rig.api, "ann", &c);
    sign_in(&rig, "ann", "second");
    sign_in(&rig, "ann", "second");
    assert_eq!(sign_count(&rig.api, "ann", &first.id), 1);
    assert_eq!(sign_count(&rig.api, "ann", &second.id), 2);

    let r = rig
        .api
        .delete(&format!("/api/v1/users/ann/factors/{}", first.id));
    assert_eq!(r.status, 204, "{r:?}");
    let o = options(&rig.api, "ann");
    assert_eq!(
        o["allowCredentials"],
        json!([{"type": "public-key", "id": second.credential_id, "transports": ["usb"]}])
    );
    // The removed key answers anyway (a client ignoring the list): refused.
    let c = rig
        .auth
        .get("first", &allowing(&o, &first.credential_id), &[]);
    refused(&rig.api, "ann", &c);
    assert_eq!(last_failure(&rig.api, "ann"), "unknown_credential");
    sign_in(&rig, "ann", "second");
    assert_eq!(sign_count(&rig.api, "ann", &second.id), 3);
}

/// The same assertion twice: the second is refused. Two assertions for one challenge: the
/// second is refused. Neither refusal moves the counter.
fn an_assertion_and_a_challenge_work_once(db: Db) {
    let rig = rig(db);
    add_user(&rig.api, "ben");
    let key = enrol(&rig, "ben", "key", &[]);

    let o = options(&rig.api, "ben");
    let c = rig.auth.get("key", &o, &[]);
    accepted(&rig.api, "ben", &c);
    refused(&rig.api, "ben", &c);
    assert_eq!(last_failure(&rig.api, "ben"), "unknown_challenge");
    assert_eq!(sign_count(&rig.api, "ben", &key.id), 1);

    let o = options(&rig.api, "ben");
    let one = rig.auth.get("key", &o, &[]);
    let two = rig.auth.get("key", &o, &[]);
    assert_eq!(rig.auth.counter("key"), 3);
    accepted(&rig.api, "ben", &one);
    refused(&rig.api, "ben", &two);
    assert_eq!(last_failure(&rig.api, "ben"), "unknown_challenge");
    assert_eq!(sign_count(&rig.api, "ben", &key.id), 2);
}

/// A challenge made for bob, answered by alice's key for alice, is refused, and is still bob's
/// to answer.
fn a_challenge_answers_only_for_its_own_user(db: Db) {
    let rig = rig(db);
    add_user(&rig.api, "alice");
    add_user(&rig.api, "bob");
    let alice = enrol(&rig, "alice", "alice", &[]);
    let bob = enrol(&rig, "bob", "bob", &[]);

    let for_bob = options(&rig.api, "bob");
    let c = rig
        .auth
        .get("alice", &allowing(&for_bob, &alice.credential_id), &[]);
    refused(&rig.api, "alice", &c);
    assert_eq!(last_failure(&rig.api, "alice"), "unknown_challenge");
    // Sent as bob's: the challenge is his, the key is not.
    refused(&rig.api, "bob", &c);
    assert_eq!(last_failure(&rig.api, "bob"), "unknown_credential");

    // The same with alice's own options and bob's challenge put into the client data.
    let for_bob = options(&rig.api, "bob");
    let for_alice = options(&rig.api, "alice");
    let bobs = format!("--challenge-override={}", challenge_of(&for_bob));
    let c = rig.auth.get("alice", &for_alice, &[&bobs]);
    refused(&rig.api, "alice", &c);
    assert_eq!(last_failure(&rig.api, "alice"), "unknown_challenge");
    assert_eq!(sign_count(&rig.api, "alice", &alice.id), 0);

    // Bob's challenge was not used up by alice's attempt.
    let c = rig.auth.get("bob", &for_bob, &[]);
    accepted(&rig.api, "bob", &c);
    assert_eq!(sign_count(&rig.api, "bob", &bob.id), 1);
    sign_in(&rig, "alice", "alice");
}

/// Bob's key answering alice's challenge for alice is refused, and so is an assertion under
/// alice's credential id signed by bob's key.
fn a_key_answers_only_for_its_own_user(db: Db) {
    let rig = rig(db);
    add_user(&rig.api, "alice");
    add_user(&rig.api, "bob");
    let alice = enrol(&rig, "alice", "alice", &[]);
    let bob = enrol(&rig, "bob", "bob", &[]);

    let o = options(&rig.api, "alice");
    let c = rig.auth.get("bob", &allowing(&o, &bob.credential_id), &[]);
    refused(&rig.api, "alice", &c);
    assert_eq!(last_failure(&rig.api, "alice"), "unknown_credential");

    let o = options(&rig.api, "alice");
    let bob_key = format!("--sign-with-key-file={}", rig.auth.key_file("bob"));
    let c = rig.auth.get("alice", &o, &[&bob_key]);
    refused(&rig.api, "alice", &c);
    assert_eq!(last_failure(&rig.api, "alice"), "bad_signature");

    assert_eq!(sign_count(&rig.api, "alice", &alice.id), 0);
    assert_eq!(sign_count(&rig.api, "bob", &bob.id), 0);
    sign_in(&rig, "alice", "alice");
    sign_in(&rig, "bob", "bob");
}

/// Each part of an assertion made wrong is refused for its own reason, and leaves the counter
/// where it was.
fn tampered_assertions_are_refused(db: Db) {
    let rig = rig_with(db, &[("lockout.max_failures", "100")], &[]);
    add_user(&rig.api, "cat");
    // A discoverable credential: its answers carry the user handle.
    let key = enrol(&rig, "cat", "key", &["--resident"]);
    sign_in(&rig, "cat", "key");

    let port = rig.server.base.rsplit(':').next().unwrap();
    let other_port = format!(
        "--origin-override=http://localhost:{}",
        port.parse::<u16>().unwrap() ^ 1
    );
    let random_challenge = format!("--challenge-override={}", "A".repeat(43));
    // Another user's handle (unsigned, but a relying party that knows the user checks it).
    let other = format!("--user-handle-override={}", "QkJC".repeat(10));
    let tampers: [(&[&str], &str); 11] = [
        (
            &["--origin-override=https://evil.example"],
            "origin_not_accepted",
        ),
        (&[&other_port], "origin_not_accepted"),
        (
            &["--origin-override=https://localhost"],
            "origin_not_accepted",
        ),
        (&["--rp-id-override=evil.example"], "rp_id_mismatch"),
        (&["--rp-id-override=127.0.0.1"], "rp_id_mismatch"),
        (&["--flip-signature"], "bad_signature"),
        (&["--no-up"], "user_not_present"),
        (&["--cross-origin"], "cross_origin"),
        (&["--type-override=webauthn.create"], "wrong_type"),
        (&[&random_challenge], "unknown_challenge"),
        (&[&other], "user_handle_mismatch"),
    ];
    for (flags, reason) in tampers {
        let o = options(&rig.api, "cat");
        let c = rig.auth.get("key", &o, flags);
        let r = validate(&rig.api, "cat", &c);
        assert_eq!(
            r.json,
            json!({"ok": false, "reason": "invalid_code"}),
            "{flags:?}"
        );
        assert_eq!(last_failure(&rig.api, "cat"), reason, "{flags:?}");
        assert_eq!(sign_count(&rig.api, "cat", &key.id), 1, "{flags:?}");
    }
    // The key itself still works, and its counter jumps over the refused ones.
    sign_in(&rig, "cat", "key");
    assert_eq!(
        sign_count(&rig.api, "cat", &key.id),
        2 + tampers.len() as u64
    );
    assert_eq!(user(&rig.api, "cat")["locked"], false);
}

/// With `webauthn.rp_id` a parent domain of the public host, an application's page under it
/// (over https) may run the ceremony; other origins may not.
fn a_parent_domain_rp_id_accepts_https_origins_under_it(db: Db) {
    const PUBLIC: &str = "https://login.example.test";
    let mut rig = rig_with(
        db,
        &[
            ("webauthn.rp_id", "example.test"),
            ("lockout.max_failures", "100"),
        ],
        &[("TWOFOLD_PUBLIC_URL", PUBLIC)],
    );
    rig.auth.origin = PUBLIC.to_owned();
    add_user(&rig.api, "joe");
    let key = enrol(&rig, "joe", "key", &[]);
    assert_eq!(key.options["rp"]["id"], "example.test");
    let cases = [
        ("https://app.example.test", true),
        ("https://example.test:8443", true),
        ("https://login.example.test", true),
        ("http://app.example.test", false),
        ("http://login.example.test", false),
        ("https://example.test.evil", false),
        ("https://badexample.test", false),
    ];
    let mut count = 0;
    for (origin, ok) in cases {
        let o = options(&rig.api, "joe");
        assert_eq!(o["rpId"], "example.test");
        let c = rig
            .auth
            .get("key", &o, &[&format!("--origin-override={origin}")]);
        let r = validate(&rig.api, "joe", &c);
        if ok {
            count += 1;
            assert_eq!(r.json["ok"], true, "{origin}: {r:?}");
        } else {
            assert_eq!(r.json["reason"], "invalid_code", "{origin}: {r:?}");
            assert_eq!(last_failure(&rig.api, "joe"), "origin_not_accepted");
        }
        assert_eq!(sign_count(&rig.api, "joe", &key.id), count, "{origin}");
    }
}

/// A counter lower than (or equal to) the stored one is refused and audited as a possibly
/// cloned key; the counter stays; a higher one works again.
fn a_counter_that_does_not_grow_is_refused_and_audited(db: Db) {
    let rig = rig(db);
    add_user(&rig.api, "dan");
    let key = enrol(&rig, "dan", "key", &[]);
    for _ in 0..3 {
        sign_in(&rig, "dan", "key");
    }
    assert_eq!(sign_count(&rig.api, "dan", &key.id), 3);
    assert!(audited(&rig.api, "dan", "webauthn_counter", 10).is_empty());

    let o = options(&rig.api, "dan");
    let c = rig.auth.get("key", &o, &["--counter=2"]);
    refused(&rig.api, "dan", &c);
    // Two ceremonies' answers can arrive out of order: refused and audited, but no guess was
    // made, so it is not counted as a failure.
    assert!(audited(&rig.api, "dan", "2fa.failure", 10).is_empty());
    let records = audited(&rig.api, "dan", "webauthn_counter", 10);
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(records[0].contains("counted=false"), "{records:?}");
    assert!(
        records[0].contains(&format!("factor={} stored=3 given=2", key.id)),
        "{records:?}"
    );
    assert_eq!(sign_count(&rig.api, "dan", &key.id), 3);

    let o = options(&rig.api, "dan");
    let c = rig.auth.get("key", &o, &["--counter=3"]);
    refused(&rig.api, "dan", &c);
    assert_eq!(audited(&rig.api, "dan", "webauthn_counter", 10).len(), 2);
    assert_eq!(sign_count(&rig.api, "dan", &key.id), 3);

    sign_in(&rig, "dan", "key");
    assert_eq!(sign_count(&rig.api, "dan", &key.id), 4);
}

/// With user verification `preferred` a key that did not verify its user is accepted; with
/// `required` it is refused, at registration and at sign-in, and a verifying key still works.
fn user_verification_when_required(db: Db) {
    let rig = rig(db);
    add_user(&rig.api, "eve");
    let key = enrol(&rig, "eve", "key", &["--no-uv"]);
    let o = options(&rig.api, "eve");
    assert_eq!(o["userVerification"], "preferred");
    let c = rig.auth.get("key", &o, &["--no-uv"]);
    accepted(&rig.api, "eve", &c);

    set(
        &rig.api,
        json!({"methods.webauthn.user_verification": "required"}),
    );
    let o = options(&rig.api, "eve");
    assert_eq!(o["userVerification"], "required");
    let c = rig.auth.get("key", &o, &["--no-uv"]);
    refused(&rig.api, "eve", &c);
    assert_eq!(last_failure(&rig.api, "eve"), "user_not_verified");
    assert_eq!(sign_count(&rig.api, "eve", &key.id), 1);
    sign_in(&rig, "eve", "key");

    // A registration without user verification is refused too; the factor stays pending.
    let (id, creation) = start(&rig.api, "eve", "second");
    assert_eq!(
        creation["authenticatorSelection"]["userVerification"],
        "required"
    );
    let credential = rig.auth.create("second", &creation, &["--no-uv"]);
    let r = confirm(&rig.api, "eve", &id, &credential);
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.error_code(), "invalid_credential");
    assert_eq!(factor(&rig.api, "eve", &id)["confirmed"], false);
}

/// A credential id registered to one factor cannot be registered again, for another user or
/// the same one; the refusal leaves the owner's key working and the new factor pending.
fn a_credential_id_is_registered_once(db: Db) {
    let rig = rig(db);
    add_user(&rig.api, "alice");
    add_user(&rig.api, "bob");
    let alice = enrol(&rig, "alice", "alice", &[]);
    let same_id = format!("--credential-id={}", alice.credential_id);

    let (id, creation) = start(&rig.api, "bob", "copy");
    let credential = rig.auth.create("copy-for-bob", &creation, &[&same_id]);
    assert_eq!(
        credential["id"].as_str(),
        Some(alice.credential_id.as_str())
    );
    let r = confirm(&rig.api, "bob", &id, &credential);
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.error_code(), "credential_registered");
    assert_eq!(factor(&rig.api, "bob", &id)["confirmed"], false);
    assert_eq!(user(&rig.api, "bob")["has_2fa"], false);

    let (id, creation) = start(&rig.api, "alice", "copy");
    let credential = rig.auth.create("copy-for-alice", &creation, &[&same_id]);
    let r = confirm(&rig.api, "alice", &id, &credential);
    assert_eq!(r.status, 409, "{r:?}");
    assert_eq!(r.error_code(), "credential_registered");
    assert_eq!(factor(&rig.api, "alice", &id)["confirmed"], false);

    // The options still name the original key only, and it still signs in.
    let o = options(&rig.api, "alice");
    assert_eq!(o["allowCredentials"].as_array().unwrap().len(), 1);
    let c = rig.auth.get("alice", &o, &[]);
    accepted(&rig.api, "alice", &c);
    assert_eq!(sign_count(&rig.api, "alice", &alice.id), 1);
}

/// A registration made wrong in any part is refused (422 invalid_credential) and leaves the
/// factor pending; a registration answering another factor's challenge is refused too.
fn tampered_registrations_are_refused(db: Db) {
    let rig = rig(db);
    add_user(&rig.api, "fay");
    let tampers: [(&[&str], &str); 7] = [
        (
            &["--origin-override=https://evil.example"],
            "origin_not_accepted",
        ),
        (&["--rp-id-override=evil.example"], "rp_id_mismatch"),
        (&["--cross-origin"], "cross_origin"),
        (&["--no-up"], "user_not_present"),
        (&["--type-override=webauthn.get"], "wrong_type"),
        (&["--backed-up"], "malformed"),
        (
            &["--challenge-override=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
            "unknown_challenge",
        ),
    ];
    for (i, (flags, reason)) in tampers.into_iter().enumerate() {
        let (id, creation) = start(&rig.api, "fay", &format!("bad {i}"));
        let credential = rig.auth.create(&format!("bad{i}"), &creation, flags);
        let r = confirm(&rig.api, "fay", &id, &credential);
        assert_eq!(r.status, 422, "{flags:?}: {r:?}");
        assert_eq!(r.error_code(), "invalid_credential", "{flags:?}");
        let detail = &audited(&rig.api, "fay", "2fa.failure", 1)[0];
        assert!(
            detail.ends_with(&format!("kind=webauthn reason={reason}")),
            "{flags:?}: {detail}"
        );
        assert_eq!(factor(&rig.api, "fay", &id)["confirmed"], false);
    }

    // Two pending factors: the answer to one's challenge does not confirm the other.
    let (first, creation) = start(&rig.api, "fay", "first");
    let (second, _) = start(&rig.api, "fay", "second");
    let credential = rig.auth.create("good", &creation, &[]);
    let r = confirm(&rig.api, "fay", &second, &credential);
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.error_code(), "invalid_credential");
    // The challenge was used up by that attempt: the right factor needs a new ceremony.
    let r = confirm(&rig.api, "fay", &first, &credential);
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(user(&rig.api, "fay")["has_2fa"], false);

    // A registration replayed after it was accepted is refused.
    let key = enrol(&rig, "fay", "key", &[]);
    let r = confirm(&rig.api, "fay", &key.id, &key.credential);
    assert_eq!(r.status, 409, "{r:?}");
}

/// Bodies that are not a credential are 422 (never a 500), for confirm and validate alike, and
/// a malformed validation is not counted towards a lockout; hostile CBOR in the attestation is
/// refused like any wrong answer.
fn malformed_credentials_are_422_and_not_counted(db: Db) {
    let rig = rig_with(db, &[("lockout.max_failures", "2")], &[]);
    add_user(&rig.api, "gus");
    let key = enrol(&rig, "gus", "key", &[]);
    let o = options(&rig.api, "gus");
    let good = rig.auth.get("key", &o, &[]);

    let b64 = |bytes: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    let with_response = |field: &str, value: Value| {
        let mut c = good.clone();
        c["response"][field] = value;
        c
    };
    let malformed = [
        json!("a string"),
        json!([1, 2, 3]),
        json!({}),
        json!({"id": good["id"], "rawId": good["id"], "type": "public-key"}),
        {
            let mut c = good.clone();
            c["type"] = json!("password");
            c
        },
        {
            let mut c = good.clone();
            c["rawId"] = json!("AAAA");
            c
        },
        {
            let mut c = good.clone();
            c["id"] = json!("not base64url!");
            c
        },
        with_response("clientDataJSON", json!("%%%")),
        with_response("clientDataJSON", json!(b64(b"{not json"))),
        with_response("clientDataJSON", json!(b64(b"[]"))),
        with_response("clientDataJSON", json!(b64(br#"{"type":"webauthn.get"}"#))),
        with_response("signature", json!(12)),
        with_response("userHandle", json!("")),
        json!({"id": "A".repeat(70_000), "rawId": "A", "type": "public-key", "response": {}}),
    ];
    for body in &malformed {
        let r = validate(&rig.api, "gus", body);
        assert_eq!(r.status, 422, "{body}: {r:?}");
        assert_eq!(r.error_code(), "malformed_credential", "{body}");
    }
    // Not a JSON body at all: the API's answer to any unreadable body.
    let r = rig.api.raw(
        "POST",
        "/api/v1/validate",
        Some("application/json"),
        Some(br#"{"username": "gus", "method": "webauthn", "credential": {"#.to_vec()),
    );
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(r.error_code(), "bad_request");
    // Nothing was counted: the genuine answer (its challenge untouched) still works.
    assert_eq!(user(&rig.api, "gus")["locked"], false);
    accepted(&rig.api, "gus", &good);

    // Authenticator data that is not authenticator data: read, refused, counted once.
    let o = options(&rig.api, "gus");
    let c = rig.auth.get("key", &o, &[]);
    let mut bad = c.clone();
    bad["response"]["authenticatorData"] = json!(b64(&[0xff; 7]));
    refused(&rig.api, "gus", &bad);
    assert_eq!(last_failure(&rig.api, "gus"), "malformed");
    assert_eq!(sign_count(&rig.api, "gus", &key.id), 1);
    assert_eq!(rig.api.post_empty("/api/v1/users/gus/unlock").status, 204);

    // The same shapes at confirmation.
    let (id, _) = start(&rig.api, "gus", "second");
    for body in &malformed[..5] {
        let r = confirm(&rig.api, "gus", &id, body);
        assert_eq!(r.status, 422, "{body}: {r:?}");
        assert_eq!(r.error_code(), "malformed_credential", "{body}");
    }
    // Attestation objects that are not CBOR, or hostile CBOR: each refused after its
    // challenge was taken, so each needs a ceremony of its own.
    // Deep nesting, within the size bound (base64url of it stays under 64 KiB).
    let mut deep = vec![0x81u8; 40_000];
    deep.push(0x00);
    let hostile: [Vec<u8>; 8] = [
        vec![],
        b"not cbor".to_vec(),
        vec![0xa3, 0x63, b'f', b'm', b't'],
        // A byte string that claims 2^64-1 bytes.
        vec![0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        // A map that claims 2^32-1 entries.
        vec![0xba, 0xff, 0xff, 0xff, 0xff],
        deep,
        // Indefinite-length items, a tag, a float.
        vec![0xbf, 0x5f, 0x41, 0x00, 0xff, 0xff],
        vec![0xc6, 0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0],
    ];
    for (i, cbor) in hostile.iter().enumerate() {
        let (id, creation) = start(&rig.api, "gus", &format!("cbor {i}"));
        let mut c = rig.auth.create(&format!("cbor{i}"), &creation, &[]);
        c["response"]["attestationObject"] = json!(b64(cbor));
        let r = confirm(&rig.api, "gus", &id, &c);
        assert_eq!(r.status, 422, "{i}: {r:?}");
        assert_eq!(r.error_code(), "invalid_credential", "{i}");
        assert_eq!(factor(&rig.api, "gus", &id)["confirmed"], false);
    }
    // The server is still there, and the key still works.
    sign_in(&rig, "gus", "key");
}

/// Enough wrong answers lock the user; then a right answer is `locked` and changes nothing;
/// after an unlock it works.
fn failures_lock_the_user(db: Db) {
    let rig = rig_with(db, &[("lockout.max_failures", "3")], &[]);
    add_user(&rig.api, "hal");
    let key = enrol(&rig, "hal", "key", &[]);
    for _ in 0..3 {
        let o = options(&rig.api, "hal");
        let c = rig.auth.get("key", &o, &["--flip-signature"]);
        refused(&rig.api, "hal", &c);
    }
    assert_eq!(user(&rig.api, "hal")["locked"], true);
    let o = options(&rig.api, "hal");
    let c = rig.auth.get("key", &o, &[]);
    let r = validate(&rig.api, "hal", &c);
    assert_eq!(r.json, json!({"ok": false, "reason": "locked"}));
    assert_eq!(sign_count(&rig.api, "hal", &key.id), 0);

    assert_eq!(rig.api.post_empty("/api/v1/users/hal/unlock").status, 204);
    sign_in(&rig, "hal", "key");
    assert_eq!(user(&rig.api, "hal")["locked"], false);
}

/// A challenge is good for five minutes: answered four minutes later it works, a little over
/// five minutes later it is refused (the server restarted with its clock moved on).
fn an_expired_challenge_is_refused(db: Db) {
    let rig = rig(db);
    add_user(&rig.api, "ida");
    let key = enrol(&rig, "ida", "key", &[]);
    let first = options(&rig.api, "ida");
    let second = options(&rig.api, "ida");
    assert_eq!(first["timeout"], 300_000);

    let rig = rig.restarted(&[("TWOFOLD_TEST_CLOCK_OFFSET", "240")]);
    let c = rig.auth.get("key", &first, &[]);
    accepted(&rig.api, "ida", &c);

    let rig = rig.restarted(&[("TWOFOLD_TEST_CLOCK_OFFSET", "301")]);
    let c = rig.auth.get("key", &second, &[]);
    refused(&rig.api, "ida", &c);
    assert_eq!(last_failure(&rig.api, "ida"), "unknown_challenge");
    assert_eq!(sign_count(&rig.api, "ida", &key.id), 1);
    // A challenge made on the moved clock works.
    sign_in(&rig, "ida", "key");
}

/// Two nodes on one PostgreSQL database behind one public URL: a ceremony begun on one node is
/// finished on the other; an answer taken by one is refused by the other; of many answers to
/// one challenge sent to both at once, one wins.
#[test]
fn two_nodes_take_an_answer_once() {
    if skip_postgres() {
        return;
    }
    const PUBLIC: &str = "https://login.example.test";
    let env = Env::new(Db::Postgres);
    // The losers of the race below fail: no lockout may stop the winner.
    enable(&env, &[("lockout.max_failures", "100")]);
    let token = env.token("app", "admin");
    let a = env.serve_with(&[("TWOFOLD_PUBLIC_URL", PUBLIC)]);
    let b = env.serve_with(&[("TWOFOLD_PUBLIC_URL", PUBLIC)]);
    let (api_a, api_b) = (a.api(&token), b.api(&token));
    let auth = Authenticator::new(PUBLIC);
    add_user(&api_a, "olga");

    let (id, creation) = start(&api_a, "olga", "key");
    assert_eq!(creation["rp"]["id"], "login.example.test");
    let credential = auth.create("key", &creation, &[]);
    let r = confirm(&api_b, "olga", &id, &credential);
    assert_eq!(r.status, 200, "{r:?}");

    let o = options(&api_a, "olga");
    let c = auth.get("key", &o, &[]);
    accepted(&api_b, "olga", &c);
    refused(&api_a, "olga", &c);
    assert_eq!(last_failure(&api_a, "olga"), "unknown_challenge");
    assert_eq!(sign_count(&api_a, "olga", &id), 1);

    let o = options(&api_b, "olga");
    let answers: Vec<Value> = (0..10).map(|_| auth.get("key", &o, &[])).collect();
    let handles: Vec<_> = answers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let api = if i % 2 == 0 {
                api_a.clone()
            } else {
                api_b.clone()
            };
            let c = c.clone();
            std::thread::spawn(move || validate(&api, "olga", &c).json)
        })
        .collect();
    let replies: Vec<Value> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wins = replies.iter().filter(|r| r["ok"] == true).count();
    assert_eq!(wins, 1, "{replies:?}");
    let count = sign_count(&api_b, "olga", &id);
    assert!((2..=11).contains(&count), "{count}");
}
