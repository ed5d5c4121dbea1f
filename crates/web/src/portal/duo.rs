//! Duo's Universal Prompt in the portal: "Log in with Duo", the callback Duo sends the browser
//! back to (logins and enrolments), and "Continue to Duo" during a forced enrolment.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use twofold_core::ErrorKind;
use twofold_core::service::{DuoCallback, DuoRefusal, DuoStart};
use twofold_core::session::Stage;
use twofold_core::store::DuoPurpose;

use super::enroll::{self, Flow};
use super::login::second_factor_page;
use super::page::{
    self, AtEnroll, AtSecondFactor, CsrfForm, Page, Visitor, duo_callback_url, redirect,
};
use crate::AppState;
use crate::error::PageError;

/// The "Log in with Duo" form: "Remember this browser" (a checkbox: present when ticked).
#[derive(Deserialize, Default)]
pub(crate) struct DuoStartForm {
    #[serde(default)]
    remember: String,
}

/// "Log in with Duo": the health check, then a 303 to the Universal Prompt (or the fail mode).
pub(crate) async fn duo_start(
    State(state): State<AppState>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        form,
        ..
    }: CsrfForm<AtSecondFactor, DuoStartForm>,
) -> Result<Response, PageError> {
    let callback = duo_callback_url(&state);
    match state
        .service
        .duo_login_start(
            &visitor.ctx(),
            &session,
            &user,
            &callback,
            !form.remember.is_empty(),
        )
        .await
    {
        Ok(DuoStart::Redirect(url)) => Ok(redirect(&url)),
        Ok(DuoStart::FailedOpen { cookie, next }) => {
            Ok(logged_in(&state, &visitor, cookie, next.as_deref(), None).await)
        }
        Err(e) if e.kind == ErrorKind::Internal => Err(PageError::Internal),
        Err(e) if e.kind == ErrorKind::Forbidden => Ok(redirect("/login?notice=expired")),
        Err(e) => {
            let status = match e.kind {
                ErrorKind::Unavailable => StatusCode::BAD_GATEWAY,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            second_factor_page(
                &state,
                &visitor,
                status,
                false,
                Some(crate::lang::text(&e.message)),
            )
            .await
        }
    }
}

/// A 303 to where a completed login goes, with the new session cookie (and the
/// remembered-browser cookie when the browser was just remembered).
async fn logged_in(
    state: &AppState,
    visitor: &Visitor,
    cookie: String,
    next: Option<&str>,
    remembered: Option<&twofold_core::service::Remembered>,
) -> Response {
    let to = next
        .and_then(|n| state.service.next_target(n))
        .unwrap_or_else(|| "/account/security".into());
    page::signed_in_remembered(state, visitor, &to, &cookie, remembered).await
}

#[derive(Deserialize, Default)]
pub(crate) struct DuoCallbackQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    duo_code: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `GET /login/duo/callback?state=…&duo_code=…` (or `error=…` when Duo refused): completes the
/// login or the enrolment the state was made for, only from the browser that started it.
pub(crate) async fn duo_callback(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<DuoCallbackQuery>,
) -> Result<Response, PageError> {
    let ctx = visitor.ctx();
    let own = visitor.session.as_ref().map(|(s, _)| s);
    let outcome = state
        .service
        .duo_callback(
            &ctx,
            own,
            &q.state,
            q.duo_code.as_deref(),
            q.error.as_deref(),
            &duo_callback_url(&state),
        )
        .await;
    let lang = crate::lang::current();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) if e.kind == ErrorKind::Internal => return Err(PageError::Internal),
        Err(e) => {
            return Ok(page::message(
                StatusCode::UNPROCESSABLE_ENTITY,
                &lang.t("kind-duo"),
                &crate::lang::text(&e.message),
                Some(("/login", &lang.t("login-title"))),
            ));
        }
    };
    Ok(match outcome {
        DuoCallback::LoggedIn {
            cookie,
            next,
            remember,
        } => logged_in(&state, &visitor, cookie, next.as_deref(), remember.as_ref()).await,
        DuoCallback::Enrolled {
            username,
            backup_codes,
            in_portal,
        } => {
            let flow = match own.map(|s| s.stage) {
                Some(Stage::Enroll) => Flow::Forced,
                _ => Flow::Account,
            };
            if !in_portal {
                return Ok(enroll::duo_done(&username, backup_codes));
            }
            match backup_codes {
                Some(codes) => {
                    let page = Page {
                        title: lang.t("codes-fresh-title"),
                        nav: visitor.nav(&state),
                        ..Page::default()
                    };
                    let close = match (flow, own) {
                        (Flow::Forced, Some(s)) => {
                            Some(state.service.csrf_token(&Visitor::session_binding(s)))
                        }
                        _ => None,
                    };
                    page::set_no_store(enroll::codes_page(
                        page,
                        true,
                        codes.into_iter().map(|c| (c, false)).collect(),
                        close,
                    ))
                }
                None => match (flow, &visitor.session) {
                    (Flow::Forced, Some((s, u))) => {
                        match state.service.finish_enrollment(s, u).await {
                            Ok(cookie) => {
                                logged_in(&state, &visitor, cookie, s.next.as_deref(), None).await
                            }
                            Err(_) => redirect("/login?notice=expired"),
                        }
                    }
                    _ => redirect("/account/security?notice=device_added"),
                },
            }
        }
        DuoCallback::Refused {
            purpose,
            factor_id,
            reason,
        } => {
            // Back to where the visitor was, with the reason.
            if visitor.at_stage(Stage::SecondFactor).is_some() {
                return Ok(redirect(&format!("/login/2fa?duo={}", reason.as_str())));
            }
            let message = refusal_text(reason);
            if purpose == Some(DuoPurpose::Enroll)
                && let (Some(id), Some((s, u))) = (factor_id, &visitor.session)
                && matches!(s.stage, Stage::Full | Stage::Enroll)
            {
                let flow = if s.stage == Stage::Enroll {
                    Flow::Forced
                } else {
                    Flow::Account
                };
                return enroll::scan(
                    &state,
                    &visitor,
                    s,
                    u,
                    flow,
                    &id,
                    StatusCode::UNAUTHORIZED,
                    Some(message),
                    None,
                )
                .await;
            }
            match &visitor.session {
                Some((s, _)) if s.stage == Stage::Full => page::message(
                    StatusCode::UNAUTHORIZED,
                    &lang.t("kind-duo"),
                    &message,
                    Some(("/account/security", &lang.t("back-to-security"))),
                ),
                _ if purpose == Some(DuoPurpose::Enroll) => page::message(
                    StatusCode::UNAUTHORIZED,
                    &lang.t("kind-duo"),
                    &message,
                    None,
                ),
                _ => redirect("/login?notice=duo_failed"),
            }
        }
    })
}

/// Why Duo's answer was refused, in the request's language.
pub(crate) fn refusal_text(reason: DuoRefusal) -> String {
    let lang = crate::lang::current();
    match reason {
        DuoRefusal::NotConfirmed => lang.t("duo-refused-not-confirmed"),
        DuoRefusal::Used => lang.t("duo-refused-used"),
        DuoRefusal::Locked => lang.t("second-factor-locked"),
        DuoRefusal::DeviceNotConfirmed => lang.t("duo-refused-device-not-confirmed"),
        DuoRefusal::NotPending => lang.t("duo-refused-not-pending"),
    }
}

pub(crate) async fn enroll_duo(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm {
        visitor,
        admitted: (session, user),
        ..
    }: CsrfForm<AtEnroll>,
) -> Result<Response, PageError> {
    enroll::duo_go(&state, &visitor, &session, &user, Flow::Forced, &id).await
}
