//! The Duo adapter against a stand-in Duo (`duo_server.py`: HTTPS on loopback under a certificate
//! made here with the openssl CLI, speaking the Universal Prompt's OIDC endpoints and the Auth
//! API). First the stand-in is proven faithful with Duo's own client libraries (PyPI
//! `duo-universal` and `duo-client`, driven by `duo_sdk_check.py`), then `DuoClient` is tested
//! against it. The Python venv comes from `./scripts/test` (`$TWOFOLD_TEST_VENV`, default
//! `target/test-venv`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use twofold_core::clock::{Clock, ManualClock, SystemClock};
use twofold_core::duo::{AuthOutcome, Duo, DuoAuthConfig, DuoError, DuoWebConfig, Preauth};
use twofold_delivery::DuoClient;

const CLIENT_ID: &str = "DIWEBSDKCLIENT000001";
const CLIENT_SECRET: &str = "webSdkClientSecret0000000000000000000001";
const IKEY: &str = "DIAUTHAPIIKEY0000001";
const SKEY: &str = "authApiSecretKey000000000000000000000001";
const REDIRECT: &str = "https://twofold.example.org/login/duo/callback";

// --- Tools ------------------------------------------------------------------------------------

fn venv_python() -> PathBuf {
    let venv = std::env::var_os("TWOFOLD_TEST_VENV").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-venv"),
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: ./scripts/test creates the test venv (duo-client, duo-universal)",
        python.display()
    );
    python
}

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// A self-signed certificate for 127.0.0.1 and localhost, trusted as the extra CA.
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
        let output = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec"])
            .args(["-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
            .args(["-days", "2", "-subj", "/CN=127.0.0.1"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
            .args(["-addext", "basicConstraints=critical,CA:FALSE"])
            .args(["-addext", "extendedKeyUsage=serverAuth"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(Stdio::piped())
            .output()
            .unwrap_or_else(|e| panic!("cannot run openssl: {e}; ./scripts/test installs it"));
        assert!(
            output.status.success(),
            "openssl failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
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

/// The stand-in Duo, with the users the tests use. Killed when dropped.
struct StandIn {
    cert: Cert,
    child: Child,
    port: u16,
    _lines: Receiver<String>,
}

impl StandIn {
    fn start() -> StandIn {
        let cert = Cert::new();
        let mut child = Command::new(venv_python())
            .arg(script("duo_server.py"))
            .arg("--cert")
            .arg(&cert.cert)
            .arg("--key")
            .arg(&cert.key)
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .args(["--ikey", IKEY, "--skey", SKEY])
            .args(["--user", "alice=approve", "--user", "bob=deny"])
            .args(["--user", "carol=ignore", "--user", "dave=bypass"])
            .args(["--user", "erin=locked", "--passcode", "alice=123456"])
            .args(["--user", "zo\u{eb}=approve"])
            .args(["--push-delay", "0.3", "--long-poll", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start duo_server.py: {e}; run ./scripts/test"));
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        // Drains the request records, so the stand-in never blocks on a full pipe.
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
            .unwrap_or_else(|e| panic!("duo_server.py did not start ({e}); run ./scripts/test"));
        let port = ready
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("duo_server.py said {ready:?}"));
        StandIn {
            cert,
            child,
            port,
            _lines: lines,
        }
    }

    fn api_host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn web(&self) -> DuoWebConfig {
        DuoWebConfig {
            api_host: self.api_host(),
            client_id: CLIENT_ID.into(),
            client_secret: CLIENT_SECRET.into(),
        }
    }

    fn auth(&self) -> DuoAuthConfig {
        DuoAuthConfig {
            api_host: self.api_host(),
            ikey: IKEY.into(),
            skey: SKEY.into(),
        }
    }

    fn duo(&self) -> DuoClient {
        DuoClient::new(Some(self.cert.pem())).unwrap()
    }

    /// A browser stand-in: trusts the certificate, follows no redirect.
    fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&self.cert.pem()).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// Sets the stand-in's misbehaviour knobs.
    async fn knobs(&self, knobs: &[&str]) {
        let body = serde_json::json!({ "misbehave": knobs }).to_string();
        let response = self
            .browser()
            .post(format!("https://{}/_standin/config", self.api_host()))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    /// Opens the Universal Prompt at `url`, presses `decision` and returns the query parameters
    /// of the redirect to [`REDIRECT`].
    async fn prompt(&self, url: &str, decision: &str) -> Vec<(String, String)> {
        let browser = self.browser();
        let page = browser.get(url).send().await.unwrap();
        assert_eq!(page.status(), 200, "the stand-in refused the authorize URL");
        let page = page.text().await.unwrap();
        let prompt = page
            .split(r#"name="prompt" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the prompt page has no form");
        assert!(page.contains(&format!(r#"value="{decision}""#)));
        let answer = browser
            .post(format!("https://{}/frame/prompt", self.api_host()))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("prompt={prompt}&decision={decision}"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 302);
        let location = answer.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
        reqwest::Url::parse(&location)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn stop(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.api_host()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A state or nonce: 36 random-looking characters.
fn token(seed: &str) -> String {
    format!("{seed:-<36}")
}

// --- The stand-in, proven with Duo's own libraries --------------------------------------------

#[test]
fn the_official_sdks_accept_the_stand_in() {
    let duo = StandIn::start();
    let output = Command::new(venv_python())
        .arg(script("duo_sdk_check.py"))
        .arg(duo.port.to_string())
        .arg(&duo.cert.cert)
        .args([CLIENT_ID, CLIENT_SECRET, IKEY, SKEY])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.ends_with("ALL OK\n"),
        "duo_sdk_check.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The checks that matter most, by name.
    for check in [
        "ok: duo_universal health_check",
        "ok: duo_universal exchanges the code and verifies the id_token (allow)",
        "ok: duo_client's Auth signs with signature version 5 by default",
        "ok: async push approved",
        "ok: passcode right",
        "ok: check with a tampered signature",
        "ok: health_check with a wrong secret",
        "ok: a health check with an expired client assertion",
    ] {
        assert!(stdout.contains(check), "missing {check:?} in:\n{stdout}");
    }
}

// --- Universal Prompt -------------------------------------------------------------------------

#[tokio::test]
async fn health_check() {
    let duo = StandIn::start();
    let client = duo.duo();
    client.health_check(&duo.web()).await.unwrap();

    let mut wrong = duo.web();
    wrong.client_secret = "x".repeat(40);
    let error = client.health_check(&wrong).await.unwrap_err();
    assert!(matches!(error, DuoError::Refused(_)), "{error:?}");
    assert!(!error.message().contains(&wrong.client_secret));

    let mut wrong = duo.web();
    wrong.client_id = "DIUNKNOWNCLIENT00001".into();
    let error = client.health_check(&wrong).await.unwrap_err();
    assert!(matches!(error, DuoError::Refused(_)), "{error:?}");

    // Shapes duo_universal refuses before sending anything.
    let mut short = duo.web();
    short.client_secret = "short".into();
    let error = client.health_check(&short).await.unwrap_err();
    assert!(matches!(error, DuoError::Refused(_)), "{error:?}");
}

#[tokio::test]
async fn universal_prompt_approve_and_deny() {
    let duo = StandIn::start();
    let client = duo.duo();
    let config = duo.web();
    let (state, nonce) = (token("state-1"), token("nonce-1"));
    let url = client
        .authorize_url(&config, "alice", &state, &nonce, REDIRECT)
        .unwrap();
    assert!(url.starts_with(&format!("https://{}/oauth/v1/authorize?", duo.api_host())));

    let back = duo.prompt(&url, "approve").await;
    assert_eq!(param(&back, "state"), Some(state.as_str()));
    let code = param(&back, "duo_code").expect("no duo_code").to_owned();
    client
        .exchange_code(&config, &code, REDIRECT, &nonce, "alice")
        .await
        .unwrap();
    // A code is used once.
    let error = client
        .exchange_code(&config, &code, REDIRECT, &nonce, "alice")
        .await
        .unwrap_err();
    assert!(matches!(error, DuoError::Refused(_)), "{error:?}");

    // Deny: an error redirect with the state and no code.
    let state = token("state-2");
    let url = client
        .authorize_url(&config, "alice", &state, &token("nonce-2"), REDIRECT)
        .unwrap();
    let back = duo.prompt(&url, "deny").await;
    assert_eq!(param(&back, "error"), Some("access_denied"));
    assert_eq!(param(&back, "state"), Some(state.as_str()));
    assert_eq!(param(&back, "duo_code"), None);

    // Our own checks: another nonce or another user than the login's.
    for (nonce, user) in [(token("other-nonce"), "alice"), (token("nonce-3"), "bob")] {
        let url = client
            .authorize_url(
                &config,
                "alice",
                &token("state-3"),
                &token("nonce-3"),
                REDIRECT,
            )
            .unwrap();
        let back = duo.prompt(&url, "approve").await;
        let code = param(&back, "duo_code").unwrap();
        let error = client
            .exchange_code(&config, code, REDIRECT, &nonce, user)
            .await
            .unwrap_err();
        assert!(matches!(error, DuoError::Invalid(_)), "{error:?}");
    }

    // A wrong redirect URI at the exchange.
    let url = client
        .authorize_url(
            &config,
            "alice",
            &token("state-4"),
            &token("nonce-4"),
            REDIRECT,
        )
        .unwrap();
    let back = duo.prompt(&url, "approve").await;
    let error = client
        .exchange_code(
            &config,
            param(&back, "duo_code").unwrap(),
            "https://elsewhere.example.org/cb",
            &token("nonce-4"),
            "alice",
        )
        .await
        .unwrap_err();
    assert!(matches!(error, DuoError::Refused(_)), "{error:?}");
}

#[tokio::test]
async fn the_stand_in_refuses_a_tampered_or_foreign_authorize_url() {
    let duo = StandIn::start();
    let client = duo.duo();
    let url = client
        .authorize_url(&duo.web(), "alice", &token("s"), &token("n"), REDIRECT)
        .unwrap();
    // The request JWT's signature changed: its first character, then (bits the decoder might
    // ignore) its last.
    let start = url.find("request=").unwrap() + "request=".len();
    let end = url[start..].find('&').map_or(url.len(), |i| start + i);
    let signature = url[start..end].rfind('.').unwrap() + start + 1;
    for at in [signature, end - 1] {
        let mut tampered = url.clone();
        let old = &url[at..=at];
        tampered.replace_range(at..=at, if old == "A" { "B" } else { "A" });
        let page = duo.browser().get(&tampered).send().await.unwrap();
        assert_eq!(page.status(), 400, "{tampered}");
    }

    let mut wrong = duo.web();
    wrong.client_secret = "y".repeat(40);
    let url = client
        .authorize_url(&wrong, "alice", &token("s"), &token("n"), REDIRECT)
        .unwrap();
    let page = duo.browser().get(&url).send().await.unwrap();
    assert_eq!(page.status(), 400);
}

#[tokio::test]
async fn misbehaving_id_tokens_are_refused() {
    let duo = StandIn::start();
    let client = duo.duo();
    let config = duo.web();
    for knob in [
        "other-secret",
        "wrong-nonce",
        "no-nonce",
        "other-username",
        "expired",
        "future-iat",
        "wrong-iss",
        "wrong-aud",
        "alg-none",
        "deny-result",
    ] {
        duo.knobs(&[knob]).await;
        let nonce = token(knob);
        let url = client
            .authorize_url(&config, "alice", &token("state"), &nonce, REDIRECT)
            .unwrap();
        let back = duo.prompt(&url, "approve").await;
        let error = client
            .exchange_code(
                &config,
                param(&back, "duo_code").unwrap(),
                REDIRECT,
                &nonce,
                "alice",
            )
            .await
            .unwrap_err();
        if knob == "deny-result" {
            assert!(matches!(error, DuoError::Refused(_)), "{knob}: {error:?}");
        } else {
            assert!(matches!(error, DuoError::Invalid(_)), "{knob}: {error:?}");
        }
        assert!(!error.message().contains(CLIENT_SECRET));
    }
}

#[tokio::test]
async fn expired_jwts_and_old_dates_are_refused() {
    let duo = StandIn::start();
    let real_now = SystemClock.now();
    let late = duo
        .duo()
        .with_clock(Arc::new(ManualClock::new(real_now - 3600)));
    let error = late.health_check(&duo.web()).await.unwrap_err();
    assert!(matches!(error, DuoError::Refused(_)), "{error:?}");
    let error = late.auth_check(&duo.auth()).await.unwrap_err();
    assert!(matches!(error, DuoError::Refused(_)), "{error:?}");
    let url = late
        .authorize_url(&duo.web(), "alice", &token("s"), &token("n"), REDIRECT)
        .unwrap();
    let page = duo.browser().get(&url).send().await.unwrap();
    assert_eq!(page.status(), 400);
}

// --- Auth API ---------------------------------------------------------------------------------

#[tokio::test]
async fn auth_api_check_and_preauth() {
    let duo = StandIn::start();
    let client = duo.duo();
    let config = duo.auth();
    client.auth_check(&config).await.unwrap();

    let mut wrong = duo.auth();
    wrong.skey = "z".repeat(40);
    let error = client.auth_check(&wrong).await.unwrap_err();
    assert!(matches!(error, DuoError::Refused(_)), "{error:?}");
    assert!(!error.message().contains(&wrong.skey));
    let mut wrong = duo.auth();
    wrong.ikey = "DIOTHERIKEY000000000".into();
    let error = client.preauth(&wrong, "alice").await.unwrap_err();
    assert!(matches!(error, DuoError::Refused(_)), "{error:?}");

    assert_eq!(client.preauth(&config, "alice").await, Ok(Preauth::Auth));
    assert_eq!(client.preauth(&config, "dave").await, Ok(Preauth::Allow));
    assert!(matches!(
        client.preauth(&config, "erin").await,
        Ok(Preauth::Deny(_))
    ));
    assert_eq!(client.preauth(&config, "nobody").await, Ok(Preauth::Enroll));
    // A name beyond ASCII: the signed JSON body escapes it as duo_client does.
    assert_eq!(client.preauth(&config, "zo\u{eb}").await, Ok(Preauth::Auth));
    assert_eq!(
        client
            .push(&config, "zo\u{eb}", Duration::from_secs(60))
            .await,
        Ok(AuthOutcome::Allow)
    );
}

#[tokio::test]
async fn pushes_approved_denied_and_timed_out() {
    let duo = StandIn::start();
    let client = duo.duo();
    let config = duo.auth();
    let minute = Duration::from_secs(60);
    assert_eq!(
        client.push(&config, "alice", minute).await,
        Ok(AuthOutcome::Allow)
    );
    assert_eq!(
        client.push(&config, "bob", minute).await,
        Ok(AuthOutcome::Deny("Login request denied.".into()))
    );
    assert_eq!(
        client
            .push(&config, "carol", Duration::from_millis(2500))
            .await,
        Ok(AuthOutcome::Timeout)
    );
    assert_eq!(
        client.push(&config, "dave", minute).await,
        Ok(AuthOutcome::Allow)
    );
    assert!(matches!(
        client.push(&config, "erin", minute).await,
        Ok(AuthOutcome::Deny(_))
    ));
}

#[tokio::test]
async fn passcodes_right_and_wrong() {
    let duo = StandIn::start();
    let client = duo.duo();
    let config = duo.auth();
    assert!(matches!(
        client.passcode(&config, "alice", "000000").await,
        Ok(AuthOutcome::Deny(_))
    ));
    assert_eq!(
        client.passcode(&config, "alice", "123456").await,
        Ok(AuthOutcome::Allow)
    );
    // Used once.
    assert!(matches!(
        client.passcode(&config, "alice", "123456").await,
        Ok(AuthOutcome::Deny(_))
    ));
}

// --- Failures ---------------------------------------------------------------------------------

#[tokio::test]
async fn a_stopped_or_failing_duo_is_unreachable() {
    let duo = StandIn::start();
    let client = duo.duo();
    let (web, auth) = (duo.web(), duo.auth());

    duo.knobs(&["server-error"]).await;
    let error = client.health_check(&web).await.unwrap_err();
    assert!(matches!(error, DuoError::Unreachable(_)), "{error:?}");
    let error = client.auth_check(&auth).await.unwrap_err();
    assert!(matches!(error, DuoError::Unreachable(_)), "{error:?}");

    duo.stop();
    let error = client.health_check(&web).await.unwrap_err();
    assert!(error.is_unreachable(), "{error:?}");
    let error = client.auth_check(&auth).await.unwrap_err();
    assert!(error.is_unreachable(), "{error:?}");
    let error = client
        .push(&auth, "alice", Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(error.is_unreachable(), "{error:?}");
    let error = client.passcode(&auth, "alice", "123456").await.unwrap_err();
    assert!(error.is_unreachable(), "{error:?}");
    let error = client
        .exchange_code(&web, "code", REDIRECT, &token("n"), "alice")
        .await
        .unwrap_err();
    assert!(error.is_unreachable(), "{error:?}");
}

/// Twofold's attempt timeout for one request to Duo (`ATTEMPT_TIMEOUT` in the crate).
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_duo_that_does_not_answer_in_time_is_unreachable() {
    let duo = StandIn::start();
    let client = duo.duo();
    let (web, auth) = (duo.web(), duo.auth());
    // Duo takes each request and answers nothing for longer than the attempt timeout. All the
    // calls at once, so the test waits for one timeout only.
    duo.knobs(&["hang"]).await;
    let nonce = token("n");
    #[allow(clippy::disallowed_methods)] // the test measures how long the client waited
    let started = std::time::Instant::now();
    let (health, check, preauth, push, passcode, exchange) = tokio::join!(
        client.health_check(&web),
        client.auth_check(&auth),
        client.preauth(&auth, "alice"),
        client.push(&auth, "alice", Duration::from_secs(60)),
        client.passcode(&auth, "alice", "123456"),
        client.exchange_code(&web, "code", REDIRECT, &nonce, "alice"),
    );
    let waited = started.elapsed();
    let timed_out = DuoError::Unreachable("Duo did not answer in time.".into());
    assert_eq!(health, Err(timed_out.clone()), "health check");
    assert_eq!(check, Err(timed_out.clone()), "check");
    assert_eq!(preauth, Err(timed_out.clone()), "preauth");
    assert_eq!(push, Err(timed_out.clone()), "push");
    assert_eq!(passcode, Err(timed_out.clone()), "passcode");
    assert_eq!(exchange, Err(timed_out.clone()), "token exchange");
    assert!(timed_out.is_unreachable());
    assert!(
        waited >= ATTEMPT_TIMEOUT - Duration::from_millis(100) && waited < 3 * ATTEMPT_TIMEOUT,
        "the client gave up after its attempt timeout, not at once nor never: {waited:?}"
    );

    // Answering again, it is Duo again.
    duo.knobs(&[]).await;
    client.auth_check(&auth).await.unwrap();
}

#[tokio::test]
async fn an_untrusted_certificate_is_not_duo() {
    let duo = StandIn::start();
    let client = DuoClient::new(None).unwrap();
    let error = client.health_check(&duo.web()).await.unwrap_err();
    assert_eq!(
        error,
        DuoError::Unreachable("A secure connection to Duo could not be made.".into())
    );
}

#[tokio::test]
async fn plain_http_is_never_used() {
    let duo = StandIn::start();
    let client = duo.duo();
    for host in [
        format!("http://{}", duo.api_host()),
        format!("https://{}", duo.api_host()),
        format!("{}/oauth", duo.api_host()),
    ] {
        let mut web = duo.web();
        web.api_host.clone_from(&host);
        let error = client.health_check(&web).await.unwrap_err();
        assert!(matches!(error, DuoError::Refused(_)), "{host}: {error:?}");
        let error = client
            .authorize_url(&web, "alice", &token("s"), &token("n"), REDIRECT)
            .unwrap_err();
        assert!(matches!(error, DuoError::Refused(_)), "{host}: {error:?}");
        let mut auth = duo.auth();
        auth.api_host = host.clone();
        let error = client.auth_check(&auth).await.unwrap_err();
        assert!(matches!(error, DuoError::Refused(_)), "{host}: {error:?}");
    }
}

#[test]
fn debug_output_hides_the_secrets() {
    let web = DuoWebConfig {
        api_host: "api-x.duosecurity.com".into(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
    };
    let auth = DuoAuthConfig {
        api_host: "api-x.duosecurity.com".into(),
        ikey: IKEY.into(),
        skey: SKEY.into(),
    };
    let shown = format!("{web:?} {auth:?}");
    assert!(shown.contains(CLIENT_ID) && shown.contains(IKEY));
    assert!(!shown.contains(CLIENT_SECRET) && !shown.contains(SKEY));
}
