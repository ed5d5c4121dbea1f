//! The delivery adapters against real peers: a real SMTP server (PyPI aiosmtpd) on loopback, plain,
//! with STARTTLS and with implicit TLS under a self-signed certificate made here with the openssl
//! CLI; and an HTTP sink standing in for the SMS providers that checks each request as the real
//! service would (the webhook HMAC, Twilio's basic auth and form, the SNS SigV4 signature
//! recomputed with botocore). Messages are parsed with Python's `email` package. The Python venv
//! comes from `./scripts/test` (`$TWOFOLD_TEST_VENV`, default `target/test-venv`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

use serde_json::{Value, json};
use twofold_core::clock::ManualClock;
use twofold_core::delivery::{
    EmailConfig, EmailMessage, Mailer, SmsConfig, SmsSender, SmtpSecurity,
};
use twofold_delivery::{SetupError, SmsGateway, SmtpMailer};

// --- Tools ------------------------------------------------------------------------------------

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("TWOFOLD_TEST_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv"),
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: ./scripts/test creates the test venv (aiosmtpd, botocore)",
        python.display()
    );
    python
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// Runs `cmd`, failing the test with a pointer to `./scripts/test` when it cannot start.
fn run(cmd: &mut Command) -> std::process::Output {
    let output = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e}; ./scripts/test installs the tools the tests use")
    });
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A self-signed certificate for 127.0.0.1 (an end-entity certificate, not a CA).
struct Cert {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
}

impl Cert {
    fn new() -> Cert {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        run(Command::new("openssl")
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
            .stderr(Stdio::piped()));
        Cert {
            _dir: dir,
            cert,
            key,
        }
    }

    fn pem(&self) -> Vec<u8> {
        std::fs::read(&self.cert).unwrap()
    }
}

/// A Python peer (SMTP server or HTTP sink) that prints `READY <port>`, then one JSON line per
/// message or request it receives. Killed when dropped.
struct Peer {
    child: Child,
    port: u16,
    lines: Receiver<String>,
}

impl Peer {
    fn spawn(script_name: &str, args: &[&str]) -> Peer {
        let mut child = Command::new(venv_python())
            .arg(script(script_name))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {script_name}: {e}; run ./scripts/test"));
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let ready = lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("{script_name} did not start ({e}); run ./scripts/test"));
        let port = ready
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{script_name} said {ready:?}"));
        Peer { child, port, lines }
    }

    /// The next record, waiting for it.
    fn record(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(15))
            .expect("the peer recorded nothing");
        serde_json::from_str(&line).unwrap()
    }

    /// Checks that nothing more arrives. The peers print a record before they answer, so by the
    /// time a send has returned its records are on their way; a short wait covers the pipe.
    fn assert_no_more(&self) {
        match self.lines.recv_timeout(Duration::from_millis(300)) {
            Err(RecvTimeoutError::Timeout) => {}
            other => panic!("unexpected record: {other:?}"),
        }
    }

    fn stop(mut self) -> u16 {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.port
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_email(bytes: &[u8]) -> Value {
    let mut child = Command::new(venv_python())
        .arg(script("parse_email.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "parse_email.py failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Seconds a future took (the tests' one monotonic clock read).
async fn timed<T>(future: impl Future<Output = T>) -> (T, Duration) {
    // Tests measure how long a failure takes; there is no Clock port for that.
    #[allow(clippy::disallowed_methods)]
    let start = std::time::Instant::now();
    let value = future.await;
    (value, start.elapsed())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// --- Email ------------------------------------------------------------------------------------

const NOW: i64 = 1_700_000_000; // Tue, 14 Nov 2023 22:13:20 +0000

fn message() -> EmailMessage {
    EmailMessage {
        to: "alice@example.com".into(),
        subject: "Your sign-in code".into(),
        text: "Your code is 123456.\n".into(),
        html: "<p>Your code is <b>123456</b>.</p>\n".into(),
    }
}

fn email_config(port: u16, security: SmtpSecurity, login: Option<(&str, &str)>) -> EmailConfig {
    EmailConfig {
        from: "Twofold <twofold@example.org>".into(),
        smtp_host: Some("127.0.0.1".into()),
        smtp_port: port,
        security,
        username: login.map(|(user, _)| user.to_owned()),
        password: login
            .map(|(_, password)| password.to_owned())
            .unwrap_or_default(),
    }
}

struct Mail {
    _outbox: tempfile::TempDir,
    mailer: SmtpMailer,
}

fn mailer(extra_ca: Option<Vec<u8>>) -> Mail {
    let outbox = tempfile::tempdir().unwrap();
    let mailer = SmtpMailer::new(outbox.path().join("outbox"), extra_ca)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(NOW)));
    Mail {
        _outbox: outbox,
        mailer,
    }
}

/// Checks a message as Python's email package reads it: the headers and both alternatives.
fn assert_is_the_message(raw: &[u8]) {
    let parsed = parse_email(raw);
    assert_eq!(parsed["defects"], json!([]), "{parsed}");
    let headers = &parsed["headers"];
    assert_eq!(headers["From"], "Twofold <twofold@example.org>");
    assert_eq!(headers["To"], "alice@example.com");
    assert_eq!(headers["Subject"], "Your sign-in code");
    assert_eq!(headers["Date"], "Tue, 14 Nov 2023 22:13:20 +0000");
    let id = headers["Message-ID"].as_str().unwrap();
    assert!(
        id.starts_with('<') && id.ends_with('>') && id.contains('@'),
        "{id}"
    );
    assert_eq!(headers["MIME-Version"], "1.0");
    assert_eq!(parsed["content_type"], "multipart/alternative");
    assert_eq!(
        parsed["parts"],
        json!([
            {"content_type": "text/plain", "content": "Your code is 123456.\n"},
            {"content_type": "text/html", "content": "<p>Your code is <b>123456</b>.</p>\n"},
        ])
    );
}

#[tokio::test]
async fn email_without_a_host_goes_to_the_outbox() {
    let data = tempfile::tempdir().unwrap();
    let outbox = data.path().join("outbox");
    let mailer = SmtpMailer::new(outbox.clone(), None)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(NOW)));
    let config = EmailConfig {
        smtp_host: None,
        ..email_config(0, SmtpSecurity::StartTls, None)
    };

    mailer.send(&config, &message()).await.unwrap();

    assert_eq!(mode(&outbox), 0o700);
    let files = files(&outbox);
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap();
    let random = name
        .strip_prefix("1700000000-")
        .and_then(|rest| rest.strip_suffix(".eml"))
        .unwrap_or_else(|| panic!("{name}"));
    assert_eq!(random.len(), 16, "{name}");
    assert_eq!(mode(&files[0]), 0o600);
    assert_is_the_message(&std::fs::read(&files[0]).unwrap());

    // A second message is a second file; an empty host also means the outbox.
    let config = EmailConfig {
        smtp_host: Some(" ".into()),
        ..config
    };
    mailer.send(&config, &message()).await.unwrap();
    assert_eq!(self::files(&outbox).len(), 2);
}

#[tokio::test]
async fn email_over_plain_smtp_without_authentication() {
    let server = Peer::spawn("smtp_server.py", &["plain"]);
    let mail = mailer(None);

    mail.mailer
        .send(
            &email_config(server.port, SmtpSecurity::None, None),
            &message(),
        )
        .await
        .unwrap();

    let received = server.record();
    assert_eq!(received["mail_from"], "twofold@example.org");
    assert_eq!(received["rcpt_tos"], json!(["alice@example.com"]));
    assert_eq!(received["tls"], false);
    assert_eq!(received["auth_user"], Value::Null);
    assert_is_the_message(received["data"].as_str().unwrap().as_bytes());
    server.assert_no_more();
}

#[tokio::test]
async fn email_over_starttls_with_authentication() {
    let cert = Cert::new();
    let server = Peer::spawn(
        "smtp_server.py",
        &[
            "starttls",
            "--cert",
            cert.cert.to_str().unwrap(),
            "--key",
            cert.key.to_str().unwrap(),
            "--auth",
            "mailer:s3cret pass",
        ],
    );
    let mail = mailer(Some(cert.pem()));

    mail.mailer
        .send(
            &email_config(
                server.port,
                SmtpSecurity::StartTls,
                Some(("mailer", "s3cret pass")),
            ),
            &message(),
        )
        .await
        .unwrap();

    let received = server.record();
    assert_eq!(received["tls"], true);
    assert_eq!(received["auth_user"], "mailer");
    assert_eq!(received["rcpt_tos"], json!(["alice@example.com"]));
    assert_is_the_message(received["data"].as_str().unwrap().as_bytes());
}

#[tokio::test]
async fn email_over_implicit_tls_with_authentication() {
    let cert = Cert::new();
    let server = Peer::spawn(
        "smtp_server.py",
        &[
            "smtps",
            "--cert",
            cert.cert.to_str().unwrap(),
            "--key",
            cert.key.to_str().unwrap(),
            "--auth",
            "mailer:s3cret",
        ],
    );
    let mail = mailer(Some(cert.pem()));

    mail.mailer
        .send(
            &email_config(server.port, SmtpSecurity::Tls, Some(("mailer", "s3cret"))),
            &message(),
        )
        .await
        .unwrap();

    let received = server.record();
    assert_eq!(received["tls"], true);
    assert_eq!(received["auth_user"], "mailer");
}

#[tokio::test]
async fn a_wrong_smtp_password_is_a_clear_error_without_the_password() {
    let cert = Cert::new();
    let server = Peer::spawn(
        "smtp_server.py",
        &[
            "starttls",
            "--cert",
            cert.cert.to_str().unwrap(),
            "--key",
            cert.key.to_str().unwrap(),
            "--auth",
            "mailer:s3cret",
        ],
    );
    let mail = mailer(Some(cert.pem()));

    let error = mail
        .mailer
        .send(
            &email_config(
                server.port,
                SmtpSecurity::StartTls,
                Some(("mailer", "wrong-password")),
            ),
            &message(),
        )
        .await
        .unwrap_err();

    assert_eq!(
        error.message.english(),
        "The email could not be sent: the mail server refused the user name or password."
    );
    server.assert_no_more();
}

#[tokio::test]
async fn starttls_required_but_not_offered_is_an_error() {
    let server = Peer::spawn("smtp_server.py", &["plain"]);
    let mail = mailer(None);

    let error = mail
        .mailer
        .send(
            &email_config(server.port, SmtpSecurity::StartTls, None),
            &message(),
        )
        .await
        .unwrap_err();

    assert_eq!(
        error.message.english(),
        "The email could not be sent: the mail server does not offer STARTTLS."
    );
    server.assert_no_more();
}

#[tokio::test]
async fn implicit_tls_against_a_plain_server_is_an_error() {
    let server = Peer::spawn("smtp_server.py", &["plain"]);
    let mail = mailer(None);

    let (result, took) = timed(mail.mailer.send(
        &email_config(server.port, SmtpSecurity::Tls, None),
        &message(),
    ))
    .await;

    let error = result.unwrap_err();
    assert!(
        error.message.english().starts_with(
            "The email could not be sent: a secure connection to the mail server could not be made"
        ),
        "{error}"
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
    server.assert_no_more();
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let cert = Cert::new();
    let server = Peer::spawn(
        "smtp_server.py",
        &[
            "starttls",
            "--cert",
            cert.cert.to_str().unwrap(),
            "--key",
            cert.key.to_str().unwrap(),
        ],
    );
    // No extra CA: the self-signed certificate is not among the system's roots.
    let mail = mailer(None);

    let error = mail
        .mailer
        .send(
            &email_config(server.port, SmtpSecurity::StartTls, None),
            &message(),
        )
        .await
        .unwrap_err();

    assert!(
        error.message.english().starts_with(
            "The email could not be sent: a secure connection to the mail server could not be made"
        ),
        "{error}"
    );
    server.assert_no_more();
}

#[tokio::test]
async fn a_stopped_smtp_server_did_not_answer() {
    let port = Peer::spawn("smtp_server.py", &["plain"]).stop();
    let mail = mailer(None);

    let (result, took) = timed(
        mail.mailer
            .send(&email_config(port, SmtpSecurity::None, None), &message()),
    )
    .await;

    assert_eq!(
        result.unwrap_err().message.english(),
        "The email could not be sent: the mail server did not answer."
    );
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[tokio::test]
async fn an_invalid_from_address_is_a_clear_error() {
    let mail = mailer(None);
    let config = EmailConfig {
        from: "not an address".into(),
        smtp_host: None,
        ..email_config(0, SmtpSecurity::None, None)
    };

    let error = mail.mailer.send(&config, &message()).await.unwrap_err();

    assert_eq!(
        error.message.english(),
        "The email could not be sent: the From address in the email settings is not valid."
    );
}

#[test]
fn a_file_without_certificates_is_refused_at_setup() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = b"this is not a certificate\n".to_vec();
    assert!(matches!(
        SmtpMailer::new(dir.path().into(), Some(not_pem.clone())),
        Err(SetupError::ExtraCa(_))
    ));
    assert!(matches!(
        SmsGateway::new(dir.path().into(), Some(not_pem)),
        Err(SetupError::ExtraCa(_))
    ));
}

// --- SMS --------------------------------------------------------------------------------------

const TO: &str = "+15550100";
const TEXT: &str = "Your code is 123 456 – don't share it (ü&=+%)";

const WEBHOOK_SECRET: &str = "webhook-secret";
const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
const TWILIO_TOKEN: &str = "twilio-token";
const SNS_KEY: &str = "AKIDEXAMPLE";
const SNS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SNS_REGION: &str = "eu-west-1";

fn sink() -> Peer {
    let config = json!({
        "webhook_secret": WEBHOOK_SECRET,
        "twilio_sid": TWILIO_SID,
        "twilio_token": TWILIO_TOKEN,
        "sns_access_key": SNS_KEY,
        "sns_secret": SNS_SECRET,
        "sns_region": SNS_REGION,
    });
    Peer::spawn("http_sink.py", &[&config.to_string()])
}

fn gateway() -> (tempfile::TempDir, SmsGateway) {
    let dir = tempfile::tempdir().unwrap();
    let gateway = SmsGateway::new(dir.path().join("outbox"), None).unwrap();
    (dir, gateway)
}

fn webhook(sink: &Peer, plan: &str) -> SmsConfig {
    SmsConfig::Webhook {
        url: format!("http://127.0.0.1:{}/webhook/{plan}", sink.port),
        secret: WEBHOOK_SECRET.into(),
    }
}

fn twilio(sink: &Peer, plan: &str, token: &str) -> SmsConfig {
    SmsConfig::Twilio {
        account_sid: TWILIO_SID.into(),
        auth_token: token.into(),
        from: "+15550199".into(),
        api_base: format!("http://127.0.0.1:{}/twilio/{plan}/", sink.port),
    }
}

fn sns(sink: &Peer, plan: &str, secret: &str) -> SmsConfig {
    SmsConfig::Sns {
        region: SNS_REGION.into(),
        access_key_id: SNS_KEY.into(),
        secret_access_key: secret.into(),
        endpoint: format!("http://127.0.0.1:{}/sns/{plan}/", sink.port),
    }
}

/// The sink's record of one request that passed its checks.
fn accepted(sink: &Peer, kind: &str) -> Value {
    let record = sink.record();
    assert_eq!(record["kind"], kind, "{record}");
    assert_eq!(record["problems"], json!([]), "{record}");
    record
}

#[tokio::test]
async fn sms_outbox_writes_one_file_per_message() {
    let data = tempfile::tempdir().unwrap();
    let outbox = data.path().join("outbox");
    let gateway = SmsGateway::new(outbox.clone(), None)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(NOW)));

    gateway.send(&SmsConfig::Outbox, TO, TEXT).await.unwrap();

    assert_eq!(mode(&outbox), 0o700);
    let files = files(&outbox);
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("1700000000-") && name.ends_with(".sms"),
        "{name}"
    );
    assert_eq!(mode(&files[0]), 0o600);
    assert_eq!(
        std::fs::read_to_string(&files[0]).unwrap(),
        format!("To: +15550100\n\n{TEXT}\n")
    );
}

#[tokio::test]
async fn a_number_not_in_e164_is_refused() {
    let (_dir, gateway) = gateway();
    let error = gateway
        .send(&SmsConfig::Outbox, "555-0100", TEXT)
        .await
        .unwrap_err();
    assert!(
        error.message.english().contains("international format"),
        "{error}"
    );
}

#[tokio::test]
async fn webhook_posts_signed_json() {
    let sink = sink();
    let (_dir, gateway) = gateway();

    gateway
        .send(&webhook(&sink, "200"), TO, TEXT)
        .await
        .unwrap();

    let record = accepted(&sink, "webhook");
    assert_eq!(record["fields"], json!({"to": TO, "message": TEXT}));
    sink.assert_no_more();
}

#[tokio::test]
async fn any_2xx_is_success() {
    let sink = sink();
    let (_dir, gateway) = gateway();
    gateway
        .send(&webhook(&sink, "204"), TO, TEXT)
        .await
        .unwrap();
    accepted(&sink, "webhook");
}

#[tokio::test]
async fn a_webhook_signed_with_another_secret_is_refused() {
    let sink = sink();
    let (_dir, gateway) = gateway();
    let config = SmsConfig::Webhook {
        url: format!("http://127.0.0.1:{}/webhook/200", sink.port),
        secret: "another secret".into(),
    };

    let error = gateway.send(&config, TO, TEXT).await.unwrap_err();

    assert_eq!(
        error.message.english(),
        "The SMS provider refused the message (HTTP 403)."
    );
    let record = sink.record();
    assert!(
        record["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("bad signature")
    );
    sink.assert_no_more();
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    let sink = sink();
    let (_dir, gateway) = gateway();

    let error = gateway
        .send(&webhook(&sink, "401"), TO, TEXT)
        .await
        .unwrap_err();

    assert_eq!(
        error.message.english(),
        "The SMS provider refused the message (HTTP 401)."
    );
    accepted(&sink, "webhook");
    sink.assert_no_more();
}

#[tokio::test]
async fn a_5xx_is_retried_once() {
    let sink = sink();
    let (_dir, gateway) = gateway();

    gateway
        .send(&webhook(&sink, "500,200"), TO, TEXT)
        .await
        .unwrap();
    assert_eq!(accepted(&sink, "webhook")["status"], 500);
    assert_eq!(accepted(&sink, "webhook")["status"], 200);
    sink.assert_no_more();

    let error = gateway
        .send(&webhook(&sink, "503"), TO, TEXT)
        .await
        .unwrap_err();
    assert_eq!(
        error.message.english(),
        "The SMS provider could not take the message (HTTP 503)."
    );
    accepted(&sink, "webhook");
    accepted(&sink, "webhook");
    sink.assert_no_more();
}

#[tokio::test]
async fn a_provider_that_does_not_answer_times_out_after_5_seconds_and_is_retried() {
    let sink = sink();
    let (_dir, gateway) = gateway();

    let (result, took) = timed(gateway.send(&webhook(&sink, "hang,200"), TO, TEXT)).await;

    result.unwrap();
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(7),
        "{took:?}"
    );
    accepted(&sink, "webhook");
    accepted(&sink, "webhook");
}

#[tokio::test]
async fn a_stopped_provider_could_not_be_reached() {
    let sink = sink();
    let config = webhook(&sink, "200");
    sink.stop();
    let (_dir, gateway) = gateway();

    let error = gateway.send(&config, TO, TEXT).await.unwrap_err();

    assert_eq!(
        error.message.english(),
        "The SMS could not be sent: the SMS provider could not be reached."
    );
}

#[tokio::test]
async fn https_to_a_plain_http_provider_is_a_tls_error() {
    let sink = sink();
    let (_dir, gateway) = gateway();
    let config = SmsConfig::Webhook {
        url: format!("https://127.0.0.1:{}/webhook/200", sink.port),
        secret: WEBHOOK_SECRET.into(),
    };

    let error = gateway.send(&config, TO, TEXT).await.unwrap_err();

    assert_eq!(
        error.message.english(),
        "The SMS could not be sent: a secure connection to the SMS provider could not be made."
    );
}

#[tokio::test]
async fn twilio_gets_its_form_with_basic_auth() {
    let sink = sink();
    let (_dir, gateway) = gateway();

    gateway
        .send(&twilio(&sink, "201", TWILIO_TOKEN), TO, TEXT)
        .await
        .unwrap();

    let record = accepted(&sink, "twilio");
    assert_eq!(
        record["path"],
        format!("/twilio/201/2010-04-01/Accounts/{TWILIO_SID}/Messages.json")
    );
    assert_eq!(
        record["fields"],
        json!({"To": TO, "From": "+15550199", "Body": TEXT})
    );
    sink.assert_no_more();
}

#[tokio::test]
async fn twilio_with_a_wrong_token_is_refused() {
    let sink = sink();
    let (_dir, gateway) = gateway();

    let error = gateway
        .send(&twilio(&sink, "201", "wrong"), TO, TEXT)
        .await
        .unwrap_err();

    assert_eq!(
        error.message.english(),
        "The SMS provider refused the message (HTTP 403)."
    );
    assert_eq!(sink.record()["problems"], json!(["bad basic auth"]));
    sink.assert_no_more();
}

#[tokio::test]
async fn sns_publish_is_signed_as_botocore_signs_it() {
    let sink = sink();
    let (_dir, gateway) = gateway();

    gateway
        .send(&sns(&sink, "200", SNS_SECRET), TO, TEXT)
        .await
        .unwrap();

    let record = accepted(&sink, "sns");
    let fields = &record["fields"];
    assert_eq!(fields["Action"], "Publish");
    assert_eq!(fields["Version"], "2010-03-31");
    assert_eq!(fields["PhoneNumber"], TO);
    assert_eq!(fields["Message"], TEXT);
    let authorization = fields["_botocore_authorization"].as_str().unwrap();
    assert!(
        authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
            && authorization.contains("/eu-west-1/sns/aws4_request, ")
            && authorization.contains("SignedHeaders=content-type;host;x-amz-date, "),
        "{authorization}"
    );
    sink.assert_no_more();
}

#[tokio::test]
async fn sns_signed_with_another_secret_is_refused() {
    let sink = sink();
    let (_dir, gateway) = gateway();

    let error = gateway
        .send(&sns(&sink, "200", "not-the-secret"), TO, TEXT)
        .await
        .unwrap_err();

    assert_eq!(
        error.message.english(),
        "The SMS provider refused the message (HTTP 403)."
    );
    let record = sink.record();
    assert!(
        record["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("SigV4 mismatch"),
        "{record}"
    );
    sink.assert_no_more();
}
