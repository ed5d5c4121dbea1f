//! Duo states: the redirects to Duo in flight.

use std::sync::Arc;

use tokio::task::JoinSet;
use twofold_core::store::{DuoPurpose, DuoState, Store, StoreError};

use crate::support::{NOW, fid, user};

fn duo_state(user_id: i64, hash: &str, purpose: DuoPurpose) -> DuoState {
    DuoState {
        state_hash: hash.to_owned(),
        user_id,
        factor_id: (purpose == DuoPurpose::Enroll).then(|| fid(7)),
        session_hash: Some(format!("session-of-{hash}")),
        nonce: format!("nonce-of-{hash}"),
        purpose,
        created_at: NOW,
        expires_at: NOW + 300,
        used_at: None,
        // A login's "Remember this browser" is kept with its state.
        remember: purpose == DuoPurpose::Login,
    }
}

pub(crate) async fn duo_states_work_once_and_expire(store: Arc<dyn Store>) {
    let u = user(store.as_ref(), "duo").await;
    assert_eq!(store.consume_duo_state("nope", NOW).await.unwrap(), None);
    let login = duo_state(u.id, "login-state", DuoPurpose::Login);
    store.insert_duo_state(&login).await.unwrap();
    let mut enroll = duo_state(u.id, "enroll-state", DuoPurpose::Enroll);
    enroll.session_hash = None;
    store.insert_duo_state(&enroll).await.unwrap();
    // The same hash twice is a conflict.
    assert!(matches!(
        store.insert_duo_state(&login).await,
        Err(StoreError::Conflict(_))
    ));

    let got = store
        .consume_duo_state("login-state", NOW + 10)
        .await
        .unwrap()
        .expect("a fresh state is used once");
    assert_eq!(
        got,
        DuoState {
            used_at: Some(NOW + 10),
            ..login.clone()
        }
    );
    assert_eq!(
        store
            .consume_duo_state("login-state", NOW + 11)
            .await
            .unwrap(),
        None
    );

    // At its expiry it no longer works; the enrolment keeps its factor and no session.
    assert_eq!(
        store
            .consume_duo_state("enroll-state", NOW + 300)
            .await
            .unwrap(),
        None
    );
    let mut late = duo_state(u.id, "late", DuoPurpose::Enroll);
    late.session_hash = None;
    store.insert_duo_state(&late).await.unwrap();
    let got = store
        .consume_duo_state("late", NOW + 299)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.factor_id, Some(fid(7)));
    assert_eq!(got.session_hash, None);
    assert_eq!(got.purpose, DuoPurpose::Enroll);

    // Purging forgets expired states only.
    store
        .insert_duo_state(&duo_state(u.id, "live", DuoPurpose::Login))
        .await
        .unwrap();
    let mut old = duo_state(u.id, "old", DuoPurpose::Login);
    old.expires_at = NOW - 1;
    store.insert_duo_state(&old).await.unwrap();
    assert_eq!(store.purge_duo_states(NOW).await.unwrap(), 1);
    assert!(
        store
            .consume_duo_state("live", NOW)
            .await
            .unwrap()
            .is_some()
    );
}

pub(crate) async fn concurrent_duo_state_consumption_wins_once(store: Arc<dyn Store>) {
    let u = user(store.as_ref(), "duo-race").await;
    store
        .insert_duo_state(&duo_state(u.id, "raced", DuoPurpose::Login))
        .await
        .unwrap();
    let mut tasks = JoinSet::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .consume_duo_state("raced", NOW + i)
                .await
                .unwrap()
                .is_some()
        });
    }
    let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
}
