//! The Universal Prompt's callback: the state used once, Duo's code exchanged and its
//! `id_token` checked, then the login completed or the factor confirmed.

use super::Service;
use super::config::{audit_reason, audit_text, duo_username, web_config};
use super::types::{DuoCallback, DuoRefusal};
use crate::audit::{AuditEvent, Context};
use crate::crypto;
use crate::duo::DuoWebConfig;
use crate::error::{Error, Result};
use crate::factor::FactorKind;
use crate::i18n::Text;
use crate::session::{Session, Stage};
use crate::store::DuoPurpose;

/// The longest `state` a callback may carry (ours are 64 hex characters).
const MAX_STATE: usize = 128;
/// The longest `duo_code` a callback may carry.
const MAX_CODE: usize = 1024;

impl Service {
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
        let Some(config) = web_config(&settings)? else {
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
                    Err(super::super::Validation::Rejected(super::super::Reason::Locked)) => {
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
                                super::super::Method::Factor(FactorKind::Duo),
                                &format!("factor={}", factor.id),
                            )
                            .await?;
                        let cookie = self.promote(session, true).await?.ok_or_else(|| {
                            Error::forbidden(
                                "wrong_stage",
                                Text::new("err-login-already-completed"),
                            )
                        })?;
                        let remember = if st.remember {
                            let hash = crypto::token_hash(&cookie);
                            self.remember_browser(ctx, &user, session, &hash).await
                        } else {
                            None
                        };
                        Ok(DuoCallback::LoggedIn {
                            cookie,
                            next: session.next.clone(),
                            remember,
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
                            .confirm_checked(ctx, &user, &factor, None, None, None)
                            .await?;
                        Ok(DuoCallback::Enrolled {
                            username: user.username.to_string(),
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
}
