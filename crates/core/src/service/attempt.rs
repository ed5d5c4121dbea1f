//! The second-factor attempt guard: the one lockout protocol every way of checking a second
//! factor goes through (`validate`, the Duo push, the Duo callback).
//!
//! `begin` counts the attempt before anything is checked (one conditional UPDATE, so parallel
//! guesses cannot outrun the threshold); the check then ends it in exactly one of three ways:
//! `accept` (the count goes back to 0), `reject` (a counted failure, which locks at the
//! threshold), or `give_back` (the check could not be made or the code was genuine but already
//! used: refused without counting). Each writes its audit record.
//!
//! A request can be dropped at any await (its client went away, the server is shutting down).
//! An attempt dropped before it was ended gives its count back from a task of its own: its
//! client never saw an answer, so nothing was learnt from it, and a count left behind would sit
//! at the threshold with no lock and refuse every later code. A count that still rests at the
//! threshold with no attempt begun for [`STALE_ATTEMPT`] seconds (the process died mid-check)
//! locks, as the failures it most likely was.

use super::Service;
use std::sync::Arc;

use super::validate::{Method, Reason, Validation};
use crate::audit::{AuditEvent, Context};
use crate::error::Result;
use crate::settings::Settings;
use crate::store::{AttemptPlan, Candidate, Consume, Settled, Store, User};

/// Seconds after which a count at the threshold cannot belong to attempts still in flight: the
/// longest check (a Duo push) takes 60 s.
pub(crate) const STALE_ATTEMPT: i64 = 120;

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
    /// Ended by `accept`, `reject`, `give_back` or `pass_unchecked`; otherwise the drop gives
    /// the count back.
    ended: bool,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let store: Arc<dyn Store> = self.service.store.clone();
        let user_id = self.user.id;
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = store.refund_attempt(user_id).await {
                    tracing::warn!(error = %e, "could not give back an abandoned attempt");
                }
            });
        }
    }
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
                ended: false,
            })),
            None => Ok(Err(self.no_attempt_left(ctx, user, settings, now).await?)),
        }
    }

    /// No attempt could be counted: every attempt the threshold allows is in flight (a burst
    /// of requests), or a lock began since the user was read. Refused; only a real lock says
    /// `locked`. A count at the threshold whose last attempt began [`STALE_ATTEMPT`] seconds
    /// ago or more was left by a process that died mid-check: it locks now. (Lowering the
    /// threshold lowers the counts, and an abandoned attempt gives its count back.)
    async fn no_attempt_left(
        &self,
        ctx: &Context,
        user: &User,
        settings: &Settings,
        now: i64,
    ) -> Result<Validation> {
        let Some((count, locked_until, attempt_at)) = self.store.attempt_state(user.id).await?
        else {
            return Ok(self.refuse(ctx, user, Reason::Locked).await);
        };
        if locked_until.is_some_and(|t| t > now) {
            return Ok(self.refuse(ctx, user, Reason::Locked).await);
        }
        if count >= settings.max_failures() && now - attempt_at >= STALE_ATTEMPT {
            self.lock(ctx, user, now, settings.lockout_seconds())
                .await?;
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

/// A second-factor check whose candidates were found by pure computation, to be settled by the
/// store in one transaction (see [`Service::settle_second_factor`]).
pub(crate) struct LocalCheck {
    /// What may accept the attempt, tried in order, each with the method it is.
    pub(crate) candidates: Vec<(Consume, Method, Option<String>)>,
    /// When none accepts, the caller checks further (a Duo passcode): the attempt stays open.
    pub(crate) then_more: bool,
    /// The counted failure's detail, when not `reason=invalid_code`.
    pub(crate) failure_detail: Option<String>,
    /// The record of a genuine answer refused without counting, when not a failure
    /// `reason=already_used counted=false`.
    pub(crate) already_used: Option<(AuditEvent, String)>,
    /// A word added to each audit record of the attempt (`resync`), if any.
    pub(crate) note: Option<&'static str>,
}

/// How [`Service::settle_second_factor`] ended.
pub(crate) enum LocalOutcome<'a> {
    /// The answer to give.
    Answer(Validation),
    /// Nothing local accepted and `then_more` was set: the attempt, counted, for the caller to end.
    Open(Attempt<'a>),
}

impl Service {
    /// Counts the attempt, consumes the first candidate still free, and settles the outcome
    /// with its audit records: one store call and one commit. A candidate that is genuine but
    /// already used is refused without counting; a failure at the threshold locks, and the
    /// lockout is then audited and the user told.
    pub(crate) async fn settle_second_factor<'a>(
        &'a self,
        ctx: &'a Context,
        user: &'a User,
        settings: &Settings,
        now: i64,
        check: LocalCheck,
    ) -> Result<LocalOutcome<'a>> {
        let subject = Some(user.username.as_str());
        let noted = |detail: String| match check.note {
            Some(note) => format!("{detail} {note}"),
            None => detail,
        };
        let candidates: Vec<Candidate> = check
            .candidates
            .iter()
            .map(|(consume, method, factor)| Candidate {
                consume: consume.clone(),
                on_accept: self.audit_record(
                    ctx,
                    subject,
                    AuditEvent::SecondFactorSuccess,
                    noted(match factor {
                        Some(id) => format!("method={} factor={id}", method.as_str()),
                        None => format!("method={}", method.as_str()),
                    }),
                ),
            })
            .collect();
        let base = settings.lockout_seconds();
        let lock_seconds = move |streak: i64| super::validate::lockout_seconds(base, streak);
        let plan = AttemptPlan {
            user_id: user.id,
            now,
            max_failures: settings.max_failures(),
            candidates: &candidates,
            open_on_miss: check.then_more,
            on_failure: self.audit_record(
                ctx,
                subject,
                AuditEvent::SecondFactorFailure,
                noted(
                    check
                        .failure_detail
                        .clone()
                        .unwrap_or_else(|| "reason=invalid_code".into()),
                ),
            ),
            on_already_used: match &check.already_used {
                Some((event, detail)) => {
                    self.audit_record(ctx, subject, *event, noted(detail.clone()))
                }
                None => self.audit_record(
                    ctx,
                    subject,
                    AuditEvent::SecondFactorFailure,
                    noted("reason=already_used counted=false".into()),
                ),
            },
            streak_window: super::validate::LOCKOUT_CAP,
            lock_seconds: &lock_seconds,
        };
        let answer = match self.store.settle_attempt(&plan).await? {
            Settled::NotCounted => self.no_attempt_left(ctx, user, settings, now).await?,
            Settled::Accepted(i) => Validation::Accepted(check.candidates[i].1),
            Settled::AlreadyUsed | Settled::Rejected(None) => {
                Validation::Rejected(Reason::InvalidCode)
            }
            Settled::Rejected(Some(until)) => {
                self.locked_now(ctx, user, until).await;
                Validation::Rejected(Reason::InvalidCode)
            }
            Settled::Open(count) => {
                return Ok(LocalOutcome::Open(Attempt {
                    service: self,
                    ctx,
                    user,
                    now,
                    count,
                    max: settings.max_failures(),
                    lock_seconds: settings.lockout_seconds(),
                    ended: false,
                }));
            }
        };
        Ok(LocalOutcome::Answer(answer))
    }
}

impl Attempt<'_> {
    /// From here on the attempt counts even if its request is dropped: something the user sees
    /// has started (a Duo push on their phone), so an attacker must not be able to repeat it
    /// for free by hanging up.
    pub(crate) fn count_if_abandoned(&mut self) {
        self.ended = true;
    }

    /// The factor was accepted by `method`: the failure count goes back to 0.
    pub(crate) async fn accept(mut self, method: Method, detail: &str) -> Result<Validation> {
        let s = self.service;
        s.store.reset_failures(self.user.id).await?;
        self.ended = true;
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
    pub(crate) async fn reject(mut self, detail: String) -> Result<Validation> {
        let s = self.service;
        // From here on the failure counts, whatever happens to the request.
        self.ended = true;
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
    pub(crate) async fn pass_unchecked(
        mut self,
        method: Method,
        detail: &str,
    ) -> Result<Validation> {
        let s = self.service;
        s.store.refund_attempt(self.user.id).await?;
        self.ended = true;
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
    pub(crate) async fn give_back(mut self, detail: Option<String>) -> Result<()> {
        let s = self.service;
        s.store.refund_attempt(self.user.id).await?;
        self.ended = true;
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
