//! Remembered browsers (`tf_remember`).

use std::sync::Arc;

use twofold_core::store::{RememberedBrowser, Store, StoreError};

use crate::support::{NOW, user};

fn browser(hash: &str, user_id: i64, created_at: i64) -> RememberedBrowser {
    RememberedBrowser {
        token_hash: hash.to_owned(),
        user_id,
        created_at,
        last_used_at: created_at,
        expires_at: created_at + 100,
        ip: Some("192.0.2.7".into()),
        browser: Some("Firefox on Linux".into()),
    }
}

fn hashes(list: &[RememberedBrowser]) -> Vec<&str> {
    list.iter().map(|b| b.token_hash.as_str()).collect()
}

pub(crate) async fn remembered_browsers_are_bound_to_their_user_and_expire(store: Arc<dyn Store>) {
    let u = user(&*store, "rita").await;
    let v = user(&*store, "rob").await;
    assert_eq!(store.remembered_browser("r1", NOW).await.unwrap(), None);
    let r1 = browser("r1", u.id, NOW);
    store.insert_remembered_browser(&r1, 20).await.unwrap();
    // The same hash twice is a conflict, and changes nothing.
    assert!(matches!(
        store
            .insert_remembered_browser(&browser("r1", v.id, NOW), 20)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.remembered_browser("r1", NOW).await.unwrap(),
        Some(r1.clone()),
        "read back as written, still u's"
    );
    assert_eq!(
        store.remembered_browser("r1", NOW + 100).await.unwrap(),
        None,
        "void at its expiry"
    );

    // A use is recorded only for its own user, and only while it lives.
    assert!(
        !store
            .touch_remembered_browser("r1", v.id, NOW + 10, Some("198.51.100.1"))
            .await
            .unwrap(),
        "another user's use is refused"
    );
    assert!(
        !store
            .touch_remembered_browser("r1", u.id, NOW + 100, None)
            .await
            .unwrap(),
        "an expired one is not used"
    );
    assert!(
        store
            .touch_remembered_browser("r1", u.id, NOW + 10, Some("198.51.100.1"))
            .await
            .unwrap()
    );
    let used = store.remembered_browser("r1", NOW).await.unwrap().unwrap();
    assert_eq!(
        (used.created_at, used.last_used_at, used.expires_at),
        (NOW, NOW + 10, NOW + 100),
        "a use moves the last use only"
    );
    assert_eq!(used.ip.as_deref(), Some("198.51.100.1"));
    assert_eq!(used.browser.as_deref(), Some("Firefox on Linux"));

    // The user's list: live ones only, most recently used first.
    store
        .insert_remembered_browser(&browser("r2", u.id, NOW + 1), 20)
        .await
        .unwrap();
    store
        .insert_remembered_browser(&browser("r3", u.id, NOW - 50), 20)
        .await
        .unwrap();
    store
        .insert_remembered_browser(&browser("v1", v.id, NOW), 20)
        .await
        .unwrap();
    let listed = store.user_remembered_browsers(u.id, NOW).await.unwrap();
    assert_eq!(hashes(&listed), ["r1", "r2", "r3"]);
    let listed = store
        .user_remembered_browsers(u.id, NOW + 50)
        .await
        .unwrap();
    assert_eq!(hashes(&listed), ["r1", "r2"], "r3 expired at NOW + 50");

    // Forgetting one: only the user's own.
    assert!(
        !store
            .delete_user_remembered_browser(v.id, "r2")
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_user_remembered_browser(u.id, "r2")
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_user_remembered_browser(u.id, "r2")
            .await
            .unwrap(),
        "once"
    );
    assert!(
        !store
            .touch_remembered_browser("r2", u.id, NOW + 20, None)
            .await
            .unwrap(),
        "a forgotten browser is not used"
    );
    assert_eq!(store.remembered_browser("r2", NOW).await.unwrap(), None);

    // Purging: those expired by then, whoever's.
    assert_eq!(store.purge_remembered_browsers(NOW + 50).await.unwrap(), 1);
    assert_eq!(
        hashes(&store.user_remembered_browsers(u.id, NOW).await.unwrap()),
        ["r1"]
    );

    // Forgetting all of a user's: theirs only, counted.
    store
        .insert_remembered_browser(&browser("r4", u.id, NOW + 2), 20)
        .await
        .unwrap();
    assert_eq!(
        store.delete_user_remembered_browsers(u.id).await.unwrap(),
        2
    );
    assert_eq!(
        store.delete_user_remembered_browsers(u.id).await.unwrap(),
        0
    );
    assert!(
        store
            .user_remembered_browsers(u.id, NOW)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        hashes(&store.user_remembered_browsers(v.id, NOW).await.unwrap()),
        ["v1"]
    );
}

pub(crate) async fn a_user_keeps_only_the_newest_remembered_browsers(store: Arc<dyn Store>) {
    let u = user(&*store, "kim").await;
    let v = user(&*store, "kit").await;
    store
        .insert_remembered_browser(&browser("v1", v.id, NOW - 9), 2)
        .await
        .unwrap();
    for (i, hash) in ["k1", "k2", "k3"].iter().enumerate() {
        store
            .insert_remembered_browser(&browser(hash, u.id, NOW + i as i64), 2)
            .await
            .unwrap();
    }
    assert_eq!(
        hashes(&store.user_remembered_browsers(u.id, NOW).await.unwrap()),
        ["k3", "k2"],
        "the oldest went"
    );
    assert_eq!(
        hashes(&store.user_remembered_browsers(v.id, NOW).await.unwrap()),
        ["v1"],
        "another user's are not counted"
    );
}
