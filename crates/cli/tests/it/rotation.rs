//! `twofold master-key rotate [--drop-old]` while servers run: every kind of sealed value
//! (factor secrets, backup codes, secret settings, validation-server and RADIUS client keys) is
//! resealed under the new key and still works; after `--drop-old` the old key file opens
//! nothing and starts nothing; a load of validations on two nodes sees no failure; a rotation
//! killed halfway leaves every value readable and finishes when run again.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::radius::{RADIUS, add_client, latest_email_code, radclient, request};
use crate::support::{Db, Env, skip_postgres, totp, wrong_code};

/// The ids of the keys in a key file, in order (HMAC-SHA-256 of the key over the id purpose,
/// its first 8 bytes), computed apart from the product.
fn key_ids(path: &std::path::Path) -> Vec<String> {
    let script = "import hmac, hashlib, sys\n\
                  for line in open(sys.argv[1]):\n    line = line.strip()\n    \
                  if line and not line.startswith('#'):\n        \
                  print(hmac.new(bytes.fromhex(line), b'twofold/v1/key-id\\x01', \
                  hashlib.sha256).hexdigest()[:16])\n";
    let out = Command::new("python3")
        .args(["-c", script, path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The key id every stored sealed value names (bytes 1..9 of the value), one line per value.
fn sealed_ids(env: &Env) -> Vec<String> {
    let columns = [
        ("factors", "secret"),
        ("backup_codes", "sealed"),
        ("settings", "sealed"),
        ("wsapi_clients", "key"),
        ("radius_clients", "secret"),
    ];
    let out = match env.db {
        Db::Sqlite => {
            let sql = columns
                .iter()
                .map(|(t, c)| {
                    format!("SELECT lower(hex(substr({c}, 2, 8))) FROM {t} WHERE {c} IS NOT NULL")
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL ");
            let script = "import sqlite3, sys\n\
                          c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)\n\
                          for (v,) in c.execute(sys.argv[2]):\n    print(v)\n";
            let db = env.data_dir().join("twofold.db");
            Command::new("python3")
                .args(["-c", script, db.to_str().unwrap(), &sql])
                .output()
                .unwrap()
        }
        Db::Postgres => {
            let sql = columns
                .iter()
                .map(|(t, c)| {
                    format!(
                        "SELECT encode(substring({c} from 2 for 8), 'hex') FROM {t} \
                         WHERE {c} IS NOT NULL"
                    )
                })
                .collect::<Vec<_>>()
                .join(" UNION ALL ");
            Command::new("psql")
                .args([env.database_url.as_str(), "-Atq", "-c", &sql])
                .output()
                .unwrap()
        }
    };
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn copy_key(env: &Env, name: &str) -> std::path::PathBuf {
    let to = env.data_dir().join(name);
    std::fs::copy(env.data_dir().join("master.key"), &to).unwrap();
    to
}

fn every_kind_resealed_and_the_old_key_dropped(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let radius_secret = add_client(&env, "vpn", &[]);
    env.cli_ok(&["yubikey", "client", "add", "app1"]);
    let server = env.serve_with(&[RADIUS]);
    let api = server.api(&token);
    let (secret, codes) = api.enrolled_user("alice");
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.sms.twilio.auth_token": "twilio-secret"}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let old = copy_key(&env, "old.key");
    let old_id = key_ids(&old);
    assert_eq!(old_id.len(), 1);
    let kinds = sealed_ids(&env);
    assert!(kinds.len() >= 14, "{kinds:?}");
    assert!(kinds.iter().all(|k| *k == old_id[0]), "{kinds:?}");

    // Rotate while the server runs: the new key first, the old one after it.
    let out = env.cli_ok(&["master-key", "rotate"]);
    let ids = key_ids(&env.data_dir().join("master.key"));
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[1], old_id[0]);
    assert!(out.contains(&format!("New master key {}", ids[0])), "{out}");
    assert!(out.contains("Every stored secret is sealed under"), "{out}");
    assert!(out.contains("--drop-old"), "{out}");
    let kinds = sealed_ids(&env);
    assert!(kinds.iter().all(|k| *k == ids[0]), "{kinds:?}");

    // The running server reads every value: TOTP, a backup code (hashed again under the new
    // key), the RADIUS client's secret.
    assert_eq!(api.validate("alice", &totp(&secret, 1))["ok"], true);
    assert_eq!(api.validate("alice", &codes[0])["ok"], true);
    assert_eq!(api.validate("alice", &codes[0])["ok"], false);
    let at = server.radius.unwrap();
    let a = radclient(at, &radius_secret, &request("alice", &codes[1], ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Accept"), "{}", a.output);
    // A new enrolment is sealed under the new key.
    api.enrolled_user("bob");

    // --drop-old once every value is under the new key: no new key, the old one goes.
    let out = env.cli_ok(&["master-key", "rotate", "--drop-old"]);
    assert!(out.contains("no new key"), "{out}");
    assert!(
        out.contains(&format!(
            "Dropped 1 old key(s) no value uses: {}",
            old_id[0]
        )),
        "{out}"
    );
    assert_eq!(
        key_ids(&env.data_dir().join("master.key")),
        vec![ids[0].clone()]
    );
    let kinds = sealed_ids(&env);
    assert!(kinds.iter().all(|k| *k == ids[0]), "{kinds:?}");
    assert_eq!(api.validate("alice", &codes[2])["ok"], true);
    let a = radclient(at, &radius_secret, &request("alice", &codes[3], ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Accept"), "{}", a.output);
    let settings = api.get("/api/v1/settings");
    assert_eq!(settings.status, 200, "{settings:?}");
    drop(server);

    // The old key file opens nothing and starts nothing.
    let out = Command::new(env!("CARGO_BIN_EXE_twofold"))
        .args(["user", "list"])
        .env_remove("TWOFOLD_CONFIG")
        .env("TWOFOLD_DATA_DIR", env.data_dir())
        .env("TWOFOLD_DATABASE_URL", &env.database_url)
        .env("TWOFOLD_MASTER_KEY_FILE", &old)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not match this database"), "{err}");
    // The current one does, and every value opens under it alone.
    let server = env.serve_with(&[RADIUS]);
    let api = server.api(&token);
    assert_eq!(api.validate("alice", &totp(&secret, 2))["ok"], true);
    assert_eq!(api.validate("alice", &codes[4])["ok"], true);
    let a = radclient(
        server.radius.unwrap(),
        &radius_secret,
        &request("alice", &codes[5], ""),
    );
    assert_eq!(a.kind.as_deref(), Some("Access-Accept"), "{}", a.output);
    // With one key, --drop-old rotates first, then drops the key it replaced.
    let again = env.cli_ok(&["master-key", "rotate", "--drop-old"]);
    assert!(again.contains("New master key"), "{again}");
    assert!(
        again.contains(&format!("Dropped 1 old key(s) no value uses: {}", ids[0])),
        "{again}"
    );
    let last = key_ids(&env.data_dir().join("master.key"));
    assert_eq!(last.len(), 1);
    assert_ne!(last[0], ids[0]);
    assert!(sealed_ids(&env).iter().all(|k| *k == last[0]));
    assert_eq!(api.validate("alice", &codes[6])["ok"], true);
}

#[test]
fn every_kind_of_secret_is_resealed_and_the_old_key_dropped_sqlite() {
    every_kind_resealed_and_the_old_key_dropped(Db::Sqlite);
}

#[test]
fn every_kind_of_secret_is_resealed_and_the_old_key_dropped_postgres() {
    if skip_postgres() {
        return;
    }
    every_kind_resealed_and_the_old_key_dropped(Db::Postgres);
}

/// Two nodes answer validations (wrong codes, fresh right codes and backup codes) while the
/// key is rotated and the old one dropped: every answer is the right one, none fails.
#[test]
fn a_rotation_under_load_on_two_nodes_fails_no_request() {
    if skip_postgres() {
        return;
    }
    let env = Env::new(Db::Postgres);
    let token = env.token("app", "admin");
    env.cli_ok(&["settings", "set", "lockout.max_failures", "1000"]);
    let a = env.serve_with(&[("TWOFOLD_LOG", "info")]);
    let b = env.serve_with(&[("TWOFOLD_LOG", "info")]);
    let apis = [a.api(&token), b.api(&token)];
    let users: Vec<(String, String, Vec<String>)> = (0..8)
        .map(|i| {
            let name = format!("u{i}");
            let (secret, codes) = apis[0].enrolled_user(&name);
            (name, secret, codes)
        })
        .collect();
    let users = Arc::new(users);
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let answered = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (api, users, stop, failures, answered) = (
                apis[w % 2].clone(),
                users.clone(),
                stop.clone(),
                failures.clone(),
                answered.clone(),
            );
            std::thread::spawn(move || {
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let (name, secret, codes) = &users[(n + w) % users.len()];
                    // Each worker spends its own backup codes (two per user) as it goes.
                    let (code, expect) = if n % 7 == 3 && n / 7 < 2 * users.len() {
                        let i = (n / 7) / users.len() * 4 + w;
                        (codes[i].clone(), true)
                    } else {
                        (wrong_code(secret), false)
                    };
                    let r = api.post("/api/v1/validate", json!({"username": name, "code": code}));
                    answered.fetch_add(1, Ordering::Relaxed);
                    if r.status != 200 || r.json["ok"] != json!(expect) {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{name} {code} expected {expect}: {r:?}"));
                    }
                    n += 1;
                }
            })
        })
        .collect();
    while answered.load(Ordering::Relaxed) < 40 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    env.cli_ok(&["master-key", "rotate", "--batch", "3"]);
    let during = answered.load(Ordering::Relaxed);
    env.cli_ok(&["master-key", "rotate", "--drop-old", "--batch", "3"]);
    while answered.load(Ordering::Relaxed) < during + 40 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let failures = failures.lock().unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(key_ids(&env.data_dir().join("master.key")).len(), 1);
    // Both nodes took the new key file and answer right codes under it.
    for (i, (name, secret, _)) in users.iter().enumerate() {
        let api = &apis[i % 2];
        assert_eq!(api.validate(name, &totp(secret, 1))["ok"], true, "{name}");
    }
    for server in [a, b] {
        let (_, _, log) = server.terminate_with_log();
        assert!(
            log.iter()
                .any(|l| l.contains("read the master key file again")),
            "{log:#?}"
        );
    }
}

/// An email code sent just before a rotation is still taken after it, at enrolment and at
/// login: it is looked up under the key that was sealing when it was sent.
#[test]
fn an_email_code_sent_before_a_rotation_works_after_it() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.email.active": true, "methods.email.clients": true}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    api.post(
        "/api/v1/users",
        json!({"username": "nora", "email": "nora@example.com"}),
    );
    let r = api.post("/api/v1/users/nora/factors", json!({"kind": "email"}));
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let code = latest_email_code(&env);
    env.cli_ok(&["master-key", "rotate"]);
    let r = api.post(
        &format!("/api/v1/users/nora/factors/{id}/confirm"),
        json!({"code": code}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    drop(server);
    // A login code (sends are 30 s apart: a server 31 s ahead), then another rotation.
    let server = env.serve_with(&[("TWOFOLD_TEST_CLOCK_OFFSET", "31")]);
    let api = server.api(&token);
    let r = api.post("/api/v1/users/nora/challenge", json!({"kind": "email"}));
    assert_eq!(r.status, 202, "{r:?}");
    let code = latest_email_code(&env);
    env.cli_ok(&["master-key", "rotate"]);
    assert_eq!(api.validate("nora", &code)["ok"], true);
    assert_eq!(api.validate("nora", &code)["ok"], false);
}

/// `kill -9` in the middle of a rotation: every value still opens, and the next run finishes
/// the rotation (no new key) before anything else.
#[test]
fn a_rotation_killed_halfway_is_finished_by_the_next_run() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "admin");
    // 300 users with a TOTP key each, imported (the secrets are known here).
    let secrets: Vec<String> = (0..300)
        .map(|i| {
            let b = format!("{i:0>10}").into_bytes();
            twofold_otp::base32::encode(&b, false)
        })
        .collect();
    let csv: String = secrets
        .iter()
        .enumerate()
        .map(|(i, s)| format!("k{i},totp,{s},,,,\n"))
        .collect();
    let file = env.data_dir().join("keys.csv");
    std::fs::write(&file, csv).unwrap();
    env.cli_ok(&[
        "import",
        file.to_str().unwrap(),
        "--format",
        "csv",
        "--create-users",
    ]);
    let old_id = key_ids(&env.data_dir().join("master.key"));

    let mut child = Command::new(env!("CARGO_BIN_EXE_twofold"))
        .args(["master-key", "rotate", "--batch", "1"])
        .env_remove("TWOFOLD_CONFIG")
        .env("TWOFOLD_DATA_DIR", env.data_dir())
        .env("TWOFOLD_DATABASE_URL", &env.database_url)
        .env("TWOFOLD_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("the rotation ended early").unwrap();
        if line.starts_with("resealed ") {
            break;
        }
    }
    Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .unwrap();
    child.wait().unwrap();
    let ids = key_ids(&env.data_dir().join("master.key"));
    assert_eq!(ids.len(), 2);
    let kinds = sealed_ids(&env);
    let new = kinds.iter().filter(|k| **k == ids[0]).count();
    let old = kinds.iter().filter(|k| **k == old_id[0]).count();
    assert!(new > 0 && old > 0, "halfway: {new} new, {old} old");
    assert_eq!(new + old, 300);

    // Every value opens: users on both sides of the cut validate.
    let server = env.serve();
    let api = server.api(&token);
    for i in [0, 1, 150, 298, 299] {
        let r = api.validate(&format!("k{i}"), &totp(&secrets[i], 0));
        assert_eq!(r["ok"], true, "k{i}: {r}");
    }
    drop(server);

    // The next run finishes it with the same key, then --drop-old makes a clean ring.
    let out = env.cli_ok(&["master-key", "rotate"]);
    assert!(out.contains("left unfinished"), "{out}");
    assert_eq!(key_ids(&env.data_dir().join("master.key")), ids);
    let kinds = sealed_ids(&env);
    assert_eq!(kinds.len(), 300);
    assert!(kinds.iter().all(|k| *k == ids[0]));
    env.cli_ok(&["master-key", "rotate", "--drop-old"]);
    assert_eq!(key_ids(&env.data_dir().join("master.key")).len(), 1);
    let server = env.serve();
    let api = server.api(&token);
    let r = api.validate("k7", &totp(&secrets[7], 1));
    assert_eq!(r["ok"], true, "{r}");
}
