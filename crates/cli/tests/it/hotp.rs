//! Authenticator parameters at enrolment (TOTP's algorithm, digits and period) and
//! counter-based tokens (HOTP): enrolment, the window, replays, resynchronisation, concurrency,
//! the portal's code box and RADIUS's password+code field. Codes come from oathtool; an HOTP
//! code with SHA-256 or SHA-512 is oathtool's TOTP with 1-second steps at the time equal to the
//! counter (RFC 6238's T is then the counter itself).

use std::process::Command;

use serde_json::{Value, json};
use twofold_otp::{Algorithm, KeyUri, OtpKind};

use crate::on_both;
use crate::portal::{Browser, PASSWORD, add_user, admin_api};
use crate::support::{Api, Db, Env, now, oathtool};

on_both!(
    totp_parameters_reach_the_uri_the_qr_code_and_every_check,
    otp_parameter_refusals_change_nothing,
    hotp_enrol_confirm_validate_replays_and_the_window,
    hotp_algorithms_and_eight_digits,
    hotp_resynchronisation_counts_its_attempts,
    concurrent_uses_of_one_hotp_code_succeed_once,
    the_portal_signs_in_with_hotp_and_eight_digit_codes,
    radius_splits_password_and_eight_digit_codes,
);

/// The TOTP code `steps` steps of `period` seconds from now.
fn totp_code(secret: &str, alg: &str, digits: u8, period: u64, steps: i64) -> String {
    let t = now() as i64 + steps * period as i64;
    oathtool(&[
        &format!("--totp={alg}"),
        "-b",
        "-d",
        &digits.to_string(),
        "-s",
        &format!("{period}s"),
        &format!("-N@{t}"),
        secret,
    ])
}

/// The HOTP code of `counter`. For SHA-1 oathtool's own HOTP mode is asked too, and must agree.
fn hotp_code(secret: &str, alg: &str, digits: u8, counter: u64) -> String {
    let d = digits.to_string();
    let code = oathtool(&[
        &format!("--totp={alg}"),
        "-b",
        "-d",
        &d,
        "-s",
        "1s",
        &format!("-N@{counter}"),
        secret,
    ]);
    if alg == "sha1" {
        let hotp = oathtool(&["--hotp", "-b", "-d", &d, "-c", &counter.to_string(), secret]);
        assert_eq!(code, hotp, "oathtool's two modes disagree at {counter}");
    }
    code
}

/// SHA-1, 6-digit HOTP code.
fn hotp(secret: &str, counter: u64) -> String {
    hotp_code(secret, "sha1", 6, counter)
}

/// Activates HOTP for every role.
fn enable_hotp(api: &Api) {
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.hotp.active": true, "methods.hotp.clients": true, "methods.hotp.admins": true}),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

/// The QR code of an enrolment answer carries its URI: the SVG is the encoder's for that URI,
/// and the same encoder's image of it reads back with zbarimg (which reads no SVG).
fn qr_reads_back(answer: &Value) {
    let uri = answer["otpauth_uri"].as_str().unwrap();
    assert_eq!(
        answer["qr_svg"].as_str().unwrap(),
        twofold_otp::qr::svg(uri).unwrap()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qr.pgm");
    std::fs::write(&path, twofold_otp::qr::pgm(uri, 4).unwrap()).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&path)
        .output()
        .expect("zbarimg (./scripts/test installs zbar-tools)");
    assert!(
        out.status.success(),
        "zbarimg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), uri);
}

/// Creates a user (if `create`), enrols a factor with `body` and returns (factor id, secret,
/// the whole answer).
fn enrol(api: &Api, user: &str, create: bool, body: Value) -> (String, String, Value) {
    if create {
        let r = api.post("/api/v1/users", json!({"username": user}));
        assert_eq!(r.status, 201, "{r:?}");
    }
    let r = api.post(&format!("/api/v1/users/{user}/factors"), body);
    assert_eq!(r.status, 201, "{r:?}");
    (
        r.json["id"].as_str().unwrap().to_owned(),
        r.json["secret"].as_str().unwrap().to_owned(),
        r.json,
    )
}

fn confirm(api: &Api, user: &str, id: &str, code: &str) -> (u16, Value) {
    let r = api.post(
        &format!("/api/v1/users/{user}/factors/{id}/confirm"),
        json!({ "code": code }),
    );
    (r.status, r.json)
}

fn ok(method: &str) -> Value {
    json!({"ok": true, "method": method})
}

fn invalid() -> Value {
    json!({"ok": false, "reason": "invalid_code"})
}

/// The factor `id` of `user` as the API shows it.
fn factor(api: &Api, user: &str, id: &str) -> Value {
    let r = api.get(&format!("/api/v1/users/{user}"));
    assert_eq!(r.status, 200, "{r:?}");
    r.json["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .cloned()
        .unwrap()
}

fn totp_parameters_reach_the_uri_the_qr_code_and_every_check(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);

    // No parameters: what every app supports.
    let (_, _, answer) = enrol(&api, "plain", true, json!({"kind": "totp"}));
    let uri = answer["otpauth_uri"].as_str().unwrap();
    assert!(uri.ends_with("&algorithm=SHA1&digits=6&period=30"), "{uri}");

    for (i, (alg, digits, period)) in [
        ("sha256", 8u8, 60u64),
        ("sha512", 6, 15),
        ("sha1", 8, 30),
        ("SHA512", 8, 300),
    ]
    .into_iter()
    .enumerate()
    {
        let user = format!("u{i}");
        let (id, secret, answer) = enrol(
            &api,
            &user,
            true,
            json!({"kind": "totp", "algorithm": alg, "digits": digits, "period": period}),
        );
        let key = KeyUri::parse(answer["otpauth_uri"].as_str().unwrap()).unwrap();
        assert_eq!(key.secret.to_base32(), secret);
        assert_eq!(key.algorithm, alg.parse::<Algorithm>().unwrap(), "{alg}");
        assert_eq!(key.digits.get(), digits);
        assert!(
            matches!(key.kind, OtpKind::Totp { period: p } if p.get() == period),
            "{:?}",
            key.kind
        );
        qr_reads_back(&answer);

        let alg = alg.to_ascii_lowercase();
        let code = |steps: i64| totp_code(&secret, &alg, digits, period, steps);
        // The code of the default parameters (SHA-1, 6 digits, 30 s) is not this factor's.
        let default_code = totp_code(&secret, "sha1", 6, 30, 0);
        if default_code != code(0) {
            let (status, body) = confirm(&api, &user, &id, &default_code);
            assert_eq!(
                (status, &body["error"]["code"]),
                (422, &json!("invalid_code"))
            );
        }
        let (status, body) = confirm(&api, &user, &id, &code(0));
        assert_eq!(status, 200, "{alg}/{digits}/{period}: {body}");
        // The next step of this period is accepted once; the one confirmed is used.
        assert_eq!(
            api.validate(&user, &code(1)),
            ok("totp"),
            "{alg}/{digits}/{period}"
        );
        assert_eq!(api.validate(&user, &code(1)), invalid());
        assert_eq!(api.validate(&user, &code(0)), invalid());
        // Two steps ahead of the one accepted is still within the window of one around the
        // current step only for the next step: +3 steps is out.
        assert_eq!(api.validate(&user, &code(3)), invalid());
    }
}

fn otp_parameter_refusals_change_nothing(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    enable_hotp(&api);
    let r = api.post(
        "/api/v1/users",
        json!({"username": "rita", "email": "rita@example.com"}),
    );
    assert_eq!(r.status, 201, "{r:?}");

    let refused = [
        (
            json!({"kind": "totp", "algorithm": "md5"}),
            "invalid_algorithm",
        ),
        (
            json!({"kind": "totp", "algorithm": ""}),
            "invalid_algorithm",
        ),
        (
            json!({"kind": "totp", "algorithm": "sha-256"}),
            "invalid_algorithm",
        ),
        (
            json!({"kind": "hotp", "algorithm": "sha384"}),
            "invalid_algorithm",
        ),
        (json!({"kind": "totp", "digits": 7}), "invalid_digits"),
        (json!({"kind": "totp", "digits": 0}), "invalid_digits"),
        (json!({"kind": "totp", "digits": -6}), "invalid_digits"),
        (json!({"kind": "totp", "digits": 10}), "invalid_digits"),
        (json!({"kind": "hotp", "digits": 9}), "invalid_digits"),
        (json!({"kind": "totp", "period": 14}), "invalid_period"),
        (json!({"kind": "totp", "period": 301}), "invalid_period"),
        (json!({"kind": "totp", "period": 0}), "invalid_period"),
        (json!({"kind": "totp", "period": -30}), "invalid_period"),
        (json!({"kind": "hotp", "period": 30}), "unexpected_field"),
        (json!({"kind": "email", "digits": 6}), "unexpected_field"),
        (
            json!({"kind": "sms", "algorithm": "sha1"}),
            "unexpected_field",
        ),
        (json!({"kind": "yubikey", "period": 30}), "unexpected_field"),
        (json!({"kind": "webauthn", "digits": 8}), "unexpected_field"),
        (
            json!({"kind": "duo", "algorithm": "sha256"}),
            "unexpected_field",
        ),
    ];
    for (body, code) in refused {
        let r = api.post("/api/v1/users/rita/factors", body.clone());
        assert_eq!((r.status, r.error_code()), (422, code), "{body}: {r:?}");
    }
    // A number of the wrong type is a malformed request, like any other field's.
    let r = api.post(
        "/api/v1/users/rita/factors",
        json!({"kind": "totp", "digits": "8"}),
    );
    assert_eq!((r.status, r.error_code()), (400, "bad_request"), "{r:?}");
    // An unknown user is 404 whatever else is wrong.
    let r = api.post(
        "/api/v1/users/nobody/factors",
        json!({"kind": "totp", "digits": 7}),
    );
    assert_eq!((r.status, r.error_code()), (404, "user_not_found"));

    // Nothing was made, sent or recorded.
    let user = api.get("/api/v1/users/rita").json;
    assert_eq!(user["factors"], json!([]), "{user}");
    let events = api.get("/api/v1/audit?username=rita&limit=100").json;
    assert!(
        !events["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "factor_enrolled"),
        "{events}"
    );
}

/// Enrols and confirms an HOTP factor (SHA-1, 6 digits) with the code of `counter`: (id, secret).
fn confirmed_hotp(api: &Api, user: &str, create: bool, counter: u64) -> (String, String) {
    let (id, secret, _) = enrol(api, user, create, json!({"kind": "hotp"}));
    let (status, body) = confirm(api, user, &id, &hotp(&secret, counter));
    assert_eq!(status, 200, "{body}");
    (id, secret)
}

fn hotp_enrol_confirm_validate_replays_and_the_window(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let r = api.post("/api/v1/users", json!({"username": "hal"}));
    assert_eq!(r.status, 201, "{r:?}");

    // Off unless activated, like the YubiKey.
    let r = api.post("/api/v1/users/hal/factors", json!({"kind": "hotp"}));
    assert_eq!((r.status, r.error_code()), (422, "method_not_available"));
    enable_hotp(&api);

    let (id, secret, answer) = enrol(&api, "hal", false, json!({"kind": "hotp", "label": "fob"}));
    assert_eq!(answer["kind"], "hotp");
    assert_eq!(answer["counter"], 0);
    assert_eq!(answer["confirmed"], false);
    let uri = answer["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://hotp/"), "{uri}");
    let key = KeyUri::parse(uri).unwrap();
    assert_eq!(key.kind, OtpKind::Hotp { counter: 0 });
    assert_eq!((key.algorithm, key.digits.get()), (Algorithm::Sha1, 6));
    assert_eq!(key.secret.to_base32(), secret);
    qr_reads_back(&answer);

    // Pending: it logs nobody in.
    assert_eq!(
        api.validate("hal", &hotp(&secret, 0)),
        json!({"ok": false, "reason": "not_enrolled"})
    );
    // Confirmed by a code within the window from counter 0 (0..=9), not beyond.
    let (status, body) = confirm(&api, "hal", &id, &hotp(&secret, 10));
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("invalid_code"))
    );
    let (status, body) = confirm(&api, "hal", &id, &hotp(&secret, 3));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["backup_codes"].as_array().unwrap().len(), 10);
    assert_eq!(factor(&api, "hal", &id)["counter"], 4);

    // The confirming code and those below it are used: refused, and not counted (three
    // failures would lock; six replays do not).
    let r = api.patch("/api/v1/settings", json!({"lockout.max_failures": 3}));
    assert_eq!(r.status, 200, "{r:?}");
    for c in [3, 2, 3, 0, 3, 1] {
        assert_eq!(api.validate("hal", &hotp(&secret, c)), invalid(), "{c}");
    }
    assert_eq!(api.validate("hal", &hotp(&secret, 4)), ok("hotp"));
    assert_eq!(api.validate("hal", &hotp(&secret, 4)), invalid());
    assert_eq!(factor(&api, "hal", &id)["counter"], 5);
    let user = api.get("/api/v1/users/hal").json;
    assert_eq!(user["locked"], false);

    // The window: 10 counters from the next (5..=14). 15 is out; 14 is in, and then 15 is
    // the next.
    assert_eq!(api.validate("hal", &hotp(&secret, 15)), invalid());
    assert_eq!(api.validate("hal", &hotp(&secret, 14)), ok("hotp"));
    assert_eq!(
        api.validate("hal", &hotp(&secret, 13)),
        invalid(),
        "skipped codes are spent"
    );
    assert_eq!(api.validate("hal", &hotp(&secret, 15)), ok("hotp"));

    // `hotp.window` narrows it: 2 takes 16 and 17, not 18.
    let r = api.patch("/api/v1/settings", json!({"hotp.window": 2}));
    assert_eq!(r.status, 200, "{r:?}");
    for bad in [0, 101] {
        let r = api.patch("/api/v1/settings", json!({"hotp.window": bad}));
        assert_eq!((r.status, r.error_code()), (422, "invalid_setting"));
    }
    assert_eq!(api.validate("hal", &hotp(&secret, 18)), invalid());
    assert_eq!(api.validate("hal", &hotp(&secret, 17)), ok("hotp"));

    // `method` restricts: as hotp it is checked, as totp it is not.
    let v = |method: &str, code: String| {
        api.post(
            "/api/v1/validate",
            json!({"username": "hal", "code": code, "method": method}),
        )
        .json
    };
    assert_eq!(v("totp", hotp(&secret, 18)), invalid());
    assert_eq!(v("hotp", hotp(&secret, 18)), ok("hotp"));

    // Switched off, it no longer counts as the user's 2FA.
    let r = api.patch("/api/v1/settings", json!({"methods.hotp.active": false}));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        api.validate("hal", &hotp(&secret, 19)),
        json!({"ok": false, "reason": "not_enrolled"})
    );
}

fn hotp_algorithms_and_eight_digits(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    enable_hotp(&api);
    for (i, (alg, digits)) in [("sha256", 8u8), ("sha512", 6), ("sha1", 8)]
        .into_iter()
        .enumerate()
    {
        let user = format!("h{i}");
        let (id, secret, answer) = enrol(
            &api,
            &user,
            true,
            json!({"kind": "hotp", "algorithm": alg, "digits": digits}),
        );
        let key = KeyUri::parse(answer["otpauth_uri"].as_str().unwrap()).unwrap();
        assert_eq!(key.algorithm, alg.parse::<Algorithm>().unwrap());
        assert_eq!(key.digits.get(), digits);
        assert_eq!(key.kind, OtpKind::Hotp { counter: 0 });
        let code = |c: u64| hotp_code(&secret, alg, digits, c);
        // Another length or algorithm's code is a wrong code.
        let other = hotp_code(&secret, "sha1", if digits == 8 { 6 } else { 8 }, 0);
        let (status, _) = confirm(&api, &user, &id, &other);
        assert_eq!(status, 422);
        let (status, body) = confirm(&api, &user, &id, &code(0));
        assert_eq!(status, 200, "{alg}/{digits}: {body}");
        assert_eq!(api.validate(&user, &code(1)), ok("hotp"), "{alg}/{digits}");
        assert_eq!(api.validate(&user, &code(1)), invalid());
        assert_eq!(api.validate(&user, &code(5)), ok("hotp"));
    }
}

fn hotp_resynchronisation_counts_its_attempts(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    enable_hotp(&api);
    let (id, secret) = confirmed_hotp(&api, "rex", true, 0);
    let code = |c: u64| hotp(&secret, c);
    let resync_path = format!("/api/v1/users/rex/factors/{id}/resync");
    let resync =
        |a: u64, b: u64| api.post(&resync_path, json!({"code1": code(a), "code2": code(b)}));

    // Pressed 100 times unseen: beyond the window, refused.
    assert_eq!(api.validate("rex", &code(100)), invalid());
    // Two codes in a row bring it back; the factor expects the one after them.
    let r = resync(100, 101);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["id"], id.as_str());
    assert_eq!(r.json["counter"], 102);
    assert_eq!(
        api.validate("rex", &code(101)),
        invalid(),
        "used by the resync"
    );
    assert_eq!(api.validate("rex", &code(102)), ok("hotp"));
    // The same pair again is spent.
    let r = resync(100, 101);
    assert_eq!((r.status, r.error_code()), (422, "invalid_code"));

    // The range: a pair may start up to 999 counters from the next one (103 + 999 = 1102).
    let r = resync(1103, 1104);
    assert_eq!((r.status, r.error_code()), (422, "invalid_code"), "{r:?}");
    let r = resync(1102, 1103);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["counter"], 1104);

    // A wrong pair is a failed attempt: two lock the user at a threshold of 2.
    let r = api.patch("/api/v1/settings", json!({"lockout.max_failures": 2}));
    assert_eq!(r.status, 200, "{r:?}");
    for (a, b) in [(1200, 1202), (1301, 1300)] {
        let r = resync(a, b);
        assert_eq!((r.status, r.error_code()), (422, "invalid_code"), "{r:?}");
    }
    assert_eq!(
        api.validate("rex", &code(1104)),
        json!({"ok": false, "reason": "locked"})
    );
    // Locked, even a right pair is refused, and changes nothing.
    let r = resync(1500, 1501);
    assert_eq!((r.status, r.error_code()), (422, "locked"), "{r:?}");
    assert_eq!(factor(&api, "rex", &id)["counter"], 1104);
    assert_eq!(api.post_empty("/api/v1/users/rex/unlock").status, 204);
    let r = resync(1500, 1501);
    assert_eq!(r.status, 200, "{r:?}");
    let events = api.get("/api/v1/audit?username=rex&limit=100").json;
    let details: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(
        details
            .iter()
            .any(|d| d.contains("method=hotp") && d.ends_with("resync")),
        "{details:?}"
    );
    assert!(
        details.contains(&"reason=invalid_code resync"),
        "{details:?}"
    );

    // Refusals that count nothing.
    let r = api.post(&resync_path, json!({"code1": code(1502)}));
    assert_eq!((r.status, r.error_code()), (422, "missing_code"));
    let r = api.post(&resync_path, json!({"code1": "abc", "code2": code(1503)}));
    assert_eq!((r.status, r.error_code()), (422, "malformed_code"));
    let r = api.post(&resync_path, json!({"code1": code(1502), "code3": "1"}));
    assert_eq!((r.status, r.error_code()), (400, "bad_request"));
    let r = api.post(
        "/api/v1/users/rex/factors/0123456789abcdef0123456789abcdef/resync",
        json!({"code1": code(1502), "code2": code(1503)}),
    );
    assert_eq!((r.status, r.error_code()), (404, "factor_not_found"));
    let r = api.post(
        &format!("/api/v1/users/nobody/factors/{id}/resync"),
        json!({"code1": code(1502), "code2": code(1503)}),
    );
    assert_eq!((r.status, r.error_code()), (404, "user_not_found"));
    // A TOTP factor is not resynchronised; a pending token is confirmed instead.
    let (totp_id, _, _) = enrol(&api, "rex", false, json!({"kind": "totp"}));
    let r = api.post(
        &format!("/api/v1/users/rex/factors/{totp_id}/resync"),
        json!({"code1": "123456", "code2": "654321"}),
    );
    assert_eq!((r.status, r.error_code()), (422, "method_not_available"));
    let (pending, pending_secret, _) = enrol(&api, "rex", false, json!({"kind": "hotp"}));
    let r = api.post(
        &format!("/api/v1/users/rex/factors/{pending}/resync"),
        json!({"code1": hotp(&pending_secret, 50), "code2": hotp(&pending_secret, 51)}),
    );
    assert_eq!((r.status, r.error_code()), (409, "not_enrolled"));
    // A validate-scope token may not.
    let validator = server.api(&env.token("v", "validate"));
    let r = validator.post(
        &resync_path,
        json!({"code1": code(1502), "code2": code(1503)}),
    );
    assert_eq!(r.status, 403, "{r:?}");
    // None of these counted: the next code works.
    assert_eq!(api.validate("rex", &code(1502)), ok("hotp"));
}

fn concurrent_uses_of_one_hotp_code_succeed_once(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    enable_hotp(&api);
    let (id, secret) = confirmed_hotp(&api, "cid", true, 0);

    let code = hotp(&secret, 3);
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let v = api.clone();
            let c = code.clone();
            std::thread::spawn(move || v.validate("cid", &c)["ok"] == json!(true))
        })
        .collect();
    let accepted = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(accepted, 1, "one HOTP code, 50 requests");

    // One pair, 20 resynchronisations at once: one moves the counter.
    let body = json!({"code1": hotp(&secret, 300), "code2": hotp(&secret, 301)});
    let path = format!("/api/v1/users/cid/factors/{id}/resync");
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let a = api.clone();
            let (p, b) = (path.clone(), body.clone());
            std::thread::spawn(move || a.post(&p, b).status)
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 422),
        "{statuses:?}"
    );
    // The losers lost a race for a genuine pair: not counted, so nobody is locked.
    assert_eq!(api.validate("cid", &hotp(&secret, 302)), ok("hotp"));
}

fn the_portal_signs_in_with_hotp_and_eight_digit_codes(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    let api = admin_api(&env, &server);
    enable_hotp(&api);

    add_user(&env, "tina", "client", &[]);
    let (_, secret) = confirmed_hotp(&api, "tina", false, 0);
    let mut b = Browser::new(&server);
    let r = b.login("tina", PASSWORD, "");
    assert_eq!(r.location.as_deref(), Some("/login/2fa"), "{}", r.body);
    let page = b.get("/login/2fa");
    assert!(
        page.body
            .contains("The 6-digit code your token shows when you press its button."),
        "{}",
        page.body
    );
    let r = b.second_factor(&hotp(&secret, 1), false);
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );

    // Enrolment in the portal does not offer HOTP, and refuses it when posted anyway.
    let enrol_page = b.get("/account/security/enroll");
    assert!(
        !enrol_page.body.contains("value=\"hotp\""),
        "{}",
        enrol_page.body
    );
    let csrf = b.get("/account/security").csrf();
    let r = b.post(
        "/account/security/enroll",
        &[("csrf", &csrf), ("kind", "hotp"), ("label", "fob")],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("administrator"), "{}", r.body);
    assert_eq!(
        api.get("/api/v1/users/tina").json["factors"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // An 8-digit, 60-second TOTP factor: the page says so and takes its code.
    add_user(&env, "otto", "client", &[]);
    let (id, secret, _) = enrol(
        &api,
        "otto",
        false,
        json!({"kind": "totp", "digits": 8, "period": 60, "algorithm": "sha256"}),
    );
    let code = |steps| totp_code(&secret, "sha256", 8, 60, steps);
    let (status, body) = confirm(&api, "otto", &id, &code(0));
    assert_eq!(status, 200, "{body}");
    let mut b = Browser::new(&server);
    let r = b.login("otto", PASSWORD, "");
    assert_eq!(r.location.as_deref(), Some("/login/2fa"), "{}", r.body);
    let page = b.get("/login/2fa");
    assert!(
        page.body
            .contains("The 8-digit code your authenticator app shows now."),
        "{}",
        page.body
    );
    let r = b.second_factor(&code(1), false);
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
}

fn radius_splits_password_and_eight_digit_codes(db: Db) {
    use crate::radius::{RADIUS, add_client, radclient, request};
    let env = Env::new(db);
    let secret = add_client(&env, "vpn", &[]);
    env.cli_ok(&["settings", "set", "radius.mode", "password+otp"]);
    let server = env.serve_with(&[RADIUS]);
    let at = server.radius.unwrap();
    let api = admin_api(&env, &server);
    enable_hotp(&api);

    // A password ending in digits, and an 8-digit token: the split must be the token's length.
    let out = env.cli_stdin(&["user", "add", "vic", "--password-stdin"], "hunter2024\n");
    assert!(out.status.success(), "{out:?}");
    let (id, token_secret, _) = enrol(&api, "vic", false, json!({"kind": "hotp", "digits": 8}));
    let code = |c: u64| hotp_code(&token_secret, "sha1", 8, c);
    let (status, body) = confirm(&api, "vic", &id, &code(0));
    assert_eq!(status, 200, "{body}");

    let a = radclient(
        at,
        &secret,
        &request("vic", &format!("hunter2024{}", code(1)), ""),
    );
    assert_eq!(a.kind.as_deref(), Some("Access-Accept"), "{}", a.output);
    // The same code again is a replay.
    let a = radclient(
        at,
        &secret,
        &request("vic", &format!("hunter2024{}", code(1)), ""),
    );
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
}
