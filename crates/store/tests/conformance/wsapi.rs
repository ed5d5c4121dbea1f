//! Validation-server clients and the requests they have made.

use std::sync::Arc;

use twofold_core::crypto::Sealed;
use twofold_core::store::{NewWsapiClient, Store, StoreError};

use crate::support::NOW;

pub(crate) async fn wsapi_clients_and_requests(store: Arc<dyn Store>) {
    let client = |name: &str| NewWsapiClient {
        name: name.into(),
        key: Sealed(vec![1; 48]),
        allow_unsigned: name == "open",
        created_at: NOW,
    };
    let a = store.insert_wsapi_client(&client("pam")).await.unwrap();
    let b = store.insert_wsapi_client(&client("open")).await.unwrap();
    assert!(b > a);
    assert!(matches!(
        store.insert_wsapi_client(&client("pam")).await,
        Err(StoreError::Conflict(_))
    ));
    let got = store.wsapi_client(a).await.unwrap().unwrap();
    assert_eq!(
        (got.name.as_str(), got.allow_unsigned, got.key.clone()),
        ("pam", false, Sealed(vec![1; 48]))
    );
    assert!(store.wsapi_client(b).await.unwrap().unwrap().allow_unsigned);
    let names: Vec<String> = store
        .list_wsapi_clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["pam", "open"]);
    assert!(store.delete_wsapi_client("pam").await.unwrap());
    assert!(!store.delete_wsapi_client("pam").await.unwrap());
    assert!(store.wsapi_client(a).await.unwrap().is_none());
    // Ids are never reused.
    let c = store.insert_wsapi_client(&client("pam")).await.unwrap();
    assert!(c > b);
    // Requests: recorded once; seen afterwards; purged by age.
    assert!(!store.wsapi_request_seen("h1").await.unwrap());
    assert!(store.record_wsapi_request("h1", NOW).await.unwrap());
    assert!(!store.record_wsapi_request("h1", NOW + 1).await.unwrap());
    assert!(store.wsapi_request_seen("h1").await.unwrap());
    assert!(store.record_wsapi_request("h2", NOW + 100).await.unwrap());
    assert_eq!(store.purge_wsapi_requests(NOW + 50).await.unwrap(), 1);
    assert!(!store.wsapi_request_seen("h1").await.unwrap());
    assert!(store.wsapi_request_seen("h2").await.unwrap());
}
