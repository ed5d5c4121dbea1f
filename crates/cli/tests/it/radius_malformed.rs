//! The RADIUS server against malformed datagrams, sent by PyPI pyrad (an independent client
//! library, in the test venv) through `radius_malformed.py`: pyrad builds a valid
//! Access-Request with a Message-Authenticator for the registered client, and the script sends
//! variants of it with one defect each — too short, a Length beyond the datagram or below 20,
//! an attribute running past the packet, attribute lengths 0 and 1, datagrams of 4 KiB and
//! more, two Message-Authenticators, an Access-Accept's Code, a wrong or missing
//! Message-Authenticator. None is answered, none changes a byte of the database, each is
//! counted in `twofold_radius_dropped_total` under its reason, and the server then accepts a
//! right code from pyrad.
//!
//! An Access-Request with User-Name or User-Password twice (RFC 2865 allows at most one of
//! each) is ambiguous: it is answered with an Access-Reject without any code being checked, so
//! neither reading of it can sign anyone in, nothing is counted against the user and its code
//! stays usable.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::on_both;
use crate::support::{Db, Env, Server, totp, wrong_code};
use crate::yubikey::venv_python;

on_both!(
    malformed_requests_are_dropped_and_the_server_keeps_serving,
    requests_with_two_user_names_or_passwords_are_rejected_unchecked,
);

/// RADIUS Codes as pyrad reports them.
const ACCESS_ACCEPT: u64 = 2;
const ACCESS_REJECT: u64 = 3;

/// Runs `radius_malformed.py COMMAND` against the server; its JSON answer.
fn pyrad(command: &str, radius: SocketAddr, secret: &str, args: &[&str]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/radius_malformed.py");
    let port = radius.port().to_string();
    let host = radius.ip().to_string();
    let out = Command::new(venv_python())
        .arg(&script)
        .args([command, &host, &port, secret])
        .args(args)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "radius_malformed.py {command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The database's bytes ([`Env::database_bytes`]) without pg_dump's `\restrict` and
/// `\unrestrict` lines, whose key is new in every dump.
fn database_bytes(env: &Env) -> Vec<u8> {
    let bytes = env.database_bytes();
    if env.db == Db::Sqlite {
        return bytes;
    }
    bytes
        .split_inclusive(|&b| b == b'\n')
        .filter(|line| !line.starts_with(b"\\restrict ") && !line.starts_with(b"\\unrestrict "))
        .flatten()
        .copied()
        .collect()
}

/// The database's bytes once nothing writes any more (SQLite's write-ahead log is copied back
/// into the file a moment after the last write).
fn settled_bytes(env: &Env) -> Vec<u8> {
    let mut last = database_bytes(env);
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(300));
        let now = database_bytes(env);
        if now == last {
            return now;
        }
        last = now;
    }
    panic!("the database kept changing");
}

/// A server with RADIUS, the client `vpn` at 127.0.0.1 and alice enrolled with TOTP.
struct Setup {
    env: Env,
    server: Server,
    radius: SocketAddr,
    admin: String,
    secret: String,
    /// A fresh right code of alice's (the enrolment used the current step's).
    code: String,
    /// A code that matches none of alice's steps near now.
    wrong: String,
}

fn setup(db: Db) -> Setup {
    let env = Env::new(db);
    let added = env.cli_ok(&["radius", "client", "add", "vpn", "--address", "127.0.0.1"]);
    let secret = added
        .trim()
        .strip_prefix("secret=")
        .unwrap_or_else(|| panic!("{added:?}"))
        .to_owned();
    let server = env.serve_with(&[("TWOFOLD_RADIUS_LISTEN", "127.0.0.1:0")]);
    let radius = server.radius.unwrap();
    let admin = env.token("admin", "admin");
    let (totp_secret, _) = server.api(&admin).enrolled_user("alice");
    Setup {
        code: totp(&totp_secret, 1),
        wrong: wrong_code(&totp_secret),
        env,
        server,
        radius,
        admin,
        secret,
    }
}

impl Setup {
    /// pyrad's good request for alice with the fresh code: accepted, and the answer passes
    /// pyrad's VerifyReply (Message-Authenticator required).
    fn accepted(&self) {
        let good = pyrad("good", self.radius, &self.secret, &["alice", &self.code]);
        assert_eq!(good["answered"], true, "{good}");
        assert_eq!(good["code"], ACCESS_ACCEPT, "{good}");
        assert_eq!(good["valid"], true, "{good}");
    }

    /// The value of `series` (`name{labels}`) in /metrics, 0 when absent.
    fn metric(&self, series: &str) -> u64 {
        let text = self.server.api(&self.admin).get("/metrics").json;
        let text = text.as_str().unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .map_or(0, |v| v.trim().parse::<f64>().unwrap() as u64)
    }

    fn alive(&mut self) {
        assert!(
            self.server.exited_within(Duration::ZERO).is_none(),
            "the server died"
        );
    }
}

fn malformed_requests_are_dropped_and_the_server_keeps_serving(db: Db) {
    let mut s = setup(db);
    // Each is built around the right code: a datagram taken for a request would sign alice in
    // (and change the database).
    let before = settled_bytes(&s.env);
    let sent = pyrad("malformed", s.radius, &s.secret, &["alice", &s.code]);
    let cases = sent["cases"].as_array().unwrap();
    let mut names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "attribute_length_0",
            "attribute_length_1",
            "attribute_overrun",
            "code_access_accept",
            "datagram_4100",
            "datagram_8192",
            "length_below_20",
            "length_beyond_datagram",
            "message_authenticator_missing",
            "message_authenticator_wrong",
            "too_short_19",
            "two_message_authenticators",
        ]
    );
    for case in cases {
        assert_eq!(case["answered"], false, "answered: {case}");
    }
    s.alive();
    assert!(
        settled_bytes(&s.env) == before,
        "the malformed datagrams changed the database"
    );

    // Still serving, and the code was not used.
    s.accepted();

    // Each drop counted under its reason; one answer in all.
    let mut expected: BTreeMap<&str, u64> = BTreeMap::new();
    for case in cases {
        *expected
            .entry(case["reason"].as_str().unwrap())
            .or_default() += 1;
    }
    assert_eq!(expected["malformed"], 9);
    for (reason, n) in &expected {
        let series = format!("twofold_radius_dropped_total{{reason=\"{reason}\"}}");
        assert_eq!(s.metric(&series), *n, "{series}");
    }
    assert_eq!(
        s.metric("twofold_radius_requests_total{answer=\"accept\"}"),
        1
    );
    assert_eq!(
        s.metric("twofold_radius_requests_total{answer=\"reject\"}"),
        0
    );
    s.alive();
}

fn requests_with_two_user_names_or_passwords_are_rejected_unchecked(db: Db) {
    let mut s = setup(db);
    let before = settled_bytes(&s.env);
    // User-Name alice then mallory with alice's right code; User-Password the right code then
    // a wrong one. Read by its first attribute either would sign alice in, by its last the
    // second would count a failure against her.
    let dup = pyrad(
        "duplicates",
        s.radius,
        &s.secret,
        &["alice", &s.code, &s.wrong],
    );
    let cases = dup["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        assert_eq!(case["answered"], true, "no answer: {case}");
        assert_eq!(case["code"], ACCESS_REJECT, "{case}");
        assert_eq!(case["valid"], true, "pyrad refused the answer: {case}");
    }
    s.alive();
    assert!(
        settled_bytes(&s.env) == before,
        "an ambiguous request changed the database (a code was checked)"
    );
    // The code is still fresh.
    s.accepted();
    assert_eq!(
        s.metric("twofold_radius_requests_total{answer=\"reject\"}"),
        2
    );
    assert_eq!(
        s.metric("twofold_radius_requests_total{answer=\"accept\"}"),
        1
    );
}
