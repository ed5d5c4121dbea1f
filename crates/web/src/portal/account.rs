//! Security Settings: the user's own second factors, backup codes and the off switch.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use twofold_core::ErrorKind;
use twofold_core::session::Session;
use twofold_core::store::User;

use super::enroll::{self, Flow};
use super::login::{CsrfForm, NoticeQuery};
use super::page::{self, Page, Visitor, notice_text, redirect, render, when};
use crate::AppState;

/// A factor row.
#[derive(Debug)]
pub(crate) struct FactorRow {
    pub(crate) id: String,
    pub(crate) label: String,
    pub(crate) method: String,
    pub(crate) confirmed: bool,
    pub(crate) added: String,
    pub(crate) last_used: String,
    /// A YubiKey's public id, once bound (shown to administrators).
    pub(crate) public_id: Option<String>,
}

impl FactorRow {
    pub(crate) fn of(f: &twofold_core::factor::Factor) -> Self {
        FactorRow {
            id: f.id.to_string(),
            label: f.label.clone(),
            method: f.kind().title().to_owned(),
            confirmed: f.confirmed,
            added: when(Some(f.created_at)),
            last_used: when(f.last_used_at),
            public_id: match &f.data {
                twofold_core::factor::FactorData::Yubikey(y) => y.public_id.clone(),
                _ => None,
            },
        }
    }
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    page: Page,
    csrf: String,
    has_2fa: bool,
    forced: bool,
    factors: Vec<FactorRow>,
    backup_left: i64,
}

async fn security_page(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let (Ok(view), Ok(settings)) = (
        state.service.user_view(&user.username).await,
        state.service.settings().await,
    ) else {
        return page::internal();
    };
    let page = Page {
        title: "Security Settings".into(),
        nav: visitor.nav(state),
        notice,
        error,
        ..Page::default()
    };
    let csrf = state.service.csrf_token(&Visitor::session_binding(session));
    render(
        status,
        &SecurityPage {
            page,
            csrf,
            has_2fa: view.has_2fa,
            forced: settings.twofactor_enabled() && settings.forced(user.role),
            factors: view.factors.iter().map(FactorRow::of).collect(),
            backup_left: view.backup_codes_remaining,
        },
    )
}

pub(crate) async fn security(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let (session, user) = match visitor.full() {
        Ok(x) => x,
        Err(to) => return to,
    };
    security_page(
        &state,
        &visitor,
        session,
        user,
        StatusCode::OK,
        notice_text(q_notice(&q)),
        None,
    )
    .await
}

fn q_notice(q: &NoticeQuery) -> Option<&str> {
    q.notice()
}

pub(crate) async fn choose(State(state): State<AppState>, visitor: Visitor) -> Response {
    let (session, user) = match visitor.full() {
        Ok(x) => x,
        Err(to) => return to,
    };
    enroll::choose(&state, &visitor, session, user, Flow::Account, None).await
}

pub(crate) async fn start(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<enroll::StartForm>,
) -> Response {
    let (session, user) = match visitor.full() {
        Ok(x) => x,
        Err(to) => return to,
    };
    enroll::start(&state, &visitor, session, user, Flow::Account, form).await
}

pub(crate) async fn scan(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    let (session, user) = match visitor.full() {
        Ok(x) => x,
        Err(to) => return to,
    };
    enroll::scan(
        &state,
        &visitor,
        session,
        user,
        Flow::Account,
        &id,
        StatusCode::OK,
        None,
        None,
    )
    .await
}

pub(crate) async fn confirm(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<enroll::ConfirmForm>,
) -> Response {
    let (session, user) = match visitor.full() {
        Ok(x) => x,
        Err(to) => return to,
    };
    enroll::confirm(&state, &visitor, session, user, Flow::Account, &id, form).await
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (session, user) = match visitor.full() {
        Ok(x) => x,
        Err(to) => return to,
    };
    if !state
        .service
        .csrf_ok(&Visitor::session_binding(session), &form.csrf)
    {
        return page::csrf_refused();
    }
    // When 2FA is forced, the last usable factor stays until another replaces it (checked and
    // removed in one transaction).
    match state
        .service
        .remove_own_factor(&visitor.ctx(), &user.username, &id)
        .await
    {
        Ok(()) => redirect("/account/security?notice=device_removed"),
        Err(e) if e.kind == ErrorKind::NotFound => page::not_found(),
        Err(e) if e.kind == ErrorKind::Forbidden => {
            security_page(
                &state,
                &visitor,
                session,
                user,
                StatusCode::FORBIDDEN,
                None,
                Some(e.message),
            )
            .await
        }
        Err(_) => page::internal(),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct DisableForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

pub(crate) async fn disable(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<DisableForm>,
) -> Response {
    let (session, user) = match visitor.full() {
        Ok(x) => x,
        Err(to) => return to,
    };
    if !state
        .service
        .csrf_ok(&Visitor::session_binding(session), &form.csrf)
    {
        return page::csrf_refused();
    }
    match state
        .service
        .disable_own_2fa(&visitor.ctx(), user, &form.password, form.code.trim())
        .await
    {
        Ok(()) => redirect("/account/security?notice=twofa_off"),
        Err(e) => {
            let status = match e.kind {
                ErrorKind::Forbidden => StatusCode::FORBIDDEN,
                ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                _ => return page::internal(),
            };
            security_page(
                &state,
                &visitor,
                session,
                user,
                status,
                None,
                Some(e.message),
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

pub(crate) async fn view_codes(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<PasswordForm>,
) -> Response {
    let (session, user) = match visitor.full() {
        Ok(x) => x,
        Err(to) => return to,
    };
    if !state
        .service
        .csrf_ok(&Visitor::session_binding(session), &form.csrf)
    {
        return page::csrf_refused();
    }
    if !state.service.check_password(user, &form.password) {
        let msg = "The password is not right.";
        return security_page(
            &state,
            &visitor,
            session,
            user,
            StatusCode::UNAUTHORIZED,
            None,
            Some(msg.into()),
        )
        .await;
    }
    match state
        .service
        .view_backup_codes(&visitor.ctx(), &user.username)
        .await
    {
        Ok(codes) => {
            let page = Page {
                title: "Your backup codes".into(),
                nav: visitor.nav(&state),
                ..Page::default()
            };
            enroll::codes_page(page, false, codes, None)
        }
        Err(_) => page::internal(),
    }
}

pub(crate) async fn new_codes(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (session, user) = match visitor.full() {
        Ok(x) => x,
        Err(to) => return to,
    };
    if !state
        .service
        .csrf_ok(&Visitor::session_binding(session), &form.csrf)
    {
        return page::csrf_refused();
    }
    match state
        .service
        .regenerate_backup_codes(&visitor.ctx(), &user.username)
        .await
    {
        Ok(codes) => {
            let page = Page {
                title: "Record your backup codes".into(),
                nav: visitor.nav(&state),
                ..Page::default()
            };
            enroll::codes_page(
                page,
                true,
                codes.into_iter().map(|c| (c, false)).collect(),
                None,
            )
        }
        Err(e) if e.kind == ErrorKind::Conflict => redirect("/account/security"),
        Err(_) => page::internal(),
    }
}

pub(crate) async fn resend(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (session, user) = match visitor.full() {
        Ok(x) => x,
        Err(to) => return to,
    };
    enroll::resend(
        &state,
        &visitor,
        session,
        user,
        Flow::Account,
        &id,
        &form.csrf,
    )
    .await
}

/// "Continue to Duo" for a pending Duo factor.
pub(crate) async fn duo(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let (session, user) = match visitor.full() {
        Ok(x) => x,
        Err(to) => return to,
    };
    enroll::duo_go(
        &state,
        &visitor,
        session,
        user,
        Flow::Account,
        &id,
        &form.csrf,
    )
    .await
}
