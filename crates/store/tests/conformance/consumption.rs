//! One-time consumption of counters and backup codes, and replacing a set of backup codes.

use std::sync::Arc;

use tokio::task::JoinSet;
use twofold_core::audit::{AuditEvent, AuditFilter, NewAudit};
use twofold_core::factor::FactorData;
use twofold_core::store::{ConfirmOutcome, ImportEntry, ImportedRows, Store, StoreError};

use crate::support::{NOW, codes, confirmation, enrolled, fid, new_user, totp, user};

pub(crate) async fn consume_counter_strictly_increases(store: Arc<dyn Store>) {
    let u = user(&*store, "kim").await;
    store.insert_factor(&totp(u.id, 1, false)).await.unwrap();
    // A pending factor never accepts a code.
    assert!(!store.consume_counter(&fid(1), 100, 0, NOW).await.unwrap());
    store
        .confirm_factor(&confirmation(u.id, 1, "k"))
        .await
        .unwrap();

    assert!(store.consume_counter(&fid(1), 100, 1, NOW).await.unwrap());
    assert!(
        !store
            .consume_counter(&fid(1), 100, 1, NOW + 1)
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_counter(&fid(1), 99, 0, NOW + 2)
            .await
            .unwrap()
    );
    let f = store.factor(u.id, &fid(1)).await.unwrap().unwrap();
    assert_eq!(f.last_used_at, Some(NOW));
    assert!(
        store
            .consume_counter(&fid(1), 102, -2, NOW + 60)
            .await
            .unwrap()
    );
    let f = store.factor(u.id, &fid(1)).await.unwrap().unwrap();
    assert_eq!(f.last_used_at, Some(NOW + 60));
    let FactorData::Totp(d) = f.data else {
        panic!("not TOTP")
    };
    assert_eq!(d.last_step, Some(102));
    assert_eq!(d.drift, -2);
    assert!(
        !store
            .consume_counter(&fid(1), 101, 0, NOW + 61)
            .await
            .unwrap()
    );
    assert!(!store.consume_counter(&fid(7), 500, 0, NOW).await.unwrap());
}

pub(crate) async fn concurrent_counter_consumption_wins_once(store: Arc<dyn Store>) {
    let u = enrolled(&*store, "leo", 1).await;
    for counter in [1_000, 1_001] {
        let mut tasks = JoinSet::new();
        for _ in 0..50 {
            let store = store.clone();
            tasks.spawn(async move {
                store
                    .consume_counter(&fid(1), counter, 0, NOW)
                    .await
                    .unwrap()
            });
        }
        let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
        assert_eq!(wins, 1, "counter {counter}");
    }
    let f = store.factor(u.id, &fid(1)).await.unwrap().unwrap();
    let FactorData::Totp(d) = f.data else {
        panic!("not TOTP")
    };
    assert_eq!(d.last_step, Some(1_001));
}

pub(crate) async fn backup_codes_single_use(store: Arc<dyn Store>) {
    let u = enrolled(&*store, "mallory", 1).await;
    let v = enrolled(&*store, "niaj", 2).await;
    assert_eq!(store.unused_backup_codes(u.id).await.unwrap(), 10);

    assert!(
        store
            .consume_backup_code(u.id, "mallory-03", NOW)
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_backup_code(u.id, "mallory-03", NOW + 1)
            .await
            .unwrap()
    );
    // Another user's code, or an unknown one, is not this user's.
    assert!(
        !store
            .consume_backup_code(u.id, "niaj-04", NOW)
            .await
            .unwrap()
    );
    assert!(!store.consume_backup_code(u.id, "nope", NOW).await.unwrap());
    assert_eq!(store.unused_backup_codes(u.id).await.unwrap(), 9);
    assert_eq!(store.unused_backup_codes(v.id).await.unwrap(), 10);

    let stored = store.backup_codes(u.id).await.unwrap();
    let mut expected = codes("mallory");
    expected[3].used_at = Some(NOW);
    assert_eq!(stored, expected);

    // A new set replaces the old one entirely.
    store
        .replace_backup_codes(u.id, &codes("fresh"))
        .await
        .unwrap();
    assert_eq!(store.backup_codes(u.id).await.unwrap(), codes("fresh"));
    assert!(
        !store
            .consume_backup_code(u.id, "mallory-04", NOW)
            .await
            .unwrap()
    );
    assert!(
        store
            .consume_backup_code(u.id, "fresh-04", NOW)
            .await
            .unwrap()
    );
    assert_eq!(store.unused_backup_codes(u.id).await.unwrap(), 9);
    assert_eq!(store.backup_codes(v.id).await.unwrap(), codes("niaj"));
}

pub(crate) async fn concurrent_backup_code_consumption_wins_once(store: Arc<dyn Store>) {
    let u = enrolled(&*store, "olivia", 1).await;
    let mut tasks = JoinSet::new();
    for i in 0..50 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .consume_backup_code(u.id, "olivia-07", NOW + i)
                .await
                .unwrap()
        });
    }
    let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
    assert_eq!(store.unused_backup_codes(u.id).await.unwrap(), 9);
}

pub(crate) async fn failed_replace_leaves_old_codes(store: Arc<dyn Store>) {
    let u = enrolled(&*store, "peggy", 1).await;
    store
        .consume_backup_code(u.id, "peggy-00", NOW)
        .await
        .unwrap();
    let before = store.backup_codes(u.id).await.unwrap();

    let mut batch = codes("new");
    batch[9].lookup = batch[2].lookup.clone();
    let err = store.replace_backup_codes(u.id, &batch).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.backup_codes(u.id).await.unwrap(), before);

    // A failed confirmation leaves the factor pending and no codes behind.
    let v = user(&*store, "quentin").await;
    store.insert_factor(&totp(v.id, 2, false)).await.unwrap();
    let mut c = confirmation(v.id, 2, "q");
    c.backup_codes[1].lookup = c.backup_codes[0].lookup.clone();
    assert!(store.confirm_factor(&c).await.is_err());
    assert!(
        !store
            .factor(v.id, &fid(2))
            .await
            .unwrap()
            .unwrap()
            .confirmed
    );
    assert!(store.backup_codes(v.id).await.unwrap().is_empty());
    // And the store is still usable afterwards.
    assert!(matches!(
        store
            .confirm_factor(&confirmation(v.id, 2, "q"))
            .await
            .unwrap(),
        ConfirmOutcome::Confirmed {
            codes_created: true
        }
    ));
}

/// An import's factors and backup codes are written together or not at all, beside the codes
/// the user already has; a code the user already has refuses the whole batch.
pub(crate) async fn imported_keys_and_codes_are_one_transaction(store: Arc<dyn Store>) {
    let u = enrolled(&*store, "rupert", 1).await;
    let before = store.backup_codes(u.id).await.unwrap();
    let mut batch = codes("imported");
    batch.truncate(5);
    batch[4].lookup = before[0].lookup.clone();
    let err = store
        .import_user_keys(u.id, &[totp(u.id, 2, true), totp(u.id, 3, true)], &batch)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(store.factor(u.id, &fid(2)).await.unwrap().is_none());
    assert!(store.factor(u.id, &fid(3)).await.unwrap().is_none());
    assert_eq!(store.backup_codes(u.id).await.unwrap(), before);

    batch.truncate(4);
    store
        .import_user_keys(u.id, &[totp(u.id, 2, true)], &batch)
        .await
        .unwrap();
    assert!(
        store
            .factor(u.id, &fid(2))
            .await
            .unwrap()
            .unwrap()
            .confirmed
    );
    let after = store.backup_codes(u.id).await.unwrap();
    assert_eq!(after.len(), before.len() + 4);
    assert!(
        store
            .consume_backup_code(u.id, "imported-03", NOW)
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_backup_code(u.id, "imported-03", NOW)
            .await
            .unwrap()
    );
    // Codes alone (a second run that finds only new scratch codes) are fine too.
    store
        .import_user_keys(u.id, &[], &codes("more")[..1])
        .await
        .unwrap();
    assert_eq!(
        store.unused_backup_codes(u.id).await.unwrap(),
        10 + 4 - 1 + 1
    );
}

/// A batch of users' imports is one commit in which each user is all or nothing: a user whose
/// factors or codes cannot be written is not created either, and the users around it are.
pub(crate) async fn import_batch_writes_each_user_all_or_nothing(store: Arc<dyn Store>) {
    let carl = user(&*store, "carl").await;
    let taken = user(&*store, "taken").await;
    let mut bad_codes = codes("bob");
    bad_codes.truncate(2);
    bad_codes[1].lookup = bad_codes[0].lookup.clone();
    let batch = [
        ImportEntry::Create(new_user("ada")),
        ImportEntry::Create(new_user("bob")),
        ImportEntry::Existing(carl.id),
        ImportEntry::Create(new_user("TAKEN")),
        ImportEntry::Existing(i64::from(i32::MAX)),
        ImportEntry::Create(new_user("dora")),
    ];
    let made = std::sync::Mutex::new(Vec::new());
    let rows = |i: usize, user_id: i64| {
        made.lock().unwrap().push(i);
        let record = |subject: &str| NewAudit {
            at: NOW,
            actor: "cli".into(),
            subject: Some(subject.into()),
            event: AuditEvent::FactorEnrolled,
            ip: None,
            detail: format!("entry {i}"),
        };
        match i {
            0 => ImportedRows {
                factors: vec![totp(user_id, 11, true)],
                backup_codes: codes("ada")[..2].to_vec(),
                audit: vec![record("ada")],
            },
            // The second code's lookup hash is the first's: the user goes too.
            1 => ImportedRows {
                factors: vec![totp(user_id, 12, true)],
                backup_codes: bad_codes.clone(),
                audit: vec![record("bob")],
            },
            2 => ImportedRows {
                factors: vec![totp(user_id, 13, true)],
                ..ImportedRows::default()
            },
            // The factor id is ada's, written before it in the same batch.
            5 => ImportedRows {
                factors: vec![totp(user_id, 14, true), totp(user_id, 11, true)],
                audit: vec![record("dora")],
                ..ImportedRows::default()
            },
            _ => ImportedRows::default(),
        }
    };
    let out = store.import_batch(&batch, &rows).await.unwrap();
    assert_eq!(out.len(), 6);
    let ada = store.user_by_name("ada").await.unwrap().unwrap();
    assert!(matches!(out[0], Ok(id) if id == ada.id), "{out:?}");
    assert!(
        matches!(out[1], Err(StoreError::Conflict("backup code"))),
        "{out:?}"
    );
    assert!(matches!(out[2], Ok(id) if id == carl.id), "{out:?}");
    assert!(
        matches!(out[3], Err(StoreError::Conflict("user"))),
        "{out:?}"
    );
    assert!(
        matches!(out[4], Err(StoreError::Conflict("user"))),
        "{out:?}"
    );
    assert!(
        matches!(out[5], Err(StoreError::Conflict("factor"))),
        "{out:?}"
    );
    // The rows of an entry are made only once its user's row is written.
    assert_eq!(*made.lock().unwrap(), [0, 1, 2, 5]);

    let (_, factors) = store.user_with_factors("ada").await.unwrap().unwrap();
    assert_eq!(factors.len(), 1);
    assert!(factors[0].confirmed);
    assert_eq!(store.unused_backup_codes(ada.id).await.unwrap(), 2);
    assert!(store.user_by_name("bob").await.unwrap().is_none());
    assert!(store.factor(ada.id, &fid(12)).await.unwrap().is_none());
    assert_eq!(store.factors_of(carl.id).await.unwrap().len(), 1);
    assert!(store.factors_of(taken.id).await.unwrap().is_empty());
    assert!(store.user_by_name("dora").await.unwrap().is_none());
    assert_eq!(store.count_users(None).await.unwrap(), 3);
    let audited = |subject: &str| {
        let store = store.clone();
        let filter = AuditFilter {
            subject: Some(subject.into()),
            limit: 10,
            ..AuditFilter::default()
        };
        async move { store.list_audit(&filter).await.unwrap().len() }
    };
    assert_eq!(audited("ada").await, 1);
    assert_eq!(audited("bob").await, 0);
    assert_eq!(audited("dora").await, 0);

    // The store is still usable, and an empty batch writes nothing.
    assert!(store.import_batch(&[], &rows).await.unwrap().is_empty());
    let again = store
        .import_batch(&[ImportEntry::Create(new_user("bob"))], &|_, id| {
            ImportedRows {
                factors: vec![totp(id, 12, true)],
                ..ImportedRows::default()
            }
        })
        .await
        .unwrap();
    let bob = store.user_by_name("bob").await.unwrap().unwrap();
    assert!(matches!(again[..], [Ok(id)] if id == bob.id), "{again:?}");
    assert_eq!(store.factors_of(bob.id).await.unwrap().len(), 1);
}

/// A batch larger than one multi-row statement is written whole; a batch that conflicts only
/// once its rows are made (a factor id taken within it) is written again entry by entry, all
/// but the conflicting entry.
pub(crate) async fn import_batch_of_many_users_writes_them_all(store: Arc<dyn Store>) {
    let mut batch = Vec::new();
    for i in 0..300 {
        let u = user(&*store, &format!("old{i:04}")).await;
        batch.push(ImportEntry::Existing(u.id));
    }
    for i in 0..1200 {
        batch.push(ImportEntry::Create(new_user(&format!("new{i:04}"))));
    }
    let rows = |i: usize, user_id: i64| ImportedRows {
        factors: vec![totp(user_id, 100_000 + i as u64, true)],
        backup_codes: codes(&format!("c{i}"))[..1].to_vec(),
        audit: vec![NewAudit {
            at: NOW,
            actor: "cli".into(),
            subject: Some(format!("entry{i}")),
            event: AuditEvent::FactorEnrolled,
            ip: None,
            detail: String::new(),
        }],
    };
    let out = store.import_batch(&batch, &rows).await.unwrap();
    assert_eq!(out.len(), 1500);
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    assert_eq!(store.count_users(None).await.unwrap(), 1500);
    for (i, name) in [
        (0, "old0000"),
        (299, "old0299"),
        (300, "new0000"),
        (1499, "new1199"),
    ] {
        let (u, factors) = store.user_with_factors(name).await.unwrap().unwrap();
        assert!(matches!(out[i], Ok(id) if id == u.id));
        assert_eq!(factors.len(), 1, "{name}");
        assert_eq!(factors[0].id, fid(100_000 + i as u64));
        assert_eq!(store.unused_backup_codes(u.id).await.unwrap(), 1, "{name}");
        let filter = AuditFilter {
            subject: Some(format!("entry{i}")),
            limit: 10,
            ..AuditFilter::default()
        };
        assert_eq!(store.list_audit(&filter).await.unwrap().len(), 1);
    }

    // Two new users given the same factor id: the first is written, the second refused whole.
    let calls = std::sync::Mutex::new(Vec::new());
    let clash = |i: usize, user_id: i64| {
        calls.lock().unwrap().push(i);
        ImportedRows {
            factors: vec![totp(user_id, 7, true)],
            ..ImportedRows::default()
        }
    };
    let out = store
        .import_batch(
            &[
                ImportEntry::Create(new_user("x1")),
                ImportEntry::Create(new_user("x2")),
            ],
            &clash,
        )
        .await
        .unwrap();
    assert!(out[0].is_ok(), "{out:?}");
    assert!(
        matches!(out[1], Err(StoreError::Conflict("factor"))),
        "{out:?}"
    );
    assert!(store.user_by_name("x2").await.unwrap().is_none());
    let x1 = store.user_by_name("x1").await.unwrap().unwrap();
    assert_eq!(store.factors_of(x1.id).await.unwrap().len(), 1);
    // Made once by the batch at once, then again entry by entry.
    assert_eq!(*calls.lock().unwrap(), [0, 1, 0, 1]);
}
