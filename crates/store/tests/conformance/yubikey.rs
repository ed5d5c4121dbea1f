//! YubiKeys: public ids, bulk import, and the release of self-enrolled keys by an import.

use std::sync::Arc;

use twofold_core::crypto::Sealed;
use twofold_core::factor::FactorData;
use twofold_core::store::{ConfirmOutcome, Store, StoreError};

use crate::support::{NOW, codes, confirmation, fid, user, yubikey};

pub(crate) async fn yubikey_public_ids_are_unique_and_found(store: Arc<dyn Store>) {
    let alice = user(store.as_ref(), "alice").await;
    let bob = user(store.as_ref(), "bob").await;
    // Pending factors hold no public id until confirmed.
    store
        .insert_factor(&yubikey(alice.id, 1, None, false))
        .await
        .unwrap();
    store
        .insert_factor(&yubikey(bob.id, 2, None, false))
        .await
        .unwrap();
    assert!(!store.public_id_taken("cccccccccccb").await.unwrap());
    let mut c = confirmation(alice.id, 1, "a");
    c.public_id = Some("cccccccccccb".into());
    c.counter = Some((0x0100, 0));
    assert_eq!(
        store.confirm_factor(&c).await.unwrap(),
        ConfirmOutcome::Confirmed {
            codes_created: true
        }
    );
    assert!(store.public_id_taken("cccccccccccb").await.unwrap());
    let found = store
        .factor_by_public_id("cccccccccccb")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, fid(1));
    let FactorData::Yubikey(y) = &found.data else {
        panic!("{found:?}")
    };
    assert_eq!(
        (y.public_id.as_deref(), y.last_counter),
        (Some("cccccccccccb"), Some(0x0100))
    );
    assert_eq!(y.secret, Some(Sealed(vec![7; 50])));
    assert!(!y.self_enrolled);
    let FactorData::Yubikey(bobs) = store.factor(bob.id, &fid(2)).await.unwrap().unwrap().data
    else {
        panic!("not a YubiKey")
    };
    assert!(bobs.self_enrolled, "the self-enrolled mark round-trips");
    // Bob confirming the same key: a conflict, and his factor stays pending.
    let mut c = confirmation(bob.id, 2, "b");
    c.public_id = Some("cccccccccccb".into());
    assert!(matches!(
        store.confirm_factor(&c).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        !store
            .factor(bob.id, &fid(2))
            .await
            .unwrap()
            .unwrap()
            .confirmed
    );
    assert!(store.backup_codes(bob.id).await.unwrap().is_empty());
    // A key inserted with a taken public id is a conflict too.
    assert!(matches!(
        store
            .insert_factor(&yubikey(bob.id, 3, Some("cccccccccccb"), true))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .factor_by_public_id("vvvvvvvvvvvv")
            .await
            .unwrap()
            .is_none()
    );
    // The counter is consumed like any other: strictly above the last.
    assert!(
        !store
            .consume_counter(&fid(1), 0x0100, 0, NOW + 9)
            .await
            .unwrap()
    );
    assert!(
        store
            .consume_counter(&fid(1), 0x0101, 0, NOW + 9)
            .await
            .unwrap()
    );
    assert!(
        store
            .consume_counter(&fid(1), 0x0200, 0, NOW + 9)
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_counter(&fid(1), 0x01ff, 0, NOW + 9)
            .await
            .unwrap()
    );
}

pub(crate) async fn yubikey_import_is_all_or_nothing(store: Arc<dyn Store>) {
    let alice = user(store.as_ref(), "alice").await;
    let bob = user(store.as_ref(), "bob").await;
    store
        .insert_factor(&yubikey(bob.id, 9, Some("vvvvvvvvvvvv"), true))
        .await
        .unwrap();
    // The second row's public id is taken: neither row is written.
    let batch = [
        yubikey(alice.id, 1, Some("cccccccccccb"), true),
        yubikey(alice.id, 2, Some("vvvvvvvvvvvv"), true),
    ];
    assert!(matches!(
        store.insert_factors(&batch).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.factors_of(alice.id).await.unwrap().is_empty());
    let batch = [
        yubikey(alice.id, 1, Some("cccccccccccb"), true),
        yubikey(alice.id, 2, Some("cccccccccccd"), true),
    ];
    store.insert_factors(&batch).await.unwrap();
    assert_eq!(store.factors_of(alice.id).await.unwrap().len(), 2);
    assert_eq!(
        store
            .factor_by_public_id("cccccccccccd")
            .await
            .unwrap()
            .unwrap()
            .user_id,
        alice.id
    );
}

pub(crate) async fn yubikey_import_releases_self_enrolled_keys_in_its_transaction(
    store: Arc<dyn Store>,
) {
    let alice = user(store.as_ref(), "alice").await;
    let bob = user(store.as_ref(), "bob").await;
    let mallory = user(store.as_ref(), "mallory").await;
    let dave = user(store.as_ref(), "dave").await;
    let self_enrolled = |user_id: i64, n: u64, public_id: &str| {
        let mut f = yubikey(user_id, n, Some(public_id), true);
        if let FactorData::Yubikey(y) = &mut f.data {
            y.self_enrolled = true;
        }
        f
    };
    let squat = self_enrolled(mallory.id, 20, "cccccccccccb");
    store.insert_factor(&squat).await.unwrap();
    store
        .replace_backup_codes(mallory.id, &codes("m"))
        .await
        .unwrap();
    store
        .insert_factor(&yubikey(bob.id, 9, Some("vvvvvvvvvvvv"), true))
        .await
        .unwrap();
    let (mallory_id, alice_id) = (mallory.id, alice.id);
    let mallory_keeps = |store: Arc<dyn Store>| async move {
        assert_eq!(
            store
                .factor_by_public_id("cccccccccccb")
                .await
                .unwrap()
                .unwrap()
                .user_id,
            mallory_id
        );
        assert_eq!(store.backup_codes(mallory_id).await.unwrap().len(), 10);
        assert!(store.factors_of(alice_id).await.unwrap().is_empty());
    };

    // A factor to release that no longer holds the public id it was read with: nothing.
    let stale = self_enrolled(mallory.id, 20, "cccccccccccd");
    let imported = yubikey(alice.id, 1, Some("cccccccccccb"), true);
    assert!(
        !store
            .import_factors_releasing(
                std::slice::from_ref(&stale),
                std::slice::from_ref(&imported)
            )
            .await
            .unwrap()
    );
    mallory_keeps(store.clone()).await;

    // Another row's public id is taken: the release is undone with the rest.
    let batch = [
        imported.clone(),
        yubikey(alice.id, 3, Some("vvvvvvvvvvvv"), true),
    ];
    assert!(matches!(
        store
            .import_factors_releasing(std::slice::from_ref(&squat), &batch)
            .await,
        Err(StoreError::Conflict(_))
    ));
    mallory_keeps(store.clone()).await;

    // Released and imported at once; Mallory, left without a confirmed factor, loses her
    // backup codes.
    assert!(
        store
            .import_factors_releasing(
                std::slice::from_ref(&squat),
                std::slice::from_ref(&imported)
            )
            .await
            .unwrap()
    );
    let holder = store
        .factor_by_public_id("cccccccccccb")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((holder.user_id, holder.id.clone()), (alice.id, fid(1)));
    assert!(store.factors_of(mallory.id).await.unwrap().is_empty());
    assert!(store.backup_codes(mallory.id).await.unwrap().is_empty());
    // Releasing it again finds nothing to release.
    assert!(
        !store
            .import_factors_releasing(std::slice::from_ref(&squat), &[])
            .await
            .unwrap()
    );

    // A user's own self-enrolled key replaced by the imported one keeps their backup codes.
    let own = self_enrolled(dave.id, 40, "cccccccccccf");
    store.insert_factor(&own).await.unwrap();
    store
        .replace_backup_codes(dave.id, &codes("d"))
        .await
        .unwrap();
    assert!(
        store
            .import_factors_releasing(
                std::slice::from_ref(&own),
                &[yubikey(dave.id, 41, Some("cccccccccccf"), true)],
            )
            .await
            .unwrap()
    );
    let daves = store.factors_of(dave.id).await.unwrap();
    assert_eq!(daves.len(), 1);
    assert_eq!(daves[0].id, fid(41));
    assert_eq!(store.backup_codes(dave.id).await.unwrap().len(), 10);
}
