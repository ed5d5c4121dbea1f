//! The portal's pages follow the reader's language: the login page's `?lang=` (kept in the
//! `tf_lang` cookie), the browser's `Accept-Language`, a signed-in user's own choice in
//! Security Settings, and the owner's `ui.language` when the browser asks for none.

use serde_json::json;

use crate::on_both;
use crate::portal::{Browser, PASSWORD, Page, admin_api, user_with_totp_codes};
use crate::support::{Db, Env, wrong_code};

on_both!(pages_follow_the_readers_language);

const GERMAN: (&str, &str) = ("Accept-Language", "de-DE,de;q=0.9");

/// The `<html lang>` of a page.
fn html_lang(page: &Page) -> &str {
    let at = page
        .body
        .find("<html lang=\"")
        .unwrap_or_else(|| panic!("no <html lang> in {}", page.body));
    let rest = &page.body[at + 12..];
    &rest[..rest.find('"').unwrap()]
}

fn browser(server: &crate::support::Server, header: Option<(&str, &str)>) -> Browser {
    let mut b = Browser::new(server);
    if let Some((k, v)) = header {
        b.headers.push((k.to_owned(), v.to_owned()));
    }
    b
}

fn pages_follow_the_readers_language(db: Db) {
    let env = Env::new(db);
    env.cli_ok(&["settings", "set", "ui.language", "pt-BR"]);
    let server = env.serve();

    // A browser that asks for no language gets the owner's.
    let mut anyone = browser(&server, None);
    let page = anyone.get("/login");
    assert_eq!(page.status, 200);
    assert_eq!(html_lang(&page), "pt-BR");
    assert!(page.body.contains("Nome de usuário"), "{}", page.body);
    // One that asks for a language Twofold does not speak gets the owner's too.
    let mut finnish = browser(&server, Some(("Accept-Language", "fi-FI,fi;q=0.9")));
    assert_eq!(html_lang(&finnish.get("/login")), "pt-BR");

    // The browser's language wins over the owner's.
    let mut german = browser(&server, Some(GERMAN));
    let page = german.get("/login");
    assert_eq!(html_lang(&page), "de");
    assert!(page.body.contains("<h1>Anmelden</h1>"), "{}", page.body);
    assert!(page.body.contains("Benutzername"), "{}", page.body);
    assert!(!page.body.contains("Username"), "{}", page.body);

    // `?lang=` wins over the browser's, and the cookie keeps it for later requests.
    let mut french = browser(&server, Some(GERMAN));
    let page = french.get("/login?lang=fr");
    assert_eq!(html_lang(&page), "fr");
    assert!(page.body.contains("Nom d’utilisateur"), "{}", page.body);
    let set = page.set_cookie("tf_lang").expect("a tf_lang cookie");
    assert!(set.starts_with("tf_lang=fr;"), "{set}");
    let page = french.get("/login");
    assert_eq!(html_lang(&page), "fr");
    assert!(page.body.contains("Se connecter"), "{}", page.body);
    // A `?lang=` Twofold does not speak changes nothing and sets no cookie.
    let page = french.get("/login?lang=xx");
    assert_eq!(html_lang(&page), "fr");
    assert!(page.set_cookie("tf_lang").is_none());

    // The second-factor page and its refusal of a wrong code, in German.
    let (secret, codes) = user_with_totp_codes(&env, &server, "dora", "client");
    let r = german.login("dora", PASSWORD, "");
    assert_eq!(r.location.as_deref(), Some("/login/2fa"), "{}", r.body);
    let page = german.get("/login/2fa");
    assert_eq!(html_lang(&page), "de");
    assert!(
        page.body.contains("<h1>Zwei-Faktor-Authentifizierung</h1>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Einen Backup-Code verwenden"));
    // The script's sentences come from the page, in its language.
    assert!(
        page.body
            .contains("data-ahead=\"Die Uhr Ihres Geräts weicht um etwa %s Sekunden"),
        "{}",
        page.body
    );
    // What the page offers, worded in German too.
    assert!(
        page.body.contains("<li>Zeitbasierte Codes (phone)</li>"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Der 6-stellige Code, den Ihre Authenticator-App gerade anzeigt."),
        "{}",
        page.body
    );
    let r = german.post(
        "/login/2fa",
        &[("csrf", &page.csrf()), ("code", &wrong_code(&secret))],
    );
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.body.contains(
            "Der eingegebene Code stimmt nicht mit dem erwarteten überein. Bitte versuchen Sie es \
             erneut."
        ),
        "{}",
        r.body
    );
    assert!(!r.body.contains("did not match"), "{}", r.body);
    let r = german.second_factor(&codes[0], true);
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security"),
        "{}",
        r.body
    );

    // Security Settings in the browser's language, its plural through the catalogue.
    let page = german.get("/account/security");
    assert_eq!(html_lang(&page), "de");
    assert!(page.body.contains("<h1>Sicherheitseinstellungen</h1>"));
    assert!(
        page.body.contains("9 unbenutzte Backup-Codes übrig."),
        "{}",
        page.body
    );
    assert!(page.body.contains("(dieser Browser)"), "{}", page.body);

    // The user's own choice wins over the browser's, on every page.
    let csrf = page.csrf();
    let r = german.post(
        "/account/security/language",
        &[("csrf", &csrf), ("language", "es")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some("/account/security?notice=language_saved")
    );
    let page = german.get("/account/security?notice=language_saved");
    assert_eq!(html_lang(&page), "es");
    assert!(page.body.contains("Idioma guardado."), "{}", page.body);
    assert!(page.body.contains("<h1>Configuración de seguridad</h1>"));
    assert!(
        page.body
            .contains("<option value=\"es\" lang=\"es\" selected>")
    );
    let page = german.get("/account/security/enroll");
    assert_eq!(html_lang(&page), "es");
    assert!(
        page.body.contains("<h1>Elija un servicio</h1>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Una aplicación en su teléfono"),
        "{}",
        page.body
    );

    // An unknown language is refused, in the user's language, and changes nothing.
    let r = german.post(
        "/account/security/language",
        &[("csrf", &csrf), ("language", "xx")],
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("Idioma desconocido"), "{}", r.body);
    let page = german.get("/account/security");
    assert_eq!(html_lang(&page), "es");
    assert!(
        page.body
            .contains("<option value=\"es\" lang=\"es\" selected>")
    );

    // "The browser's language" ("") goes back to it.
    let r = german.post(
        "/account/security/language",
        &[("csrf", &csrf), ("language", "")],
    );
    assert_eq!(r.status, 303, "{}", r.body);
    let page = german.get("/account/security?notice=language_saved");
    assert_eq!(html_lang(&page), "de");
    assert!(page.body.contains("Sprache gespeichert."), "{}", page.body);
    assert!(page.body.contains("<option value=\"\" selected>"));
    assert!(!page.body.contains("lang=\"es\" selected"));

    // The owner's language set through the API applies to browsers that ask for none.
    let api = admin_api(&env, &server);
    let r = api.patch("/api/v1/settings", json!({ "ui.language": "es" }));
    assert_eq!(r.status, 200, "{r:?}");
    let page = anyone.get("/login");
    assert_eq!(html_lang(&page), "es");
    assert!(page.body.contains("Nombre de usuario"), "{}", page.body);
    assert_eq!(html_lang(&german.get("/account/security")), "de");
}
