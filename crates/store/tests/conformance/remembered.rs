//! Remembered browsers (`tf_remember`).

use std::sync::Arc;

use twofold_core::identity::Role;
use twofold_core::session::{Session, Stage};
use twofold_core::store::{RememberedBrowser, Store, StoreError};

use crate::support::{NOW, new_user, user};

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

/// A full session of the user, with this hash.
async fn session(store: &dyn Store, hash: &str, user_id: i64) {
    store
        .insert_session(&Session {
            id_hash: hash.to_owned(),
            user_id,
            stage: Stage::Full,
            created_at: NOW,
            expires_at: NOW + 3600,
            next: None,
            login_at: NOW,
            last_seen_at: NOW,
            step_up_at: Some(NOW),
            ip: None,
            user_agent: None,
            two_factor_at: Some(NOW),
        })
        .await
        .unwrap();
}

/// Remembers `b` for a session of its user made for it; returns the browsers that gave way.
async fn remember(store: &dyn Store, b: &RememberedBrowser, keep: i64) -> Vec<String> {
    let s = format!("session-of-{}", b.token_hash);
    session(store, &s, b.user_id).await;
    store
        .insert_remembered_browser(b, &s, keep)
        .await
        .unwrap()
        .expect("stored while its session exists")
}

pub(crate) async fn remembered_browsers_are_bound_to_their_user_and_expire(store: Arc<dyn Store>) {
    let u = user(&*store, "rita").await;
    let v = user(&*store, "rob").await;
    assert_eq!(store.remembered_browser("r1", NOW).await.unwrap(), None);
    let r1 = browser("r1", u.id, NOW);
    remember(&*store, &r1, 20).await;
    // The same hash twice is a conflict, and changes nothing.
    session(&*store, "sv", v.id).await;
    assert!(matches!(
        store
            .insert_remembered_browser(&browser("r1", v.id, NOW), "sv", 20)
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
    remember(&*store, &browser("r2", u.id, NOW + 1), 20).await;
    remember(&*store, &browser("r3", u.id, NOW - 50), 20).await;
    remember(&*store, &browser("v1", v.id, NOW), 20).await;
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
    remember(&*store, &browser("r4", u.id, NOW + 2), 20).await;
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
    remember(&*store, &browser("v1", v.id, NOW - 9), 2).await;
    let mut evicted = Vec::new();
    for (i, hash) in ["k1", "k2", "k3"].iter().enumerate() {
        evicted.push(remember(&*store, &browser(hash, u.id, NOW + i as i64), 2).await);
    }
    assert_eq!(
        hashes(&store.user_remembered_browsers(u.id, NOW).await.unwrap()),
        ["k3", "k2"],
        "the oldest went"
    );
    assert_eq!(
        evicted,
        [vec![], vec![], vec!["k1".to_owned()]],
        "and the insert that pushed it out names it"
    );
    assert_eq!(
        hashes(&store.user_remembered_browsers(v.id, NOW).await.unwrap()),
        ["v1"],
        "another user's are not counted"
    );
}

pub(crate) async fn a_browser_is_remembered_only_while_its_session_exists(store: Arc<dyn Store>) {
    let u = user(&*store, "sal").await;
    let v = user(&*store, "sam").await;
    session(&*store, "su", u.id).await;
    session(&*store, "sv", v.id).await;
    let b = browser("b1", u.id, NOW);

    // No such session (say it ended by a sign-out everywhere): nothing is stored.
    assert_eq!(
        store
            .insert_remembered_browser(&b, "gone", 20)
            .await
            .unwrap(),
        None
    );
    // Another user's session does not do either.
    assert_eq!(
        store.insert_remembered_browser(&b, "sv", 20).await.unwrap(),
        None
    );
    // Nor one that ended.
    session(&*store, "ended", u.id).await;
    assert_eq!(store.delete_user_sessions(u.id).await.unwrap(), 2);
    assert_eq!(
        store
            .insert_remembered_browser(&b, "ended", 20)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.remembered_browser("b1", NOW).await.unwrap(), None);
    assert!(
        store
            .user_remembered_browsers(u.id, NOW)
            .await
            .unwrap()
            .is_empty()
    );

    // The user's live session does.
    session(&*store, "su2", u.id).await;
    assert_eq!(
        store
            .insert_remembered_browser(&b, "su2", 20)
            .await
            .unwrap(),
        Some(vec![])
    );
    assert_eq!(store.remembered_browser("b1", NOW).await.unwrap(), Some(b));
    assert!(store.session("su2").await.unwrap().is_some(), "kept");
}

pub(crate) async fn remembered_browsers_are_forgotten_by_age_and_role(store: Arc<dyn Store>) {
    let client = user(&*store, "cal").await;
    let admin = store
        .insert_user(&twofold_core::store::NewUser {
            role: Role::Admin,
            ..new_user("ada")
        })
        .await
        .unwrap();
    let owner = store
        .insert_user(&twofold_core::store::NewUser {
            role: Role::Owner,
            ..new_user("oli")
        })
        .await
        .unwrap();
    for (hash, id, at) in [
        ("c-old", client.id, NOW - 10),
        ("c-now", client.id, NOW),
        ("c-new", client.id, NOW + 1),
        ("a-old", admin.id, NOW - 10),
        ("a-new", admin.id, NOW + 1),
        ("o-old", owner.id, NOW - 10),
    ] {
        remember(&*store, &browser(hash, id, at), 20).await;
    }
    let all = |id| {
        let store = store.clone();
        async move {
            let mut h: Vec<String> = store
                .user_remembered_browsers(id, NOW)
                .await
                .unwrap()
                .into_iter()
                .map(|b| b.token_hash)
                .collect();
            h.sort();
            h
        }
    };

    // Those of admins and owners remembered until NOW.
    assert_eq!(
        store.forget_remembered_browsers(NOW, true).await.unwrap(),
        2
    );
    assert_eq!(all(admin.id).await, ["a-new"]);
    assert!(all(owner.id).await.is_empty());
    assert_eq!(all(client.id).await, ["c-new", "c-now", "c-old"]);

    // Everyone's remembered until NOW.
    assert_eq!(
        store.forget_remembered_browsers(NOW, false).await.unwrap(),
        2
    );
    assert_eq!(all(client.id).await, ["c-new"]);
    assert_eq!(all(admin.id).await, ["a-new"]);

    // All of admins' and owners', then all.
    assert_eq!(
        store
            .forget_remembered_browsers(i64::MAX, true)
            .await
            .unwrap(),
        1
    );
    assert_eq!(all(client.id).await, ["c-new"]);
    assert_eq!(
        store
            .forget_remembered_browsers(i64::MAX, false)
            .await
            .unwrap(),
        1
    );
    assert!(all(client.id).await.is_empty());
}

/// A browser remembered while its user signs out everywhere (forget the browsers, end the
/// sessions, forget again) never outlives it, however the two interleave: the insert either
/// finds the session gone, or is done before the sessions end (and the second forgetting
/// takes it).
pub(crate) async fn a_browser_remembered_during_a_sign_out_everywhere_does_not_outlive_it(
    store: Arc<dyn Store>,
) {
    let u = user(&*store, "rae").await;
    for round in 0..30 {
        let s = format!("race-{round}");
        session(&*store, &s, u.id).await;
        let remembering = {
            let store = store.clone();
            let b = browser(&format!("b-{round}"), u.id, NOW);
            tokio::spawn(async move { store.insert_remembered_browser(&b, &s, 20).await })
        };
        let signing_out = {
            let store = store.clone();
            tokio::spawn(async move {
                store.delete_user_remembered_browsers(u.id).await.unwrap();
                store.delete_user_sessions(u.id).await.unwrap();
                store.delete_user_remembered_browsers(u.id).await.unwrap();
            })
        };
        remembering.await.unwrap().unwrap();
        signing_out.await.unwrap();
        assert!(
            store
                .user_remembered_browsers(u.id, NOW)
                .await
                .unwrap()
                .is_empty(),
            "round {round}"
        );
    }
}
