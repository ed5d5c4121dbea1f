//! API tokens and the setup token.

use std::sync::Arc;

use tokio::task::JoinSet;
use twofold_core::store::{Store, StoreError};
use twofold_core::token::{ApiToken, Scope};

use crate::support::NOW;

pub(crate) async fn tokens(store: Arc<dyn Store>) {
    let token = |name: &str, scope| ApiToken {
        name: name.into(),
        scope,
        created_at: NOW,
        last_used_at: None,
    };
    store
        .insert_token(&token("zabbix", Scope::Metrics), "h1")
        .await
        .unwrap();
    store
        .insert_token(&token("app", Scope::Validate), "h2")
        .await
        .unwrap();
    let err = store
        .insert_token(&token("app", Scope::Admin), "h3")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("token")), "{err:?}");

    assert_eq!(
        store.token_by_hash("h2").await.unwrap(),
        Some(token("app", Scope::Validate))
    );
    assert_eq!(store.token_by_hash("h3").await.unwrap(), None);
    assert_eq!(
        store.list_tokens().await.unwrap(),
        vec![
            token("app", Scope::Validate),
            token("zabbix", Scope::Metrics)
        ]
    );

    let last_used = |store: Arc<dyn Store>| async move {
        store
            .token_by_hash("h2")
            .await
            .unwrap()
            .unwrap()
            .last_used_at
    };
    store.touch_token("app", NOW + 100).await.unwrap();
    assert_eq!(last_used(store.clone()).await, Some(NOW + 100));
    store.touch_token("app", NOW + 130).await.unwrap();
    assert_eq!(last_used(store.clone()).await, Some(NOW + 100));
    store.touch_token("app", NOW + 161).await.unwrap();
    assert_eq!(last_used(store.clone()).await, Some(NOW + 161));
    store.touch_token("nobody", NOW).await.unwrap();

    assert!(store.revoke_token("app").await.unwrap());
    assert!(!store.revoke_token("app").await.unwrap());
    assert_eq!(store.token_by_hash("h2").await.unwrap(), None);
    assert_eq!(
        store.list_tokens().await.unwrap(),
        vec![token("zabbix", Scope::Metrics)]
    );
    // The name is free again.
    store
        .insert_token(&token("app", Scope::Admin), "h4")
        .await
        .unwrap();
}

pub(crate) async fn setup_token_single_use_and_expiry(store: Arc<dyn Store>) {
    assert!(!store.consume_setup_token("s1", NOW).await.unwrap());
    store.put_setup_token("s1", NOW + 3600).await.unwrap();
    assert!(!store.consume_setup_token("s2", NOW).await.unwrap());
    assert!(!store.consume_setup_token("s1", NOW + 3600).await.unwrap());

    // A new token replaces the old one.
    store.put_setup_token("s2", NOW + 3600).await.unwrap();
    assert!(!store.consume_setup_token("s1", NOW).await.unwrap());
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move { store.consume_setup_token("s2", NOW).await.unwrap() });
    }
    let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
    assert!(!store.consume_setup_token("s2", NOW + 1).await.unwrap());
    // Putting the same hash again makes it usable again.
    store.put_setup_token("s2", NOW + 3600).await.unwrap();
    assert!(store.consume_setup_token("s2", NOW + 1).await.unwrap());
}
