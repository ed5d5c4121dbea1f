//! Security Settings: the user's own second factors, backup codes, the off switch, their
//! password and their sessions. Removing a factor, new or shown backup codes and turning 2FA off
//! need a recent "Confirm it is you" (password, and a second factor when the user has 2FA).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use twofold_core::ErrorKind;
use twofold_core::code::Code;
use twofold_core::service::FactorRequest;
use twofold_core::session::Session;
use twofold_core::store::User;

use super::enroll::{self, Flow};
use super::page::{self, Page, Visitor, notice_text, redirect, render, when};
use super::page::{CsrfForm, NoticeQuery, SignedIn};
use crate::AppState;
use crate::error::PageError;

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
    /// A security key's kind ("synced passkey" or "device-bound"), in the page's language.
    pub(crate) key_sync: Option<String>,
    /// A security key's model id (AAGUID, shown to administrators).
    pub(crate) aaguid: Option<String>,
}

impl FactorRow {
    pub(crate) fn of(f: &twofold_core::factor::Factor) -> Self {
        FactorRow {
            id: f.id.to_string(),
            label: f.label.clone(),
            method: crate::lang::current().t(f.kind().title_id()),
            confirmed: f.confirmed,
            added: when(Some(f.created_at)),
            last_used: when(f.last_used_at),
            public_id: match &f.data {
                twofold_core::factor::FactorData::Yubikey(y) => y.public_id.clone(),
                _ => None,
            },
            key_sync: match &f.data {
                twofold_core::factor::FactorData::Webauthn(Some(c)) => {
                    let lang = crate::lang::current();
                    Some(if c.backup_eligible {
                        lang.t("factor-key-synced")
                    } else {
                        lang.t("factor-key-device-bound")
                    })
                }
                _ => None,
            },
            aaguid: match &f.data {
                twofold_core::factor::FactorData::Webauthn(Some(c)) => Some(c.aaguid_text()),
                _ => None,
            },
        }
    }
}

/// A row of the "Remembered browsers" list.
#[derive(Debug)]
pub(crate) struct BrowserRow {
    handle: String,
    browser: String,
    ip: String,
    first_use: String,
    last_use: String,
    until: String,
    current: bool,
}

/// A row of the "Active sessions" list.
#[derive(Debug)]
pub(crate) struct SessionRow {
    handle: String,
    browser: String,
    ip: String,
    first_use: String,
    last_use: String,
    current: bool,
    complete: bool,
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
    /// The password (and code) fields can be left out: the session stepped up recently.
    stepped_up: bool,
    sessions: Vec<SessionRow>,
    browsers: Vec<BrowserRow>,
    /// "Remember this browser" is offered to this user (the list shows even when empty).
    remember_offered: bool,
    /// The user's own language choice (a tag), or empty: the browser's.
    language: String,
}

#[derive(Template)]
#[template(path = "step_up.html")]
struct StepUpPage {
    page: Page,
    csrf: String,
    action: String,
    factor: String,
    /// What the password must come with: `none`, `code`, or `key` (a code or the key), the
    /// selector of `step-up-intro`.
    proof: &'static str,
    needs_code: bool,
    /// The user has a security key: the request options (JSON) for the page's script.
    webauthn_options: Option<String>,
}

async fn security_page(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let view = state.service.user_view(&user.username).await?;
    let forced = state.service.second_factor_required(user.role).await?;
    let sessions = state.service.sessions_of(user, session).await?;
    let browsers = state
        .service
        .remembered_browsers_of(user, visitor.remember.as_deref())
        .await?;
    let remember_offered = state.service.remember_offer(user).await?.is_some();
    let page = Page {
        title: crate::lang::current().t("nav-security"),
        nav: visitor.nav(state),
        notice,
        error,
        ..Page::default()
    };
    let csrf = state.service.csrf_token(&Visitor::session_binding(session));
    let unknown = crate::lang::current().t("security-ip-unknown");
    Ok(render(
        status,
        &SecurityPage {
            page,
            csrf,
            has_2fa: view.has_2fa,
            forced,
            factors: view.factors.iter().map(FactorRow::of).collect(),
            backup_left: view.backup_codes_remaining,
            stepped_up: state.service.stepped_up(session),
            sessions: sessions
                .into_iter()
                .map(|s| SessionRow {
                    handle: s.handle,
                    browser: s.browser,
                    ip: s.ip.unwrap_or_else(|| unknown.clone()),
                    first_use: when(Some(s.first_use)),
                    last_use: when(Some(s.last_use)),
                    current: s.current,
                    complete: s.complete,
                })
                .collect(),
            browsers: browsers
                .into_iter()
                .map(|b| BrowserRow {
                    handle: b.handle,
                    browser: b.browser,
                    ip: b.ip.unwrap_or_else(|| unknown.clone()),
                    first_use: when(Some(b.first_use)),
                    last_use: when(Some(b.last_use)),
                    until: when(Some(b.expires_at)),
                    current: b.current,
                })
                .collect(),
            remember_offered,
            language: user
                .language()
                .map(|l| l.tag().to_owned())
                .unwrap_or_default(),
        },
    ))
}

pub(crate) async fn security(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let (session, user) = visitor.full()?;
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

pub(crate) async fn choose(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let (session, user) = visitor.full()?;
    enrol_needs_step_up(&state, &visitor, session, user).await?;
    enroll::choose(&state, &visitor, session, user, Flow::Account, None).await
}

/// Answers with the step-up page when adding a device needs one (the user has 2FA and has not
/// confirmed it is them lately), as core decides.
async fn enrol_needs_step_up(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
) -> Result<(), PageError> {
    match state.service.require_step_up_to_enrol(session, user).await {
        Ok(()) => Ok(()),
        Err(e) if e.code == "step_up_required" => Err(step_up_page(
            state,
            visitor,
            session,
            user,
            StatusCode::UNAUTHORIZED,
            &Sensitive::Enroll,
            None,
        )
        .await?
        .into()),
        Err(_) => Err(PageError::Internal),
    }
}

pub(crate) async fn start(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        form,
        ..
    }: CsrfForm<SignedIn, enroll::StartForm>,
) -> Result<Response, PageError> {
    enrol_needs_step_up(&state, &visitor, &session, &user).await?;
    enroll::start(&state, &visitor, &session, &user, Flow::Account, form).await
}

pub(crate) async fn scan(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (session, user) = visitor.full()?;
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
    Path(id): Path<String>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        form,
        ..
    }: CsrfForm<SignedIn, enroll::ConfirmForm>,
) -> Result<Response, PageError> {
    enroll::confirm(&state, &visitor, &session, &user, Flow::Account, &id, form).await
}

/// A sensitive action, as the step-up form carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Sensitive {
    Remove(String),
    NewCodes,
    ViewCodes,
    Disable,
    Enroll,
}

impl Sensitive {
    fn parse(action: &str, factor: &str) -> Option<Self> {
        match action {
            "remove" if !factor.is_empty() => Some(Sensitive::Remove(factor.to_owned())),
            "new-codes" => Some(Sensitive::NewCodes),
            "view-codes" => Some(Sensitive::ViewCodes),
            "disable" => Some(Sensitive::Disable),
            "enroll" => Some(Sensitive::Enroll),
            _ => None,
        }
    }

    fn action(&self) -> (&'static str, &str) {
        match self {
            Sensitive::Remove(id) => ("remove", id),
            Sensitive::NewCodes => ("new-codes", ""),
            Sensitive::ViewCodes => ("view-codes", ""),
            Sensitive::Disable => ("disable", ""),
            Sensitive::Enroll => ("enroll", ""),
        }
    }
}

/// "Confirm it is you": the password, and a current code when the user has 2FA, before a
/// sensitive action; the form carries the action, which runs once the step-up succeeds.
async fn step_up_page(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
    status: StatusCode,
    pending: &Sensitive,
    error: Option<String>,
) -> Result<Response, PageError> {
    let needs_code = state.service.step_up_needs_code(user).await?;
    // A user with a security key may answer with it instead of a code.
    let webauthn_options = if needs_code {
        state
            .service
            .webauthn_request_options(&user.username, twofold_core::service::Channel::Portal)
            .await
            .ok()
            .map(|o| o.to_string())
    } else {
        None
    };
    let (action, factor) = pending.action();
    let proof = match (needs_code, webauthn_options.is_some()) {
        (false, _) => "none",
        (true, false) => "code",
        (true, true) => "key",
    };
    let page = Page {
        title: crate::lang::current().t("step-up-title"),
        nav: visitor.nav(state),
        error,
        ..Page::default()
    };
    Ok(render(
        status,
        &StepUpPage {
            page,
            csrf: state.service.csrf_token(&Visitor::session_binding(session)),
            action: action.to_owned(),
            factor: factor.to_owned(),
            webauthn_options,
            proof,
            needs_code,
        },
    ))
}

/// Runs a sensitive action in a session that has stepped up (core checks it); asks for the
/// step-up when it has not.
async fn run_sensitive(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
    pending: Sensitive,
) -> Result<Response, PageError> {
    let ctx = visitor.ctx();
    let done = match &pending {
        Sensitive::Remove(id) => state
            .service
            .remove_own_factor(&ctx, session, &FactorRequest::named(&user.username, id))
            .await
            .map(|signed_out| {
                if signed_out {
                    signed_out_to("/login?notice=last_device_removed", state)
                } else {
                    redirect("/account/security?notice=device_removed")
                }
            }),
        Sensitive::NewCodes => state
            .service
            .regenerate_own_backup_codes(&ctx, session, user)
            .await
            .map(|codes| {
                let page = Page {
                    title: crate::lang::current().t("codes-fresh-title"),
                    nav: visitor.nav(state),
                    ..Page::default()
                };
                enroll::codes_page(
                    page,
                    true,
                    codes.into_iter().map(|c| (c, false)).collect(),
                    None,
                )
            }),
        Sensitive::ViewCodes => state
            .service
            .view_own_backup_codes(&ctx, session, user)
            .await
            .map(|codes| {
                let page = Page {
                    title: crate::lang::current().t("codes-view-title"),
                    nav: visitor.nav(state),
                    ..Page::default()
                };
                enroll::codes_page(page, false, codes, None)
            }),
        Sensitive::Disable => state
            .service
            .disable_own_2fa(&ctx, session, user)
            .await
            .map(|()| signed_out_to("/login?notice=twofa_off_signed_out", state)),
        Sensitive::Enroll => state
            .service
            .require_step_up_to_enrol(session, user)
            .await
            .map(|()| redirect("/account/security/enroll")),
    };
    match done {
        Ok(resp) => Ok(resp),
        Err(e) if e.code == "step_up_required" => {
            step_up_page(
                state,
                visitor,
                session,
                user,
                StatusCode::UNAUTHORIZED,
                &pending,
                None,
            )
            .await
        }
        Err(e) if e.kind == ErrorKind::Conflict => Ok(redirect("/account/security")),
        Err(e) if e.kind == ErrorKind::Forbidden => {
            security_page(
                state,
                visitor,
                session,
                user,
                StatusCode::FORBIDDEN,
                None,
                Some(crate::lang::text(&e.message)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// A redirect that also drops the session cookie (the session has ended on the server).
fn signed_out_to(to: &str, state: &AppState) -> Response {
    page::with_session_cookie(state, redirect(to), None)
}

/// Steps up with the password (and code) a form carried, unless the session stepped up
/// recently; the session as it is afterwards, or the page to answer with.
#[allow(clippy::result_large_err, clippy::too_many_arguments)]
async fn step_up_with(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
    password: &str,
    code: &str,
    credential: &str,
    pending: &Sensitive,
) -> Result<Session, PageError> {
    if state.service.stepped_up(session) || password.is_empty() {
        // Without a password the action itself answers with the step-up page if it is needed.
        return Ok(session.clone());
    }
    let done = if credential.is_empty() {
        state
            .service
            .step_up(
                &visitor.ctx(),
                session,
                user,
                password,
                Code::parse_given(Some(code)),
                visitor.device.as_deref(),
            )
            .await
    } else {
        match page::credential_json(credential) {
            Ok(credential) => {
                state
                    .service
                    .step_up_with_key(
                        &visitor.ctx(),
                        session,
                        user,
                        password,
                        credential,
                        visitor.device.as_deref(),
                    )
                    .await
            }
            Err(e) => Err(e),
        }
    };
    match done {
        Ok(s) => Ok(s),
        Err(e) => {
            let status = match e.kind {
                ErrorKind::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::Invalid | ErrorKind::Unauthorized => StatusCode::UNPROCESSABLE_ENTITY,
                ErrorKind::Forbidden => StatusCode::FORBIDDEN,
                ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => return Err(PageError::Internal),
            };
            let resp = step_up_page(
                state,
                visitor,
                session,
                user,
                status,
                pending,
                Some(crate::lang::text(&e.message)),
            )
            .await?;
            Err(page::with_retry_after(resp, &e.kind).into())
        }
    }
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        ..
    }: CsrfForm<SignedIn>,
) -> Result<Response, PageError> {
    run_sensitive(&state, &visitor, &session, &user, Sensitive::Remove(id)).await
}

#[derive(Deserialize, Default)]
pub(crate) struct StepUpForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
    /// A security key's answer instead of the code (JSON, posted by the page's script).
    #[serde(default)]
    credential: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    factor: String,
}

/// `POST /account/security/step-up`: confirms it is the user, then runs the action the form
/// carries.
pub(crate) async fn step_up(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        form,
        ..
    }: CsrfForm<SignedIn, StepUpForm>,
) -> Result<Response, PageError> {
    let Some(pending) = Sensitive::parse(&form.action, &form.factor) else {
        return Ok(redirect("/account/security"));
    };
    if form.password.is_empty() {
        return step_up_page(
            &state,
            &visitor,
            &session,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            &pending,
            Some(crate::lang::current().t("step-up-password-missing")),
        )
        .await;
    }
    let session = step_up_with(
        &state,
        &visitor,
        &session,
        &user,
        &form.password,
        &form.code,
        &form.credential,
        &pending,
    )
    .await?;
    run_sensitive(&state, &visitor, &session, &user, pending).await
}

#[derive(Deserialize, Default)]
pub(crate) struct DisableForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    code: String,
}

/// A form that carries the password and code itself (turn off, view codes): steps up with what
/// it carries unless the session did lately, then runs the action.
async fn step_up_form_then(
    state: &AppState,
    posted: CsrfForm<SignedIn, DisableForm>,
    pending: Sensitive,
) -> Result<Response, PageError> {
    let CsrfForm {
        visitor,
        admitted: (session, user),
        form,
        ..
    } = posted;
    let session = step_up_with(
        state,
        &visitor,
        &session,
        &user,
        &form.password,
        &form.code,
        "",
        &pending,
    )
    .await?;
    run_sensitive(state, &visitor, &session, &user, pending).await
}

pub(crate) async fn disable(
    State(state): State<AppState>,
    posted: CsrfForm<SignedIn, DisableForm>,
) -> Result<Response, PageError> {
    step_up_form_then(&state, posted, Sensitive::Disable).await
}

pub(crate) async fn view_codes(
    State(state): State<AppState>,
    posted: CsrfForm<SignedIn, DisableForm>,
) -> Result<Response, PageError> {
    step_up_form_then(&state, posted, Sensitive::ViewCodes).await
}

pub(crate) async fn new_codes(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        ..
    }: CsrfForm<SignedIn>,
) -> Result<Response, PageError> {
    run_sensitive(&state, &visitor, &session, &user, Sensitive::NewCodes).await
}

#[derive(Deserialize, Default)]
pub(crate) struct PasswordChangeForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// `POST /account/security/password`: a new password; every session ends, this one too.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        form,
        ..
    }: CsrfForm<SignedIn, PasswordChangeForm>,
) -> Result<Response, PageError> {
    if form.new != form.confirm {
        return security_page(
            &state,
            &visitor,
            &session,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(crate::lang::current().t("security-password-mismatch")),
        )
        .await;
    }
    match state
        .service
        .change_own_password(
            &visitor.ctx(),
            &session,
            &user,
            &form.current,
            &form.new,
            visitor.device.as_deref(),
        )
        .await
    {
        Ok(()) => Ok(signed_out_to("/login?notice=password_changed", &state)),
        Err(e) => {
            let status = match e.kind {
                ErrorKind::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                ErrorKind::Forbidden => StatusCode::FORBIDDEN,
                _ => return Err(PageError::Internal),
            };
            let resp = security_page(
                &state,
                &visitor,
                &session,
                &user,
                status,
                None,
                Some(crate::lang::text(&e.message)),
            )
            .await?;
            Ok(page::with_retry_after(resp, &e.kind))
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct SessionForm {
    #[serde(default)]
    session: String,
}

/// `POST /account/security/sessions/end`: signs one of the user's sessions out.
pub(crate) async fn end_session(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        form,
        ..
    }: CsrfForm<SignedIn, SessionForm>,
) -> Result<Response, PageError> {
    let ended = state
        .service
        .end_own_session(&visitor.ctx(), &user, &form.session)
        .await
        .map_err(|_| PageError::Internal)?;
    Ok(if !ended {
        redirect("/account/security")
    } else if form.session == twofold_core::service::session_handle(&session.id_hash) {
        signed_out_to("/login?notice=logged_out", &state)
    } else {
        redirect("/account/security?notice=session_ended")
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct BrowserForm {
    #[serde(default)]
    browser: String,
}

/// `POST /account/security/browsers/forget`: forgets one of the user's remembered browsers
/// (this one's cookie goes too when it is this browser).
pub(crate) async fn forget_browser(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (_, user),
        form,
        ..
    }: CsrfForm<SignedIn, BrowserForm>,
) -> Result<Response, PageError> {
    let forgotten = state
        .service
        .forget_own_browser(
            &visitor.ctx(),
            &user,
            &form.browser,
            visitor.remember.as_deref(),
        )
        .await
        .map_err(|_| PageError::Internal)?;
    Ok(match forgotten {
        None => redirect("/account/security"),
        Some(this_browser) => {
            let resp = redirect("/account/security?notice=browser_forgotten");
            if this_browser {
                page::with_remember_cookie(&state, resp, None)
            } else {
                resp
            }
        }
    })
}

/// `POST /account/security/sessions/end-all`: "Sign out everywhere" (every remembered browser
/// is forgotten too).
pub(crate) async fn end_all_sessions(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (_, user),
        ..
    }: CsrfForm<SignedIn>,
) -> Result<Response, PageError> {
    state
        .service
        .end_all_sessions(&visitor.ctx(), &user, "user")
        .await
        .map_err(|_| PageError::Internal)?;
    Ok(signed_out_to("/login?notice=signed_out_everywhere", &state))
}

pub(crate) async fn resend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        ..
    }: CsrfForm<SignedIn>,
) -> Result<Response, PageError> {
    enroll::resend(&state, &visitor, &session, &user, Flow::Account, &id).await
}

/// "Continue to Duo" for a pending Duo factor.
pub(crate) async fn duo(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        ..
    }: CsrfForm<SignedIn>,
) -> Result<Response, PageError> {
    enroll::duo_go(&state, &visitor, &session, &user, Flow::Account, &id).await
}

#[derive(Deserialize, Default)]
pub(crate) struct LanguageForm {
    #[serde(default)]
    language: String,
}

/// `POST /account/security/language`: the user's own language for pages, emails and SMS
/// (empty: the browser's).
pub(crate) async fn set_language(
    State(state): State<AppState>,
    CsrfForm {
        admitted: (_, user),
        form,
        ..
    }: CsrfForm<SignedIn, LanguageForm>,
) -> Result<Response, PageError> {
    let lang = match form.language.as_str() {
        "" => None,
        tag => match twofold_core::i18n::Lang::from_tag(tag) {
            Some(l) => Some(l),
            None => {
                let lang = crate::lang::current();
                return Ok(page::message(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &lang.t("language-unknown-title"),
                    &lang.t("language-unknown"),
                    Some(("/account/security", &lang.t("back-to-security"))),
                ));
            }
        },
    };
    state.service.set_language(&user, lang).await?;
    Ok(redirect("/account/security?notice=language_saved"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use twofold_core::i18n::Lang;

    use super::Sensitive;

    const ACTIONS: [&str; 5] = ["remove", "new-codes", "view-codes", "disable", "enroll"];

    /// The step-up sentence is whole for each action and proof the page passes, and every
    /// language words each action of [`Sensitive`] on its own (none falls to the default).
    #[test]
    fn step_up_sentence_names_the_action_and_the_proof() {
        let en = |a: &str, p: &str| Lang::En.t2("step-up-intro", "action", a, "proof", p);
        assert_eq!(
            en("remove", "code"),
            "To remove a device, enter your password and a current code from one of your \
             devices (or a backup code). You will not be asked again for 5 minutes."
        );
        assert_eq!(
            en("new-codes", "key"),
            "To get new backup codes, enter your password and a current code from one of your \
             devices (or a backup code), or use your security key. You will not be asked again \
             for 5 minutes."
        );
        assert_eq!(
            en("enroll", "none"),
            "To add a device, enter your password. You will not be asked again for 5 minutes."
        );
        for action in ACTIONS {
            let parsed = Sensitive::parse(action, "f1").expect(action);
            assert_eq!(parsed.action().0, action);
        }
        for lang in Lang::ALL {
            let said: BTreeSet<String> = ACTIONS
                .iter()
                .map(|a| lang.t2("step-up-intro", "action", *a, "proof", "none"))
                .collect();
            assert_eq!(said.len(), ACTIONS.len(), "{lang}");
            let proofs: BTreeSet<String> = ["none", "code", "key"]
                .iter()
                .map(|p| lang.t2("step-up-intro", "action", "remove", "proof", *p))
                .collect();
            assert_eq!(proofs.len(), 3, "{lang}");
        }
    }
}
