//! Factors: storage, removal that keeps the last usable factor, and confirmation with its
//! backup codes.

use std::sync::Arc;

use tokio::task::JoinSet;
use twofold_core::factor::{FactorData, FactorKind};
use twofold_core::store::{ConfirmOutcome, FactorRemoval, Store, StoreError};
use twofold_otp::{Algorithm, Digits};

use crate::support::{NOW, codes, confirmation, email_factor, enrolled, fid, lookups, totp, user};

pub(crate) async fn factors_round_trip(store: Arc<dyn Store>) {
    let u = user(&*store, "frank").await;
    let other = user(&*store, "grace").await;

    let mut t = totp(u.id, 1, true);
    t.last_used_at = Some(NOW + 1);
    if let FactorData::Totp(d) = &mut t.data {
        d.last_step = Some(58_333_333);
        d.drift = -1;
        d.algorithm = Algorithm::Sha512;
    }
    let e = email_factor(u.id, 2, false);
    let mut sha1 = totp(u.id, 3, false);
    if let FactorData::Totp(d) = &mut sha1.data {
        d.algorithm = Algorithm::Sha1;
        d.digits = Digits::SIX;
        d.period = 60;
    }
    for f in [&t, &e, &sha1] {
        store.insert_factor(f).await.unwrap();
    }
    store
        .insert_factor(&email_factor(other.id, 4, true))
        .await
        .unwrap();

    // Oldest first; factors of one second keep their insertion order.
    assert_eq!(
        store.factors_of(u.id).await.unwrap(),
        vec![t.clone(), e.clone(), sha1.clone()]
    );
    assert_eq!(store.factor(u.id, &fid(1)).await.unwrap(), Some(t.clone()));
    assert_eq!(store.factor(u.id, &fid(2)).await.unwrap(), Some(e));
    assert_eq!(store.factor(u.id, &fid(9)).await.unwrap(), None);
    // Another user's factor is not found through this user.
    assert_eq!(store.factor(u.id, &fid(4)).await.unwrap(), None);
    assert!(!store.delete_factor(u.id, &fid(4)).await.unwrap());
    assert!(!store.reset_drift(u.id, &fid(4)).await.unwrap());

    let err = store
        .insert_factor(&totp(u.id, 1, false))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("factor")), "{err:?}");

    assert!(store.reset_drift(u.id, &fid(1)).await.unwrap());
    let reset = store.factor(u.id, &fid(1)).await.unwrap().unwrap();
    let FactorData::Totp(d) = &reset.data else {
        panic!("not TOTP")
    };
    assert_eq!(d.drift, 0);
    assert_eq!(d.last_step, Some(58_333_333));

    assert!(store.delete_factor(u.id, &fid(2)).await.unwrap());
    assert!(!store.delete_factor(u.id, &fid(2)).await.unwrap());
    assert_eq!(store.factors_of(u.id).await.unwrap(), vec![reset, sha1]);
    assert_eq!(store.factors_of(other.id).await.unwrap().len(), 1);
}

/// An HOTP factor keeps its parameters and the last counter it accepted (`last_counter`): the
/// confirmation sets it, and a counter is consumed once, only above it — on the hot path's read
/// and write as through sqlx.
pub(crate) async fn hotp_factors_keep_their_counter(store: Arc<dyn Store>) {
    use twofold_core::crypto::Sealed;
    use twofold_core::factor::{Factor, HotpData};
    let u = user(&*store, "hank").await;
    let token = Factor {
        id: fid(7),
        user_id: u.id,
        label: "fob".into(),
        confirmed: false,
        created_at: NOW,
        last_used_at: None,
        data: FactorData::Hotp(HotpData {
            secret: Sealed(vec![9, 8, 7]),
            algorithm: Algorithm::Sha512,
            digits: Digits::EIGHT,
            last_counter: None,
        }),
    };
    store.insert_factor(&token).await.unwrap();
    assert_eq!(
        store.factor(u.id, &fid(7)).await.unwrap(),
        Some(token.clone())
    );
    let (_, read) = store.user_with_factors("hank").await.unwrap().unwrap();
    assert_eq!(read, vec![token.clone()]);
    assert_eq!(read[0].kind(), FactorKind::Hotp);

    // Nothing is consumed before the confirmation.
    assert!(!store.consume_counter(&fid(7), 0, 0, NOW).await.unwrap());
    let mut c = confirmation(u.id, 7, "hotp");
    c.counter = Some((3, 0));
    assert!(matches!(
        store.confirm_factor(&c).await.unwrap(),
        ConfirmOutcome::Confirmed { .. }
    ));
    let last = |f: Option<twofold_core::factor::Factor>| match f.unwrap().data {
        FactorData::Hotp(h) => h.last_counter,
        other => panic!("not HOTP: {other:?}"),
    };
    assert_eq!(last(store.factor(u.id, &fid(7)).await.unwrap()), Some(3));
    for used in [3, 2, 0] {
        assert!(
            !store.consume_counter(&fid(7), used, 0, NOW).await.unwrap(),
            "{used}"
        );
    }
    assert!(
        store
            .consume_counter(&fid(7), 12, 0, NOW + 6)
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_counter(&fid(7), 12, 0, NOW + 6)
            .await
            .unwrap()
    );
    let (_, read) = store.user_with_factors("hank").await.unwrap().unwrap();
    assert_eq!(last(read.into_iter().next()), Some(12));
    let f = store.factor(u.id, &fid(7)).await.unwrap().unwrap();
    let FactorData::Hotp(h) = &f.data else {
        panic!("not HOTP")
    };
    assert_eq!(
        (h.algorithm, h.digits, h.next()),
        (Algorithm::Sha512, Digits::EIGHT, 13)
    );
    assert_eq!(f.last_used_at, Some(NOW + 6));
}

pub(crate) async fn deleting_the_last_confirmed_factor_drops_backup_codes(store: Arc<dyn Store>) {
    let u = enrolled(&*store, "heidi", 1).await;
    store.insert_factor(&totp(u.id, 2, false)).await.unwrap();
    store
        .confirm_factor(&confirmation(u.id, 2, "ignored"))
        .await
        .unwrap();
    store
        .insert_factor(&email_factor(u.id, 3, false))
        .await
        .unwrap();
    assert_eq!(store.unused_backup_codes(u.id).await.unwrap(), 10);

    // A pending factor, then one of two confirmed factors: the codes stay.
    assert!(store.delete_factor(u.id, &fid(3)).await.unwrap());
    assert_eq!(store.unused_backup_codes(u.id).await.unwrap(), 10);
    assert!(store.delete_factor(u.id, &fid(1)).await.unwrap());
    assert_eq!(store.unused_backup_codes(u.id).await.unwrap(), 10);

    // A pending factor does not keep them once the last confirmed one goes.
    store
        .insert_factor(&email_factor(u.id, 4, false))
        .await
        .unwrap();
    assert!(store.delete_factor(u.id, &fid(2)).await.unwrap());
    assert!(store.backup_codes(u.id).await.unwrap().is_empty());
    assert_eq!(store.factors_of(u.id).await.unwrap().len(), 1);
}

pub(crate) async fn the_last_usable_factor_stays(store: Arc<dyn Store>) {
    use FactorRemoval::{LastUsable, NotFound, Removed};
    let u = enrolled(&*store, "hank", 1).await;
    let other = enrolled(&*store, "hope", 9).await;
    store.insert_factor(&totp(u.id, 2, true)).await.unwrap();
    store
        .insert_factor(&email_factor(u.id, 3, true))
        .await
        .unwrap();
    store.insert_factor(&totp(u.id, 4, false)).await.unwrap();
    const APP: &[FactorKind] = &[FactorKind::Totp];
    let remove = |n: u64, usable: &'static [FactorKind]| {
        let store = store.clone();
        async move {
            store
                .delete_factor_unless_last(u.id, &fid(n), usable)
                .await
                .unwrap()
        }
    };

    // A pending factor, then one of two usable ones, go; the last usable one stays.
    assert_eq!(remove(4, APP).await, Removed);
    assert_eq!(remove(1, APP).await, Removed);
    assert_eq!(remove(2, APP).await, LastUsable);
    assert!(store.factor(u.id, &fid(2)).await.unwrap().is_some());
    assert_eq!(store.unused_backup_codes(u.id).await.unwrap(), 10);
    // A confirmed factor of a kind that is not usable never counts: it goes, and keeps nothing.
    store.insert_factor(&totp(u.id, 5, false)).await.unwrap();
    assert_eq!(remove(5, APP).await, Removed);
    assert_eq!(remove(2, &[FactorKind::Email]).await, Removed);
    assert_eq!(remove(3, &[FactorKind::Email]).await, LastUsable);
    assert_eq!(remove(3, APP).await, Removed);
    assert!(store.factors_of(u.id).await.unwrap().is_empty());
    assert!(store.backup_codes(u.id).await.unwrap().is_empty());

    // Unknown ids, another user's factor and unknown users change nothing.
    assert_eq!(remove(3, APP).await, NotFound);
    assert_eq!(remove(9, APP).await, NotFound);
    assert_eq!(remove(9, &[]).await, NotFound);
    assert_eq!(
        store
            .delete_factor_unless_last(u.id + 1000, &fid(9), APP)
            .await
            .unwrap(),
        NotFound
    );
    assert_eq!(store.factors_of(other.id).await.unwrap().len(), 1);
    // With no usable kinds nothing is kept back.
    assert_eq!(
        store
            .delete_factor_unless_last(other.id, &fid(9), &[])
            .await
            .unwrap(),
        Removed
    );
    assert!(store.backup_codes(other.id).await.unwrap().is_empty());
}

pub(crate) async fn concurrent_removals_keep_the_last_usable_factor(store: Arc<dyn Store>) {
    let usable = [FactorKind::Totp, FactorKind::Email];
    let mut tasks = JoinSet::new();
    let mut users = Vec::new();
    for i in 0..8u64 {
        let u = enrolled(&*store, &format!("pair{i}"), 3 * i).await;
        store
            .insert_factor(&email_factor(u.id, 3 * i + 1, true))
            .await
            .unwrap();
        store
            .insert_factor(&totp(u.id, 3 * i + 2, true))
            .await
            .unwrap();
        users.push(u.id);
        for n in [3 * i, 3 * i + 1, 3 * i + 2] {
            let store = store.clone();
            tasks.spawn(async move {
                store
                    .delete_factor_unless_last(u.id, &fid(n), &usable)
                    .await
                    .unwrap()
            });
        }
    }
    let outcomes = tasks.join_all().await;
    let kept = outcomes
        .iter()
        .filter(|o| **o == FactorRemoval::LastUsable)
        .count();
    assert_eq!(kept, users.len(), "{outcomes:?}");
    for id in users {
        assert_eq!(store.factors_of(id).await.unwrap().len(), 1);
        assert_eq!(store.unused_backup_codes(id).await.unwrap(), 10);
    }
}

pub(crate) async fn confirm_factor_once(store: Arc<dyn Store>) {
    let u = user(&*store, "ivan").await;
    let other = user(&*store, "judy").await;
    store.insert_factor(&totp(u.id, 1, false)).await.unwrap();
    store
        .insert_factor(&email_factor(u.id, 2, false))
        .await
        .unwrap();
    store
        .insert_factor(&totp(other.id, 3, false))
        .await
        .unwrap();

    let mut first = confirmation(u.id, 1, "first");
    first.counter = Some((58_000_000, 1));
    assert_eq!(
        store.confirm_factor(&first).await.unwrap(),
        ConfirmOutcome::Confirmed {
            codes_created: true
        }
    );
    let f = store.factor(u.id, &fid(1)).await.unwrap().unwrap();
    assert!(f.confirmed);
    assert_eq!(f.last_used_at, Some(NOW + 5));
    let FactorData::Totp(d) = f.data else {
        panic!("not TOTP")
    };
    assert_eq!(d.last_step, Some(58_000_000));
    assert_eq!(d.drift, 1);
    let stored = store.backup_codes(u.id).await.unwrap();
    assert_eq!(stored, codes("first"));

    // Once only.
    assert_eq!(
        store.confirm_factor(&first).await.unwrap(),
        ConfirmOutcome::NotPending
    );
    // A second factor is confirmed, but the user keeps their codes.
    assert_eq!(
        store
            .confirm_factor(&confirmation(u.id, 2, "second"))
            .await
            .unwrap(),
        ConfirmOutcome::Confirmed {
            codes_created: false
        }
    );
    assert_eq!(store.backup_codes(u.id).await.unwrap(), stored);
    // Unknown factors, other users' factors and unknown users change nothing.
    for c in [
        confirmation(u.id, 9, "x"),
        confirmation(u.id, 3, "x"),
        confirmation(u.id + 1000, 3, "x"),
    ] {
        assert_eq!(
            store.confirm_factor(&c).await.unwrap(),
            ConfirmOutcome::NotPending
        );
    }
    assert!(
        !store
            .factor(other.id, &fid(3))
            .await
            .unwrap()
            .unwrap()
            .confirmed
    );
    assert!(store.backup_codes(other.id).await.unwrap().is_empty());
}

pub(crate) async fn concurrent_confirmations_create_one_set(store: Arc<dyn Store>) {
    let mut tasks = JoinSet::new();
    let mut users = Vec::new();
    for i in 0..8u64 {
        let u = user(&*store, &format!("user{i}")).await;
        store
            .insert_factor(&totp(u.id, 2 * i, false))
            .await
            .unwrap();
        store
            .insert_factor(&email_factor(u.id, 2 * i + 1, false))
            .await
            .unwrap();
        users.push(u.id);
        for n in [2 * i, 2 * i + 1] {
            let store = store.clone();
            let c = confirmation(u.id, n, &format!("set{n}"));
            tasks.spawn(async move { store.confirm_factor(&c).await.unwrap() });
        }
    }
    let outcomes = tasks.join_all().await;
    let created = outcomes
        .iter()
        .filter(|o| {
            **o == ConfirmOutcome::Confirmed {
                codes_created: true,
            }
        })
        .count();
    assert_eq!(created, users.len(), "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, ConfirmOutcome::Confirmed { .. }))
    );
    for id in users {
        let l = lookups(&*store, id).await;
        assert_eq!(l.len(), 10);
        // All ten from one set.
        let prefix = l[0].split('-').next().unwrap().to_owned();
        assert!(l.iter().all(|x| x.starts_with(&format!("{prefix}-"))));
        assert!(
            store
                .factors_of(id)
                .await
                .unwrap()
                .iter()
                .all(|f| f.confirmed)
        );
    }
}
