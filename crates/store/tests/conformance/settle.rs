//! `settle_attempt`: a second-factor attempt counted, checked and settled in one transaction.

use std::sync::Arc;

use tokio::task::JoinSet;
use twofold_core::audit::{AuditEvent, AuditFilter, NewAudit};
use twofold_core::store::{AttemptPlan, Candidate, Consume, Settled, Store};

use crate::support::{NOW, email_factor, enrolled, fid, user};

pub(crate) fn record(subject: &str, event: AuditEvent, detail: &str) -> NewAudit {
    NewAudit {
        at: NOW,
        actor: "token:test".into(),
        subject: Some(subject.into()),
        event,
        ip: None,
        detail: detail.into(),
    }
}

fn counter(subject: &str, n: u64, step: i64) -> Candidate {
    Candidate {
        consume: Consume::Counter {
            factor: fid(n),
            counter: step,
            drift: 1,
        },
        on_accept: record(
            subject,
            AuditEvent::SecondFactorSuccess,
            &format!("step={step}"),
        ),
    }
}

fn backup(subject: &str, lookup: &str) -> Candidate {
    Candidate {
        consume: Consume::BackupCode {
            lookup: lookup.into(),
        },
        on_accept: record(subject, AuditEvent::SecondFactorSuccess, "backup"),
    }
}

/// Settles an attempt at `now` with threshold `max`; every lockout lasts 100 s times its streak.
pub(crate) async fn settle(
    store: &dyn Store,
    user_id: i64,
    subject: &str,
    now: i64,
    max: i64,
    candidates: &[Candidate],
    open_on_miss: bool,
) -> Settled {
    let seconds = |streak: i64| 100 * streak;
    store
        .settle_attempt(&AttemptPlan {
            user_id,
            now,
            max_failures: max,
            candidates,
            open_on_miss,
            on_failure: record(subject, AuditEvent::SecondFactorFailure, "miss"),
            on_already_used: record(subject, AuditEvent::SecondFactorFailure, "used"),
            streak_window: 86_400,
            lock_seconds: &seconds,
        })
        .await
        .unwrap()
}

/// The details of the user's audit records, oldest first.
pub(crate) async fn details(store: &dyn Store, subject: &str) -> Vec<String> {
    let mut all: Vec<String> = store
        .list_audit(&AuditFilter {
            subject: Some(subject.into()),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.detail)
        .collect();
    all.reverse();
    all
}

pub(crate) async fn failures(store: &dyn Store, user_id: i64) -> i64 {
    store.attempt_state(user_id).await.unwrap().unwrap().0
}

pub(crate) async fn settle_consumes_resets_and_audits_once(store: Arc<dyn Store>) {
    let u = enrolled(&*store, "ada", 1).await;
    let s = &*store;
    // Two misses count.
    assert_eq!(
        settle(s, u.id, "ada", NOW, 5, &[], false).await,
        Settled::Rejected(None)
    );
    assert_eq!(
        settle(s, u.id, "ada", NOW, 5, &[], false).await,
        Settled::Rejected(None)
    );
    assert_eq!(failures(s, u.id).await, 2);
    // A step above the last: consumed, the count back to 0, its own record written.
    let steps = [counter("ada", 1, 10), counter("ada", 1, 11)];
    assert_eq!(
        settle(s, u.id, "ada", NOW, 5, &steps, false).await,
        Settled::Accepted(0)
    );
    assert_eq!(failures(s, u.id).await, 0);
    let factor = store.factor(u.id, &fid(1)).await.unwrap().unwrap();
    assert_eq!(factor.last_used_at, Some(NOW));
    // The same step again: genuine but used, so refused without counting.
    assert_eq!(
        settle(s, u.id, "ada", NOW, 5, &steps[..1], false).await,
        Settled::AlreadyUsed
    );
    assert_eq!(failures(s, u.id).await, 0);
    // The first candidate is used, the second is free: the second accepts.
    assert_eq!(
        settle(s, u.id, "ada", NOW, 5, &steps, false).await,
        Settled::Accepted(1)
    );
    assert_eq!(
        details(s, "ada").await,
        ["miss", "miss", "step=10", "used", "step=11"]
    );
}

pub(crate) async fn settle_locks_at_the_threshold_and_then_writes_nothing(store: Arc<dyn Store>) {
    let u = user(&*store, "bo").await;
    let s = &*store;
    assert_eq!(
        settle(s, u.id, "bo", NOW, 3, &[], false).await,
        Settled::Rejected(None)
    );
    assert_eq!(
        settle(s, u.id, "bo", NOW, 3, &[], false).await,
        Settled::Rejected(None)
    );
    // The third failure locks (the first lockout: 100 s) and sets the count back to 0.
    assert_eq!(
        settle(s, u.id, "bo", NOW, 3, &[], false).await,
        Settled::Rejected(Some(NOW + 100))
    );
    let locked = store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(
        (locked.failed_attempts, locked.locked_until),
        (0, Some(NOW + 100))
    );
    // While locked nothing is counted, consumed or written.
    assert_eq!(
        settle(s, u.id, "bo", NOW + 99, 3, &[], false).await,
        Settled::NotCounted
    );
    assert_eq!(details(s, "bo").await.len(), 3);
    assert_eq!(failures(s, u.id).await, 0);
    // After it, a second lockout within the window is longer.
    for _ in 0..2 {
        settle(s, u.id, "bo", NOW + 100, 3, &[], false).await;
    }
    assert_eq!(
        settle(s, u.id, "bo", NOW + 100, 3, &[], false).await,
        Settled::Rejected(Some(NOW + 300))
    );
    // An unknown user: nothing.
    assert_eq!(
        settle(s, u.id + 1000, "bo", NOW, 3, &[], false).await,
        Settled::NotCounted
    );
}

pub(crate) async fn settle_backup_codes_and_open_attempts(store: Arc<dyn Store>) {
    let u = enrolled(&*store, "cy", 1).await;
    let s = &*store;
    assert_eq!(
        settle(s, u.id, "cy", NOW, 5, &[backup("cy", "cy-04")], false).await,
        Settled::Accepted(0)
    );
    assert_eq!(store.unused_backup_codes(u.id).await.unwrap(), 9);
    // Used already: not counted. Unknown: a counted miss.
    assert_eq!(
        settle(s, u.id, "cy", NOW, 5, &[backup("cy", "cy-04")], false).await,
        Settled::AlreadyUsed
    );
    assert_eq!(failures(s, u.id).await, 0);
    assert_eq!(
        settle(s, u.id, "cy", NOW, 5, &[backup("cy", "cy-99")], false).await,
        Settled::Rejected(None)
    );
    assert_eq!(failures(s, u.id).await, 1);
    // Open on a miss: counted, nothing written, the caller ends it.
    assert_eq!(
        settle(s, u.id, "cy", NOW, 5, &[backup("cy", "cy-98")], true).await,
        Settled::Open(2)
    );
    assert_eq!(failures(s, u.id).await, 2);
    assert_eq!(details(s, "cy").await, ["backup", "used", "miss"]);
}

pub(crate) async fn settle_counts_wrong_tries_against_a_live_code(store: Arc<dyn Store>) {
    let u = user(&*store, "di").await;
    let s = &*store;
    let f = email_factor(u.id, 3, true);
    store.insert_factor(&f).await.unwrap();
    store
        .put_challenge(&twofold_core::store::Challenge {
            factor_id: f.id.clone(),
            user_id: u.id,
            code_hash: "right".into(),
            created_at: NOW,
            expires_at: NOW + 600,
        })
        .await
        .unwrap();
    let code = |hash: &str| Candidate {
        consume: Consume::Challenge {
            factor: f.id.clone(),
            code_hash: hash.into(),
            max_attempts: 2,
        },
        on_accept: record("di", AuditEvent::SecondFactorSuccess, "email"),
    };
    // Two wrong tries use up the code: the right one no longer works.
    for _ in 0..2 {
        assert_eq!(
            settle(s, u.id, "di", NOW, 10, &[code("wrong")], false).await,
            Settled::Rejected(None)
        );
    }
    assert_eq!(
        settle(s, u.id, "di", NOW, 10, &[code("right")], false).await,
        Settled::Rejected(None)
    );
}

pub(crate) async fn concurrent_settles_accept_once_and_lock_once(store: Arc<dyn Store>) {
    let u = enrolled(&*store, "eve", 1).await;
    // Twenty requests race with the same fresh step: one accepts, none counts.
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move {
            settle(
                &*store,
                u.id,
                "eve",
                NOW,
                5,
                &[counter("eve", 1, 42)],
                false,
            )
            .await
        });
    }
    let mut accepted = 0;
    while let Some(outcome) = tasks.join_next().await {
        match outcome.unwrap() {
            Settled::Accepted(0) => accepted += 1,
            Settled::AlreadyUsed | Settled::NotCounted => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(accepted, 1);
    assert_eq!(failures(&*store, u.id).await, 0);

    // Twenty wrong guesses race against a threshold of 3: three count, one of them locks.
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move { settle(&*store, u.id, "eve", NOW, 3, &[], false).await });
    }
    let (mut counted, mut locks) = (0, 0);
    while let Some(outcome) = tasks.join_next().await {
        match outcome.unwrap() {
            Settled::Rejected(lock) => {
                counted += 1;
                locks += usize::from(lock.is_some());
            }
            Settled::NotCounted => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((counted, locks), (3, 1));
}
