//! What the settings say of Duo, and the words the flows write to the audit log.

use crate::audit::{AuditEvent, Context};
use crate::duo::{DuoAuthConfig, DuoError, DuoWebConfig};
use crate::error::{Error, Result};
use crate::factor::Factor;
use crate::i18n::Text;
use crate::service::Service;
use crate::settings::Settings;
use crate::store::User;

/// The Web SDK application, when its three settings are set (its secret opened).
pub(in crate::service) fn web_config(settings: &Settings) -> Result<Option<DuoWebConfig>> {
    settings.duo_web_config()
}

/// The Auth API application, when its three settings are set (its secret opened).
pub(in crate::service) fn auth_config(settings: &Settings) -> Result<Option<DuoAuthConfig>> {
    settings.duo_auth_config()
}

pub(super) fn fail_open(settings: &Settings) -> bool {
    settings.duo_fail_open()
}

/// Counts a time Duo could not be reached, by fail mode.
pub(super) fn count_unreachable(settings: &Settings) {
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
    let mut name = settings
        .duo_username_format()
        .replace("{username}", &user.username);
    if name.contains("{email}") {
        let email = user
            .email
            .as_deref()
            .ok_or_else(|| Error::invalid("missing_email", Text::new("err-duo-needs-email")))?;
        name = name.replace("{email}", email);
    }
    Ok(name)
}

/// A word for the audit log from a Duo error (no secrets: Duo errors never hold any).
pub(super) fn audit_reason(e: &DuoError) -> &'static str {
    match e {
        DuoError::Unreachable(_) => "duo_unreachable",
        DuoError::Refused(_) => "duo_refused",
        DuoError::Invalid(_) => "duo_invalid_answer",
    }
}

/// Makes a sentence safe for a one-line audit detail.
pub(super) fn audit_text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .replace('"', "'")
}

impl Service {
    /// Duo failed while a factor was being enrolled (there is no fail mode for enrolment): the
    /// refusal is audited against the factor, and the error says whether Duo was unreachable
    /// or answered `what` with its reason.
    pub(super) async fn duo_enrol_failed(
        &self,
        ctx: &Context,
        user: &User,
        factor: &Factor,
        settings: &Settings,
        e: &DuoError,
        what: Text,
    ) -> Error {
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::SecondFactorFailure,
            format!(
                "confirm factor={} kind=duo reason={}",
                factor.id,
                audit_reason(e)
            ),
        )
        .await;
        if e.is_unreachable() {
            count_unreachable(settings);
            Error::unavailable("duo_unreachable", super::duo_unreachable())
        } else {
            Error::unavailable("duo_failed", what.arg("reason", e.text()))
        }
    }
}
