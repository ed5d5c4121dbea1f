//! The second-factor attempt count: lockouts, their escalation, and refunds.

use std::sync::Arc;

use tokio::task::JoinSet;
use twofold_core::store::Store;

use crate::support::{NOW, lock, user};

pub(crate) async fn lockout_counts_and_locks_once(store: Arc<dyn Store>) {
    let u = user(&*store, "rupert").await;
    // Attempts are counted up to the threshold, then refused.
    assert_eq!(store.attempt_state(u.id).await.unwrap(), Some((0, None, 0)));
    assert_eq!(
        store.begin_attempt(u.id, NOW - 5, 3).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        store.attempt_state(u.id).await.unwrap(),
        Some((1, None, NOW - 5))
    );
    assert_eq!(store.begin_attempt(u.id, NOW, 3).await.unwrap(), Some(2));
    assert_eq!(store.attempt_state(u.id + 1000).await.unwrap(), None);
    assert_eq!(store.begin_attempt(u.id, NOW, 3).await.unwrap(), Some(3));
    assert_eq!(store.begin_attempt(u.id, NOW, 3).await.unwrap(), None);
    // Locking sets the time and the count back to 0, once.
    assert_eq!(lock(&*store, u.id, NOW, 900).await, Some(NOW + 900));
    assert_eq!(
        lock(&*store, u.id, NOW + 1, 1000).await,
        None,
        "already locked"
    );
    let locked = store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(locked.failed_attempts, 0);
    assert_eq!(locked.locked_until, Some(NOW + 900));
    assert!(locked.is_locked(NOW + 899) && !locked.is_locked(NOW + 900));
    // While locked, no attempt; after the lock, attempts again.
    assert_eq!(store.begin_attempt(u.id, NOW + 899, 3).await.unwrap(), None);
    assert_eq!(
        store.begin_attempt(u.id, NOW + 900, 3).await.unwrap(),
        Some(1)
    );

    // A success resets the count.
    store.reset_failures(u.id).await.unwrap();
    assert_eq!(
        store
            .user_by_id(u.id)
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        0
    );
    store.reset_failures(u.id).await.unwrap();

    // Unlock clears both.
    store.begin_attempt(u.id, NOW + 901, 3).await.unwrap();
    assert!(lock(&*store, u.id, NOW + 901, 1099).await.is_some());
    store.unlock(u.id).await.unwrap();
    let unlocked = store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(unlocked.failed_attempts, 0);
    assert_eq!(unlocked.locked_until, None);
    assert_eq!(
        store.begin_attempt(u.id, NOW + 902, 3).await.unwrap(),
        Some(1)
    );

    // An unknown user has nothing to count or lock.
    assert_eq!(
        store.begin_attempt(u.id + 1000, NOW, 3).await.unwrap(),
        None
    );
    assert_eq!(lock(&*store, u.id + 1000, NOW, 1).await, None);
}

pub(crate) async fn concurrent_attempts_never_exceed_the_threshold(store: Arc<dyn Store>) {
    let u = user(&*store, "sybil").await;
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move { store.begin_attempt(u.id, NOW, 5).await.unwrap() });
    }
    let outcomes = tasks.join_all().await;
    let mut granted: Vec<i64> = outcomes.iter().flatten().copied().collect();
    granted.sort_unstable();
    assert_eq!(
        granted,
        [1, 2, 3, 4, 5],
        "exactly the allowed number of attempts"
    );
    let mut tasks = JoinSet::new();
    for _ in 0..10 {
        let store = store.clone();
        tasks.spawn(async move { lock(&*store, u.id, NOW, 60).await.is_some() });
    }
    let locks = tasks.join_all().await;
    assert_eq!(locks.iter().filter(|l| **l).count(), 1, "one lock");
}

pub(crate) async fn lockouts_in_a_row_escalate(store: Arc<dyn Store>) {
    let u = user(&*store, "regina").await;
    let doubling = |streak: i64| 100 * 2i64.pow(u32::try_from(streak - 1).unwrap());
    let lock = |now: i64| {
        let store = store.clone();
        async move { store.lock(u.id, now, 86_400, &doubling).await.unwrap() }
    };
    // The first lockout lasts the base time, each further one within a day twice the one
    // before; a lockout more than a day after the last starts the streak again.
    assert_eq!(lock(NOW).await, Some(NOW + 100));
    assert_eq!(lock(NOW + 50).await, None, "still locked: no new lockout");
    assert_eq!(lock(NOW + 100).await, Some(NOW + 300));
    assert_eq!(lock(NOW + 300).await, Some(NOW + 700));
    assert_eq!(lock(NOW + 300 + 86_400).await, Some(NOW + 400 + 86_400));
}

pub(crate) async fn lowering_the_threshold_lowers_the_counts(store: Arc<dyn Store>) {
    let u = user(&*store, "rosa").await;
    let v = user(&*store, "rory").await;
    for _ in 0..4 {
        store.begin_attempt(u.id, NOW, 5).await.unwrap();
    }
    store.begin_attempt(v.id, NOW, 5).await.unwrap();
    store.clamp_failures(3).await.unwrap();
    let count = |id| {
        let store = store.clone();
        async move { store.user_by_id(id).await.unwrap().unwrap().failed_attempts }
    };
    assert_eq!(count(u.id).await, 2);
    assert_eq!(count(v.id).await, 1);
    assert_eq!(store.begin_attempt(u.id, NOW, 3).await.unwrap(), Some(3));
}

pub(crate) async fn refund_attempt_never_goes_below_zero(store: Arc<dyn Store>) {
    let u = user(store.as_ref(), "refund").await;
    store.refund_attempt(u.id).await.unwrap();
    assert_eq!(
        store
            .user_by_id(u.id)
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        0
    );
    assert_eq!(store.begin_attempt(u.id, NOW, 5).await.unwrap(), Some(1));
    assert_eq!(store.begin_attempt(u.id, NOW, 5).await.unwrap(), Some(2));
    store.refund_attempt(u.id).await.unwrap();
    assert_eq!(
        store
            .user_by_id(u.id)
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        1
    );
}
