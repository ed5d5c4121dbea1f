//! Email and SMS codes through the API, delivered to the outbox folder of a fresh install (the
//! SMTP and SMS provider protocols themselves are tested in `twofold-delivery`).

use std::path::Path;

use serde_json::{Value, json};

use crate::on_both;
use crate::support::{Api, Db, Env, Reply, Server};

on_both!(
    email_codes_enrol_and_log_in_once,
    sms_codes_enrol_and_log_in_once,
    code_limits_tries_cooldown_and_concurrency,
    failed_delivery_is_clear_and_leaves_no_code,
    codes_go_out_in_the_owners_default_language,
    codes_go_out_in_the_language_the_user_chose,
);

/// The text of the newest outbox file with this extension.
fn newest(outbox: &Path, ext: &str) -> String {
    let mut files: Vec<_> = std::fs::read_dir(outbox)
        .unwrap_or_else(|e| panic!("no outbox at {}: {e}", outbox.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
    let file = files
        .last()
        .unwrap_or_else(|| panic!("no .{ext} in the outbox"));
    std::fs::read_to_string(file).unwrap()
}

/// The newest outbox file with this extension, and the 6-digit code in it.
fn latest_code(outbox: &Path, ext: &str) -> (String, String) {
    let text = newest(outbox, ext);
    let at = text
        .find("code is")
        .unwrap_or_else(|| panic!("no code in {text}"));
    let code: String = text[at..]
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect();
    assert_eq!(code.len(), 6, "{text}");
    (code, text)
}

fn outbox_count(outbox: &Path, ext: &str) -> usize {
    std::fs::read_dir(outbox)
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == ext)
            })
            .count()
        })
        .unwrap_or(0)
}

fn setup(api: &Api, kind: &str) {
    let r = api.patch(
        "/api/v1/settings",
        json!({
            format!("methods.{kind}.active"): true,
            format!("methods.{kind}.clients"): true,
            "issuer": "Acme Portal",
            "lockout.max_failures": 100,
        }),
    );
    assert_eq!(r.status, 200, "{r:?}");
}

fn email_codes_enrol_and_log_in_once(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let outbox = env.data_dir().join("outbox");
    setup(&api, "email");
    api.post("/api/v1/users", json!({"username": "nora"}));
    let r = api.post("/api/v1/users/nora/factors", json!({"kind": "email"}));
    assert_eq!(
        (r.status, r.error_code()),
        (422, "missing_email"),
        "an address is needed"
    );
    api.patch("/api/v1/users/nora", json!({"email": "nora@example.com"}));

    let r = api.post(
        "/api/v1/users/nora/factors",
        json!({"kind": "email", "label": "work mail"}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["sent_to"], "n•••@example.com");
    assert_eq!(r.json["confirmed"], false);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let (code, mail) = latest_code(&outbox, "eml");
    assert!(mail.contains("To: nora@example.com"), "{mail}");
    assert!(
        mail.contains("Subject: Your Acme Portal verification code"),
        "{mail}"
    );
    assert!(
        mail.contains("text/html") && mail.contains("text/plain"),
        "text and HTML bodies"
    );

    let r = api.post(
        &format!("/api/v1/users/nora/factors/{id}/confirm"),
        json!({"code": "000000"}),
    );
    if code != "000000" {
        assert_eq!((r.status, r.error_code()), (422, "invalid_code"));
    }
    let r = api.post(
        &format!("/api/v1/users/nora/factors/{id}/confirm"),
        json!({"code": code}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["backup_codes"].as_array().unwrap().len(), 10);
    // The verification code was used: it does not log in.
    assert_eq!(api.validate("nora", &code)["ok"], false);

    // Login: a code is sent at most every 30 s, enrolment included.
    let r = api.post("/api/v1/users/nora/challenge", json!({"kind": "email"}));
    assert_eq!((r.status, r.error_code()), (429, "throttled"));
    let server = after_cooldown(&env, server);
    let api = server.api(&token);
    let r = api.post("/api/v1/users/nora/challenge", json!({"kind": "email"}));
    assert_eq!(r.status, 202, "{r:?}");
    assert_eq!(r.json["sent_to"], "n•••@example.com");
    let (code, mail) = latest_code(&outbox, "eml");
    assert!(
        mail.contains("Subject: Your Acme Portal login code"),
        "{mail}"
    );
    // 50 concurrent uses of the code: one wins; then it is spent.
    let handles: Vec<_> = (0..50)
        .map(|_| {
            let api = api.clone();
            let code = code.clone();
            std::thread::spawn(move || api.validate("nora", &code))
        })
        .collect();
    let answers: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let wins: Vec<_> = answers.iter().filter(|a| a["ok"] == true).collect();
    assert_eq!(wins.len(), 1, "{answers:?}");
    assert_eq!(wins[0]["method"], "email");
    assert_eq!(api.validate("nora", &code)["ok"], false);

    // A lockout is told to the user by email.
    api.patch("/api/v1/settings", json!({"lockout.max_failures": 1}));
    let before = outbox_count(&outbox, "eml");
    assert_eq!(api.validate("nora", "123456")["ok"], false);
    assert_eq!(api.get("/api/v1/users/nora").json["locked"], true);
    assert_eq!(outbox_count(&outbox, "eml"), before + 1);
    let newest = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().path())
        .max_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap())
        .unwrap();
    let notice = std::fs::read_to_string(newest).unwrap();
    assert!(
        notice.contains("Subject: Acme Portal: your second factor was locked"),
        "{notice}"
    );
}

/// Sends are at most one per 30 s per user and method; a test that needs a second send stops
/// the server and goes on with one on the same database whose clock runs 31 s ahead (the sends
/// are recorded in the database, so the new server knows when the last one went out).
fn after_cooldown(env: &Env, server: Server) -> Server {
    drop(server);
    env.serve_with(&[("TWOFOLD_TEST_CLOCK_OFFSET", "31")])
}

fn sms_codes_enrol_and_log_in_once(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let outbox = env.data_dir().join("outbox");
    setup(&api, "sms");
    let r = api.post(
        "/api/v1/users",
        json!({"username": "omar", "phone": "+1 (555) 010-0142"}),
    );
    assert_eq!(r.status, 201);
    let r = api.post("/api/v1/users/omar/factors", json!({"kind": "sms"}));
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["sent_to"], "+15•••••0142");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let (code, sms) = latest_code(&outbox, "sms");
    assert!(sms.starts_with("To: +15550100142"), "{sms}");
    let r = api.post(
        &format!("/api/v1/users/omar/factors/{id}/confirm"),
        json!({"code": code}),
    );
    assert_eq!(r.status, 200, "{r:?}");

    // A login code from the validate-scope API after the cooldown; five wrong tries spend it.
    let login_token = env.token("login", "validate");
    let validator = server.api(&login_token);
    let r = validator.post("/api/v1/users/omar/challenge", json!({"kind": "sms"}));
    assert_eq!((r.status, r.error_code()), (429, "throttled"));
    let server = after_cooldown(&env, server);
    let validator = server.api(&login_token);
    let r = validator.post("/api/v1/users/omar/challenge", json!({"kind": "sms"}));
    assert_eq!(r.status, 202, "{r:?}");
    let (code, _) = latest_code(&outbox, "sms");
    let wrong = if code == "111111" { "222222" } else { "111111" };
    for _ in 0..5 {
        assert_eq!(validator.validate("omar", wrong)["reason"], "invalid_code");
    }
    assert_eq!(
        validator.validate("omar", &code)["ok"],
        false,
        "five wrong tries spent the code"
    );
    let r = validator.post(
        "/api/v1/users/omar/challenge",
        json!({"kind": "carrier-pigeon"}),
    );
    assert_eq!((r.status, r.error_code()), (422, "unknown_kind"));
}

/// POSTs as `api` does, keeping the `Retry-After` header: (status, Retry-After, JSON body).
fn post_keeping_retry_after(
    api: &Api,
    token: &str,
    path: &str,
    body: &Value,
) -> (u16, Option<String>, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let request = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{}{path}", api.base))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .unwrap();
    let resp = agent.run(request).unwrap();
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = resp.into_body().read_to_string().unwrap();
    (status, retry_after, serde_json::from_str(&text).unwrap())
}

/// Enrols an email or SMS factor and returns its id and the code that was sent for it.
fn enrol(api: &Api, outbox: &Path, username: &str, kind: &str) -> (String, String) {
    let r = api.post(
        &format!("/api/v1/users/{username}/factors"),
        json!({"kind": kind}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let ext = if kind == "email" { "eml" } else { "sms" };
    let (code, _) = latest_code(outbox, ext);
    (r.json["id"].as_str().unwrap().to_owned(), code)
}

fn confirm(api: &Api, username: &str, id: &str, code: &str) -> Reply {
    api.post(
        &format!("/api/v1/users/{username}/factors/{id}/confirm"),
        json!({"code": code}),
    )
}

fn code_limits_tries_cooldown_and_concurrency(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let outbox = env.data_dir().join("outbox");
    setup(&api, "email");
    setup(&api, "sms");
    for user in [
        json!({"username": "pia", "email": "pia@example.com", "phone": "+15550100143"}),
        json!({"username": "quin", "email": "quin@example.com"}),
        json!({"username": "ros", "email": "ros@example.com"}),
    ] {
        assert_eq!(api.post("/api/v1/users", user).status, 201);
    }

    // pia's enrolment is her first email send.
    let (id, code) = enrol(&api, &outbox, "pia", "email");
    assert_eq!(confirm(&api, "pia", &id, &code).status, 200);

    // For 30 s no other email goes to pia: 429 with the wait in Retry-After and in the sentence,
    // and nothing is sent.
    let challenge_pia = || {
        post_keeping_retry_after(
            &api,
            &token,
            "/api/v1/users/pia/challenge",
            &json!({"kind": "email"}),
        )
    };
    let (status, retry_after, body) = challenge_pia();
    assert_eq!(
        (status, &body["error"]["code"]),
        (429, &json!("throttled")),
        "{body}"
    );
    let header: u64 = retry_after
        .expect("a 429 carries Retry-After")
        .parse()
        .unwrap();
    assert!((1..=30).contains(&header), "Retry-After: {header}");
    let message = body["error"]["message"].as_str().unwrap();
    let unit = if header == 1 { "second" } else { "seconds" };
    assert_eq!(
        message,
        format!("A code was sent recently. You can ask for a new one in {header} {unit}.")
    );
    assert_eq!(
        outbox_count(&outbox, "eml"),
        1,
        "a refused send sends nothing"
    );

    // The limit is per user: quin gets his code while pia is still waiting...
    let (id, code) = enrol(&api, &outbox, "quin", "email");
    let (_, mail) = latest_code(&outbox, "eml");
    assert!(mail.contains("To: quin@example.com"), "{mail}");
    assert_eq!(outbox_count(&outbox, "eml"), 2);
    assert_eq!(confirm(&api, "quin", &id, &code).status, 200);
    let (status, retry_after, _) = challenge_pia();
    assert_eq!(status, 429, "quin's send did not end pia's wait");
    assert!(retry_after.is_some());
    assert_eq!(outbox_count(&outbox, "eml"), 2);

    // ... and per method: pia gets an SMS while her email sends wait. (This SMS factor stays
    // pending; its code is replaced below.)
    let (sms_id, first_sms_code) = enrol(&api, &outbox, "pia", "sms");
    assert_eq!(outbox_count(&outbox, "sms"), 1);

    // An enrolment is a send too: quin's second email factor, within his 30 s, is refused and
    // leaves no factor behind.
    let r = api.post(
        "/api/v1/users/quin/factors",
        json!({"kind": "email", "label": "second"}),
    );
    assert_eq!((r.status, r.error_code()), (429, "throttled"), "{r:?}");
    let factors = api.get("/api/v1/users/quin").json["factors"].clone();
    assert_eq!(factors.as_array().unwrap().len(), 1, "{factors}");
    assert_eq!(outbox_count(&outbox, "eml"), 2);

    // Twenty sends to ros at once (each the enrolment of an email factor): exactly one goes out,
    // the others are refused, and ros is left with the one factor that was sent a code.
    let handles: Vec<_> = (0..20)
        .map(|_| {
            let api = api.clone();
            std::thread::spawn(move || {
                api.post("/api/v1/users/ros/factors", json!({"kind": "email"}))
            })
        })
        .collect();
    let replies: Vec<Reply> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let sent: Vec<_> = replies.iter().filter(|r| r.status == 201).collect();
    assert_eq!(sent.len(), 1, "{replies:?}");
    assert!(
        replies
            .iter()
            .all(|r| r.status == 201 || (r.status, r.error_code()) == (429, "throttled")),
        "{replies:?}"
    );
    assert_eq!(
        outbox_count(&outbox, "eml"),
        3,
        "one mail for twenty requests"
    );
    let factors = api.get("/api/v1/users/ros").json["factors"].clone();
    assert_eq!(factors.as_array().unwrap().len(), 1, "{factors}");
    assert_eq!(factors[0]["id"], sent[0].json["id"]);

    // A new code replaces the old one. After the 30 s, pia asks for another SMS (the pending
    // factor gets a new verification code): the first code no longer confirms it, the new one
    // does.
    let server = after_cooldown(&env, server);
    let api = server.api(&token);
    let r = api.post("/api/v1/users/pia/challenge", json!({"kind": "sms"}));
    assert_eq!(r.status, 202, "{r:?}");
    assert_eq!(r.json["sent_to"], "+15•••••0143", "{r:?}");
    assert_eq!(outbox_count(&outbox, "sms"), 2);
    let (second_sms_code, text) = latest_code(&outbox, "sms");
    assert!(text.contains("verification code"), "{text}");
    // (One in a million, the new code equals the old one; then there is nothing to refuse.)
    if second_sms_code != first_sms_code {
        let r = confirm(&api, "pia", &sms_id, &first_sms_code);
        assert_eq!((r.status, r.error_code()), (422, "invalid_code"), "{r:?}");
    }
    let r = confirm(&api, "pia", &sms_id, &second_sms_code);
    assert_eq!(r.status, 200, "{r:?}");
}

fn failed_delivery_is_clear_and_leaves_no_code(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    setup(&api, "email");
    // An SMTP server that is not there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.email.smtp.host": "127.0.0.1", "methods.email.smtp.port": port, "methods.email.smtp.security": "none"}),
    );
    assert_eq!(r.status, 200);
    api.post(
        "/api/v1/users",
        json!({"username": "rae", "email": "rae@example.com"}),
    );
    let r = api.post("/api/v1/users/rae/factors", json!({"kind": "email"}));
    assert_eq!(
        (r.status, r.error_code()),
        (502, "delivery_failed"),
        "{r:?}"
    );
    let message = r.json["error"]["message"].as_str().unwrap();
    assert!(message.contains("could not be sent"), "{message}");
    assert_eq!(
        api.get("/api/v1/users/rae").json["factors"],
        json!([]),
        "no half-enrolled factor"
    );
    let audit = api.get("/api/v1/audit?username=rae&event=code.failed").json;
    assert_eq!(audit["events"].as_array().unwrap().len(), 1);
}

/// The newest SMS of the outbox, whatever its language, and the 6-digit code in it.
fn latest_sms(outbox: &Path) -> (String, String) {
    let text = newest(outbox, "sms");
    let body = text.split_once("\n\n").map_or(text.as_str(), |(_, b)| b);
    let code = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned();
    (code, text)
}

/// A user who chose no language gets their codes in the owner's `ui.language`; a code sent
/// while the owner's language is another is in that one.
fn codes_go_out_in_the_owners_default_language(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let outbox = env.data_dir().join("outbox");
    setup(&api, "sms");
    let r = api.patch("/api/v1/settings", json!({"ui.language": "de"}));
    assert_eq!(r.status, 200, "{r:?}");
    let r = api.patch("/api/v1/settings", json!({"ui.language": "klingon"}));
    assert_eq!(r.status, 422, "{r:?}");
    api.post(
        "/api/v1/users",
        json!({"username": "lena", "phone": "+1 (555) 010-0143"}),
    );
    let r = api.post("/api/v1/users/lena/factors", json!({"kind": "sms"}));
    assert_eq!(r.status, 201, "{r:?}");
    let (code, sms) = latest_sms(&outbox);
    assert!(
        sms.contains(&format!(
            "Ihr Bestätigungscode für Acme Portal lautet {code}. Er gilt einmal, 10 Minuten lang."
        )),
        "{sms}"
    );
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = api.post(
        &format!("/api/v1/users/lena/factors/{id}/confirm"),
        json!({"code": code}),
    );
    assert_eq!(r.status, 200, "{r:?}");

    api.patch("/api/v1/settings", json!({"ui.language": "pt-BR"}));
    let server = after_cooldown(&env, server);
    let api = server.api(&token);
    let r = api.post("/api/v1/users/lena/challenge", json!({"kind": "sms"}));
    assert_eq!(r.status, 202, "{r:?}");
    let (code, sms) = latest_sms(&outbox);
    assert!(
        sms.contains(&format!(
            "Seu código de login do Acme Portal é {code}. Vale uma única vez, por 10 minutos."
        )),
        "{sms}"
    );
}

/// A user's own choice (Security Settings) outranks the owner's `ui.language` for their codes.
fn codes_go_out_in_the_language_the_user_chose(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let outbox = env.data_dir().join("outbox");
    setup(&api, "sms");
    api.patch("/api/v1/settings", json!({"ui.language": "pt-BR"}));
    crate::portal::add_user(&env, "lucia", "client", &[]);
    let r = api.patch("/api/v1/users/lucia", json!({"phone": "+1 (555) 010-0144"}));
    assert_eq!(r.status, 200, "{r:?}");
    let r = api.post("/api/v1/users/lucia/factors", json!({"kind": "sms"}));
    assert_eq!(r.status, 201, "{r:?}");
    let (code, sms) = latest_sms(&outbox);
    assert!(sms.contains("Seu código de verificação"), "{sms}");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = api.post(
        &format!("/api/v1/users/lucia/factors/{id}/confirm"),
        json!({"code": code}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let backup = r.json["backup_codes"][0].as_str().unwrap().to_owned();

    // Lucía chooses Español in Security Settings.
    let mut b = crate::portal::Browser::new(&server);
    b.login_with_backup_code("lucia", &backup);
    let csrf = b.get("/account/security").csrf();
    let r = b.post(
        "/account/security/language",
        &[("csrf", &csrf), ("language", "es")],
    );
    assert_eq!(r.status, 303, "{}", r.body);

    let server = after_cooldown(&env, server);
    let api = server.api(&token);
    let r = api.post("/api/v1/users/lucia/challenge", json!({"kind": "sms"}));
    assert_eq!(r.status, 202, "{r:?}");
    let (code, sms) = latest_sms(&outbox);
    assert!(
        sms.contains(&format!(
            "Su código de inicio de sesión de Acme Portal es {code}. Sirve una sola vez, durante \
             10 minutos."
        )),
        "{sms}"
    );
}
