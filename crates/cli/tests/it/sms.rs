//! SMS codes through the server's own SMS providers: the HTTP sink of the delivery tests
//! (`crates/delivery/tests/http_sink.py`, from the test venv) stands in for the webhook, Twilio and
//! AWS SNS and checks each request as the real service would (the webhook's HMAC, Twilio's basic
//! auth and form, the SNS SigV4 signature recomputed with botocore). The provider is set through
//! `PATCH /api/v1/settings`; the codes are read from what the sink received. For each provider: an
//! SMS factor enrolled and confirmed, a login code by `POST …/challenge` that `/validate` accepts
//! once; and a provider error, which is a 502 with a plain sentence, audited, leaving no code.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use serde_json::{Value, json};

use crate::on_both;
use crate::support::{Api, Db, Env, Reply};

on_both!(sms_providers_deliver_codes_and_a_provider_error_leaves_none);

const WEBHOOK_SECRET: &str = "webhook-secret-for-it";
const TWILIO_SID: &str = "AC00112233445566778899aabbccddeeff";
const TWILIO_TOKEN: &str = "twilio-token-for-it";
const TWILIO_FROM: &str = "+15550199";
const SNS_KEY: &str = "AKIDEXAMPLEIT";
const SNS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEIT";
const SNS_REGION: &str = "eu-west-1";

const PROVIDERS: [&str; 3] = ["webhook", "twilio", "sns"];

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("TWOFOLD_TEST_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv"),
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: ./scripts/test creates the test venv (botocore)",
        python.display()
    );
    python
}

/// The HTTP sink: prints `READY <port>`, then one JSON line per request. Killed when dropped.
struct Sink {
    child: Child,
    port: u16,
    lines: Receiver<String>,
}

impl Sink {
    fn start() -> Sink {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../delivery/tests/http_sink.py");
        let config = json!({
            "webhook_secret": WEBHOOK_SECRET,
            "twilio_sid": TWILIO_SID,
            "twilio_token": TWILIO_TOKEN,
            "sns_access_key": SNS_KEY,
            "sns_secret": SNS_SECRET,
            "sns_region": SNS_REGION,
        });
        let mut child = Command::new(venv_python())
            .arg(script)
            .arg(config.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("http_sink.py");
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let ready = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("http_sink.py did not start");
        let port = ready
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("http_sink.py said {ready:?}"));
        Sink { child, port, lines }
    }

    /// The next request the sink received, which passed the provider's checks and was answered
    /// `status`; returns (the number it was for, the text of the message).
    fn received(&self, kind: &str, status: u16) -> (String, String) {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(15))
            .unwrap_or_else(|e| panic!("the sink received nothing for {kind}: {e}"));
        let record: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(record["kind"], kind, "{record}");
        assert_eq!(record["problems"], json!([]), "{record}");
        assert_eq!(record["status"], status, "{record}");
        let f = &record["fields"];
        let (to, text) = match kind {
            "webhook" => (&f["to"], &f["message"]),
            "twilio" => {
                assert_eq!(f["From"], TWILIO_FROM, "{record}");
                (&f["To"], &f["Body"])
            }
            _ => (&f["PhoneNumber"], &f["Message"]),
        };
        (
            to.as_str().unwrap().to_owned(),
            text.as_str().unwrap().to_owned(),
        )
    }

    /// Nothing more arrives (the sink prints its record before it answers).
    fn assert_no_more(&self) {
        match self.lines.recv_timeout(Duration::from_millis(300)) {
            Err(RecvTimeoutError::Timeout) => {}
            other => panic!("unexpected request: {other:?}"),
        }
    }

    fn stop(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The settings that send SMS through `kind` at the sink, answering in turn the statuses of
/// `plan` (for example `503`: always 503).
fn provider(kind: &str, port: u16, plan: &str) -> Value {
    let base = format!("http://127.0.0.1:{port}/{kind}/{plan}");
    match kind {
        "webhook" => json!({
            "methods.sms.provider": "webhook",
            "methods.sms.webhook.url": base,
            "methods.sms.webhook.secret": WEBHOOK_SECRET,
        }),
        "twilio" => json!({
            "methods.sms.provider": "twilio",
            "methods.sms.twilio.account_sid": TWILIO_SID,
            "methods.sms.twilio.auth_token": TWILIO_TOKEN,
            "methods.sms.twilio.from": TWILIO_FROM,
            "methods.sms.twilio.api_base": format!("{base}/"),
        }),
        _ => json!({
            "methods.sms.provider": "sns",
            "methods.sms.sns.region": SNS_REGION,
            "methods.sms.sns.access_key_id": SNS_KEY,
            "methods.sms.sns.secret_access_key": SNS_SECRET,
            "methods.sms.sns.endpoint": format!("{base}/"),
        }),
    }
}

/// The status each provider answers a message it takes with.
fn ok_status(kind: &str) -> u16 {
    if kind == "twilio" { 201 } else { 200 }
}

fn use_provider(api: &Api, kind: &str, port: u16, plan: &str) {
    let r = api.patch("/api/v1/settings", provider(kind, port, plan));
    assert_eq!(r.status, 200, "{r:?}");
}

/// The 6-digit code in an SMS text.
fn code_in(text: &str) -> String {
    let at = text
        .find("code is ")
        .unwrap_or_else(|| panic!("no code in {text:?}"));
    let code: String = text[at + 8..].chars().take(6).collect();
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "{text:?}"
    );
    code
}

fn confirm(api: &Api, username: &str, id: &str, code: &str) -> Reply {
    api.post(
        &format!("/api/v1/users/{username}/factors/{id}/confirm"),
        json!({"code": code}),
    )
}

/// A user with a phone number; returns the number.
fn add_user(api: &Api, username: &str, n: usize) -> String {
    let phone = format!("+1555010020{n}");
    let r = api.post(
        "/api/v1/users",
        json!({"username": username, "phone": phone}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    phone
}

/// Starts the enrolment of an SMS factor; returns its id.
fn enrol(api: &Api, username: &str) -> String {
    let r = api.post(
        &format!("/api/v1/users/{username}/factors"),
        json!({"kind": "sms"}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    r.json["id"].as_str().unwrap().to_owned()
}

struct Users {
    /// Enrolled and confirmed: logs in with a code later.
    ok: String,
    ok_phone: String,
    /// Enrolment pending, its verification code live, when the provider fails.
    failing: String,
    failing_phone: String,
    failing_factor: String,
    pending_code: String,
}

fn sms_providers_deliver_codes_and_a_provider_error_leaves_none(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let sink = Sink::start();
    let r = api.patch(
        "/api/v1/settings",
        json!({
            "methods.sms.active": true,
            "methods.sms.clients": true,
            "issuer": "Acme",
        }),
    );
    assert_eq!(r.status, 200, "{r:?}");

    // Enrolment through each provider: the verification code the provider received confirms
    // the factor. A second user's enrolment is left pending, for the provider error below.
    let mut users = Vec::new();
    for (i, kind) in PROVIDERS.into_iter().enumerate() {
        use_provider(&api, kind, sink.port, &ok_status(kind).to_string());
        let ok = format!("{kind}.ok");
        let ok_phone = add_user(&api, &ok, 2 * i);
        let id = enrol(&api, &ok);
        let (to, text) = sink.received(kind, ok_status(kind));
        assert_eq!(to, ok_phone);
        assert!(
            text.starts_with("Your Acme verification code is "),
            "{text}"
        );
        let r = confirm(&api, &ok, &id, &code_in(&text));
        assert_eq!(r.status, 200, "{kind}: {r:?}");

        let failing = format!("{kind}.failing");
        let failing_phone = add_user(&api, &failing, 2 * i + 1);
        let failing_factor = enrol(&api, &failing);
        let (to, text) = sink.received(kind, ok_status(kind));
        assert_eq!(to, failing_phone);
        users.push(Users {
            ok,
            ok_phone,
            failing,
            failing_phone,
            failing_factor,
            pending_code: code_in(&text),
        });
    }
    sink.assert_no_more();
    // The provider secrets are write-only.
    let shown = api.get("/api/v1/settings").json.to_string();
    for secret in [WEBHOOK_SECRET, TWILIO_TOKEN, SNS_SECRET] {
        assert!(!shown.contains(secret), "{secret} shown in {shown}");
    }

    // 30 s between sends to one user (DESIGN): the rest runs on a server of the same database
    // whose clock is 31 s ahead, instead of waiting.
    drop(server);
    let server = env.serve_with(&[("TWOFOLD_TEST_CLOCK_OFFSET", "31")]);
    let api = server.api(&token);

    let validator = server.api(&env.token("login", "validate"));
    for (kind, u) in PROVIDERS.into_iter().zip(&users) {
        // Login: a code by the provider, accepted once.
        use_provider(&api, kind, sink.port, &ok_status(kind).to_string());
        let r = validator.post(
            &format!("/api/v1/users/{}/challenge", u.ok),
            json!({"kind": "sms"}),
        );
        assert_eq!(r.status, 202, "{kind}: {r:?}");
        let (to, text) = sink.received(kind, ok_status(kind));
        assert_eq!(to, u.ok_phone);
        assert!(text.starts_with("Your Acme login code is "), "{text}");
        let code = code_in(&text);
        assert_eq!(
            validator.validate(&u.ok, &code),
            json!({"ok": true, "method": "sms"}),
            "{kind}"
        );
        assert_eq!(validator.validate(&u.ok, &code)["ok"], false, "used once");

        // A provider error: a server error is retried once, a refusal is not. Either way a
        // 502 with the provider's answer as a sentence, and no code left: neither the one the
        // provider failed to take nor the one pending before.
        let (plan, tries, message) = match kind {
            "webhook" => (
                503,
                2,
                "The SMS provider could not take the message (HTTP 503).",
            ),
            "twilio" => (400, 1, "The SMS provider refused the message (HTTP 400)."),
            _ => (
                500,
                2,
                "The SMS provider could not take the message (HTTP 500).",
            ),
        };
        use_provider(&api, kind, sink.port, &plan.to_string());
        let r = validator.post(
            &format!("/api/v1/users/{}/challenge", u.failing),
            json!({"kind": "sms"}),
        );
        assert_eq!(
            (r.status, r.error_code()),
            (502, "delivery_failed"),
            "{kind}: {r:?}"
        );
        assert_eq!(r.json["error"]["message"], message, "{kind}: {r:?}");
        let mut failed_code = String::new();
        for _ in 0..tries {
            let (to, text) = sink.received(kind, plan);
            assert_eq!(to, u.failing_phone);
            failed_code = code_in(&text);
        }
        sink.assert_no_more();
        for code in [&u.pending_code, &failed_code] {
            let r = confirm(&api, &u.failing, &u.failing_factor, code);
            assert_eq!(
                (r.status, r.error_code()),
                (422, "invalid_code"),
                "{kind}: a code survived the failed send: {r:?}"
            );
        }
        let failed = api
            .get(&format!(
                "/api/v1/audit?username={}&event=code.failed",
                u.failing
            ))
            .json;
        let events = failed["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{failed}");
        assert_eq!(
            events[0]["detail"],
            format!("kind=sms factor={}", u.failing_factor)
        );
    }

    // A provider that cannot be reached at all: the enrolment fails plainly and leaves nothing.
    use_provider(&api, "webhook", sink.port, "200");
    sink.stop();
    add_user(&api, "unreached", 9);
    let r = api.post("/api/v1/users/unreached/factors", json!({"kind": "sms"}));
    assert_eq!(
        (r.status, r.error_code()),
        (502, "delivery_failed"),
        "{r:?}"
    );
    assert_eq!(
        r.json["error"]["message"],
        "The SMS could not be sent: the SMS provider could not be reached."
    );
    assert_eq!(
        api.get("/api/v1/users/unreached").json["factors"],
        json!([])
    );
}
