//! Logging in: the password step, the second-factor step, forced enrolment and logout (first-run
//! setup is in `setup.rs`, Duo's Universal Prompt in `duo.rs`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use twofold_core::ErrorKind;
use twofold_core::code::Code;
use twofold_core::service::{DuoRefusal, Method, PasswordLogin, Reason, Resume, SecondFactor};
use twofold_core::session::Stage;

use super::enroll::{self, Flow};
use super::page::{
    self, Anonymous, AnySession, AtEnroll, AtSecondFactor, CsrfForm, NoticeQuery, PRE_COOKIE, Page,
    ServerTime, Visitor, notice_text, redirect, render, set_cookie, with_cookie,
};
use crate::AppState;
use crate::error::PageError;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    csrf: String,
    next: String,
    username: String,
    /// "Sign in with a passkey" is offered: the request options (JSON) for the page's script.
    passkey_options: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

async fn login_page(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    page: Page,
    next: &str,
    username: &str,
) -> Response {
    let (csrf, new_pre) = visitor.pre_csrf(state);
    let next = state.service.next_target(next).unwrap_or_default();
    // Offered only when passwordless sign-in is on (and the server has a host name for it).
    let passkey_options = state
        .service
        .passwordless_options()
        .await
        .ok()
        .map(|o| o.to_string());
    let resp = render(
        status,
        &LoginPage {
            page,
            csrf,
            next,
            username: username.to_owned(),
            passkey_options,
        },
    );
    match new_pre {
        Some(v) => with_cookie(resp, &set_cookie(PRE_COOKIE, &v, state.secure_cookies)),
        None => resp,
    }
}

pub(crate) async fn home(visitor: Visitor) -> Result<Response, PageError> {
    visitor.full()?;
    Ok(redirect("/account/security"))
}

pub(crate) async fn login_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let next = q.next.as_deref().and_then(|n| state.service.next_target(n));
    if let Some((session, user)) = visitor
        .session
        .as_ref()
        .filter(|(s, _)| s.stage.is_lasting())
    {
        // Signed in already: go on, or back to the step `next` still needs.
        return Ok(
            match state
                .service
                .resume_sign_in(session, user, next.as_deref())
                .await?
            {
                // The cookie again, on the cookie domain: a browser that signed in before
                // one was configured holds it for the portal's host only.
                Resume::Enough => page::with_session_cookie(
                    &state,
                    redirect(next.as_deref().unwrap_or("/account/security")),
                    visitor.session_cookie.as_deref(),
                ),
                Resume::Continue(stage) => redirect(stage_path(stage)),
                Resume::Step(step) => page::with_session_cookie(
                    &state,
                    redirect(stage_path(step.stage)),
                    Some(&step.cookie),
                ),
            },
        );
    }
    let page = Page {
        title: crate::lang::current().t("login-title"),
        notice: notice_text(q.notice.as_deref()),
        ..Page::default()
    };
    Ok(login_page(
        &state,
        &visitor,
        StatusCode::OK,
        page,
        q.next.as_deref().unwrap_or(""),
        "",
    )
    .await)
}

fn stage_path(stage: Stage) -> &'static str {
    match stage {
        Stage::SecondFactor => "/login/2fa",
        Stage::Enroll => "/login/enroll",
        // Enough for a `one_factor` application only: the portal asks for the second factor.
        Stage::OneFactor => "/login",
        Stage::Full => "/account/security",
    }
}

pub(crate) async fn login_submit(
    State(state): State<AppState>,
    CsrfForm { visitor, form, .. }: CsrfForm<Anonymous, LoginForm>,
) -> Result<Response, PageError> {
    let next = state.service.next_target(&form.next);
    let ctx = visitor.ctx();
    let done = state
        .service
        .login_password(
            &ctx,
            PasswordLogin {
                username: &form.username,
                password: &form.password,
                next: next.as_deref(),
                device: visitor.device.as_deref(),
                user_agent: visitor.user_agent.as_deref(),
                previous: visitor.session.as_ref().map(|(s, u)| (s, u)),
                remember: visitor.remember.as_deref(),
            },
        )
        .await;
    Ok(match done {
        Ok(step) => {
            let to = match (step.stage, &next) {
                (Stage::Full | Stage::OneFactor, Some(n)) => n.as_str(),
                (stage, _) => stage_path(stage),
            };
            if step.stage == Stage::Full {
                return Ok(page::signed_in(&state, &visitor, to, &step.cookie).await);
            }
            page::with_session_cookie(&state, redirect(to), Some(&step.cookie))
        }
        Err(e) => {
            let status = match e.kind {
                ErrorKind::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
                ErrorKind::Forbidden => StatusCode::FORBIDDEN,
                _ => return Err(PageError::Internal),
            };
            let page = Page {
                title: crate::lang::current().t("login-title"),
                error: Some(crate::lang::text(&e.message)),
                ..Page::default()
            };
            let resp = login_page(&state, &visitor, status, page, &form.next, &form.username).await;
            page::with_retry_after(resp, &e.kind)
        }
    })
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage {
    page: Page,
    csrf: String,
    backup: bool,
    methods: Vec<String>,
    /// (kind, button text) for email and SMS factors.
    senders: Vec<(String, String)>,
    code_help: String,
    /// The code box takes digits only (no YubiKey among the factors).
    digits_only: bool,
    /// "Log in with Duo" is offered.
    duo: bool,
    /// "Remember this browser for N days" is offered: its label.
    remember_text: Option<String>,
    /// The box is ticked (it was when a code was refused).
    remember_ticked: bool,
    /// "Use your security key or passkey" is offered: the request options (JSON) for the
    /// page's script.
    webauthn_options: Option<String>,
}

/// A security key's answer, as the page's script posts it.
#[derive(Deserialize, Default)]
pub(crate) struct KeyForm {
    #[serde(default)]
    credential: String,
    /// "Remember this browser" (a checkbox: present when ticked).
    #[serde(default)]
    remember: String,
    /// Where to go after a passwordless sign-in.
    #[serde(default)]
    next: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    method: String,
    /// "Remember this browser" (a checkbox: present when ticked).
    #[serde(default)]
    remember: String,
}

pub(crate) async fn second_factor_page(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    backup: bool,
    error: Option<String>,
) -> Result<Response, PageError> {
    second_factor_page_with(state, visitor, status, backup, error, None, false).await
}

async fn second_factor_page_with(
    state: &AppState,
    visitor: &Visitor,
    status: StatusCode,
    backup: bool,
    error: Option<String>,
    notice: Option<String>,
    remember_ticked: bool,
) -> Result<Response, PageError> {
    let Some((session, user)) = visitor.at_stage(Stage::SecondFactor) else {
        return Ok(redirect("/login?notice=expired"));
    };
    let offer = state.service.second_factor_offer(user).await?;
    // A new ceremony for each showing of the page; a key the server cannot serve (no public
    // host name) is simply not offered.
    let webauthn_options = if offer.webauthn && !backup {
        state
            .service
            .webauthn_request_options(&user.username, twofold_core::service::Channel::Portal)
            .await
            .ok()
            .map(|o| o.to_string())
    } else {
        None
    };
    let page = Page {
        title: crate::lang::current().t("second-factor-title"),
        nav: visitor.nav(state),
        error,
        notice,
        server_time: Some(ServerTime::at(state.service.now())),
        ..Page::default()
    };
    let csrf = state.service.csrf_token(&Visitor::session_binding(session));
    let resp = render(
        status,
        &SecondFactorPage {
            page,
            csrf,
            backup,
            methods: offer.methods.iter().map(crate::lang::text).collect(),
            senders: offer
                .senders
                .iter()
                .map(|s| (s.kind.as_str().to_owned(), crate::lang::text(&s.text)))
                .collect(),
            code_help: offer
                .code_help
                .iter()
                .map(crate::lang::text)
                .collect::<Vec<_>>()
                .join(" "),
            digits_only: offer.digits_only,
            duo: offer.duo_host.is_some(),
            remember_text: offer
                .remember_days
                .map(|d| crate::lang::current().t1("second-factor-remember", "days", d)),
            remember_ticked,
            webauthn_options,
        },
    );
    Ok(match &offer.duo_host {
        Some(host) => page::with_form_action(state, resp, host),
        None => resp,
    })
}

pub(crate) async fn second_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    if visitor.full().is_ok() {
        return Ok(redirect("/account/security"));
    }
    if visitor.at_stage(Stage::Enroll).is_some() {
        return Ok(redirect("/login/enroll"));
    }
    let error = q
        .duo
        .as_deref()
        .and_then(DuoRefusal::parse)
        .map(super::duo::refusal_text);
    second_factor_page(&state, &visitor, StatusCode::OK, q.backup.is_some(), error).await
}

pub(crate) async fn second_submit(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        form,
        ..
    }: CsrfForm<AtSecondFactor, CodeForm>,
) -> Result<Response, PageError> {
    let backup = form.method == "backup_code";
    let method = backup.then_some(Method::BackupCode);
    let remember = !form.remember.is_empty();
    let code: String = form
        .code
        .chars()
        .filter(|c| !c.is_whitespace() || backup)
        .collect();
    let ctx = visitor.ctx();
    let done = state
        .service
        .login_second_factor(
            &ctx,
            &session,
            &user,
            Code::parse_given(Some(&code)),
            method,
            remember,
        )
        .await;
    answer_second_factor(&state, &visitor, done, backup, false, remember).await
}

/// "Use your security key or passkey" on the second-factor page.
pub(crate) async fn second_webauthn(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        form,
        ..
    }: CsrfForm<AtSecondFactor, KeyForm>,
) -> Result<Response, PageError> {
    let remember = !form.remember.is_empty();
    let done = match page::credential_json(&form.credential) {
        Ok(credential) => {
            state
                .service
                .login_webauthn(&visitor.ctx(), &session, &user, credential, remember)
                .await
        }
        Err(e) => Err(e),
    };
    answer_second_factor(&state, &visitor, done, false, true, remember).await
}

/// The answer to a second factor given on the page: signed in, or the page again with why not.
/// `by_key`: it came from a security key or passkey, which the refusal names (no code was
/// entered).
async fn answer_second_factor(
    state: &AppState,
    visitor: &Visitor,
    done: twofold_core::Result<SecondFactor>,
    backup: bool,
    by_key: bool,
    remember: bool,
) -> Result<Response, PageError> {
    let lang = crate::lang::current();
    let (status, error) = match done {
        Ok(SecondFactor::Done {
            cookie,
            next,
            remember,
        }) => {
            let to = next
                .as_deref()
                .and_then(|n| state.service.next_target(n))
                .unwrap_or_else(|| "/account/security".into());
            return Ok(
                page::signed_in_remembered(state, visitor, &to, &cookie, remember.as_ref()).await,
            );
        }
        Ok(SecondFactor::Refused(Reason::Locked)) => {
            (StatusCode::FORBIDDEN, lang.t("second-factor-locked"))
        }
        Ok(SecondFactor::Refused(Reason::InvalidCode)) if by_key => (
            StatusCode::UNAUTHORIZED,
            lang.t("second-factor-key-refused"),
        ),
        Ok(SecondFactor::Refused(Reason::InvalidCode)) => {
            (StatusCode::UNAUTHORIZED, lang.t("second-factor-wrong-code"))
        }
        Ok(SecondFactor::Refused(_)) => return Ok(redirect("/login?notice=expired")),
        Err(e) if e.kind == ErrorKind::Invalid => (
            StatusCode::UNPROCESSABLE_ENTITY,
            crate::lang::text(&e.message),
        ),
        Err(e) if e.kind == ErrorKind::Forbidden => return Ok(redirect("/login?notice=expired")),
        // Duo could not check a passcode (and the fail mode is closed).
        Err(e) if e.kind == ErrorKind::Unavailable => {
            (StatusCode::BAD_GATEWAY, crate::lang::text(&e.message))
        }
        Err(_) => return Err(PageError::Internal),
    };
    second_factor_page_with(state, visitor, status, backup, Some(error), None, remember).await
}

/// "Sign in with a passkey" on the login page (when passwordless sign-in is on).
pub(crate) async fn passkey_submit(
    State(state): State<AppState>,
    CsrfForm { visitor, form, .. }: CsrfForm<Anonymous, KeyForm>,
) -> Result<Response, PageError> {
    let next = state.service.next_target(&form.next);
    let done = match page::credential_json(&form.credential) {
        Ok(credential) => {
            state
                .service
                .passwordless_sign_in(
                    &visitor.ctx(),
                    credential,
                    next.as_deref(),
                    visitor.user_agent.as_deref(),
                    visitor.session.as_ref().map(|(s, u)| (s, u)),
                )
                .await
        }
        Err(e) => Err(e),
    };
    match done {
        Ok(step) => {
            let to = next.as_deref().unwrap_or("/account/security");
            Ok(page::signed_in(&state, &visitor, to, &step.cookie).await)
        }
        Err(e) => {
            let status = match e.kind {
                ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
                ErrorKind::Forbidden => StatusCode::FORBIDDEN,
                ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                _ => return Err(PageError::Internal),
            };
            let page = Page {
                title: crate::lang::current().t("login-title"),
                error: Some(crate::lang::text(&e.message)),
                ..Page::default()
            };
            Ok(login_page(&state, &visitor, status, page, &form.next, "").await)
        }
    }
}

pub(crate) async fn enroll_choose(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let Some((session, user)) = visitor.at_stage(Stage::Enroll) else {
        return Ok(redirect("/login?notice=expired"));
    };
    enroll::choose(&state, &visitor, session, user, Flow::Forced, None).await
}

pub(crate) async fn enroll_start(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        form,
        ..
    }: CsrfForm<AtEnroll, enroll::StartForm>,
) -> Result<Response, PageError> {
    enroll::start(&state, &visitor, &session, &user, Flow::Forced, form).await
}

pub(crate) async fn enroll_scan(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let Some((session, user)) = visitor.at_stage(Stage::Enroll) else {
        return Ok(redirect("/login?notice=expired"));
    };
    enroll::scan(
        &state,
        &visitor,
        session,
        user,
        Flow::Forced,
        &id,
        StatusCode::OK,
        None,
        None,
    )
    .await
}

pub(crate) async fn enroll_confirm(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        form,
        ..
    }: CsrfForm<AtEnroll, enroll::ConfirmForm>,
) -> Result<Response, PageError> {
    enroll::confirm(&state, &visitor, &session, &user, Flow::Forced, &id, form).await
}

pub(crate) async fn enroll_done(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        ..
    }: CsrfForm<AtEnroll>,
) -> Result<Response, PageError> {
    Ok(
        match state.service.finish_enrollment(&session, &user).await {
            Ok(cookie) => {
                let to = session
                    .next
                    .as_deref()
                    .and_then(|n| state.service.next_target(n))
                    .unwrap_or_else(|| "/account/security".into());
                page::signed_in(&state, &visitor, &to, &cookie).await
            }
            Err(e) if e.kind == ErrorKind::Conflict => redirect("/login/enroll"),
            Err(_) => redirect("/login?notice=expired"),
        },
    )
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    page: Page,
    csrf: String,
    next_encoded: String,
}

/// `GET /logout?next=`: a signed-in browser is asked to confirm (an application's "Sign out"
/// link lands here, and a link must not sign anyone out by itself); anyone else goes on to
/// `next`, or to the login page.
pub(crate) async fn logout_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let next = q.next.as_deref().and_then(|n| state.service.next_target(n));
    let Some((session, _)) = &visitor.session else {
        return redirect(next.as_deref().unwrap_or("/login"));
    };
    let page = Page {
        title: crate::lang::current().t("log-out"),
        nav: visitor.nav(&state),
        ..Page::default()
    };
    render(
        StatusCode::OK,
        &LogoutPage {
            page,
            csrf: state.service.csrf_token(&Visitor::session_binding(session)),
            next_encoded: page::encode_component(next.as_deref().unwrap_or("")),
        },
    )
}

/// `POST /logout[?next=]`: ends the session; then to `next` when it may be followed, else to
/// the login page.
pub(crate) async fn logout(
    State(state): State<AppState>,
    Query(q): Query<NoticeQuery>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        ..
    }: CsrfForm<AnySession>,
) -> Result<Response, PageError> {
    state
        .service
        .logout(&visitor.ctx(), &session, &user)
        .await
        .map_err(|_| PageError::Internal)?;
    let to = q
        .next
        .as_deref()
        .and_then(|n| state.service.next_target(n))
        .unwrap_or_else(|| "/login?notice=logged_out".into());
    Ok(page::with_session_cookie(&state, redirect(&to), None))
}

pub(crate) async fn enroll_resend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        ..
    }: CsrfForm<AtEnroll>,
) -> Result<Response, PageError> {
    enroll::resend(&state, &visitor, &session, &user, Flow::Forced, &id).await
}

#[derive(Deserialize, Default)]
pub(crate) struct SendForm {
    #[serde(default)]
    kind: String,
}

/// "Send me a code" on the second-factor page.
pub(crate) async fn send_code(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (_, user),
        form,
        ..
    }: CsrfForm<AtSecondFactor, SendForm>,
) -> Result<Response, PageError> {
    match state
        .service
        .send_login_code(&visitor.ctx(), &user, form.kind.parse().ok())
        .await
    {
        Ok(sent) => {
            let notice =
                crate::lang::current().t1("second-factor-code-sent", "destination", sent.to);
            second_factor_page_with(
                &state,
                &visitor,
                StatusCode::OK,
                false,
                None,
                Some(notice),
                false,
            )
            .await
        }
        Err(e) if e.kind == ErrorKind::Internal => Err(PageError::Internal),
        Err(e) => {
            let status = match e.kind {
                ErrorKind::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::Unavailable => StatusCode::BAD_GATEWAY,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let resp = second_factor_page_with(
                &state,
                &visitor,
                status,
                false,
                Some(crate::lang::text(&e.message)),
                None,
                false,
            )
            .await?;
            Ok(page::with_retry_after(resp, &e.kind))
        }
    }
}
