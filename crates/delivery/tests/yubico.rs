//! `YubicoClient` against a stand-in validation server (`yubico_server.py`, stdlib Python) that
//! checks each request's signature and signs its answers as Yubico validation protocol 2.0
//! says; and `twofold_otp::wsapi` cross-checked with PyPI `yubico-client` 1.13.0: its signed
//! query verifies with our parser, our answers pass its checks, and it accepts the stand-in's
//! answers (so the stand-in speaks the protocol real clients expect). The Python venv comes from
//! `./scripts/test` (`$TWOFOLD_TEST_VENV`, default `target/test-venv`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use twofold_core::yubico::{YubicoRefusal, YubicoServerConfig, YubicoVerifier};
use twofold_delivery::YubicoClient;
use twofold_otp::wsapi::{self, Status, VerifyRequest, VerifyResponse};

const CLIENT_ID: &str = "87";
const KEY: &[u8] = b"the stand-in's shared API key";
const OTP: &str = "vvvvvvcucrlcietctckflvnncdgckubflugerlnr";

// --- Tools ------------------------------------------------------------------------------------

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("TWOFOLD_TEST_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv"),
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: ./scripts/test creates the test venv (yubico-client)",
        python.display()
    );
    python
}

fn key_b64() -> String {
    BASE64.encode(KEY)
}

/// The stand-in server: prints `READY <port>`, then one JSON line per request. Killed when
/// dropped.
struct StandIn {
    child: Child,
    port: u16,
    lines: Receiver<String>,
}

impl StandIn {
    fn spawn(mode: &str, extra: &[&str]) -> StandIn {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/yubico_server.py");
        let key = key_b64();
        let mut child = Command::new(venv_python())
            .arg(script)
            .args(["--id", CLIENT_ID, "--key", &key, "--mode", mode])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start yubico_server.py: {e}; run ./scripts/test"));
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
            .expect("yubico_server.py did not start");
        let port = ready
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("yubico_server.py said {ready:?}"));
        StandIn { child, port, lines }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/wsapi/2.0/verify", self.port)
    }

    /// The record of the next request.
    fn record(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(15))
            .expect("the stand-in recorded nothing");
        serde_json::from_str(&line).unwrap()
    }

    fn assert_no_request(&self) {
        assert!(
            self.lines.recv_timeout(Duration::from_millis(300)).is_err(),
            "the stand-in was asked"
        );
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback URL where nothing listens: a port the kernel gave and took back.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/wsapi/2.0/verify")
}

fn config(servers: &[String]) -> YubicoServerConfig {
    YubicoServerConfig {
        client_id: CLIENT_ID.into(),
        api_key: KEY.to_vec(),
        servers: servers.to_vec(),
    }
}

fn client() -> YubicoClient {
    YubicoClient::new(None)
        .unwrap()
        .with_timeout(Duration::from_secs(2))
}

fn status(s: Status) -> Result<Option<twofold_otp::yubico::Counter>, YubicoRefusal> {
    Err(YubicoRefusal::Status(s.as_str().into()))
}

// --- The client against the stand-in ---------------------------------------------------------

#[tokio::test]
async fn ok_is_accepted_and_the_request_is_signed_with_a_fresh_nonce() {
    let server = StandIn::spawn("ok", &[]);
    let config = config(&[server.url()]);
    assert_eq!(client().verify(&config, OTP).await, Ok(None));
    let first = server.record();
    assert_eq!(first["status"], "OK");
    assert_eq!(first["signed"], true);
    assert_eq!(first["signature_ok"], true);
    let pairs = first["pairs"].as_object().unwrap();
    let mut names: Vec<&str> = pairs.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["h", "id", "nonce", "otp", "timestamp"]);
    assert_eq!(pairs["timestamp"], "1", "the key's counters are asked for");
    assert_eq!(pairs["otp"], OTP);
    let nonce = pairs["nonce"].as_str().unwrap();
    assert!(wsapi::is_valid_nonce(nonce), "{nonce}");

    assert_eq!(client().verify(&config, OTP).await, Ok(None));
    assert_ne!(server.record()["pairs"]["nonce"].as_str().unwrap(), nonce);
}

#[tokio::test]
async fn an_unsigned_client_sends_no_h() {
    let server = StandIn::spawn("ok", &[]);
    let mut config = config(&[server.url()]);
    config.api_key.clear();
    assert_eq!(client().verify(&config, OTP).await, Ok(None));
    assert_eq!(server.record()["signed"], false);
}

#[tokio::test]
async fn replayed_otp_is_refused() {
    let server = StandIn::spawn("replayed", &[]);
    let refusal = client().verify(&config(&[server.url()]), OTP).await;
    assert_eq!(refusal, status(Status::ReplayedOtp));
    assert!(
        refusal
            .unwrap_err()
            .to_string()
            .contains("already seen this OTP")
    );

    // A tracking server accepts an OTP once.
    let tracking = StandIn::spawn("ok", &["--track"]);
    let config = config(&[tracking.url()]);
    assert_eq!(client().verify(&config, OTP).await, Ok(None));
    assert_eq!(
        client().verify(&config, OTP).await,
        status(Status::ReplayedOtp)
    );
}

#[tokio::test]
async fn tampered_answers_are_refused_without_trying_further() {
    for (mode, expected) in [
        ("badsig", YubicoRefusal::BadSignature),
        ("unsigned", YubicoRefusal::BadSignature),
        ("othernonce", YubicoRefusal::NonceMismatch),
        ("otherotp", YubicoRefusal::OtpMismatch),
    ] {
        let server = StandIn::spawn(mode, &[]);
        let next = StandIn::spawn("ok", &[]);
        let result = client()
            .verify(&config(&[server.url(), next.url()]), OTP)
            .await;
        assert_eq!(result, Err(expected), "{mode}");
        assert_eq!(server.record()["status"], "OK", "{mode}");
        next.assert_no_request();
    }
}

#[tokio::test]
async fn every_other_status_is_refused_with_its_sentence() {
    for s in [
        Status::BadOtp,
        Status::OperationNotAllowed,
        Status::NotEnoughAnswers,
        Status::ReplayedRequest,
        Status::BackendError,
    ] {
        let server = StandIn::spawn(s.as_str(), &[]);
        let result = client().verify(&config(&[server.url()]), OTP).await;
        assert_eq!(result, status(s));
        assert!(result.unwrap_err().to_string().contains(s.as_str()));
    }
}

#[tokio::test]
async fn the_servers_own_refusals_are_reported() {
    let server = StandIn::spawn("ok", &[]);
    // Another key: the server refuses the request's signature, and its answer (signed with
    // the right key) does not verify with ours either.
    let mut wrong_key = config(&[server.url()]);
    wrong_key.api_key = b"not the key".to_vec();
    assert_eq!(
        client().verify(&wrong_key, OTP).await,
        Err(YubicoRefusal::BadSignature)
    );
    assert_eq!(server.record()["status"], "BAD_SIGNATURE");
    // An unknown id: yubikey-val signs NO_SUCH_CLIENT with an empty key; it is reported as such.
    let mut unknown = config(&[server.url()]);
    unknown.client_id = "88".into();
    assert_eq!(
        client().verify(&unknown, OTP).await,
        status(Status::NoSuchClient)
    );
}

#[tokio::test]
async fn the_next_server_is_tried_when_one_gives_no_usable_answer() {
    let ok = StandIn::spawn("ok", &[]);
    let down = closed_url();
    assert_eq!(
        client()
            .verify(&config(&[down.clone(), ok.url()]), OTP)
            .await,
        Ok(None)
    );
    assert_eq!(ok.record()["status"], "OK");

    for mode in ["http500", "garbage", "BACKEND_ERROR"] {
        let broken = StandIn::spawn(mode, &[]);
        assert_eq!(
            client()
                .verify(&config(&[broken.url(), ok.url()]), OTP)
                .await,
            Ok(None),
            "{mode}"
        );
        assert_eq!(ok.record()["status"], "OK");
    }

    // A server that never answers costs its timeout, then the next one answers.
    let hang = StandIn::spawn("hang", &[]);
    let quick = YubicoClient::new(None)
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    assert_eq!(
        quick.verify(&config(&[hang.url(), ok.url()]), OTP).await,
        Ok(None)
    );
}

#[tokio::test]
async fn no_server_answering_is_unreachable() {
    let servers = [closed_url(), closed_url()];
    let refusal = client().verify(&config(&servers), OTP).await;
    assert_eq!(refusal, Err(YubicoRefusal::Unreachable));
    assert_eq!(
        refusal.unwrap_err().to_string(),
        "No YubiKey validation server could be reached."
    );
    // A BACKEND_ERROR and then silence: the status is the better reason.
    let backend = StandIn::spawn("BACKEND_ERROR", &[]);
    assert_eq!(
        client()
            .verify(&config(&[backend.url(), closed_url()]), OTP)
            .await,
        status(Status::BackendError)
    );
}

#[tokio::test]
async fn unusable_settings_are_refused_before_any_request() {
    let server = StandIn::spawn("ok", &[]);
    let cases = [
        ("abc", vec![server.url()]),
        ("0", vec![server.url()]),
        (CLIENT_ID, vec![]),
        (
            CLIENT_ID,
            vec![
                server.url(),
                "http://api.yubico.com/wsapi/2.0/verify".into(),
            ],
        ),
    ];
    for (id, servers) in cases {
        let mut config = config(&servers);
        config.client_id = id.into();
        let refusal = client().verify(&config, OTP).await.unwrap_err();
        assert!(
            matches!(refusal, YubicoRefusal::Misconfigured(_)),
            "{id} {servers:?}: {refusal:?}"
        );
    }
    server.assert_no_request();
}

// --- wsapi against PyPI yubico-client ----------------------------------------------------------

fn python(code: &str, args: &[&str]) -> String {
    let output = Command::new(venv_python())
        .args(["-c", code])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn yubico_client_requests_verify_with_our_parser() {
    let query = python(
        "import sys\nfrom yubico_client import Yubico\n\
         c = Yubico(sys.argv[1], sys.argv[2])\n\
         print(c.generate_query_string(sys.argv[3], 'abcdefghijklmnopqrstuvwxy', timestamp=True, \
         sl=50, timeout=8))",
        &[CLIENT_ID, &key_b64(), OTP],
    );
    let request = VerifyRequest::parse(&query).unwrap();
    assert_eq!(request.id(), 87);
    assert_eq!(request.otp(), OTP);
    assert!(request.wants_counters());
    assert!(request.signature().is_some());
    assert!(wsapi::verify_request_signature(&request, KEY), "{query}");
    assert!(!wsapi::verify_request_signature(&request, b"other"));
    // And the same signature from our sign().
    let h = wsapi::sign(request.pairs(), KEY);
    assert_eq!(request.signature(), Some(h.as_str()));
}

#[test]
fn yubico_client_accepts_our_answers_and_refuses_tampered_ones() {
    let nonce = "abcdefghijklmnopqrstuvwxy";
    let check = "import sys\nfrom yubico_client import Yubico\n\
                 c = Yubico(sys.argv[1], sys.argv[2])\n\
                 try:\n    print(c.verify_response(sys.argv[3], sys.argv[4], sys.argv[5]))\n\
                 except Exception as e:\n    print(type(e).__name__)";
    let ok = VerifyResponse::new(Status::Ok)
        .echo(OTP, nonce)
        .sync_level(100)
        .body(KEY, 1_290_540_600_123);
    let verdict =
        |body: &str, key: &[u8]| python(check, &[CLIENT_ID, &BASE64.encode(key), body, OTP, nonce]);
    assert_eq!(verdict(&ok, KEY), "True");
    assert_eq!(verdict(&ok, b"other"), "SignatureVerificationError");
    let replayed = VerifyResponse::new(Status::ReplayedOtp)
        .echo(OTP, nonce)
        .body(KEY, 0);
    assert_eq!(verdict(&replayed, KEY), "StatusCodeError");
    let other_nonce = VerifyResponse::new(Status::Ok)
        .echo(OTP, "zzzzzzzzzzzzzzzzzzzzzzzzz")
        .body(KEY, 0);
    assert_eq!(verdict(&other_nonce, KEY), "InvalidValidationResponse");
}

#[test]
fn yubico_client_accepts_the_stand_in() {
    let server = StandIn::spawn("ok", &["--track"]);
    let code = "import sys\nfrom yubico_client import Yubico\n\
                c = Yubico(sys.argv[1], sys.argv[2], api_urls=[sys.argv[3]])\n\
                try:\n    print(c.verify(sys.argv[4]))\n\
                except Exception as e:\n    print(type(e).__name__)";
    let url = server.url();
    let args = [CLIENT_ID, &key_b64(), &url, OTP];
    assert_eq!(python(code, &args), "True");
    let record = server.record();
    assert_eq!(record["signature_ok"], true);
    assert_eq!(python(code, &args), "StatusCodeError");
}

#[tokio::test]
async fn the_keys_counters_come_back_with_an_ok_and_a_used_counter_is_replayed() {
    use twofold_otp::yubico::{AesKey, Counter, OtpFields, PrivateId, modhex_decode};
    let aes = "00112233445566778899aabbccddeeff";
    let key = AesKey::from_hex(aes).unwrap();
    let public = modhex_decode("vvccccdhkjkb").unwrap();
    let otp_at = |use_counter: u16, session: u8| {
        OtpFields {
            private_id: PrivateId([1; 6]),
            use_counter_raw: use_counter,
            timestamp: 1234,
            session_counter: session,
            random: 9,
        }
        .encrypt(&key, &public)
        .to_modhex()
    };
    let server = StandIn::spawn("ok", &["--yubikey", &format!("vvccccdhkjkb={aes}")]);
    let config = config(&[server.url()]);
    assert_eq!(
        client().verify(&config, &otp_at(7, 3)).await,
        Ok(Some(Counter {
            use_counter: 7,
            session_counter: 3
        }))
    );
    assert_eq!(
        client().verify(&config, &otp_at(7, 3)).await,
        status(Status::ReplayedOtp)
    );
    assert_eq!(
        client().verify(&config, &otp_at(7, 2)).await,
        status(Status::ReplayedOtp)
    );
    // An OTP of a key the server does not know.
    let stranger = OtpFields {
        private_id: PrivateId([1; 6]),
        use_counter_raw: 1,
        timestamp: 1,
        session_counter: 1,
        random: 1,
    }
    .encrypt(&AesKey::from_bytes([9; 16]), &public)
    .to_modhex();
    assert_eq!(
        client().verify(&config, &stranger).await,
        status(Status::BadOtp)
    );
}
