//! RADIUS clients and the `State` of open challenges.

use std::sync::Arc;

use tokio::task::JoinSet;
use twofold_core::crypto::Sealed;
use twofold_core::store::{NewRadiusClient, RadiusState, Store, StoreError};

use crate::support::{NOW, user};

pub(crate) async fn radius_clients_register_list_and_revoke(store: Arc<dyn Store>) {
    let client = |name: &str| NewRadiusClient {
        name: name.into(),
        network: "10.0.0.0/24".into(),
        secret: Sealed(vec![7; 48]),
        allow_missing_message_authenticator: name == "old-pam",
        created_at: NOW,
    };
    store.insert_radius_client(&client("vpn")).await.unwrap();
    store
        .insert_radius_client(&client("old-pam"))
        .await
        .unwrap();
    assert!(matches!(
        store.insert_radius_client(&client("vpn")).await,
        Err(StoreError::Conflict(_))
    ));
    let all = store.list_radius_clients().await.unwrap();
    let names: Vec<&str> = all.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["old-pam", "vpn"]);
    assert_eq!(all[1], client("vpn"));
    assert!(all[0].allow_missing_message_authenticator);
    assert!(store.delete_radius_client("vpn").await.unwrap());
    assert!(!store.delete_radius_client("vpn").await.unwrap());
    assert_eq!(store.list_radius_clients().await.unwrap().len(), 1);
}

pub(crate) async fn radius_states_answer_once_for_their_client(store: Arc<dyn Store>) {
    let u = user(store.as_ref(), "radius-user").await;
    let state = |hash: &str, expires_at: i64| RadiusState {
        state_hash: hash.into(),
        user_id: u.id,
        client: "vpn".into(),
        expires_at,
    };
    store
        .insert_radius_state(&state("s1", NOW + 120))
        .await
        .unwrap();
    // Another client, or after expiry: not taken (and still there for the right one).
    assert_eq!(
        store.take_radius_state("s1", "other", NOW).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .take_radius_state("s1", "vpn", NOW + 120)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.take_radius_state("s1", "vpn", NOW + 5).await.unwrap(),
        Some(u.id)
    );
    assert_eq!(
        store.take_radius_state("s1", "vpn", NOW + 6).await.unwrap(),
        None
    );
    // Expired ones are purged; live ones stay.
    store
        .insert_radius_state(&state("old", NOW - 1))
        .await
        .unwrap();
    store
        .insert_radius_state(&state("live", NOW + 60))
        .await
        .unwrap();
    assert_eq!(store.purge_radius_states(NOW).await.unwrap(), 1);
    assert_eq!(
        store.take_radius_state("live", "vpn", NOW).await.unwrap(),
        Some(u.id)
    );
    // Twenty nodes answering one challenge at once: one wins.
    store
        .insert_radius_state(&state("raced", NOW + 60))
        .await
        .unwrap();
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .take_radius_state("raced", "vpn", NOW)
                .await
                .unwrap()
                .is_some()
        });
    }
    let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
}
