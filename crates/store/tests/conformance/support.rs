//! Fixtures the cases share.

use twofold_core::crypto::Sealed;
use twofold_core::factor::{Factor, FactorData, FactorId, TotpData, YubikeyData};
use twofold_core::identity::{Role, Username};
use twofold_core::store::{BackupCodeRow, ConfirmOutcome, Confirmation, NewUser, Store, User};
use twofold_otp::{Algorithm, Digits};

/// The clock of every case.
pub(crate) const NOW: i64 = 1_750_000_000;

pub(crate) fn new_user(name: &str) -> NewUser {
    NewUser {
        username: Username::parse(name).unwrap(),
        role: Role::Client,
        email: None,
        phone: None,
        password_hash: None,
        created_at: NOW,
    }
}

pub(crate) async fn user(store: &dyn Store, name: &str) -> User {
    store.insert_user(&new_user(name)).await.unwrap()
}

pub(crate) fn fid(n: u64) -> FactorId {
    FactorId::parse(&format!("{n:032x}")).unwrap()
}

pub(crate) fn totp(user_id: i64, n: u64, confirmed: bool) -> Factor {
    Factor {
        id: fid(n),
        user_id,
        label: format!("phone {n}"),
        confirmed,
        created_at: NOW,
        last_used_at: None,
        data: FactorData::Totp(TotpData {
            secret: Sealed(vec![1, 2, 3, n as u8]),
            algorithm: Algorithm::Sha256,
            digits: Digits::new(8).unwrap(),
            period: 30,
            last_step: None,
            drift: 0,
        }),
    }
}

pub(crate) fn email_factor(user_id: i64, n: u64, confirmed: bool) -> Factor {
    Factor {
        id: fid(n),
        user_id,
        label: format!("mail {n}"),
        confirmed,
        created_at: NOW,
        last_used_at: None,
        data: FactorData::Email {
            address: format!("u{user_id}@example.com"),
        },
    }
}

pub(crate) fn codes(tag: &str) -> Vec<BackupCodeRow> {
    (0..10)
        .map(|i| BackupCodeRow {
            lookup: format!("{tag}-{i:02}"),
            sealed: Sealed(vec![i; 40]),
            used_at: None,
        })
        .collect()
}

pub(crate) fn confirmation(user_id: i64, n: u64, tag: &str) -> Confirmation {
    Confirmation {
        user_id,
        factor_id: fid(n),
        now: NOW + 5,
        counter: None,
        public_id: None,
        params: None,
        backup_codes: codes(tag),
    }
}

pub(crate) async fn lookups(store: &dyn Store, user_id: i64) -> Vec<String> {
    store
        .backup_codes(user_id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.lookup)
        .collect()
}

/// A user with one confirmed TOTP factor (number `n`) and a fresh set of backup codes.
pub(crate) async fn enrolled(store: &dyn Store, name: &str, n: u64) -> User {
    let u = user(store, name).await;
    store.insert_factor(&totp(u.id, n, false)).await.unwrap();
    let outcome = store
        .confirm_factor(&confirmation(u.id, n, name))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ConfirmOutcome::Confirmed {
            codes_created: true
        }
    );
    u
}

/// Locks with a fixed duration, whatever the streak.
pub(crate) async fn lock(store: &dyn Store, user_id: i64, now: i64, seconds: i64) -> Option<i64> {
    store
        .lock(user_id, now, 86_400, &move |_| seconds)
        .await
        .unwrap()
}

pub(crate) fn yubikey(user_id: i64, n: u64, public_id: Option<&str>, confirmed: bool) -> Factor {
    Factor {
        id: fid(n),
        user_id,
        label: format!("key {n}"),
        confirmed,
        created_at: NOW,
        last_used_at: None,
        data: FactorData::Yubikey(YubikeyData {
            public_id: public_id.map(str::to_owned),
            secret: Some(Sealed(vec![7; 50])),
            last_counter: None,
            self_enrolled: n == 2,
        }),
    }
}
