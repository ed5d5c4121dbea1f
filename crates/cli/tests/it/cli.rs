//! The operator's CLI against a real database, and `serve` start-up and shutdown.

use serde_json::Value;

use crate::on_both;
use crate::support::{Db, Env, totp};

on_both!(
    users_from_the_cli,
    settings_and_tokens_from_the_cli,
    serve_starts_fresh_and_stops_gracefully
);

fn err_line(out: &std::process::Output) -> String {
    let e = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(e.lines().count(), 1, "one error line: {e:?}");
    assert!(e.starts_with("error: "), "{e:?}");
    e
}

fn users_from_the_cli(db: Db) {
    let env = Env::new(db);
    let out = env.cli_stdin(
        &[
            "user",
            "add",
            "Olivia",
            "--role",
            "admin",
            "--email",
            "olivia@example.com",
            "--password-stdin",
        ],
        "correct horse battery\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.cli_ok(&["user", "add", "pat", "--phone", "+44 20 7946 0958"]);

    let out = env.cli(&["user", "add", "olivia"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err_line(&out).contains("already exists"));
    let out = env.cli(&["user", "add", "bad name"]);
    assert_eq!(out.status.code(), Some(1));
    err_line(&out);
    let out = env.cli(&["user", "add", "quinn", "--role", "root"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a role outside the list is a usage error"
    );
    let out = env.cli_stdin(&["user", "add", "quinn", "--password-stdin"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(err_line(&out).contains("no password"));
    let out = env.cli(&["user", "show", "quinn"]);
    assert_eq!(out.status.code(), Some(1), "nothing was created");
    assert!(err_line(&out).contains("no user"));

    let list: Value = serde_json::from_str(&env.cli_ok(&["user", "list", "--json"])).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Olivia", "pat"]);
    assert_eq!(list[1]["phone"], "+442079460958");
    let show: Value =
        serde_json::from_str(&env.cli_ok(&["user", "show", "OLIVIA", "--json"])).unwrap();
    assert_eq!(show["role"], "admin");
    assert_eq!(show["email"], "olivia@example.com");
    assert_eq!(show["factors"], serde_json::json!([]));
    assert!(show.get("password_hash").is_none());

    let out = env.cli_stdin(
        &["user", "set-password", "pat", "--password-stdin"],
        "another good one\n",
    );
    assert!(out.status.success());
    let out = env.cli_stdin(
        &["user", "set-password", "pat", "--password-stdin"],
        "short\n",
    );
    assert_eq!(out.status.code(), Some(1));
    err_line(&out);

    // Disable / enable, reset-2fa, unlock through the CLI, seen by the API.
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    let (id, secret) = api.start_totp("pat", None);
    api.post(
        &format!("/api/v1/users/pat/factors/{id}/confirm"),
        serde_json::json!({"code": totp(&secret, 0)}),
    );
    env.cli_ok(&["user", "disable", "pat"]);
    assert_eq!(api.validate("pat", &totp(&secret, 1))["reason"], "disabled");
    env.cli_ok(&["user", "enable", "pat"]);
    assert_eq!(api.validate("pat", &totp(&secret, 1))["ok"], true);
    assert!(env.cli_ok(&["user", "show", "pat"]).contains("2fa: on"));
    env.cli_ok(&["user", "reset-2fa", "pat"]);
    assert!(env.cli_ok(&["user", "show", "pat"]).contains("2fa: off"));
    assert_eq!(
        api.validate("pat", &totp(&secret, 0))["reason"],
        "not_enrolled"
    );
    let out = env.cli(&["user", "unlock", "nobody"]);
    assert_eq!(out.status.code(), Some(1));
    err_line(&out);
}

fn settings_and_tokens_from_the_cli(db: Db) {
    let env = Env::new(db);
    let shown = env.cli_ok(&["settings", "show"]);
    assert!(shown.contains("twofactor.enabled = true"));
    assert!(shown.contains("lockout.max_failures = 5"));
    env.cli_ok(&["settings", "set", "totp.window", "2"]);
    env.cli_ok(&[
        "settings",
        "set",
        "methods.duo.client_secret",
        "superSecretDuo00000000000000000000000001",
    ]);
    let json: Value = serde_json::from_str(&env.cli_ok(&["settings", "show", "--json"])).unwrap();
    assert_eq!(json["totp.window"], "2");
    assert_eq!(json["methods.duo.client_secret"], "********");
    assert!(
        !env.cli_ok(&["settings", "show"])
            .contains("superSecretDuo00000000000000000000000001")
    );
    for (key, value, says) in [
        ("no.such", "1", "unknown setting"),
        ("totp.window", "99", "totp.window"),
        ("force.clients", "yes", "true or false"),
    ] {
        let out = env.cli(&["settings", "set", key, value]);
        assert_eq!(out.status.code(), Some(1));
        assert!(err_line(&out).contains(says), "{key}");
    }
    assert_eq!(
        env.cli(&["settings", "set", "totp.window"]).status.code(),
        Some(2)
    );

    let out = env.cli(&["token", "create", "ci", "--scope", "validate"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "only the token: {stdout:?}");
    assert!(stdout.starts_with("tf_") && stdout.trim().len() == 67);
    let list = env.cli_ok(&["token", "list"]);
    assert!(list.contains("ci\tvalidate"));
    assert!(!list.contains(stdout.trim()));
    let out = env.cli(&["token", "create", "ci"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err_line(&out).contains("already exists"));
    assert_eq!(
        env.cli(&["token", "create", "x", "--scope", "god"])
            .status
            .code(),
        Some(2)
    );
    env.cli_ok(&["token", "revoke", "ci"]);
    assert_eq!(env.cli(&["token", "revoke", "ci"]).status.code(), Some(1));
    assert!(env.cli_ok(&["migrate"]).contains("migrations applied"));
}

fn serve_starts_fresh_and_stops_gracefully(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    assert_eq!(server.anonymous().get("/healthz").json["status"], "ok");
    #[cfg(unix)]
    if db == Db::Sqlite {
        use std::os::unix::fs::PermissionsExt;
        let key = env.data_dir().join("master.key");
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "master key mode");
        let dbmode = std::fs::metadata(env.data_dir().join("twofold.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dbmode & 0o077, 0, "database readable by others");
    }
    let (status, rest) = server.terminate();
    assert!(status.success(), "SIGTERM ends serve cleanly: {status:?}");
    let text = rest.join("\n");
    assert!(
        text.contains("/setup/"),
        "a fresh server prints the setup link: {text}"
    );

    // A node with another master key, or none, refuses to start on this database.
    let key_file = env.data_dir().join("master.key");
    let original = std::fs::read_to_string(&key_file).unwrap();
    std::fs::remove_file(&key_file).unwrap();
    let out = env.cli(&["user", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err_line(&out).contains("master key file"), "missing key");
    assert!(!key_file.exists(), "no new key was made");
    std::fs::write(&key_file, format!("{}\n", "ab".repeat(32))).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = env.cli(&["user", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(err_line(&out).contains("does not match"), "wrong key");
    std::fs::write(&key_file, original).unwrap();
    env.cli_ok(&["user", "list"]);

    // With an owner, no setup link.
    env.cli_stdin(
        &["user", "add", "root", "--role", "owner", "--password-stdin"],
        "owner password 1\n",
    );
    let server = env.serve();
    let (_, rest) = server.terminate();
    assert!(!rest.join("\n").contains("/setup/"));
}
