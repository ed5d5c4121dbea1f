//! Users: uniqueness, patches, listing and search, reset, and the user read with their factors.

use std::sync::Arc;

use twofold_core::identity::Role;
use twofold_core::store::{Store, StoreError, User, UserPatch, UserQuery};

use crate::support::{NOW, email_factor, enrolled, fid, lock, new_user, totp, user, yubikey};

pub(crate) async fn migrate_is_idempotent_and_ping_answers(store: Arc<dyn Store>) {
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}

pub(crate) async fn users_are_unique_by_key(store: Arc<dyn Store>) {
    let mut alice = new_user("Alice");
    alice.role = Role::Admin;
    alice.email = Some("alice@example.org".into());
    alice.phone = Some("+15550109999".into());
    alice.password_hash = Some("$argon2id$x".into());
    let created = store.insert_user(&alice).await.unwrap();
    assert_eq!(created.username, "Alice");
    assert_eq!(created.role, Role::Admin);
    assert_eq!(created.email.as_deref(), Some("alice@example.org"));
    assert_eq!(created.phone.as_deref(), Some("+15550109999"));
    assert_eq!(created.password_hash.as_deref(), Some("$argon2id$x"));
    assert!(!created.disabled);
    assert_eq!(created.failed_attempts, 0);
    assert_eq!(created.locked_until, None);
    assert_eq!(created.created_at, NOW);

    assert_eq!(
        store.user_by_name("alice").await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(
        store.user_by_id(created.id).await.unwrap(),
        Some(created.clone())
    );
    assert_eq!(store.user_by_name("bob").await.unwrap(), None);
    assert_eq!(store.user_by_id(created.id + 1000).await.unwrap(), None);

    let err = store.insert_user(&new_user("ALICE")).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict("user")), "{err:?}");

    let bob = user(&*store, "bob").await;
    assert_ne!(bob.id, created.id);
    assert_eq!(store.count_users(None).await.unwrap(), 2);
    assert_eq!(store.count_users(Some(Role::Admin)).await.unwrap(), 1);
    assert_eq!(store.count_users(Some(Role::Client)).await.unwrap(), 1);
    assert_eq!(store.count_users(Some(Role::Owner)).await.unwrap(), 0);

    assert!(store.set_password(bob.id, "$argon2id$y").await.unwrap());
    assert!(
        !store
            .set_password(bob.id + 1000, "$argon2id$y")
            .await
            .unwrap()
    );
    let bob = store.user_by_id(bob.id).await.unwrap().unwrap();
    assert_eq!(bob.password_hash.as_deref(), Some("$argon2id$y"));
}

pub(crate) async fn user_patch_semantics(store: Arc<dyn Store>) {
    let mut carol = new_user("carol");
    carol.email = Some("carol@example.org".into());
    carol.phone = Some("+15550100000".into());
    let carol = store.insert_user(&carol).await.unwrap();

    // An empty patch changes nothing.
    let same = store
        .update_user(carol.id, &UserPatch::default())
        .await
        .unwrap();
    assert_eq!(same, Some(carol.clone()));

    let patched = store
        .update_user(
            carol.id,
            &UserPatch {
                email: Some(Some("c@example.com".into())),
                role: Some(Role::Owner),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched.email.as_deref(), Some("c@example.com"));
    assert_eq!(patched.phone.as_deref(), Some("+15550100000"));
    assert_eq!(patched.role, Role::Owner);
    assert!(!patched.disabled);

    let patched = store
        .update_user(
            carol.id,
            &UserPatch {
                phone: Some(None),
                disabled: Some(true),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(patched.email.as_deref(), Some("c@example.com"));
    assert_eq!(patched.phone, None);
    assert!(patched.disabled);
    assert_eq!(store.user_by_id(carol.id).await.unwrap(), Some(patched));

    let enabled = store
        .update_user(
            carol.id,
            &UserPatch {
                disabled: Some(false),
                email: Some(None),
                ..UserPatch::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert!(!enabled.disabled);
    assert_eq!(enabled.email, None);

    assert_eq!(
        store
            .update_user(carol.id + 1000, &UserPatch::default())
            .await
            .unwrap(),
        None
    );
}

pub(crate) async fn list_search_and_paging(store: Arc<dyn Store>) {
    for (name, email) in [
        ("Dave", Some("dave@Example.org")),
        ("erin", None),
        ("alice", Some("a.lice@corp.io")),
        ("Bob_1", Some("bob@example.org")),
        ("bobby", None),
        // A name cannot hold `%`; an address can.
        ("x_y", Some("x%y@test.net")),
    ] {
        let mut u = new_user(name);
        u.email = email.map(str::to_owned);
        store.insert_user(&u).await.unwrap();
    }
    let names = |users: Vec<User>| users.into_iter().map(|u| u.username).collect::<Vec<_>>();
    let all = |search: Option<&str>, offset, limit| UserQuery {
        search: search.map(str::to_owned),
        offset,
        limit,
    };

    assert_eq!(
        names(store.list_users(&all(None, 0, 100)).await.unwrap()),
        ["alice", "Bob_1", "bobby", "Dave", "erin", "x_y"]
    );
    // A limit of 0 means no limit.
    assert_eq!(store.list_users(&all(None, 0, 0)).await.unwrap().len(), 6);
    assert_eq!(
        names(store.list_users(&all(None, 1, 2)).await.unwrap()),
        ["Bob_1", "bobby"]
    );
    assert_eq!(
        names(store.list_users(&all(None, 5, 10)).await.unwrap()),
        ["x_y"]
    );
    assert!(
        store
            .list_users(&all(None, 6, 10))
            .await
            .unwrap()
            .is_empty()
    );

    // Case-insensitive, in usernames and emails.
    assert_eq!(
        names(store.list_users(&all(Some("BOB"), 0, 100)).await.unwrap()),
        ["Bob_1", "bobby"]
    );
    assert_eq!(
        names(
            store
                .list_users(&all(Some("EXAMPLE"), 0, 100))
                .await
                .unwrap()
        ),
        ["Bob_1", "Dave"]
    );
    assert_eq!(
        names(store.list_users(&all(Some("lice"), 0, 100)).await.unwrap()),
        ["alice"]
    );
    // Pattern characters are taken literally.
    assert_eq!(
        names(store.list_users(&all(Some("%"), 0, 100)).await.unwrap()),
        ["x_y"]
    );
    assert_eq!(
        names(store.list_users(&all(Some("b_"), 0, 100)).await.unwrap()),
        ["Bob_1"]
    );
    assert!(
        store
            .list_users(&all(Some("nobody"), 0, 100))
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn reset_user_clears_everything(store: Arc<dyn Store>) {
    let u = enrolled(&*store, "trent", 1).await;
    let v = enrolled(&*store, "ursula", 2).await;
    store
        .insert_factor(&email_factor(u.id, 3, false))
        .await
        .unwrap();
    for _ in 0..3 {
        store.begin_attempt(u.id, NOW, 3).await.unwrap();
    }
    lock(&*store, u.id, NOW, 900).await.unwrap();

    store.reset_user(u.id).await.unwrap();
    assert!(store.factors_of(u.id).await.unwrap().is_empty());
    assert!(store.backup_codes(u.id).await.unwrap().is_empty());
    assert_eq!(store.unused_backup_codes(u.id).await.unwrap(), 0);
    let after = store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(after.failed_attempts, 0);
    assert_eq!(after.locked_until, None);

    assert_eq!(store.factors_of(v.id).await.unwrap().len(), 1);
    assert_eq!(store.unused_backup_codes(v.id).await.unwrap(), 10);
    // Resetting a user with nothing, or no user, is fine.
    store.reset_user(u.id).await.unwrap();
    store.reset_user(u.id + 1000).await.unwrap();
}

pub(crate) async fn user_with_factors_is_one_read_of_both(store: Arc<dyn Store>) {
    assert!(store.user_with_factors("nobody").await.unwrap().is_none());
    let u = user(store.as_ref(), "alice").await;
    let (got, factors) = store.user_with_factors("alice").await.unwrap().unwrap();
    assert_eq!((got, factors), (u.clone(), vec![]));
    let other = user(store.as_ref(), "bob").await;
    store.insert_factor(&totp(u.id, 1, true)).await.unwrap();
    store
        .insert_factor(&email_factor(u.id, 2, false))
        .await
        .unwrap();
    store
        .insert_factor(&yubikey(u.id, 3, Some("cccccccccccb"), true))
        .await
        .unwrap();
    store.insert_factor(&totp(other.id, 4, true)).await.unwrap();
    let (got, factors) = store.user_with_factors("alice").await.unwrap().unwrap();
    assert_eq!(got, store.user_by_id(u.id).await.unwrap().unwrap());
    assert_eq!(factors, store.factors_of(u.id).await.unwrap());
    assert_eq!(factors.len(), 3);
}

/// Many users with their factors at once: each user once with all their factors, oldest
/// first; keys with no user left out, across the statements a long list takes.
pub(crate) async fn users_with_factors_reads_many_at_once(store: Arc<dyn Store>) {
    let ann = user(&*store, "Ann").await;
    let ben = user(&*store, "ben").await;
    let _cat = user(&*store, "cat").await;
    store.insert_factor(&totp(ann.id, 1, true)).await.unwrap();
    store.insert_factor(&totp(ann.id, 2, false)).await.unwrap();
    store.insert_factor(&totp(ben.id, 3, true)).await.unwrap();
    let mut keys: Vec<String> = (0..1500).map(|i| format!("nobody{i}")).collect();
    keys.insert(700, "ann".into());
    keys.push("ben".into());
    let mut got = store.users_with_factors(&keys).await.unwrap();
    got.sort_by_key(|(u, _)| u.id);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, ann);
    let ids: Vec<_> = got[0].1.iter().map(|f| f.id.clone()).collect();
    assert_eq!(ids, [fid(1), fid(2)]);
    assert_eq!(got[1].0, ben);
    assert_eq!(got[1].1.len(), 1);
    assert!(store.users_with_factors(&[]).await.unwrap().is_empty());
}
