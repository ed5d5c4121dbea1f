//! The checks an operator runs: `twofold user test-duo` and the admin's connection test.

use super::DUO_PUSH_TIMEOUT;
use super::Service;
use super::config::{auth_config, count_unreachable, duo_username, web_config};
use super::types::{DuoCheck, DuoTest};
use crate::audit::Context;
use crate::duo::{AuthOutcome, DuoError, Preauth};
use crate::error::{Error, Result};
use crate::i18n::Text;
use crate::identity::Username;

impl Service {
    /// `twofold user test-duo NAME`: preauth, then a push through the Auth API.
    pub async fn duo_test_push(&self, username: &Username) -> Result<AuthOutcome> {
        let user = self.user_by_name(username).await?;
        let settings = self.settings().await?;
        let config = auth_config(&settings)?.ok_or_else(|| {
            Error::invalid(
                "method_not_available",
                Text::new("err-duo-auth-api-not-set"),
            )
        })?;
        let name = duo_username(&settings, &user)?;
        let unavailable = |e: DuoError| {
            if e.is_unreachable() {
                count_unreachable(&settings);
            }
            Error::unavailable("duo_failed", Text::raw(e.message().to_owned()))
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
        let web = match web_config(&settings)? {
            None => DuoCheck::NotSet,
            Some(c) => match self.duo.health_check(&c).await {
                Ok(()) => DuoCheck::Ok,
                Err(e) => DuoCheck::Failed(e.message().to_owned()),
            },
        };
        let auth = match auth_config(&settings)? {
            None => DuoCheck::NotSet,
            Some(c) => match self.duo.auth_check(&c).await {
                Ok(()) => DuoCheck::Ok,
                Err(e) => DuoCheck::Failed(e.message().to_owned()),
            },
        };
        Ok(DuoTest { web, auth })
    }
}
