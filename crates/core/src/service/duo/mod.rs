//! Duo Security: the Universal Prompt (a redirect to Duo and back, for portal logins and
//! enrolments), pushes and passcodes through the Auth API (for `/validate`, the confirm call and
//! `twofold user test-duo`), the fail mode, and the admin's connection test.
//!
//! A redirect in flight is a [`DuoState`]: 32 random bytes as hex sent to Duo as `state` (only
//! its hash is stored), bound to the session the callback must come from and, for an enrolment,
//! to the pending factor; the `nonce` the `id_token` must carry travels beside it. The callback
//! uses the state with one conditional UPDATE, so it works once, also across nodes.
//!
//! `prompt` starts the redirects and `callback` ends them; `auth_api` holds pushes and passcodes,
//! `diagnostics` the operator's checks, `config` what the settings say of Duo and `types` the
//! answers the edges get.

mod auth_api;
mod callback;
mod config;
mod diagnostics;
mod prompt;
mod types;

use std::time::Duration;

use super::Service;
use crate::error::Result;
use crate::factor::{Factor, FactorKind};
use crate::i18n::Text;
use crate::settings::Settings;
use crate::store::User;

pub(super) use auth_api::DuoTry;
pub use types::{DuoCallback, DuoCheck, DuoRefusal, DuoStart, DuoTest};

/// How long a redirect to Duo may take before its state stops working, in seconds.
pub const DUO_STATE_TTL: i64 = 5 * 60;
/// How long a push waits for the user.
pub const DUO_PUSH_TIMEOUT: Duration = Duration::from_secs(60);
/// What a user is told when Duo cannot be reached and the fail mode is closed.
pub fn duo_unreachable() -> Text {
    Text::new("err-duo-unreachable")
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
            settings
                .duo_web_set()
                .then(|| settings.duo_api_host().to_owned()),
            settings.duo_auth_set(),
        )))
    }

    /// Whether a Duo factor can be enrolled in the portal (the Web SDK application is set); its
    /// API hostname, for the page's form-action.
    pub async fn duo_web_host(&self) -> Result<Option<String>> {
        let settings = self.settings().await?;
        Ok(settings
            .duo_web_set()
            .then(|| settings.duo_api_host().to_owned()))
    }
}
