//! The admin area in the reader's language: an owner whose browser asks for French gets the
//! 2FA settings page (groups, labels, help, buttons) in French, with the same form fields and
//! the same provider-dependent grouping as in English.

use crate::on_both;
use crate::portal::{Browser, PASSWORD, add_user};
use crate::support::{Db, Env};

on_both!(admin_settings_page_follows_the_browsers_language);

/// The `name`s of the form fields inside each `<div class="when-…">` block, in page order.
fn conditional_blocks(body: &str) -> Vec<(String, Vec<String>)> {
    let mut blocks = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.find("<div class=\"when-") {
        let tail = &rest[at + "<div class=\"".len()..];
        let class = tail[..tail.find('"').unwrap()].to_owned();
        let end = tail.find("</div>").unwrap();
        let inside = &tail[..end];
        let names = inside
            .match_indices("name=\"")
            .map(|(i, _)| {
                let n = &inside[i + 6..];
                n[..n.find('"').unwrap()].to_owned()
            })
            .collect();
        blocks.push((class, names));
        rest = &tail[end..];
    }
    blocks
}

fn admin_settings_page_follows_the_browsers_language(db: Db) {
    let env = Env::new(db);
    let server = env.serve();
    add_user(&env, "own1", "owner", &[]);

    let mut english = Browser::new(&server);
    english.login("own1", PASSWORD, "");
    let en = english.get("/admin/settings");
    assert_eq!(en.status, 200);
    assert!(en.body.contains("<html lang=\"en\""));
    assert!(en.body.contains("<legend>SMS codes</legend>"));
    assert!(en.body.contains("Failed codes before a lockout"));

    let mut french = Browser::new(&server);
    french
        .headers
        .push(("Accept-Language".into(), "fr-CH, fr;q=0.9, en;q=0.5".into()));
    french.login("own1", PASSWORD, "");
    let fr = french.get("/admin/settings");
    assert_eq!(fr.status, 200, "{}", fr.body);
    let body = &fr.body;
    assert!(body.contains("<html lang=\"fr\""), "{body}");
    assert!(body.contains("<h1>Paramètres 2FA</h1>"), "{body}");
    // Group titles and help.
    for legend in [
        "Général",
        "Codes par SMS",
        "Jetons temporels (TOTP)",
        "Clé de sécurité ou clé d’accès",
    ] {
        assert!(
            body.contains(&format!("<legend>{legend}</legend>")),
            "{legend}"
        );
    }
    assert!(body.contains("Sans hôte SMTP, les messages sont écrits dans le dossier outbox"));
    // The Duo group's help names this server's redirect URI.
    assert!(body.contains("/login/duo/callback comme URI de redirection"));
    // Setting labels.
    for label in [
        "<label for=\"lockout.max_failures\">Codes erronés avant un blocage</label>",
        "> Imposer l’authentification à deux facteurs aux clients</label>",
        "<label for=\"methods.sms.twilio.account_sid\">Account SID Twilio.</label>",
    ] {
        assert!(body.contains(label), "{label} in {body}");
    }
    // A setting's help, tied to its field.
    assert!(body.contains(
        "<p class=\"muted field-help\" id=\"lockout.max_failures-help\">Tentatives consécutives \
         échouées avec le second facteur avant un blocage.</p>"
    ));
    assert!(body.contains(
        "name=\"lockout.max_failures\" type=\"number\" aria-describedby=\"lockout.max_failures-help\""
    ));
    assert!(body.contains("Enregistrer les modifications"));
    assert!(!body.contains("Save Changes"));
    assert!(!body.contains("Failed codes before a lockout"));

    // The same fields, and the same provider-dependent blocks, in both languages.
    let names = |b: &str| -> Vec<String> {
        b.match_indices(" name=\"")
            .map(|(i, _)| {
                let n = &b[i + 7..];
                n[..n.find('"').unwrap()].to_owned()
            })
            .filter(|n| n != "csrf")
            .collect()
    };
    assert_eq!(names(body), names(&en.body));
    let blocks = conditional_blocks(body);
    assert_eq!(blocks, conditional_blocks(&en.body));
    let expected: [(&str, &[&str]); 4] = [
        (
            "when-sms-webhook",
            &["methods.sms.webhook.url", "methods.sms.webhook.secret"],
        ),
        (
            "when-sms-twilio",
            &[
                "methods.sms.twilio.account_sid",
                "methods.sms.twilio.auth_token",
                "methods.sms.twilio.from",
                "methods.sms.twilio.api_base",
            ],
        ),
        (
            "when-sms-sns",
            &[
                "methods.sms.sns.region",
                "methods.sms.sns.access_key_id",
                "methods.sms.sns.secret_access_key",
                "methods.sms.sns.endpoint",
            ],
        ),
        (
            "when-yubikey-server",
            &[
                "methods.yubikey.client_id",
                "methods.yubikey.api_key",
                "methods.yubikey.servers",
            ],
        ),
    ];
    for (class, keys) in expected {
        let found: Vec<String> = blocks
            .iter()
            .filter(|(c, _)| c == class)
            .flat_map(|(_, n)| n.clone())
            .collect();
        assert_eq!(found, keys, "{class}");
    }
    // The switches themselves are never hidden, and keep their values (not translated).
    for (_, inside) in &blocks {
        assert!(
            !inside
                .iter()
                .any(|n| n == "methods.sms.provider" || n == "methods.yubikey.mode")
        );
    }
    for value in ["outbox", "webhook", "twilio", "sns"] {
        assert!(body.contains(&format!("<option value=\"{value}\"")));
    }

    // Saving from the French page works and answers in French.
    let csrf = fr.csrf();
    let r = french.post(
        "/admin/settings",
        &[
            ("csrf", &csrf),
            ("twofactor.enabled", "true"),
            ("methods.totp.active", "true"),
            ("methods.sms.provider", "twilio"),
        ],
    );
    assert_eq!(
        r.location.as_deref(),
        Some("/admin/settings?notice=settings_saved"),
        "{}",
        r.body
    );
    assert!(
        env.cli_ok(&["settings", "show"])
            .contains("methods.sms.provider = twilio")
    );
    let after = french.get("/admin/settings?notice=settings_saved");
    assert!(after.body.contains("Paramètres enregistrés."));
    assert!(after.body.contains("<option value=\"twilio\" selected>"));

    // The other admin pages follow too.
    let home = french.get("/admin");
    assert!(
        home.body.contains("<h1>Administration</h1>"),
        "{}",
        home.body
    );
    assert!(
        home.body
            .contains("Clients, administrateurs et propriétaires")
    );
    let users = french.get("/admin/users");
    assert!(
        users
            .body
            .contains("<th scope=\"col\">Nom d’utilisateur</th>")
    );
    assert!(users.body.contains("propriétaire"));
    let audit = french.get("/admin/audit");
    assert!(
        audit.body.contains("<h1>Journal d’audit</h1>"),
        "{}",
        audit.body
    );
}
