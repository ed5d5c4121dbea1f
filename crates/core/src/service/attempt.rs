//! The second-factor attempt guard: the one lockout protocol every way of checking a second
//! factor goes through (`validate`, the Duo push, the Duo callback).
//!
//! `begin` counts the attempt before anything is checked (one conditional UPDATE, so parallel
//! guesses cannot outrun the threshold); the check then ends it in exactly one of three ways:
//! `accept` (the count goes back to 0), `reject` (a counted failure, which locks at the
//! threshold), or `give_back` (the check could not be made or the code was genuine but already
//! used: refused without counting). Each writes its audit record.

use super::Service;
use super::validate::{Method, Reason, Validation};
use crate::audit::{AuditEvent, Context};
use crate::error::Result;
use crate::settings::Settings;
use crate::store::User;

/// One counted second-factor attempt, to be ended by `accept`, `reject` or `give_back`.
#[must_use = "an attempt must be accepted, rejected or given back"]
pub(crate) struct Attempt<'a> {
    service: &'a Service,
    ctx: &'a Context,
    user: &'a User,
    now: i64,
    count: i64,
    max: i64,
    lock_seconds: i64,
}

impl std::fmt::Debug for Attempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt")
            .field("user", &self.user.username)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Counts a second-factor attempt for `user`. When none may be counted (locked, or every
    /// attempt the threshold allows is in flight) the answer to give is returned instead.
    pub(crate) async fn begin_second_factor<'a>(
        &'a self,
        ctx: &'a Context,
        user: &'a User,
        settings: &Settings,
        now: i64,
    ) -> Result<std::result::Result<Attempt<'a>, Validation>> {
        let max = settings.max_failures();
        match self.store.begin_attempt(user.id, now, max).await? {
            Some(count) => Ok(Ok(Attempt {
                service: self,
                ctx,
                user,
                now,
                count,
                max,
                lock_seconds: settings.lockout_seconds(),
            })),
            None => Ok(Err(self.no_attempt_left(ctx, user, now).await?)),
        }
    }

    /// No attempt could be counted: every attempt the threshold allows is in flight (a burst
    /// of requests), or a lock began since the user was read. Refused; only a real lock says
    /// `locked`. (The count never rests at the threshold without a lock: lowering the
    /// threshold lowers the counts.)
    async fn no_attempt_left(&self, ctx: &Context, user: &User, now: i64) -> Result<Validation> {
        let locked = self
            .store
            .user_by_id(user.id)
            .await?
            .is_some_and(|u| u.is_locked(now));
        if locked {
            return Ok(self.refuse(ctx, user, Reason::Locked).await);
        }
        self.audit(
            ctx,
            Some(&user.username),
            AuditEvent::SecondFactorFailure,
            "reason=attempts_in_flight counted=false".into(),
        )
        .await;
        Ok(Validation::Rejected(Reason::InvalidCode))
    }
}

impl Attempt<'_> {
    /// The factor was accepted by `method`: the failure count goes back to 0.
    pub(crate) async fn accept(self, method: Method, detail: &str) -> Result<Validation> {
        let s = self.service;
        s.store.reset_failures(self.user.id).await?;
        let detail = if detail.is_empty() {
            format!("method={}", method.as_str())
        } else {
            format!("method={} {detail}", method.as_str())
        };
        s.audit(
            self.ctx,
            Some(&self.user.username),
            AuditEvent::SecondFactorSuccess,
            detail,
        )
        .await;
        Ok(Validation::Accepted(method))
    }

    /// A counted failure: audited with `detail`; at the threshold the user is locked.
    pub(crate) async fn reject(self, detail: String) -> Result<Validation> {
        let s = self.service;
        s.audit(
            self.ctx,
            Some(&self.user.username),
            AuditEvent::SecondFactorFailure,
            detail,
        )
        .await;
        if self.count >= self.max {
            s.lock(self.ctx, self.user, self.now, self.lock_seconds)
                .await?;
        }
        Ok(Validation::Rejected(Reason::InvalidCode))
    }

    /// The factor could not be checked and the fail mode lets the login pass anyway: the
    /// attempt is given back (the failure count is kept as it was) and the pass is audited as a
    /// success with `detail`, loudly marked by it.
    pub(crate) async fn pass_unchecked(self, method: Method, detail: &str) -> Result<Validation> {
        let s = self.service;
        s.store.refund_attempt(self.user.id).await?;
        s.audit(
            self.ctx,
            Some(&self.user.username),
            AuditEvent::SecondFactorSuccess,
            format!("method={} {detail}", method.as_str()),
        )
        .await;
        Ok(Validation::Accepted(method))
    }

    /// The attempt does not count (the check could not be made, or the code was genuine but
    /// already used): its count is given back, and `detail`, if any, is audited as a refusal.
    pub(crate) async fn give_back(self, detail: Option<String>) -> Result<()> {
        let s = self.service;
        s.store.refund_attempt(self.user.id).await?;
        if let Some(detail) = detail {
            s.audit(
                self.ctx,
                Some(&self.user.username),
                AuditEvent::SecondFactorFailure,
                detail,
            )
            .await;
        }
        Ok(())
    }
}
