//! `Store::settle_attempt`, written once for both ways statements run: through sqlx (PostgreSQL,
//! and SQLite without the hot path) and in place on SQLite's hot connection (`crate::hot`).
//!
//! The flow is [`settle`], generic over [`Steps`]: each step is one statement of `crate::sql`
//! run inside the transaction the caller opened. The caller commits when `settle` returns
//! `Ok` with anything but [`Settled::NotCounted`], and rolls back otherwise, so every outcome
//! is one commit or none. On the hot path the steps never wait, and the future is driven to
//! its end in one poll (see [`run_now`]).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use twofold_core::audit::NewAudit;
use twofold_core::factor::FactorId;
use twofold_core::store::{AttemptPlan, Consume, Settled, StoreResult};

/// The statements `settle` runs, each inside the caller's transaction.
pub(crate) trait Steps {
    /// `sql::BEGIN_ATTEMPT`: the new count, or none when no attempt may be counted.
    async fn begin_attempt(&mut self, user_id: i64, now: i64, max: i64)
    -> StoreResult<Option<i64>>;
    /// The consumption's conditional UPDATE: true if it took the code. (A security key's
    /// answer goes through [`Steps::consume_assertion`].)
    async fn consume(&mut self, user_id: i64, what: &Consume, now: i64) -> StoreResult<bool>;
    /// `sql::TAKE_WEBAUTHN_CHALLENGE`, then, when it took the challenge,
    /// `sql::CONSUME_SIGN_COUNT`: `None` when there was no such challenge, else whether the
    /// counter was taken.
    async fn consume_assertion(
        &mut self,
        user_id: i64,
        what: Assertion<'_>,
        now: i64,
    ) -> StoreResult<Option<bool>>;
    /// `sql::CHALLENGE_FAILED`.
    async fn challenge_failed(&mut self, factor: &FactorId) -> StoreResult<()>;
    /// `sql::BACKUP_CODE_USED`: the user has a used code with this lookup hash.
    async fn backup_code_used(&mut self, user_id: i64, lookup: &str) -> StoreResult<bool>;
    /// `sql::RESET_FAILURES`.
    async fn reset_failures(&mut self, user_id: i64) -> StoreResult<()>;
    /// `sql::REFUND_ATTEMPT`.
    async fn refund_attempt(&mut self, user_id: i64) -> StoreResult<()>;
    /// `sql::LOCK_STATE`: (locked until, streak, last lockout).
    async fn lock_state(
        &mut self,
        user_id: i64,
    ) -> StoreResult<Option<(Option<i64>, i64, Option<i64>)>>;
    /// `sql::SET_LOCK`.
    async fn set_lock(
        &mut self,
        user_id: i64,
        until: i64,
        streak: i64,
        now: i64,
    ) -> StoreResult<()>;
    /// `sql::INSERT_AUDIT`.
    async fn insert_audit(&mut self, record: &NewAudit) -> StoreResult<()>;
}

/// The parts of a [`Consume::Assertion`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Assertion<'a> {
    pub(crate) factor: &'a FactorId,
    pub(crate) challenge_hash: &'a str,
    pub(crate) purpose: &'a str,
    pub(crate) sign_count: i64,
}

/// Counts, checks and settles the attempt `plan` describes (see `AttemptPlan`).
pub(crate) async fn settle<S: Steps>(
    steps: &mut S,
    plan: &AttemptPlan<'_>,
) -> StoreResult<Settled> {
    let user = plan.user_id;
    let Some(count) = steps
        .begin_attempt(user, plan.now, plan.max_failures)
        .await?
    else {
        return Ok(Settled::NotCounted);
    };
    let mut used = false;
    for (i, candidate) in plan.candidates.iter().enumerate() {
        let taken = match &candidate.consume {
            Consume::Assertion {
                factor,
                challenge_hash,
                purpose,
                sign_count,
            } => {
                let what = Assertion {
                    factor,
                    challenge_hash,
                    purpose: purpose.as_str(),
                    sign_count: *sign_count,
                };
                match steps.consume_assertion(user, what, plan.now).await? {
                    Some(taken) => {
                        // The challenge was this user's and is spent: a counter that did not
                        // grow is a genuine answer refused (two ceremonies out of order, or a
                        // cloned key), not a guess.
                        used = used || !taken;
                        taken
                    }
                    None => false,
                }
            }
            other => steps.consume(user, other, plan.now).await?,
        };
        if taken {
            steps.reset_failures(user).await?;
            steps.insert_audit(&candidate.on_accept).await?;
            return Ok(Settled::Accepted(i));
        }
        match &candidate.consume {
            // The caller matched the code to this step: another request took it first.
            Consume::Counter { .. } => used = true,
            Consume::Challenge { factor, .. } => steps.challenge_failed(factor).await?,
            Consume::BackupCode { lookup } => {
                used = used || steps.backup_code_used(user, lookup).await?;
            }
            Consume::Assertion { .. } => {}
        }
    }
    if used {
        steps.refund_attempt(user).await?;
        steps.insert_audit(&plan.on_already_used).await?;
        return Ok(Settled::AlreadyUsed);
    }
    if plan.open_on_miss {
        return Ok(Settled::Open(count));
    }
    steps.insert_audit(&plan.on_failure).await?;
    if count < plan.max_failures {
        return Ok(Settled::Rejected(None));
    }
    // The threshold: lock, continuing the streak of lockouts within its window.
    let Some((locked_until, streak, last)) = steps.lock_state(user).await? else {
        return Ok(Settled::Rejected(None));
    };
    if locked_until.is_some_and(|t| t > plan.now) {
        return Ok(Settled::Rejected(None));
    }
    let streak = match last {
        Some(at) if plan.now - at < plan.streak_window => streak.saturating_add(1),
        _ => 1,
    };
    let until = plan.now.saturating_add((plan.lock_seconds)(streak));
    steps.set_lock(user, until, streak, plan.now).await?;
    Ok(Settled::Rejected(Some(until)))
}

/// Drives a future whose every step completes at once (statements run in place, on a
/// connection already held) to its end, in one poll. A future that waits would be a bug in
/// the hot path; it is reported as an error rather than blocked on.
pub(crate) fn run_now<T>(future: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => Err(twofold_core::store::StoreError::Backend(Box::new(
            WouldWait,
        ))),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a hot-path statement tried to wait")]
struct WouldWait;
