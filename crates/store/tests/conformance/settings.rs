//! Settings.

use std::sync::Arc;

use twofold_core::crypto::Sealed;
use twofold_core::store::{Store, StoredValue};

pub(crate) async fn settings_round_trip(store: Arc<dyn Store>) {
    assert!(store.settings().await.unwrap().is_empty());
    store.put_settings(&[]).await.unwrap();
    let secret = StoredValue::Sealed(Sealed(vec![0, 1, 2, 255]));
    store
        .put_settings(&[
            (
                "twofactor.enabled".into(),
                StoredValue::Plain("true".into()),
            ),
            ("methods.duo.client_secret".into(), secret.clone()),
            ("issuer".into(), StoredValue::Plain(String::new())),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.settings().await.unwrap(),
        vec![
            ("issuer".into(), StoredValue::Plain(String::new())),
            ("methods.duo.client_secret".into(), secret),
            (
                "twofactor.enabled".into(),
                StoredValue::Plain("true".into())
            ),
        ]
    );
    let other = StoredValue::Sealed(Sealed(vec![9; 64]));
    store
        .put_settings(&[
            ("issuer".into(), other.clone()),
            (
                "methods.duo.client_secret".into(),
                StoredValue::Plain("x".into()),
            ),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.settings().await.unwrap(),
        vec![
            ("issuer".into(), other),
            (
                "methods.duo.client_secret".into(),
                StoredValue::Plain("x".into())
            ),
            (
                "twofactor.enabled".into(),
                StoredValue::Plain("true".into())
            ),
        ]
    );
}
