//! The admin area: dashboard, users (search, also by a YubiKey's public id; detail, reset,
//! unlock, disable, releasing a YubiKey), the owner's 2FA settings (read-only for admins) and
//! the audit log.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use twofold_core::ErrorKind;
use twofold_core::audit::{AuditEvent, AuditFilter};
use twofold_core::factor::{FactorData, FactorKind};
use twofold_core::service::{DuoCheck, UserChanges};
use twofold_core::settings::{DEFINITIONS, SettingType};
use twofold_core::store::{User, UserQuery};

use super::account::FactorRow;
use super::page::{
    self, Page, ServerTime, Visitor, encode_component, notice_text, redirect, render, utc_display,
};
use super::page::{CsrfForm, NoticeQuery};
use crate::AppState;

const PAGE_SIZE: u32 = 50;

#[derive(Template)]
#[template(path = "admin_home.html")]
struct HomePage {
    page: Page,
    users: i64,
    enabled: bool,
    methods: String,
}

pub(crate) async fn home(State(state): State<AppState>, visitor: Visitor) -> Response {
    if let Err(to) = visitor.staff() {
        return to;
    }
    let (Ok(users), Ok(settings)) = (
        state.service.count_users(None).await,
        state.service.settings().await,
    ) else {
        return page::internal();
    };
    let now = state.service.now();
    let active: Vec<&str> = FactorKind::ALL
        .iter()
        .filter(|k| settings.flag(&format!("methods.{}.active", k.as_str())))
        .map(|k| k.title())
        .collect();
    let methods = if active.is_empty() {
        "No method is activated".to_owned()
    } else {
        format!("Active: {}", active.join(", "))
    };
    let page = Page {
        title: "Admin".into(),
        nav: visitor.nav(&state),
        server_time: Some(ServerTime::at(now)),
        wide: true,
        ..Page::default()
    };
    render(
        StatusCode::OK,
        &HomePage {
            page,
            users,
            enabled: settings.twofactor_enabled(),
            methods,
        },
    )
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct UsersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: u32,
}

struct UserRow {
    username: String,
    role: String,
    email: String,
    status: String,
}

/// The holder of a YubiKey whose public id was searched for.
struct KeyHolderRow {
    public_id: String,
    username: String,
    origin: &'static str,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    page: Page,
    q: String,
    users: Vec<UserRow>,
    key_holder: Option<KeyHolderRow>,
    prev: Option<String>,
    next: Option<String>,
}

fn user_row(u: &User, now: i64) -> UserRow {
    UserRow {
        username: u.username.clone(),
        role: u.role.to_string(),
        email: u.email.clone().unwrap_or_default(),
        status: match (u.disabled, u.is_locked(now)) {
            (true, _) => "disabled".into(),
            (false, true) => "locked".into(),
            _ => "active".into(),
        },
    }
}

pub(crate) async fn users(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<UsersQuery>,
) -> Response {
    if let Err(to) = visitor.staff() {
        return to;
    }
    let query = UserQuery {
        search: Some(q.q.trim().to_owned()).filter(|s| !s.is_empty()),
        offset: q.page.saturating_mul(PAGE_SIZE),
        limit: PAGE_SIZE + 1,
    };
    let Ok(mut found) = state.service.list_users(&query).await else {
        return page::internal();
    };
    // A search for a YubiKey's public id finds the user who holds it.
    let Ok(holder) = state.service.yubikey_holder(q.q.trim()).await else {
        return page::internal();
    };
    let more = found.len() > PAGE_SIZE as usize;
    found.truncate(PAGE_SIZE as usize);
    let now = state.service.now();
    let link = |p: u32| format!("/admin/users?q={}&page={p}", encode_component(q.q.trim()));
    let mut users: Vec<UserRow> = found.iter().map(|u| user_row(u, now)).collect();
    if let Some(h) = &holder
        && q.page == 0
        && !found.iter().any(|u| u.id == h.user.id)
    {
        users.insert(0, user_row(&h.user, now));
    }
    let key_holder = holder.map(|h| KeyHolderRow {
        public_id: h.public_id,
        username: h.user.username,
        origin: h.origin.describe(),
    });
    let page = Page {
        title: "Users".into(),
        nav: visitor.nav(&state),
        wide: true,
        ..Page::default()
    };
    render(
        StatusCode::OK,
        &UsersPage {
            page,
            q: q.q.clone(),
            users,
            key_holder,
            prev: (q.page > 0).then(|| link(q.page - 1)),
            next: more.then(|| link(q.page + 1)),
        },
    )
}

/// A device on the admin's user page: a YubiKey also says where its public id comes from,
/// and one bound to a public id can be released.
struct DeviceRow {
    row: FactorRow,
    origin: Option<&'static str>,
    releasable: bool,
}

impl DeviceRow {
    fn of(f: &twofold_core::factor::Factor) -> Self {
        let (origin, releasable) = match &f.data {
            FactorData::Yubikey(y) => (Some(y.origin().describe()), y.public_id.is_some()),
            _ => (None, false),
        };
        DeviceRow {
            row: FactorRow::of(f),
            origin,
            releasable,
        }
    }
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    page: Page,
    csrf: String,
    username: String,
    role: String,
    email: String,
    phone: String,
    has_2fa: bool,
    backup_left: i64,
    lock_text: String,
    disabled: bool,
    factors: Vec<DeviceRow>,
    can_manage: bool,
}

pub(crate) async fn user(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(name): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let (session, _) = match visitor.staff() {
        Ok(x) => x,
        Err(to) => return to,
    };
    let view = match state.service.user_view(&name).await {
        Ok(v) => v,
        Err(e) if e.kind == ErrorKind::NotFound => return page::not_found(),
        Err(_) => return page::internal(),
    };
    let u = &view.user;
    let lock_text = match (view.locked, u.locked_until) {
        (true, Some(t)) => format!("Locked until {} UTC", utc_display(t)),
        _ => "Not locked".into(),
    };
    let page = Page {
        title: u.username.clone(),
        nav: visitor.nav(&state),
        notice: notice_text(q.notice()),
        wide: true,
        ..Page::default()
    };
    render(
        StatusCode::OK,
        &UserPage {
            page,
            csrf: state.service.csrf_token(&Visitor::session_binding(session)),
            username: u.username.clone(),
            role: u.role.to_string(),
            email: u.email.clone().unwrap_or_else(|| "—".into()),
            phone: u.phone.clone().unwrap_or_else(|| "—".into()),
            has_2fa: view.has_2fa,
            backup_left: view.backup_codes_remaining,
            lock_text,
            disabled: u.disabled,
            factors: view.factors.iter().map(DeviceRow::of).collect(),
            can_manage: visitor.ctx().may_manage(u),
        },
    )
}

#[derive(Template)]
#[template(path = "admin_reset.html")]
struct ResetPage {
    page: Page,
    csrf: String,
    username: String,
}

pub(crate) async fn reset_confirm(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(name): Path<String>,
) -> Response {
    let (session, _) = match visitor.staff() {
        Ok(x) => x,
        Err(to) => return to,
    };
    let target = match state.service.user(&name).await {
        Ok(u) => u,
        Err(e) if e.kind == ErrorKind::NotFound => return page::not_found(),
        Err(_) => return page::internal(),
    };
    if !visitor.ctx().may_manage(&target) {
        return page::forbidden();
    }
    let page = Page {
        title: format!("Reset 2FA for {}?", target.username),
        nav: visitor.nav(&state),
        ..Page::default()
    };
    let csrf = state.service.csrf_token(&Visitor::session_binding(session));
    render(
        StatusCode::OK,
        &ResetPage {
            page,
            csrf,
            username: target.username,
        },
    )
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Reset,
    Unlock,
    Disable,
    Enable,
}

async fn act(
    state: &AppState,
    visitor: &Visitor,
    name: &str,
    csrf: &str,
    action: Action,
) -> Response {
    let (session, _) = match visitor.staff() {
        Ok(x) => x,
        Err(to) => return to,
    };
    if !state
        .service
        .csrf_ok(&Visitor::session_binding(session), csrf)
    {
        return page::csrf_refused();
    }
    let target = match state.service.user(name).await {
        Ok(u) => u,
        Err(e) if e.kind == ErrorKind::NotFound => return page::not_found(),
        Err(_) => return page::internal(),
    };
    let ctx = visitor.ctx();
    let svc = &state.service;
    let (result, notice) = match action {
        Action::Reset => (svc.reset_2fa(&ctx, name).await, "reset_done"),
        Action::Unlock => (svc.unlock(&ctx, name).await, "unlocked"),
        Action::Disable => (
            svc.update_user(
                &ctx,
                name,
                &UserChanges {
                    disabled: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map(|_| ()),
            "disabled",
        ),
        Action::Enable => (
            svc.update_user(
                &ctx,
                name,
                &UserChanges {
                    disabled: Some(false),
                    ..Default::default()
                },
            )
            .await
            .map(|_| ()),
            "enabled",
        ),
    };
    match result {
        Ok(()) => redirect(&format!(
            "/admin/users/{}?notice={notice}",
            encode_component(&target.username)
        )),
        Err(e) if e.kind == ErrorKind::Forbidden => page::forbidden(),
        Err(_) => page::internal(),
    }
}

pub(crate) async fn reset(
    State(s): State<AppState>,
    v: Visitor,
    Path(n): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    act(&s, &v, &n, &f.csrf, Action::Reset).await
}

pub(crate) async fn unlock(
    State(s): State<AppState>,
    v: Visitor,
    Path(n): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    act(&s, &v, &n, &f.csrf, Action::Unlock).await
}

pub(crate) async fn disable(
    State(s): State<AppState>,
    v: Visitor,
    Path(n): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    act(&s, &v, &n, &f.csrf, Action::Disable).await
}

pub(crate) async fn enable(
    State(s): State<AppState>,
    v: Visitor,
    Path(n): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    act(&s, &v, &n, &f.csrf, Action::Enable).await
}

/// "Release" on a YubiKey of the user's page: removes that key factor from its holder, so the
/// key's rightful owner can register its public id. The form names the factor shown, not the
/// public id, so a key registered again since the page was loaded is never the one released.
pub(crate) async fn release_yubikey(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((name, id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (session, _) = match visitor.staff() {
        Ok(x) => x,
        Err(to) => return to,
    };
    if !state
        .service
        .csrf_ok(&Visitor::session_binding(session), &form.csrf)
    {
        return page::csrf_refused();
    }
    let target = match state.service.user(&name).await {
        Ok(u) => u,
        Err(e) if e.kind == ErrorKind::NotFound => return page::not_found(),
        Err(_) => return page::internal(),
    };
    match state
        .service
        .release_yubikey(&visitor.ctx(), &target.username, &id)
        .await
    {
        Err(e) if e.kind == ErrorKind::Forbidden => page::forbidden(),
        Ok(_) => redirect(&format!(
            "/admin/users/{}?notice=device_removed",
            encode_component(&target.username)
        )),
        Err(e) if e.kind == ErrorKind::NotFound || e.kind == ErrorKind::Invalid => {
            page::not_found()
        }
        Err(_) => page::internal(),
    }
}

/// How a setting is edited.
pub(crate) enum FieldKind {
    Check,
    Number,
    Text,
    Secret,
    Choice(&'static [&'static str]),
}

pub(crate) struct Field {
    key: &'static str,
    label: String,
    kind: FieldKind,
    value: String,
}

pub(crate) struct Group {
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

fn field(
    key: &'static str,
    label: Option<&str>,
    shown: &[(&'static str, String)],
) -> Option<Field> {
    let def = DEFINITIONS.iter().find(|d| d.key == key)?;
    let value = shown
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let kind = match def.ty {
        SettingType::Bool => FieldKind::Check,
        SettingType::Int { .. } => FieldKind::Number,
        SettingType::Text => FieldKind::Text,
        SettingType::Secret => FieldKind::Secret,
        SettingType::Choice(c) => FieldKind::Choice(c),
    };
    Some(Field {
        key,
        label: label.unwrap_or(def.help).to_owned(),
        kind,
        value,
    })
}

fn groups(shown: &[(&'static str, String)], duo_callback: &str) -> Vec<Group> {
    let general = [
        (
            "twofactor.enabled",
            Some("Two-factor authentication is on for this server"),
        ),
        (
            "force.clients",
            Some("Force two-factor authentication for clients"),
        ),
        (
            "force.admins",
            Some("Force two-factor authentication for admins"),
        ),
        ("issuer", Some("Issuer: the name authenticator apps show")),
        (
            "totp.window",
            Some("Clock drift tolerated, in 30-second steps each way"),
        ),
        (
            "lockout.max_failures",
            Some("Failed codes before a lockout"),
        ),
        ("lockout.seconds", Some("Lockout length in seconds")),
        (
            "codes.ttl_seconds",
            Some("Email and SMS codes are valid for (seconds)"),
        ),
    ];
    let mut out = vec![Group {
        title: "General".into(),
        help: None,
        fields: general
            .iter()
            .filter_map(|(k, l)| field(k, *l, shown))
            .collect(),
        duo: false,
    }];
    for kind in FactorKind::ALL {
        let k = kind.as_str();
        let prefix = format!("methods.{k}.");
        let mut fields = Vec::new();
        for (suffix, label) in [
            ("active", "Activate"),
            ("clients", "Enable for Clients"),
            ("admins", "Enable for Admins"),
        ] {
            if let Some(d) = DEFINITIONS
                .iter()
                .find(|d| d.key == format!("{prefix}{suffix}"))
            {
                fields.extend(field(d.key, Some(label), shown));
            }
        }
        for d in DEFINITIONS.iter().filter(|d| d.key.starts_with(&prefix)) {
            if !["active", "clients", "admins"]
                .iter()
                .any(|s| d.key.ends_with(&format!(".{s}")))
            {
                fields.extend(field(d.key, None, shown));
            }
        }
        let help = match kind {
            FactorKind::Email => Some("With no SMTP host, messages are written to the outbox folder in the data directory.".to_owned()),
            FactorKind::Sms => Some("Provider outbox writes messages to the outbox folder; webhook, twilio and sns send them.".to_owned()),
            FactorKind::Totp => None,
            FactorKind::Yubikey => Some("Local mode checks OTPs with each key's AES key; server mode asks the validation servers.".to_owned()),
            FactorKind::Duo => Some(format!(
                "Two Duo applications: a Web SDK application (Client ID, Client Secret) for the \
                 Universal Prompt in the browser, with {duo_callback} as its redirect URI, and \
                 an Auth API application (Integration key, Secret key) for pushes and passcodes \
                 from the API and the CLI; both use the API hostname. Fail mode closed refuses \
                 the second factor while Duo cannot be reached; open lets such logins through \
                 on the password alone."
            )),
            _ => Some("This method's sign-in flow arrives in a later version; its settings can be prepared now.".to_owned()),
        };
        out.push(Group {
            title: kind.title().to_owned(),
            help,
            fields,
            duo: kind == FactorKind::Duo,
        });
    }
    out
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
    let page = Page {
        title: "2FA Settings".into(),
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
            groups: groups(&shown, &super::page::duo_callback_url(state)),
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

pub(crate) async fn save_settings(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (session, _) = match visitor.staff() {
        Ok(x) => x,
        Err(to) => return to,
    };
    let csrf = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if !state
        .service
        .csrf_ok(&Visitor::session_binding(session), csrf)
    {
        return page::csrf_refused();
    }
    let given = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let mut changes = Vec::new();
    for d in DEFINITIONS {
        match d.ty {
            // An unchecked box is not sent at all.
            SettingType::Bool => changes.push((
                d.key.to_owned(),
                given(d.key).map_or("false", |_| "true").to_owned(),
            )),
            // A blank secret field keeps the secret.
            SettingType::Secret => {
                if let Some(v) = given(d.key).filter(|v| !v.is_empty()) {
                    changes.push((d.key.to_owned(), v));
                }
            }
            _ => {
                if let Some(v) = given(d.key) {
                    changes.push((d.key.to_owned(), v));
                }
            }
        }
    }
    match state.service.set_settings(&visitor.ctx(), &changes).await {
        Ok(()) => redirect("/admin/settings?notice=settings_saved"),
        Err(e) if e.kind == ErrorKind::Forbidden => page::forbidden(),
        Err(e) if e.kind == ErrorKind::Invalid => {
            settings_page(
                &state,
                &visitor,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(e.message),
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
    visitor: Visitor,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (session, _) = match visitor.staff() {
        Ok(x) => x,
        Err(to) => return to,
    };
    let csrf = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if !state
        .service
        .csrf_ok(&Visitor::session_binding(session), csrf)
    {
        return page::csrf_refused();
    }
    let test = match state.service.duo_test_connection(&visitor.ctx()).await {
        Ok(t) => t,
        Err(e) if e.kind == ErrorKind::Forbidden => return page::forbidden(),
        Err(_) => return page::internal(),
    };
    let result = |what: &str, check: DuoCheck, ok_text: &str| match check {
        DuoCheck::NotSet => DuoResult {
            ok: false,
            text: format!("{what}: not set up (its keys or the API hostname are empty)."),
        },
        DuoCheck::Ok => DuoResult {
            ok: true,
            text: format!("{what}: {ok_text}"),
        },
        DuoCheck::Failed(why) => DuoResult {
            ok: false,
            text: format!("{what}: {why}"),
        },
    };
    let results = vec![
        result(
            "Web SDK (Universal Prompt)",
            test.web,
            "Duo answered the health check and accepted the client ID and secret.",
        ),
        result(
            "Auth API (push and passcodes)",
            test.auth,
            "Duo answered /auth/v2/check and accepted the integration and secret keys.",
        ),
    ];
    settings_page(&state, &visitor, StatusCode::OK, None, None, results).await
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    username: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    before: Option<i64>,
}

struct AuditRow {
    at: String,
    event: String,
    subject: String,
    actor: String,
    ip: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    page: Page,
    username: String,
    event: String,
    events: Vec<&'static str>,
    rows: Vec<AuditRow>,
    older: Option<String>,
}

pub(crate) async fn audit(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<AuditQuery>,
) -> Response {
    if let Err(to) = visitor.staff() {
        return to;
    }
    let filter = AuditFilter {
        subject: Some(q.username.trim().to_owned()).filter(|s| !s.is_empty()),
        event: Some(q.event.clone()).filter(|s| !s.is_empty()),
        before_id: q.before,
        limit: 100,
    };
    let Ok(records) = state.service.audit_log(&filter).await else {
        return page::internal();
    };
    let older = (records.len() == 100).then(|| {
        let last = records.last().map_or(0, |r| r.id);
        format!(
            "/admin/audit?username={}&event={}&before={last}",
            encode_component(q.username.trim()),
            encode_component(&q.event)
        )
    });
    let rows = records
        .into_iter()
        .map(|r| AuditRow {
            at: utc_display(r.at),
            event: r.event,
            subject: r.subject.unwrap_or_default(),
            actor: r.actor,
            ip: r.ip.unwrap_or_default(),
            detail: r.detail,
        })
        .collect();
    let page = Page {
        title: "Audit log".into(),
        nav: visitor.nav(&state),
        wide: true,
        ..Page::default()
    };
    render(
        StatusCode::OK,
        &AuditPage {
            page,
            username: q.username.clone(),
            event: q.event.clone(),
            events: AuditEvent::ALL.iter().map(|e| e.as_str()).collect(),
            rows,
            older,
        },
    )
}
