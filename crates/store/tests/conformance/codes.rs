//! Email and SMS codes and the limit on sends.

use std::sync::Arc;

use tokio::task::JoinSet;
use twofold_core::store::Store;

use crate::support::{NOW, email_factor, fid, user};

fn challenge(user_id: i64, n: u64, hash: &str, expires_at: i64) -> twofold_core::store::Challenge {
    twofold_core::store::Challenge {
        factor_id: fid(n),
        user_id,
        code_hash: hash.to_owned(),
        created_at: NOW,
        expires_at,
    }
}

pub(crate) async fn email_codes_single_use_with_tries_and_expiry(store: Arc<dyn Store>) {
    let u = user(&*store, "vera").await;
    store
        .insert_factor(&email_factor(u.id, 1, true))
        .await
        .unwrap();
    let f = fid(1);
    store
        .put_challenge(&challenge(u.id, 1, "h1", NOW + 600))
        .await
        .unwrap();
    assert!(!store.consume_challenge(&f, "wrong", NOW, 5).await.unwrap());
    assert!(store.consume_challenge(&f, "h1", NOW, 5).await.unwrap());
    assert!(
        !store.consume_challenge(&f, "h1", NOW, 5).await.unwrap(),
        "used once"
    );

    // A new code replaces the old one and starts with fresh tries.
    store
        .put_challenge(&challenge(u.id, 1, "h2", NOW + 600))
        .await
        .unwrap();
    store
        .put_challenge(&challenge(u.id, 1, "h3", NOW + 600))
        .await
        .unwrap();
    assert!(
        !store.consume_challenge(&f, "h2", NOW, 5).await.unwrap(),
        "replaced"
    );
    for _ in 0..5 {
        store.challenge_failed(&f).await.unwrap();
    }
    assert!(
        !store.consume_challenge(&f, "h3", NOW, 5).await.unwrap(),
        "out of tries"
    );

    // Expiry.
    store
        .put_challenge(&challenge(u.id, 1, "h4", NOW + 10))
        .await
        .unwrap();
    assert!(
        !store
            .consume_challenge(&f, "h4", NOW + 10, 5)
            .await
            .unwrap()
    );
    store
        .put_challenge(&challenge(u.id, 1, "h5", NOW + 10))
        .await
        .unwrap();
    assert!(store.consume_challenge(&f, "h5", NOW + 9, 5).await.unwrap());

    // Deleting leaves nothing to use; deleting the factor takes its code along.
    store
        .put_challenge(&challenge(u.id, 1, "h6", NOW + 600))
        .await
        .unwrap();
    store.delete_challenge(&f).await.unwrap();
    assert!(!store.consume_challenge(&f, "h6", NOW, 5).await.unwrap());
    store
        .put_challenge(&challenge(u.id, 1, "h7", NOW + 600))
        .await
        .unwrap();
    assert!(store.delete_factor(u.id, &f).await.unwrap());
    assert!(!store.consume_challenge(&f, "h7", NOW, 5).await.unwrap());
}

pub(crate) async fn concurrent_email_code_consumption_wins_once(store: Arc<dyn Store>) {
    let u = user(&*store, "walt").await;
    store
        .insert_factor(&email_factor(u.id, 1, true))
        .await
        .unwrap();
    store
        .put_challenge(&challenge(u.id, 1, "code", NOW + 600))
        .await
        .unwrap();
    let mut tasks = JoinSet::new();
    for _ in 0..50 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .consume_challenge(&fid(1), "code", NOW, 5)
                .await
                .unwrap()
        });
    }
    let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
}

pub(crate) async fn sends_are_limited_per_user_and_kind(store: Arc<dyn Store>) {
    let u = user(&*store, "xena").await;
    let v = user(&*store, "yuri").await;
    let send = |user_id, kind: &'static str, at| {
        let store = store.clone();
        async move { store.record_send(user_id, kind, at, 30, 10).await.unwrap() }
    };
    assert_eq!(send(u.id, "email", NOW).await, None);
    assert_eq!(send(u.id, "email", NOW + 10).await, Some(20), "30 s apart");
    assert_eq!(send(u.id, "sms", NOW + 10).await, None, "per method");
    assert_eq!(send(v.id, "email", NOW + 10).await, None, "per user");
    for i in 1..10 {
        assert_eq!(send(u.id, "email", NOW + 30 * i).await, None, "send {i}");
    }
    // Ten in the last hour: the next waits until the oldest is an hour old.
    assert_eq!(send(u.id, "email", NOW + 300).await, Some(3300));
    assert_eq!(send(u.id, "email", NOW + 3600).await, None);
    // Concurrent sends in one instant: exactly one passes.
    let w = user(&*store, "zoe").await;
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move { store.record_send(w.id, "sms", NOW, 30, 10).await.unwrap() });
    }
    let passed = tasks
        .join_all()
        .await
        .into_iter()
        .filter(Option::is_none)
        .count();
    assert_eq!(passed, 1);
}
