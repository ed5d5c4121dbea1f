//! Duo Security: the Universal Prompt (a redirect to Duo and back, for portal logins and
//! enrolments), pushes and passcodes through the Auth API (for `/validate`, the confirm call and
//! `twofold user test-duo`), the fail mode, and the admin's connection test.
//!
//! A redirect in flight is a [`DuoState`]: 32 random bytes as hex sent to Duo as `state` (only
//! its hash is stored), bound to the session the callback must come from and, for an enrolment,
//! to the pending factor; the `nonce` the `id_token` must carry travels beside it. The callback
//! uses the state with one conditional UPDATE, so it works once, also across nodes.

use std::time::Duration;

use super::Service;
use crate::audit::{AuditEvent, Context};
use crate::crypto;
use crate::duo::{AuthOutcome, DuoAuthConfig, DuoError, DuoWebConfig, Preauth};
use crate::error::{Error, Result};
use crate::factor::{Factor, FactorKind};
use crate::session::{Session, Stage};
use crate::settings::Settings;
use crate::store::{DuoPurpose, DuoState, User};

/// How long a redirect to Duo may take before its state stops working, in seconds.
pub const DUO_STATE_TTL: i64 = 5 * 60;
/// How long a push waits for the user.
pub const DUO_PUSH_TIMEOUT: Duration = Duration::from_secs(60);
/// What a user is told when Duo cannot be reached and the fail mode is closed.
pub const DUO_UNREACHABLE: &str = "Duo is unreachable; try another method or a backup code.";
/// The longest `state` a callback may carry (ours are 64 hex characters).
const MAX_STATE: usize = 128;
/// The longest `duo_code` a callback may carry.
const MAX_CODE: usize = 1024;

/// The start of a login with the Universal Prompt.
#[derive(Debug, Clone)]
pub enum DuoStart {
    /// Send the browser to Duo.
    Redirect(String),
    /// Duo could not be reached and `methods.duo.failmode` is `open`: the login is complete on
    /// the password alone (audited). The new session cookie and where to go.
    FailedOpen {
        /// The new (rotated) cookie value.
        cookie: String,
        /// The `next` path saved at the password step.
        next: Option<String>,
    },
}

/// What a callback from Duo did.
#[derive(Clone)]
pub enum DuoCallback {
    /// The login is complete: the new session cookie and where to go.
    LoggedIn {
        /// The new (rotated) cookie value.
        cookie: String,
        /// The `next` path saved at the password step.
        next: Option<String>,
    },
    /// A Duo factor was confirmed.
    Enrolled {
        /// Whose.
        username: String,
        /// The backup codes, when this was the user's first factor (shown only now).
        backup_codes: Option<Vec<String>>,
        /// The enrolment was started in the portal (the callback came from its session); false
        /// for one started through the API.
        in_portal: bool,
    },
    /// Refused: a sentence for the user (the reason for operators is in the audit log).
    Refused {
        /// What the state was for, when it was known.
        purpose: Option<DuoPurpose>,
        /// The pending factor of a refused enrolment.
        factor_id: Option<String>,
        /// Why, in words for the user.
        reason: DuoRefusal,
    },
}

/// Why a callback was refused, as the user is told it (the reason for operators is in the
/// audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuoRefusal {
    /// Duo did not confirm the login (denied, an answer that failed the checks, another
    /// session's state…).
    NotConfirmed,
    /// The state was already used or has expired.
    Used,
    /// The second factor is locked.
    Locked,
    /// Duo did not confirm a device being set up.
    DeviceNotConfirmed,
    /// The factor being set up is gone or already confirmed.
    NotPending,
}

impl DuoRefusal {
    /// A stable word (for URLs).
    pub fn as_str(self) -> &'static str {
        match self {
            DuoRefusal::NotConfirmed => "not_confirmed",
            DuoRefusal::Used => "used",
            DuoRefusal::Locked => "locked",
            DuoRefusal::DeviceNotConfirmed => "device_not_confirmed",
            DuoRefusal::NotPending => "not_pending",
        }
    }

    /// Reads a word of [`DuoRefusal::as_str`].
    pub fn parse(word: &str) -> Option<Self> {
        [
            DuoRefusal::NotConfirmed,
            DuoRefusal::Used,
            DuoRefusal::Locked,
            DuoRefusal::DeviceNotConfirmed,
            DuoRefusal::NotPending,
        ]
        .into_iter()
        .find(|r| r.as_str() == word)
    }

    /// The sentence for the user.
    pub fn message(self) -> &'static str {
        match self {
            DuoRefusal::NotConfirmed => "Duo did not confirm this login. Please try again.",
            DuoRefusal::Used => {
                "This Duo answer was already used or has expired. Please try again."
            }
            DuoRefusal::Locked => {
                "Too many failed attempts: your second factor is locked for a while. Try again \
                 later or ask an administrator to unlock it."
            }
            DuoRefusal::DeviceNotConfirmed => "Duo did not confirm this device. Please try again.",
            DuoRefusal::NotPending => "This Duo device is no longer waiting to be set up.",
        }
    }
}

impl std::fmt::Debug for DuoCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DuoCallback::LoggedIn { .. } => f.write_str("LoggedIn"),
            DuoCallback::Enrolled { username, .. } => f
                .debug_struct("Enrolled")
                .field("username", username)
                .finish(),
            DuoCallback::Refused {
                purpose, reason, ..
            } => f
                .debug_struct("Refused")
                .field("purpose", purpose)
                .field("reason", reason)
                .finish(),
        }
    }
}

/// The outcome of one half of the admin's connection test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DuoCheck {
    /// The keys for it are not all set.
    NotSet,
    /// Duo answered and took the keys.
    Ok,
    /// A sentence saying what failed.
    Failed(String),
}

/// The admin's connection test: the Web SDK application's health check and the Auth API
/// application's `/auth/v2/check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuoTest {
    /// The Universal Prompt (client ID and secret).
    pub web: DuoCheck,
    /// The Auth API (integration and secret keys).
    pub auth: DuoCheck,
}

/// The Web SDK application, when its three settings are set.
pub(super) fn web_config(settings: &Settings) -> Option<DuoWebConfig> {
    let config = DuoWebConfig {
        api_host: settings.get("methods.duo.api_host").to_owned(),
        client_id: settings.get("methods.duo.client_id").to_owned(),
        client_secret: settings.get("methods.duo.client_secret").to_owned(),
    };
    (!config.api_host.is_empty()
        && !config.client_id.is_empty()
        && !config.client_secret.is_empty())
    .then_some(config)
}

/// The Auth API application, when its three settings are set.
pub(super) fn auth_config(settings: &Settings) -> Option<DuoAuthConfig> {
    let config = DuoAuthConfig {
        api_host: settings.get("methods.duo.api_host").to_owned(),
        ikey: settings.get("methods.duo.ikey").to_owned(),
        skey: settings.get("methods.duo.skey").to_owned(),
    };
    (!config.api_host.is_empty() && !config.ikey.is_empty() && !config.skey.is_empty())
        .then_some(config)
}

fn fail_open(settings: &Settings) -> bool {
    settings.get("methods.duo.failmode") == "open"
}

/// Counts a time Duo could not be reached, by fail mode.
fn count_unreachable(settings: &Settings) {
    let mode = if fail_open(settings) {
        "open"
    } else {
        "closed"
    };
    metrics::counter!("twofold_duo_unreachable_total", "failmode" => mode).increment(1);
}

/// The user's name at Duo: `methods.duo.username_format` with `{username}` and `{email}`
/// filled in.
pub(super) fn duo_username(settings: &Settings, user: &User) -> Result<String> {
    let format = match settings.get("methods.duo.username_format") {
        "" => "{username}",
        f => f,
    };
    let mut name = format.replace("{username}", &user.username);
    if name.contains("{email}") {
        let email = user.email.as_deref().ok_or_else(|| {
            Error::invalid(
                "missing_email",
                "Duo knows this account by its email address: add one to the account first.",
            )
        })?;
        name = name.replace("{email}", email);
    }
    Ok(name)
}

/// A word for the audit log from a Duo error (no secrets: Duo errors never hold any).
fn audit_reason(e: &DuoError) -> &'static str {
    match e {
        DuoError::Unreachable(_) => "duo_unreachable",
        DuoError::Refused(_) => "duo_refused",
        DuoError::Invalid(_) => "duo_invalid_answer",
    }
}

/// Makes a sentence safe for a one-line audit detail.
fn audit_text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .replace('"', "'")
}

/// What a push or passcode through the Auth API came to.
pub(super) enum DuoTry {
    /// Duo allowed it.
    Allowed,
    /// Duo said no: `denied` or `timeout`, for the audit log.
    Denied(&'static str),
    /// Duo could not be reached and the fail mode is open.
    FailedOpen,
    /// Duo could not be used: the error to answer (the attempt is not counted).
    Unavailable(Error),
}

impl Service {
    /// The user's confirmed Duo factor, if Duo is usable for them.
    pub(super) fn usable_duo_factor<'a>(
        settings: &Settings,
        user: &User,
        factors: &'a [Factor],
    ) -> Option<&'a Factor> {
        if !settings.twofactor_enabled() || !settings.method_available(FactorKind::Duo, user.role) {
            return None;
        }
        factors
            .iter()
            .find(|f| f.confirmed && f.kind() == FactorKind::Duo)
    }

    /// What the second-factor page offers a user with a confirmed Duo factor (enabled for their
    /// role): "Log in with Duo" when the Web SDK application is set (its API hostname, for the
    /// page's form-action), and Duo passcodes in the code box when the Auth API is set. `None`
    /// for a user without usable Duo.
    pub async fn duo_offer(&self, user: &User) -> Result<Option<(Option<String>, bool)>> {
        let settings = self.settings().await?;
        let factors = self.store.factors_of(user.id).await?;
        if Self::usable_duo_factor(&settings, user, &factors).is_none() {
            return Ok(None);
        }
        Ok(Some((
            web_config(&settings).map(|c| c.api_host),
            auth_config(&settings).is_some(),
        )))
    }

    /// Whether a Duo factor can be enrolled in the portal (the Web SDK application is set); its
    /// API hostname, for the page's form-action.
    pub async fn duo_web_host(&self) -> Result<Option<String>> {
        Ok(web_config(&*self.settings().await?).map(|c| c.api_host))
    }

    /// A new state and nonce for a redirect to Duo, stored bound to `session_hash` (and the
    /// factor of an enrolment). Returns (state, nonce).
    async fn new_duo_state(
        &self,
        user: &User,
        purpose: DuoPurpose,
        session_hash: Option<&str>,
        factor: Option<&Factor>,
    ) -> Result<(String, String)> {
        let now = self.now();
        let state = crypto::random_token(self.rng.as_ref(), "", 32);
        let nonce = crypto::random_token(self.rng.as_ref(), "", 32);
        // Old states go as new ones come: one indexed DELETE.
        self.store.purge_duo_states(now).await?;
        self.store
            .insert_duo_state(&DuoState {
                state_hash: crypto::token_hash(&state),
                user_id: user.id,
                factor_id: factor.map(|f| f.id.clone()),
                session_hash: session_hash.map(str::to_owned),
                nonce: nonce.clone(),
                purpose,
                created_at: now,
                expires_at: now + DUO_STATE_TTL,
                used_at: None,
            })
            .await?;
        Ok((state, nonce))
    }

    /// "Log in with Duo" on the second-factor page: the health check, then the redirect to the
    /// Universal Prompt (or the fail mode when Duo cannot be reached). `redirect_uri` is
    /// `<public URL>/login/duo/callback`.
    pub async fn duo_login_start(
        &self,
        ctx: &Context,
        session: &Session,
        user: &User,
        redirect_uri: &str,
    ) -> Result<DuoStart> {
        if session.stage != Stage::SecondFactor {
            return Err(Error::forbidden(
                "wrong_stage",
                "This login is not waiting for a second factor.",
            ));
        }
        let settings = self.settings().await?;
        let factors = self.store.factors_of(user.id).await?;
        let (Some(_), Some(config)) = (
            Self::usable_duo_factor(&settings, user, &factors),
            web_config(&settings),
        ) else {
            return Err(Error::invalid(
                "method_not_available",
                "Duo is not available for this account.",
            ));
        };
        if user.is_locked(self.now()) {
            return Err(Error::invalid(
                "locked",
                "Too many failed attempts: your second factor is locked for a while. Try again \
                 later or ask an administrator to unlock it.",
            ));
        }
        let username = duo_username(&settings, user)?;
        match self.duo.health_check(&config).await {
            Ok(()) => {}
            Err(e) if e.is_unreachable() => {
                count_unreachable(&settings);
                if fail_open(&settings) {
                    self.audit(
                        ctx,
                        Some(&user.username),
                        AuditEvent::SecondFactorSuccess,
                        "method=duo reason=duo_failmode_open".into(),
                    )
                    .await;
                    tracing::warn!(
                        "Duo is unreachable and the fail mode is open: a login completes on the \
                         password alone"
                    );
                    let cookie = self.promote(session, false).await?.ok_or_else(|| {
                        Error::forbidden("wrong_stage", "This login was already completed.")
                    })?;
                    return Ok(DuoStart::FailedOpen {
                        cookie,
                        next: session.next.clone(),
                    });
                }
                self.audit(
                    ctx,
                    Some(&user.username),
                    AuditEvent::SecondFactorFailure,
                    "kind=duo reason=duo_unreachable failmode=closed".into(),
                )
                .await;
                tracing::warn!(
                    "Duo is unreachable and the fail mode is closed: a login is refused"
                );
                return Err(Error::unavailable("duo_unreachable", DUO_UNREACHABLE));
            }
            Err(e) => {
                self.audit(
                    ctx,
                    Some(&user.username),
                    AuditEvent::SecondFactorFailure,
                    format!(
                        "kind=duo reason={} detail=\"{}\"",
                        audit_reason(&e),
                        audit_text(e.message())
                    ),
                )
                .await;
                return Err(Error::unavailable(
                    "duo_failed",
                    "Duo cannot be used right now; try another method or a backup code.",
                ));
            }
        }
        let (state, nonce) = self
            .new_duo_state(user, DuoPurpose::Login, Some(&session.id_hash), None)
            .await?;
        let url = self
            .duo
            .authorize_url(&config, &username, &state, &nonce, redirect_uri)
            .map_err(|e| {
                tracing::error!(error = %e, "the Duo authorize URL could not be made");
                Error::unavailable(
                    "duo_failed",
                    "Duo cannot be used right now; try another method or a backup code.",
                )
            })?;
        Ok(DuoStart::Redirect(url))
    }

    /// Starts confirming a pending Duo factor through the Universal Prompt: the health check,
    /// a state bound to `session` (the portal) or to nothing (the API), and the URL of the
    /// prompt. Duo being unreachable is an error here: there is no fail mode for enrolment.
    pub async fn duo_enroll_start(
        &self,
        ctx: &Context,
        username: &str,
        factor_id: &str,
        session: Option<&Session>,
        redirect_uri: &str,
    ) -> Result<String> {
        let user = self.user_by_name(username).await?;
        let factor = self.factor_of(&user, factor_id).await?;
        if factor.confirmed {
            return Err(Error::conflict(
                "already_confirmed",
                "This factor is already confirmed.",
            ));
        }
        if factor.kind() != FactorKind::Duo {
            return Err(Error::invalid(
                "method_not_available",
                "This factor is not a Duo factor.",
            ));
        }
        let settings = self.settings().await?;
        let config = web_config(&settings).ok_or_else(|| {
            Error::invalid(
                "method_not_available",
                "The Duo Web SDK application (client ID, client secret, API hostname) is not set.",
            )
        })?;
        let duo_name = duo_username(&settings, &user)?;
        if let Err(e) = self.duo.health_check(&config).await {
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::SecondFactorFailure,
                format!(
                    "confirm factor={} kind=duo reason={}",
                    factor.id,
                    audit_reason(&e)
                ),
            )
            .await;
            return Err(if e.is_unreachable() {
                count_unreachable(&settings);
                Error::unavailable("duo_unreachable", DUO_UNREACHABLE)
            } else {
                Error::unavailable("duo_failed", format!("Duo cannot be used: {}", e.message()))
            });
        }
        let (state, nonce) = self
            .new_duo_state(
                &user,
                DuoPurpose::Enroll,
                session.map(|s| s.id_hash.as_str()),
                Some(&factor),
            )
            .await?;
        self.duo
            .authorize_url(&config, &duo_name, &state, &nonce, redirect_uri)
            .map_err(|e| {
                Error::unavailable("duo_failed", format!("Duo cannot be used: {}", e.message()))
            })
    }

    /// `GET /login/duo/callback`: uses the state (once), checks that the callback comes from
    /// the session the state is bound to, exchanges Duo's code and verifies its `id_token`
    /// (through the port), and only then completes the login or confirms the factor.
    /// `visitor` is the session of the browser that came back, if any.
    pub async fn duo_callback(
        &self,
        ctx: &Context,
        visitor: Option<&Session>,
        state: &str,
        code: Option<&str>,
        error: Option<&str>,
        redirect_uri: &str,
    ) -> Result<DuoCallback> {
        let refused = |purpose, factor_id, reason| DuoCallback::Refused {
            purpose,
            factor_id,
            reason,
        };
        if state.is_empty()
            || state.len() > MAX_STATE
            || !state.bytes().all(|b| b.is_ascii_hexdigit())
        {
            tracing::info!("a Duo callback without a valid state was refused");
            return Ok(refused(None, None, DuoRefusal::NotConfirmed));
        }
        let now = self.now();
        let Some(st) = self
            .store
            .consume_duo_state(&crypto::token_hash(state), now)
            .await?
        else {
            tracing::info!("a Duo callback with an unknown, used or expired state was refused");
            return Ok(refused(None, None, DuoRefusal::Used));
        };
        let Some(user) = self.store.user_by_id(st.user_id).await? else {
            return Ok(refused(Some(st.purpose), None, DuoRefusal::NotConfirmed));
        };
        let factor_id = st.factor_id.as_ref().map(ToString::to_string);
        let fail = |reason: &str| {
            format!(
                "kind=duo reason={reason}{}",
                factor_id
                    .as_ref()
                    .map(|f| format!(" confirm factor={f}"))
                    .unwrap_or_default()
            )
        };

        // The callback must come from the browser whose session started it.
        let bound = match (&st.session_hash, visitor) {
            (None, _) => st.purpose == DuoPurpose::Enroll,
            (Some(hash), Some(session)) => {
                use subtle::ConstantTimeEq;
                let same: bool = hash.as_bytes().ct_eq(session.id_hash.as_bytes()).into();
                let stage_ok = match st.purpose {
                    DuoPurpose::Login => session.stage == Stage::SecondFactor,
                    DuoPurpose::Enroll => matches!(session.stage, Stage::Full | Stage::Enroll),
                };
                same && session.user_id == user.id && stage_ok
            }
            (Some(_), None) => false,
        };
        if !bound {
            let why = if visitor.is_none() {
                "no_session"
            } else {
                "session_mismatch"
            };
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::SecondFactorFailure,
                fail(why),
            )
            .await;
            return Ok(refused(
                Some(st.purpose),
                factor_id,
                DuoRefusal::NotConfirmed,
            ));
        }
        if user.disabled {
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::SecondFactorFailure,
                fail("disabled"),
            )
            .await;
            return Ok(refused(
                Some(st.purpose),
                factor_id,
                DuoRefusal::NotConfirmed,
            ));
        }
        let settings = self.settings().await?;
        let Some(config) = web_config(&settings) else {
            self.audit(
                ctx,
                Some(&user.username),
                AuditEvent::SecondFactorFailure,
                fail("not_configured"),
            )
            .await;
            return Ok(refused(
                Some(st.purpose),
                factor_id,
                DuoRefusal::NotConfirmed,
            ));
        };
        let duo_name = duo_username(&settings, &user)?;

        match st.purpose {
            DuoPurpose::Login => {
                let Some(session) = visitor else {
                    return Ok(refused(Some(st.purpose), None, DuoRefusal::NotConfirmed));
                };
                let factors = self.store.factors_of(user.id).await?;
                let Some(factor) = Self::usable_duo_factor(&settings, &user, &factors).cloned()
                else {
                    self.audit(
                        ctx,
                        Some(&user.username),
                        AuditEvent::SecondFactorFailure,
                        fail("not_enrolled"),
                    )
                    .await;
                    return Ok(refused(Some(st.purpose), None, DuoRefusal::NotConfirmed));
                };
                // Count the attempt before checking, as every second factor does.
                let attempt = match self.begin_second_factor(ctx, &user, &settings, now).await? {
                    Ok(a) => a,
                    Err(super::Validation::Rejected(super::Reason::Locked)) => {
                        return Ok(refused(Some(st.purpose), None, DuoRefusal::Locked));
                    }
                    Err(_) => {
                        return Ok(refused(Some(st.purpose), None, DuoRefusal::NotConfirmed));
                    }
                };
                let checked = self
                    .duo_answer(&config, code, error, redirect_uri, &st.nonce, &duo_name)
                    .await;
                match checked {
                    Ok(()) => {
                        attempt
                            .accept(
                                super::Method::Factor(FactorKind::Duo),
                                &format!("factor={}", factor.id),
                            )
                            .await?;
                        let cookie = self.promote(session, true).await?.ok_or_else(|| {
                            Error::forbidden("wrong_stage", "This login was already completed.")
                        })?;
                        Ok(DuoCallback::LoggedIn {
                            cookie,
                            next: session.next.clone(),
                        })
                    }
                    Err((reason, detail)) => {
                        let detail = match detail {
                            Some(d) => format!("{} detail=\"{}\"", fail(reason), audit_text(&d)),
                            None => fail(reason),
                        };
                        attempt.reject(detail).await?;
                        Ok(refused(Some(st.purpose), None, DuoRefusal::NotConfirmed))
                    }
                }
            }
            DuoPurpose::Enroll => {
                let Some(fid) = &st.factor_id else {
                    return Ok(refused(Some(st.purpose), None, DuoRefusal::NotConfirmed));
                };
                let factor = match self.store.factor(user.id, fid).await? {
                    Some(f) if !f.confirmed && f.kind() == FactorKind::Duo => f,
                    _ => {
                        self.audit(
                            ctx,
                            Some(&user.username),
                            AuditEvent::SecondFactorFailure,
                            fail("not_pending"),
                        )
                        .await;
                        return Ok(refused(Some(st.purpose), None, DuoRefusal::NotPending));
                    }
                };
                match self
                    .duo_answer(&config, code, error, redirect_uri, &st.nonce, &duo_name)
                    .await
                {
                    Ok(()) => {
                        let confirmed = self
                            .confirm_checked(ctx, &user, &factor, None, None)
                            .await?;
                        Ok(DuoCallback::Enrolled {
                            username: user.username.clone(),
                            backup_codes: confirmed.backup_codes,
                            in_portal: st.session_hash.is_some(),
                        })
                    }
                    Err((reason, detail)) => {
                        let detail = match detail {
                            Some(d) => format!("{} detail=\"{}\"", fail(reason), audit_text(&d)),
                            None => fail(reason),
                        };
                        self.audit(
                            ctx,
                            Some(&user.username),
                            AuditEvent::SecondFactorFailure,
                            detail,
                        )
                        .await;
                        Ok(refused(
                            Some(st.purpose),
                            factor_id,
                            DuoRefusal::DeviceNotConfirmed,
                        ))
                    }
                }
            }
        }
    }

    /// Duo's answer on the callback: `error` (the user denied, or Duo refused) or a code that
    /// must exchange for a valid `id_token`. On failure, a reason word and a detail for the
    /// audit log.
    async fn duo_answer(
        &self,
        config: &DuoWebConfig,
        code: Option<&str>,
        error: Option<&str>,
        redirect_uri: &str,
        nonce: &str,
        duo_name: &str,
    ) -> std::result::Result<(), (&'static str, Option<String>)> {
        if let Some(error) = error {
            let word: String = error
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            return Err(("denied", Some(word)));
        }
        let Some(code) = code.filter(|c| !c.is_empty() && c.len() <= MAX_CODE) else {
            return Err(("no_code", None));
        };
        match self
            .duo
            .exchange_code(config, code, redirect_uri, nonce, duo_name)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => Err((audit_reason(&e), Some(e.message().to_owned()))),
        }
    }

    /// A push or a passcode through the Auth API for a user's Duo factor, with the fail mode
    /// applied when Duo cannot be reached.
    pub(super) async fn duo_auth_try(
        &self,
        ctx: &Context,
        user: &User,
        settings: &Settings,
        passcode: Option<&str>,
    ) -> Result<DuoTry> {
        let config = auth_config(settings).ok_or_else(|| {
            Error::invalid(
                "method_not_available",
                "Duo pushes and passcodes need the Duo Auth API application (integration key, \
                 secret key, API hostname).",
            )
        })?;
        let name = duo_username(settings, user)?;
        let outcome = match passcode {
            Some(p) => self.duo.passcode(&config, &name, p).await,
            None => self.duo.push(&config, &name, DUO_PUSH_TIMEOUT).await,
        };
        Ok(match outcome {
            Ok(AuthOutcome::Allow) => DuoTry::Allowed,
            Ok(AuthOutcome::Deny(_)) => DuoTry::Denied("denied"),
            Ok(AuthOutcome::Timeout) => DuoTry::Denied("timeout"),
            Err(e) if e.is_unreachable() => {
                count_unreachable(settings);
                if fail_open(settings) {
                    tracing::warn!(
                        "Duo is unreachable and the fail mode is open: a validation passes on \
                         the password alone"
                    );
                    DuoTry::FailedOpen
                } else {
                    self.audit(
                        ctx,
                        Some(&user.username),
                        AuditEvent::SecondFactorFailure,
                        "kind=duo reason=duo_unreachable failmode=closed".into(),
                    )
                    .await;
                    tracing::warn!(
                        "Duo is unreachable and the fail mode is closed: a validation is refused"
                    );
                    DuoTry::Unavailable(Error::unavailable("duo_unreachable", DUO_UNREACHABLE))
                }
            }
            Err(e) => {
                self.audit(
                    ctx,
                    Some(&user.username),
                    AuditEvent::SecondFactorFailure,
                    format!(
                        "kind=duo reason={} detail=\"{}\"",
                        audit_reason(&e),
                        audit_text(e.message())
                    ),
                )
                .await;
                DuoTry::Unavailable(Error::unavailable(
                    "duo_failed",
                    format!("Duo could not check this: {}", e.message()),
                ))
            }
        })
    }

    /// Confirms a pending Duo factor through the Auth API: a push (`passcode` `None`) or a
    /// passcode. There is no fail mode for enrolment.
    pub(super) async fn confirm_duo(
        &self,
        ctx: &Context,
        user: &User,
        factor: &Factor,
        passcode: Option<&str>,
    ) -> Result<()> {
        let settings = self.settings().await?;
        let config = auth_config(&settings).ok_or_else(|| {
            Error::invalid(
                "method_not_available",
                "Confirming Duo through the API needs the Duo Auth API application (integration \
                 key, secret key, API hostname); otherwise send the user to the factor's auth_url.",
            )
        })?;
        let name = duo_username(&settings, user)?;
        let outcome = match passcode {
            Some(p) => self.duo.passcode(&config, &name, p).await,
            None => self.duo.push(&config, &name, DUO_PUSH_TIMEOUT).await,
        };
        let why = match outcome {
            Ok(AuthOutcome::Allow) => return Ok(()),
            Ok(AuthOutcome::Deny(_)) => "denied",
            Ok(AuthOutcome::Timeout) => "timeout",
            Err(e) => {
                self.audit(
                    ctx,
                    Some(&user.username),
                    AuditEvent::SecondFactorFailure,
                    format!(
                        "confirm factor={} kind=duo reason={}",
                        factor.id,
                        audit_reason(&e)
                    ),
                )
                .await;
                return Err(if e.is_unreachable() {
                    count_unreachable(&settings);
                    Error::unavailable("duo_unreachable", DUO_UNREACHABLE)
                } else {
                    Error::unavailable(
                        "duo_failed",
                        format!("Duo could not check this: {}", e.message()),
                    )
                });
            }
        };
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::SecondFactorFailure,
            format!("confirm factor={} kind=duo reason={why}", factor.id),
        )
        .await;
        Err(Error::invalid(
            "invalid_code",
            if why == "timeout" {
                "Duo did not confirm: the push was not answered in time."
            } else {
                "Duo did not confirm: the push was denied or the passcode was wrong."
            },
        ))
    }

    /// `twofold user test-duo NAME`: preauth, then a push through the Auth API.
    pub async fn duo_test_push(&self, username: &str) -> Result<AuthOutcome> {
        let user = self.user_by_name(username).await?;
        let settings = self.settings().await?;
        let config = auth_config(&settings).ok_or_else(|| {
            Error::invalid(
                "method_not_available",
                "the Duo Auth API application is not set (methods.duo.ikey, .skey, .api_host)",
            )
        })?;
        let name = duo_username(&settings, &user)?;
        let unavailable = |e: DuoError| {
            if e.is_unreachable() {
                count_unreachable(&settings);
            }
            Error::unavailable("duo_failed", e.message().to_owned())
        };
        let outcome = match self
            .duo
            .preauth(&config, &name)
            .await
            .map_err(unavailable)?
        {
            Preauth::Auth => self
                .duo
                .push(&config, &name, DUO_PUSH_TIMEOUT)
                .await
                .map_err(unavailable)?,
            Preauth::Allow => AuthOutcome::Allow,
            Preauth::Deny(msg) => AuthOutcome::Deny(msg),
            Preauth::Enroll => AuthOutcome::Deny(format!(
                "{name} is not enrolled at Duo; enrol a device for them in Duo first"
            )),
        };
        Ok(outcome)
    }

    /// The admin's "Test connection": the health check with the Web SDK keys and
    /// `/auth/v2/check` with the Auth API keys, each when its keys are set.
    pub async fn duo_test_connection(&self, ctx: &Context) -> Result<DuoTest> {
        ctx.require_settings()?;
        let settings = self.settings().await?;
        let web = match web_config(&settings) {
            None => DuoCheck::NotSet,
            Some(c) => match self.duo.health_check(&c).await {
                Ok(()) => DuoCheck::Ok,
                Err(e) => DuoCheck::Failed(e.message().to_owned()),
            },
        };
        let auth = match auth_config(&settings) {
            None => DuoCheck::NotSet,
            Some(c) => match self.duo.auth_check(&c).await {
                Ok(()) => DuoCheck::Ok,
                Err(e) => DuoCheck::Failed(e.message().to_owned()),
            },
        };
        Ok(DuoTest { web, auth })
    }
}
