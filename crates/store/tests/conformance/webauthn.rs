//! WebAuthn: user handles, ceremony challenges and signature counters.

use std::sync::Arc;

use tokio::task::JoinSet;
use twofold_core::factor::{Factor, FactorData, WebauthnCredential};
use twofold_core::store::{
    ConfirmOutcome, Confirmation, Store, StoreError, WebauthnChallenge, WebauthnPurpose,
};

use crate::support::{NOW, codes, fid, user};

fn credential(id: u8, sign_count: u32) -> WebauthnCredential {
    WebauthnCredential {
        credential_id: vec![id; 32],
        public_key: vec![0xa5, 1, 2, 3],
        algorithm: -7,
        sign_count,
        aaguid: [id; 16],
        backup_eligible: id.is_multiple_of(2),
        backed_up: false,
        transports: vec!["usb".into(), "nfc".into()],
        attestation_format: "none".into(),
        user_handle: vec![id, 1, 2],
    }
}

fn pending_key(user_id: i64, n: u64) -> Factor {
    Factor {
        id: fid(n),
        user_id,
        label: format!("key {n}"),
        confirmed: false,
        created_at: NOW,
        last_used_at: None,
        data: FactorData::Webauthn(None),
    }
}

/// Confirms pending key `n` of the user with `credential`.
async fn confirm_key(
    store: &dyn Store,
    user_id: i64,
    n: u64,
    c: &WebauthnCredential,
) -> Result<ConfirmOutcome, StoreError> {
    store
        .confirm_factor(&Confirmation {
            user_id,
            factor_id: fid(n),
            now: NOW + 1,
            counter: Some((i64::from(c.sign_count), 0)),
            public_id: Some(c.public_id()),
            params: Some(c.to_params()),
            backup_codes: codes(&format!("wa{n}")),
        })
        .await
}

pub(crate) async fn webauthn_credentials_round_trip_and_belong_to_one_user(store: Arc<dyn Store>) {
    let alice = user(store.as_ref(), "wa-alice").await;
    let bob = user(store.as_ref(), "wa-bob").await;
    store
        .insert_factor(&pending_key(alice.id, 1))
        .await
        .unwrap();
    // A pending key has no credential yet.
    let pending = store.factor(alice.id, &fid(1)).await.unwrap().unwrap();
    assert_eq!(pending.data, FactorData::Webauthn(None));
    let c = credential(2, 7);
    assert!(matches!(
        confirm_key(store.as_ref(), alice.id, 1, &c).await.unwrap(),
        ConfirmOutcome::Confirmed { .. }
    ));
    let read = store.factor(alice.id, &fid(1)).await.unwrap().unwrap();
    assert!(read.confirmed);
    assert_eq!(read.data, FactorData::Webauthn(Some(c.clone())));
    // The same credential id for another user is refused, and bob's key stays pending.
    store.insert_factor(&pending_key(bob.id, 2)).await.unwrap();
    assert!(matches!(
        confirm_key(store.as_ref(), bob.id, 2, &c).await,
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
}

pub(crate) async fn webauthn_handles_are_made_once(store: Arc<dyn Store>) {
    let u = user(store.as_ref(), "wa-handle").await;
    let other = user(store.as_ref(), "wa-handle-2").await;
    let first = store.webauthn_handle(u.id, "h-one").await.unwrap();
    assert_eq!(first.as_deref(), Some("h-one"));
    // A later first enrolment keeps the stored handle.
    let again = store.webauthn_handle(u.id, "h-two").await.unwrap();
    assert_eq!(again.as_deref(), Some("h-one"));
    assert_eq!(
        store.user_by_webauthn_handle("h-one").await.unwrap(),
        Some(u.id)
    );
    assert_eq!(store.user_by_webauthn_handle("h-two").await.unwrap(), None);
    // Handles are unique.
    assert!(matches!(
        store.webauthn_handle(other.id, "h-one").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.webauthn_handle(9_999_999, "h-x").await.unwrap(), None);
}

pub(crate) async fn webauthn_challenges_are_taken_once_by_their_owner(store: Arc<dyn Store>) {
    let u = user(store.as_ref(), "wa-challenge").await;
    let other = user(store.as_ref(), "wa-challenge-2").await;
    let challenge = |hash: &str, purpose, user_id, expires_at| WebauthnChallenge {
        challenge_hash: hash.into(),
        purpose,
        user_id,
        factor_id: (purpose == WebauthnPurpose::Register).then(|| fid(3)),
        expires_at,
    };
    let auth = WebauthnPurpose::Authenticate;
    store
        .insert_webauthn_challenge(&challenge("c1", auth, Some(u.id), NOW + 300))
        .await
        .unwrap();
    // Another user, another purpose, no user, or expired: not taken (and still there).
    for (purpose, owner, now) in [
        (auth, Some(other.id), NOW),
        (WebauthnPurpose::Register, Some(u.id), NOW),
        (auth, None, NOW),
        (auth, Some(u.id), NOW + 300),
    ] {
        assert_eq!(
            store
                .take_webauthn_challenge("c1", purpose, owner, now)
                .await
                .unwrap(),
            None
        );
    }
    let taken = store
        .take_webauthn_challenge("c1", auth, Some(u.id), NOW + 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.factor_id, None);
    assert!(
        store
            .take_webauthn_challenge("c1", auth, Some(u.id), NOW + 11)
            .await
            .unwrap()
            .is_none()
    );
    // A registration names its pending factor; a spent passwordless one has no user, and is
    // refused a second time (the record of its use is the row itself).
    let register = WebauthnPurpose::Register;
    store
        .insert_webauthn_challenge(&challenge("r1", register, Some(u.id), NOW + 300))
        .await
        .unwrap();
    let taken = store
        .take_webauthn_challenge("r1", register, Some(u.id), NOW)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.factor_id, Some(fid(3)));
    let pl = WebauthnPurpose::PasswordlessSpent;
    store
        .insert_webauthn_challenge(&challenge("p1", pl, None, NOW + 300))
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_webauthn_challenge(&challenge("p1", pl, None, NOW + 300))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .take_webauthn_challenge("p1", pl, Some(u.id), NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .take_webauthn_challenge("p1", pl, None, NOW)
            .await
            .unwrap()
            .is_some()
    );
    // Expired ones are purged; live ones stay.
    store
        .insert_webauthn_challenge(&challenge("old", auth, Some(u.id), NOW - 1))
        .await
        .unwrap();
    store
        .insert_webauthn_challenge(&challenge("live", auth, Some(u.id), NOW + 60))
        .await
        .unwrap();
    assert_eq!(store.purge_webauthn_challenges(NOW).await.unwrap(), 1);
    // Twenty nodes answering one challenge at once: one wins.
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        let owner = Some(u.id);
        tasks.spawn(async move {
            store
                .take_webauthn_challenge("live", WebauthnPurpose::Authenticate, owner, NOW)
                .await
                .unwrap()
                .is_some()
        });
    }
    let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
}

pub(crate) async fn webauthn_sign_counters_must_grow_unless_both_zero(store: Arc<dyn Store>) {
    let u = user(store.as_ref(), "wa-counter").await;
    store.insert_factor(&pending_key(u.id, 4)).await.unwrap();
    store.insert_factor(&pending_key(u.id, 5)).await.unwrap();
    // A pending key takes no counter.
    assert!(!store.consume_sign_count(&fid(4), 1, NOW).await.unwrap());
    confirm_key(store.as_ref(), u.id, 4, &credential(4, 10))
        .await
        .unwrap();
    confirm_key(store.as_ref(), u.id, 5, &credential(5, 0))
        .await
        .unwrap();
    // Counting key: only greater counters, each once.
    assert!(!store.consume_sign_count(&fid(4), 10, NOW).await.unwrap());
    assert!(!store.consume_sign_count(&fid(4), 9, NOW).await.unwrap());
    assert!(!store.consume_sign_count(&fid(4), 0, NOW).await.unwrap());
    assert!(
        store
            .consume_sign_count(&fid(4), 11, NOW + 5)
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_sign_count(&fid(4), 11, NOW + 6)
            .await
            .unwrap()
    );
    let f = store.factor(u.id, &fid(4)).await.unwrap().unwrap();
    assert_eq!(f.last_used_at, Some(NOW + 5));
    let FactorData::Webauthn(Some(c)) = f.data else {
        panic!("not a key: {:?}", f.data)
    };
    assert_eq!(c.sign_count, 11);
    // A key without a counter stays at 0 and is accepted each time; once it counts, it must
    // go on growing.
    assert!(store.consume_sign_count(&fid(5), 0, NOW).await.unwrap());
    assert!(store.consume_sign_count(&fid(5), 0, NOW).await.unwrap());
    assert!(store.consume_sign_count(&fid(5), 3, NOW).await.unwrap());
    assert!(!store.consume_sign_count(&fid(5), 0, NOW).await.unwrap());
    // Twenty answers with the same counter at once: one wins.
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move { store.consume_sign_count(&fid(4), 12, NOW).await.unwrap() });
    }
    let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
}

/// A security key's answer settled in one transaction: its challenge taken (none: a counted
/// miss), then its counter (one that did not grow: refused without counting, the challenge
/// spent all the same).
pub(crate) async fn webauthn_answers_settle_in_one_transaction(store: Arc<dyn Store>) {
    use crate::settle::{details, failures, record, settle};
    use twofold_core::audit::AuditEvent;
    use twofold_core::store::{Candidate, Consume, Settled};

    let u = user(store.as_ref(), "wa-settle").await;
    store.insert_factor(&pending_key(u.id, 6)).await.unwrap();
    confirm_key(store.as_ref(), u.id, 6, &credential(6, 5))
        .await
        .unwrap();
    let purpose = WebauthnPurpose::Authenticate;
    let answer = |hash: &str, sign_count: i64| Candidate {
        consume: Consume::Assertion {
            factor: fid(6),
            challenge_hash: hash.into(),
            purpose,
            sign_count,
        },
        on_accept: record("wa-settle", AuditEvent::SecondFactorSuccess, hash),
    };
    let open = |hash: &str| WebauthnChallenge {
        challenge_hash: hash.into(),
        purpose,
        user_id: Some(u.id),
        factor_id: None,
        expires_at: NOW + 300,
    };
    // No such challenge: a counted miss, and the counter stays.
    let s = store.as_ref();
    assert_eq!(
        settle(s, u.id, "wa-settle", NOW, 10, &[answer("none", 6)], false).await,
        Settled::Rejected(None)
    );
    assert_eq!(failures(s, u.id).await, 1);
    // A live challenge and a counter that grew: accepted, the count reset, the challenge gone.
    store.insert_webauthn_challenge(&open("c1")).await.unwrap();
    assert_eq!(
        settle(s, u.id, "wa-settle", NOW, 10, &[answer("c1", 6)], false).await,
        Settled::Accepted(0)
    );
    assert_eq!(failures(s, u.id).await, 0);
    let f = store.factor(u.id, &fid(6)).await.unwrap().unwrap();
    assert_eq!(f.last_used_at, Some(NOW));
    let FactorData::Webauthn(Some(c)) = f.data else {
        panic!("not a key")
    };
    assert_eq!(c.sign_count, 6);
    // The same answer again: the challenge is gone, a counted miss.
    assert_eq!(
        settle(s, u.id, "wa-settle", NOW, 10, &[answer("c1", 7)], false).await,
        Settled::Rejected(None)
    );
    assert_eq!(failures(s, u.id).await, 1);
    // A live challenge answered with a counter that did not grow: refused uncounted, with the
    // already-used record, and the challenge is spent.
    store.insert_webauthn_challenge(&open("c2")).await.unwrap();
    assert_eq!(
        settle(s, u.id, "wa-settle", NOW, 10, &[answer("c2", 6)], false).await,
        Settled::AlreadyUsed
    );
    assert_eq!(failures(s, u.id).await, 1);
    assert!(
        store
            .take_webauthn_challenge("c2", purpose, Some(u.id), NOW)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        details(s, "wa-settle").await,
        ["miss", "c1", "miss", "used"]
    );
    // Another user's challenge is not this user's to take.
    let other = user(store.as_ref(), "wa-settle-2").await;
    store
        .insert_webauthn_challenge(&WebauthnChallenge {
            user_id: Some(other.id),
            ..open("c3")
        })
        .await
        .unwrap();
    assert_eq!(
        settle(s, u.id, "wa-settle", NOW, 10, &[answer("c3", 9)], false).await,
        Settled::Rejected(None)
    );
}
