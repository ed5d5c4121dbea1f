//! Remembered browsers (`remember.days`, `tf_remember`): a second factor given with "Remember
//! this browser" ticked lets that user's next sign-ins in that browser ask only for the
//! password, for that user only, while the settings allow it, until it is forgotten (by its
//! user, by signing out everywhere, a password change, a 2FA reset, disabling, the removal of
//! the last factor). And the sessions API that lists and ends them.

use serde_json::{Value, json};

use crate::on_both;
use crate::portal::{Browser, PASSWORD, add_user, admin_api, confirmed_totp};
use crate::support::{Api, Db, Env, Server, totp};

on_both!(
    a_remembered_browser_asks_only_for_the_password_until_forgotten,
    nothing_is_remembered_while_remembering_is_off,
    admins_are_remembered_only_with_remember_admins,
    a_remembered_browser_helps_only_its_own_user,
    expired_and_shortened_remembrances_ask_for_the_code,
    whatever_signs_a_user_out_everywhere_forgets_their_browsers,
    tampered_and_garbage_cookies_are_ignored,
    the_sessions_api_lists_and_signs_out_everywhere,
    behind_a_proxy_a_remembered_sign_in_passes_two_factor_rules,
    the_settings_are_typed_checked_and_shown_everywhere,
);

const COOKIE: &str = "tf_remember";
const BOX: &str = "Remember this browser for";

/// A client with a confirmed TOTP factor: (secret, backup codes).
fn client(env: &Env, api: &Api, name: &str, role: &str) -> (String, Vec<String>) {
    add_user(env, name, role, &[]);
    let (_, secret, codes) = confirmed_totp(api, name, "phone");
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

/// Signs out (the session ends; the browser keeps its other cookies).
fn sign_out(b: &mut Browser) {
    let csrf = b.get("/account/security").csrf();
    let r = b.post("/logout", &[("csrf", &csrf)]);
    assert_eq!(r.location.as_deref(), Some("/login?notice=logged_out"));
    assert!(b.cookie("tf_session").is_none());
}

/// The password step: true when it was enough (a full session at once), false when the second
/// factor is asked for.
fn password_only(b: &mut Browser, name: &str) -> bool {
    b.cookies.retain(|(n, _)| n != "tf_session");
    let r = b.login(name, PASSWORD, "");
    assert!(r.status < 500, "{}", r.body);
    match r.location.as_deref() {
        Some("/account/security") => {
            assert_eq!(b.get("/account/security").status, 200);
            true
        }
        Some("/login/2fa") => false,
        other => panic!("after the password: {other:?} {}", r.body),
    }
}

/// The second-factor step with a backup code, "Remember this browser" ticked or not; returns
/// the answer (a 303 to Security Settings).
fn second_factor(b: &mut Browser, code: &str, remember: bool) -> crate::portal::Page {
    let csrf = b.get("/login/2fa").csrf();
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("code", code),
        ("method", "backup_code"),
    ];
    if remember {
        form.push(("remember", "1"));
    }
    let r = b.post("/login/2fa", &form);
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
    r
}

/// Signs `name` in with a backup code and "Remember this browser" ticked; returns the
/// `tf_remember` value.
fn remember(b: &mut Browser, name: &str, code: &str) -> String {
    assert!(!password_only(b, name), "the code is asked first");
    let r = second_factor(b, code, true);
    assert!(
        r.set_cookie(COOKIE).is_some(),
        "remembered: {:?}",
        r.headers
    );
    b.cookie(COOKIE).unwrap()
}

/// The audit records of `event` about `name`: their details.
fn audited(api: &Api, name: &str, event: &str) -> Vec<String> {
    let r = api.get(&format!(
        "/api/v1/audit?username={name}&event={event}&limit=100"
    ));
    assert_eq!(r.status, 200, "{r:?}");
    r.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["detail"].as_str().unwrap().to_owned())
        .collect()
}

/// The handles of the "Forget" buttons on Security Settings.
fn forget_handles(page: &str) -> Vec<String> {
    page.split("name=\"browser\" value=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

fn sessions(api: &Api, name: &str) -> Value {
    let r = api.get(&format!("/api/v1/users/{name}/sessions"));
    assert_eq!(r.status, 200, "{r:?}");
    r.json
}

fn set(api: &Api, key: &str, value: Value) {
    let r = api.patch("/api/v1/settings", json!({ key: value }));
    assert_eq!(r.status, 200, "{r:?}");
}

fn a_remembered_browser_asks_only_for_the_password_until_forgotten(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["settings", "set", "remember.days", "30"]);
    let server = env.serve();
    let api = admin_api(&env, &server);
    let (secret, codes) = client(&env, &api, "rae", "client");

    // The second-factor page offers the box; a code with it ticked sets the cookie.
    let mut b = Browser::new(&server);
    assert!(!password_only(&mut b, "rae"));
    let page = b.get("/login/2fa");
    assert!(
        page.body.contains("Remember this browser for 30 days"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(" checked>"), "not ticked unless asked");
    // A wrong code with the box ticked: the page comes back with it still ticked.
    let r = b.post(
        "/login/2fa",
        &[
            ("csrf", &page.csrf()),
            ("code", &crate::support::wrong_code(&secret)),
            ("remember", "1"),
        ],
    );
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.body.contains("name=\"remember\" value=\"1\" checked>"),
        "{}",
        r.body
    );
    assert!(r.set_cookie(COOKIE).is_none());
    let r = b.post(
        "/login/2fa",
        &[
            ("csrf", &page.csrf()),
            ("code", &totp(&secret, 1)),
            ("remember", "1"),
        ],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
    let set_cookie = r.set_cookie(COOKIE).expect("tf_remember is set").to_owned();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(set_cookie.contains(part), "{part}: {set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http: {set_cookie}");
    let value = b.cookie(COOKIE).unwrap();
    assert_eq!(value.len(), 43, "256 bits in base64url: {value}");
    assert!(
        value
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
        "{value}"
    );
    assert!(
        !String::from_utf8_lossy(&env.database_bytes()).contains(&value),
        "the database keeps only its hash"
    );
    assert_eq!(audited(&api, "rae", "browser.remembered").len(), 1);

    // Signed out and in again: the password is enough, and the session passed two factors
    // for sign-in purposes, but a sensitive action still asks for a code.
    sign_out(&mut b);
    assert_eq!(
        b.cookie(COOKIE).as_deref(),
        Some(value.as_str()),
        "logout keeps it"
    );
    assert!(password_only(&mut b, "rae"), "no code asked");
    assert_eq!(audited(&api, "rae", "browser.remembered_used").len(), 1);
    let csrf = b.get("/account/security").csrf();
    let r = b.post("/account/security/backup-codes/new", &[("csrf", &csrf)]);
    assert_eq!(r.status, 401, "a remembered browser is no step-up");
    assert!(r.body.contains("Confirm it is you"), "{}", r.body);
    // Another browser is asked for the code.
    let mut other = Browser::new(&server);
    assert!(!password_only(&mut other, "rae"));

    // Security Settings lists it, marked as this browser; the other browser sees it too, not
    // as its own.
    let page = b.get("/account/security");
    assert!(page.body.contains("Remembered browsers"), "{}", page.body);
    let handles = forget_handles(&page.body);
    assert_eq!(handles.len(), 1, "{}", page.body);
    assert!(page.body.contains("aria-label=\"Forget "), "{}", page.body);
    assert_eq!(page.body.matches("(this browser)</strong>").count(), 2);
    second_factor(&mut other, &codes[0], false);
    assert!(other.cookie(COOKIE).is_none(), "not ticked: not remembered");
    let seen = other.get("/account/security");
    assert_eq!(forget_handles(&seen.body), handles);
    assert_eq!(seen.body.matches("(this browser)</strong>").count(), 1);
    assert_eq!(
        sessions(&api, "rae")["remembered_browsers"][0]["id"],
        handles[0].as_str()
    );

    // "Forget" with a handle that is nobody's forgets nothing.
    let csrf = page.csrf();
    for bogus in ["", "0000", &"f".repeat(5000)] {
        let r = b.post(
            "/account/security/browsers/forget",
            &[("csrf", &csrf), ("browser", bogus)],
        );
        assert_eq!(r.location.as_deref(), Some("/account/security"));
    }
    assert_eq!(forget_handles(&b.get("/account/security").body), handles);
    // Forgotten: its cookie is removed, and a copy of it no longer helps.
    let r = b.post(
        "/account/security/browsers/forget",
        &[("csrf", &csrf), ("browser", &handles[0])],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security?notice=browser_forgotten")
    );
    assert!(r.set_cookie(COOKIE).unwrap().contains("Max-Age=0"));
    assert_eq!(audited(&api, "rae", "browser.forgotten").len(), 1);
    assert!(forget_handles(&b.get("/account/security").body).is_empty());
    sign_out(&mut b);
    b.cookies.push((COOKIE.to_owned(), value));
    assert!(!password_only(&mut b, "rae"), "the code is asked again");
}

fn nothing_is_remembered_while_remembering_is_off(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    let api = admin_api(&env, &server);
    let (_, codes) = client(&env, &api, "otto", "client");

    // Off by default: no box, and a form that ticks it anyway remembers nothing.
    let mut b = Browser::new(&server);
    assert!(!password_only(&mut b, "otto"));
    let page = b.get("/login/2fa");
    assert!(!page.body.contains(BOX), "{}", page.body);
    let r = second_factor(&mut b, &codes[0], true);
    assert!(r.set_cookie(COOKIE).is_none());
    assert!(
        !b.get("/account/security")
            .body
            .contains("Remembered browsers")
    );
    assert!(!password_only(&mut b, "otto"));
    second_factor(&mut b, &codes[1], false);

    // On: remembered.
    set(&api, "remember.days", json!(7));
    let cookie = remember(&mut b, "otto", &codes[2]);
    assert!(password_only(&mut b, "otto"));
    assert_eq!(
        sessions(&api, "otto")["remembered_browsers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Off again: the code is asked, and every remembered browser is forgotten for good.
    set(&api, "remember.days", json!(0));
    assert!(!password_only(&mut b, "otto"));
    let r = api.get("/api/v1/audit?event=browser.forgotten&limit=10");
    assert!(
        r.json["events"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("reason=remember_off"),
        "{r:?}"
    );
    set(&api, "remember.days", json!(7));
    assert_eq!(b.cookie(COOKIE).as_deref(), Some(cookie.as_str()));
    assert!(
        !password_only(&mut b, "otto"),
        "turning it on again revives none"
    );
    assert_eq!(audited(&api, "otto", "browser.remembered_used").len(), 1);
}

fn admins_are_remembered_only_with_remember_admins(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["settings", "set", "remember.days", "30"]);
    let server = env.serve();
    let api = admin_api(&env, &server);
    let (_, admin_codes) = client(&env, &api, "ada", "admin");
    let (_, owner_codes) = client(&env, &api, "oli", "owner");
    let (_, client_codes) = client(&env, &api, "cal", "client");

    // Admins and owners are not offered the box, and ticking it anyway remembers nothing.
    for (name, codes) in [("ada", &admin_codes), ("oli", &owner_codes)] {
        let mut b = Browser::new(&server);
        assert!(!password_only(&mut b, name));
        assert!(!b.get("/login/2fa").body.contains(BOX), "{name}");
        let r = second_factor(&mut b, &codes[0], true);
        assert!(r.set_cookie(COOKIE).is_none(), "{name}");
        assert!(!password_only(&mut b, name), "{name}");
    }

    // A client remembered, then made an admin, is asked for the code: a change of role
    // forgets the user's browsers (audited), so none counts under the rules of the new role.
    let mut c = Browser::new(&server);
    remember(&mut c, "cal", &client_codes[0]);
    assert!(password_only(&mut c, "cal"));
    let r = api.patch("/api/v1/users/cal", json!({"role": "admin"}));
    assert_eq!(r.status, 200, "{r:?}");
    assert!(!password_only(&mut c, "cal"));
    assert!(
        audited(&api, "cal", "browser.forgotten")
            .iter()
            .any(|d| d == "all count=1 reason=role_changed"),
        "{:?}",
        audited(&api, "cal", "browser.forgotten")
    );
    assert!(
        sessions(&api, "cal")["remembered_browsers"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // With remember.admins, admins and owners are remembered too.
    let (_, other_codes) = client(&env, &api, "cid", "client");
    let mut d = Browser::new(&server);
    remember(&mut d, "cid", &other_codes[0]);
    set(&api, "remember.admins", json!(true));
    let mut a = Browser::new(&server);
    assert!(!password_only(&mut a, "ada"));
    assert!(
        a.get("/login/2fa")
            .body
            .contains("Remember this browser for 30 days")
    );
    second_factor(&mut a, &admin_codes[1], true);
    assert!(a.cookie(COOKIE).is_some());
    assert!(password_only(&mut a, "ada"));
    assert!(
        !password_only(&mut c, "cal"),
        "the remembrance from before the change of role does not come back"
    );
    // Switched off again, their browsers are forgotten (not just ignored): switched on once
    // more, the code is asked. A client's browser stays.
    set(&api, "remember.admins", json!(false));
    assert!(!password_only(&mut a, "ada"));
    let r = api.get("/api/v1/audit?event=browser.forgotten&limit=100");
    assert!(
        r.json["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["detail"] == "admins and owners count=1 reason=remember_admins_off"),
        "{r:?}"
    );
    set(&api, "remember.admins", json!(true));
    assert!(
        !password_only(&mut a, "ada"),
        "turning remember.admins on again revives nothing"
    );
    assert!(password_only(&mut d, "cid"), "the client's browser counts");
}

fn a_remembered_browser_helps_only_its_own_user(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["settings", "set", "remember.days", "30"]);
    let server = env.serve();
    let api = admin_api(&env, &server);
    let (_, ann_codes) = client(&env, &api, "ann", "client");
    let (_, bob_codes) = client(&env, &api, "bob", "client");

    let mut b = Browser::new(&server);
    let ann_cookie = remember(&mut b, "ann", &ann_codes[0]);
    // The same browser, signing in as Bob: ann's cookie does not help him.
    assert!(!password_only(&mut b, "bob"));
    assert!(b.get("/login/2fa").body.contains(BOX));
    second_factor(&mut b, &bob_codes[0], false);
    assert!(
        !b.get("/account/security").body.contains("name=\"browser\""),
        "Bob does not see Ann's browser"
    );
    assert!(audited(&api, "bob", "browser.remembered_used").is_empty());
    assert!(
        sessions(&api, "bob")["remembered_browsers"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // A fresh browser given Ann's cookie, signing in as Bob: no.
    let mut m = Browser::new(&server);
    m.cookies.push((COOKIE.to_owned(), ann_cookie.clone()));
    assert!(!password_only(&mut m, "bob"));
    // Bob remembered in that browser replaces the cookie; Ann's row is still Ann's.
    let bob_cookie = remember(&mut b, "bob", &bob_codes[1]);
    assert_ne!(bob_cookie, ann_cookie);
    assert!(
        !password_only(&mut b, "ann"),
        "Bob's cookie does not help Ann"
    );
    second_factor(&mut b, &ann_codes[1], false);
    b.cookies.retain(|(n, _)| n != COOKIE);
    b.cookies.push((COOKIE.to_owned(), ann_cookie));
    assert!(password_only(&mut b, "ann"));
    assert_eq!(audited(&api, "ann", "browser.remembered_used").len(), 1);
}

/// A server whose clock runs `offset` seconds ahead.
fn serve_at(env: &Env, offset: i64) -> Server {
    env.serve_with(&[("TWOFOLD_TEST_CLOCK_OFFSET", &offset.to_string())])
}

fn expired_and_shortened_remembrances_ask_for_the_code(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["settings", "set", "remember.days", "1"]);
    let server = env.serve();
    let api = admin_api(&env, &server);
    let (_, codes) = client(&env, &api, "eve", "client");
    let mut b = Browser::new(&server);
    assert!(!password_only(&mut b, "eve"));
    assert!(
        b.get("/login/2fa")
            .body
            .contains("Remember this browser for 1 day<")
    );
    let r = second_factor(&mut b, &codes[0], true);
    assert!(r.set_cookie(COOKIE).unwrap().contains("Max-Age=86400"));
    drop(server);

    // Within the day it counts; after it, the code is asked again (the browser would have
    // dropped the cookie; a copy kept does not help).
    let server = serve_at(&env, 86_400 - 120);
    assert!(password_only(b.at(&server), "eve"));
    drop(server);
    let server = serve_at(&env, 86_400 + 60);
    assert!(!password_only(b.at(&server), "eve"));
    second_factor(&mut b, &codes[1], true);
    let api = admin_api(&env, &server);
    assert_eq!(
        sessions(&api, "eve")["remembered_browsers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    drop(server);

    // Remembered for 30 days, then the setting lowered to 1: older than a day, it no longer
    // counts.
    env.cli_ok(&["settings", "set", "remember.days", "30"]);
    let server = serve_at(&env, 86_400 + 120);
    b.cookies.retain(|(n, _)| n != COOKIE);
    assert!(!password_only(b.at(&server), "eve"));
    let r = second_factor(&mut b, &codes[2], true);
    assert!(r.set_cookie(COOKIE).unwrap().contains("Max-Age=2592000"));
    drop(server);
    let server = serve_at(&env, 2 * 86_400);
    assert!(password_only(b.at(&server), "eve"), "30 days: still good");
    drop(server);
    env.cli_ok(&["settings", "set", "remember.days", "1"]);
    let server = serve_at(&env, 3 * 86_400);
    assert!(!password_only(b.at(&server), "eve"), "lowered to 1 day");
    let api = admin_api(&env, &server);
    assert!(
        sessions(&api, "eve")["remembered_browsers"]
            .as_array()
            .unwrap()
            .is_empty(),
        "what no longer counts is not listed"
    );
}

fn whatever_signs_a_user_out_everywhere_forgets_their_browsers(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["settings", "set", "remember.days", "30"]);
    let server = env.serve();
    let api = admin_api(&env, &server);
    let remembered = |name: &str| -> (Browser, String, Vec<String>) {
        let (secret, codes) = client(&env, &api, name, "client");
        let mut b = Browser::new(&server);
        remember(&mut b, name, &codes[0]);
        assert!(password_only(&mut b, name));
        (b, secret, codes)
    };
    // Every browser of `name` is forgotten, every session ended, and that was audited with
    // `reason`.
    let forgotten = |name: &str, reason: &str| {
        let all = sessions(&api, name);
        assert!(
            all["remembered_browsers"].as_array().unwrap().is_empty(),
            "{name}: {all}"
        );
        assert!(
            all["sessions"].as_array().unwrap().is_empty(),
            "{name}: {all}"
        );
        let audit = audited(&api, name, "browser.forgotten");
        assert!(
            audit
                .iter()
                .any(|d| d.contains("count=1") && d.contains(&format!("reason={reason}"))),
            "{name}: {audit:?}"
        );
    };

    // A password change in Security Settings.
    let (mut b, _, _) = remembered("pam");
    let csrf = b.get("/account/security").csrf();
    let r = b.post(
        "/account/security/password",
        &[
            ("csrf", &csrf),
            ("current", PASSWORD),
            ("new", "another good password"),
            ("confirm", "another good password"),
        ],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/login?notice=password_changed")
    );
    forgotten("pam", "password_changed");
    // A password set by the operator.
    let (mut b, _, _) = remembered("pat");
    let out = env.cli_stdin(
        &["user", "set-password", "pat", "--password-stdin"],
        &format!("{PASSWORD}\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    forgotten("pat", "password_changed");
    assert!(
        !password_only(&mut b, "pat"),
        "same password again, but the code is asked"
    );

    // A 2FA reset through the API, then a new device: the old cookie asks for its code.
    let (mut b, _, _) = remembered("ray");
    assert_eq!(api.delete("/api/v1/users/ray/factors").status, 204);
    forgotten("ray", "2fa_reset");
    confirmed_totp(&api, "ray", "new phone");
    assert!(!password_only(&mut b, "ray"));
    // A 2FA reset by the operator.
    let (_, _, _) = remembered("rex");
    env.cli_ok(&["user", "reset-2fa", "rex"]);
    forgotten("rex", "2fa_reset");

    // Disabled, then enabled again.
    let (mut b, _, _) = remembered("dan");
    let r = api.patch("/api/v1/users/dan", json!({"disabled": true}));
    assert_eq!(r.status, 200, "{r:?}");
    forgotten("dan", "disabled");
    let r = api.patch("/api/v1/users/dan", json!({"disabled": false}));
    assert_eq!(r.status, 200, "{r:?}");
    assert!(!password_only(&mut b, "dan"));

    // Turning their own 2FA off.
    let (mut b, _, codes) = remembered("tia");
    let csrf = b.get("/account/security").csrf();
    let r = b.post(
        "/account/security/disable",
        &[("csrf", &csrf), ("password", PASSWORD), ("code", &codes[1])],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/login?notice=twofa_off_signed_out"),
        "{}",
        r.body
    );
    forgotten("tia", "2fa_reset");

    // The last factor removed by an administrator.
    let (_, _, _) = remembered("lou");
    let id = crate::portal::factors_of(&api, "lou")[0].0.clone();
    assert_eq!(
        api.delete(&format!("/api/v1/users/lou/factors/{id}"))
            .status,
        204
    );
    forgotten("lou", "last_factor_removed");

    // "Sign out everywhere" in Security Settings.
    let (mut b, _, _) = remembered("sue");
    let csrf = b.get("/account/security").csrf();
    let r = b.post("/account/security/sessions/end-all", &[("csrf", &csrf)]);
    assert_eq!(
        r.location.as_deref(),
        Some("/login?notice=signed_out_everywhere")
    );
    forgotten("sue", "user");
    assert!(!password_only(&mut b, "sue"));
}

fn tampered_and_garbage_cookies_are_ignored(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["settings", "set", "remember.days", "30"]);
    let server = env.serve();
    let api = admin_api(&env, &server);
    let (_, codes) = client(&env, &api, "gus", "client");
    let mut b = Browser::new(&server);
    let real = remember(&mut b, "gus", &codes[0]);
    let mut flipped = real.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let long = "A".repeat(129);
    let garbage = [
        flipped.as_str(),
        &real[..42],
        "garbage",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "%00%ff",
        "a=b",
        "\"quoted\"",
        "..%2F",
        long.as_str(),
    ];
    for value in garbage {
        let mut g = Browser::new(&server);
        g.cookies.push((COOKIE.to_owned(), value.to_owned()));
        assert!(
            !password_only(&mut g, "gus"),
            "{value:?} is no remembered browser"
        );
        // A signed-in page with it is fine too.
        second_factor(
            &mut g,
            &codes[1 + garbage.iter().position(|v| *v == value).unwrap()],
            false,
        );
        assert_eq!(g.get("/account/security").status, 200, "{value:?}");
    }
    assert!(audited(&api, "gus", "browser.remembered_used").is_empty());
    assert!(password_only(&mut b, "gus"), "the real one still works");
}

fn the_sessions_api_lists_and_signs_out_everywhere(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["settings", "set", "remember.days", "30"]);
    let validate = env.token("login-page", "validate");
    let server = env.serve();
    let api = admin_api(&env, &server);
    let (_, codes) = client(&env, &api, "ivy", "client");
    client(&env, &api, "joe", "client");
    let mut b = Browser::new(&server);
    remember(&mut b, "ivy", &codes[0]);
    let mut half = Browser::new(&server);
    assert!(!password_only(&mut half, "ivy"));

    // Both sessions, complete or not, and the remembered browser, with the page's handle.
    let all = sessions(&api, "ivy");
    let listed = all["sessions"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{all}");
    assert_eq!(
        listed.iter().filter(|s| s["complete"] == true).count(),
        1,
        "{all}"
    );
    for s in listed {
        for field in [
            "id",
            "browser",
            "ip",
            "created_at",
            "last_used_at",
            "expires_at",
        ] {
            assert!(!s[field].is_null(), "{field}: {all}");
        }
        assert_eq!(s["ip"], "127.0.0.1");
        assert!(s["expires_at"].as_i64() > s["last_used_at"].as_i64());
    }
    let browsers = all["remembered_browsers"].as_array().unwrap();
    assert_eq!(browsers.len(), 1, "{all}");
    let page = b.get("/account/security");
    assert_eq!(
        forget_handles(&page.body),
        [browsers[0]["id"].as_str().unwrap()]
    );
    assert!(
        page.body.contains(
            listed.iter().find(|s| s["complete"] == true).unwrap()["id"]
                .as_str()
                .unwrap()
        )
    );
    assert_eq!(browsers[0]["ip"], "127.0.0.1");
    let text = all.to_string();
    assert!(
        !text.contains(&b.cookie(COOKIE).unwrap()),
        "no cookie value"
    );
    assert!(
        !text.contains(&b.cookie("tf_session").unwrap()),
        "no session id"
    );
    assert!(
        sessions(&api, "joe")["sessions"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Unknown users are 404 as on every user route; other scopes are refused.
    for method in ["GET", "DELETE"] {
        let r = api.call(method, "/api/v1/users/nobody/sessions", None);
        assert_eq!(
            (r.status, r.error_code()),
            (404, "user_not_found"),
            "{method}"
        );
        let r = server
            .api(&validate)
            .call(method, "/api/v1/users/ivy/sessions", None);
        assert_eq!(r.status, 403, "{method}");
        let r = server
            .anonymous()
            .call(method, "/api/v1/users/ivy/sessions", None);
        assert_eq!(r.status, 401, "{method}");
    }
    assert_eq!(
        sessions(&api, "ivy")["sessions"].as_array().unwrap().len(),
        2
    );

    // DELETE: every session ends and the browser is forgotten, with the counts.
    let r = api.delete("/api/v1/users/ivy/sessions");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.json,
        json!({"sessions_ended": 2, "browsers_forgotten": 1})
    );
    let r = b.get("/account/security");
    assert_eq!(r.status, 303, "signed out");
    assert!(r.location.unwrap().starts_with("/login"));
    assert_eq!(
        half.get("/login/2fa").location.as_deref(),
        Some("/login?notice=expired")
    );
    assert!(
        !password_only(&mut b, "ivy"),
        "forgotten: the code is asked"
    );
    let audit = audited(&api, "ivy", "browser.forgotten");
    assert!(
        audit.iter().any(|d| d.contains("reason=admin")),
        "{audit:?}"
    );
    let audit = audited(&api, "ivy", "login.password");
    assert!(
        audit.iter().any(|d| d == "logout everywhere reason=admin"),
        "{audit:?}"
    );
    let r = api.delete("/api/v1/users/ivy/sessions");
    assert_eq!(
        r.json,
        json!({"sessions_ended": 1, "browsers_forgotten": 0}),
        "the pending one just made"
    );
}

const RULES: &str = r#"
[[access]]
domain = "*.example.test"
paths = ["/docs"]
policy = "one_factor"

[[access]]
domain = "*.example.test"
policy = "two_factor"
"#;

/// Behind https with a cookie domain: `tf_remember` is Secure and host-only (never on the
/// cookie domain, unlike `tf_session`: only the portal reads it, so the applications behind
/// forward authentication never receive it; one left on the domain from before is removed
/// whenever it is set or cleared), and a sign-in it completed passes an application's `two_factor` rule (a password-only
/// sign-in for a `one_factor` application does not).
fn behind_a_proxy_a_remembered_sign_in_passes_two_factor_rules(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["settings", "set", "remember.days", "30"]);
    let file = env.data_dir().join("twofold.toml");
    std::fs::write(&file, RULES).unwrap();
    let server = env.serve_with(&[
        ("TWOFOLD_CONFIG", file.to_str().unwrap()),
        ("TWOFOLD_PUBLIC_URL", "https://auth.example.test"),
        ("TWOFOLD_COOKIE_DOMAIN", "example.test"),
        ("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1"),
    ]);
    let api = admin_api(&env, &server);
    let (_, codes) = client(&env, &api, "fred", "client");
    let nginx = |b: &mut Browser, url: &str| {
        b.headers = vec![
            ("X-Original-URL".into(), url.into()),
            ("X-Original-Method".into(), "GET".into()),
        ];
        let r = b.get("/auth/nginx");
        b.headers.clear();
        r
    };

    let mut b = Browser::new(&server);
    assert!(!password_only(&mut b, "fred"));
    let r = second_factor(&mut b, &codes[0], true);
    let set: Vec<&str> = r
        .set_cookies()
        .into_iter()
        .filter(|c| c.starts_with("tf_remember="))
        .collect();
    assert_eq!(set.len(), 2, "{set:?}");
    assert!(
        set[0].contains("Max-Age=0") && set[0].contains("; Domain=example.test"),
        "a domain-scoped one from before goes: {set:?}"
    );
    for part in [
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=2592000",
    ] {
        assert!(set[1].contains(part), "{part}: {set:?}");
    }
    assert!(
        !set[1].to_ascii_lowercase().contains("domain"),
        "host-only: the applications under the cookie domain never receive it: {set:?}"
    );
    assert!(
        r.set_cookies()
            .into_iter()
            .any(|c| c.starts_with("tf_session=")
                && !c.contains("Max-Age=0")
                && c.contains("; Domain=example.test")),
        "while the session cookie is on the domain: {:?}",
        r.set_cookies()
    );

    // Signed in for a one_factor application with the password alone: the remembered browser
    // makes it a full sign-in, which a two_factor application lets through.
    b.cookies.retain(|(n, _)| n != "tf_session");
    let r = b.login("fred", PASSWORD, "https://app.example.test/docs");
    assert_eq!(
        r.location.as_deref(),
        Some("https://app.example.test/docs"),
        "{}",
        r.body
    );
    let r = nginx(&mut b, "https://app.example.test/");
    assert_eq!((r.status, r.header("remote-user")), (200, Some("fred")));
    assert_eq!(b.get("/account/security").status, 200, "a full session");

    // Without it, the same sign-in reaches the one_factor application only.
    let mut c = Browser::new(&server);
    let r = c.login("fred", PASSWORD, "https://app.example.test/docs");
    assert_eq!(r.location.as_deref(), Some("https://app.example.test/docs"));
    assert_eq!(nginx(&mut c, "https://app.example.test/docs").status, 200);
    assert_eq!(nginx(&mut c, "https://app.example.test/").status, 401);

    // Forgetting it removes the cookie from the domain too.
    let page = b.get("/account/security");
    let handle = forget_handles(&page.body).pop().unwrap();
    let r = b.post(
        "/account/security/browsers/forget",
        &[("csrf", &page.csrf()), ("browser", &handle)],
    );
    let cleared: Vec<&str> = r
        .set_cookies()
        .into_iter()
        .filter(|c| c.starts_with("tf_remember="))
        .collect();
    assert_eq!(cleared.len(), 2, "{cleared:?}");
    assert!(
        cleared.iter().all(|c| c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    assert!(
        cleared[0].contains("; Domain=example.test"),
        "one left on the domain from before goes too: {cleared:?}"
    );
    assert!(
        !cleared[1].to_ascii_lowercase().contains("domain"),
        "{cleared:?}"
    );
    assert!(b.cookie(COOKIE).is_none());
}

/// `remember.days` (0–365) and `remember.admins` are settings like the others: in the API
/// typed, refused out of range, in `settings show`, and on the admin page's General section.
fn the_settings_are_typed_checked_and_shown_everywhere(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    let api = admin_api(&env, &server);
    let all = api.get("/api/v1/settings").json;
    assert_eq!(all["settings"]["remember.days"], 0, "{all}");
    assert_eq!(all["settings"]["remember.admins"], false, "{all}");
    for bad in [json!(-1), json!(366), json!("soon"), json!(true)] {
        let r = api.patch("/api/v1/settings", json!({"remember.days": bad}));
        assert_eq!(
            (r.status, r.error_code()),
            (422, "invalid_setting"),
            "{bad}"
        );
    }
    let r = api.patch("/api/v1/settings", json!({"remember.admins": "maybe"}));
    assert_eq!((r.status, r.error_code()), (422, "invalid_setting"));
    set(&api, "remember.days", json!(365));
    set(&api, "remember.admins", json!(true));
    let shown = env.cli_ok(&["settings", "show"]);
    assert!(shown.contains("remember.days = 365"), "{shown}");
    assert!(shown.contains("remember.admins = true"), "{shown}");
    assert!(
        !env.cli(&["settings", "set", "remember.days", "400"])
            .status
            .success()
    );

    add_user(&env, "own", "owner", &[]);
    let mut b = Browser::new(&server);
    assert!(password_only(&mut b, "own"), "no 2FA yet");
    let page = b.get("/admin/settings");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("name=\"remember.days\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("name=\"remember.admins\""),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Remember a browser after its second factor for this many days (0: off)"),
        "{}",
        page.body
    );
}
