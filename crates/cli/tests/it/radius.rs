//! The RADIUS server with real clients: FreeRADIUS's `radclient` (which checks every answer's
//! Response Authenticator and Message-Authenticator itself), Linux-PAM's `pam_radius_auth`
//! through `pamtester` (the path of sshd and sudo), and raw datagrams built by the test for
//! retransmissions.

use std::net::{SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use twofold_otp::radius::{Code, Packet, attr, encode_request};

use crate::on_both;
use crate::support::{Db, Env, Server, skip_postgres, totp, wrong_code};

on_both!(
    duo_pushes_and_passcodes_over_radius,
    radclient_gets_answers_for_codes_replays_and_lockout,
    password_and_code_in_one_field,
    challenge_sends_the_email_code_and_takes_the_answer_once,
);

pub(crate) const RADIUS: (&str, &str) = ("TWOFOLD_RADIUS_LISTEN", "127.0.0.1:0");

/// What radclient received: the answer's name (`Access-Accept`, …) and its attributes, or
/// `None` when no answer came (radclient drops answers whose authenticators are wrong, too).
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) kind: Option<String>,
    attributes: Vec<(String, String)>,
    pub(crate) output: String,
}

impl Answer {
    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one Access-Request with radclient (one try, one second to answer).
pub(crate) fn radclient(at: SocketAddr, secret: &str, attributes: &str) -> Answer {
    let mut child = Command::new("radclient")
        .args(["-D", "/usr/share/freeradius", "-x", "-r", "1", "-t", "1"])
        .arg(at.to_string())
        .args(["auth", secret])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("radclient (./scripts/test installs freeradius-utils)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(attributes.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut kind = None;
    let mut attributes = Vec::new();
    let mut received = false;
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("Received ") {
            kind = rest.split_whitespace().next().map(str::to_owned);
            received = true;
        } else if received && line.starts_with('\t') {
            if let Some((n, v)) = line.trim().split_once(" = ") {
                attributes.push((n.to_owned(), v.trim_matches('"').to_owned()));
            }
        } else if !line.starts_with('\t') {
            received = false;
        }
    }
    Answer {
        kind,
        attributes,
        output,
    }
}

/// A request with a Message-Authenticator (radclient fills it in).
pub(crate) fn request(user: &str, password: &str, extra: &str) -> String {
    format!(
        "User-Name = \"{user}\", User-Password = \"{password}\", Message-Authenticator = 0x00{extra}"
    )
}

/// Registers a RADIUS client for 127.0.0.1; returns its secret.
pub(crate) fn add_client(env: &Env, name: &str, extra: &[&str]) -> String {
    let mut args = vec!["radius", "client", "add", name, "--address", "127.0.0.1"];
    args.extend_from_slice(extra);
    let out = env.cli_ok(&args);
    out.trim()
        .strip_prefix("secret=")
        .unwrap_or_else(|| panic!("no secret in {out:?}"))
        .to_owned()
}

fn audit_of(server: &Server, token: &str, user: &str) -> Vec<serde_json::Value> {
    let r = server
        .api(token)
        .get(&format!("/api/v1/audit?username={user}&limit=100"));
    assert_eq!(r.status, 200, "{r:?}");
    r.json["events"].as_array().unwrap().clone()
}

fn radclient_gets_answers_for_codes_replays_and_lockout(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let secret = add_client(&env, "vpn", &[]);
    let listed = env.cli_ok(&["radius", "client", "list"]);
    assert!(
        listed.contains("vpn\t127.0.0.1/32\tmessage-authenticator required"),
        "{listed}"
    );
    assert!(!listed.contains(&secret), "a secret is shown once only");
    // One client per address; no client for every address; a client that may omit the
    // Message-Authenticator is one address, not a network.
    for (args, says) in [
        (
            vec!["other", "--address", "127.0.0.1/32"],
            "has the address",
        ),
        (vec!["all", "--address", "0.0.0.0/0"], "not every address"),
        (
            vec![
                "old",
                "--address",
                "10.1.0.0/16",
                "--allow-missing-message-authenticator",
            ],
            "must be one address",
        ),
        (
            vec!["bad", "--address", "gateway.example"],
            "not an IP address",
        ),
    ] {
        let mut all = vec!["radius", "client", "add"];
        all.extend(args);
        let out = env.cli(&all);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
    env.cli_ok(&["settings", "set", "lockout.max_failures", "3"]);
    let server = env.serve_with(&[RADIUS]);
    let at = server.radius.unwrap();
    let api = server.api(&token);
    let (totp_secret, backup_codes) = api.enrolled_user("alice");

    // A right code (the next step's: the enrolment used this one): Access-Accept (radclient
    // verified its authenticators), audited with the client and the NAS fields.
    let code = totp(&totp_secret, 1);
    let extra = ", NAS-Identifier = \"gw-1\", NAS-IP-Address = 192.0.2.7, Calling-Station-Id = \"203.0.113.9\"";
    let a = radclient(at, &secret, &request("alice", &code, extra));
    assert_eq!(a.kind.as_deref(), Some("Access-Accept"), "{}", a.output);
    assert!(
        a.attribute("Message-Authenticator").is_some(),
        "{}",
        a.output
    );
    let events = audit_of(&server, &token, "alice");
    let success = events
        .iter()
        .find(|e| e["event"] == "2fa.success")
        .expect("a success");
    assert_eq!(success["actor"], "radius:vpn");
    let detail = success["detail"].as_str().unwrap();
    for part in [
        "nas_identifier=gw-1",
        "nas_ip=192.0.2.7",
        "calling_station=203.0.113.9",
    ] {
        assert!(detail.contains(part), "{detail}");
    }

    // The same code again, in a new request: a replay, refused in words.
    let a = radclient(at, &secret, &request("alice", &code, ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    assert!(
        a.attribute("Reply-Message")
            .unwrap()
            .contains("did not match"),
        "{}",
        a.output
    );

    // A wrong shared secret, or no Message-Authenticator: no answer at all.
    let fresh = backup_codes[0].clone();
    let a = radclient(at, "not-the-secret", &request("alice", &fresh, ""));
    assert_eq!(a.kind, None, "{}", a.output);
    let a = radclient(
        at,
        &secret,
        &format!("User-Name = \"alice\", User-Password = \"{fresh}\""),
    );
    assert_eq!(a.kind, None, "{}", a.output);
    // An unknown user is a wrong code, and so is a user without a second factor: without a
    // password checked, the answer tells nothing about the account.
    let r = api.post("/api/v1/users", json!({"username": "bare"}));
    assert_eq!(r.status, 201, "{r:?}");
    for user in ["nobody", "bare"] {
        let a = radclient(at, &secret, &request(user, &fresh, ""));
        assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
        assert!(
            a.attribute("Reply-Message")
                .unwrap()
                .contains("did not match"),
            "{user}: {}",
            a.output
        );
    }

    // A retransmission (same Identifier and Request Authenticator) gets the very same answer,
    // and the code is checked once: one success in the audit log, and then it is used.
    let before = count(&audit_of(&server, &token, "alice"), "2fa.success");
    let datagram = encode_request(
        7,
        &[9; 16],
        &[
            (attr::USER_NAME, b"alice"),
            (attr::USER_PASSWORD, fresh.as_bytes()),
        ],
        secret.as_bytes(),
        true,
    )
    .unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut answers = Vec::new();
    for _ in 0..3 {
        socket.send_to(&datagram, at).unwrap();
        let mut buf = [0u8; 4096];
        let n = socket.recv(&mut buf).expect("an answer");
        answers.push(buf[..n].to_vec());
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "identical answers"
    );
    // A copy from another port (a replay by someone who saw it) is the same request.
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    other
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    other.send_to(&datagram, at).unwrap();
    let mut buf = [0u8; 4096];
    let n = other.recv(&mut buf).expect("an answer");
    assert_eq!(buf[..n], answers[0][..], "the same answer");
    let answer = Packet::parse(&answers[0]).unwrap();
    assert_eq!(answer.code, Code::AccessAccept);
    assert!(answer.response_valid(&[9; 16], secret.as_bytes()));
    assert_eq!(
        count(&audit_of(&server, &token, "alice"), "2fa.success"),
        before + 1,
        "checked once"
    );

    // Lockout after lockout.max_failures (3) wrong codes: then even a right one is refused.
    let bad = wrong_code(&totp_secret);
    for _ in 0..3 {
        let a = radclient(at, &secret, &request("alice", &bad, ""));
        assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    }
    let a = radclient(at, &secret, &request("alice", &backup_codes[1], ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    assert!(
        a.attribute("Reply-Message").unwrap().contains("locked"),
        "{}",
        a.output
    );
    assert!(count(&audit_of(&server, &token, "alice"), "2fa.lockout") >= 1);

    // The drops were counted.
    let metrics = api.get("/metrics").json.as_str().unwrap().to_owned();
    for reason in ["bad_message_authenticator", "missing_message_authenticator"] {
        assert!(
            metrics.contains(&format!(
                "twofold_radius_dropped_total{{reason=\"{reason}\"}}"
            )),
            "{reason}: {metrics}"
        );
    }

    // A revoked client is answered no more (the server reads the list again within 10 s; a
    // new server at once).
    env.cli_ok(&["radius", "client", "revoke", "vpn"]);
    drop(server);
    let server = env.serve_with(&[RADIUS]);
    let a = radclient(
        server.radius.unwrap(),
        &secret,
        &request("alice", &backup_codes[2], ""),
    );
    assert_eq!(a.kind, None, "{}", a.output);
}

fn count(events: &[serde_json::Value], name: &str) -> usize {
    events.iter().filter(|e| e["event"] == name).count()
}

/// Creates `user` with a password (CLI) and a TOTP factor (API), confirmed with the code of the
/// step before this one (so this step's code is still free); the TOTP secret.
fn user_with_password(env: &Env, server: &Server, token: &str, user: &str, pw: &str) -> String {
    user_with_password_at(env, server, token, user, pw, -1)
}

/// [`user_with_password`], confirmed with the code `step` steps from now.
fn user_with_password_at(
    env: &Env,
    server: &Server,
    token: &str,
    user: &str,
    pw: &str,
    step: i64,
) -> String {
    let out = env.cli_stdin(
        &["user", "add", user, "--password-stdin"],
        &format!("{pw}\n"),
    );
    assert!(out.status.success(), "{out:?}");
    let api = server.api(token);
    let (id, secret) = api.start_totp(user, None);
    let r = api.post(
        &format!("/api/v1/users/{user}/factors/{id}/confirm"),
        json!({"code": totp(&secret, step)}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    secret
}

fn password_and_code_in_one_field(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let secret = add_client(&env, "vpn", &[]);
    env.cli_ok(&["settings", "set", "radius.mode", "password+otp"]);
    let server = env.serve_with(&[RADIUS]);
    let at = server.radius.unwrap();
    // A password that ends in digits, as many do.
    let totp_secret = user_with_password(&env, &server, &token, "bob", "hunter2024");
    let code = totp(&totp_secret, 0);

    let a = radclient(
        at,
        &secret,
        &request("bob", &format!("hunter2023{code}"), ""),
    );
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    assert!(a.attribute("Reply-Message").unwrap().contains("password"));
    let a = radclient(
        at,
        &secret,
        &request(
            "bob",
            &format!("hunter2024{}", wrong_code(&totp_secret)),
            "",
        ),
    );
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    assert!(
        a.attribute("Reply-Message")
            .unwrap()
            .contains("did not match")
    );
    // The code alone is not enough in this mode.
    let a = radclient(at, &secret, &request("bob", &code, ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    let a = radclient(
        at,
        &secret,
        &request("bob", &format!("hunter2024{code}"), ""),
    );
    assert_eq!(a.kind.as_deref(), Some("Access-Accept"), "{}", a.output);

    // Guessing: every split of the field tried is an attempt under the password throttle
    // (RADIUS's own, apart from the portal's), so the delays come after a few requests.
    let mut throttled = false;
    for _ in 0..4 {
        let a = radclient(
            at,
            &secret,
            &request("bob", &format!("guess1234{code}"), ""),
        );
        assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
        throttled |= a
            .attribute("Reply-Message")
            .unwrap()
            .contains("Too many failed attempts");
    }
    assert!(
        throttled,
        "four guesses with two splits each were not throttled"
    );
}

/// The newest email in the outbox and the 6-digit code in it.
pub(crate) fn latest_email_code(env: &Env) -> String {
    let outbox = env.data_dir().join("outbox");
    let mut files: Vec<_> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
    let text = std::fs::read_to_string(files.last().expect("an email")).unwrap();
    let at = text.find("code is").expect("a code");
    text[at..]
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect()
}

/// A user with a password and a confirmed email factor (codes go to the outbox).
fn email_user(env: &Env, server: &Server, token: &str, user: &str, pw: &str) {
    let api = server.api(token);
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.email.active": true, "methods.email.clients": true}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let out = env.cli_stdin(
        &[
            "user",
            "add",
            user,
            "--password-stdin",
            "--email",
            &format!("{user}@example.com"),
        ],
        &format!("{pw}\n"),
    );
    assert!(out.status.success(), "{out:?}");
    let r = api.post(
        &format!("/api/v1/users/{user}/factors"),
        json!({"kind": "email"}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = api.post(
        &format!("/api/v1/users/{user}/factors/{id}/confirm"),
        json!({"code": latest_email_code(env)}),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

fn challenge_sends_the_email_code_and_takes_the_answer_once(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let secret = add_client(&env, "vpn", &[]);
    env.cli_ok(&["settings", "set", "radius.mode", "challenge"]);
    let server = env.serve_with(&[RADIUS]);
    email_user(&env, &server, &token, "cara", "correct horse");
    // The enrolment sent a code just now; sends are one per 30 s: go on with a server whose
    // clock is 31 s ahead (on the same database).
    drop(server);
    let server = env.serve_with(&[RADIUS, ("TWOFOLD_TEST_CLOCK_OFFSET", "31")]);
    let at = server.radius.unwrap();

    // A wrong password: refused, no challenge, nothing sent.
    let a = radclient(at, &secret, &request("cara", "wrong horse", ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    assert_eq!(a.attribute("State"), None);

    let a = radclient(at, &secret, &request("cara", "correct horse", ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Challenge"), "{}", a.output);
    let message = a.attribute("Reply-Message").unwrap();
    assert!(
        message.starts_with("Enter the code we sent to c"),
        "{message}"
    );
    assert!(!message.contains("cara@example.com"), "masked: {message}");
    let state = a.attribute("State").unwrap().to_owned();
    assert!(state.starts_with("0x") && state.len() == 34, "{state}");
    let code = latest_email_code(&env);

    // The State of another challenge, or none, does not finish this one.
    let forged = format!(", State = 0x{}", "00".repeat(16));
    let a = radclient(at, &secret, &request("cara", &code, &forged));
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    let answer = format!(", State = {state}");
    let a = radclient(at, &secret, &request("cara", &code, &answer));
    assert_eq!(a.kind.as_deref(), Some("Access-Accept"), "{}", a.output);
    // Answered once: the same State again is refused.
    let a = radclient(at, &secret, &request("cara", &code, &answer));
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    assert!(
        a.attribute("Reply-Message")
            .unwrap()
            .contains("start again")
    );

    // A TOTP user is asked for the app's code; a wrong one is refused. (This server's clock
    // runs a step ahead.)
    let totp_secret = user_with_password_at(&env, &server, &token, "dan", "battery staple", 1);
    let a = radclient(at, &secret, &request("dan", "battery staple", ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Challenge"), "{}", a.output);
    assert!(
        a.attribute("Reply-Message")
            .unwrap()
            .contains("authenticator app")
    );
    let answer = format!(", State = {}", a.attribute("State").unwrap());
    let a = radclient(
        at,
        &secret,
        &request("dan", &wrong_code(&totp_secret), &answer),
    );
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
}

/// Two nodes on one PostgreSQL database: a challenge begun on one is finished on the other.
#[test]
fn postgres_a_challenge_from_one_node_is_answered_on_another() {
    if skip_postgres() {
        return;
    }
    let env = Env::new(Db::Postgres);
    let token = env.token("app", "admin");
    let secret = add_client(&env, "vpn", &[]);
    env.cli_ok(&["settings", "set", "radius.mode", "challenge"]);
    let a_node = env.serve_with(&[RADIUS]);
    let b_node = env.serve_with(&[RADIUS]);
    let totp_secret = user_with_password(&env, &a_node, &token, "erin", "pass phrase");
    let a = radclient(
        a_node.radius.unwrap(),
        &secret,
        &request("erin", "pass phrase", ""),
    );
    assert_eq!(a.kind.as_deref(), Some("Access-Challenge"), "{}", a.output);
    let answer = format!(", State = {}", a.attribute("State").unwrap());
    let a = radclient(
        b_node.radius.unwrap(),
        &secret,
        &request("erin", &totp(&totp_secret, 0), &answer),
    );
    assert_eq!(a.kind.as_deref(), Some("Access-Accept"), "{}", a.output);
}

/// sshd's and sudo's path: Linux-PAM with Debian's pam_radius_auth, driven by pamtester, with a
/// PAM service file the test writes and mounts over /etc/pam.d in a private mount namespace
/// (the machine's own PAM configuration is never touched).
#[test]
fn pam_radius_auth_signs_in_with_a_code_and_answers_a_challenge() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "admin");
    // pam_radius_auth 2.0 sends no Message-Authenticator.
    let secret = add_client(&env, "pam-host", &["--allow-missing-message-authenticator"]);
    let server = env.serve_with(&[RADIUS]);
    let at = server.radius.unwrap();
    let totp_secret = user_with_password(&env, &server, &token, "fay", "open sesame");

    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("pam_radius_auth.conf");
    std::fs::write(&conf, format!("{at} {secret} 3\n")).unwrap();
    let pam_d = dir.path().join("pam.d");
    std::fs::create_dir(&pam_d).unwrap();
    std::fs::write(
        pam_d.join("twofold-test"),
        format!(
            "auth required pam_radius_auth.so conf={}\naccount required pam_permit.so\n",
            conf.display()
        ),
    )
    .unwrap();
    let pamtester = |input: &str| -> (bool, String) {
        let script = format!(
            "mount --bind {} /etc/pam.d && exec pamtester -v twofold-test fay authenticate",
            pam_d.display()
        );
        let mut child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("unshare and pamtester (./scripts/test installs pamtester)");
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (
            out.status.success() && text.contains("successfully authenticated"),
            text,
        )
    };

    // Mode otp: the password prompt takes the code.
    let (ok, text) = pamtester(&format!("{}\n", wrong_code(&totp_secret)));
    assert!(!ok, "{text}");
    let (ok, text) = pamtester(&format!("{}\n", totp(&totp_secret, 0)));
    assert!(ok, "{text}");

    // Mode challenge: the password, then the code at the prompt the challenge's message gives.
    env.cli_ok(&["settings", "set", "radius.mode", "challenge"]);
    drop(server);
    let server = env.serve_with(&[("TWOFOLD_RADIUS_LISTEN", &at.to_string())]);
    assert_eq!(server.radius, Some(at));
    let (ok, text) = pamtester(&format!("open sesame\n{}\n", totp(&totp_secret, 1)));
    assert!(ok, "{text}");
    assert!(text.contains("authenticator app"), "the prompt: {text}");
}

/// Duo over RADIUS, against the stand-in Duo: `push` as the code asks for a push (approved:
/// Accept; denied: Reject), a Duo passcode is checked by Duo, and in challenge mode an empty
/// answer sends the push.
fn duo_pushes_and_passcodes_over_radius(db: Db) {
    use crate::duo::{StandIn, configure, confirm, start_duo};
    let env = Env::new(db);
    let duo = StandIn::start(
        env.data_dir(),
        &["alice=approve", "bob=deny"],
        &["alice=123456", "bob=111111"],
    );
    configure(&env, &duo);
    let token = env.token("app", "admin");
    let secret = add_client(&env, "vpn", &[]);
    let ca = duo.cert.to_str().unwrap().to_owned();
    let server = env.serve_with(&[RADIUS, ("TWOFOLD_EXTRA_CA_FILE", &ca)]);
    let api = server.api(&token);
    // Alice confirms by push (she approves), Bob by his passcode (he denies pushes).
    for (name, body) in [("alice", json!({})), ("bob", json!({"code": "111111"}))] {
        let id = start_duo(&api, name)["id"].as_str().unwrap().to_owned();
        let r = confirm(&api, name, &id, body);
        assert_eq!(r.status, 200, "{r:?}");
    }
    let at = server.radius.unwrap();
    let a = radclient(at, &secret, &request("alice", "push", ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Accept"), "{}", a.output);
    let a = radclient(at, &secret, &request("bob", "push", ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    let a = radclient(at, &secret, &request("alice", "123456", ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Accept"), "{}", a.output);

    // Challenge mode: the password, then an empty answer for the push.
    env.cli_stdin(
        &["user", "set-password", "alice", "--password-stdin"],
        "duo pass\n",
    );
    env.cli_ok(&["settings", "set", "radius.mode", "challenge"]);
    drop(server);
    let server = env.serve_with(&[RADIUS, ("TWOFOLD_EXTRA_CA_FILE", &ca)]);
    let at = server.radius.unwrap();
    let a = radclient(at, &secret, &request("alice", "duo pass", ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Challenge"), "{}", a.output);
    assert!(
        a.attribute("Reply-Message").unwrap().contains("Duo push"),
        "{}",
        a.output
    );
    let answer = format!(", State = {}", a.attribute("State").unwrap());
    let a = radclient(at, &secret, &request("alice", "", &answer));
    assert_eq!(a.kind.as_deref(), Some("Access-Accept"), "{}", a.output);

    // Duo out of reach with the open fail mode: the portal lets a sign-in through on its
    // password, but in mode otp no password was checked, so nothing gets through.
    env.cli_ok(&["settings", "set", "methods.duo.failmode", "open"]);
    env.cli_ok(&["settings", "set", "radius.mode", "otp"]);
    let mut duo = duo;
    duo.stop();
    drop(server);
    let server = env.serve_with(&[RADIUS, ("TWOFOLD_EXTRA_CA_FILE", &ca)]);
    let a = radclient(
        server.radius.unwrap(),
        &secret,
        &request("alice", "push", ""),
    );
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
}

/// The sum of every series of `name` in the metrics text.
fn metric_sum(text: &str, name: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// A flood of Access-Requests (wrong codes from eight senders at once) does not stall the web
/// server, and what arrives is answered or dropped and counted.
#[test]
fn a_radius_flood_leaves_http_answering_and_drops_counted() {
    let env = Env::new(Db::Sqlite);
    let token = env.token("app", "admin");
    let secret = add_client(&env, "vpn", &[]);
    env.cli_ok(&["settings", "set", "lockout.max_failures", "1000"]);
    let server = env.serve_with(&[RADIUS]);
    let at = server.radius.unwrap();
    let api = server.api(&token);
    api.enrolled_user("alice");

    const SENDERS: usize = 8;
    const EACH: usize = 500;
    let flood: Vec<_> = (0..SENDERS)
        .map(|s| {
            let secret = secret.clone();
            std::thread::spawn(move || {
                let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
                for i in 0..EACH {
                    let mut authenticator = [0u8; 16];
                    authenticator[..8].copy_from_slice(&(s * EACH + i).to_be_bytes());
                    let datagram = encode_request(
                        (i % 256) as u8,
                        &authenticator,
                        &[
                            (attr::USER_NAME, b"alice"),
                            (attr::USER_PASSWORD, b"000000"),
                        ],
                        secret.as_bytes(),
                        true,
                    )
                    .unwrap();
                    socket.send_to(&datagram, at).unwrap();
                }
                // Collect answers until none comes for a while.
                socket
                    .set_read_timeout(Some(Duration::from_millis(800)))
                    .unwrap();
                let mut answers = 0u64;
                let mut buf = [0u8; 4096];
                while socket.recv(&mut buf).is_ok() {
                    answers += 1;
                }
                answers
            })
        })
        .collect();
    // Meanwhile the web server answers.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        #[allow(clippy::disallowed_methods, reason = "timing the web server's answer")]
        let started = std::time::Instant::now();
        assert_eq!(server.anonymous().get("/healthz").status, 200);
        slowest = slowest.max(started.elapsed());
    }
    let received: u64 = flood.into_iter().map(|t| t.join().unwrap()).sum();
    assert!(
        slowest < Duration::from_secs(1),
        "/healthz took {slowest:?}"
    );
    let text = api.get("/metrics").json.as_str().unwrap().to_owned();
    let answered = metric_sum(&text, "twofold_radius_requests_total");
    let dropped = metric_sum(&text, "twofold_radius_dropped_total");
    let sent = (SENDERS * EACH) as u64;
    // UDP on the loopback can lose datagrams in a full socket buffer (the server's or a
    // sender's), so not every datagram arrives; each that arrived was answered or dropped and
    // counted, never both, and no sender got more answers than were sent.
    assert!(
        answered + dropped <= sent,
        "{answered} + {dropped} > {sent}"
    );
    assert!(answered > 0, "nothing answered");
    assert!(
        received <= answered,
        "{received} received, {answered} answered"
    );
}
