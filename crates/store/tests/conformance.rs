//! The Store conformance suite: every case runs on a fresh SQLite file, and on a fresh PostgreSQL
//! database on the server `TWOFOLD_TEST_POSTGRES_URL` names (`scripts/with-postgres` starts one).
//! Without that variable the PostgreSQL cases fail, unless `TWOFOLD_TEST_SKIP_POSTGRES=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, Executor};
use tokio::task::JoinSet;
use twofold_core::audit::{AuditEvent, AuditFilter, NewAudit};
use twofold_core::crypto::Sealed;
use twofold_core::factor::{Factor, FactorData, FactorId, FactorKind, TotpData, YubikeyData};
use twofold_core::identity::Role;
use twofold_core::store::{
    BackupCodeRow, ConfirmOutcome, Confirmation, DuoPurpose, DuoState, FactorRemoval, NewUser,
    NewWsapiClient, Store, StoreError, StoredValue, User, UserPatch, UserQuery,
};
use twofold_core::token::{ApiToken, Scope};
use twofold_otp::{Algorithm, Digits};
use twofold_store::{Backend, SqliteStore};

type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
type Case = fn(Arc<dyn Store>) -> CaseFuture;

const NOW: i64 = 1_750_000_000;

// --- Harness --------------------------------------------------------------------------------

async fn on_sqlite(case: Case) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("twofold.db").display());
    let store = twofold_store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    case(store).await;
}

async fn on_postgres(case: Case) {
    let Ok(server) = std::env::var("TWOFOLD_TEST_POSTGRES_URL") else {
        if std::env::var("TWOFOLD_TEST_SKIP_POSTGRES").as_deref() == Ok("1") {
            return;
        }
        panic!(
            "TWOFOLD_TEST_POSTGRES_URL is not set, so the PostgreSQL half of the suite cannot run. \
             Run the tests through `scripts/with-postgres cargo test -p twofold-store` (it starts \
             a throwaway server), or set TWOFOLD_TEST_SKIP_POSTGRES=1 to skip PostgreSQL."
        );
    };
    let name = random_database_name();
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .expect("cannot connect to TWOFOLD_TEST_POSTGRES_URL");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let store = twofold_store::connect(&with_database(&server, &name))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    // Run the case as a task so that a failing case still drops its database.
    let outcome = tokio::spawn(case(store)).await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn random_database_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    // RandomState is seeded randomly per process; the sequence separates cases of one process.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    format!("t_{:016x}", h.finish())
}

/// The server URL with its database replaced by `db` (its query string kept).
fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let authority = rest.split_once('/').map_or(rest, |(a, _)| a);
    match query {
        Some(q) => format!("{scheme}://{authority}/{db}?{q}"),
        None => format!("{scheme}://{authority}/{db}"),
    }
}

/// Declares each case once per backend: `sqlite::NAME` and `postgres::NAME`.
macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::on_sqlite(|s| Box::pin(super::$name(s))).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::on_postgres(|s| Box::pin(super::$name(s))).await;
                }
            )*
        }
    };
}

cases!(
    migrate_is_idempotent_and_ping_answers,
    users_are_unique_by_key,
    user_patch_semantics,
    list_search_and_paging,
    factors_round_trip,
    deleting_the_last_confirmed_factor_drops_backup_codes,
    the_last_usable_factor_stays,
    concurrent_removals_keep_the_last_usable_factor,
    confirm_factor_once,
    concurrent_confirmations_create_one_set,
    consume_counter_strictly_increases,
    concurrent_counter_consumption_wins_once,
    backup_codes_single_use,
    concurrent_backup_code_consumption_wins_once,
    failed_replace_leaves_old_codes,
    lockout_counts_and_locks_once,
    concurrent_attempts_never_exceed_the_threshold,
    lockouts_in_a_row_escalate,
    lowering_the_threshold_lowers_the_counts,
    throttle_counts_before_checking_and_blocks_without_writing,
    concurrent_password_attempts_cannot_outrun_the_throttle,
    device_cookies_are_bound_to_their_user,
    reset_user_clears_everything,
    settings_round_trip,
    tokens,
    setup_token_single_use_and_expiry,
    audit_filters_newest_first,
    email_codes_single_use_with_tries_and_expiry,
    concurrent_email_code_consumption_wins_once,
    sends_are_limited_per_user_and_kind,
    sessions_advance_once_and_expire,
    yubikey_public_ids_are_unique_and_found,
    yubikey_import_is_all_or_nothing,
    wsapi_clients_and_requests,
    user_with_factors_is_one_read_of_both,
    duo_states_work_once_and_expire,
    concurrent_duo_state_consumption_wins_once,
    refund_attempt_never_goes_below_zero,
    yubikey_import_releases_self_enrolled_keys_in_its_transaction,
);

// --- Fixtures -------------------------------------------------------------------------------

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.to_owned(),
        username_key: name.to_ascii_lowercase(),
        role: Role::Client,
        email: None,
        phone: None,
        password_hash: None,
        created_at: NOW,
    }
}

async fn user(store: &dyn Store, name: &str) -> User {
    store.insert_user(&new_user(name)).await.unwrap()
}

fn fid(n: u64) -> FactorId {
    FactorId::parse(&format!("{n:032x}")).unwrap()
}

fn totp(user_id: i64, n: u64, confirmed: bool) -> Factor {
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

fn email_factor(user_id: i64, n: u64, confirmed: bool) -> Factor {
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

fn codes(tag: &str) -> Vec<BackupCodeRow> {
    (0..10)
        .map(|i| BackupCodeRow {
            lookup: format!("{tag}-{i:02}"),
            sealed: Sealed(vec![i; 40]),
            used_at: None,
        })
        .collect()
}

fn confirmation(user_id: i64, n: u64, tag: &str) -> Confirmation {
    Confirmation {
        user_id,
        factor_id: fid(n),
        now: NOW + 5,
        counter: None,
        public_id: None,
        backup_codes: codes(tag),
    }
}

async fn lookups(store: &dyn Store, user_id: i64) -> Vec<String> {
    store
        .backup_codes(user_id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.lookup)
        .collect()
}

/// A user with one confirmed TOTP factor (number `n`) and a fresh set of backup codes.
async fn enrolled(store: &dyn Store, name: &str, n: u64) -> User {
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

// --- Cases ----------------------------------------------------------------------------------

async fn migrate_is_idempotent_and_ping_answers(store: Arc<dyn Store>) {
    store.migrate().await.unwrap();
    store.ping().await.unwrap();
}

async fn users_are_unique_by_key(store: Arc<dyn Store>) {
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

async fn user_patch_semantics(store: Arc<dyn Store>) {
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

async fn list_search_and_paging(store: Arc<dyn Store>) {
    for (name, email) in [
        ("Dave", Some("dave@Example.org")),
        ("erin", None),
        ("alice", Some("a.lice@corp.io")),
        ("Bob_1", Some("bob@example.org")),
        ("bobby", None),
        ("x%y", None),
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
        ["alice", "Bob_1", "bobby", "Dave", "erin", "x%y"]
    );
    // A limit of 0 means no limit.
    assert_eq!(store.list_users(&all(None, 0, 0)).await.unwrap().len(), 6);
    assert_eq!(
        names(store.list_users(&all(None, 1, 2)).await.unwrap()),
        ["Bob_1", "bobby"]
    );
    assert_eq!(
        names(store.list_users(&all(None, 5, 10)).await.unwrap()),
        ["x%y"]
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
        ["x%y"]
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

async fn factors_round_trip(store: Arc<dyn Store>) {
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

async fn deleting_the_last_confirmed_factor_drops_backup_codes(store: Arc<dyn Store>) {
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

async fn the_last_usable_factor_stays(store: Arc<dyn Store>) {
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

async fn concurrent_removals_keep_the_last_usable_factor(store: Arc<dyn Store>) {
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

async fn confirm_factor_once(store: Arc<dyn Store>) {
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

async fn concurrent_confirmations_create_one_set(store: Arc<dyn Store>) {
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

async fn consume_counter_strictly_increases(store: Arc<dyn Store>) {
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

async fn concurrent_counter_consumption_wins_once(store: Arc<dyn Store>) {
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

async fn backup_codes_single_use(store: Arc<dyn Store>) {
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

async fn concurrent_backup_code_consumption_wins_once(store: Arc<dyn Store>) {
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

async fn failed_replace_leaves_old_codes(store: Arc<dyn Store>) {
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

async fn lockout_counts_and_locks_once(store: Arc<dyn Store>) {
    let u = user(&*store, "rupert").await;
    // Attempts are counted up to the threshold, then refused.
    assert_eq!(store.attempt_state(u.id).await.unwrap(), Some((0, None, 0)));
    assert_eq!(
        store.begin_attempt(u.id, NOW - 5, 3).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        store.attempt_state(u.id).await.unwrap(),
        Some((1, None, NOW - 5))
    );
    assert_eq!(store.begin_attempt(u.id, NOW, 3).await.unwrap(), Some(2));
    assert_eq!(store.attempt_state(u.id + 1000).await.unwrap(), None);
    assert_eq!(store.begin_attempt(u.id, NOW, 3).await.unwrap(), Some(3));
    assert_eq!(store.begin_attempt(u.id, NOW, 3).await.unwrap(), None);
    // Locking sets the time and the count back to 0, once.
    assert_eq!(lock(&*store, u.id, NOW, 900).await, Some(NOW + 900));
    assert_eq!(
        lock(&*store, u.id, NOW + 1, 1000).await,
        None,
        "already locked"
    );
    let locked = store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(locked.failed_attempts, 0);
    assert_eq!(locked.locked_until, Some(NOW + 900));
    assert!(locked.is_locked(NOW + 899) && !locked.is_locked(NOW + 900));
    // While locked, no attempt; after the lock, attempts again.
    assert_eq!(store.begin_attempt(u.id, NOW + 899, 3).await.unwrap(), None);
    assert_eq!(
        store.begin_attempt(u.id, NOW + 900, 3).await.unwrap(),
        Some(1)
    );

    // A success resets the count.
    store.reset_failures(u.id).await.unwrap();
    assert_eq!(
        store
            .user_by_id(u.id)
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        0
    );
    store.reset_failures(u.id).await.unwrap();

    // Unlock clears both.
    store.begin_attempt(u.id, NOW + 901, 3).await.unwrap();
    assert!(lock(&*store, u.id, NOW + 901, 1099).await.is_some());
    store.unlock(u.id).await.unwrap();
    let unlocked = store.user_by_id(u.id).await.unwrap().unwrap();
    assert_eq!(unlocked.failed_attempts, 0);
    assert_eq!(unlocked.locked_until, None);
    assert_eq!(
        store.begin_attempt(u.id, NOW + 902, 3).await.unwrap(),
        Some(1)
    );

    // An unknown user has nothing to count or lock.
    assert_eq!(
        store.begin_attempt(u.id + 1000, NOW, 3).await.unwrap(),
        None
    );
    assert_eq!(lock(&*store, u.id + 1000, NOW, 1).await, None);
}

/// Locks with a fixed duration, whatever the streak.
async fn lock(store: &dyn Store, user_id: i64, now: i64, seconds: i64) -> Option<i64> {
    store
        .lock(user_id, now, 86_400, &move |_| seconds)
        .await
        .unwrap()
}

async fn lockouts_in_a_row_escalate(store: Arc<dyn Store>) {
    let u = user(&*store, "regina").await;
    let doubling = |streak: i64| 100 * 2i64.pow(u32::try_from(streak - 1).unwrap());
    let lock = |now: i64| {
        let store = store.clone();
        async move { store.lock(u.id, now, 86_400, &doubling).await.unwrap() }
    };
    // The first lockout lasts the base time, each further one within a day twice the one
    // before; a lockout more than a day after the last starts the streak again.
    assert_eq!(lock(NOW).await, Some(NOW + 100));
    assert_eq!(lock(NOW + 50).await, None, "still locked: no new lockout");
    assert_eq!(lock(NOW + 100).await, Some(NOW + 300));
    assert_eq!(lock(NOW + 300).await, Some(NOW + 700));
    assert_eq!(lock(NOW + 300 + 86_400).await, Some(NOW + 400 + 86_400));
}

async fn lowering_the_threshold_lowers_the_counts(store: Arc<dyn Store>) {
    let u = user(&*store, "rosa").await;
    let v = user(&*store, "rory").await;
    for _ in 0..4 {
        store.begin_attempt(u.id, NOW, 5).await.unwrap();
    }
    store.begin_attempt(v.id, NOW, 5).await.unwrap();
    store.clamp_failures(3).await.unwrap();
    let count = |id| {
        let store = store.clone();
        async move { store.user_by_id(id).await.unwrap().unwrap().failed_attempts }
    };
    assert_eq!(count(u.id).await, 2);
    assert_eq!(count(v.id).await, 1);
    assert_eq!(store.begin_attempt(u.id, NOW, 3).await.unwrap(), Some(3));
}

async fn concurrent_attempts_never_exceed_the_threshold(store: Arc<dyn Store>) {
    let u = user(&*store, "sybil").await;
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move { store.begin_attempt(u.id, NOW, 5).await.unwrap() });
    }
    let outcomes = tasks.join_all().await;
    let mut granted: Vec<i64> = outcomes.iter().flatten().copied().collect();
    granted.sort_unstable();
    assert_eq!(
        granted,
        [1, 2, 3, 4, 5],
        "exactly the allowed number of attempts"
    );
    let mut tasks = JoinSet::new();
    for _ in 0..10 {
        let store = store.clone();
        tasks.spawn(async move { lock(&*store, u.id, NOW, 60).await.is_some() });
    }
    let locks = tasks.join_all().await;
    assert_eq!(locks.iter().filter(|l| **l).count(), 1, "one lock");
}

async fn reset_user_clears_everything(store: Arc<dyn Store>) {
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

async fn settings_round_trip(store: Arc<dyn Store>) {
    assert!(store.settings().await.unwrap().is_empty());
    store.put_settings(&[]).await.unwrap();
    let secret = StoredValue::Sealed(Sealed(vec![0, 1, 2, 255]));
    store
        .put_settings(&[
            (
                "twofactor.enabled".into(),
                StoredValue::Plain("true".into()),
            ),
            ("methods.duo.client_secret".into(), secret.clone()),
            ("issuer".into(), StoredValue::Plain(String::new())),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.settings().await.unwrap(),
        vec![
            ("issuer".into(), StoredValue::Plain(String::new())),
            ("methods.duo.client_secret".into(), secret),
            (
                "twofactor.enabled".into(),
                StoredValue::Plain("true".into())
            ),
        ]
    );
    let other = StoredValue::Sealed(Sealed(vec![9; 64]));
    store
        .put_settings(&[
            ("issuer".into(), other.clone()),
            (
                "methods.duo.client_secret".into(),
                StoredValue::Plain("x".into()),
            ),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.settings().await.unwrap(),
        vec![
            ("issuer".into(), other),
            (
                "methods.duo.client_secret".into(),
                StoredValue::Plain("x".into())
            ),
            (
                "twofactor.enabled".into(),
                StoredValue::Plain("true".into())
            ),
        ]
    );
}

async fn tokens(store: Arc<dyn Store>) {
    let token = |name: &str, scope| ApiToken {
        name: name.into(),
        scope,
        created_at: NOW,
        last_used_at: None,
    };
    store
        .insert_token(&token("zabbix", Scope::Metrics), "h1")
        .await
        .unwrap();
    store
        .insert_token(&token("app", Scope::Validate), "h2")
        .await
        .unwrap();
    let err = store
        .insert_token(&token("app", Scope::Admin), "h3")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict("token")), "{err:?}");

    assert_eq!(
        store.token_by_hash("h2").await.unwrap(),
        Some(token("app", Scope::Validate))
    );
    assert_eq!(store.token_by_hash("h3").await.unwrap(), None);
    assert_eq!(
        store.list_tokens().await.unwrap(),
        vec![
            token("app", Scope::Validate),
            token("zabbix", Scope::Metrics)
        ]
    );

    let last_used = |store: Arc<dyn Store>| async move {
        store
            .token_by_hash("h2")
            .await
            .unwrap()
            .unwrap()
            .last_used_at
    };
    store.touch_token("app", NOW + 100).await.unwrap();
    assert_eq!(last_used(store.clone()).await, Some(NOW + 100));
    store.touch_token("app", NOW + 130).await.unwrap();
    assert_eq!(last_used(store.clone()).await, Some(NOW + 100));
    store.touch_token("app", NOW + 161).await.unwrap();
    assert_eq!(last_used(store.clone()).await, Some(NOW + 161));
    store.touch_token("nobody", NOW).await.unwrap();

    assert!(store.revoke_token("app").await.unwrap());
    assert!(!store.revoke_token("app").await.unwrap());
    assert_eq!(store.token_by_hash("h2").await.unwrap(), None);
    assert_eq!(
        store.list_tokens().await.unwrap(),
        vec![token("zabbix", Scope::Metrics)]
    );
    // The name is free again.
    store
        .insert_token(&token("app", Scope::Admin), "h4")
        .await
        .unwrap();
}

async fn setup_token_single_use_and_expiry(store: Arc<dyn Store>) {
    assert!(!store.consume_setup_token("s1", NOW).await.unwrap());
    store.put_setup_token("s1", NOW + 3600).await.unwrap();
    assert!(!store.consume_setup_token("s2", NOW).await.unwrap());
    assert!(!store.consume_setup_token("s1", NOW + 3600).await.unwrap());

    // A new token replaces the old one.
    store.put_setup_token("s2", NOW + 3600).await.unwrap();
    assert!(!store.consume_setup_token("s1", NOW).await.unwrap());
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move { store.consume_setup_token("s2", NOW).await.unwrap() });
    }
    let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
    assert!(!store.consume_setup_token("s2", NOW + 1).await.unwrap());
    // Putting the same hash again makes it usable again.
    store.put_setup_token("s2", NOW + 3600).await.unwrap();
    assert!(store.consume_setup_token("s2", NOW + 1).await.unwrap());
}

async fn audit_filters_newest_first(store: Arc<dyn Store>) {
    assert!(
        store
            .list_audit(&AuditFilter {
                limit: 10,
                ..AuditFilter::default()
            })
            .await
            .unwrap()
            .is_empty()
    );
    for i in 0..30 {
        let (subject, event) = match i % 3 {
            0 => (Some("alice".to_owned()), AuditEvent::SecondFactorSuccess),
            1 => (Some("Bob".to_owned()), AuditEvent::SecondFactorFailure),
            _ => (None, AuditEvent::SettingsChanged),
        };
        store
            .insert_audit(&NewAudit {
                at: NOW + i,
                actor: if i % 2 == 0 {
                    "cli".into()
                } else {
                    "token:app".into()
                },
                subject,
                event,
                ip: (i % 5 == 0).then(|| "192.0.2.7".to_owned()),
                detail: format!("n={i}"),
            })
            .await
            .unwrap();
    }
    let list = |subject: Option<&str>, event: Option<&str>, before_id, limit| {
        let store = store.clone();
        let filter = AuditFilter {
            subject: subject.map(str::to_owned),
            event: event.map(str::to_owned),
            before_id,
            limit,
        };
        async move { store.list_audit(&filter).await.unwrap() }
    };

    let all = list(None, None, None, 100).await;
    assert_eq!(all.len(), 30);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    let newest = &all[0];
    assert_eq!(newest.at, NOW + 29);
    assert_eq!(newest.actor, "token:app");
    assert_eq!(newest.subject, None);
    assert_eq!(newest.event, "settings.changed");
    assert_eq!(newest.ip, None);
    assert_eq!(newest.detail, "n=29");
    assert_eq!(all[29].ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(all[29].subject.as_deref(), Some("alice"));

    let page = list(None, None, None, 7).await;
    assert_eq!(page, all[..7]);
    let next = list(None, None, Some(page[6].id), 7).await;
    assert_eq!(next, all[7..14]);

    let alice = list(Some("alice"), None, None, 100).await;
    assert_eq!(alice.len(), 10);
    assert!(
        alice
            .iter()
            .all(|r| r.subject.as_deref() == Some("alice") && r.event == "2fa.success")
    );
    // Subjects are matched by username key.
    assert_eq!(list(Some("bob"), None, None, 100).await.len(), 10);
    assert_eq!(list(Some("carol"), None, None, 100).await.len(), 0);

    let settings = list(None, Some("settings.changed"), None, 3).await;
    assert_eq!(settings.len(), 3);
    assert_eq!(settings[0].detail, "n=29");
    assert_eq!(settings[2].detail, "n=23");
    let both = list(Some("alice"), Some("2fa.success"), Some(alice[2].id), 100).await;
    assert_eq!(both, alice[3..]);
    assert!(
        list(Some("alice"), Some("2fa.failure"), None, 100)
            .await
            .is_empty()
    );
}

// --- Backend-independent checks ---------------------------------------------------------------

#[test]
fn backends_are_named_by_url_scheme() {
    assert_eq!(Backend::of_url("sqlite://data/t.db"), Some(Backend::Sqlite));
    assert_eq!(Backend::of_url("sqlite::memory:"), Some(Backend::Sqlite));
    assert_eq!(
        Backend::of_url("postgres://u@h/db"),
        Some(Backend::Postgres)
    );
    assert_eq!(
        Backend::of_url("PostgreSQL://u@h/db"),
        Some(Backend::Postgres)
    );
    assert_eq!(Backend::of_url("mysql://u@h/db"), None);
    assert_eq!(Backend::of_url("twofold.db"), None);
}

#[tokio::test]
async fn unsupported_urls_are_refused_without_echoing_them() {
    let err = twofold_store::connect("mysql://root:hunter2@db/x")
        .await
        .err()
        .unwrap();
    let source = std::error::Error::source(&err).map(ToString::to_string);
    let chain = format!("{err}: {}", source.unwrap_or_default());
    assert!(!chain.contains("hunter2"), "{chain}");
    assert!(chain.contains("sqlite://"), "{chain}");
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data() {
    let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    store.insert_user(&new_user("alice")).await.unwrap();
    assert!(store.user_by_name("alice").await.unwrap().is_some());
    store.close().await;
}

#[tokio::test]
async fn sqlite_file_is_created_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert!(path.exists());
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let page: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(page, 1024, "a new database gets 1 KiB pages");
    let cache: i64 = sqlx::query_scalar("PRAGMA cache_size")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(cache, -512, "a 512 KiB page cache");
    store.close().await;
}

#[tokio::test]
async fn sqlite_file_with_another_page_size_keeps_it_and_works() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let url = format!("sqlite://{}", path.display());
    {
        use std::str::FromStr;
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
            .unwrap()
            .create_if_missing(true)
            .page_size(4096)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        conn.execute("CREATE TABLE before_us (x INTEGER)")
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    let store = SqliteStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let alice = user(&store, "alice").await;
    assert_eq!(
        store.begin_attempt(alice.id, NOW, 5).await.unwrap(),
        Some(1)
    );
    let page: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(page, 4096);
    store.close().await;
}

/// `failed_attempts` of every user, in the SQLite file at `path`.
async fn read_failures(path: &std::path::Path) -> Result<Vec<i64>, sqlx::Error> {
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await?;
    let failures = sqlx::query_scalar("SELECT failed_attempts FROM users ORDER BY id")
        .fetch_all(&mut conn)
        .await;
    conn.close().await?;
    failures
}

/// The checkpoint task copies the hot path's writes into the database file while they go on,
/// and completes, so that the WAL starts over instead of growing with every write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_checkpoints_keep_up_with_steady_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.db");
    let store = Arc::new(
        SqliteStore::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap(),
    );
    store.migrate().await.unwrap();
    let users = [user(&*store, "ann").await, user(&*store, "bob").await];
    let wal = dir.path().join("busy.db-wal");
    let before = std::fs::metadata(&wal).map_or(0, |m| m.len());
    // Writers without a pause for 2 seconds (eight checkpoint ticks).
    let mut writers = JoinSet::new();
    for u in users.clone() {
        let store = store.clone();
        writers.spawn(async move {
            let mut n = 0u64;
            let until = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
            while tokio::time::Instant::now() < until {
                store.begin_attempt(u.id, NOW, 1000).await.unwrap();
                store.reset_failures(u.id).await.unwrap();
                n += 2;
            }
            store.begin_attempt(u.id, NOW, 1000).await.unwrap();
            n + 1
        });
    }
    let writes: u64 = writers.join_all().await.into_iter().sum();

    // Each write appended at least one 1 KiB page to the WAL: never started over, it would
    // have grown by all of them. (Its size is the largest it has been.)
    let grown = std::fs::metadata(&wal)
        .unwrap()
        .len()
        .saturating_sub(before);
    assert!(writes > 100, "{writes} writes");
    assert!(
        grown < writes * 1024 / 2,
        "the WAL grew by {grown} bytes during {writes} writes of at least 1 KiB each"
    );
    // Soon the database file alone (no WAL) holds the last write. It is copied by another
    // process: closing a descriptor of it here would drop the store's locks.
    let copy = dir.path().join("copy.db");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let status = std::process::Command::new("cp")
            .arg(&path)
            .arg(&copy)
            .status()
            .unwrap();
        assert!(status.success());
        // A copy taken while a checkpoint writes may be torn: that is "not yet" too.
        let failures = read_failures(&copy).await.unwrap_or_default();
        if failures == [1, 1] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the database file still says {failures:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.path().join(format!("copy.db{suffix}")));
        }
    }
    store.close().await;
}

// --- Email and SMS codes, sends, sessions ----------------------------------------------------

fn challenge(user_id: i64, n: u64, hash: &str, expires_at: i64) -> twofold_core::store::Challenge {
    twofold_core::store::Challenge {
        factor_id: fid(n),
        user_id,
        code_hash: hash.to_owned(),
        created_at: NOW,
        expires_at,
    }
}

async fn email_codes_single_use_with_tries_and_expiry(store: Arc<dyn Store>) {
    let u = user(&*store, "vera").await;
    store
        .insert_factor(&email_factor(u.id, 1, true))
        .await
        .unwrap();
    let f = fid(1);
    store
        .put_challenge(&challenge(u.id, 1, "h1", NOW + 600))
        .await
        .unwrap();
    assert!(!store.consume_challenge(&f, "wrong", NOW, 5).await.unwrap());
    assert!(store.consume_challenge(&f, "h1", NOW, 5).await.unwrap());
    assert!(
        !store.consume_challenge(&f, "h1", NOW, 5).await.unwrap(),
        "used once"
    );

    // A new code replaces the old one and starts with fresh tries.
    store
        .put_challenge(&challenge(u.id, 1, "h2", NOW + 600))
        .await
        .unwrap();
    store
        .put_challenge(&challenge(u.id, 1, "h3", NOW + 600))
        .await
        .unwrap();
    assert!(
        !store.consume_challenge(&f, "h2", NOW, 5).await.unwrap(),
        "replaced"
    );
    for _ in 0..5 {
        store.challenge_failed(&f).await.unwrap();
    }
    assert!(
        !store.consume_challenge(&f, "h3", NOW, 5).await.unwrap(),
        "out of tries"
    );

    // Expiry.
    store
        .put_challenge(&challenge(u.id, 1, "h4", NOW + 10))
        .await
        .unwrap();
    assert!(
        !store
            .consume_challenge(&f, "h4", NOW + 10, 5)
            .await
            .unwrap()
    );
    store
        .put_challenge(&challenge(u.id, 1, "h5", NOW + 10))
        .await
        .unwrap();
    assert!(store.consume_challenge(&f, "h5", NOW + 9, 5).await.unwrap());

    // Deleting leaves nothing to use; deleting the factor takes its code along.
    store
        .put_challenge(&challenge(u.id, 1, "h6", NOW + 600))
        .await
        .unwrap();
    store.delete_challenge(&f).await.unwrap();
    assert!(!store.consume_challenge(&f, "h6", NOW, 5).await.unwrap());
    store
        .put_challenge(&challenge(u.id, 1, "h7", NOW + 600))
        .await
        .unwrap();
    assert!(store.delete_factor(u.id, &f).await.unwrap());
    assert!(!store.consume_challenge(&f, "h7", NOW, 5).await.unwrap());
}

async fn concurrent_email_code_consumption_wins_once(store: Arc<dyn Store>) {
    let u = user(&*store, "walt").await;
    store
        .insert_factor(&email_factor(u.id, 1, true))
        .await
        .unwrap();
    store
        .put_challenge(&challenge(u.id, 1, "code", NOW + 600))
        .await
        .unwrap();
    let mut tasks = JoinSet::new();
    for _ in 0..50 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .consume_challenge(&fid(1), "code", NOW, 5)
                .await
                .unwrap()
        });
    }
    let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
}

async fn sends_are_limited_per_user_and_kind(store: Arc<dyn Store>) {
    let u = user(&*store, "xena").await;
    let v = user(&*store, "yuri").await;
    let send = |user_id, kind: &'static str, at| {
        let store = store.clone();
        async move { store.record_send(user_id, kind, at, 30, 10).await.unwrap() }
    };
    assert_eq!(send(u.id, "email", NOW).await, None);
    assert_eq!(send(u.id, "email", NOW + 10).await, Some(20), "30 s apart");
    assert_eq!(send(u.id, "sms", NOW + 10).await, None, "per method");
    assert_eq!(send(v.id, "email", NOW + 10).await, None, "per user");
    for i in 1..10 {
        assert_eq!(send(u.id, "email", NOW + 30 * i).await, None, "send {i}");
    }
    // Ten in the last hour: the next waits until the oldest is an hour old.
    assert_eq!(send(u.id, "email", NOW + 300).await, Some(3300));
    assert_eq!(send(u.id, "email", NOW + 3600).await, None);
    // Concurrent sends in one instant: exactly one passes.
    let w = user(&*store, "zoe").await;
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = store.clone();
        tasks.spawn(async move { store.record_send(w.id, "sms", NOW, 30, 10).await.unwrap() });
    }
    let passed = tasks
        .join_all()
        .await
        .into_iter()
        .filter(Option::is_none)
        .count();
    assert_eq!(passed, 1);
}

async fn sessions_advance_once_and_expire(store: Arc<dyn Store>) {
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
    assert_eq!((b.login_at, b.ip.as_deref()), (NOW - 10, Some("192.0.2.7")));
    assert_eq!(b.step_up_at, None);
    store.set_session_step_up("b", NOW + 61).await.unwrap();
    assert_eq!(
        store.session("b").await.unwrap().unwrap().step_up_at,
        Some(NOW + 61)
    );
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
    store.delete_user_sessions(u.id).await.unwrap();
    assert!(store.session("b").await.unwrap().is_none());
}

/// The delays of the password throttle as the service sets them: free attempts, then 2 s, 4 s…
fn delay(n: i64) -> i64 {
    if n < 5 {
        0
    } else {
        2i64.pow(u32::try_from(n - 4).unwrap()).min(900)
    }
}

async fn throttle_counts_before_checking_and_blocks_without_writing(store: Arc<dyn Store>) {
    use twofold_core::store::ThrottleHit;
    let hit = |key: &'static str, now: i64| {
        let store = store.clone();
        async move { store.throttle_hit(key, now, 3600, &delay).await.unwrap() }
    };
    for n in 1..=5 {
        assert_eq!(hit("user:abe", NOW).await, ThrottleHit::Counted(n));
    }
    // The fifth attempt blocks the key for 2 s; a blocked attempt is not counted.
    assert_eq!(
        hit("user:abe", NOW + 1).await,
        ThrottleHit::Blocked(NOW + 2)
    );
    assert_eq!(
        hit("user:abe", NOW + 1).await,
        ThrottleHit::Blocked(NOW + 2)
    );
    assert_eq!(hit("user:abe", NOW + 2).await, ThrottleHit::Counted(6));
    assert_eq!(
        hit("user:abe", NOW + 3).await,
        ThrottleHit::Blocked(NOW + 6)
    );
    // Other keys are separate; a success clears one; an old key starts again from 1.
    assert_eq!(hit("ip:192.0.2.1", NOW + 3).await, ThrottleHit::Counted(1));
    store.clear_login_failures("user:abe").await.unwrap();
    assert_eq!(hit("user:abe", NOW + 3).await, ThrottleHit::Counted(1));
    assert_eq!(
        hit("ip:192.0.2.1", NOW + 4000).await,
        ThrottleHit::Counted(1)
    );
    // A success from a shared address gives its own attempt back: the count and the block
    // return to what the attempts before it called for.
    for n in 2..=5 {
        assert_eq!(
            hit("ip:192.0.2.1", NOW + 4000).await,
            ThrottleHit::Counted(n)
        );
    }
    store.throttle_refund("ip:192.0.2.1", &delay).await.unwrap();
    assert_eq!(
        hit("ip:192.0.2.1", NOW + 4000).await,
        ThrottleHit::Counted(5)
    );
    store.throttle_refund("ip:192.0.2.1", &delay).await.unwrap();
    store.throttle_refund("ip:192.0.2.1", &delay).await.unwrap();
    assert_eq!(
        hit("ip:192.0.2.1", NOW + 4000).await,
        ThrottleHit::Counted(4)
    );
    store.throttle_refund("nobody", &delay).await.unwrap();
    // Keys whose last attempt is old and that are not blocked are purged.
    assert_eq!(
        store
            .purge_login_throttle(NOW + 3700, NOW + 3700)
            .await
            .unwrap(),
        1
    );
    assert_eq!(hit("user:abe", NOW + 3700).await, ThrottleHit::Counted(1));
    assert_eq!(
        store
            .purge_login_throttle(NOW + 9000, NOW + 9000)
            .await
            .unwrap(),
        2
    );
}

async fn concurrent_password_attempts_cannot_outrun_the_throttle(store: Arc<dyn Store>) {
    use twofold_core::store::ThrottleHit;
    let mut tasks = JoinSet::new();
    for _ in 0..40 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .throttle_hit("user:burst", NOW, 3600, &delay)
                .await
                .unwrap()
        });
    }
    let hits = tasks.join_all().await;
    let mut counted: Vec<i64> = hits
        .iter()
        .filter_map(|h| match h {
            ThrottleHit::Counted(n) => Some(*n),
            ThrottleHit::Blocked(_) => None,
        })
        .collect();
    counted.sort_unstable();
    assert_eq!(
        counted,
        [1, 2, 3, 4, 5],
        "only the free attempts were let through"
    );
}

async fn device_cookies_are_bound_to_their_user(store: Arc<dyn Store>) {
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

// --- YubiKey --------------------------------------------------------------------------------

fn yubikey(user_id: i64, n: u64, public_id: Option<&str>, confirmed: bool) -> Factor {
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

async fn yubikey_public_ids_are_unique_and_found(store: Arc<dyn Store>) {
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

async fn yubikey_import_is_all_or_nothing(store: Arc<dyn Store>) {
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

async fn wsapi_clients_and_requests(store: Arc<dyn Store>) {
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

async fn user_with_factors_is_one_read_of_both(store: Arc<dyn Store>) {
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

fn duo_state(user_id: i64, hash: &str, purpose: DuoPurpose) -> DuoState {
    DuoState {
        state_hash: hash.to_owned(),
        user_id,
        factor_id: (purpose == DuoPurpose::Enroll).then(|| fid(7)),
        session_hash: Some(format!("session-of-{hash}")),
        nonce: format!("nonce-of-{hash}"),
        purpose,
        created_at: NOW,
        expires_at: NOW + 300,
        used_at: None,
    }
}

async fn duo_states_work_once_and_expire(store: Arc<dyn Store>) {
    let u = user(store.as_ref(), "duo").await;
    assert_eq!(store.consume_duo_state("nope", NOW).await.unwrap(), None);
    let login = duo_state(u.id, "login-state", DuoPurpose::Login);
    store.insert_duo_state(&login).await.unwrap();
    let mut enroll = duo_state(u.id, "enroll-state", DuoPurpose::Enroll);
    enroll.session_hash = None;
    store.insert_duo_state(&enroll).await.unwrap();
    // The same hash twice is a conflict.
    assert!(matches!(
        store.insert_duo_state(&login).await,
        Err(StoreError::Conflict(_))
    ));

    let got = store
        .consume_duo_state("login-state", NOW + 10)
        .await
        .unwrap()
        .expect("a fresh state is used once");
    assert_eq!(
        got,
        DuoState {
            used_at: Some(NOW + 10),
            ..login.clone()
        }
    );
    assert_eq!(
        store
            .consume_duo_state("login-state", NOW + 11)
            .await
            .unwrap(),
        None
    );

    // At its expiry it no longer works; the enrolment keeps its factor and no session.
    assert_eq!(
        store
            .consume_duo_state("enroll-state", NOW + 300)
            .await
            .unwrap(),
        None
    );
    let mut late = duo_state(u.id, "late", DuoPurpose::Enroll);
    late.session_hash = None;
    store.insert_duo_state(&late).await.unwrap();
    let got = store
        .consume_duo_state("late", NOW + 299)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.factor_id, Some(fid(7)));
    assert_eq!(got.session_hash, None);
    assert_eq!(got.purpose, DuoPurpose::Enroll);

    // Purging forgets expired states only.
    store
        .insert_duo_state(&duo_state(u.id, "live", DuoPurpose::Login))
        .await
        .unwrap();
    let mut old = duo_state(u.id, "old", DuoPurpose::Login);
    old.expires_at = NOW - 1;
    store.insert_duo_state(&old).await.unwrap();
    assert_eq!(store.purge_duo_states(NOW).await.unwrap(), 1);
    assert!(
        store
            .consume_duo_state("live", NOW)
            .await
            .unwrap()
            .is_some()
    );
}

async fn concurrent_duo_state_consumption_wins_once(store: Arc<dyn Store>) {
    let u = user(store.as_ref(), "duo-race").await;
    store
        .insert_duo_state(&duo_state(u.id, "raced", DuoPurpose::Login))
        .await
        .unwrap();
    let mut tasks = JoinSet::new();
    for i in 0..20 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .consume_duo_state("raced", NOW + i)
                .await
                .unwrap()
                .is_some()
        });
    }
    let wins = tasks.join_all().await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
}

async fn refund_attempt_never_goes_below_zero(store: Arc<dyn Store>) {
    let u = user(store.as_ref(), "refund").await;
    store.refund_attempt(u.id).await.unwrap();
    assert_eq!(
        store
            .user_by_id(u.id)
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        0
    );
    assert_eq!(store.begin_attempt(u.id, NOW, 5).await.unwrap(), Some(1));
    assert_eq!(store.begin_attempt(u.id, NOW, 5).await.unwrap(), Some(2));
    store.refund_attempt(u.id).await.unwrap();
    assert_eq!(
        store
            .user_by_id(u.id)
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        1
    );
}

async fn yubikey_import_releases_self_enrolled_keys_in_its_transaction(store: Arc<dyn Store>) {
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
