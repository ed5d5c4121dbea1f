//! The password throttle.

use std::sync::Arc;

use tokio::task::JoinSet;
use twofold_core::store::Store;

use crate::support::NOW;

/// The delays of the password throttle as the service sets them: free attempts, then 2 s, 4 s…
fn delay(n: i64) -> i64 {
    if n < 5 {
        0
    } else {
        2i64.pow(u32::try_from(n - 4).unwrap()).min(900)
    }
}

pub(crate) async fn throttle_counts_before_checking_and_blocks_without_writing(
    store: Arc<dyn Store>,
) {
    use twofold_core::store::ThrottleHit;
    let hit = |key: &'static str, now: i64| {
        let store = store.clone();
        async move { store.throttle_hit(key, now, 3600, &delay).await.unwrap() }
    };
    for n in 1..=5 {
        assert_eq!(hit("user:abe", NOW).await, ThrottleHit::Counted(n));
    }
    // The fifth attempt blocks the key for 2 s; a blocked attempt is not counted.
    assert_eq!(
        hit("user:abe", NOW + 1).await,
        ThrottleHit::Blocked(NOW + 2)
    );
    assert_eq!(
        hit("user:abe", NOW + 1).await,
        ThrottleHit::Blocked(NOW + 2)
    );
    assert_eq!(hit("user:abe", NOW + 2).await, ThrottleHit::Counted(6));
    assert_eq!(
        hit("user:abe", NOW + 3).await,
        ThrottleHit::Blocked(NOW + 6)
    );
    // Other keys are separate; a success clears one; an old key starts again from 1.
    assert_eq!(hit("ip:192.0.2.1", NOW + 3).await, ThrottleHit::Counted(1));
    store.clear_login_failures("user:abe").await.unwrap();
    assert_eq!(hit("user:abe", NOW + 3).await, ThrottleHit::Counted(1));
    assert_eq!(
        hit("ip:192.0.2.1", NOW + 4000).await,
        ThrottleHit::Counted(1)
    );
    // A success from a shared address gives its own attempt back: the count and the block
    // return to what the attempts before it called for.
    for n in 2..=5 {
        assert_eq!(
            hit("ip:192.0.2.1", NOW + 4000).await,
            ThrottleHit::Counted(n)
        );
    }
    store.throttle_refund("ip:192.0.2.1", &delay).await.unwrap();
    assert_eq!(
        hit("ip:192.0.2.1", NOW + 4000).await,
        ThrottleHit::Counted(5)
    );
    store.throttle_refund("ip:192.0.2.1", &delay).await.unwrap();
    store.throttle_refund("ip:192.0.2.1", &delay).await.unwrap();
    assert_eq!(
        hit("ip:192.0.2.1", NOW + 4000).await,
        ThrottleHit::Counted(4)
    );
    store.throttle_refund("nobody", &delay).await.unwrap();
    // Keys whose last attempt is old and that are not blocked are purged.
    assert_eq!(
        store
            .purge_login_throttle(NOW + 3700, NOW + 3700)
            .await
            .unwrap(),
        1
    );
    assert_eq!(hit("user:abe", NOW + 3700).await, ThrottleHit::Counted(1));
    assert_eq!(
        store
            .purge_login_throttle(NOW + 9000, NOW + 9000)
            .await
            .unwrap(),
        2
    );
}

pub(crate) async fn concurrent_password_attempts_cannot_outrun_the_throttle(store: Arc<dyn Store>) {
    use twofold_core::store::ThrottleHit;
    let mut tasks = JoinSet::new();
    for _ in 0..40 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .throttle_hit("user:burst", NOW, 3600, &delay)
                .await
                .unwrap()
        });
    }
    let hits = tasks.join_all().await;
    let mut counted: Vec<i64> = hits
        .iter()
        .filter_map(|h| match h {
            ThrottleHit::Counted(n) => Some(*n),
            ThrottleHit::Blocked(_) => None,
        })
        .collect();
    counted.sort_unstable();
    assert_eq!(
        counted,
        [1, 2, 3, 4, 5],
        "only the free attempts were let through"
    );
}
