//! The JSON API v1 end to end, on SQLite and on PostgreSQL.

use serde_json::json;

use crate::on_both;
use crate::support::{Db, Env, totp, wrong_code};

on_both!(
    enrol_confirm_validate_and_replay,
    concurrent_uses_of_one_code_succeed_once,
    backup_codes_ignore_case_spaces_dashes_and_renew_as_a_set,
    lockout_unlock_and_reset,
    token_scopes_and_authentication,
    bad_input_is_refused_and_changes_nothing,
    secrets_never_reach_the_database_in_clear,
    audit_log_records_events_without_secrets,
    several_labelled_factors_and_removal,
    settings_switches_change_who_has_2fa,
    drift_is_learned_and_can_be_reset,
    masked_secrets_sent_back_change_nothing,
    per_method_switches_and_the_default_issuer,
    forwarded_for_is_believed_only_from_trusted_proxies,
    framework_errors_use_the_error_format,
    openapi_and_metrics_cover_the_design,
);

fn enrol_confirm_validate_and_replay(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);

    let r = api.post(
        "/api/v1/users",
        json!({"username": "Alice", "email": "alice@example.com"}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    assert_eq!(r.json["username"], "Alice");
    assert_eq!(r.json["has_2fa"], false);

    let r = api.post(
        "/api/v1/users/alice/factors",
        json!({"kind": "totp", "label": "work phone"}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let id = r.json["id"].as_str().unwrap().to_owned();
    let secret = r.json["secret"].as_str().unwrap().to_owned();
    assert_eq!(r.json["confirmed"], false);
    assert_eq!(r.json["label"], "work phone");
    let uri = r.json["otpauth_uri"].as_str().unwrap();
    let parsed = twofold_otp::KeyUri::parse(uri).unwrap();
    assert_eq!(parsed.secret.to_base32(), secret);
    assert_eq!(parsed.account, "Alice");
    assert!(r.json["qr_svg"].as_str().unwrap().contains("<svg"));
    assert_eq!(twofold_otp::base32::decode(&secret).unwrap().len(), 20);

    // An unconfirmed factor logs nobody in.
    let v = api.validate("alice", &totp(&secret, 0));
    assert_eq!(v, json!({"ok": false, "reason": "not_enrolled"}));

    let confirm = format!("/api/v1/users/alice/factors/{id}/confirm");
    let r = api.post(&confirm, json!({"code": wrong_code(&secret)}));
    assert_eq!((r.status, r.error_code()), (422, "invalid_code"));
    assert_eq!(
        r.json["error"]["message"],
        "The code you entered did not match what was expected. Please try again."
    );
    let user = api.get("/api/v1/users/alice").json;
    assert_eq!(user["factors"][0]["confirmed"], false);
    assert_eq!(user["backup_codes_remaining"], 0);

    let r = api.post(&confirm, json!({"code": totp(&secret, 0)}));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["confirmed"], true);
    let codes = r.json["backup_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    for c in codes {
        let c = c.as_str().unwrap();
        assert_eq!(c.len(), 11, "{c}");
        assert_eq!(&c[5..6], "-");
    }
    let r = api.post(&confirm, json!({"code": totp(&secret, 0)}));
    assert_eq!((r.status, r.error_code()), (409, "already_confirmed"));

    let next = totp(&secret, 1);
    assert_eq!(
        api.validate("alice", &next),
        json!({"ok": true, "method": "totp"})
    );
    assert_eq!(
        api.validate("ALICE", &next),
        json!({"ok": false, "reason": "invalid_code"})
    );
    assert_eq!(
        api.validate("alice", &totp(&secret, 0)),
        json!({"ok": false, "reason": "invalid_code"})
    );
    assert_eq!(
        api.validate("alice", &totp(&secret, -1)),
        json!({"ok": false, "reason": "invalid_code"})
    );

    let user = api.get("/api/v1/users/alice").json;
    assert_eq!(user["has_2fa"], true);
    assert_eq!(user["backup_codes_remaining"], 10);
    assert!(user["factors"][0]["last_used_at"].as_i64().is_some());
}

fn concurrent_uses_of_one_code_succeed_once(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "validate");
    let admin = env.token("admin", "admin");
    let server = env.serve();
    let api = server.api(&admin);
    let (secret, _) = api.enrolled_user("bob");
    let (_, codes) = api.enrolled_user("carol");

    let validator = server.api(&token);
    let race = |user: &'static str, code: String| {
        let handles: Vec<_> = (0..50)
            .map(|_| {
                let v = validator.clone();
                let c = code.clone();
                std::thread::spawn(move || v.validate(user, &c)["ok"] == json!(true))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|ok| *ok)
            .count()
    };
    assert_eq!(
        race("bob", totp(&secret, 1)),
        1,
        "one TOTP code, 50 requests"
    );
    assert_eq!(
        race("carol", codes[0].clone()),
        1,
        "one backup code, 50 requests"
    );
}

fn backup_codes_ignore_case_spaces_dashes_and_renew_as_a_set(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let (_, codes) = api.enrolled_user("dave");

    let shouted = codes[0].to_uppercase().replace('-', " ");
    assert_eq!(
        api.validate("dave", &shouted),
        json!({"ok": true, "method": "backup_code"})
    );
    assert_eq!(
        api.validate("dave", &codes[0]),
        json!({"ok": false, "reason": "invalid_code"})
    );
    let dashed = format!(
        " {} ",
        codes[1]
            .replace('-', "")
            .chars()
            .flat_map(|c| [c, '-'])
            .collect::<String>()
            .trim_end_matches('-')
    );
    assert_eq!(
        api.validate("dave", &dashed),
        json!({"ok": true, "method": "backup_code"})
    );
    assert_eq!(
        api.get("/api/v1/users/dave").json["backup_codes_remaining"],
        8
    );

    // A backup code with method totp is not a TOTP code.
    let r = api.post(
        "/api/v1/validate",
        json!({"username": "dave", "code": codes[2], "method": "totp"}),
    );
    assert_eq!((r.status, r.error_code()), (422, "malformed_code"));
    let r = api.post(
        "/api/v1/validate",
        json!({"username": "dave", "code": codes[2], "method": "backup_code"}),
    );
    assert_eq!(r.json, json!({"ok": true, "method": "backup_code"}));

    let r = api.post_empty("/api/v1/users/dave/backup-codes");
    assert_eq!(r.status, 201, "{r:?}");
    let fresh: Vec<String> = r.json["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fresh.len(), 10);
    assert_eq!(
        api.get("/api/v1/users/dave").json["backup_codes_remaining"],
        10
    );
    // (Three tries: more would reach the lockout threshold of 5.)
    for old in &codes[3..6] {
        assert_eq!(
            api.validate("dave", old),
            json!({"ok": false, "reason": "invalid_code"}),
            "old {old}"
        );
    }
    assert_eq!(
        api.validate("dave", &fresh[0]),
        json!({"ok": true, "method": "backup_code"})
    );
}

fn lockout_unlock_and_reset(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let r = api.patch("/api/v1/settings", json!({"lockout.max_failures": 3}));
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json["settings"]["lockout.max_failures"], 3);
    let (secret, codes) = api.enrolled_user("erin");
    let wrong = wrong_code(&secret);

    // Two failures, then a success resets the count.
    for _ in 0..2 {
        assert_eq!(api.validate("erin", &wrong)["reason"], "invalid_code");
    }
    assert_eq!(api.validate("erin", &totp(&secret, 1))["ok"], true);
    for _ in 0..2 {
        assert_eq!(api.validate("erin", &wrong)["reason"], "invalid_code");
    }
    assert_eq!(api.get("/api/v1/users/erin").json["locked"], false);
    // The third consecutive failure locks; then even a right code is refused.
    assert_eq!(api.validate("erin", &wrong)["reason"], "invalid_code");
    let user = api.get("/api/v1/users/erin").json;
    assert_eq!(user["locked"], true);
    assert!(user["locked_until"].as_i64().unwrap() > crate::support::now() as i64 + 800);
    let metrics = api.get("/metrics").json.as_str().unwrap().to_owned();
    assert!(metrics.contains("twofold_lockouts_total 1"), "{metrics}");
    assert!(
        metrics.contains("twofold_validations_total{result=\"invalid_code\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("twofold_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert_eq!(
        api.validate("erin", &codes[0]),
        json!({"ok": false, "reason": "locked"})
    );

    // Unlock from the CLI.
    assert!(env.cli_ok(&["user", "unlock", "erin"]).contains("unlocked"));
    assert_eq!(
        api.validate("erin", &codes[0]),
        json!({"ok": true, "method": "backup_code"})
    );

    // Lock again; unlock through the API.
    for _ in 0..3 {
        api.validate("erin", &wrong);
    }
    assert_eq!(api.validate("erin", &codes[1])["reason"], "locked");
    assert_eq!(api.post_empty("/api/v1/users/erin/unlock").status, 204);
    assert_eq!(api.validate("erin", &codes[1])["ok"], true);

    // Admin reset: everything goes; the user is not enrolled any more.
    assert_eq!(api.delete("/api/v1/users/erin/factors").status, 204);
    let user = api.get("/api/v1/users/erin").json;
    assert_eq!(user["factors"], json!([]));
    assert_eq!(user["backup_codes_remaining"], 0);
    assert_eq!(user["has_2fa"], false);
    assert_eq!(
        api.validate("erin", &codes[2]),
        json!({"ok": false, "reason": "not_enrolled"})
    );
    assert_eq!(
        api.validate("erin", &totp(&secret, 0)),
        json!({"ok": false, "reason": "not_enrolled"})
    );
}

fn token_scopes_and_authentication(db: Db) {
    let env = Env::new(db);
    let admin = env.token("admin", "admin");
    let validate = env.token("login-page", "validate");
    let metrics = env.token("prometheus", "metrics");
    let server = env.serve();
    let api = server.api(&admin);
    let (secret, _) = api.enrolled_user("frank");

    let v = server.api(&validate);
    let r = v.post("/api/v1/users", json!({"username": "mallory"}));
    assert_eq!((r.status, r.error_code()), (403, "forbidden"));
    assert_eq!(v.get("/api/v1/users/frank").status, 403);
    assert_eq!(v.delete("/api/v1/users/frank/factors").status, 403);
    assert_eq!(v.get("/api/v1/settings").status, 403);
    assert_eq!(v.get("/metrics").status, 403);
    assert_eq!(v.validate("frank", &totp(&secret, 1))["ok"], true);
    assert_eq!(
        api.get("/api/v1/users/mallory").status,
        404,
        "nothing was created"
    );

    let m = server.api(&metrics);
    let r = m.get("/metrics");
    assert_eq!(r.status, 200);
    let text = r.json.as_str().unwrap().to_owned();
    assert!(text.contains("twofold_validations_total"), "{text}");
    assert!(!text.contains("frank"), "metrics must not name users");
    assert_eq!(
        m.post(
            "/api/v1/validate",
            json!({"username": "frank", "code": "123456"})
        )
        .status,
        403
    );
    assert_eq!(
        api.get("/metrics").status,
        200,
        "admin tokens may read metrics"
    );

    let anon = server.anonymous();
    for (tok, what) in [
        (None, "no token"),
        (Some("tf_nope"), "unknown token"),
        (Some(""), "empty"),
    ] {
        let r = anon.with_token(tok).post(
            "/api/v1/validate",
            json!({"username": "frank", "code": "123456"}),
        );
        assert_eq!((r.status, r.error_code()), (401, "unauthorized"), "{what}");
    }
    let r = anon.raw("GET", "/api/v1/users/frank", None, None);
    assert_eq!(r.status, 401);
    assert_eq!(anon.get("/healthz").json, json!({"status": "ok"}));
    let doc = anon.get("/api/openapi.json");
    assert_eq!(doc.status, 200);
    for path in [
        "/api/v1/validate",
        "/api/v1/users/{username}/factors/{id}/confirm",
        "/api/v1/settings",
    ] {
        assert!(
            doc.json["paths"].get(path).is_some(),
            "openapi lacks {path}"
        );
    }

    // A revoked token stops working at once.
    env.cli_ok(&["token", "revoke", "login-page"]);
    assert_eq!(v.validate_status("frank", "123456"), 401);
}

fn bad_input_is_refused_and_changes_nothing(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let (secret, _) = api.enrolled_user("grace");

    let bad_bodies: &[(&str, &[u8])] = &[
        ("not json", b"{username: grace"),
        ("missing field", b"{}"),
        ("wrong type", br#"{"username": 5}"#),
        ("unknown field", br#"{"username": "heidi", "admin": true}"#),
        ("array", b"[]"),
        ("invalid utf-8", b"{\"username\": \"\xff\"}"),
    ];
    for (what, body) in bad_bodies {
        let r = api.raw(
            "POST",
            "/api/v1/users",
            Some("application/json"),
            Some(body.to_vec()),
        );
        assert_eq!(
            (r.status, r.error_code()),
            (400, "bad_request"),
            "{what}: {r:?}"
        );
        assert!(!r.json["error"]["message"].as_str().unwrap().is_empty());
    }
    let r = api.raw(
        "POST",
        "/api/v1/users",
        None,
        Some(br#"{"username": "heidi"}"#.to_vec()),
    );
    assert_eq!(r.status, 400, "no content type: {r:?}");
    // A declared length over 2 MiB is refused before any of the body is read.
    let r = api.raw_tcp(
        "POST /api/v1/users HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 3145728",
        Vec::new(),
    );
    assert_eq!((r.status, r.error_code()), (413, "body_too_large"), "{r:?}");
    // A chunked body (no declared length) is cut off once it passes 2 MiB.
    let json = format!(
        r#"{{"username": "heidi", "x": "{}"}}"#,
        "a".repeat(3 * 1024 * 1024)
    );
    let mut chunked = format!("{:x}\r\n", json.len()).into_bytes();
    chunked.extend_from_slice(json.as_bytes());
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let r = api.raw_tcp(
        "POST /api/v1/users HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close",
        chunked,
    );
    assert_eq!((r.status, r.error_code()), (413, "body_too_large"), "{r:?}");
    let api = server.api(&token);
    assert_eq!(
        api.get("/api/v1/users/heidi").status,
        404,
        "no bad request created a user"
    );

    // Unknown users are 404 everywhere.
    for (method, path, body) in [
        ("GET", "/api/v1/users/nobody", None),
        (
            "PATCH",
            "/api/v1/users/nobody",
            Some(json!({"disabled": true})),
        ),
        (
            "POST",
            "/api/v1/users/nobody/factors",
            Some(json!({"kind": "totp"})),
        ),
        ("POST", "/api/v1/users/nobody/unlock", None),
        ("DELETE", "/api/v1/users/nobody/factors", None),
        ("POST", "/api/v1/users/nobody/backup-codes", None),
        (
            "POST",
            "/api/v1/users/nobody/challenge",
            Some(json!({"kind": "email"})),
        ),
        (
            "POST",
            "/api/v1/validate",
            Some(json!({"username": "nobody", "code": "123456"})),
        ),
        // Whatever else is wrong with the request, the unknown user comes first.
        (
            "POST",
            "/api/v1/users/nobody/factors",
            Some(json!({"kind": "bogus"})),
        ),
        (
            "POST",
            "/api/v1/validate",
            Some(json!({"username": "nobody", "code": "123456", "method": "sorcery"})),
        ),
        (
            "POST",
            "/api/v1/users/nobody/factors/0123456789abcdef0123456789abcdef/confirm",
            Some(json!({"code": "123456"})),
        ),
        (
            "DELETE",
            "/api/v1/users/nobody/factors/0123456789abcdef0123456789abcdef",
            None,
        ),
    ] {
        let r = api.call(method, path, body.as_ref());
        assert_eq!(
            (r.status, r.error_code()),
            (404, "user_not_found"),
            "{method} {path}"
        );
    }

    // Hostile usernames are refused on creation and unknown on lookup.
    for name in [
        "",
        " ",
        "a b",
        "../etc/passwd",
        "<script>",
        "x'--",
        "ä",
        "a\u{0}b",
        &"a".repeat(65),
    ] {
        let r = api.post("/api/v1/users", json!({"username": name}));
        assert_eq!(
            (r.status, r.error_code()),
            (422, "invalid_username"),
            "{name:?}"
        );
    }
    for path in [
        "/api/v1/users/..%2f..%2fetc",
        "/api/v1/users/%3Cscript%3E",
        "/api/v1/users/a%20b",
    ] {
        assert_eq!(api.get(path).status, 404, "{path}");
    }

    // Refused details create nothing.
    let r = api.post(
        "/api/v1/users",
        json!({"username": "ivan", "email": "not-an-email"}),
    );
    assert_eq!((r.status, r.error_code()), (422, "invalid_email"));
    let r = api.post(
        "/api/v1/users",
        json!({"username": "ivan", "phone": "555-0100"}),
    );
    assert_eq!((r.status, r.error_code()), (422, "invalid_phone"));
    let r = api.post("/api/v1/users", json!({"username": "ivan", "role": "root"}));
    assert_eq!((r.status, r.error_code()), (422, "invalid_role"));
    let r = api.post(
        "/api/v1/users",
        json!({"username": "ivan", "password": "short"}),
    );
    assert_eq!((r.status, r.error_code()), (422, "invalid_password"));
    assert_eq!(api.get("/api/v1/users/ivan").status, 404);
    let r = api.post("/api/v1/users", json!({"username": "GRACE"}));
    assert_eq!((r.status, r.error_code()), (409, "user_exists"));
    let r = api.patch(
        "/api/v1/users/grace",
        json!({"email": "a@b.co", "phone": "nope"}),
    );
    assert_eq!((r.status, r.error_code()), (422, "invalid_phone"));
    assert_eq!(
        api.get("/api/v1/users/grace").json["email"],
        json!(null),
        "half a patch is no patch"
    );
    let r = api.patch(
        "/api/v1/users/grace",
        json!({"email": "grace@example.com", "phone": "+1 (555) 010-0199"}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json["phone"], "+15550100199");

    // Kinds and factors.
    let r = api.post(
        "/api/v1/users/grace/factors",
        json!({"kind": "carrier-pigeon"}),
    );
    assert_eq!((r.status, r.error_code()), (422, "unknown_kind"));
    let r = api.post("/api/v1/users/grace/factors", json!({"kind": "email"}));
    assert_eq!((r.status, r.error_code()), (422, "method_not_available"));
    let r = api.post(
        "/api/v1/users/grace/factors",
        json!({"kind": "totp", "label": ""}),
    );
    assert_eq!((r.status, r.error_code()), (422, "invalid_label"));
    for id in ["nope", "00000000000000000000000000000000", "%2e%2e"] {
        let r = api.post(
            &format!("/api/v1/users/grace/factors/{id}/confirm"),
            json!({"code": "123456"}),
        );
        assert_eq!(
            (r.status, r.error_code()),
            (404, "factor_not_found"),
            "{id}"
        );
        assert_eq!(
            api.delete(&format!("/api/v1/users/grace/factors/{id}"))
                .status,
            404
        );
    }

    // Codes that fit no method are errors that count nothing.
    for code in ["12345", "123456789", "abc", "12 34 56 78 90 12", "<script>"] {
        let r = api.post(
            "/api/v1/validate",
            json!({"username": "grace", "code": code}),
        );
        assert_eq!(
            (r.status, r.error_code()),
            (422, "malformed_code"),
            "{code:?}"
        );
    }
    let r = api.post("/api/v1/validate", json!({"username": "grace"}));
    assert_eq!((r.status, r.error_code()), (422, "missing_code"));
    let r = api.post(
        "/api/v1/validate",
        json!({"username": "grace", "code": "123456", "method": "sorcery"}),
    );
    assert_eq!((r.status, r.error_code()), (422, "unknown_method"));
    assert_eq!(
        api.validate("grace", &totp(&secret, 1))["ok"],
        true,
        "no failure was counted"
    );

    // Settings: an unknown key or a bad value refuses the whole patch.
    let before = api.get("/api/v1/settings").json;
    let r = api.patch(
        "/api/v1/settings",
        json!({"totp.window": 2, "no.such.setting": true}),
    );
    assert_eq!((r.status, r.error_code()), (422, "unknown_setting"));
    let r = api.patch(
        "/api/v1/settings",
        json!({"totp.window": 2, "lockout.seconds": "soon"}),
    );
    assert_eq!((r.status, r.error_code()), (422, "invalid_setting"));
    let r = api.patch("/api/v1/settings", json!({"totp.window": [1]}));
    assert_eq!((r.status, r.error_code()), (422, "invalid_setting"));
    assert_eq!(api.get("/api/v1/settings").json, before);

    let r = api.get("/api/v1/nothing-here");
    assert_eq!((r.status, r.error_code()), (404, "not_found"));
    let r = api.get("/api/v1/audit?limit=lots");
    assert_eq!((r.status, r.error_code()), (400, "bad_request"));
}

fn secrets_never_reach_the_database_in_clear(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let cli_password = "correct horse battery staple from the cli";
    let out = env.cli_stdin(
        &["user", "add", "walt", "--password-stdin"],
        &format!("{cli_password}\n"),
    );
    assert!(out.status.success(), "{out:?}");
    let server = env.serve();
    let api = server.api(&token);
    let api_password = "a long passphrase sent to the api";
    let r = api.post(
        "/api/v1/users",
        json!({"username": "xena", "password": api_password}),
    );
    assert_eq!(r.status, 201, "{r:?}");
    let (secret, codes) = api.enrolled_user("judy");
    assert_eq!(api.validate("judy", &codes[0])["ok"], true);
    let r = api.patch(
        "/api/v1/settings",
        json!({"methods.email.smtp.password": "hunter2-very-secret"}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json["settings"]["methods.email.smtp.password"],
        "********"
    );
    drop(server);

    let bytes = env.database_bytes();
    let text = String::from_utf8_lossy(&bytes).to_lowercase();
    let raw = twofold_otp::base32::decode(&secret).unwrap();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    assert!(
        !text.contains(&secret.to_lowercase()),
        "base32 secret in the database"
    );
    assert!(!text.contains(&hex), "hex secret in the database");
    assert!(
        !bytes.windows(raw.len()).any(|w| w == raw.as_slice()),
        "raw secret in the database"
    );
    for c in &codes {
        assert!(!text.contains(c), "backup code {c} in the database");
        assert!(
            !text.contains(&c.replace('-', "")),
            "backup code {c} in the database"
        );
    }
    assert!(
        !text.contains("hunter2-very-secret"),
        "SMTP password in the database"
    );
    // API tokens are stored as hashes: neither the token nor its random part is there.
    let random_part = token.strip_prefix("tf_").unwrap();
    assert!(random_part.len() >= 32, "{token}");
    assert!(
        !text.contains(&token.to_lowercase()),
        "API token in the database"
    );
    assert!(
        !text.contains(&random_part.to_lowercase()),
        "API token in the database"
    );
    // Passwords are Argon2id hashes, whichever way they came in.
    for password in [cli_password, api_password] {
        assert!(
            !text.contains(password),
            "password {password:?} in the database"
        );
    }
    assert!(text.contains("$argon2id$"), "password hashes are Argon2id");
}

fn audit_log_records_events_without_secrets(db: Db) {
    let env = Env::new(db);
    let token = env.token("audit-app", "admin");
    let login_page = env.token("login-page", "validate");
    let server = env.serve();
    let api = server.api(&token);
    let (secret, codes) = api.enrolled_user("ken");
    let good = totp(&secret, 1);
    let bad = wrong_code(&secret);
    assert_eq!(api.validate("ken", &good)["ok"], true);
    assert_eq!(api.validate("ken", &bad)["ok"], false);
    assert_eq!(api.validate("ken", &codes[0])["ok"], true);
    // A second device, removed on its own.
    let (id2, secret2) = api.start_totp("ken", Some("old phone"));
    let r = api.post(
        &format!("/api/v1/users/ken/factors/{id2}/confirm"),
        json!({"code": totp(&secret2, 0)}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        api.delete(&format!("/api/v1/users/ken/factors/{id2}"))
            .status,
        204
    );
    api.patch("/api/v1/settings", json!({"lockout.max_failures": 1}));
    assert_eq!(api.validate("ken", &bad)["ok"], false);
    assert_eq!(api.post_empty("/api/v1/users/ken/unlock").status, 204);
    api.post_empty("/api/v1/users/ken/backup-codes");
    // A validate-scope token reaching for an admin route is refused, and that is recorded.
    assert_eq!(server.api(&login_page).get("/api/v1/users/ken").status, 403);
    // Locked again, and unlocked by the operator at the command line.
    assert_eq!(api.validate("ken", &bad)["ok"], false);
    assert_eq!(api.get("/api/v1/users/ken").json["locked"], true);
    assert!(env.cli_ok(&["user", "unlock", "ken"]).contains("unlocked"));
    api.delete("/api/v1/users/ken/factors");

    let r = api.get("/api/v1/audit?username=ken&limit=100");
    assert_eq!(r.status, 200);
    let events = r.json["events"].as_array().unwrap();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    for expected in [
        "user.created",
        "factor.enrolled",
        "factor.confirmed",
        "factor.removed",
        "2fa.success",
        "2fa.failure",
        "2fa.lockout",
        "2fa.unlock",
        "backup_codes.regenerated",
        "2fa.reset",
    ] {
        assert!(names.contains(&expected), "no {expected} in {names:?}");
    }
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    let by_cli: Vec<&serde_json::Value> = events.iter().filter(|e| e["actor"] == "cli").collect();
    assert_eq!(
        by_cli.len(),
        1,
        "only the unlock came from the CLI: {by_cli:?}"
    );
    assert_eq!(by_cli[0]["event"], "2fa.unlock");
    assert_eq!(by_cli[0]["ip"], json!(null), "the CLI has no client IP");
    assert_eq!(
        names.iter().filter(|n| **n == "2fa.unlock").count(),
        2,
        "the API's unlock and the CLI's"
    );
    for e in events {
        assert_eq!(e["subject"], "ken");
        assert!(e["at"].as_i64().unwrap() > 1_700_000_000);
        if e["actor"] != "cli" {
            assert_eq!(e["actor"], "token:audit-app", "{e}");
            assert_eq!(e["ip"], "127.0.0.1", "{e}");
        }
    }

    let all = api.get("/api/v1/audit?limit=1000").json;
    let all_events = all["events"].as_array().unwrap();
    let find = |event: &str, actor: &str, detail: &str| {
        all_events
            .iter()
            .find(|e| {
                e["event"] == event
                    && e["actor"] == actor
                    && e["detail"].as_str().unwrap().contains(detail)
            })
            .unwrap_or_else(|| panic!("no {event} by {actor} with {detail} in {all}"))
    };
    let refused = find("token.refused", "token:login-page", "scope");
    assert_eq!(refused["ip"], "127.0.0.1");
    find("token.created", "cli", "name=audit-app scope=admin");
    find("token.created", "cli", "name=login-page scope=validate");
    find(
        "settings.changed",
        "token:audit-app",
        "lockout.max_failures",
    );
    let text = all.to_string().to_lowercase();
    for needle in [
        secret.to_lowercase(),
        secret2.to_lowercase(),
        good.clone(),
        bad.clone(),
        token.to_lowercase(),
        login_page.to_lowercase(),
    ] {
        assert!(!text.contains(&needle), "{needle} in the audit log");
    }
    for c in &codes {
        assert!(
            !text.contains(c) && !text.contains(&c.replace('-', "")),
            "backup code in the audit log"
        );
    }
    let r = api.get("/api/v1/audit?username=ken&event=2fa.success&limit=1");
    let events = r.json["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"], "2fa.success");
}

fn several_labelled_factors_and_removal(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let (first_secret, codes) = api.enrolled_user("lena");
    let (id2, secret2) = api.start_totp("lena", Some("tablet"));
    let r = api.post(
        &format!("/api/v1/users/lena/factors/{id2}/confirm"),
        json!({"code": totp(&secret2, 0)}),
    );
    assert_eq!(r.status, 200);
    assert!(
        r.json.get("backup_codes").is_none(),
        "only the first factor brings backup codes"
    );
    let user = api.get("/api/v1/users/lena").json;
    let labels: Vec<&str> = user["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Authenticator app", "tablet"]);

    // Either device works.
    assert_eq!(api.validate("lena", &totp(&secret2, 1))["ok"], true);
    assert_eq!(api.validate("lena", &totp(&first_secret, 1))["ok"], true);

    // Remove the tablet: its codes stop working; the phone and backup codes stay.
    assert_eq!(
        api.delete(&format!("/api/v1/users/lena/factors/{id2}"))
            .status,
        204
    );
    assert_eq!(
        api.validate("lena", &totp(&secret2, 0))["reason"],
        "invalid_code"
    );
    assert_eq!(
        api.get("/api/v1/users/lena").json["backup_codes_remaining"],
        10
    );
    assert_eq!(api.validate("lena", &codes[0])["ok"], true);
    // Removing the last one removes the backup codes with it.
    let id1 = api.get("/api/v1/users/lena").json["factors"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        api.delete(&format!("/api/v1/users/lena/factors/{id1}"))
            .status,
        204
    );
    let user = api.get("/api/v1/users/lena").json;
    assert_eq!(
        (
            user["backup_codes_remaining"].as_i64(),
            user["has_2fa"].as_bool()
        ),
        (Some(0), Some(false))
    );
    assert_eq!(api.validate("lena", &codes[1])["reason"], "not_enrolled");
}

fn settings_switches_change_who_has_2fa(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let s = api.get("/api/v1/settings").json["settings"].clone();
    assert_eq!(s["twofactor.enabled"], true);
    assert_eq!(s["methods.totp.active"], true);
    assert_eq!(s["methods.totp.clients"], true);
    assert_eq!(s["methods.totp.admins"], true);
    assert_eq!(s["force.clients"], false);
    assert_eq!(s["force.admins"], false);
    assert_eq!(s["totp.window"], 1);
    assert_eq!(s["lockout.max_failures"], 5);
    assert_eq!(s["codes.ttl_seconds"], 600);
    assert_eq!(
        s["issuer"].as_str(),
        Some(hostname().as_str()),
        "issuer defaults to the hostname"
    );

    let (secret, codes) = api.enrolled_user("mike");
    // The server-wide switch off: nobody has 2FA, enrolments are kept.
    api.patch("/api/v1/settings", json!({"twofactor.enabled": false}));
    assert_eq!(api.validate("mike", &codes[0])["reason"], "not_enrolled");
    api.patch("/api/v1/settings", json!({"twofactor.enabled": true}));
    // TOTP disabled for clients: a client's TOTP factor no longer counts.
    api.patch("/api/v1/settings", json!({"methods.totp.clients": false}));
    assert_eq!(
        api.validate("mike", &totp(&secret, 1))["reason"],
        "not_enrolled"
    );
    let r = api.post("/api/v1/users/mike/factors", json!({"kind": "totp"}));
    assert_eq!((r.status, r.error_code()), (422, "method_not_available"));
    // An admin still has it.
    api.patch("/api/v1/users/mike", json!({"role": "admin"}));
    assert_eq!(api.validate("mike", &totp(&secret, 1))["ok"], true);
    // Disabled users are refused.
    api.patch("/api/v1/users/mike", json!({"disabled": true}));
    assert_eq!(api.validate("mike", &codes[1])["reason"], "disabled");

    // The issuer reaches the key URI.
    api.patch(
        "/api/v1/settings",
        json!({"issuer": "Acme Billing", "methods.totp.clients": true}),
    );
    api.post("/api/v1/users", json!({"username": "nina"}));
    let r = api.post("/api/v1/users/nina/factors", json!({"kind": "totp"}));
    let uri = twofold_otp::KeyUri::parse(r.json["otpauth_uri"].as_str().unwrap()).unwrap();
    assert_eq!(uri.issuer.as_deref(), Some("Acme Billing"));
}

fn drift_is_learned_and_can_be_reset(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    // A phone running a step ahead, confirmed with its code: the factor learns drift +1.
    api.post("/api/v1/users", json!({"username": "fast"}));
    let (id, secret) = api.start_totp("fast", None);
    let r = api.post(
        &format!("/api/v1/users/fast/factors/{id}/confirm"),
        json!({"code": totp(&secret, 1)}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(api.get("/api/v1/users/fast").json["factors"][0]["drift"], 1);
    // Running further ahead, it stays usable: the window follows the learned drift.
    assert_eq!(api.validate("fast", &totp(&secret, 2))["ok"], true);
    assert_eq!(api.validate("fast", &totp(&secret, 3))["ok"], true);
    assert_eq!(api.get("/api/v1/users/fast").json["factors"][0]["drift"], 3);
    // An admin resets the drift: the window is back around the server's clock.
    assert_eq!(
        api.post_empty(&format!("/api/v1/users/fast/factors/{id}/reset-drift"))
            .status,
        204
    );
    assert_eq!(api.get("/api/v1/users/fast").json["factors"][0]["drift"], 0);
    assert_eq!(api.validate("fast", &totp(&secret, 5))["ok"], false);
    let r =
        api.post_empty("/api/v1/users/fast/factors/00000000000000000000000000000000/reset-drift");
    assert_eq!((r.status, r.error_code()), (404, "factor_not_found"));

    // Without learned drift, two steps ahead is outside the window.
    let (secret2, _) = api.enrolled_user("steady");
    if crate::support::now() % 30 < 27 {
        assert_eq!(api.validate("steady", &totp(&secret2, 2))["ok"], false);
    }
}

fn masked_secrets_sent_back_change_nothing(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    api.patch(
        "/api/v1/settings",
        json!({"methods.duo.skey": "theRealSecret000000000000000000000000001"}),
    );
    // A client that PATCHes back what it was shown does not overwrite the secret.
    let shown = api.get("/api/v1/settings").json["settings"].clone();
    assert_eq!(shown["methods.duo.skey"], "********");
    assert_eq!(api.patch("/api/v1/settings", shown).status, 200);
    // Only real changes are written (and audited): the secret was not among them.
    let r = api.get("/api/v1/audit?event=settings.changed&limit=1");
    let detail = r.json["events"][0]["detail"].as_str().unwrap().to_owned();
    assert!(!detail.contains("methods.duo.skey"), "{detail}");
    assert!(detail.contains("methods.totp.active"), "{detail}");
    drop(server);
    assert!(
        !String::from_utf8_lossy(&env.database_bytes())
            .contains("theRealSecret000000000000000000000000001")
    );
}

/// The machine's hostname, as the kernel (or `hostname`) tells it.
fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| {
        let out = std::process::Command::new("hostname").output().unwrap();
        String::from_utf8(out.stdout).unwrap()
    });
    let name = name.trim().to_owned();
    assert!(!name.is_empty());
    name
}

fn per_method_switches_and_the_default_issuer(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);

    // A fresh enrolment's key URI names this machine.
    api.post("/api/v1/users", json!({"username": "olga"}));
    let r = api.post("/api/v1/users/olga/factors", json!({"kind": "totp"}));
    assert_eq!(r.status, 201, "{r:?}");
    let text = r.json["otpauth_uri"].as_str().unwrap();
    let uri = twofold_otp::KeyUri::parse(text).unwrap();
    assert_eq!(uri.issuer.as_deref(), Some(hostname().as_str()), "{text}");

    let (client_secret, client_codes) = api.enrolled_user("carl");
    let (admin_secret, admin_codes) = api.enrolled_user("ada");
    let r = api.patch("/api/v1/users/ada", json!({"role": "admin"}));
    assert_eq!(r.json["role"], "admin", "{r:?}");
    let set = |changes: serde_json::Value| {
        let r = api.patch("/api/v1/settings", changes);
        assert_eq!(r.status, 200, "{r:?}");
    };

    // The service switched off: nobody's TOTP counts, even with clients and admins still on,
    // and backup codes go with it (nobody has 2FA).
    set(json!({"methods.totp.active": false}));
    let s = api.get("/api/v1/settings").json["settings"].clone();
    assert_eq!(
        (&s["methods.totp.clients"], &s["methods.totp.admins"]),
        (&json!(true), &json!(true))
    );
    for (user, secret, codes) in [
        ("carl", &client_secret, &client_codes),
        ("ada", &admin_secret, &admin_codes),
    ] {
        let v = api.validate(user, &totp(secret, 1));
        assert_eq!(v, json!({"ok": false, "reason": "not_enrolled"}), "{user}");
        let v = api.validate(user, &codes[0]);
        assert_eq!(v, json!({"ok": false, "reason": "not_enrolled"}), "{user}");
        assert_eq!(
            api.get(&format!("/api/v1/users/{user}")).json["has_2fa"],
            false
        );
    }
    let r = api.post("/api/v1/users/olga/factors", json!({"kind": "totp"}));
    assert_eq!((r.status, r.error_code()), (422, "method_not_available"));
    set(json!({"methods.totp.active": true}));

    // Off for admins only: the admin is not enrolled, the client still is.
    set(json!({"methods.totp.admins": false}));
    let v = api.validate("ada", &totp(&admin_secret, 1));
    assert_eq!(v, json!({"ok": false, "reason": "not_enrolled"}));
    assert_eq!(
        api.validate("ada", &admin_codes[0]),
        json!({"ok": false, "reason": "not_enrolled"})
    );
    assert_eq!(
        api.validate("carl", &client_codes[0]),
        json!({"ok": true, "method": "backup_code"})
    );
    set(json!({"methods.totp.admins": true}));
    assert_eq!(
        api.validate("ada", &totp(&admin_secret, 1)),
        json!({"ok": true, "method": "totp"})
    );
}

fn forwarded_for_is_believed_only_from_trusted_proxies(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    for (trusted, name, expected) in [
        (true, "via-proxy", "203.0.113.7"),
        (false, "direct", "127.0.0.1"),
    ] {
        let server = if trusted {
            env.serve_with(&[("TWOFOLD_TRUSTED_PROXIES", "127.0.0.1")])
        } else {
            env.serve()
        };
        let api = server.api(&token);
        let body = json!({"username": name}).to_string();
        // The client claims 198.51.100.23; our proxy (the peer, 127.0.0.1) appended what it saw.
        let r = api.raw_tcp(
            &format!(
                "POST /api/v1/users HTTP/1.1\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nX-Forwarded-For: 198.51.100.23, 203.0.113.7\r\n\
                 Connection: close",
                body.len()
            ),
            body.into_bytes(),
        );
        assert_eq!(r.status, 201, "{r:?}");
        let r = api.get(&format!("/api/v1/audit?username={name}&event=user.created"));
        let events = r.json["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{r:?}");
        assert_eq!(events[0]["ip"], expected, "trusted proxy: {trusted}");
    }
}

/// The whole answer to a raw HTTP/1.1 request (`Connection: close` is added), as text.
fn raw_exchange(base: &str, head: &str) -> String {
    use std::io::{Read, Write};
    let authority = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{head}\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut got = String::new();
    stream.read_to_string(&mut got).unwrap();
    got
}

fn framework_errors_use_the_error_format(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    api.enrolled_user("pia");

    // A method a route does not have: 405 in the error format, whatever the token.
    for (method, path) in [
        ("PUT", "/api/v1/users/pia"),
        ("DELETE", "/api/v1/users"),
        ("GET", "/api/v1/validate"),
        ("PUT", "/api/v1/settings"),
        ("POST", "/api/v1/audit"),
        ("POST", "/healthz"),
    ] {
        for caller in [&api, &server.anonymous()] {
            // (No body: the answer comes before any would be read, and the server may then
            // close the connection under a client that wants to reuse it.)
            let r = caller.call(method, path, None);
            assert_eq!(
                (r.status, r.error_code()),
                (405, "method_not_allowed"),
                "{method} {path}: {r:?}"
            );
            assert!(!r.json["error"]["message"].as_str().unwrap().is_empty());
        }
    }
    // The Allow header still says what the route takes.
    let answer = raw_exchange(
        &server.base,
        &format!("PUT /api/v1/users/pia HTTP/1.1\r\nAuthorization: Bearer {token}"),
    );
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 405"), "{head}");
    let head = head.to_lowercase();
    assert!(head.contains("content-type: application/json"), "{head}");
    let allow = head
        .lines()
        .find_map(|l| l.strip_prefix("allow: "))
        .unwrap_or_else(|| panic!("no Allow header: {head}"));
    for m in ["get", "patch"] {
        assert!(allow.split(',').any(|a| a.trim() == m), "{allow}");
    }
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");

    // A path segment that does not decode (not UTF-8 once percent-decoded): 400, same format.
    for (method, path) in [
        ("GET", "/api/v1/users/%FF"),
        ("PATCH", "/api/v1/users/%C3%28"),
        ("POST", "/api/v1/users/pia/factors/%FF%FE/confirm"),
        ("DELETE", "/api/v1/users/%E2%82/factors"),
    ] {
        let r = api.call(method, path, None);
        assert_eq!(
            (r.status, r.error_code()),
            (400, "bad_request"),
            "{method} {path}: {r:?}"
        );
        assert!(
            r.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("UTF-8"),
            "{r:?}"
        );
    }
    // Nothing happened to the user those paths were aimed at.
    let user = api.get("/api/v1/users/pia").json;
    assert_eq!(user["has_2fa"], true);
    // The portal keeps its pages: a wrong method there is not JSON.
    let answer = raw_exchange(&server.base, "PUT /login HTTP/1.1");
    assert!(answer.starts_with("HTTP/1.1 405"), "{answer}");
    assert!(
        !answer.to_lowercase().contains("application/json"),
        "{answer}"
    );
}

/// The sum of the samples of `name` whose labels include all of `labels`.
fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (n, rest) = series.split_once('{').unwrap_or((series, "}"));
            if n != name {
                return None;
            }
            let set = rest.strip_suffix('}')?;
            let have: Vec<&str> = set.split(',').collect();
            labels
                .iter()
                .all(|(k, v)| have.contains(&format!("{k}=\"{v}\"").as_str()))
                .then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

fn openapi_and_metrics_cover_the_design(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);

    // Every route of the API v1 contract (README, JSON API v1), with its method, is in the
    // document.
    let doc = server.anonymous().get("/api/openapi.json");
    assert_eq!(doc.status, 200);
    assert!(doc.json["openapi"].as_str().unwrap().starts_with("3."));
    for (method, path) in [
        ("post", "/api/v1/users"),
        ("get", "/api/v1/users/{username}"),
        ("patch", "/api/v1/users/{username}"),
        ("post", "/api/v1/users/{username}/unlock"),
        ("get", "/api/v1/users/{username}/sessions"),
        ("delete", "/api/v1/users/{username}/sessions"),
        ("post", "/api/v1/users/{username}/factors"),
        ("delete", "/api/v1/users/{username}/factors"),
        ("post", "/api/v1/users/{username}/factors/{id}/confirm"),
        ("delete", "/api/v1/users/{username}/factors/{id}"),
        ("post", "/api/v1/users/{username}/backup-codes"),
        ("post", "/api/v1/users/{username}/challenge"),
        ("post", "/api/v1/validate"),
        ("get", "/api/v1/settings"),
        ("patch", "/api/v1/settings"),
        ("get", "/api/v1/audit"),
    ] {
        let op = &doc.json["paths"][path][method];
        assert!(op.is_object(), "openapi lacks {method} {path}");
        assert!(
            op["responses"].is_object(),
            "{method} {path} has no responses"
        );
    }
    let audit = &doc.json["paths"]["/api/v1/audit"]["get"]["parameters"];
    for p in ["username", "limit"] {
        assert!(
            audit.as_array().unwrap().iter().any(|x| x["name"] == p),
            "audit lacks ?{p}: {audit}"
        );
    }

    // Validations by result and requests by route.
    let (secret, _) = api.enrolled_user("quin");
    api.post("/api/v1/users", json!({"username": "rae"}));
    assert_eq!(api.validate("quin", &totp(&secret, 1))["ok"], true);
    for _ in 0..2 {
        assert_eq!(
            api.validate("quin", &wrong_code(&secret))["reason"],
            "invalid_code"
        );
    }
    assert_eq!(api.validate("rae", "123456")["reason"], "not_enrolled");
    let r = api.post(
        "/api/v1/validate",
        json!({"username": "quin", "code": "12"}),
    );
    assert_eq!(r.status, 422);
    let r = api.post(
        "/api/v1/validate",
        json!({"username": "nobody", "code": "123456"}),
    );
    assert_eq!(r.status, 404);

    let text = api.get("/metrics").json.as_str().unwrap().to_owned();
    let validations = |result| metric(&text, "twofold_validations_total", &[("result", result)]);
    assert_eq!(validations("ok"), 1.0, "{text}");
    assert_eq!(validations("invalid_code"), 2.0, "{text}");
    assert_eq!(validations("not_enrolled"), 1.0, "{text}");
    let requests = |status| {
        metric(
            &text,
            "twofold_http_requests_total",
            &[
                ("route", "/api/v1/validate"),
                ("method", "POST"),
                ("status", status),
            ],
        )
    };
    assert_eq!(requests("200"), 4.0, "{text}");
    assert_eq!(requests("422"), 1.0, "{text}");
    assert_eq!(requests("404"), 1.0, "{text}");
    assert_eq!(
        metric(
            &text,
            "twofold_http_requests_total",
            &[
                ("route", "/api/v1/users"),
                ("method", "POST"),
                ("status", "201")
            ],
        ),
        2.0,
        "{text}"
    );
    assert_eq!(
        metric(
            &text,
            "twofold_http_request_duration_seconds_count",
            &[("route", "/api/v1/validate")],
        ),
        6.0,
        "{text}"
    );
    // Route templates, never concrete paths (which hold usernames).
    assert!(
        text.contains("route=\"/api/v1/users/{username}/factors\""),
        "{text}"
    );
    for name in ["quin", "rae", "nobody"] {
        assert!(!text.contains(name), "{name} in the metrics");
    }
}
