//! Forward authentication over plain HTTP, as a reverse proxy asks it: `/auth/nginx` and
//! `/auth/forward` answer from the portal session and the `[[access]]` rules; sign-ins made for
//! an application go as far as its rule asks; `next=` and `/logout?next=` follow only URLs under
//! the cookie domain; only trusted proxies are answered. (Real nginx and Caddy in front of an
//! application are in `forward_auth_proxies.rs`, a real browser in e2e/.)

use crate::on_both;
use crate::portal::{Browser, PASSWORD, Page, add_user, admin_api, confirmed_totp};
use crate::support::{Db, Env, Server, skip_postgres, totp};

on_both!(
    the_answer_follows_the_session_and_the_rules,
    a_sign_in_goes_as_far_as_the_rule_of_next_asks,
    next_and_logout_follow_only_urls_under_the_cookie_domain,
    only_trusted_proxies_are_answered_and_nothing_sets_a_cookie,
    a_password_change_ends_what_passed,
);

pub(crate) const PUBLIC: &str = "http://auth.example.test:8443";

const RULES: &str = r#"
[[access]]
domain = "public.example.test"
policy = "bypass"

[[access]]
domain = "app.example.test"
paths = ["/public"]
policy = "bypass"

[[access]]
domain = "*.example.test"
paths = ["/admin"]
roles = ["admin", "owner"]
policy = "two_factor"

[[access]]
domain = "*.example.test"
paths = ["/admin"]
policy = "deny"

[[access]]
domain = "*.example.test"
paths = ["/docs"]
policy = "one_factor"

[[access]]
domain = "*.example.test"
policy = "two_factor"
"#;

/// A server behind a proxy at 127.0.0.1, with the rules above (`trusted`: whether that proxy
/// is trusted).
pub(crate) fn serve(env: &Env, trusted: bool) -> Server {
    let file = env.data_dir().join("twofold.toml");
    std::fs::write(&file, RULES).unwrap();
    let proxies = if trusted { "127.0.0.1" } else { "10.9.9.9" };
    env.serve_with(&[
        ("TWOFOLD_CONFIG", file.to_str().unwrap()),
        ("TWOFOLD_PUBLIC_URL", PUBLIC),
        ("TWOFOLD_COOKIE_DOMAIN", "example.test"),
        ("TWOFOLD_TRUSTED_PROXIES", proxies),
    ])
}

/// What nginx's `auth_request` asks about `url`, with the browser's cookies.
fn nginx(b: &mut Browser, url: &str) -> Page {
    b.headers = vec![
        ("X-Original-URL".into(), url.into()),
        ("X-Original-Method".into(), "GET".into()),
    ];
    let r = b.get("/auth/nginx");
    b.headers.clear();
    r
}

/// What Traefik or Caddy ask about `method` `url`.
fn forward(b: &mut Browser, method: &str, url: &str) -> Page {
    let (proto, rest) = url.split_once("://").unwrap();
    let cut = rest.find('/').unwrap_or(rest.len());
    let (host, uri) = rest.split_at(cut);
    b.headers = vec![
        ("X-Forwarded-Method".into(), method.into()),
        ("X-Forwarded-Proto".into(), proto.into()),
        ("X-Forwarded-Host".into(), host.into()),
        ("X-Forwarded-Uri".into(), uri.into()),
    ];
    let r = b.get("/auth/forward");
    b.headers.clear();
    r
}

pub(crate) fn login_url(next: &str) -> String {
    let enc: String = next
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("{PUBLIC}/login?next={enc}")
}

/// Password and TOTP in the portal, going to `next`; the answer of the last step. (The step
/// the factor was confirmed with is used: `step` is a later one.)
pub(crate) fn sign_in(b: &mut Browser, user: &str, secret: &str, step: i64, next: &str) -> Page {
    let r = b.login(user, PASSWORD, next);
    assert_eq!(r.location.as_deref(), Some("/login/2fa"), "{}", r.body);
    b.second_factor(&totp(secret, step), false)
}

fn the_answer_follows_the_session_and_the_rules(db: Db) {
    let env = Env::new(db);
    let server = serve(&env, true);
    let api = admin_api(&env, &server);
    add_user(&env, "carl", "client", &["--email", "carl@example.test"]);
    let carl = confirmed_totp(&api, "carl", "phone").1;
    add_user(&env, "ada", "admin", &[]);
    let ada = confirmed_totp(&api, "ada", "phone").1;
    let app = "http://app.example.test/";

    // Nobody signed in: nginx gets 401 with the login in Location; Traefik/Caddy a 302 for GET
    // and HEAD, 401 for other methods.
    let mut anon = Browser::new(&server);
    let r = nginx(&mut anon, app);
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some(login_url(app).as_str()));
    let r = forward(&mut anon, "GET", "http://app.example.test/a?b=c");
    assert_eq!(r.status, 302);
    assert_eq!(
        r.location.as_deref(),
        Some(login_url("http://app.example.test/a?b=c").as_str())
    );
    assert_eq!(forward(&mut anon, "HEAD", app).status, 302);
    assert_eq!(forward(&mut anon, "POST", app).status, 401);
    // A bypass rule passes anyone, and names nobody (the headers are there, empty, for a proxy
    // that copies them); a host no rule covers is denied.
    for url in [
        "http://public.example.test/x",
        "http://app.example.test/public/x",
    ] {
        let r = nginx(&mut anon, url);
        assert_eq!(r.status, 200, "{url}");
        for name in ["remote-user", "remote-email", "remote-role"] {
            assert_eq!(r.header(name), Some(""), "{url} {name}");
        }
    }
    assert_eq!(nginx(&mut anon, "http://elsewhere.test/").status, 403);
    // A URL that cannot be read is a bad request, not a pass.
    for bad in [
        "app.example.test/",
        "ftp://app.example.test/",
        "http://app.example.test/%zz",
    ] {
        assert_eq!(nginx(&mut anon, bad).status, 400, "{bad}");
    }

    // carl, signed in with both factors: the whole app but the admin area.
    let mut b = Browser::new(&server);
    let r = sign_in(&mut b, "carl", &carl, 1, app);
    assert_eq!(r.location.as_deref(), Some(app), "{}", r.body);
    let r = nginx(&mut b, app);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("remote-user"), Some("carl"));
    assert_eq!(r.header("remote-email"), Some("carl@example.test"));
    assert_eq!(r.header("remote-role"), Some("client"));
    let r = forward(&mut b, "POST", "http://wiki.example.test/docs/x");
    assert_eq!((r.status, r.header("remote-user")), (200, Some("carl")));
    // The rule for admins does not apply to him; the next one denies.
    for sneaky in [
        "http://app.example.test/admin",
        "http://app.example.test/admin/users",
        "http://app.example.test/%61dmin",
        "http://app.example.test/ADMIN",
        "http://app.example.test//admin",
        "http://APP.example.test:8080/admin;x",
    ] {
        assert_eq!(nginx(&mut b, sneaky).status, 403, "{sneaky}");
    }
    // Dot segments are refused whichever way they point: an application might resolve
    // `/admin/..%2Fdocs` under /admin.
    for dots in [
        "http://app.example.test/docs/../admin",
        "http://app.example.test/admin/../docs",
        "http://app.example.test/admin/..%2Fdocs",
        "http://app.example.test/admin/%2e%2e/docs",
        "http://app.example.test/admin/..;/docs",
    ] {
        assert_eq!(nginx(&mut b, dots).status, 400, "{dots}");
    }
    // A proxy that leaves out part of the request is told so, not judged on a guess.
    b.headers = vec![
        ("X-Forwarded-Proto".into(), "http".into()),
        ("X-Forwarded-Host".into(), "app.example.test".into()),
    ];
    assert_eq!(b.get("/auth/forward").status, 400);
    b.headers.clear();

    // ada, an admin: the admin area too.
    let mut a = Browser::new(&server);
    let admin = "http://app.example.test/admin/users";
    let r = sign_in(&mut a, "ada", &ada, 1, admin);
    assert_eq!(r.location.as_deref(), Some(admin), "{}", r.body);
    let r = nginx(&mut a, admin);
    assert_eq!((r.status, r.header("remote-role")), (200, Some("admin")));

    // A half-signed-in session (the password only) passes nothing: not a two_factor rule, not
    // even a one_factor one (it was made for the second factor, not for the docs).
    let mut half = Browser::new(&server);
    let r = half.login("carl", PASSWORD, app);
    assert_eq!(r.location.as_deref(), Some("/login/2fa"));
    assert_eq!(nginx(&mut half, app).status, 401);
    assert_eq!(nginx(&mut half, "http://app.example.test/docs").status, 401);

    // Signing out on the portal: the app asks again.
    let csrf = b.get("/account/security").csrf();
    let r = b.post("/logout", &[("csrf", &csrf)]);
    assert_eq!(r.status, 303);
    assert_eq!(nginx(&mut b, app).status, 401);
}

fn a_sign_in_goes_as_far_as_the_rule_of_next_asks(db: Db) {
    let env = Env::new(db);
    let server = serve(&env, true);
    let api = admin_api(&env, &server);
    add_user(&env, "dora", "client", &[]);
    let dora = confirmed_totp(&api, "dora", "phone").1;
    add_user(&env, "nell", "client", &[]);
    let docs = "http://app.example.test/docs/";
    let app = "http://app.example.test/";

    // A one_factor application: the password alone sends her back, with a session that the
    // cookie domain carries to the application.
    let mut b = Browser::new(&server);
    let r = b.login("dora", PASSWORD, docs);
    assert_eq!(r.location.as_deref(), Some(docs), "{}", r.body);
    let set = domain_cookie(&r);
    assert!(set.contains("; Domain=example.test"), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert_eq!(nginx(&mut b, docs).status, 200);
    // ... but not a two_factor one, nor the portal: both ask for the second factor first.
    assert_eq!(nginx(&mut b, app).status, 401);
    let r = b.get("/account/security");
    assert_eq!(r.status, 303);
    assert!(
        r.location.as_deref().unwrap().starts_with("/login"),
        "{r:?}",
        r = r.location
    );
    let before = b.cookie("tf_session").unwrap();
    let r = b.get(&format!(
        "/login?next={}",
        &login_url(app)[PUBLIC.len() + 12..]
    ));
    assert_eq!(r.location.as_deref(), Some("/login/2fa"), "{}", r.body);
    assert_ne!(
        b.cookie("tf_session").unwrap(),
        before,
        "a new id for the next step"
    );
    let r = b.second_factor(&totp(&dora, 1), false);
    assert_eq!(r.location.as_deref(), Some(app), "{}", r.body);
    assert_eq!(nginx(&mut b, app).status, 200);
    assert_eq!(b.get("/account/security").status, 200);

    // A user without a factor meets a two_factor rule: enrolment first.
    let mut n = Browser::new(&server);
    let r = n.login("nell", PASSWORD, app);
    assert_eq!(r.location.as_deref(), Some("/login/enroll"), "{}", r.body);
    assert_eq!(nginx(&mut n, app).status, 401);
    // Signed in to the portal without 2FA, the app sends her to enrolment too.
    let mut n2 = Browser::new(&server);
    let r = n2.login("nell", PASSWORD, "");
    assert_eq!(r.location.as_deref(), Some("/account/security"));
    assert_eq!(nginx(&mut n2, app).status, 401);
    assert_eq!(
        nginx(&mut n2, docs).status,
        200,
        "the password is enough there"
    );
    let r = n2.get(&format!(
        "/login?next={}",
        &login_url(app)[PUBLIC.len() + 12..]
    ));
    assert_eq!(r.location.as_deref(), Some("/login/enroll"), "{}", r.body);
}

fn next_and_logout_follow_only_urls_under_the_cookie_domain(db: Db) {
    let env = Env::new(db);
    let server = serve(&env, true);
    add_user(&env, "olly", "client", &[]);
    // (Places a sign-in with the password only may go to: one_factor, or no rule.)
    for good in [
        "http://app.example.test/docs",
        "http://example.test/x?y=z",
        "http://deep.app.example.test:8080/docs/p",
        "/account/security",
    ] {
        let mut b = Browser::new(&server);
        let r = b.login("olly", PASSWORD, good);
        assert_eq!(r.location.as_deref(), Some(good), "{good}");
        let csrf = b.get("/account/security").csrf();
        let r = b.post(&format!("/logout?next={}", enc(good)), &[("csrf", &csrf)]);
        assert_eq!(r.location.as_deref(), Some(good), "logout to {good}");
    }
    for bad in [
        "https://app.example.test/",
        "http://evil.example/",
        "http://example.test.evil.example/",
        "http://evilexample.test/",
        "http://app.example.test@evil.example/",
        "http://evil.example\\@app.example.test/",
        "http://evil.example%2F@app.example.test/",
        "http://evil.example%2f.example.test/",
        "http:/\\evil.example",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)//example.test",
        "data:text/html,hi",
        "HTTP://app.example.test/",
    ] {
        let mut b = Browser::new(&server);
        let r = b.login("olly", PASSWORD, bad);
        assert_eq!(
            r.location.as_deref(),
            Some("/account/security"),
            "login next={bad}"
        );
        let csrf = b.get("/account/security").csrf();
        let r = b.post(&format!("/logout?next={}", enc(bad)), &[("csrf", &csrf)]);
        assert_eq!(
            r.location.as_deref(),
            Some("/login?notice=logged_out"),
            "logout next={bad}"
        );
    }
    // An application's "Sign out" link asks before it signs anyone out.
    let mut b = Browser::new(&server);
    b.login("olly", PASSWORD, "");
    let r = b.get("/logout?next=http%3A%2F%2Fapp.example.test%2Fdocs");
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("action=\"/logout?next=http%3A//app.example.test/docs\""),
        "{}",
        r.body
    );
    assert_eq!(b.get("/account/security").status, 200, "still signed in");
    // The form may send the browser on to the application.
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("form-action 'self' http://example.test:* http://*.example.test:*"),
        "{csp}"
    );
}

/// The `Set-Cookie` of the session on the cookie domain; the answer also removes a host-only
/// one left from before the cookie domain was configured.
fn domain_cookie(r: &Page) -> String {
    let sets: Vec<&str> = r
        .set_cookies()
        .into_iter()
        .filter(|v| v.starts_with("tf_session="))
        .collect();
    assert!(
        sets.iter().any(|v| v.starts_with("tf_session=;")
            && v.contains("Max-Age=0")
            && !v.contains("Domain=")),
        "{sets:?}"
    );
    sets.into_iter()
        .find(|v| v.contains("; Domain="))
        .unwrap_or_else(|| panic!("no session cookie on the domain in {:?}", r.set_cookies()))
        .to_owned()
}

fn enc(s: &str) -> String {
    login_url(s)[PUBLIC.len() + 12..].to_owned()
}

fn only_trusted_proxies_are_answered_and_nothing_sets_a_cookie(db: Db) {
    let env = Env::new(db);
    let server = serve(&env, false);
    add_user(&env, "tess", "client", &[]);
    let mut b = Browser::new(&server);
    b.login("tess", PASSWORD, "");
    // A peer that is not a trusted proxy gets nothing, whatever it claims.
    for url in [
        "http://public.example.test/",
        "http://app.example.test/docs",
    ] {
        let r = nginx(&mut b, url);
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("untrusted_proxy"), "{}", r.body);
        b.headers = vec![("X-Forwarded-For".into(), "10.9.9.9".into())];
        let r = forward(&mut b, "GET", url);
        assert_eq!(r.status, 403);
        assert!(r.body.contains("untrusted_proxy"));
    }
    drop(server);
    let server = serve(&env, true);
    let mut b = Browser::new(&server);
    b.login("tess", PASSWORD, "");
    for url in [
        "http://public.example.test/",
        "http://app.example.test/docs",
        "http://app.example.test/",
        "http://app.example.test/admin",
    ] {
        let r = nginx(&mut b, url);
        assert!(r.set_cookies().is_empty(), "{url}: {:?}", r.set_cookies());
        assert_eq!(r.header("cache-control"), Some("no-store"));
        let r = forward(&mut b, "GET", url);
        assert!(r.set_cookies().is_empty(), "{url}");
    }
}

fn a_password_change_ends_what_passed(db: Db) {
    let env = Env::new(db);
    let server = serve(&env, true);
    add_user(&env, "pete", "client", &[]);
    let docs = "http://app.example.test/docs";
    let mut b = Browser::new(&server);
    b.login("pete", PASSWORD, docs);
    assert_eq!(nginx(&mut b, docs).status, 200);
    let out = env.cli_stdin(
        &["user", "set-password", "pete", "--password-stdin"],
        "another good password\n",
    );
    assert!(out.status.success());
    assert_eq!(nginx(&mut b, docs).status, 401);
}

/// A session made on one node passes `/auth/nginx` on the other (PostgreSQL).
#[test]
fn a_session_from_one_node_passes_on_the_other() {
    if skip_postgres() {
        return;
    }
    let env = Env::new(Db::Postgres);
    let a = serve(&env, true);
    let b = serve(&env, true);
    let api = admin_api(&env, &a);
    add_user(&env, "nina", "client", &[]);
    let secret = confirmed_totp(&api, "nina", "phone").1;
    let app = "http://app.example.test/";
    let mut browser = Browser::new(&a);
    let r = sign_in(&mut browser, "nina", &secret, 1, app);
    assert_eq!(r.location.as_deref(), Some(app));
    let r = nginx(browser.at(&b), app);
    assert_eq!((r.status, r.header("remote-user")), (200, Some("nina")));
}

/// A bad rule stops `serve` with one line that names it.
#[test]
fn a_bad_rule_stops_serve_with_one_line() {
    let env = Env::new(Db::Sqlite);
    let file = env.data_dir().join("twofold.toml");
    std::fs::write(
        &file,
        "[[access]]\ndomain = \"*.example.test\"\npolicy = \"one_factor\"\n\n\
         [[access]]\ndomain = \"app.example.test\"\nroles = [\"root\"]\npolicy = \"deny\"\n",
    )
    .unwrap();
    let out = env.cli(&["serve", "--config", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.trim_end(),
        format!(
            "error: configuration file {}: access rule 2 (domain \"app.example.test\"): \
             role \"root\" is not one of client, admin, owner",
            file.display()
        ),
    );
}

/// Behind https the session cookie for the applications is `Secure` too (and still HttpOnly,
/// SameSite=Lax, on the cookie domain); signing out removes it from that domain.
#[test]
fn the_cookie_domain_cookie_is_secure_behind_https() {
    let env = Env::new(Db::Sqlite);
    let server = env.serve_with(&[
        ("TWOFOLD_PUBLIC_URL", "https://auth.example.test"),
        ("TWOFOLD_COOKIE_DOMAIN", "example.test"),
    ]);
    add_user(&env, "sid", "client", &[]);
    let mut b = Browser::new(&server);
    let r = b.login("sid", PASSWORD, "https://app.example.test/");
    assert_eq!(r.location.as_deref(), Some("https://app.example.test/"));
    // A browser that still sends a host-only cookie from before the cookie domain (sent first,
    // as browsers do) is signed in by the domain's.
    let live = b.cookie("tf_session").unwrap();
    let mut both = Browser::new(&server);
    both.headers = vec![(
        "Cookie".into(),
        format!("tf_session={}; tf_session={live}", "ab".repeat(32)),
    )];
    assert_eq!(both.get("/account/security").status, 200);
    let set = domain_cookie(&r);
    for part in [
        "; Domain=example.test",
        "; Secure",
        "; HttpOnly",
        "; SameSite=Lax",
    ] {
        assert!(set.contains(part), "{set} lacks {part}");
    }
    let csrf = b.get("/account/security").csrf();
    let r = b.post("/logout", &[("csrf", &csrf)]);
    let gone = domain_cookie(&r);
    assert!(
        gone.contains("Max-Age=0") && gone.contains("; Domain=example.test"),
        "{gone}"
    );
}
