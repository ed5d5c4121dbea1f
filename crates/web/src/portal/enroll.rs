//! Enrolment pages, shared by Security Settings and forced enrolment at login: choose a
//! service → scan the QR code → enter the code → record the backup codes.
//! The handlers in `account.rs` and `login.rs` call these once their `CsrfForm` has checked the
//! form's token.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use serde::Deserialize;
use twofold_core::ErrorKind;
use twofold_core::code::Code;
use twofold_core::factor::FactorData;
use twofold_core::service::{EnrollRequest, FactorRequest};
use twofold_core::session::Session;
use twofold_core::store::User;

use super::page::{self, Page, ServerTime, Visitor, encode_component, redirect, render};
use crate::AppState;
use crate::error::PageError;

/// Which enrolment: from Security Settings, or forced at login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Account,
    Forced,
}

impl Flow {
    fn base(self) -> &'static str {
        match self {
            Flow::Account => "/account/security/enroll",
            Flow::Forced => "/login/enroll",
        }
    }
}

#[derive(Template)]
#[template(path = "choose.html")]
struct ChoosePage {
    page: Page,
    csrf: String,
    action: String,
    forced: bool,
    kinds: Vec<(String, String, String)>,
    /// The YubiKey is added with its AES key and private id (local mode).
    yubikey_local: bool,
}

#[derive(Template)]
#[template(path = "touch_key.html")]
struct TouchKeyPage {
    page: Page,
    csrf: String,
    action: String,
    forced: bool,
    label: String,
}

#[derive(Template)]
#[template(path = "register_key.html")]
struct RegisterKeyPage {
    page: Page,
    csrf: String,
    action: String,
    forced: bool,
    label: String,
    /// The creation options (JSON) for the page's script.
    options: String,
}

#[derive(Template)]
#[template(path = "duo_continue.html")]
struct DuoContinuePage {
    page: Page,
    csrf: String,
    action: String,
    forced: bool,
    label: String,
}

#[derive(Template)]
#[template(path = "duo_done.html")]
struct DuoDonePage {
    page: Page,
    username: String,
    codes: Vec<String>,
}

/// The end of a Duo enrolment started through the API: the browser that went through Duo is
/// told it is done (and shown the backup codes if this was the user's first factor); nobody is
/// logged in.
pub(crate) fn duo_done(username: &str, codes: Option<Vec<String>>) -> Response {
    let page = Page {
        title: crate::lang::current().t("duo-done-title"),
        ..Page::default()
    };
    page::set_no_store(render(
        StatusCode::OK,
        &DuoDonePage {
            page,
            username: username.to_owned(),
            codes: codes.unwrap_or_default(),
        },
    ))
}

#[derive(Template)]
#[template(path = "scan.html")]
struct ScanPage {
    page: Page,
    csrf: String,
    action: String,
    forced: bool,
    qr_data_uri: String,
    secret: String,
    label: String,
}

#[derive(Template)]
#[template(path = "verify_code.html")]
struct VerifyCodePage {
    page: Page,
    csrf: String,
    action: String,
    forced: bool,
    destination: String,
}

#[derive(Template)]
#[template(path = "codes.html")]
pub(crate) struct CodesPage {
    pub(crate) page: Page,
    pub(crate) fresh: bool,
    pub(crate) codes: Vec<(String, bool)>,
    pub(crate) download_href: String,
    pub(crate) close_form: Option<String>,
}

/// The backup codes page.
pub(crate) fn codes_page(
    page: Page,
    fresh: bool,
    codes: Vec<(String, bool)>,
    close_form: Option<String>,
) -> Response {
    let text: String = codes
        .iter()
        .filter(|(_, used)| !used)
        .map(|(c, _)| format!("{c}\r\n"))
        .collect();
    let header = crate::lang::current().t("codes-file-header");
    let text = format!("{header}\r\n\r\n{text}");
    let download_href = format!("data:text/plain;charset=utf-8,{}", encode_component(&text));
    render(
        StatusCode::OK,
        &CodesPage {
            page,
            fresh,
            codes,
            download_href,
            close_form,
        },
    )
}

#[derive(Deserialize, Default)]
pub(crate) struct StartForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    aes_key: String,
    #[serde(default)]
    private_id: String,
}

#[derive(Deserialize, Default)]
pub(crate) struct ConfirmForm {
    #[serde(default)]
    code: String,
    /// A security key's registration, as the page's script posts it (JSON).
    #[serde(default)]
    credential: String,
}

pub(crate) async fn choose(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
    flow: Flow,
    error: Option<String>,
) -> Result<Response, PageError> {
    let choices = state.service.enroll_choices(user).await?;
    let kinds = choices
        .options
        .iter()
        .filter(|o| o.offered())
        .map(|o| {
            (
                o.kind.as_str().to_owned(),
                crate::lang::current().t(o.kind.title_id()),
                crate::lang::text(&o.help),
            )
        })
        .collect();
    let page = Page {
        title: crate::lang::current().t("enroll-choose-title"),
        nav: visitor.nav(state),
        error,
        ..Page::default()
    };
    let csrf = state.service.csrf_token(&Visitor::session_binding(session));
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        status,
        &ChoosePage {
            page,
            csrf,
            action: flow.base().to_owned(),
            forced: flow == Flow::Forced,
            kinds,
            yubikey_local: choices.yubikey_local,
        },
    ))
}

pub(crate) async fn start(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
    flow: Flow,
    form: StartForm,
) -> Result<Response, PageError> {
    // The form's default name (in any language) fits an app; other methods get their own
    // default.
    let label = Some(form.label.as_str())
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            form.kind == "totp"
                || !twofold_core::i18n::Lang::ALL
                    .iter()
                    .any(|lang| *l == lang.t("enroll-device-name-default"))
        });
    let yubikey = (form.kind == "yubikey"
        && !(form.aes_key.trim().is_empty() && form.private_id.trim().is_empty()))
    .then(|| twofold_core::service::YubikeySecret {
        aes_key: form.aes_key.clone(),
        private_id: form.private_id.clone(),
    });
    let req = EnrollRequest::named(&user.username, &form.kind, label, yubikey.as_ref());
    match state.service.enroll_with(&visitor.ctx(), req).await {
        Ok(e) => Ok(redirect(&format!("{}/{}", flow.base(), e.factor.id))),
        Err(e) if e.kind == ErrorKind::Internal => Err(PageError::Internal),
        Err(e) => {
            choose(
                state,
                visitor,
                session,
                user,
                flow,
                Some(crate::lang::text(&e.message)),
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn scan(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
    flow: Flow,
    id: &str,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let pending = state
        .service
        .pending_factor(&own_factor(user, id))
        .await
        .map_err(unknown_factor)?;
    let destination = match &pending.data {
        FactorData::Email { address } => Some(twofold_core::service::mask(address)),
        FactorData::Sms { phone } => Some(twofold_core::service::mask(phone)),
        _ => None,
    };
    if let FactorData::Yubikey(_) = &pending.data {
        let page = Page {
            title: crate::lang::current().t("enroll-touch-title"),
            nav: visitor.nav(state),
            error,
            notice,
            ..Page::default()
        };
        let csrf = state.service.csrf_token(&Visitor::session_binding(session));
        let action = format!("{}/{}", flow.base(), pending.id);
        return Ok(render(
            status,
            &TouchKeyPage {
                page,
                csrf,
                action,
                forced: flow == Flow::Forced,
                label: pending.label.clone(),
            },
        ));
    }
    if let FactorData::Webauthn(_) = &pending.data {
        let (factor, options) = state
            .service
            .pending_webauthn(&own_factor(user, id))
            .await
            .map_err(|e| match e.kind {
                // The relying party cannot be made (a misconfigured RP ID): a server fault.
                ErrorKind::Invalid => PageError::Internal,
                _ => unknown_factor(e),
            })?;
        let page = Page {
            title: crate::lang::current().t("enroll-key-title"),
            nav: visitor.nav(state),
            error,
            notice,
            ..Page::default()
        };
        let csrf = state.service.csrf_token(&Visitor::session_binding(session));
        let action = format!("{}/{}", flow.base(), factor.id);
        return Ok(render(
            status,
            &RegisterKeyPage {
                page,
                csrf,
                action,
                forced: flow == Flow::Forced,
                label: factor.label,
                options: options.to_string(),
            },
        ));
    }
    if let FactorData::Duo = &pending.data {
        let page = Page {
            title: crate::lang::current().t("enroll-duo-title"),
            nav: visitor.nav(state),
            error,
            notice,
            ..Page::default()
        };
        let csrf = state.service.csrf_token(&Visitor::session_binding(session));
        let action = format!("{}/{}/duo", flow.base(), pending.id);
        let resp = render(
            status,
            &DuoContinuePage {
                page,
                csrf,
                action,
                forced: flow == Flow::Forced,
                label: pending.label.clone(),
            },
        );
        return Ok(match state.service.duo_web_host().await {
            Ok(Some(host)) => page::with_form_action(state, resp, &host),
            _ => resp,
        });
    }
    if let Some(destination) = destination {
        let page = Page {
            title: crate::lang::current().t("enroll-verify-title"),
            nav: visitor.nav(state),
            error,
            notice,
            ..Page::default()
        };
        let csrf = state.service.csrf_token(&Visitor::session_binding(session));
        let action = format!("{}/{}", flow.base(), pending.id);
        return Ok(render(
            status,
            &VerifyCodePage {
                page,
                csrf,
                action,
                forced: flow == Flow::Forced,
                destination,
            },
        ));
    }
    let (factor, t) = state
        .service
        .pending_totp(&own_factor(user, id))
        .await
        .map_err(unknown_factor)?;
    let qr_data_uri = format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(t.qr_svg.as_bytes())
    );
    let page = Page {
        title: crate::lang::current().t("enroll-scan-title"),
        nav: visitor.nav(state),
        error,
        notice,
        server_time: Some(ServerTime::at(state.service.now())),
        ..Page::default()
    };
    let csrf = state.service.csrf_token(&Visitor::session_binding(session));
    let action = format!("{}/{}", flow.base(), factor.id);
    Ok(render(
        status,
        &ScanPage {
            page,
            csrf,
            action,
            forced: flow == Flow::Forced,
            qr_data_uri,
            secret: t.secret_base32,
            label: factor.label,
        },
    ))
}

/// The signed-in user's factor `id`, as the flows take it.
fn own_factor(user: &User, id: &str) -> FactorRequest {
    FactorRequest::named(&user.username, id)
}

/// A pending factor that cannot be shown: any refusal (unknown, not the user's, confirmed
/// already) is "Not found"; only a server failure is one.
fn unknown_factor(e: twofold_core::Error) -> PageError {
    match e.kind {
        ErrorKind::Internal => PageError::Internal,
        _ => PageError::NotFound,
    }
}

pub(crate) async fn confirm(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
    flow: Flow,
    id: &str,
    form: ConfirmForm,
) -> Result<Response, PageError> {
    let code: String = form.code.chars().filter(|c| !c.is_whitespace()).collect();
    let confirmed = if form.credential.is_empty() {
        state
            .service
            .confirm_with(
                &visitor.ctx(),
                &own_factor(user, id),
                Code::parse_given(Some(&code)),
            )
            .await
    } else {
        match page::credential_json(&form.credential) {
            Ok(credential) => {
                state
                    .service
                    .confirm_webauthn(
                        &visitor.ctx(),
                        &own_factor(user, id),
                        credential,
                        twofold_core::service::Channel::Portal,
                    )
                    .await
            }
            Err(e) => Err(e),
        }
    };
    Ok(match confirmed {
        Ok(c) => match c.backup_codes {
            Some(codes) => {
                let page = Page {
                    title: crate::lang::current().t("codes-fresh-title"),
                    nav: visitor.nav(state),
                    ..Page::default()
                };
                let close = (flow == Flow::Forced)
                    .then(|| state.service.csrf_token(&Visitor::session_binding(session)));
                page::set_no_store(codes_page(
                    page,
                    true,
                    codes.into_iter().map(|c| (c, false)).collect(),
                    close,
                ))
            }
            None if flow == Flow::Forced => {
                match state.service.finish_enrollment(session, user).await {
                    Ok(cookie) => {
                        page::signed_in(state, visitor, "/account/security", &cookie).await
                    }
                    Err(_) => redirect("/login?notice=expired"),
                }
            }
            None => redirect("/account/security?notice=device_added"),
        },
        Err(e) if e.kind == ErrorKind::Internal => return Err(PageError::Internal),
        Err(e) if e.kind == ErrorKind::NotFound => return Err(PageError::NotFound),
        Err(e) if e.kind == ErrorKind::Conflict && e.code == "already_confirmed" => {
            redirect(flow.base())
        }
        Err(e) => {
            return scan(
                state,
                visitor,
                session,
                user,
                flow,
                id,
                if e.kind == ErrorKind::Conflict {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                },
                Some(crate::lang::text(&e.message)),
                None,
            )
            .await;
        }
    })
}

/// "Send a new code" for a pending email or SMS factor.
pub(crate) async fn resend(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
    flow: Flow,
    id: &str,
) -> Result<Response, PageError> {
    match state
        .service
        .resend_enrollment_code(&visitor.ctx(), &own_factor(user, id))
        .await
    {
        Ok(sent) => {
            let msg = crate::lang::current().t1("enroll-resent", "destination", sent.to);
            scan(
                state,
                visitor,
                session,
                user,
                flow,
                id,
                StatusCode::OK,
                None,
                Some(msg),
            )
            .await
        }
        Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::NotFound) => Err(e.into()),
        Err(e) => {
            let status = match e.kind {
                ErrorKind::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
                ErrorKind::Unavailable => StatusCode::BAD_GATEWAY,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let resp = scan(
                state,
                visitor,
                session,
                user,
                flow,
                id,
                status,
                Some(crate::lang::text(&e.message)),
                None,
            )
            .await?;
            Ok(page::with_retry_after(resp, &e.kind))
        }
    }
}

/// "Continue to Duo": a 303 to the Universal Prompt for a pending Duo factor, whose callback
/// confirms it.
pub(crate) async fn duo_go(
    state: &AppState,
    visitor: &Visitor,
    session: &Session,
    user: &User,
    flow: Flow,
    id: &str,
) -> Result<Response, PageError> {
    let callback = super::page::duo_callback_url(state);
    match state
        .service
        .duo_enroll_start(
            &visitor.ctx(),
            &own_factor(user, id),
            Some(session),
            &callback,
        )
        .await
    {
        Ok(url) => Ok(redirect(&url)),
        Err(e) if matches!(e.kind, ErrorKind::Internal | ErrorKind::NotFound) => Err(e.into()),
        Err(e) if e.kind == ErrorKind::Conflict => Ok(redirect(flow.base())),
        Err(e) => {
            let status = match e.kind {
                ErrorKind::Unavailable => StatusCode::BAD_GATEWAY,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            scan(
                state,
                visitor,
                session,
                user,
                flow,
                id,
                status,
                Some(crate::lang::text(&e.message)),
                None,
            )
            .await
        }
    }
}
