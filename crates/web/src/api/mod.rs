//! The JSON API v1: routes, handlers and the OpenAPI document generated from them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use twofold_core::audit::AuditFilter;
use twofold_core::code::Code;
use twofold_core::i18n::Text;
use twofold_core::service::{
    Channel, FactorRequest, NewUserRequest, UserChanges, Validation, parse_sending_kind,
    parse_username,
};
use twofold_core::settings::SettingType;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, Body, NeedAdmin, NeedValidate, Params};
use crate::error::{ApiError, ErrorBody};

pub(crate) mod wire;

use wire::*;

#[derive(OpenApi)]
#[openapi(
    info(title = "Twofold API", description = "Two-factor authentication for your applications: enrol users, check codes. An error answers `{\"error\": {\"code\", \"message\"}}`: the `code` is stable and the same in every language; the `message` is in the language the request's `Accept-Language` prefers (en, de, fr, es, pt-BR), else in the server's `ui.language`."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The API routes (under `/api/v1`) and the OpenAPI document describing them.
pub(crate) fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(create_user))
        .routes(routes!(get_user, patch_user))
        .routes(routes!(unlock_user))
        .routes(routes!(get_sessions, end_sessions))
        .routes(routes!(enroll_factor, reset_factors))
        .routes(routes!(confirm_factor))
        .routes(routes!(delete_factor))
        .routes(routes!(reset_drift))
        .routes(routes!(resync_factor))
        .routes(routes!(new_backup_codes))
        .routes(routes!(challenge))
        .routes(routes!(validate))
        .routes(routes!(get_settings, patch_settings))
        .routes(routes!(audit))
        .split_for_parts()
}

type ApiResult<T> = Result<T, ApiError>;

/// Create a user.
#[utoipa::path(post, path = "/api/v1/users", request_body = CreateUser,
    responses((status = 201, body = UserOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Body(req): Body<CreateUser>,
) -> ApiResult<impl IntoResponse> {
    let new = NewUserRequest {
        username: &req.username,
        role: req.role.as_deref(),
        email: req.email.as_deref(),
        phone: req.phone.as_deref(),
        password: req.password.as_deref(),
    };
    let user = state.service.create_user(&auth.ctx, &new).await?;
    let view = state.service.user_view(&user.username).await?;
    Ok((StatusCode::CREATED, Json(UserOut::from(&view))))
}

/// A user with their factors and the number of unused backup codes.
#[utoipa::path(get, path = "/api/v1/users/{username}",
    responses((status = 200, body = UserOut), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    _auth: Authorized<NeedAdmin>,
    Path(username): Path<String>,
) -> ApiResult<Json<UserOut>> {
    Ok(Json(UserOut::from(
        &state.service.user_view(&parse_username(&username)?).await?,
    )))
}

/// Change a user's email, phone, role or disabled flag.
#[utoipa::path(patch, path = "/api/v1/users/{username}", request_body = PatchUser,
    responses((status = 200, body = UserOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn patch_user(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Path(username): Path<String>,
    Body(req): Body<PatchUser>,
) -> ApiResult<Json<UserOut>> {
    let changes = UserChanges {
        email: req.email.as_deref(),
        phone: req.phone.as_deref(),
        role: req.role.as_deref(),
        disabled: req.disabled,
    };
    let user = state
        .service
        .update_user(&auth.ctx, &parse_username(&username)?, &changes)
        .await?;
    Ok(Json(UserOut::from(
        &state.service.user_view(&user.username).await?,
    )))
}

/// Clear a second-factor lockout.
#[utoipa::path(post, path = "/api/v1/users/{username}/unlock",
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn unlock_user(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .service
        .unlock(&auth.ctx, &parse_username(&username)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user's live sessions and remembered browsers.
#[utoipa::path(get, path = "/api/v1/users/{username}/sessions",
    responses((status = 200, body = SessionsOut), (status = 404, body = ErrorBody)))]
async fn get_sessions(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Path(username): Path<String>,
) -> ApiResult<Json<SessionsOut>> {
    let all = state
        .service
        .user_sessions(&auth.ctx, &parse_username(&username)?)
        .await?;
    Ok(Json(SessionsOut {
        sessions: all.sessions.iter().map(SessionOut::from).collect(),
        remembered_browsers: all
            .browsers
            .iter()
            .map(RememberedBrowserOut::from)
            .collect(),
    }))
}

/// Sign the user out everywhere: every session ends and every remembered browser is
/// forgotten, so their next sign-in asks for the password and the second factor.
#[utoipa::path(delete, path = "/api/v1/users/{username}/sessions",
    responses((status = 200, body = SignedOutOut), (status = 404, body = ErrorBody)))]
async fn end_sessions(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Path(username): Path<String>,
) -> ApiResult<Json<SignedOutOut>> {
    let done = state
        .service
        .sign_out_everywhere(&auth.ctx, &parse_username(&username)?)
        .await?;
    Ok(Json(SignedOutOut {
        sessions_ended: done.sessions,
        browsers_forgotten: done.browsers,
    }))
}

/// Start enrolling a factor; it stays unconfirmed until a correct code confirms it.
#[utoipa::path(post, path = "/api/v1/users/{username}/factors", request_body = EnrollRequest,
    responses((status = 201, body = EnrollResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
async fn enroll_factor(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Path(username): Path<String>,
    Body(req): Body<EnrollRequest>,
) -> ApiResult<impl IntoResponse> {
    let yubikey = match (req.aes_key, req.private_id) {
        (None, None) => None,
        (aes_key, private_id) => Some(twofold_core::service::YubikeySecret {
            aes_key: aes_key.unwrap_or_default(),
            private_id: private_id.unwrap_or_default(),
        }),
    };
    let enroll = twofold_core::service::EnrollRequest::parse(
        &username,
        &req.kind,
        req.label.as_deref(),
        yubikey.as_ref(),
    )?
    .with_otp(twofold_core::service::OtpParams {
        algorithm: req.algorithm.as_deref(),
        digits: req.digits,
        period: req.period,
    });
    let name = enroll.username.clone();
    let e = state.service.enroll_with(&auth.ctx, enroll).await?;
    // Duo with the Web SDK application set: the Universal Prompt confirms the factor. If it
    // cannot be started, the new factor goes too: nothing is left half-made.
    let mut auth_url = None;
    if e.factor.kind() == twofold_core::factor::FactorKind::Duo
        && state.service.duo_web_host().await?.is_some()
    {
        let callback = format!("{}/login/duo/callback", state.public_url);
        let factor = FactorRequest::of(name, e.factor.id.clone());
        match state
            .service
            .duo_enroll_start(&auth.ctx, &factor, None, &callback)
            .await
        {
            Ok(url) => auth_url = Some(url),
            Err(err) => {
                let _ = state.service.remove_factor(&auth.ctx, &factor).await;
                return Err(err.into());
            }
        }
    }
    let (secret, otpauth_uri, qr_svg) = match e.totp {
        Some(t) => (Some(t.secret_base32), Some(t.otpauth_uri), Some(t.qr_svg)),
        None => (None, None, None),
    };
    let body = EnrollResponse {
        factor: FactorOut::from(&e.factor),
        secret,
        otpauth_uri,
        qr_svg,
        sent_to: e.sent.map(|s| s.to),
        auth_url,
        public_key: e.public_key,
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// Admin reset: remove every factor and backup code of the user.
#[utoipa::path(delete, path = "/api/v1/users/{username}/factors",
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn reset_factors(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .service
        .reset_2fa(&auth.ctx, &parse_username(&username)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Confirm a pending factor with a code from it. The first confirmed factor brings the backup
/// codes, shown only in this answer.
#[utoipa::path(post, path = "/api/v1/users/{username}/factors/{id}/confirm", request_body = ConfirmRequest,
    responses((status = 200, body = ConfirmResponse), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody), (status = 502, body = ErrorBody)))]
async fn confirm_factor(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Path((username, id)): Path<(String, String)>,
    Body(req): Body<ConfirmRequest>,
) -> ApiResult<Json<ConfirmResponse>> {
    let factor = FactorRequest::parse(&username, &id)?;
    let c = match (&req.credential, &req.code) {
        (Some(_), Some(_)) => {
            return Err(twofold_core::Error::invalid(
                "unexpected_field",
                Text::new("err-code-or-credential"),
            )
            .into());
        }
        (Some(credential), None) => {
            state
                .service
                .confirm_webauthn(
                    &auth.ctx,
                    &factor,
                    credential.get().as_bytes(),
                    Channel::Api,
                )
                .await?
        }
        (None, code) => {
            state
                .service
                .confirm_with(&auth.ctx, &factor, Code::parse_given(code.as_deref()))
                .await?
        }
    };
    Ok(Json(ConfirmResponse {
        factor: FactorOut::from(&c.factor),
        backup_codes: c.backup_codes,
    }))
}

/// Remove one factor.
#[utoipa::path(delete, path = "/api/v1/users/{username}/factors/{id}",
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_factor(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Path((username, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .service
        .remove_factor(&auth.ctx, &FactorRequest::parse(&username, &id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Forget the clock drift a TOTP factor has learned.
#[utoipa::path(post, path = "/api/v1/users/{username}/factors/{id}/reset-drift",
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn reset_drift(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Path((username, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .service
        .reset_drift(&auth.ctx, &FactorRequest::parse(&username, &id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Resynchronise a counter-based token (HOTP) pressed beyond the window: two codes it showed
/// one after the other. Counted like a second-factor attempt: a wrong pair is 422
/// `invalid_code` and a failure towards the user's lockout.
#[utoipa::path(post, path = "/api/v1/users/{username}/factors/{id}/resync", request_body = ResyncRequest,
    responses((status = 200, body = FactorOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn resync_factor(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Path((username, id)): Path<(String, String)>,
    Body(req): Body<ResyncRequest>,
) -> ApiResult<Json<FactorOut>> {
    let factor = state
        .service
        .resync_hotp(
            &auth.ctx,
            &FactorRequest::parse(&username, &id)?,
            Code::parse_given(req.code1.as_deref()),
            Code::parse_given(req.code2.as_deref()),
        )
        .await?;
    Ok(Json(FactorOut::from(&factor)))
}

/// Replace the user's backup codes with a new set; the old ones stop working.
#[utoipa::path(post, path = "/api/v1/users/{username}/backup-codes",
    responses((status = 201, body = BackupCodes), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn new_backup_codes(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Path(username): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let codes = state
        .service
        .regenerate_backup_codes(&auth.ctx, &parse_username(&username)?)
        .await?;
    Ok((StatusCode::CREATED, Json(BackupCodes { codes })))
}

/// Send a login code by email or SMS (202), or open a security-key sign-in (`webauthn`: 200
/// with the options for `navigator.credentials.get()`).
#[utoipa::path(post, path = "/api/v1/users/{username}/challenge", request_body = ChallengeRequest,
    responses((status = 202, body = CodeSentOut), (status = 200, body = PublicKeyOut), (status = 404, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
async fn challenge(
    State(state): State<AppState>,
    auth: Authorized<NeedValidate>,
    Path(username): Path<String>,
    Body(req): Body<ChallengeRequest>,
) -> ApiResult<axum::response::Response> {
    if req.kind == "webauthn" {
        let public_key = state
            .service
            .webauthn_request_options(&parse_username(&username)?, Channel::Api)
            .await?;
        return Ok(Json(PublicKeyOut { public_key }).into_response());
    }
    // The kind is judged before the user is looked up.
    let kind = parse_sending_kind(&req.kind)?;
    let sent = state
        .service
        .send_code(&auth.ctx, &parse_username(&username)?, kind)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(CodeSentOut { sent_to: sent.to })).into_response())
}

/// A validation with a security key or passkey: `"method": "webauthn"` and a `credential`.
async fn validate_webauthn(
    state: &AppState,
    ctx: &twofold_core::audit::Context,
    req: &ValidateRequest,
) -> twofold_core::Result<Validation> {
    let username = parse_username(&req.username)?;
    match (&req.credential, &req.code, req.method.as_deref()) {
        (Some(credential), None, Some("webauthn") | None) => {
            state
                .service
                .validate_webauthn(ctx, &username, credential.get().as_bytes(), Channel::Api)
                .await
        }
        (None, _, _) => Err(twofold_core::Error::invalid(
            "missing_credential",
            Text::new("err-webauthn-credential-missing"),
        )),
        _ => Err(twofold_core::Error::invalid(
            "unexpected_field",
            Text::new("err-webauthn-credential-with-code"),
        )),
    }
}

/// Check a second-factor code. A wrong, replayed or used code is `{"ok": false, "reason":
/// "invalid_code"}`.
#[utoipa::path(post, path = "/api/v1/validate", request_body = ValidateRequest,
    responses((status = 200, body = ValidateResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
              (status = 502, body = ErrorBody)))]
async fn validate(
    State(state): State<AppState>,
    auth: Authorized<NeedValidate>,
    Body(req): Body<ValidateRequest>,
) -> ApiResult<Json<ValidateResponse>> {
    let result = if req.method.as_deref() == Some("webauthn") || req.credential.is_some() {
        validate_webauthn(&state, &auth.ctx, &req).await
    } else {
        match twofold_core::service::ValidateRequest::parse(
            &req.username,
            req.code.as_deref(),
            req.method.as_deref(),
        ) {
            Ok(parsed) => state.service.validate(&auth.ctx, parsed).await,
            Err(e) => Err(e),
        }
    };
    let label = match &result {
        Ok(Validation::Accepted(_)) => "ok",
        Ok(Validation::Rejected(r)) => r.as_str(),
        Err(_) => "error",
    };
    metrics::counter!("twofold_validations_total", "result" => label).increment(1);
    Ok(Json(match result? {
        Validation::Accepted(m) => ValidateResponse {
            ok: true,
            method: Some(m.as_str().to_owned()),
            reason: None,
        },
        Validation::Rejected(r) => ValidateResponse {
            ok: false,
            method: None,
            reason: Some(r.as_str().to_owned()),
        },
    }))
}

/// Every setting as JSON, generated from the definitions: booleans and whole numbers typed,
/// the rest strings, secrets only as set (the mask) or not (`""`).
async fn settings_out(state: &AppState) -> ApiResult<SettingsOut> {
    let mut map = serde_json::Map::new();
    for (def, value) in state.service.settings_for_display().await? {
        let json = match def.ty {
            SettingType::Bool => serde_json::Value::Bool(value == "true"),
            SettingType::Int { .. } => value
                .parse::<i64>()
                .map_or(serde_json::Value::String(value), Into::into),
            _ => serde_json::Value::String(value),
        };
        map.insert(def.key.to_owned(), json);
    }
    Ok(SettingsOut { settings: map })
}

/// The owner's 2FA settings.
#[utoipa::path(get, path = "/api/v1/settings", responses((status = 200, body = SettingsOut)))]
async fn get_settings(
    State(state): State<AppState>,
    _auth: Authorized<NeedAdmin>,
) -> ApiResult<Json<SettingsOut>> {
    Ok(Json(settings_out(&state).await?))
}

/// Change settings: an object of key → value (booleans, integers, strings). All are checked
/// before any is written.
#[utoipa::path(patch, path = "/api/v1/settings", request_body = Object,
    responses((status = 200, body = SettingsOut), (status = 422, body = ErrorBody)))]
async fn patch_settings(
    State(state): State<AppState>,
    auth: Authorized<NeedAdmin>,
    Body(req): Body<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<SettingsOut>> {
    let mut changes = Vec::with_capacity(req.len());
    for (key, value) in req {
        let text = match value {
            serde_json::Value::Bool(b) => b.to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s,
            _ => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_setting",
                    Text::new("err-setting-value-type").arg("key", key),
                ));
            }
        };
        changes.push((key, text));
    }
    state.service.set_settings(&auth.ctx, &changes).await?;
    Ok(Json(settings_out(&state).await?))
}

/// The audit log, newest first.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditQuery), responses((status = 200, body = AuditList)))]
async fn audit(
    State(state): State<AppState>,
    _auth: Authorized<NeedAdmin>,
    Params(q): Params<AuditQuery>,
) -> ApiResult<Json<AuditList>> {
    let filter = AuditFilter {
        subject: q.username,
        event: q.event,
        before_id: q.before,
        limit: q.limit.unwrap_or(100),
    };
    let events = state
        .service
        .audit_log(&filter)
        .await?
        .into_iter()
        .map(|r| AuditOut {
            id: r.id,
            at: r.at,
            actor: r.actor,
            subject: r.subject,
            event: r.event,
            ip: r.ip,
            detail: r.detail,
        })
        .collect();
    Ok(Json(AuditList { events }))
}
