//! Pushes and passcodes through the Auth API, for `/validate` and the confirm call, with the
//! fail mode.

use super::DUO_PUSH_TIMEOUT;
use super::Service;
use super::config::{
    audit_reason, audit_text, auth_config, count_unreachable, duo_username, fail_open,
};
use crate::audit::{AuditEvent, Context};
use crate::duo::AuthOutcome;
use crate::error::{Error, Result};
use crate::factor::Factor;
use crate::i18n::Text;
use crate::settings::Settings;
use crate::store::User;

/// What a push or passcode through the Auth API came to.
pub(in crate::service) enum DuoTry {
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
    /// A push or a passcode through the Auth API for a user's Duo factor, with the fail mode
    /// applied when Duo cannot be reached.
    pub(in crate::service) async fn duo_auth_try(
        &self,
        ctx: &Context,
        user: &User,
        settings: &Settings,
        passcode: Option<&str>,
    ) -> Result<DuoTry> {
        let config = auth_config(settings)?.ok_or_else(|| {
            Error::invalid(
                "method_not_available",
                Text::new("err-duo-auth-api-missing"),
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
                    DuoTry::Unavailable(Error::unavailable(
                        "duo_unreachable",
                        super::duo_unreachable(),
                    ))
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
                    Text::new("err-duo-check-failed").arg("reason", e.text()),
                ))
            }
        })
    }

    /// Confirms a pending Duo factor through the Auth API: a push (`passcode` `None`) or a
    /// passcode. There is no fail mode for enrolment.
    pub(in crate::service) async fn confirm_duo(
        &self,
        ctx: &Context,
        user: &User,
        factor: &Factor,
        passcode: Option<&str>,
    ) -> Result<()> {
        let settings = self.settings().await?;
        let config = auth_config(&settings)?.ok_or_else(|| {
            Error::invalid(
                "method_not_available",
                Text::new("err-duo-auth-api-confirm-missing"),
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
                return Err(self
                    .duo_enrol_failed(
                        ctx,
                        user,
                        factor,
                        &settings,
                        &e,
                        Text::new("err-duo-check-failed"),
                    )
                    .await);
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
                Text::new("err-duo-push-timeout")
            } else {
                Text::new("err-duo-denied")
            },
        ))
    }
}
