//! Portal sessions and device cookies.

use std::sync::Arc;

use twofold_core::store::Store;

use crate::support::{NOW, user};

pub(crate) async fn sessions_advance_once_and_expire(store: Arc<dyn Store>) {
    use twofold_core::session::{Session, Stage};
    let u = user(&*store, "abe").await;
    let s = |hash: &str, stage| Session {
        id_hash: hash.to_owned(),
        user_id: u.id,
        stage,
        created_at: NOW,
        expires_at: NOW + 300,
        next: Some("/admin".into()),
        login_at: NOW - 10,
        last_seen_at: NOW,
        step_up_at: None,
        ip: Some("192.0.2.7".into()),
        user_agent: Some("Firefox on Linux".into()),
        two_factor_at: None,
    };
    store
        .insert_session(&s("a", Stage::SecondFactor))
        .await
        .unwrap();
    assert_eq!(
        store.session("a").await.unwrap(),
        Some(s("a", Stage::SecondFactor))
    );
    assert!(
        store
            .replace_session("a", &s("b", Stage::Full))
            .await
            .unwrap()
    );
    assert!(
        !store
            .replace_session("a", &s("c", Stage::Full))
            .await
            .unwrap(),
        "once"
    );
    assert_eq!(store.session("a").await.unwrap(), None);
    assert!(
        store.session("c").await.unwrap().is_none(),
        "nothing written when it lost"
    );
    store.touch_session("b", NOW + 60, NOW + 999).await.unwrap();
    let b = store.session("b").await.unwrap().unwrap();
    assert_eq!((b.last_seen_at, b.expires_at), (NOW + 60, NOW + 999));
    // A use at the same time or earlier is recorded already: nothing is written.
    store
        .touch_session("b", NOW + 60, NOW + 1000)
        .await
        .unwrap();
    store
        .touch_session("b", NOW + 59, NOW + 1001)
        .await
        .unwrap();
    let b = store.session("b").await.unwrap().unwrap();
    assert_eq!((b.last_seen_at, b.expires_at), (NOW + 60, NOW + 999));
    assert_eq!((b.login_at, b.ip.as_deref()), (NOW - 10, Some("192.0.2.7")));
    assert_eq!(b.step_up_at, None);
    store.set_session_step_up("b", NOW + 61).await.unwrap();
    assert_eq!(
        store.session("b").await.unwrap().unwrap().step_up_at,
        Some(NOW + 61)
    );
    // A one-factor stage and the time of a second factor are kept as written.
    let f = Session {
        stage: Stage::OneFactor,
        two_factor_at: Some(NOW - 5),
        ..s("f", Stage::OneFactor)
    };
    store.insert_session(&f).await.unwrap();
    assert_eq!(store.session("f").await.unwrap(), Some(f.clone()));
    // The same session with its user, in one read.
    let (joined, owner) = store.session_with_user("f").await.unwrap().unwrap();
    assert_eq!(joined, f);
    assert_eq!(owner, store.user_by_id(u.id).await.unwrap().unwrap());
    assert!(store.session_with_user("nope").await.unwrap().is_none());
    store.delete_session("f").await.unwrap();
    store.insert_session(&s("d", Stage::Full)).await.unwrap();
    assert_eq!(store.purge_expired_sessions(NOW + 301).await.unwrap(), 1);
    assert!(store.session("d").await.unwrap().is_none());

    // The owner's list, and signing one session out: only the owner's own.
    let other = user(&*store, "abigail").await;
    store.insert_session(&s("e", Stage::Full)).await.unwrap();
    let listed: Vec<String> = store
        .user_sessions(u.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id_hash)
        .collect();
    assert_eq!(listed, ["b", "e"]);
    assert!(!store.delete_user_session(other.id, "e").await.unwrap());
    assert!(store.delete_user_session(u.id, "e").await.unwrap());
    assert!(store.session("e").await.unwrap().is_none());
    assert_eq!(
        store.delete_user_sessions(u.id).await.unwrap(),
        1,
        "how many ended"
    );
    assert!(store.session("b").await.unwrap().is_none());
    assert_eq!(store.delete_user_sessions(u.id).await.unwrap(), 0);
}

pub(crate) async fn device_cookies_are_bound_to_their_user(store: Arc<dyn Store>) {
    let u = user(&*store, "dora").await;
    let v = user(&*store, "dexter").await;
    let add = |hash: &'static str, user: i64, at: i64, replaces: Option<&'static str>, keep| {
        let store = store.clone();
        async move {
            store
                .insert_device(hash, user, at, NOW + 100, replaces, keep)
                .await
                .unwrap()
        }
    };
    add("h1", u.id, NOW, None, 20).await;
    add("h2", v.id, NOW, None, 20).await;
    // A browser's new cookie replaces its previous one (only the same user's), and a user keeps
    // only the newest few.
    add("h3", u.id, NOW + 1, Some("h1"), 20).await;
    assert_eq!(store.device_user("h1", NOW).await.unwrap(), None);
    add("h4", u.id, NOW + 2, Some("h2"), 20).await;
    assert_eq!(
        store.device_user("h2", NOW).await.unwrap(),
        Some(v.id),
        "not u's to replace"
    );
    add("h5", u.id, NOW + 3, None, 2).await;
    assert_eq!(
        store.device_user("h3", NOW).await.unwrap(),
        None,
        "the oldest went"
    );
    assert_eq!(store.device_user("h4", NOW).await.unwrap(), Some(u.id));
    assert_eq!(store.device_user("h5", NOW).await.unwrap(), Some(u.id));
    add("h1", u.id, NOW + 4, None, 20).await;
    assert_eq!(store.device_user("h1", NOW).await.unwrap(), Some(u.id));
    assert_eq!(
        store.device_user("h1", NOW + 100).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(store.device_user("nope", NOW).await.unwrap(), None);
    store.delete_user_devices(u.id).await.unwrap();
    assert_eq!(store.device_user("h1", NOW).await.unwrap(), None);
    assert_eq!(store.device_user("h2", NOW).await.unwrap(), Some(v.id));
    assert_eq!(store.purge_devices(NOW + 100).await.unwrap(), 1);
    assert_eq!(store.device_user("h2", NOW).await.unwrap(), None);
}
