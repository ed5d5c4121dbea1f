//! Several `serve` processes on one PostgreSQL database: one-time things stay one-time, a
//! lockout holds on every node, and a portal session works on any node.

use serde_json::json;

use crate::portal::{Browser, PASSWORD, add_user, admin_api, confirmed_totp};
use crate::support::{Db, Env, skip_postgres, totp, wrong_code};

#[test]
fn two_nodes_share_replay_protection_and_lockout() {
    if skip_postgres() {
        return;
    }
    let env = Env::new(Db::Postgres);
    let token = env.token("app", "admin");
    let a = env.serve();
    let b = env.serve();
    let (api_a, api_b) = (a.api(&token), b.api(&token));
    let (secret, codes) = api_a.enrolled_user("olga");

    let code = totp(&secret, 1);
    assert_eq!(api_a.validate("olga", &code)["ok"], true);
    assert_eq!(
        api_b.validate("olga", &code),
        json!({"ok": false, "reason": "invalid_code"})
    );
    assert_eq!(api_b.validate("olga", &codes[0])["ok"], true);
    assert_eq!(api_a.validate("olga", &codes[0])["ok"], false);

    // 50 requests for one backup code spread over both nodes: one wins.
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let api = if i % 2 == 0 {
                api_a.clone()
            } else {
                api_b.clone()
            };
            let c = codes[1].clone();
            std::thread::spawn(move || api.validate("olga", &c)["ok"] == json!(true))
        })
        .collect();
    let wins = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|w| *w)
        .count();
    assert_eq!(wins, 1);

    // A lockout made on A holds on B.
    api_a.post_empty("/api/v1/users/olga/unlock");
    api_a.patch("/api/v1/settings", json!({"lockout.max_failures": 2}));
    let wrong = wrong_code(&secret);
    api_a.validate("olga", &wrong);
    api_a.validate("olga", &wrong);
    assert_eq!(
        api_b.validate("olga", &codes[2]),
        json!({"ok": false, "reason": "locked"})
    );
    assert_eq!(api_b.post_empty("/api/v1/users/olga/unlock").status, 204);
    assert_eq!(api_a.validate("olga", &codes[2])["ok"], true);
}

/// A portal session lives in the database: each step of a login may land on either node.
#[test]
fn a_portal_session_works_on_every_node() {
    if skip_postgres() {
        return;
    }
    let env = Env::new(Db::Postgres);
    let a = env.serve();
    let b = env.serve();
    let secret = {
        let api = admin_api(&env, &a);
        add_user(&env, "pia", "client", &[]);
        confirmed_totp(&api, "pia", "phone").1
    };
    let mut browser = Browser::new(&a);

    // The password on A; the second-factor page on A, its form posted to B.
    let r = browser.login("pia", PASSWORD, "");
    assert_eq!(r.location.as_deref(), Some("/login/2fa"));
    let half = browser.cookie("tf_session").unwrap();
    let csrf = browser.get("/login/2fa").csrf();
    let r = browser.at(&b).post(
        "/login/2fa",
        &[("csrf", &csrf), ("code", &totp(&secret, 1))],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
    let full = browser.cookie("tf_session").unwrap();
    assert_ne!(half, full);

    // The full session on A; logout (with A's form) on B.
    let page = browser.at(&a).get("/account/security");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Signed in as pia"));
    let r = browser.at(&b).post("/logout", &[("csrf", &page.csrf())]);
    assert_eq!(r.location.as_deref(), Some("/login?notice=logged_out"));

    // The old cookie is dead on A too (and the half-logged-in one on both).
    for (server, cookie) in [(&a, &full), (&a, &half), (&b, &half)] {
        let mut stale = Browser::new(server);
        stale.cookies.push(("tf_session".into(), cookie.clone()));
        let r = stale.get("/account/security");
        assert_eq!(r.status, 303);
        assert!(r.location.unwrap().starts_with("/login"), "{}", server.base);
    }
}
