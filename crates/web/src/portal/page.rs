//! What every portal page shares: the layout's data, the visitor (session, cookies, IP), the
//! CSRF-checked form extractor and its gates, redirects, error pages, UTC time formatting and the
//! security headers.

use std::marker::PhantomData;

use askama::Template;
use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, OriginalUri, RawForm, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use twofold_core::audit::{Actor, Context};
use twofold_core::session::{Session, Stage};
use twofold_core::store::User;

use crate::AppState;
use crate::auth::client_ip;
use crate::error::PageError;

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "tf_session";
/// The anonymous visitor's cookie that login and setup forms' CSRF tokens are bound to.
pub(crate) const PRE_COOKIE: &str = "tf_pre";
/// The device cookie: set at every full sign-in, it marks a browser that has signed in as that
/// user before, whose password attempts are throttled by its own failures only.
pub(crate) const DEVICE_COOKIE: &str = "tf_device";
/// The remembered-browser cookie: set after a second factor given with "Remember this browser"
/// ticked, it spares that user's next sign-ins in this browser the second factor. Host-only,
/// never on the cookie domain (see [`with_remember_cookie`]).
pub(crate) const REMEMBER_COOKIE: &str = "tf_remember";

/// The query of the pages that show a notice: `?notice=` (a code, never text from the URL),
/// `next=`, `backup=`, `duo=`.
#[derive(Debug, serde::Deserialize, Default)]
pub(crate) struct NoticeQuery {
    #[serde(default)]
    pub(crate) notice: Option<String>,
    #[serde(default)]
    pub(crate) next: Option<String>,
    #[serde(default)]
    pub(crate) backup: Option<String>,
    /// Why a Duo callback was refused (a `DuoRefusal` word, never text from the URL).
    #[serde(default)]
    pub(crate) duo: Option<String>,
}

impl NoticeQuery {
    pub(crate) fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }
}

/// A POST form whose CSRF token is checked before the handler runs. In turn: the urlencoded
/// body is parsed into `T` (refused as [`Form`] refuses it); the gate `G` admits the visitor or
/// answers as the page itself does for anyone else (a redirect to log in, "No access"); the
/// form's `csrf` field must match the binding the gate names (the session, or the anonymous
/// `tf_pre` cookie), else 403 "Form refused". Every POST form of the portal comes through it.
pub(crate) struct CsrfForm<G: Gate, T = NoFields> {
    /// Who sent it.
    pub(crate) visitor: Visitor,
    /// What the gate admitted: the session and its user (nothing for an anonymous form).
    pub(crate) admitted: G::Admitted,
    /// The form's other fields.
    pub(crate) form: T,
    gate: PhantomData<G>,
}

/// A form with no field but its CSRF token.
#[derive(serde::Deserialize, Default)]
pub(crate) struct NoFields {}

/// The token every form carries.
#[derive(serde::Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

/// Who may send a form, checked before its token, and what its token is bound to.
pub(crate) trait Gate {
    /// What the handler gets once the visitor is admitted.
    type Admitted;

    /// The admitted part of the visitor and the binding the form's token must match (`None`:
    /// nothing to match, so the form is refused), or the answer for a visitor who may not send
    /// the form.
    // The error is the response itself, built once per request: boxing buys nothing.
    #[allow(clippy::result_large_err)]
    fn admit(visitor: &Visitor) -> Result<(Self::Admitted, Option<String>), Response>;
}

/// The session a session gate admits, and its binding.
fn admitted(session: &Session, user: &User) -> ((Session, User), Option<String>) {
    (
        (session.clone(), user.clone()),
        Some(Visitor::session_binding(session)),
    )
}

/// Anonymous forms (log in, first-run setup): the token is bound to the `tf_pre` cookie.
pub(crate) struct Anonymous;

impl Gate for Anonymous {
    type Admitted = ();
    fn admit(visitor: &Visitor) -> Result<((), Option<String>), Response> {
        Ok(((), visitor.pre_binding()))
    }
}

/// Any session, whatever its stage (log out); others go to the login page.
pub(crate) struct AnySession;

impl Gate for AnySession {
    type Admitted = (Session, User);
    fn admit(visitor: &Visitor) -> Result<(Self::Admitted, Option<String>), Response> {
        match &visitor.session {
            Some((s, u)) => Ok(admitted(s, u)),
            None => Err(redirect("/login")),
        }
    }
}

/// A session at the second-factor step; others are told their login expired.
pub(crate) struct AtSecondFactor;

impl Gate for AtSecondFactor {
    type Admitted = (Session, User);
    fn admit(visitor: &Visitor) -> Result<(Self::Admitted, Option<String>), Response> {
        match visitor.at_stage(Stage::SecondFactor) {
            Some((s, u)) => Ok(admitted(s, u)),
            None => Err(redirect("/login?notice=expired")),
        }
    }
}

/// A session at forced enrolment; others are told their login expired.
pub(crate) struct AtEnroll;

impl Gate for AtEnroll {
    type Admitted = (Session, User);
    fn admit(visitor: &Visitor) -> Result<(Self::Admitted, Option<String>), Response> {
        match visitor.at_stage(Stage::Enroll) {
            Some((s, u)) => Ok(admitted(s, u)),
            None => Err(redirect("/login?notice=expired")),
        }
    }
}

/// A logged-in session (Security Settings); others as [`Visitor::full`] sends them.
pub(crate) struct SignedIn;

impl Gate for SignedIn {
    type Admitted = (Session, User);
    fn admit(visitor: &Visitor) -> Result<(Self::Admitted, Option<String>), Response> {
        let (s, u) = visitor.full()?;
        Ok(admitted(s, u))
    }
}

/// A logged-in admin or owner (the admin area); others as [`Visitor::staff`] answers them.
pub(crate) struct Staff;

impl Gate for Staff {
    type Admitted = (Session, User);
    fn admit(visitor: &Visitor) -> Result<(Self::Admitted, Option<String>), Response> {
        let (s, u) = visitor.staff()?;
        Ok(admitted(s, u))
    }
}

/// A request carrying `body` as an urlencoded form, for [`Form`] to parse.
fn urlencoded(body: Bytes) -> Request {
    let mut req = Request::new(Body::from(body));
    *req.method_mut() = Method::POST;
    req.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    req
}

impl<G: Gate, T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<G, T>
where
    G::Admitted: Send,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = req.into_parts();
        let visitor = Visitor::from_request_parts(&mut parts, state).await?;
        let RawForm(body) = RawForm::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Form(form) = Form::<T>::from_request(urlencoded(body.clone()), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Form(token) = Form::<Token>::from_request(urlencoded(body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let (admitted, binding) = G::admit(&visitor)?;
        if !binding.is_some_and(|b| state.service.csrf_ok(&b, &token.csrf)) {
            return Err(PageError::CsrfRefused);
        }
        Ok(CsrfForm {
            visitor,
            admitted,
            form,
            gate: PhantomData,
        })
    }
}

/// `<public URL>/login/duo/callback`: where Duo sends the browser back.
pub(crate) fn duo_callback_url(state: &AppState) -> String {
    format!("{}/login/duo/callback", state.public_url)
}

/// The layout's data.
#[derive(Debug, Default)]
pub(crate) struct Page {
    pub(crate) title: String,
    pub(crate) nav: Option<Nav>,
    pub(crate) notice: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) server_time: Option<ServerTime>,
    pub(crate) wide: bool,
}

impl Page {
    /// The language the page is in.
    pub(crate) fn lang(&self) -> twofold_core::i18n::Lang {
        crate::lang::current()
    }

    /// Message `id` in the page's language.
    pub(crate) fn t(&self, id: &str) -> String {
        self.lang().t(id)
    }

    /// Message `id` with one argument.
    pub(crate) fn t1(
        &self,
        id: &str,
        name: &'static str,
        value: impl Into<twofold_core::i18n::Arg>,
    ) -> String {
        self.lang().t1(id, name, value)
    }

    /// Message `id` with two arguments.
    pub(crate) fn t2(
        &self,
        id: &str,
        name: &'static str,
        value: impl Into<twofold_core::i18n::Arg>,
        name2: &'static str,
        value2: impl Into<twofold_core::i18n::Arg>,
    ) -> String {
        self.lang().t2(id, name, value, name2, value2)
    }

    /// Every language, for the language menus.
    pub(crate) fn languages(&self) -> [twofold_core::i18n::Lang; 5] {
        twofold_core::i18n::Lang::ALL
    }
}

/// The header of a logged-in (or half-logged-in) visitor.
#[derive(Debug)]
pub(crate) struct Nav {
    pub(crate) username: String,
    pub(crate) staff: bool,
    pub(crate) full: bool,
    pub(crate) csrf: String,
}

/// A Unix time shown in UTC.
#[derive(Debug)]
pub(crate) struct ServerTime {
    pub(crate) iso: String,
    pub(crate) display: String,
}

impl ServerTime {
    pub(crate) fn at(unix: i64) -> Self {
        ServerTime {
            iso: utc_iso(unix),
            display: format!("{} UTC", utc_display(unix)),
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC.
pub(crate) fn utc_display(unix: i64) -> String {
    twofold_core::clock::utc_display(unix)
}

/// ISO 8601 in UTC with `Z`.
pub(crate) fn utc_iso(unix: i64) -> String {
    utc_display(unix).replacen(' ', "T", 1) + "Z"
}

/// A time for tables, or a dash.
pub(crate) fn when(unix: Option<i64>) -> String {
    unix.map_or_else(|| "—".to_owned(), |t| format!("{} UTC", utc_display(t)))
}

/// Renders a template with a status.
pub(crate) fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    page: Page,
    text: String,
    link: Option<(String, String)>,
}

/// A page with a heading and one sentence.
pub(crate) fn message(
    status: StatusCode,
    title: &str,
    text: &str,
    link: Option<(&str, &str)>,
) -> Response {
    let page = Page {
        title: title.to_owned(),
        ..Page::default()
    };
    let link = link.map(|(h, l)| (h.to_owned(), l.to_owned()));
    render(
        status,
        &MessagePage {
            page,
            text: text.to_owned(),
            link,
        },
    )
}

pub(crate) fn forbidden() -> Response {
    let lang = crate::lang::current();
    message(
        StatusCode::FORBIDDEN,
        &lang.t("no-access-title"),
        &lang.t("no-access"),
        Some(("/", &lang.t("go-to-start"))),
    )
}

pub(crate) fn not_found() -> Response {
    let lang = crate::lang::current();
    message(
        StatusCode::NOT_FOUND,
        &lang.t("not-found-title"),
        &lang.t("not-found"),
        Some(("/", &lang.t("go-to-start"))),
    )
}

pub(crate) fn csrf_refused() -> Response {
    let lang = crate::lang::current();
    message(
        StatusCode::FORBIDDEN,
        &lang.t("form-refused-title"),
        &lang.t("form-refused"),
        None,
    )
}

pub(crate) fn internal() -> Response {
    let lang = crate::lang::current();
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        &lang.t("internal-title"),
        &lang.t("internal"),
        None,
    )
}

/// 303 See Other to a local path.
pub(crate) fn redirect(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The notices a `?notice=` code may name, with their message ids.
pub(crate) const NOTICES: [(&str, &str); 21] = [
    ("owner_created", "notice-owner-created"),
    ("logged_out", "notice-logged-out"),
    ("expired", "notice-expired"),
    ("device_added", "notice-device-added"),
    ("device_removed", "notice-device-removed"),
    ("twofa_off", "notice-twofa-off"),
    ("reset_done", "notice-reset-done"),
    ("unlocked", "notice-unlocked"),
    ("disabled", "notice-disabled"),
    ("enabled", "notice-enabled"),
    ("settings_saved", "notice-settings-saved"),
    ("login_required", "notice-login-required"),
    ("duo_failed", "notice-duo-failed"),
    ("signed_out_everywhere", "notice-signed-out-everywhere"),
    ("session_ended", "notice-session-ended"),
    ("browser_forgotten", "notice-browser-forgotten"),
    ("password_changed", "notice-password-changed"),
    ("signed_out", "notice-signed-out"),
    ("last_device_removed", "notice-last-device-removed"),
    ("twofa_off_signed_out", "notice-twofa-off-signed-out"),
    ("language_saved", "notice-language-saved"),
];

/// The notice a `?notice=` code stands for (never text from the URL itself), in the page's
/// language.
pub(crate) fn notice_text(code: Option<&str>) -> Option<String> {
    let code = code?;
    let (_, id) = NOTICES.iter().find(|(c, _)| *c == code)?;
    Some(crate::lang::current().t(id))
}

pub(crate) use twofold_core::access::local_path;

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    cookies(headers, name).next()
}

/// Every value of cookie `name`, as the browser sent them, in order (unchecked).
pub(crate) fn cookie_values<'a>(
    headers: &'a HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(move |(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Every well-formed value of cookie `name`, in the order the browser sent them.
pub(crate) fn cookies<'a>(
    headers: &'a HeaderMap,
    name: &'a str,
) -> impl Iterator<Item = String> + 'a {
    cookie_values(headers, name)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_alphanumeric()))
        .map(str::to_owned)
}

/// The first well-formed `tf_remember` value (base64url: letters, digits, `-` and `_`).
pub(crate) fn remember_cookie(headers: &HeaderMap) -> Option<String> {
    cookie_values(headers, REMEMBER_COOKIE)
        .find(|v| {
            !v.is_empty()
                && v.len() <= 128
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Secure behind https.
pub(crate) fn set_cookie(name: &str, value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

/// Sets (`Some`) or removes (`None`) the session cookie: scoped to the cookie domain when one
/// is configured, so applications under it send it to the reverse proxy. With a cookie domain,
/// a host-only `tf_session` left from before it was configured is removed too: browsers send
/// it first, and it would hide the domain's cookie from the portal (and never reach the
/// applications).
pub(crate) fn with_session_cookie(
    state: &AppState,
    resp: Response,
    value: Option<&str>,
) -> Response {
    let secure = state.secure_cookies;
    let cookie = match value {
        Some(v) => set_cookie(SESSION_COOKIE, v, secure),
        None => clear_cookie(SESSION_COOKIE, secure),
    };
    match &state.cookie_domain {
        Some(d) => with_cookie(
            with_cookie(resp, &clear_cookie(SESSION_COOKIE, secure)),
            &format!("{cookie}; Domain={d}"),
        ),
        None => with_cookie(resp, &cookie),
    }
}

/// A long-lived `Set-Cookie` value (the device cookie): HttpOnly, SameSite=Lax, Secure behind
/// https, kept for `days`.
pub(crate) fn set_lasting_cookie(name: &str, value: &str, secure: bool, days: i64) -> String {
    let secure = if secure { "; Secure" } else { "" };
    let max_age = days.saturating_mul(86_400);
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// Sets (`Some`) or removes (`None`) the remembered-browser cookie. It is host-only (no
/// `Domain`), unlike the session cookie: only the portal reads it, and on the cookie domain
/// every application behind forward authentication would receive a long-lived stand-in for
/// the second factor in its requests (and logs). With a cookie domain, a domain-scoped
/// `tf_remember` left from before is removed first.
pub(crate) fn with_remember_cookie(
    state: &AppState,
    resp: Response,
    remembered: Option<&twofold_core::service::Remembered>,
) -> Response {
    let secure = state.secure_cookies;
    let resp = match &state.cookie_domain {
        Some(d) => with_cookie(
            resp,
            &format!("{}; Domain={d}", clear_cookie(REMEMBER_COOKIE, secure)),
        ),
        None => resp,
    };
    let cookie = match remembered {
        Some(r) => {
            let secure = if secure { "; Secure" } else { "" };
            format!(
                "{REMEMBER_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                r.cookie, r.max_age
            )
        }
        None => clear_cookie(REMEMBER_COOKIE, secure),
    };
    with_cookie(resp, &cookie)
}

/// A completed sign-in's answer ([`signed_in`]) with the `tf_remember` cookie when the browser
/// was just remembered.
pub(crate) async fn signed_in_remembered(
    state: &AppState,
    visitor: &Visitor,
    to: &str,
    session_cookie: &str,
    remembered: Option<&twofold_core::service::Remembered>,
) -> Response {
    let resp = signed_in(state, visitor, to, session_cookie).await;
    match remembered {
        Some(r) => with_remember_cookie(state, resp, Some(r)),
        None => resp,
    }
}

/// A 303 to `to` for a browser whose sign-in just completed: the new session cookie, and a new
/// device cookie bound to the user.
pub(crate) async fn signed_in(
    state: &AppState,
    visitor: &Visitor,
    to: &str,
    session_cookie: &str,
) -> Response {
    let resp = with_session_cookie(state, redirect(to), Some(session_cookie));
    match state
        .service
        .issue_device(session_cookie, visitor.device.as_deref())
        .await
    {
        Ok(Some(device)) => with_cookie(
            resp,
            &set_lasting_cookie(
                DEVICE_COOKIE,
                &device,
                state.secure_cookies,
                twofold_core::service::DEVICE_DAYS,
            ),
        ),
        Ok(None) => resp,
        Err(e) => {
            // The sign-in stands; the browser only misses the device cookie this time.
            tracing::warn!(error = %e, "could not issue a device cookie");
            resp
        }
    }
}

/// A `Set-Cookie` value that removes the cookie.
pub(crate) fn clear_cookie(name: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

/// Pages that show secrets are never stored (the security headers add this to every page too;
/// this keeps it explicit where it matters).
pub(crate) fn set_no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A page answering a throttled request: the page says how long to wait, `Retry-After` says it
/// to machines (as the API does). Other errors pass unchanged.
pub(crate) fn with_retry_after(
    mut resp: Response,
    kind: &twofold_core::error::ErrorKind,
) -> Response {
    if let twofold_core::error::ErrorKind::Throttled { retry_after } = kind
        && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Adds a `Set-Cookie` header to a response.
pub(crate) fn with_cookie(mut resp: Response, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// Who is asking: their session (if any), their cookies and their address.
#[derive(Debug)]
pub(crate) struct Visitor {
    pub(crate) session: Option<(Session, User)>,
    /// The cookie value of that session.
    pub(crate) session_cookie: Option<String>,
    pub(crate) pre: Option<String>,
    /// The device cookie, if the browser holds one.
    pub(crate) device: Option<String>,
    /// The remembered-browser cookie, if the browser holds one.
    pub(crate) remember: Option<String>,
    /// The browser's `User-Agent` (only a summary of it is ever stored).
    pub(crate) user_agent: Option<String>,
    pub(crate) ip: Option<String>,
    pub(crate) path: String,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ip = client_ip(parts, &state.trusted_proxies).map(|ip| ip.to_string());
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |u| u.0.clone())
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        // A browser may hold two: a host-only one from before a cookie domain was configured,
        // and the domain's. The first live one counts.
        let mut session = None;
        let mut session_cookie = None;
        for c in cookies(&parts.headers, SESSION_COOKIE).take(2) {
            if let Some(found) = state.service.session(&c).await.map_err(|_| internal())? {
                session = Some(found);
                session_cookie = Some(c);
                break;
            }
        }
        // The user's own language, when they chose one, outranks the browser's.
        if let Some(lang) = session
            .as_ref()
            .and_then(|(_, u): &(Session, User)| u.language())
        {
            crate::lang::set(lang);
        }
        Ok(Visitor {
            session,
            session_cookie,
            pre: cookie(&parts.headers, PRE_COOKIE),
            device: cookie(&parts.headers, DEVICE_COOKIE),
            remember: remember_cookie(&parts.headers),
            user_agent: parts
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(512).collect()),
            ip,
            path,
        })
    }
}

impl Visitor {
    /// The audit context: the user if there is one.
    pub(crate) fn ctx(&self) -> Context {
        let actor = match &self.session {
            Some((_, u)) => Actor::User {
                name: u.username.to_string(),
                role: u.role,
            },
            None => Actor::System,
        };
        Context {
            actor,
            ip: self.ip.clone(),
        }
    }

    /// The logged-in session, or where to send the visitor instead.
    // The error is the response itself (a redirect), built once per request: boxing buys nothing.
    #[allow(clippy::result_large_err)]
    pub(crate) fn full(&self) -> Result<(&Session, &User), Response> {
        match &self.session {
            Some((s, u)) if s.stage == Stage::Full => Ok((s, u)),
            Some((s, _)) if s.stage == Stage::SecondFactor => Err(redirect("/login/2fa")),
            Some((s, _)) if s.stage == Stage::Enroll => Err(redirect("/login/enroll")),
            // A one-factor sign-in (for an application) or none: the login page takes it on.
            _ => {
                let next = local_path(&self.path)
                    .map(|p| format!("/login?next={}", encode_component(&p)))
                    .unwrap_or_else(|| "/login".to_owned());
                Err(redirect(&next))
            }
        }
    }

    /// A logged-in admin or owner.
    #[allow(clippy::result_large_err)]
    pub(crate) fn staff(&self) -> Result<(&Session, &User), Response> {
        let (s, u) = self.full()?;
        if self.ctx().may_view_admin() {
            Ok((s, u))
        } else {
            Err(forbidden())
        }
    }

    /// The session at a given stage.
    pub(crate) fn at_stage(&self, stage: Stage) -> Option<(&Session, &User)> {
        self.session
            .as_ref()
            .filter(|(s, _)| s.stage == stage)
            .map(|(s, u)| (s, u))
    }

    /// The CSRF binding of the session.
    pub(crate) fn session_binding(session: &Session) -> String {
        format!("s:{}", session.id_hash)
    }

    /// The layout's header for this visitor.
    pub(crate) fn nav(&self, state: &AppState) -> Option<Nav> {
        self.session.as_ref().map(|(s, u)| Nav {
            username: u.username.to_string(),
            staff: self.ctx().may_view_admin(),
            full: s.stage == Stage::Full,
            csrf: state.service.csrf_token(&Self::session_binding(s)),
        })
    }

    /// The anonymous CSRF token, and the cookie to set when the visitor has none yet.
    pub(crate) fn pre_csrf(&self, state: &AppState) -> (String, Option<String>) {
        match &self.pre {
            Some(p) => (state.service.csrf_token(&format!("p:{p}")), None),
            None => {
                let value = state.service.random_id();
                (state.service.csrf_token(&format!("p:{value}")), Some(value))
            }
        }
    }

    /// The CSRF binding of the anonymous visitor's forms, if the browser has its cookie.
    pub(crate) fn pre_binding(&self) -> Option<String> {
        self.pre.as_ref().map(|p| format!("p:{p}"))
    }
}

/// Percent-encodes a query component (a path's `/` kept readable).
/// A credential a page's script posted (the JSON of `PublicKeyCredential.toJSON()`): bounded,
/// else the refusal to show; the verifier reads it.
pub(crate) fn credential_json(text: &str) -> twofold_core::Result<&[u8]> {
    if text.len() > twofold_core::service::MAX_CREDENTIAL_JSON {
        return Err(twofold_core::Error::invalid(
            "malformed_credential",
            twofold_core::i18n::Text::new("webauthn-answer-too-large"),
        ));
    }
    Ok(text.as_bytes())
}

pub(crate) fn encode_component(s: &str) -> String {
    twofold_otp::text::percent_encode(s, b"/")
}

/// The content security policy of every page.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The pages' Content-Security-Policy. With a cookie domain, `form-action` also allows the
/// hosts under it (any port, the public URL's scheme): a sign-in form's answer redirects back to
/// the application the visitor came from, and browsers check form-action along redirects.
pub(crate) fn content_security_policy(public_url: &str, cookie_domain: Option<&str>) -> String {
    let scheme = if public_url.starts_with("https://") {
        "https"
    } else {
        "http"
    };
    match cookie_domain {
        Some(d)
            if d.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-') =>
        {
            CSP.replace(
                "form-action 'self'",
                &format!("form-action 'self' {scheme}://{d}:* {scheme}://*.{d}:*"),
            )
        }
        _ => CSP.to_owned(),
    }
}

/// The page's policy, with `https://{host}` added to `form-action`: a form whose answer
/// redirects to Duo's Universal Prompt (browsers check form-action along the redirects).
/// `host` is the API hostname setting, checked for shape (a host name with an optional port)
/// when saved; anything else leaves the policy as it is.
pub(crate) fn with_form_action(state: &AppState, mut resp: Response, host: &str) -> Response {
    let shaped = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
    if shaped {
        let policy = state.csp().replacen(
            "form-action 'self'",
            &format!("form-action 'self' https://{}", host.to_ascii_lowercase()),
            1,
        );
        if let Ok(v) = HeaderValue::from_str(&policy) {
            resp.headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    resp
}

/// Adds the security headers to every response; pages are never cached.
pub(crate) async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let is_asset = req.uri().path().starts_with("/assets/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    // A page whose form leads on to Duo set its own policy (see `with_form_action`).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, state.csp_header());
    }
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-content-type-options", "nosniff");
    if !is_asset {
        set(h, "cache-control", "no-store");
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every notice code names a message every catalogue has; an unknown code shows nothing.
    #[test]
    fn every_notice_is_in_the_catalogue() {
        for (code, id) in NOTICES {
            assert!(
                twofold_core::i18n::Lang::En.has(id),
                "{code}: {id} is not in the catalogue"
            );
            assert!(notice_text(Some(code)).is_some());
        }
        assert_eq!(notice_text(Some("<script>")), None);
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(utc_display(0), "1970-01-01 00:00:00");
        assert_eq!(utc_display(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(utc_iso(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc_display(4_102_444_800), "2100-01-01 00:00:00");
    }

    #[test]
    fn next_is_local_only() {
        assert_eq!(
            local_path("/admin/users?q=a").as_deref(),
            Some("/admin/users?q=a")
        );
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "/a b",
            "/login/2fa",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(local_path(bad), None, "{bad}");
        }
    }
}
