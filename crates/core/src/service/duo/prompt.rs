//! The Universal Prompt's starts: a login's and an enrolment's redirect to Duo, each with its
//! state.

use super::DUO_STATE_TTL;
use super::Service;
use super::config::{
    audit_reason, audit_text, count_unreachable, duo_username, fail_open, web_config,
};
use super::types::DuoStart;
use crate::audit::{AuditEvent, Context};
use crate::crypto;
use crate::error::{Error, Result};
use crate::factor::{Factor, FactorKind};
use crate::i18n::Text;
use crate::service::FactorRequest;
use crate::session::{Session, Stage};
use crate::store::{DuoPurpose, DuoState, User};

impl Service {
    /// factor of an enrolment). Returns (state, nonce).
    async fn new_duo_state(
        &self,
        user: &User,
        purpose: DuoPurpose,
        session_hash: Option<&str>,
        factor: Option<&Factor>,
        remember: bool,
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
                remember,
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
        remember: bool,
    ) -> Result<DuoStart> {
        if session.stage != Stage::SecondFactor {
            return Err(Error::forbidden(
                "wrong_stage",
                Text::new("err-login-not-waiting-second-factor"),
            ));
        }
        let settings = self.settings().await?;
        let factors = self.store.factors_of(user.id).await?;
        let (Some(_), Some(config)) = (
            Self::usable_duo_factor(&settings, user, &factors),
            web_config(&settings)?,
        ) else {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-duo-not-available"),
            ));
        };
        if user.is_locked(self.now()) {
            return Err(Error::invalid("locked", Text::new("err-locked-ask-admin")));
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
                        Error::forbidden("wrong_stage", Text::new("err-login-already-completed"))
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
                return Err(Error::unavailable(
                    "duo_unreachable",
                    super::duo_unreachable(),
                ));
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
                    Text::new("err-duo-cannot-be-used"),
                ));
            }
        }
        let (state, nonce) = self
            .new_duo_state(
                user,
                DuoPurpose::Login,
                Some(&session.id_hash),
                None,
                remember,
            )
            .await?;
        let url = self
            .duo
            .authorize_url(&config, &username, &state, &nonce, redirect_uri)
            .map_err(|e| {
                tracing::error!(error = %e, "the Duo authorize URL could not be made");
                Error::unavailable("duo_failed", Text::new("err-duo-cannot-be-used"))
            })?;
        Ok(DuoStart::Redirect(url))
    }

    /// Starts confirming a pending Duo factor through the Universal Prompt: the health check,
    /// a state bound to `session` (the portal) or to nothing (the API), and the URL of the
    /// prompt. Duo being unreachable is an error here: there is no fail mode for enrolment.
    pub async fn duo_enroll_start(
        &self,
        ctx: &Context,
        req: &FactorRequest,
        session: Option<&Session>,
        redirect_uri: &str,
    ) -> Result<String> {
        let (user, factor) = self.pending_of(req).await?;
        if factor.kind() != FactorKind::Duo {
            return Err(Error::invalid(
                "method_not_available",
                Text::new("err-factor-not-duo"),
            ));
        }
        let settings = self.settings().await?;
        let config = web_config(&settings)?.ok_or_else(|| {
            Error::invalid("method_not_available", Text::new("err-duo-web-sdk-missing"))
        })?;
        let duo_name = duo_username(&settings, &user)?;
        if let Err(e) = self.duo.health_check(&config).await {
            return Err(self
                .duo_enrol_failed(
                    ctx,
                    &user,
                    &factor,
                    &settings,
                    &e,
                    Text::new("err-duo-cannot-be-used-reason"),
                )
                .await);
        }
        let (state, nonce) = self
            .new_duo_state(
                &user,
                DuoPurpose::Enroll,
                session.map(|s| s.id_hash.as_str()),
                Some(&factor),
                false,
            )
            .await?;
        self.duo
            .authorize_url(&config, &duo_name, &state, &nonce, redirect_uri)
            .map_err(|e| {
                Error::unavailable(
                    "duo_failed",
                    Text::new("err-duo-cannot-be-used-reason").arg("reason", e.text()),
                )
            })
    }
}
