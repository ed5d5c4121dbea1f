//! Errors in the reader's language: the API's `message` follows `Accept-Language` (else the
//! `ui.language` setting) while its `code` stays the same; a RADIUS Reply-Message is in the
//! language the user chose once the request proved the password.

use serde_json::json;
use twofold_core::i18n::Lang;

use crate::on_both;
use crate::portal::{Browser, PASSWORD, add_user, admin_api, confirmed_totp};
use crate::radius::{RADIUS, add_client, radclient, request};
use crate::support::{Api, Db, Env, wrong_code};

on_both!(
    api_error_messages_follow_accept_language,
    radius_replies_in_the_language_the_user_chose,
);

/// A refused validation (a code of no known shape): status, code and message.
fn refused(api: &Api) -> (u16, String, String) {
    let r = api.post(
        "/api/v1/validate",
        json!({"username": "alice", "code": "not a code"}),
    );
    (
        r.status,
        r.error_code().to_owned(),
        r.json["error"]["message"].as_str().unwrap().to_owned(),
    )
}

fn api_error_messages_follow_accept_language(db: Db) {
    let env = Env::new(db);
    let token = env.token("app", "admin");
    let server = env.serve();
    let api = server.api(&token);
    api.enrolled_user("alice");
    let english = Lang::En.t("err-code-malformed");
    assert!(english.starts_with("That is not a code"), "{english}");

    let plain = refused(&api);
    assert_eq!(plain, (422, "malformed_code".to_owned(), english.clone()));

    let german = refused(&api.with_header("Accept-Language", "de"));
    assert_eq!((german.0, german.1.as_str()), (422, "malformed_code"));
    assert_eq!(german.2, Lang::De.t("err-code-malformed"));
    assert!(german.2.starts_with("Das ist kein Code"), "{}", german.2);

    // The highest q-value wins: Spanish (1) over French (0.5).
    let spanish = refused(&api.with_header("Accept-Language", "fr;q=0.5, es"));
    assert_eq!((spanish.0, spanish.1.as_str()), (422, "malformed_code"));
    assert!(
        spanish.2.starts_with("Eso no es un código"),
        "{}",
        spanish.2
    );

    // No Accept-Language (or none Twofold speaks): the owner's ui.language.
    let r = api.patch("/api/v1/settings", json!({"ui.language": "pt-BR"}));
    assert_eq!(r.status, 200, "{r:?}");
    let portuguese = refused(&api);
    assert_eq!(
        portuguese,
        (
            422,
            "malformed_code".to_owned(),
            Lang::PtBr.t("err-code-malformed")
        )
    );
    assert!(portuguese.2.starts_with("Isso não é um código"));
    let japanese = refused(&api.with_header("Accept-Language", "ja"));
    assert_eq!(japanese, portuguese);

    // The web layer's own refusals too: a wrong token, a body that is not JSON.
    let r = server
        .api("tf_not_a_token")
        .with_header("Accept-Language", "fr")
        .get("/api/v1/users/alice");
    assert_eq!((r.status, r.error_code()), (401, "unauthorized"));
    assert_eq!(
        r.json["error"]["message"],
        Lang::Fr.t("err-api-unauthorized")
    );
    assert_ne!(
        r.json["error"]["message"],
        Lang::En.t("err-api-unauthorized")
    );
    let r = api.with_header("Accept-Language", "de").raw(
        "POST",
        "/api/v1/validate",
        Some("application/json"),
        Some(b"{".to_vec()),
    );
    assert_eq!((r.status, r.error_code()), (400, "bad_request"));
    let message = r.json["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Die Anfrage konnte nicht gelesen werden: "),
        "{message}"
    );
    // The answers of the layers around the routes too: a method the route lacks, a declared
    // body over the limit.
    let r = api
        .with_header("Accept-Language", "de")
        .delete("/api/v1/validate");
    assert_eq!((r.status, r.error_code()), (405, "method_not_allowed"));
    assert_eq!(
        r.json["error"]["message"],
        Lang::De.t("err-api-method-not-allowed")
    );
    let r = api.raw_tcp(
        "POST /api/v1/validate HTTP/1.1\r\nContent-Type: application/json\r\n\
         Accept-Language: es\r\nContent-Length: 3145728",
        Vec::new(),
    );
    assert_eq!(r.status, 413, "{r:?}");
    assert_eq!(
        r.json["error"]["message"],
        Lang::Es.t("err-api-body-too-large")
    );
}

fn radius_replies_in_the_language_the_user_chose(db: Db) {
    let env = Env::new(db);
    let secret = add_client(&env, "vpn", &[]);
    env.cli_ok(&["settings", "set", "radius.mode", "password+otp"]);
    let server = env.serve_with(&[RADIUS]);
    let at = server.radius.unwrap();
    add_user(&env, "zoe", "client", &[]);
    let (_, totp_secret, codes) = confirmed_totp(&admin_api(&env, &server), "zoe", "phone");

    // Before a choice: the ui.language setting's language (English here).
    let field = format!("{PASSWORD}{}", wrong_code(&totp_secret));
    let a = radclient(at, &secret, &request("zoe", &field, ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    assert_eq!(
        a.attribute("Reply-Message"),
        Some(Lang::En.t("err-code-wrong").as_str()),
        "{}",
        a.output
    );

    // Zoe chooses French in Security Settings.
    let mut b = Browser::new(&server);
    b.login_with_backup_code("zoe", &codes[0]);
    let csrf = b.get("/account/security").csrf();
    let r = b.post(
        "/account/security/language",
        &[("csrf", &csrf), ("language", "fr")],
    );
    assert_eq!(r.status, 303, "{}", r.body);

    let a = radclient(at, &secret, &request("zoe", &field, ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    let french = Lang::Fr.t("err-code-wrong");
    assert!(french.starts_with("Le code saisi"), "{french}");
    assert_eq!(
        a.attribute("Reply-Message"),
        Some(french.as_str()),
        "{}",
        a.output
    );

    // A wrong password proves nothing: the answer is the setting's language, as for a user
    // who does not exist, so the language tells nobody that the account is there.
    let a = radclient(at, &secret, &request("zoe", "wrong password123456", ""));
    assert_eq!(a.kind.as_deref(), Some("Access-Reject"), "{}", a.output);
    let unknown = radclient(at, &secret, &request("nobody", "wrong password123456", ""));
    assert_eq!(
        a.attribute("Reply-Message"),
        Some(Lang::En.t("err-radius-wrong-password").as_str())
    );
    assert_eq!(
        a.attribute("Reply-Message"),
        unknown.attribute("Reply-Message")
    );
}
