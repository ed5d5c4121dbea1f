//! The steps around the second factor, tried as an attacker would: the password throttle and
//! the device cookie, parallel bursts, oversized usernames, password hashing under a login flood,
//! step-up for sensitive actions, session lifetimes and revocation, double-submitted codes and
//! escalating lockouts. Servers started "later" use `TWOFOLD_TEST_CLOCK_OFFSET` instead of
//! waiting.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::on_both;
use crate::portal::{Browser, PASSWORD, add_user, admin_api, confirmed_totp, user_json};
use crate::support::{Db, Env, Server, now};

on_both!(
    a_browser_that_signed_in_before_is_not_locked_out_by_guesses_at_its_username,
    parallel_password_guesses_cannot_outrun_the_throttle,
    malformed_usernames_are_refused_without_a_write,
    step_up_guards_sensitive_actions_and_counts_in_the_throttle,
    sessions_end_on_password_change_reset_disable_and_last_factor,
    sessions_end_when_idle_and_after_their_maximum_age,
    a_burst_of_the_right_code_locks_nobody,
    lockouts_in_a_row_last_twice_as_long,
    logins_whose_clients_vanish_leave_no_transaction_behind,
    a_count_left_at_the_threshold_by_a_dead_process_locks_instead_of_refusing_for_ever,
);

/// Runs one SQL statement on the test's database (as a process that died mid-check would have
/// left it).
fn sql(env: &Env, statement: &str) {
    let out = match env.db {
        Db::Sqlite => std::process::Command::new("python3")
            .args([
                "-c",
                "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nc.execute(sys.argv[2])\nc.commit()",
            ])
            .arg(env.data_dir().join("twofold.db"))
            .arg(statement)
            .output()
            .unwrap(),
        Db::Postgres => std::process::Command::new("psql")
            .args([&env.database_url, "-q", "-c", statement])
            .output()
            .unwrap(),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A TOTP code for `secret` at the server's time when it runs `offset` seconds ahead.
fn totp_at(secret: &str, offset: i64) -> String {
    let t = now() as i64 + offset;
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-b", &format!("-N@{t}"), secret])
        .output()
        .expect("oathtool");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A server whose clock runs `offset` seconds ahead, trusting loopback as a proxy (so tests can
/// speak from several client addresses).
fn serve_at(env: &Env, offset: i64) -> Server {
    env.serve_with(&[
        ("TWOFOLD_TEST_CLOCK_OFFSET", &offset.to_string()),
        ("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1"),
    ])
}

/// A browser that reaches the server through a trusted proxy from `ip`.
fn browser_from(server: &Server, ip: &str) -> Browser {
    let mut b = Browser::new(server);
    b.headers
        .push(("X-Forwarded-For".to_owned(), ip.to_owned()));
    b
}

fn csrf_of(b: &mut Browser) -> String {
    b.get("/account/security").csrf()
}

/// Fires `n` password logins at once, each from its own browser (same login form token and
/// `tf_pre` cookie); returns their statuses.
fn burst_of_logins(server: &Server, n: usize, user: &str, password: &str, ips: bool) -> Vec<u16> {
    let mut first = Browser::new(server);
    let csrf = first.get("/login").csrf();
    let pre = first.cookie("tf_pre").unwrap();
    let barrier = Arc::new(Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let base = server.base.clone();
            let (csrf, pre, user, password) = (
                csrf.clone(),
                pre.clone(),
                user.to_owned(),
                password.to_owned(),
            );
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .build()
                    .into();
                let body = format!(
                    "csrf={csrf}&username={user}&password={}",
                    password.replace(' ', "+")
                );
                let mut req = agent
                    .post(format!("{base}/login"))
                    .header("Cookie", format!("tf_pre={pre}"))
                    .header("Content-Type", "application/x-www-form-urlencoded");
                if ips {
                    req = req.header("X-Forwarded-For", format!("198.51.100.{}", i + 1));
                }
                barrier.wait();
                req.send(body).unwrap().status().as_u16()
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

fn a_browser_that_signed_in_before_is_not_locked_out_by_guesses_at_its_username(db: Db) {
    let env = Env::new(db);
    let server = serve_at(&env, 0);
    add_user(&env, "ann", "client", &[]);
    add_user(&env, "bob", "client", &[]);

    // The owner signs in fully once: the browser gets a long-lived, HttpOnly device cookie.
    let mut owner = browser_from(&server, "192.0.2.10");
    let r = owner.login("ann", PASSWORD, "");
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
    let device = r.set_cookie("tf_device").expect("a device cookie");
    assert!(
        device.contains("HttpOnly") && device.contains("SameSite=Lax"),
        "{device}"
    );
    assert!(device.contains("Max-Age=31536000"), "{device}");
    let csrf = csrf_of(&mut owner);
    owner.post("/logout", &[("csrf", &csrf)]);

    // Someone guesses at a username from other addresses until it is throttled (the block is
    // at least a second long then, so the next step sees it).
    let guess_until_throttled = |user: &str, from: &str| {
        for i in 0..40 {
            let mut attacker = browser_from(&server, &format!("{from}{}", i % 4));
            match attacker.login(user, "guess", "").status {
                401 => {}
                429 => return,
                s => panic!("unexpected {s}"),
            }
        }
        panic!("guesses at {user} were never throttled");
    };
    guess_until_throttled("ann", "203.0.113.");
    // A new browser of the right person is throttled like everyone else…
    let mut stranger = browser_from(&server, "192.0.2.11");
    assert_eq!(stranger.login("ann", PASSWORD, "").status, 429);
    // …but the browser that signed in as ann before is not: the username's count is not its.
    let r = owner.login("ann", PASSWORD, "");
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
    // The device cookie is ann's: it does not lift bob's throttle.
    let csrf = csrf_of(&mut owner);
    owner.post("/logout", &[("csrf", &csrf)]);
    guess_until_throttled("bob", "203.0.114.");
    assert_eq!(owner.login("bob", PASSWORD, "").status, 429);
    // A browser with a device cookie is throttled by its own failures.
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(owner.login("ann", "wrong", "").status);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
}

fn parallel_password_guesses_cannot_outrun_the_throttle(db: Db) {
    let env = Env::new(db);
    let server = serve_at(&env, 0);
    add_user(&env, "cal", "client", &[]);
    // Forty guesses at once, each from its own address: only the free attempts of the
    // username are checked; the rest wait (429) without a password check.
    let statuses = burst_of_logins(&server, 40, "cal", "wrong guess", true);
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    // Five, or six when the burst outlasted the 2 s block after the fifth (a slow machine).
    assert!((5..=6).contains(&checked), "{statuses:?}");
    assert_eq!(checked + throttled, 40, "{statuses:?}");
    // The username is compared without regard to case or surrounding spaces: one key.
    let mut b = browser_from(&server, "192.0.2.77");
    assert_eq!(b.login(" CAL ", PASSWORD, "").status, 429);
}

fn malformed_usernames_are_refused_without_a_write(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    add_user(&env, "dee", "client", &[]);
    let before = env.database_bytes().len();
    let huge = "x".repeat(1024 * 1024);
    let mut b = Browser::new(&server);
    for name in [huge.as_str(), "", "bad name", "<script>"] {
        for _ in 0..5 {
            let r = b.login(name, "wrong", "");
            assert_eq!(r.status, 401, "{}", &r.body[..r.body.len().min(300)]);
            assert!(r.body.contains("Incorrect username or password."));
        }
    }
    // Twenty refusals wrote nothing: no counter grew (the right password goes through at once
    // from the same address), and the database did not grow with the names.
    let r = b.login("dee", PASSWORD, "");
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
    let after = env.database_bytes().len();
    assert!(
        after < before + 256 * 1024,
        "the database grew from {before} to {after} bytes"
    );
}

fn step_up_guards_sensitive_actions_and_counts_in_the_throttle(db: Db) {
    let env = Env::new(db);
    let server = serve_at(&env, 0);
    let api = admin_api(&env, &server);
    add_user(&env, "eve", "client", &[]);
    let (factor, secret, codes) = confirmed_totp(&api, "eve", "phone");
    let mut b = Browser::new(&server);
    b.login_with_backup_code("eve", &codes[0]);
    // Just signed in with both: no need to confirm again.
    let csrf = csrf_of(&mut b);
    let r = b.post("/account/security/backup-codes/new", &[("csrf", &csrf)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Record your backup codes"));
    let codes: Vec<String> = r
        .body
        .split("<li>")
        .skip(1)
        .map(|c| c[..c.find('<').unwrap()].to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{}", r.body);
    drop(server);

    // Ten minutes later the same session must confirm it is eve before anything sensitive.
    let server = serve_at(&env, 600);
    b.at(&server);
    let csrf = csrf_of(&mut b);
    for path in [
        "/account/security/backup-codes/new".to_owned(),
        format!("/account/security/factors/{factor}/remove"),
        "/account/security/backup-codes/view".to_owned(),
        "/account/security/disable".to_owned(),
        "/account/security/enroll".to_owned(),
    ] {
        let r = b.post(&path, &[("csrf", csrf.as_str()), ("kind", "totp")]);
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        assert!(r.body.contains("Confirm it is you"), "{path}");
        assert!(
            r.body.contains("name=\"code\""),
            "eve has 2FA: a code is asked for"
        );
    }
    // Adding a device asks too (a stolen session must not plant a factor of its own).
    let r = b.get("/account/security/enroll");
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("Confirm it is you"));
    // Nothing changed: the factor and the codes are there.
    let api = admin_api(&env, &server);
    assert_eq!(
        user_json(&api, "eve")["factors"].as_array().unwrap().len(),
        1
    );
    assert_eq!(user_json(&api, "eve")["backup_codes_remaining"], 10);

    // The password alone is not enough, and a wrong code counts towards the lockout.
    let step_up = |b: &mut Browser, password: &str, code: &str, action: &str, factor: &str| {
        let csrf = csrf_of(b);
        b.post(
            "/account/security/step-up",
            &[
                ("csrf", &csrf),
                ("password", password),
                ("code", code),
                ("action", action),
                ("factor", factor),
            ],
        )
    };
    // An action the form cannot carry changes nothing.
    let r = step_up(&mut b, PASSWORD, "000000", "drop-tables", "");
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
    let r = step_up(&mut b, PASSWORD, "000000", "new-codes", "");
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(user_json(&api, "eve")["backup_codes_remaining"], 10);
    // Password and a current code: the action runs (new codes replace the old ones).
    let r = step_up(&mut b, PASSWORD, &totp_at(&secret, 600), "new-codes", "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Record your backup codes"));
    let old = api.validate("eve", &codes[1]);
    assert_eq!(old["ok"], false, "the old codes stopped working");
    // A device that is not eve's is not found, and nothing goes.
    let csrf = csrf_of(&mut b);
    let r = b.post(
        "/account/security/factors/not-a-factor-id/remove",
        &[("csrf", &csrf)],
    );
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(
        user_json(&api, "eve")["factors"].as_array().unwrap().len(),
        1
    );
    // Within five minutes the next sensitive action needs nothing more. Removing the last
    // factor signs eve out everywhere.
    let csrf = csrf_of(&mut b);
    let r = b.post(
        &format!("/account/security/factors/{factor}/remove"),
        &[("csrf", &csrf)],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/login?notice=last_device_removed"),
        "{}",
        r.body
    );
    assert!(
        b.get("/account/security")
            .location
            .unwrap()
            .starts_with("/login")
    );

    // Password checks at the step-up count in the throttle like logins.
    add_user(&env, "fred", "client", &[]);
    let mut f = Browser::new(&server);
    let r = f.login("fred", PASSWORD, "");
    assert_eq!(r.location.as_deref(), Some("/account/security"));
    drop(server);
    let server = serve_at(&env, 1200);
    f.at(&server);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(step_up(&mut f, "wrong password", "", "view-codes", "").status);
    }
    assert_eq!(&statuses[..5], [422; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
}

/// Whether the browser's session still opens Security Settings.
fn signed_in(b: &mut Browser) -> bool {
    b.get("/account/security").status == 200
}

fn sessions_end_on_password_change_reset_disable_and_last_factor(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    let api = admin_api(&env, &server);
    add_user(&env, "gil", "client", &[]);
    let mut b = Browser::new(&server);
    let mut other = Browser::new(&server);
    let login = |b: &mut Browser, password: &str| {
        let r = b.login("gil", password, "");
        assert_eq!(
            r.location.as_deref(),
            Some("/account/security"),
            "{}",
            r.body
        );
    };

    // A password change (here by the operator) ends every session.
    login(&mut b, PASSWORD);
    login(&mut other, PASSWORD);
    let out = env.cli_stdin(
        &["user", "set-password", "gil", "--password-stdin"],
        "new password 1\n",
    );
    assert!(out.status.success());
    assert!(!signed_in(&mut b) && !signed_in(&mut other));

    // So does disabling the user.
    login(&mut b, "new password 1");
    let r = api.patch("/api/v1/users/gil", json!({"disabled": true}));
    assert_eq!(r.status, 200);
    api.patch("/api/v1/users/gil", json!({"disabled": false}));
    assert!(!signed_in(&mut b));

    // A 2FA reset.
    let (factor, _, codes) = confirmed_totp(&api, "gil", "phone");
    let r = b.login("gil", "new password 1", "");
    assert_eq!(r.location.as_deref(), Some("/login/2fa"));
    b.second_factor(&codes[0], true);
    assert!(signed_in(&mut b));
    assert_eq!(api.delete("/api/v1/users/gil/factors").status, 204);
    assert!(!signed_in(&mut b));

    // The removal of the last factor.
    let (factor2, _, codes) = confirmed_totp(&api, "gil", "phone");
    assert_ne!(factor, factor2);
    b.login("gil", "new password 1", "");
    b.second_factor(&codes[0], true);
    assert!(signed_in(&mut b));
    assert_eq!(
        api.delete(&format!("/api/v1/users/gil/factors/{factor2}"))
            .status,
        204
    );
    assert!(!signed_in(&mut b));

    // In the portal: the list shows both browsers; a password change there signs both out,
    // and the list after signing in again has only the new session.
    login(&mut b, "new password 1");
    login(&mut other, "new password 1");
    let page = b.get("/account/security");
    assert_eq!(
        page.body.matches("aria-label=\"Sign out ").count(),
        2,
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("(this browser)</strong>").count(), 1);
    let csrf = page.csrf();
    let r = b.post(
        "/account/security/password",
        &[
            ("csrf", &csrf),
            ("current", "new password 1"),
            ("new", "new password 2"),
            ("confirm", "new password 2"),
        ],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/login?notice=password_changed"),
        "{}",
        r.body
    );
    assert!(!signed_in(&mut b) && !signed_in(&mut other));
    login(&mut b, "new password 2");
    let page = b.get("/account/security");
    assert_eq!(
        page.body.matches("aria-label=\"Sign out ").count(),
        1,
        "{}",
        page.body
    );

    // "Sign out" of another session, and "Sign out everywhere".
    login(&mut other, "new password 2");
    let page = b.get("/account/security");
    let handles: Vec<String> = page
        .body
        .split("name=\"session\" value=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect();
    assert_eq!(handles.len(), 2);
    let this = page.body.find("(this browser)").unwrap();
    let other_handle = handles
        .iter()
        .find(|h| page.body.find(h.as_str()).unwrap() < this)
        .or(handles.last())
        .unwrap()
        .clone();
    let csrf = page.csrf();
    // A handle that is nobody's (or too long, or empty) signs nobody out.
    for bogus in ["", "0000", &"f".repeat(5000)] {
        let r = b.post(
            "/account/security/sessions/end",
            &[("csrf", &csrf), ("session", bogus)],
        );
        assert_eq!(r.location.as_deref(), Some("/account/security"));
    }
    assert!(signed_in(&mut b) && signed_in(&mut other));
    let r = b.post(
        "/account/security/sessions/end",
        &[("csrf", &csrf), ("session", &other_handle)],
    );
    assert!(r.location.is_some());
    assert_eq!(
        [signed_in(&mut b), signed_in(&mut other)]
            .iter()
            .filter(|x| **x)
            .count(),
        1,
        "one of the two sessions ended"
    );
    for x in [&mut b, &mut other] {
        if !signed_in(x) {
            login(x, "new password 2");
        }
    }
    let csrf = csrf_of(&mut b);
    let r = b.post("/account/security/sessions/end-all", &[("csrf", &csrf)]);
    assert_eq!(
        r.location.as_deref(),
        Some("/login?notice=signed_out_everywhere")
    );
    assert!(!signed_in(&mut b) && !signed_in(&mut other));
}

fn sessions_end_when_idle_and_after_their_maximum_age(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["settings", "set", "session.idle_minutes", "30"]);
    env.cli_ok(&["settings", "set", "session.max_hours", "1"]);
    add_user(&env, "hal", "client", &[]);
    let server = env.serve();
    let mut b = Browser::new(&server);
    let r = b.login("hal", PASSWORD, "");
    assert_eq!(r.location.as_deref(), Some("/account/security"));
    drop(server);
    // Used every 25 minutes, the session lives on…
    for offset in [1500, 3000] {
        let server = serve_at(&env, offset);
        assert!(signed_in(b.at(&server)), "alive at +{offset} s");
    }
    // …but never past an hour after its sign-in, however much it is used.
    let server = serve_at(&env, 3700);
    assert!(!signed_in(b.at(&server)));

    // Unused for more than 30 minutes, a session ends.
    let r = b.login("hal", PASSWORD, "");
    assert_eq!(r.location.as_deref(), Some("/account/security"));
    drop(server);
    let server = serve_at(&env, 3700 + 1799 - 60);
    assert!(signed_in(b.at(&server)));
    drop(server);
    let server = serve_at(&env, 3700 + 1799 - 60 + 1801);
    assert!(!signed_in(b.at(&server)));
}

fn a_burst_of_the_right_code_locks_nobody(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    let api = admin_api(&env, &server);
    add_user(&env, "ida", "client", &[]);
    let (_, secret, codes) = confirmed_totp(&api, "ida", "phone");
    // Forty requests with the same right code at once (a double-click, a retrying client).
    let code = totp_at(&secret, 30);
    let barrier = Arc::new(Barrier::new(40));
    let threads: Vec<_> = (0..40)
        .map(|_| {
            let (api, code, barrier) = (api.clone(), code.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                api.validate("ida", &code)
            })
        })
        .collect();
    let answers: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let ok = answers.iter().filter(|a| a["ok"] == true).count();
    assert_eq!(ok, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|a| a["ok"] == true || a["reason"] == "invalid_code")
    );
    // Replaying the accepted code again and again is refused but counts as nothing.
    for _ in 0..10 {
        assert_eq!(api.validate("ida", &code)["reason"], "invalid_code");
    }
    let user = user_json(&api, "ida");
    assert_eq!(user["locked"], false, "{user}");
    // A used backup code, replayed, counts as nothing either.
    assert_eq!(api.validate("ida", &codes[0])["ok"], true);
    for _ in 0..10 {
        assert_eq!(api.validate("ida", &codes[0])["reason"], "invalid_code");
    }
    assert_eq!(api.validate("ida", &codes[1])["ok"], true, "not locked");
}

fn lockouts_in_a_row_last_twice_as_long(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["settings", "set", "lockout.seconds", "60"]);
    env.cli_ok(&["settings", "set", "lockout.max_failures", "2"]);
    add_user(&env, "jon", "client", &["--email", "jon@example.com"]);
    let mut offset = 0;
    let mut lengths = Vec::new();
    for _ in 0..4 {
        let server = serve_at(&env, offset);
        let api = admin_api(&env, &server);
        if offset == 0 {
            confirmed_totp(&api, "jon", "phone");
        }
        let start = now() as i64 + offset;
        for _ in 0..2 {
            assert_eq!(api.validate("jon", "000000")["ok"], false);
        }
        let user = user_json(&api, "jon");
        assert_eq!(user["locked"], true, "{user}");
        let until = user["locked_until"].as_i64().unwrap();
        lengths.push(until - start);
        offset = until - now() as i64 + 1;
    }
    // 60 s, then twice as long each time within a day (allow a second of clock tick).
    for (got, want) in lengths.iter().zip([60, 120, 240, 480]) {
        assert!((want - 1..=want + 1).contains(got), "{lengths:?}");
    }
    // The lockout email says until when.
    let outbox = env.data_dir().join("outbox");
    let mails: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .filter(|m| m.contains("locked"))
        .collect();
    assert_eq!(mails.len(), 4, "{mails:?}");
    assert!(mails.iter().all(|m| m.contains("UTC")), "{mails:?}");
}

/// Password hashing runs off the request threads: a flood of logins (each from its own
/// address, so the throttle lets them all reach the password check) does not stall
/// `/healthz`.
#[test]
fn a_login_flood_does_not_stall_other_requests() {
    let env = Env::new(Db::Sqlite);
    let server = serve_at(&env, 0);
    add_user(&env, "kim", "client", &[]);
    let health = |n: usize| -> Duration {
        let api = server.anonymous();
        let mut times: Vec<Duration> = (0..n)
            .map(|_| {
                #[allow(clippy::disallowed_methods)]
                let t = Instant::now();
                assert_eq!(api.get("/healthz").status, 200);
                t.elapsed()
            })
            .collect();
        times.sort();
        times[n / 2]
    };
    health(5);
    let idle = health(30);

    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut first = Browser::new(&server);
    let csrf = first.get("/login").csrf();
    let pre = first.cookie("tf_pre").unwrap();
    let flood: Vec<_> = (0..60)
        .map(|i| {
            let (base, csrf, pre, stop) =
                (server.base.clone(), csrf.clone(), pre.clone(), stop.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .max_redirects(0)
                    .build()
                    .into();
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let _ = agent
                        .post(format!("{base}/login"))
                        .header("Cookie", format!("tf_pre={pre}"))
                        .header("X-Forwarded-For", format!("10.{i}.{}.{}", n / 250, n % 250))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .send(format!("csrf={csrf}&username=flood{i}x{n}&password=guess"));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let busy = health(30);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in flood {
        t.join().unwrap();
    }
    let floor = idle.max(Duration::from_millis(1));
    assert!(
        busy < floor * 40,
        "/healthz took {busy:?} during the flood against {idle:?} idle"
    );
}

/// Clients that send a login and vanish (the connection reset after 0–20 ms) cancel their
/// requests at random points; none may leave a database transaction open behind it (it held
/// SQLite's write lock, and every later write failed).
fn logins_whose_clients_vanish_leave_no_transaction_behind(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    add_user(&env, "lee", "client", &[]);
    let mut b = Browser::new(&server);
    let csrf = b.get("/login").csrf();
    let pre = b.cookie("tf_pre").unwrap();
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let script = r#"
import socket, sys, random, struct, threading, time, urllib.parse
port, csrf, pre = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def one():
    body = urllib.parse.urlencode({"csrf": csrf, "username": "u%d" % random.randrange(10**9), "password": "x" * 12})
    req = ("POST /login HTTP/1.1\r\nHost: x\r\nCookie: tf_pre=%s\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
           % (pre, len(body), body)).encode()
    try:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(req)
        time.sleep(random.random() * 0.02)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    except OSError:
        pass
for _ in range(10):
    ts = [threading.Thread(target=one) for _ in range(40)]
    for t in ts: t.start()
    for t in ts: t.join()
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, &port, &csrf, &pre])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Writes still work: a login (from another address, through no proxy: the flood's address
    // is throttled) and a user created through the CLI.
    let api = admin_api(&env, &server);
    let r = api.post("/api/v1/users", json!({"username": "after"}));
    assert_eq!(r.status, 201, "{r:?}");
    let mut other = Browser::new(&server);
    let r = other.login("lee", PASSWORD, "");
    assert!(
        r.status == 303 || r.status == 429,
        "the login was answered: {} {}",
        r.status,
        r.body
    );
}

fn a_count_left_at_the_threshold_by_a_dead_process_locks_instead_of_refusing_for_ever(db: Db) {
    let env = Env::new(db);
    let server = serve_at(&env, 0);
    let api = admin_api(&env, &server);
    add_user(&env, "max", "client", &[]);
    let (_, _, codes) = confirmed_totp(&api, "max", "phone");
    // Five attempts began just now and none has ended: they may still be in flight, so a
    // sixth is refused without counting, and nobody is locked yet.
    let now = now() as i64;
    sql(
        &env,
        &format!("UPDATE users SET failed_attempts = 5, attempt_at = {now} WHERE username = 'max'"),
    );
    let answer = api.validate("max", &codes[0]);
    assert_eq!(answer["reason"], "invalid_code", "{answer}");
    assert_eq!(user_json(&api, "max")["locked"], false);
    drop(server);
    // Two minutes later they cannot be in flight any more: the count locks, as the failures
    // they most likely were, instead of refusing every code for ever.
    let server = serve_at(&env, 121);
    let api = admin_api(&env, &server);
    let answer = api.validate("max", &codes[0]);
    assert_eq!(answer["reason"], "locked", "{answer}");
    assert_eq!(user_json(&api, "max")["locked"], true);
    drop(server);
    // After the lockout the user's codes work again.
    let server = serve_at(&env, 121 + 901);
    let api = admin_api(&env, &server);
    assert_eq!(api.validate("max", &codes[0])["ok"], true);
}
