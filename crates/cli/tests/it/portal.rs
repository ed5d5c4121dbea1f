//! The portal's security properties over plain HTTP (the browser suite in e2e/ covers the flows):
//! CSRF on every POST route, sessions and their stages, cookies (Secure behind https), redirects,
//! throttling, headers, what forced roles may not undo, and which services a role is offered.

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use crate::on_both;
use crate::support::{Api, Db, Env, Server, totp};

on_both!(
    csrf_is_required_on_every_form,
    half_logged_in_sessions_reach_only_the_second_factor,
    wrong_passwords_are_throttled_never_locked_and_alike_for_unknown_users,
    roles_guard_the_admin_area,
    cookies_are_secure_when_the_public_url_is_https,
    every_post_route_refuses_a_missing_or_foreign_csrf_token,
    forced_roles_cannot_turn_2fa_off_or_remove_their_last_factor,
    choose_a_service_offers_the_methods_active_and_enabled_for_the_role,
    send_me_a_code_only_for_a_usable_email_or_sms_factor,
);

/// A browser without redirects: it keeps cookies and shows every answer. `base` is the server it
/// talks to; pointing it at another node keeps the cookies (as a load balancer would).
pub(crate) struct Browser {
    agent: ureq::Agent,
    pub(crate) base: String,
    pub(crate) cookies: Vec<(String, String)>,
    /// The CSRF token of the last login form this browser loaded (bound to its `tf_pre`).
    pub(crate) pre_csrf: Option<String>,
    /// Headers sent with every request (e.g. `X-Forwarded-For` through a trusted proxy).
    pub(crate) headers: Vec<(String, String)>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
    pub(crate) headers: Vec<(String, String)>,
}

/// The sentence of a refused form.
pub(crate) const CSRF_REFUSED: &str = "The form expired or was not sent from this site.";

impl Page {
    pub(crate) fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("a form with a csrf field in {}", self.body));
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every `Set-Cookie` value of the answer.
    pub(crate) fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `Set-Cookie` value for cookie `name`.
    pub(crate) fn set_cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies()
            .into_iter()
            .find(|v| v.split_once('=').is_some_and(|(n, _)| n == name))
    }

    /// The text of the element with `id` (up to its first tag), e.g. the TOTP secret shown on
    /// the enrolment page.
    pub(crate) fn text_of(&self, id: &str) -> String {
        let marker = format!("id=\"{id}\"");
        let at = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no #{id} in {}", self.body));
        let rest = &self.body[at..];
        let rest = &rest[rest.find('>').unwrap() + 1..];
        rest[..rest.find('<').unwrap()].trim().to_owned()
    }
}

impl Browser {
    pub(crate) fn new(server: &Server) -> Browser {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Browser {
            agent,
            base: server.base.clone(),
            cookies: Vec::new(),
            pre_csrf: None,
            headers: Vec::new(),
        }
    }

    /// From now on, talks to `server` (with the same cookies).
    pub(crate) fn at(&mut self, server: &Server) -> &mut Browser {
        self.base = server.base.clone();
        self
    }

    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    pub(crate) fn request(
        &mut self,
        method: &str,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Page {
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
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
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
                                .replace('=', "%3D")
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

    pub(crate) fn get(&mut self, path: &str) -> Page {
        self.request("GET", path, None)
    }

    pub(crate) fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.request("POST", path, Some(form))
    }

    /// The password step.
    pub(crate) fn login(&mut self, user: &str, password: &str, next: &str) -> Page {
        let csrf = self.get("/login").csrf();
        self.pre_csrf = Some(csrf.clone());
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

    /// The second-factor step with a code (a backup code when `backup`), with the page's token.
    pub(crate) fn second_factor(&mut self, code: &str, backup: bool) -> Page {
        let csrf = self.get("/login/2fa").csrf();
        let method = if backup { "backup_code" } else { "" };
        self.post(
            "/login/2fa",
            &[("csrf", &csrf), ("code", code), ("method", method)],
        )
    }

    /// Password and a backup code: a full session (the backup code spares TOTP steps).
    pub(crate) fn login_with_backup_code(&mut self, user: &str, code: &str) {
        let r = self.login(user, PASSWORD, "");
        assert_eq!(r.location.as_deref(), Some("/login/2fa"), "{}", r.body);
        let r = self.second_factor(code, true);
        assert_eq!(
            r.location.as_deref(),
            Some("/account/security"),
            "{}",
            r.body
        );
    }
}

/// The password of every user these tests create.
pub(crate) const PASSWORD: &str = "a good password";

/// Creates a user with the CLI (password [`PASSWORD`]).
pub(crate) fn add_user(env: &Env, name: &str, role: &str, extra: &[&str]) {
    let mut args = vec!["user", "add", name, "--role", role, "--password-stdin"];
    args.extend_from_slice(extra);
    let out = env.cli_stdin(&args, &format!("{PASSWORD}\n"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An admin-scope API client for `server`.
pub(crate) fn admin_api(env: &Env, server: &Server) -> Api {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let token = env.token(
        &format!("portal-{}", N.fetch_add(1, Ordering::SeqCst)),
        "admin",
    );
    server.api(&token)
}

/// A confirmed TOTP factor for an existing user: (factor id, secret, backup codes if first).
pub(crate) fn confirmed_totp(api: &Api, name: &str, label: &str) -> (String, String, Vec<String>) {
    let (id, secret) = api.start_totp(name, Some(label));
    let r = api.post(
        &format!("/api/v1/users/{name}/factors/{id}/confirm"),
        serde_json::json!({"code": totp(&secret, 0)}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let codes = r.json["backup_codes"]
        .as_array()
        .map(|a| a.iter().map(|c| c.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    (id, secret, codes)
}

/// A user of `role` with a confirmed TOTP factor: (secret, backup codes).
pub(crate) fn user_with_totp_codes(
    env: &Env,
    server: &Server,
    name: &str,
    role: &str,
) -> (String, Vec<String>) {
    add_user(env, name, role, &[]);
    let api = admin_api(env, server);
    let (_, secret, codes) = confirmed_totp(&api, name, "phone");
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

fn user_with_totp(env: &Env, server: &Server, name: &str, role: &str) -> String {
    user_with_totp_codes(env, server, name, role).0
}

/// The user as the API shows it.
pub(crate) fn user_json(api: &Api, name: &str) -> Value {
    let r = api.get(&format!("/api/v1/users/{name}"));
    assert_eq!(r.status, 200, "{r:?}");
    r.json
}

/// (id, confirmed) of each factor of a user.
pub(crate) fn factors_of(api: &Api, name: &str) -> Vec<(String, bool)> {
    user_json(api, name)["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["confirmed"].as_bool().unwrap(),
            )
        })
        .collect()
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
    let (secret, codes) = user_with_totp_codes(&env, &server, "ben", "admin");
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
    let page = b.get("/login/2fa");
    assert!(page.body.contains("Signing in as ben"), "{}", page.body);
    assert!(!page.body.contains("Signed in as"), "not signed in yet");
    assert!(!page.body.contains("Security Settings"), "no menu yet");
    let csrf = page.csrf();
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
    let admin = b.get("/admin");
    assert_eq!(admin.status, 200);
    assert!(admin.body.contains("Signed in as ben"), "{}", admin.body);

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

    // A local next= survives the second factor (a backup code: the TOTP steps near now are used).
    let mut c = Browser::new(&server);
    let r = c.login("ben", "a good password", "/admin/users?q=b");
    assert_eq!(r.location.as_deref(), Some("/login/2fa"));
    let r = c.second_factor(&codes[0], true);
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/admin/users?q=b"));
    assert_eq!(c.get("/admin/users?q=b").status, 200);

    // A half-logged-in session lasts 5 minutes: its expiry is stored 300 s after its start, and
    // once that has passed (moved into the past in the database) it is refused.
    let mut d = Browser::new(&server);
    d.login("ben", "a good password", "");
    let d_csrf = d.get("/login/2fa").csrf();
    let ttls = pending_session_ttls_then_expire(&env);
    assert!(
        !ttls.is_empty() && ttls.iter().all(|t| t == "300"),
        "pending sessions last 300 s: {ttls:?}"
    );
    let r = d.get("/login/2fa");
    assert_eq!(r.location.as_deref(), Some("/login?notice=expired"));
    assert_eq!(c.get("/admin").status, 200, "a full session is not touched");
    let r = d.post(
        "/login/2fa",
        &[
            ("csrf", &d_csrf),
            ("code", &codes[1]),
            ("method", "backup_code"),
        ],
    );
    assert_eq!(r.location.as_deref(), Some("/login?notice=expired"));
    // The expired session did not spend the backup code.
    let mut e = Browser::new(&server);
    e.login_with_backup_code("ben", &codes[1]);
}

/// The lifetimes (`expires_at - created_at`) of the sessions waiting for a second factor, which
/// are then moved into the past: python's sqlite3 on SQLite, psql on PostgreSQL.
fn pending_session_ttls_then_expire(env: &Env) -> Vec<String> {
    let select = "select expires_at-created_at from sessions where stage='second_factor'";
    let update = "update sessions set expires_at=created_at-1 where stage='second_factor'";
    let out = match env.db {
        Db::Sqlite => {
            let script = format!(
                "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\n\
                 r=c.execute(\"{select}\").fetchall()\n\
                 print('\\n'.join(str(x[0]) for x in r))\n\
                 c.execute(\"{update}\")\nc.commit()"
            );
            Command::new("python3")
                .args(["-c", &script])
                .arg(env.data_dir().join("twofold.db"))
                .output()
                .unwrap()
        }
        Db::Postgres => Command::new("psql")
            .args([&env.database_url, "-q", "-At", "-c", select, "-c", update])
            .output()
            .expect("psql"),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("UPDATE"))
        .map(str::to_owned)
        .collect()
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
    // The account is not locked: after the delay the right password works. (The throttle is
    // kept in the database: a server of the same database whose clock is past the delay stands
    // in for waiting it out.)
    drop(server);
    let offset = (wait + 1).to_string();
    let server = env.serve_with(&[("TWOFOLD_TEST_CLOCK_OFFSET", &offset)]);
    let r = b.at(&server).login("cat", "a good password", "");
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

/// Whether a `Set-Cookie` value carries the `Secure` attribute.
fn is_secure(set_cookie: &str) -> bool {
    set_cookie
        .split(';')
        .skip(1)
        .any(|a| a.trim().eq_ignore_ascii_case("secure"))
}

fn cookies_are_secure_when_the_public_url_is_https(db: Db) {
    let env = Env::new(db);
    let (_, codes) = {
        let server = env.serve();
        user_with_totp_codes(&env, &server, "cora", "client")
    };
    // (public URL, whether cookies must be Secure); an empty value is no public URL at all.
    let cases = [
        ("https://2fa.example.com", true),
        ("http://2fa.example.com", false),
        ("", false),
    ];
    for (n, (public_url, secure)) in cases.into_iter().enumerate() {
        let server = env.serve_with(&[("TWOFOLD_PUBLIC_URL", public_url)]);
        let mut b = Browser::new(&server);
        let what = |step: &str| format!("{step} with public URL {public_url:?}");

        let page = b.get("/login");
        let pre = page.set_cookie("tf_pre").expect("GET /login sets tf_pre");
        assert_eq!(is_secure(pre), secure, "{}: {pre}", what("tf_pre"));
        assert!(
            pre.contains("HttpOnly") && pre.contains("SameSite=Lax"),
            "{pre}"
        );

        let csrf = page.csrf();
        let r = b.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("username", "cora"),
                ("password", PASSWORD),
            ],
        );
        assert_eq!(r.location.as_deref(), Some("/login/2fa"), "{}", r.body);
        let half = r
            .set_cookie("tf_session")
            .expect("the login sets tf_session");
        assert_eq!(is_secure(half), secure, "{}: {half}", what("login"));
        assert!(
            half.contains("HttpOnly") && half.contains("SameSite=Lax"),
            "{half}"
        );

        let r = b.second_factor(&codes[n], true);
        assert_eq!(
            r.location.as_deref(),
            Some("/account/security"),
            "{}",
            r.body
        );
        let full = r
            .set_cookie("tf_session")
            .expect("the second factor sets tf_session");
        assert_eq!(is_secure(full), secure, "{}: {full}", what("second factor"));

        let csrf = b.get("/account/security").csrf();
        let r = b.post("/logout", &[("csrf", &csrf)]);
        let gone = r
            .set_cookie("tf_session")
            .expect("logout clears tf_session");
        assert!(gone.contains("Max-Age=0"), "{gone}");
        assert_eq!(is_secure(gone), secure, "{}: {gone}", what("logout"));
    }
}

/// Every POST route of the portal's router (`crates/web/src/portal/mod.rs`), as written there.
fn portal_post_routes() -> BTreeSet<String> {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/src/portal/mod.rs");
    let src = std::fs::read_to_string(file).unwrap();
    let routes: BTreeSet<String> = src
        .split(".route(")
        .skip(1)
        .filter(|chunk| chunk.contains("post("))
        .map(|chunk| {
            let rest = &chunk[chunk.find('"').unwrap() + 1..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect();
    assert!(routes.len() >= 20, "read the routes of {file}: {routes:?}");
    routes
}

/// Posts `fields` to `path` without a CSRF token, with an empty one and with each of `foreign`
/// (tokens of other sessions or visitors): every time 403 with the refusal page.
fn refused_without_its_token(
    b: &mut Browser,
    path: &str,
    fields: &[(&str, &str)],
    foreign: &[&str],
) {
    let mut tokens: Vec<Option<&str>> = vec![None, Some("")];
    tokens.extend(foreign.iter().map(|t| Some(*t)));
    for token in tokens {
        let mut form = fields.to_vec();
        if let Some(t) = token {
            form.push(("csrf", t));
        }
        let r = b.post(path, &form);
        assert_eq!(
            r.status, 403,
            "POST {path} with token {token:?}: {}",
            r.body
        );
        assert!(
            r.body.contains(CSRF_REFUSED),
            "POST {path} with token {token:?} is refused for its token: {}",
            r.body
        );
    }
}

/// The factor id in a redirect to an enrolment page.
fn enrolment_id(location: Option<&str>) -> String {
    let l = location.expect("a redirect to the new factor");
    l.rsplit('/').next().unwrap().to_owned()
}

fn every_post_route_refuses_a_missing_or_foreign_csrf_token(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    // A second process on the same database prints a setup link of its own (replacing the
    // first one's), which then works on the first.
    let second = env.serve();
    // Serving (so its SIGTERM handler is in place) before it is stopped.
    assert_eq!(second.anonymous().get("/healthz").status, 200);
    let (_, lines) = second.terminate();
    let link = lines
        .iter()
        .find_map(|l| l.split_once("/setup/").map(|(_, t)| t.to_owned()))
        .unwrap_or_else(|| panic!("a setup link in {lines:?}"));
    let setup_token = link.split(' ').next().unwrap().to_owned();
    let setup = format!("/setup/{setup_token}");
    let api = admin_api(&env, &server);
    let mut covered = BTreeSet::new();

    // Anonymous forms: their tokens are bound to the visitor's tf_pre cookie.
    let mut anon = Browser::new(&server);
    let csrf = anon.get(&setup).csrf();
    let mut stranger = Browser::new(&server);
    let foreign_pre = stranger.get("/login").csrf();
    let owner_form = [
        ("username", "root"),
        ("email", "root@example.com"),
        ("password", PASSWORD),
        ("password2", PASSWORD),
    ];
    refused_without_its_token(&mut anon, &setup, &owner_form, &[&foreign_pre]);
    covered.insert("/setup/{token}");
    assert!(
        !env.cli(&["user", "show", "root"]).status.success(),
        "no owner was created"
    );
    assert_eq!(anon.get(&setup).status, 200, "the setup link still works");
    // With its token the same form creates the owner.
    let mut form = owner_form.to_vec();
    form.push(("csrf", &csrf));
    let r = anon.post(&setup, &form);
    assert_eq!(
        r.location.as_deref(),
        Some("/login?notice=owner_created"),
        "{}",
        r.body
    );
    let (_, _, root_codes) = confirmed_totp(&api, "root", "phone");

    add_user(&env, "cli", "client", &[]);
    let (cli_factor, cli_secret, cli_codes) = confirmed_totp(&api, "cli", "phone");
    add_user(&env, "adm", "admin", &[]);
    add_user(&env, "dis", "client", &[]);
    env.cli_ok(&["user", "disable", "dis"]);
    add_user(&env, "lok", "client", &[]);
    let (_, lok_secret, _) = confirmed_totp(&api, "lok", "phone");
    let wrong = crate::support::wrong_code(&lok_secret);
    for _ in 0..5 {
        api.validate("lok", &wrong);
    }
    assert_eq!(user_json(&api, "lok")["locked"], true);

    let csrf = anon.get("/login").csrf();
    let login_form = [("username", "cli"), ("password", PASSWORD)];
    refused_without_its_token(&mut anon, "/login", &login_form, &[&foreign_pre]);
    covered.insert("/login");
    // A passkey's answer is refused for its token before it is read.
    let passkey_form = [("credential", "{}")];
    refused_without_its_token(&mut anon, "/login/passkey", &passkey_form, &[&foreign_pre]);
    covered.insert("/login/passkey");
    assert!(
        anon.cookie("tf_session").is_none(),
        "no session from a refused login"
    );

    // Sessions at every stage, and a foreign one whose token is offered to all the others.
    let mut owner = Browser::new(&server);
    owner.login_with_backup_code("root", &root_codes[0]);
    let mut foreign_session = Browser::new(&server);
    foreign_session.login_with_backup_code("root", &root_codes[1]);
    let foreign = foreign_session.get("/account/security").csrf();
    let mut client = Browser::new(&server);
    client.login_with_backup_code("cli", &cli_codes[0]);
    let mut half = Browser::new(&server);
    assert_eq!(
        half.login("cli", PASSWORD, "").location.as_deref(),
        Some("/login/2fa")
    );
    env.cli_ok(&["settings", "set", "force.admins", "true"]);
    let mut enrolling = Browser::new(&server);
    assert_eq!(
        enrolling.login("adm", PASSWORD, "").location.as_deref(),
        Some("/login/enroll")
    );
    // Pending factors for the enrolment forms, made through the forms with their tokens.
    let csrf_e = enrolling.get("/login/enroll").csrf();
    let r = enrolling.post(
        "/login/enroll",
        &[("csrf", &csrf_e), ("kind", "totp"), ("label", "adm phone")],
    );
    let adm_pending = enrolment_id(r.location.as_deref());
    let adm_secret = enrolling
        .get(&format!("/login/enroll/{adm_pending}"))
        .text_of("secret");
    let csrf_c = client.get("/account/security").csrf();
    let r = client.post(
        "/account/security/enroll",
        &[("csrf", &csrf_c), ("kind", "totp"), ("label", "tablet")],
    );
    let cli_pending = enrolment_id(r.location.as_deref());
    let cli_pending_secret = client
        .get(&format!("/account/security/enroll/{cli_pending}"))
        .text_of("secret");
    assert_eq!(factors_of(&api, "cli").len(), 2);

    #[derive(Clone, Copy, Debug)]
    enum Who {
        Half,
        Enrolling,
        Client,
        Owner,
    }
    let half_code = totp(&cli_secret, 1);
    let adm_code = totp(&adm_secret, 0);
    let pending_code = totp(&cli_pending_secret, 0);
    let login_enroll_id = format!("/login/enroll/{adm_pending}");
    let login_enroll_resend = format!("/login/enroll/{adm_pending}/resend");
    let login_enroll_duo = format!("/login/enroll/{adm_pending}/duo");
    let account_enroll_id = format!("/account/security/enroll/{cli_pending}");
    let account_enroll_resend = format!("/account/security/enroll/{cli_pending}/resend");
    let account_enroll_duo = format!("/account/security/enroll/{cli_pending}/duo");
    let remove = format!("/account/security/factors/{cli_factor}/remove");
    // Release takes a YubiKey; refused for its token before the factor is looked at.
    let release = format!("/admin/users/cli/factors/{cli_factor}/release");
    // (route as registered, path, whose session, fields that would change something).
    type Fields<'a> = Vec<(&'a str, &'a str)>;
    let table: Vec<(&str, &str, Who, Fields)> = vec![
        (
            "/login/2fa/webauthn",
            "/login/2fa/webauthn",
            Who::Half,
            vec![("credential", "{}")],
        ),
        (
            "/login/2fa",
            "/login/2fa",
            Who::Half,
            vec![("code", &half_code)],
        ),
        (
            "/login/2fa/send",
            "/login/2fa/send",
            Who::Half,
            vec![("kind", "email")],
        ),
        ("/login/duo", "/login/duo", Who::Half, vec![]),
        (
            "/login/enroll",
            "/login/enroll",
            Who::Enrolling,
            vec![("kind", "totp"), ("label", "second")],
        ),
        (
            "/login/enroll/{id}",
            &login_enroll_id,
            Who::Enrolling,
            vec![("code", &adm_code)],
        ),
        (
            "/login/enroll/{id}/resend",
            &login_enroll_resend,
            Who::Enrolling,
            vec![],
        ),
        (
            "/login/enroll/{id}/duo",
            &login_enroll_duo,
            Who::Enrolling,
            vec![],
        ),
        (
            "/login/enroll/done",
            "/login/enroll/done",
            Who::Enrolling,
            vec![],
        ),
        (
            "/account/security/enroll",
            "/account/security/enroll",
            Who::Client,
            vec![("kind", "totp"), ("label", "third")],
        ),
        (
            "/account/security/enroll/{id}",
            &account_enroll_id,
            Who::Client,
            vec![("code", &pending_code)],
        ),
        (
            "/account/security/enroll/{id}/resend",
            &account_enroll_resend,
            Who::Client,
            vec![],
        ),
        (
            "/account/security/enroll/{id}/duo",
            &account_enroll_duo,
            Who::Client,
            vec![],
        ),
        (
            "/account/security/factors/{id}/remove",
            &remove,
            Who::Client,
            vec![],
        ),
        (
            "/account/security/disable",
            "/account/security/disable",
            Who::Client,
            vec![("password", PASSWORD), ("code", &cli_codes[1])],
        ),
        (
            "/account/security/backup-codes/view",
            "/account/security/backup-codes/view",
            Who::Client,
            vec![("password", PASSWORD)],
        ),
        (
            "/account/security/backup-codes/new",
            "/account/security/backup-codes/new",
            Who::Client,
            vec![],
        ),
        (
            "/account/security/step-up",
            "/account/security/step-up",
            Who::Client,
            vec![
                ("password", PASSWORD),
                ("code", &cli_codes[2]),
                ("action", "new-codes"),
            ],
        ),
        (
            "/account/security/password",
            "/account/security/password",
            Who::Client,
            vec![
                ("current", PASSWORD),
                ("new", "another long password"),
                ("confirm", "another long password"),
            ],
        ),
        (
            "/account/security/language",
            "/account/security/language",
            Who::Client,
            vec![("language", "de")],
        ),
        (
            "/account/security/sessions/end",
            "/account/security/sessions/end",
            Who::Client,
            vec![],
        ),
        (
            "/account/security/sessions/end-all",
            "/account/security/sessions/end-all",
            Who::Client,
            vec![],
        ),
        (
            "/account/security/browsers/forget",
            "/account/security/browsers/forget",
            Who::Client,
            vec![],
        ),
        ("/logout", "/logout", Who::Client, vec![]),
        (
            "/admin/users/{name}/reset",
            "/admin/users/cli/reset",
            Who::Owner,
            vec![],
        ),
        (
            "/admin/users/{name}/unlock",
            "/admin/users/lok/unlock",
            Who::Owner,
            vec![],
        ),
        (
            "/admin/users/{name}/disable",
            "/admin/users/cli/disable",
            Who::Owner,
            vec![],
        ),
        (
            "/admin/users/{name}/enable",
            "/admin/users/dis/enable",
            Who::Owner,
            vec![],
        ),
        (
            "/admin/users/{name}/factors/{id}/release",
            &release,
            Who::Owner,
            vec![],
        ),
        (
            "/admin/settings",
            "/admin/settings",
            Who::Owner,
            vec![
                ("force.clients", "true"),
                ("issuer", "Evil"),
                ("twofactor.enabled", "true"),
            ],
        ),
        (
            "/admin/settings/duo-test",
            "/admin/settings/duo-test",
            Who::Owner,
            vec![],
        ),
    ];
    for (route, path, who, fields) in &table {
        let b = match who {
            Who::Half => &mut half,
            Who::Enrolling => &mut enrolling,
            Who::Client => &mut client,
            Who::Owner => &mut owner,
        };
        // Another session's token, and this browser's own anonymous (tf_pre) token.
        let own_pre = b.pre_csrf.clone().unwrap();
        refused_without_its_token(b, path, fields, &[&foreign, &own_pre]);
        covered.insert(route);
    }
    let covered: BTreeSet<String> = covered.into_iter().map(str::to_owned).collect();
    assert_eq!(
        covered,
        portal_post_routes(),
        "the table covers every POST route"
    );

    // Nothing changed.
    let cli = user_json(&api, "cli");
    assert_eq!(cli["disabled"], false);
    assert_eq!(cli["has_2fa"], true);
    assert_eq!(
        factors_of(&api, "cli"),
        vec![(cli_factor.clone(), true), (cli_pending.clone(), false)],
        "no factor added, removed, confirmed or reset"
    );
    assert_eq!(cli["backup_codes_remaining"], 9, "the same backup codes");
    assert_eq!(factors_of(&api, "adm"), vec![(adm_pending.clone(), false)]);
    assert_eq!(user_json(&api, "lok")["locked"], true);
    assert_eq!(user_json(&api, "dis")["disabled"], true);
    let shown = env.cli_ok(&["settings", "show"]);
    assert!(shown.contains("force.clients = false"), "{shown}");
    assert!(!shown.contains("Evil"), "{shown}");
    assert!(
        !std::fs::read_dir(env.data_dir().join("outbox")).is_ok_and(|mut d| d.next().is_some()),
        "nothing was sent"
    );
    // Every session is where it was, and the refused forms work with their own tokens.
    assert_eq!(client.get("/account/security").status, 200);
    assert_eq!(owner.get("/admin").status, 200);
    assert_eq!(enrolling.get("/login/enroll").status, 200);
    let csrf_h = half.get("/login/2fa").csrf();
    let r = half.post("/login/2fa", &[("csrf", &csrf_h), ("code", &half_code)]);
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "the code was not spent: {}",
        r.body
    );
    let r = enrolling.post(&login_enroll_id, &[("csrf", &csrf_e), ("code", &adm_code)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Record your backup codes"));
    let r = client.post(
        &account_enroll_id,
        &[("csrf", &csrf_c), ("code", &pending_code)],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security?notice=device_added"),
        "{}",
        r.body
    );
    let r = anon.post(
        "/login",
        &[("csrf", &csrf), ("username", "cli"), ("password", PASSWORD)],
    );
    assert_eq!(r.location.as_deref(), Some("/login/2fa"));
    let csrf_o = owner.get("/admin").csrf();
    let r = owner.post("/admin/users/cli/disable", &[("csrf", &csrf_o)]);
    assert_eq!(
        r.location.as_deref(),
        Some("/admin/users/cli?notice=disabled")
    );
    assert_eq!(user_json(&api, "cli")["disabled"], true);
    let r = owner.post("/logout", &[("csrf", &csrf_o)]);
    assert_eq!(r.location.as_deref(), Some("/login?notice=logged_out"));
}

fn forced_roles_cannot_turn_2fa_off_or_remove_their_last_factor(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    let api = admin_api(&env, &server);
    add_user(&env, "fay", "client", &[]);
    let (first, _, codes) = confirmed_totp(&api, "fay", "phone");
    let (second, _, _) = confirmed_totp(&api, "fay", "tablet");
    let (pending, _) = api.start_totp("fay", Some("not confirmed"));
    let (_, admin_codes) = user_with_totp_codes(&env, &server, "fad", "admin");
    env.cli_ok(&["settings", "set", "force.clients", "true"]);

    let mut b = Browser::new(&server);
    b.login_with_backup_code("fay", &codes[0]);
    let page = b.get("/account/security");
    assert!(
        page.body
            .contains("Two-factor authentication is required for your account.")
    );
    assert!(
        !page.body.contains("action=\"/account/security/disable\""),
        "no off switch is offered"
    );
    let csrf = page.csrf();
    let off = [
        ("csrf", csrf.as_str()),
        ("password", PASSWORD),
        ("code", &codes[1]),
    ];

    // Turning it off by posting the form anyway: refused, everything kept.
    let r = b.post("/account/security/disable", &off);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body
            .contains("Two-factor authentication is required for your account.")
    );
    let all = vec![
        (first.clone(), true),
        (second.clone(), true),
        (pending.clone(), false),
    ];
    assert_eq!(factors_of(&api, "fay"), all);
    assert_eq!(user_json(&api, "fay")["backup_codes_remaining"], 9);

    // One of two devices may go; the last usable one may not (a pending one does not count).
    let remove = |id: &str| format!("/account/security/factors/{id}/remove");
    let r = b.post(&remove(&first), &[("csrf", &csrf)]);
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security?notice=device_removed")
    );
    let r = b.post(&remove(&second), &[("csrf", &csrf)]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body
            .contains("add another device before you remove this one"),
        "{}",
        r.body
    );
    assert_eq!(
        factors_of(&api, "fay"),
        vec![(second.clone(), true), (pending.clone(), false)]
    );
    assert_eq!(user_json(&api, "fay")["has_2fa"], true);
    let r = b.post(&remove(&pending), &[("csrf", &csrf)]);
    assert_eq!(r.status, 303, "a pending factor may go: {}", r.body);
    assert_eq!(factors_of(&api, "fay"), vec![(second.clone(), true)]);
    assert_eq!(b.post("/account/security/disable", &off).status, 403);
    assert_eq!(factors_of(&api, "fay"), vec![(second.clone(), true)]);

    // force.admins holds admins the same way, and leaves clients free.
    env.cli_ok(&["settings", "set", "force.clients", "false"]);
    env.cli_ok(&["settings", "set", "force.admins", "true"]);
    let mut a = Browser::new(&server);
    a.login_with_backup_code("fad", &admin_codes[0]);
    let csrf_a = a.get("/account/security").csrf();
    let r = a.post(
        "/account/security/disable",
        &[
            ("csrf", &csrf_a),
            ("password", PASSWORD),
            ("code", &admin_codes[1]),
        ],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(user_json(&api, "fad")["has_2fa"], true);
    let admin_factor = factors_of(&api, "fad")[0].0.clone();
    let r = a.post(&remove(&admin_factor), &[("csrf", &csrf_a)]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(factors_of(&api, "fad").len(), 1);

    // Not forced any more, the same client turns it off with the same form, and that ends
    // every session of theirs.
    let r = b.post("/account/security/disable", &off);
    assert_eq!(
        r.location.as_deref(),
        Some("/login?notice=twofa_off_signed_out"),
        "{}",
        r.body
    );
    assert_eq!(factors_of(&api, "fay"), vec![]);
    assert_eq!(
        b.get("/account/security").location.as_deref(),
        Some("/login?next=/account/security")
    );
}

/// The services a "Choose a service" page offers (the values of its radio buttons).
fn offered(page: &Page) -> Vec<String> {
    assert_eq!(page.status, 200, "{}", page.body);
    page.body
        .split("type=\"radio\" name=\"kind\" value=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

fn choose_a_service_offers_the_methods_active_and_enabled_for_the_role(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    let contact = ["--email", "x@example.com", "--phone", "+14155550100"];
    add_user(&env, "cl", "client", &contact);
    add_user(&env, "cl-bare", "client", &[]);
    add_user(&env, "ad", "admin", &contact);
    add_user(&env, "ow", "owner", &contact);
    let set = |k: &str, v: &str| env.cli_ok(&["settings", "set", k, v]);
    // (method, active, clients, admins)
    for (kind, active, clients, admins) in [
        ("totp", "true", "true", "false"),
        ("email", "true", "true", "true"),
        ("sms", "true", "false", "true"),
        ("yubikey", "false", "true", "true"),
        ("duo", "true", "false", "true"),
    ] {
        set(&format!("methods.{kind}.active"), active);
        set(&format!("methods.{kind}.clients"), clients);
        set(&format!("methods.{kind}.admins"), admins);
    }
    // Duo is offered for enrolment once its Web SDK application is set.
    set("methods.duo.api_host", "api-12345678.duosecurity.com");
    set("methods.duo.client_id", "DIWEBSDKCLIENT000001");
    set(
        "methods.duo.client_secret",
        "webSdkClientSecret0000000000000000000001",
    );

    let mut browsers = Vec::new();
    for name in ["cl", "cl-bare", "ad", "ow"] {
        let mut b = Browser::new(&server);
        let r = b.login(name, PASSWORD, "");
        assert_eq!(r.location.as_deref(), Some("/account/security"), "{name}");
        browsers.push((name, b));
    }
    let check = |browsers: &mut Vec<(&str, Browser)>, want: &[(&str, &[&str])]| {
        for ((name, b), (n, kinds)) in browsers.iter_mut().zip(want) {
            assert_eq!(name, n);
            assert_eq!(
                offered(&b.get("/account/security/enroll")),
                kinds.to_vec(),
                "{name}"
            );
        }
    };
    // Email and SMS need an address or a number to send to.
    check(
        &mut browsers,
        &[
            ("cl", &["totp", "email"]),
            ("cl-bare", &["totp"]),
            ("ad", &["email", "sms", "duo"]),
            ("ow", &["email", "sms", "duo"]),
        ],
    );
    // A method not offered cannot be had by posting the form anyway.
    let (_, b) = &mut browsers[0];
    let csrf = b.get("/account/security").csrf();
    let r = b.post(
        "/account/security/enroll",
        &[("csrf", &csrf), ("kind", "sms"), ("label", "phone")],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("not enabled"), "{}", r.body);
    let api = admin_api(&env, &server);
    assert_eq!(factors_of(&api, "cl"), vec![]);

    // Each switch counts: activating the YubiKey, and TOTP off for clients, on for admins.
    set("methods.yubikey.active", "true");
    set("methods.totp.clients", "false");
    set("methods.totp.admins", "true");
    set("methods.duo.admins", "false");
    check(
        &mut browsers,
        &[
            ("cl", &["email", "yubikey"]),
            ("cl-bare", &["yubikey"]),
            ("ad", &["totp", "email", "sms", "yubikey"]),
            ("ow", &["totp", "email", "sms", "yubikey"]),
        ],
    );

    // Forced enrolment at login offers the same list.
    set("force.clients", "true");
    let mut f = Browser::new(&server);
    let r = f.login("cl-bare", PASSWORD, "");
    assert_eq!(r.location.as_deref(), Some("/login/enroll"));
    assert_eq!(offered(&f.get("/login/enroll")), vec!["yubikey"]);
}

/// A forced user's last usable factor also survives two removals at once (each of the two
/// requests sees the other device still there).
#[test]
fn forced_last_factor_survives_concurrent_removals() {
    let env = Env::new(Db::Sqlite);
    let server = env.serve();
    let api = admin_api(&env, &server);
    add_user(&env, "ray", "client", &[]);
    let (_, _, codes) = confirmed_totp(&api, "ray", "phone");
    env.cli_ok(&["settings", "set", "force.clients", "true"]);
    let mut b = Browser::new(&server);
    b.login_with_backup_code("ray", &codes[0]);
    let csrf = b.get("/account/security").csrf();
    for round in 0..10 {
        confirmed_totp(&api, "ray", &format!("device {round}"));
        let ids: Vec<String> = factors_of(&api, "ray").into_iter().map(|f| f.0).collect();
        assert_eq!(ids.len(), 2);
        let removals: Vec<_> = ids
            .iter()
            .map(|id| {
                let mut c = Browser::new(&server);
                c.cookies = b.cookies.clone();
                let path = format!("/account/security/factors/{id}/remove");
                let csrf = csrf.clone();
                std::thread::spawn(move || c.post(&path, &[("csrf", &csrf)]).status)
            })
            .collect();
        let statuses: Vec<u16> = removals.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(
            factors_of(&api, "ray").len(),
            1,
            "round {round}: one device stays ({statuses:?})"
        );
    }
}

/// The enrolment page's "Send a new code" within 30 s of the last send: 429 with a Retry-After
/// that says the wait the page shows, in both flows (Security Settings and forced enrolment at
/// login), as the second-factor page's "Send me a code" does; nothing is sent.
#[test]
fn enrolment_resend_too_soon_answers_429_with_retry_after() {
    let env = Env::new(Db::Sqlite);
    let server = env.serve();
    for (k, v) in [
        ("methods.email.active", "true"),
        ("methods.email.clients", "true"),
        ("methods.email.admins", "true"),
        ("force.admins", "true"),
    ] {
        env.cli_ok(&["settings", "set", k, v]);
    }
    add_user(&env, "eve", "client", &["--email", "eve@example.com"]);
    add_user(&env, "ian", "admin", &["--email", "ian@example.com"]);
    let outbox = env.data_dir().join("outbox");
    let mails = || {
        std::fs::read_dir(&outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".eml"))
                    .count()
            })
            .unwrap_or(0)
    };

    for (user, start, base) in [
        ("eve", "/account/security", "/account/security/enroll"),
        ("ian", "/login/enroll", "/login/enroll"),
    ] {
        let mut b = Browser::new(&server);
        let r = b.login(user, PASSWORD, "");
        assert_eq!(r.location.as_deref(), Some(start), "{}", r.body);
        let csrf = b.get(start).csrf();
        let r = b.post(base, &[("csrf", &csrf), ("kind", "email")]);
        assert_eq!(
            r.status, 303,
            "{user}: the email factor is created: {}",
            r.body
        );
        let id = enrolment_id(r.location.as_deref());
        let sent = mails();
        let page = b.get(&format!("{base}/{id}"));
        assert_eq!(page.status, 200, "{}", page.body);
        let r = b.post(&format!("{base}/{id}/resend"), &[("csrf", &page.csrf())]);
        assert_eq!(
            r.status, 429,
            "{user}: a resend right after the send: {}",
            r.body
        );
        let shown: u64 = r
            .body
            .split("You can ask for a new one in ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{user}: the page says how long to wait: {}", r.body));
        assert!((1..=30).contains(&shown), "{user}: wait {shown}");
        let header: u64 = r
            .header("retry-after")
            .unwrap_or_else(|| panic!("{user}: a Retry-After header in {:?}", r.headers))
            .parse()
            .unwrap();
        assert_eq!(
            header, shown,
            "{user}: Retry-After says the wait the page shows"
        );
        assert_eq!(mails(), sent, "{user}: nothing was sent");
    }
}

/// "Send me a code" on the second-factor page sends only for a method the page offers: a
/// confirmed email or SMS factor of a method enabled for the role. A pending enrolment, another
/// kind or a method switched off is refused with 422 and sends nothing.
fn send_me_a_code_only_for_a_usable_email_or_sms_factor(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    for (k, v) in [
        ("methods.email.active", "true"),
        ("methods.email.clients", "true"),
    ] {
        env.cli_ok(&["settings", "set", k, v]);
    }
    add_user(&env, "sue", "client", &["--email", "sue@example.com"]);
    let api = admin_api(&env, &server);
    let (_, secret, _) = confirmed_totp(&api, "sue", "phone");
    // An email factor whose enrolment is still pending (its code was sent, never entered).
    let r = api.post(
        "/api/v1/users/sue/factors",
        serde_json::json!({"kind": "email"}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let outbox = env.data_dir().join("outbox");
    let sent = || std::fs::read_dir(&outbox).map_or(0, Iterator::count);
    let before = sent();
    assert_eq!(before, 1, "the enrolment code");

    let mut b = Browser::new(&server);
    let r = b.login("sue", PASSWORD, "");
    assert_eq!(r.location.as_deref(), Some("/login/2fa"));
    let page = b.get("/login/2fa");
    assert!(
        !page.body.contains("Send me a code"),
        "nothing to send: {}",
        page.body
    );
    let csrf = page.csrf();
    for kind in ["email", "sms", "totp", "bogus", ""] {
        let r = b.post("/login/2fa/send", &[("csrf", &csrf), ("kind", kind)]);
        assert_eq!(r.status, 422, "kind {kind:?}: {}", r.body);
        assert!(
            r.body
                .contains("That method is not available for your account."),
            "kind {kind:?}: {}",
            r.body
        );
    }
    assert_eq!(sent(), before, "no code was sent");
    // The session is still at the second factor: the right code logs in.
    let r = b.second_factor(&totp(&secret, 1), false);
    assert_eq!(r.status, 303, "{}", r.body);
}

/// "Sign in with a passkey" posted with something that is no passkey's answer (empty, not JSON,
/// the wrong JSON, over the size limit): the login page again with a 422 and a clear message,
/// no session, and nothing counted against anyone.
#[test]
fn a_passkey_form_with_no_real_answer_is_refused_clearly() {
    let env = Env::new(Db::Sqlite);
    env.cli_ok(&["settings", "set", "methods.webauthn.active", "true"]);
    env.cli_ok(&["settings", "set", "methods.webauthn.passwordless", "true"]);
    let server = env.serve();
    let mut b = Browser::new(&server);
    let page = b.get("/login");
    assert!(
        page.body.contains("Sign in with a passkey"),
        "{}",
        page.body
    );
    let csrf = page.csrf();
    let big = format!("{{\"id\":\"{}\"}}", "A".repeat(70 * 1024));
    for bad in [
        "",
        "not json",
        "{}",
        "[1,2]",
        "{\"id\":\"x\",\"type\":\"public-key\"}",
        &big,
    ] {
        let r = b.post("/login/passkey", &[("csrf", &csrf), ("credential", bad)]);
        assert_eq!(r.status, 422, "{bad:.40}: {}", r.body);
        assert!(
            r.body.contains("could not be read") || r.body.contains("too large"),
            "{bad:.40}: {}",
            r.body
        );
        assert!(b.cookie("tf_session").is_none(), "{bad:.40}: no session");
    }
}
