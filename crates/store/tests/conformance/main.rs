//! The Store conformance suite: every case runs on a fresh SQLite file, and on a fresh PostgreSQL
//! database on the server `TWOFOLD_TEST_POSTGRES_URL` names (`scripts/with-postgres` starts one).
//! Without that variable the PostgreSQL cases fail, unless `TWOFOLD_TEST_SKIP_POSTGRES=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod backends;
mod codes;
mod consumption;
mod duo;
mod factors;
mod lockout;
mod radius;
mod remembered;
mod sealed;
mod sessions;
mod settings;
mod settle;
mod support;
mod throttle;
mod tokens;
mod users;
mod webauthn;
mod wsapi;
mod yubikey;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, Executor};
use twofold_core::store::Store;

type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
type Case = fn(Arc<dyn Store>) -> CaseFuture;

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

/// Declares each case once per backend, `sqlite::NAME` and `postgres::NAME`, from the topic
/// module that defines it.
macro_rules! cases {
    ($($module:ident: [$($name:ident),* $(,)?]),* $(,)?) => {
        mod sqlite {
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::on_sqlite(|s| Box::pin(super::$module::$name(s))).await;
                }
            )*)*
        }
        mod postgres {
            $($(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::on_postgres(|s| Box::pin(super::$module::$name(s))).await;
                }
            )*)*
        }
    };
}

cases!(
    users: [
        migrate_is_idempotent_and_ping_answers,
        users_are_unique_by_key,
        user_patch_semantics,
        list_search_and_paging,
        reset_user_clears_everything,
        user_with_factors_is_one_read_of_both,
        users_with_factors_reads_many_at_once,
    ],
    factors: [
        factors_round_trip,
        hotp_factors_keep_their_counter,
        deleting_the_last_confirmed_factor_drops_backup_codes,
        the_last_usable_factor_stays,
        concurrent_removals_keep_the_last_usable_factor,
        confirm_factor_once,
        concurrent_confirmations_create_one_set,
    ],
    consumption: [
        consume_counter_strictly_increases,
        concurrent_counter_consumption_wins_once,
        backup_codes_single_use,
        concurrent_backup_code_consumption_wins_once,
        failed_replace_leaves_old_codes,
        imported_keys_and_codes_are_one_transaction,
        import_batch_writes_each_user_all_or_nothing,
        import_batch_of_many_users_writes_them_all,
    ],
    lockout: [
        lockout_counts_and_locks_once,
        concurrent_attempts_never_exceed_the_threshold,
        lockouts_in_a_row_escalate,
        lowering_the_threshold_lowers_the_counts,
        refund_attempt_never_goes_below_zero,
    ],
    settle: [
        settle_consumes_resets_and_audits_once,
        settle_locks_at_the_threshold_and_then_writes_nothing,
        settle_backup_codes_and_open_attempts,
        settle_counts_wrong_tries_against_a_live_code,
        concurrent_settles_accept_once_and_lock_once,
    ],
    throttle: [
        throttle_counts_before_checking_and_blocks_without_writing,
        concurrent_password_attempts_cannot_outrun_the_throttle,
    ],
    sessions: [
        sessions_advance_once_and_expire,
        device_cookies_are_bound_to_their_user,
    ],
    remembered: [
        remembered_browsers_are_bound_to_their_user_and_expire,
        a_user_keeps_only_the_newest_remembered_browsers,
        a_browser_is_remembered_only_while_its_session_exists,
        remembered_browsers_are_forgotten_by_age_and_role,
        a_browser_remembered_during_a_sign_out_everywhere_does_not_outlive_it,
    ],
    codes: [
        email_codes_single_use_with_tries_and_expiry,
        concurrent_email_code_consumption_wins_once,
        sends_are_limited_per_user_and_kind,
    ],
    settings: [
        settings_round_trip,
    ],
    tokens: [
        tokens,
        setup_token_single_use_and_expiry,
    ],
    audit: [
        audit_filters_newest_first,
    ],
    yubikey: [
        yubikey_public_ids_are_unique_and_found,
        yubikey_import_is_all_or_nothing,
        yubikey_import_releases_self_enrolled_keys_in_its_transaction,
    ],
    wsapi: [
        wsapi_clients_and_requests,
    ],
    sealed: [
        sealed_values_page_and_reseal_conditionally,
    ],
    radius: [
        radius_clients_register_list_and_revoke,
        radius_states_answer_once_for_their_client,
    ],
    webauthn: [
        webauthn_credentials_round_trip_and_belong_to_one_user,
        webauthn_handles_are_made_once,
        webauthn_challenges_are_taken_once_by_their_owner,
        webauthn_sign_counters_must_grow_unless_both_zero,
        webauthn_answers_settle_in_one_transaction,
    ],
    duo: [
        duo_states_work_once_and_expire,
        concurrent_duo_state_consumption_wins_once,
    ],
);
