//! The owner's 2FA settings page (read-only for admins) and Duo's "Test connection": its
//! sections and fields are generated from the setting definitions, each field named by its key.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use twofold_core::ErrorKind;
use twofold_core::factor::FactorKind;
use twofold_core::i18n::Lang;
use twofold_core::service::DuoCheck;
use twofold_core::settings::{DEFINITIONS, SettingDef, SettingGroup, SettingType};

use super::page::{
    self, CsrfForm, NoticeQuery, Page, Staff, Visitor, notice_text, redirect, render,
};
use crate::AppState;

/// How a setting is edited.
pub(crate) enum FieldKind {
    Check,
    Number,
    Text,
    Secret,
    Choice(&'static [&'static str]),
}

/// One field: its key is the form field's name and id.
pub(crate) struct Field {
    key: &'static str,
    /// The label in the page's language.
    label: String,
    /// The help under the field, in the page's language, when it says more than the label.
    help: Option<String>,
    kind: FieldKind,
    /// The value as shown: a secret's is only the mask when set, `""` when not.
    value: String,
    /// The class that hides it while a choice makes it irrelevant (the style sheet's rules,
    /// with CSS `:has()`, so it works without JavaScript): a provider's fields show only while
    /// that provider is chosen.
    shown_when: Option<&'static str>,
}

/// The choice a field is relevant under, as the class the style sheet hides it by.
fn shown_when(key: &str) -> Option<&'static str> {
    Some(match key {
        k if k.starts_with("methods.sms.webhook.") => "when-sms-webhook",
        k if k.starts_with("methods.sms.twilio.") => "when-sms-twilio",
        k if k.starts_with("methods.sms.sns.") => "when-sms-sns",
        "methods.yubikey.client_id" | "methods.yubikey.api_key" | "methods.yubikey.servers" => {
            "when-yubikey-server"
        }
        _ => return None,
    })
}

/// One section of the page.
pub(crate) struct Group {
    /// The title and explanation in the page's language.
    title: String,
    help: Option<String>,
    fields: Vec<Field>,
    /// The Duo group: it has a "Test connection" button.
    duo: bool,
}

/// One outcome of Duo's "Test connection": whether it passed, and the sentence.
pub(crate) struct DuoResult {
    ok: bool,
    text: String,
}

#[derive(Template)]
#[template(path = "admin_settings.html")]
struct SettingsPage {
    page: Page,
    csrf: String,
    editable: bool,
    groups: Vec<Group>,
    duo_results: Vec<DuoResult>,
}

fn field(lang: Lang, def: &SettingDef, value: String) -> Field {
    Field {
        key: def.key,
        label: lang.t(&def.label_id()),
        help: shows_help(def).then(|| lang.t(&def.help_id())),
        kind: match def.ty {
            SettingType::Bool => FieldKind::Check,
            SettingType::Int { .. } => FieldKind::Number,
            SettingType::Text => FieldKind::Text,
            SettingType::Secret => FieldKind::Secret,
            SettingType::Choice(c) => FieldKind::Choice(c),
        },
        value,
        shown_when: shown_when(def.key),
    }
}

/// Whether the field shows its help: not when the help is the label, nor under a method's
/// three switches (their help only repeats the group's title and the label).
fn shows_help(def: &SettingDef) -> bool {
    let switch = matches!(def.group, SettingGroup::Method(_))
        && matches!(
            def.key.rsplit('.').next(),
            Some("active" | "clients" | "admins")
        );
    def.help != def.label && !switch
}

/// The page's sections, in order, each with its definitions' fields, in `lang`.
fn groups(lang: Lang, shown: &[(&'static SettingDef, String)], duo_callback: &str) -> Vec<Group> {
    SettingGroup::all()
        .map(|group| Group {
            title: lang.t(&group.title_id()),
            help: group.help_text(duo_callback).map(|t| lang.text(&t)),
            fields: shown
                .iter()
                .filter(|(d, _)| d.group == group)
                .map(|(d, v)| field(lang, d, v.clone()))
                .collect(),
            duo: group == SettingGroup::Method(FactorKind::Duo),
        })
        .collect()
}

async fn settings_page(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    duo_results: Vec<DuoResult>,
) -> Response {
    let (session, _) = match visitor.staff() {
        Ok(x) => x,
        Err(to) => return to,
    };
    let Ok(shown) = state.service.settings_for_display().await else {
        return page::internal();
    };
    let lang = crate::lang::current();
    let page = Page {
        title: lang.t("admin-settings"),
        nav: visitor.nav(state),
        notice,
        error,
        ..Page::default()
    };
    let csrf = state.service.csrf_token(&Visitor::session_binding(session));
    render(
        status,
        &SettingsPage {
            page,
            csrf,
            editable: visitor.ctx().may_change_settings(),
            groups: groups(lang, &shown, &page::duo_callback_url(state)),
            duo_results,
        },
    )
}

pub(crate) async fn settings(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    settings_page(
        &state,
        &visitor,
        StatusCode::OK,
        notice_text(q.notice()),
        None,
        Vec::new(),
    )
    .await
}

/// The changes a submitted form asks for: every checkbox (unchecked ones are not sent: off),
/// every other field sent, and a secret only when something was typed into it (blank keeps it).
fn form_changes(form: &[(String, String)]) -> Vec<(String, String)> {
    let given = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let mut changes = Vec::new();
    for d in DEFINITIONS {
        let value = match d.ty {
            SettingType::Bool => Some(given(d.key).map_or("false", |_| "true").to_owned()),
            SettingType::Secret => given(d.key).filter(|v| !v.is_empty()),
            _ => given(d.key),
        };
        if let Some(v) = value {
            changes.push((d.key.to_owned(), v));
        }
    }
    changes
}

pub(crate) async fn save_settings(
    State(state): State<AppState>,
    CsrfForm { visitor, form, .. }: CsrfForm<Staff, Vec<(String, String)>>,
) -> Response {
    match state
        .service
        .set_settings(&visitor.ctx(), &form_changes(&form))
        .await
    {
        Ok(()) => redirect("/admin/settings?notice=settings_saved"),
        Err(e) if e.kind == ErrorKind::Forbidden => page::forbidden(),
        Err(e) if e.kind == ErrorKind::Invalid => {
            settings_page(
                &state,
                &visitor,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(crate::lang::text(&e.message)),
                Vec::new(),
            )
            .await
        }
        Err(_) => page::internal(),
    }
}

/// "Test connection" in the Duo group (the owner's): the health check with the Web SDK keys
/// and `/auth/v2/check` with the Auth API keys, as saved; each outcome is shown in the group.
pub(crate) async fn duo_test(
    State(state): State<AppState>,
    CsrfForm { visitor, .. }: CsrfForm<Staff>,
) -> Response {
    let test = match state.service.duo_test_connection(&visitor.ctx()).await {
        Ok(t) => t,
        Err(e) if e.kind == ErrorKind::Forbidden => return page::forbidden(),
        Err(_) => return page::internal(),
    };
    let lang = crate::lang::current();
    // `what` names the application, `ok_text` is the sentence of a passed check.
    let result = |what: &str, check: DuoCheck, ok_text: String| match check {
        DuoCheck::NotSet => DuoResult {
            ok: false,
            text: lang.t1("admin-duo-not-set", "what", what),
        },
        DuoCheck::Ok => DuoResult {
            ok: true,
            text: ok_text,
        },
        // Why it failed, as the Duo client put it.
        DuoCheck::Failed(why) => DuoResult {
            ok: false,
            text: lang.t2("admin-duo-failed", "what", what, "why", why),
        },
    };
    let (web, auth) = (lang.t("admin-duo-web"), lang.t("admin-duo-auth"));
    let results = vec![
        result(
            &web,
            test.web,
            lang.t1("admin-duo-web-ok", "what", web.as_str()),
        ),
        result(
            &auth,
            test.auth,
            lang.t1("admin-duo-auth-ok", "what", auth.as_str()),
        ),
    ];
    settings_page(&state, &visitor, StatusCode::OK, None, None, results).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown() -> Vec<(&'static SettingDef, String)> {
        DEFINITIONS
            .iter()
            .map(|d| (d, d.default.to_owned()))
            .collect()
    }

    #[test]
    fn every_definition_is_a_field_of_its_group() {
        let groups = groups(Lang::En, &shown(), "https://2fa.example/login/duo/callback");
        let titles: Vec<&str> = groups.iter().map(|g| g.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "General",
                "Time Based Tokens",
                "Email codes",
                "SMS codes",
                "YubiKey",
                "Duo Security",
                "Security key or passkey",
                "Counter-based tokens"
            ]
        );
        let keys: Vec<&str> = groups
            .iter()
            .flat_map(|g| g.fields.iter().map(|f| f.key))
            .collect();
        let all: Vec<&str> = DEFINITIONS.iter().map(|d| d.key).collect();
        assert_eq!(keys, all);
        let general = &groups[0];
        assert_eq!(
            general.fields[0].label,
            "Two-factor authentication is on for this server"
        );
        assert!(groups.iter().filter(|g| g.duo).count() == 1 && groups[5].duo);
        assert!(
            groups[5]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("https://2fa.example/login/duo/callback"))
        );
    }

    #[test]
    fn fields_speak_the_pages_language_and_show_help_that_adds_to_the_label() {
        let url = "https://2fa.example/login/duo/callback";
        let fr = groups(Lang::Fr, &shown(), url);
        let en = groups(Lang::En, &shown(), url);
        assert_eq!(fr[0].title, "Général");
        assert_eq!(
            fr[0].fields[0].label,
            "L’authentification à deux facteurs est activée sur ce serveur"
        );
        assert!(
            fr[5]
                .help
                .as_deref()
                .is_some_and(|h| h.starts_with("Deux applications Duo") && h.contains(url))
        );
        let field = |gs: &[Group], key: &str| -> (String, Option<String>) {
            let f = gs
                .iter()
                .flat_map(|g| &g.fields)
                .find(|f| f.key == key)
                .unwrap();
            (f.label.clone(), f.help.clone())
        };
        assert_eq!(
            field(&en, "lockout.max_failures"),
            (
                "Failed codes before a lockout".to_owned(),
                Some("Consecutive failed second-factor attempts before a lockout.".to_owned())
            )
        );
        assert_eq!(
            field(&fr, "lockout.max_failures").1.as_deref(),
            Some("Tentatives consécutives échouées avec le second facteur avant un blocage.")
        );
        // A help that is the label is not repeated, nor a switch's.
        assert_eq!(field(&en, "methods.email.smtp.port").1, None);
        assert_eq!(field(&en, "methods.duo.active").1, None);
        assert!(field(&en, "methods.webauthn.passwordless").1.is_some());
    }

    #[test]
    fn a_form_turns_unchecked_boxes_off_and_keeps_blank_secrets() {
        let form = vec![
            ("csrf".to_owned(), "t".to_owned()),
            ("methods.totp.active".to_owned(), "true".to_owned()),
            ("issuer".to_owned(), "Acme".to_owned()),
            ("methods.duo.skey".to_owned(), String::new()),
            ("methods.sms.webhook.secret".to_owned(), "s3cret".to_owned()),
        ];
        let changes = form_changes(&form);
        let get = |k: &str| {
            changes
                .iter()
                .find(|(c, _)| c == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("methods.totp.active"), Some("true"));
        assert_eq!(get("twofactor.enabled"), Some("false"));
        assert_eq!(get("issuer"), Some("Acme"));
        assert_eq!(get("methods.duo.skey"), None);
        assert_eq!(get("methods.sms.webhook.secret"), Some("s3cret"));
        assert_eq!(get("totp.window"), None, "a field not sent is not changed");
        assert_eq!(get("csrf"), None);
    }
}
