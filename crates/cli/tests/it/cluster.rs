//! Several `serve` processes on one PostgreSQL database: one-time things stay one-time and a
//! lockout holds on every node.

use serde_json::json;

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
