//! A real SMTP server on loopback (aiosmtpd, over STARTTLS with a self-signed certificate and
//! authentication): the code in the mail it receives logs the user in through the API and through
//! the login pages; with the server stopped, a send is a clear, audited error that leaves no code.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Db, Env, skip_postgres};

struct SmtpServer {
    child: Child,
    port: u16,
    mails: Receiver<Value>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
    let (cert, key) = (dir.join("smtp-cert.pem"), dir.join("smtp-key.pem"));
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        .args([
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=serverAuth",
        ])
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

fn start_smtp(cert: &Path, key: &Path) -> SmtpServer {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../delivery/tests/smtp_server.py");
    let mut child = Command::new(venv_python())
        .arg(script)
        .args(["starttls", "--auth", "mailer:s3cret-pass"])
        .arg("--cert")
        .arg(cert)
        .arg("--key")
        .arg(key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = lines.next().unwrap().unwrap();
    let port = ready.strip_prefix("READY ").unwrap().parse().unwrap();
    let (tx, mails) = mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });
    SmtpServer { child, port, mails }
}

fn code_in(mail: &Value) -> String {
    let data = mail["data"].as_str().unwrap();
    let at = data
        .find("code is")
        .unwrap_or_else(|| panic!("no code in {data}"));
    data[at..]
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect()
}

#[test]
fn mail_over_starttls_with_auth_logs_in_through_api_and_pages_sqlite() {
    mail_over_starttls_with_auth_logs_in_through_api_and_pages(Db::Sqlite);
}

#[test]
fn mail_over_starttls_with_auth_logs_in_through_api_and_pages_postgres() {
    if skip_postgres() {
        return;
    }
    mail_over_starttls_with_auth_logs_in_through_api_and_pages(Db::Postgres);
}

/// The next mail the server received; it must be to `to`.
fn mail_to(smtp: &SmtpServer, to: &str) -> Value {
    let mail = smtp
        .mails
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("no mail to {to}: {e}"));
    assert_eq!(mail["rcpt_tos"], json!([to]), "{mail}");
    // Over STARTTLS, after AUTH (the server requires both before MAIL).
    assert_eq!(mail["tls"], true, "{mail}");
    assert_eq!(mail["auth_user"], "mailer", "{mail}");
    mail
}

fn subject_is(mail: &Value, subject: &str) {
    let data = mail["data"].as_str().unwrap();
    assert!(
        data.contains(&format!("Subject: {subject}")),
        "not {subject:?}: {data}"
    );
}

fn mail_over_starttls_with_auth_logs_in_through_api_and_pages(db: Db) {
    let env = Env::new(db);
    let (cert, key) = certificate(env.data_dir());
    let smtp = start_smtp(&cert, &key);
    let token = env.token("app", "admin");
    let ca = ("TWOFOLD_EXTRA_CA_FILE", cert.to_str().unwrap());
    let server = env.serve_with(&[ca]);
    let api = server.api(&token);
    let r = api.patch(
        "/api/v1/settings",
        json!({
            "methods.email.active": true,
            "methods.email.clients": true,
            "methods.email.from": "Acme <security@acme.test>",
            "methods.email.smtp.host": "127.0.0.1",
            "methods.email.smtp.port": smtp.port,
            "methods.email.smtp.security": "starttls",
            "methods.email.smtp.username": "mailer",
            "methods.email.smtp.password": "s3cret-pass",
            "issuer": "Acme",
        }),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let out = env.cli_stdin(
        &[
            "user",
            "add",
            "sam",
            "--email",
            "sam@example.com",
            "--password-stdin",
        ],
        "a good password\n",
    );
    assert!(out.status.success());
    // Three users, because one user gets at most one code per 30 s: sam logs in through the
    // pages, tess through the API, and uli's pending code meets the stopped server.
    for name in ["tess", "uli"] {
        let r = api.post(
            "/api/v1/users",
            json!({"username": name, "email": format!("{name}@example.com")}),
        );
        assert_eq!(r.status, 201, "{r:?}");
    }

    // Enrolment: the verification code arrives by mail and confirms the factor.
    let mut factor_of = std::collections::HashMap::new();
    let mut uli_code = String::new();
    for name in ["sam", "tess", "uli"] {
        let r = api.post(
            &format!("/api/v1/users/{name}/factors"),
            json!({"kind": "email"}),
        );
        assert_eq!(r.status, 201, "{r:?}");
        let id = r.json["id"].as_str().unwrap().to_owned();
        let mail = mail_to(&smtp, &format!("{name}@example.com"));
        subject_is(&mail, "Your Acme verification code");
        if name == "uli" {
            // uli's enrolment stays pending, with this code live.
            uli_code = code_in(&mail);
        } else {
            let r = api.post(
                &format!("/api/v1/users/{name}/factors/{id}/confirm"),
                json!({"code": code_in(&mail)}),
            );
            assert_eq!(r.status, 200, "{r:?}");
        }
        factor_of.insert(name, id);
    }

    // 30 s between sends to one user (DESIGN): the rest runs on a server of the same database
    // whose clock is 31 s ahead, instead of waiting.
    drop(server);
    let server = env.serve_with(&[ca, ("TWOFOLD_TEST_CLOCK_OFFSET", "31")]);
    let api = server.api(&token);

    // Login through the pages: password, "Send me a code", the code from the mail.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let base = server.base.clone();
    let mut cookies: Vec<String> = Vec::new();
    let mut go =
        |method: &str, path: &str, form: Option<String>| -> (u16, Option<String>, String) {
            let mut req = ureq::http::Request::builder()
                .method(method)
                .uri(format!("{base}{path}"));
            if !cookies.is_empty() {
                req = req.header("Cookie", cookies.join("; "));
            }
            let resp = match form {
                Some(f) => agent.run(
                    req.header("Content-Type", "application/x-www-form-urlencoded")
                        .body(f.into_bytes())
                        .unwrap(),
                ),
                None => agent.run(req.body(()).unwrap()),
            }
            .unwrap();
            for v in resp.headers().get_all("set-cookie") {
                let pair = v.to_str().unwrap().split(';').next().unwrap().to_owned();
                let name = pair.split('=').next().unwrap().to_owned();
                cookies.retain(|c| !c.starts_with(&format!("{name}=")));
                cookies.push(pair);
            }
            let status = resp.status().as_u16();
            let location = resp
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned());
            (
                status,
                location,
                resp.into_body().read_to_string().unwrap_or_default(),
            )
        };
    let csrf_of = |body: &str| {
        let at = body.find("name=\"csrf\" value=\"").unwrap() + 19;
        body[at..at + body[at..].find('"').unwrap()].to_owned()
    };
    let (_, _, body) = go("GET", "/login", None);
    let csrf = csrf_of(&body);
    let (_, to, _) = go(
        "POST",
        "/login",
        Some(format!("csrf={csrf}&username=sam&password=a+good+password")),
    );
    assert_eq!(to.as_deref(), Some("/login/2fa"));
    let (_, _, body) = go("GET", "/login/2fa", None);
    assert!(
        body.contains("Send me a code by email (s•••@example.com)"),
        "{body}"
    );
    let csrf = csrf_of(&body);
    let (status, _, body) = go(
        "POST",
        "/login/2fa/send",
        Some(format!("csrf={csrf}&kind=email")),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("We sent a code to s•••@example.com"));
    let mail = mail_to(&smtp, "sam@example.com");
    subject_is(&mail, "Your Acme login code");
    let (_, to, _) = go(
        "POST",
        "/login/2fa",
        Some(format!("csrf={csrf}&code={}", code_in(&mail))),
    );
    assert_eq!(to.as_deref(), Some("/account/security"));
    let (status, _, body) = go("GET", "/account/security", None);
    assert_eq!(status, 200);
    assert!(body.contains("Two-factor authentication is on"));

    // Login through the API: a challenge, the code from the mail, /validate. Once.
    let r = api.post("/api/v1/users/tess/challenge", json!({"kind": "email"}));
    assert_eq!(r.status, 202, "{r:?}");
    assert_eq!(r.json["sent_to"], "t•••@example.com");
    let mail = mail_to(&smtp, "tess@example.com");
    subject_is(&mail, "Your Acme login code");
    let code = code_in(&mail);
    assert_eq!(
        api.validate("tess", &code),
        json!({"ok": true, "method": "email"})
    );
    assert_eq!(api.validate("tess", &code)["ok"], false, "used once");

    // The SMTP server stops: uli asks for a new code. A clear error, the failure audited, and
    // no code left to use: not the new one, and not the one still pending from before.
    drop(smtp);
    let r = api.post("/api/v1/users/uli/challenge", json!({"kind": "email"}));
    assert_eq!(
        (r.status, r.error_code()),
        (502, "delivery_failed"),
        "{r:?}"
    );
    assert_eq!(
        r.json["error"]["message"], "The email could not be sent: the mail server did not answer.",
        "{r:?}"
    );
    let uli_factor = &factor_of["uli"];
    let r = api.post(
        &format!("/api/v1/users/uli/factors/{uli_factor}/confirm"),
        json!({"code": uli_code}),
    );
    assert_eq!(
        (r.status, r.error_code()),
        (422, "invalid_code"),
        "the code pending before the failed send no longer works: {r:?}"
    );
    let uli = api.get("/api/v1/users/uli").json;
    assert_eq!(uli["factors"].as_array().unwrap().len(), 1, "{uli}");
    assert_eq!(uli["factors"][0]["confirmed"], false, "{uli}");
    let failed = api.get("/api/v1/audit?username=uli&event=code.failed").json;
    let events = failed["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{failed}");
    assert_eq!(
        events[0]["detail"],
        format!("kind=email factor={uli_factor}"),
        "{failed}"
    );
    let sent = api.get("/api/v1/audit?username=uli&event=code.sent").json;
    assert_eq!(
        sent["events"].as_array().unwrap().len(),
        1,
        "only the enrolment code was sent: {sent}"
    );
}
