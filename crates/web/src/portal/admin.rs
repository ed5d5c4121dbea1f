//! The admin area: dashboard, users (search, also by a YubiKey's public id; detail, reset,
//! unlock, disable, releasing a YubiKey) and the audit log. The 2FA settings page is in
//! `settings.rs`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use twofold_core::ErrorKind;
use twofold_core::audit::{AuditEvent, AuditFilter};
use twofold_core::factor::{FactorData, FactorKind, YubikeyOrigin};
use twofold_core::i18n::Lang;
use twofold_core::identity::Role;
use twofold_core::service::{FactorRequest, UserChanges, parse_username};
use twofold_core::settings::SettingGroup;
use twofold_core::store::{User, UserQuery};

use super::account::FactorRow;
use super::page::{CsrfForm, NoticeQuery, Staff};
use super::page::{
    Page, ServerTime, Visitor, encode_component, notice_text, redirect, render, utc_display,
};
use crate::AppState;
use crate::error::PageError;

const PAGE_SIZE: u32 = 50;

/// A method's name in `lang`: its settings group's title.
fn method_title(lang: Lang, kind: FactorKind) -> String {
    lang.t(&SettingGroup::Method(kind).title_id())
}

/// Where a YubiKey's public id comes from, in `lang`.
fn origin_text(lang: Lang, origin: YubikeyOrigin) -> String {
    match origin {
        YubikeyOrigin::SelfEnrolled => lang.t("admin-origin-self-enrolled"),
        YubikeyOrigin::Administrator => lang.t("admin-origin-administrator"),
        YubikeyOrigin::ValidationServer => lang.t("admin-origin-validation-server"),
    }
}

/// A role's name in `lang`.
fn role_text(lang: Lang, role: Role) -> String {
    match role {
        Role::Client => lang.t("admin-role-client"),
        Role::Admin => lang.t("admin-role-admin"),
        Role::Owner => lang.t("admin-role-owner"),
    }
}

#[derive(Template)]
#[template(path = "admin_home.html")]
struct HomePage {
    page: Page,
    users: i64,
    enabled: bool,
    methods: String,
}

pub(crate) async fn home(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    visitor.staff()?;
    let users = state.service.count_users(None).await?;
    let settings = state.service.settings().await?;
    let now = state.service.now();
    let lang = crate::lang::current();
    let active: Vec<String> = FactorKind::ALL
        .iter()
        .filter(|k| settings.method_active(**k))
        .map(|k| method_title(lang, *k))
        .collect();
    let methods = if active.is_empty() {
        lang.t("admin-methods-none")
    } else {
        lang.t1("admin-methods-active", "methods", active.join(", "))
    };
    let page = Page {
        title: lang.t("admin-title"),
        nav: visitor.nav(&state),
        server_time: Some(ServerTime::at(now)),
        wide: true,
        ..Page::default()
    };
    Ok(render(
        StatusCode::OK,
        &HomePage {
            page,
            users,
            enabled: settings.twofactor_enabled(),
            methods,
        },
    ))
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
    origin: String,
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

fn user_row(lang: Lang, u: &User, now: i64) -> UserRow {
    UserRow {
        username: u.username.to_string(),
        role: role_text(lang, u.role),
        email: u.email.clone().unwrap_or_default(),
        status: match (u.disabled, u.is_locked(now)) {
            (true, _) => lang.t("admin-status-disabled"),
            (false, true) => lang.t("admin-status-locked"),
            _ => lang.t("admin-status-active"),
        },
    }
}

pub(crate) async fn users(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<UsersQuery>,
) -> Result<Response, PageError> {
    visitor.staff()?;
    let query = UserQuery {
        search: Some(q.q.trim().to_owned()).filter(|s| !s.is_empty()),
        offset: q.page.saturating_mul(PAGE_SIZE),
        limit: PAGE_SIZE + 1,
    };
    let mut found = state.service.list_users(&query).await?;
    // A search for a YubiKey's public id finds the user who holds it.
    let holder = state.service.yubikey_holder(q.q.trim()).await?;
    let more = found.len() > PAGE_SIZE as usize;
    found.truncate(PAGE_SIZE as usize);
    let now = state.service.now();
    let lang = crate::lang::current();
    let link = |p: u32| format!("/admin/users?q={}&page={p}", encode_component(q.q.trim()));
    let mut users: Vec<UserRow> = found.iter().map(|u| user_row(lang, u, now)).collect();
    if let Some(h) = &holder
        && q.page == 0
        && !found.iter().any(|u| u.id == h.user.id)
    {
        users.insert(0, user_row(lang, &h.user, now));
    }
    let key_holder = holder.map(|h| KeyHolderRow {
        public_id: h.public_id,
        username: h.user.username.to_string(),
        origin: origin_text(lang, h.origin),
    });
    let page = Page {
        title: lang.t("admin-users"),
        nav: visitor.nav(&state),
        wide: true,
        ..Page::default()
    };
    Ok(render(
        StatusCode::OK,
        &UsersPage {
            page,
            q: q.q.clone(),
            users,
            key_holder,
            prev: (q.page > 0).then(|| link(q.page - 1)),
            next: more.then(|| link(q.page + 1)),
        },
    ))
}

/// A device on the admin's user page: a YubiKey also says where its public id comes from,
/// and one bound to a public id can be released.
struct DeviceRow {
    row: FactorRow,
    /// The method's name in the page's language.
    method: String,
    origin: Option<String>,
    /// A security key's kind (synced passkey or device-bound) in the page's language.
    key_sync: Option<String>,
    releasable: bool,
}

impl DeviceRow {
    fn of(lang: Lang, f: &twofold_core::factor::Factor) -> Self {
        let (origin, releasable) = match &f.data {
            FactorData::Yubikey(y) => (Some(origin_text(lang, y.origin())), y.public_id.is_some()),
            _ => (None, false),
        };
        let key_sync = match &f.data {
            FactorData::Webauthn(Some(c)) if c.backup_eligible => Some(lang.t("admin-key-synced")),
            FactorData::Webauthn(Some(_)) => Some(lang.t("admin-key-device-bound")),
            _ => None,
        };
        DeviceRow {
            row: FactorRow::of(f),
            method: method_title(lang, f.kind()),
            origin,
            key_sync,
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
) -> Result<Response, PageError> {
    let (session, _) = visitor.staff()?;
    let view = state.service.user_view(&parse_username(&name)?).await?;
    let u = &view.user;
    let lang = crate::lang::current();
    let lock_text = match (view.locked, u.locked_until) {
        (true, Some(t)) => lang.t1("admin-user-locked-until", "time", utc_display(t)),
        _ => lang.t("admin-user-not-locked"),
    };
    let page = Page {
        title: u.username.to_string(),
        nav: visitor.nav(&state),
        notice: notice_text(q.notice()),
        wide: true,
        ..Page::default()
    };
    Ok(render(
        StatusCode::OK,
        &UserPage {
            page,
            csrf: state.service.csrf_token(&Visitor::session_binding(session)),
            username: u.username.to_string(),
            role: role_text(lang, u.role),
            email: u.email.clone().unwrap_or_else(|| "—".into()),
            phone: u.phone.clone().unwrap_or_else(|| "—".into()),
            has_2fa: view.has_2fa,
            backup_left: view.backup_codes_remaining,
            lock_text,
            disabled: u.disabled,
            factors: view
                .factors
                .iter()
                .map(|f| DeviceRow::of(lang, f))
                .collect(),
            can_manage: visitor.ctx().may_manage(u),
        },
    ))
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
) -> Result<Response, PageError> {
    let (session, _) = visitor.staff()?;
    let target = state.service.user(&parse_username(&name)?).await?;
    if !visitor.ctx().may_manage(&target) {
        return Err(PageError::Forbidden);
    }
    let page = Page {
        title: crate::lang::current().t1(
            "admin-reset-title",
            "username",
            target.username.to_string(),
        ),
        nav: visitor.nav(&state),
        ..Page::default()
    };
    let csrf = state.service.csrf_token(&Visitor::session_binding(session));
    Ok(render(
        StatusCode::OK,
        &ResetPage {
            page,
            csrf,
            username: target.username.to_string(),
        },
    ))
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
    action: Action,
) -> Result<Response, PageError> {
    let name = &parse_username(name)?;
    let target = state.service.user(name).await?;
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
        Ok(()) => Ok(redirect(&format!(
            "/admin/users/{}?notice={notice}",
            encode_component(&target.username)
        ))),
        Err(e) if e.kind == ErrorKind::Forbidden => Err(PageError::Forbidden),
        Err(_) => Err(PageError::Internal),
    }
}

pub(crate) async fn reset(
    State(s): State<AppState>,
    Path(n): Path<String>,
    f: CsrfForm<Staff>,
) -> Result<Response, PageError> {
    act(&s, &f.visitor, &n, Action::Reset).await
}

pub(crate) async fn unlock(
    State(s): State<AppState>,
    Path(n): Path<String>,
    f: CsrfForm<Staff>,
) -> Result<Response, PageError> {
    act(&s, &f.visitor, &n, Action::Unlock).await
}

pub(crate) async fn disable(
    State(s): State<AppState>,
    Path(n): Path<String>,
    f: CsrfForm<Staff>,
) -> Result<Response, PageError> {
    act(&s, &f.visitor, &n, Action::Disable).await
}

pub(crate) async fn enable(
    State(s): State<AppState>,
    Path(n): Path<String>,
    f: CsrfForm<Staff>,
) -> Result<Response, PageError> {
    act(&s, &f.visitor, &n, Action::Enable).await
}

/// "Release" on a YubiKey of the user's page: removes that key factor from its holder, so the
/// key's rightful owner can register its public id. The form names the factor shown, not the
/// public id, so a key registered again since the page was loaded is never the one released.
pub(crate) async fn release_yubikey(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    CsrfForm { visitor, .. }: CsrfForm<Staff>,
) -> Result<Response, PageError> {
    let target = state.service.user(&parse_username(&name)?).await?;
    match state
        .service
        .release_yubikey(&visitor.ctx(), &FactorRequest::named(&target.username, &id))
        .await
    {
        Ok(_) => Ok(redirect(&format!(
            "/admin/users/{}?notice=device_removed",
            encode_component(&target.username)
        ))),
        // A factor that is not a YubiKey of this user is not found either.
        Err(e) if e.kind == ErrorKind::Invalid => Err(PageError::NotFound),
        Err(e) => Err(e.into()),
    }
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
) -> Result<Response, PageError> {
    visitor.staff()?;
    let filter = AuditFilter {
        subject: Some(q.username.trim().to_owned()).filter(|s| !s.is_empty()),
        event: Some(q.event.clone()).filter(|s| !s.is_empty()),
        before_id: q.before,
        limit: 100,
    };
    let records = state.service.audit_log(&filter).await?;
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
        title: crate::lang::current().t("admin-audit"),
        nav: visitor.nav(&state),
        wide: true,
        ..Page::default()
    };
    Ok(render(
        StatusCode::OK,
        &AuditPage {
            page,
            username: q.username.clone(),
            event: q.event.clone(),
            events: AuditEvent::ALL.iter().map(|e| e.as_str()).collect(),
            rows,
            older,
        },
    ))
}
