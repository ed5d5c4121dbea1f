//! SQLite's hot path: the statements every validation runs, executed in place on one
//! connection of our own instead of through sqlx's connection threads.
//!
//! sqlx gives each SQLite connection a worker thread and hands every statement to it and every
//! row back over channels: two thread wake-ups per statement. Measured under `bench/validate`,
//! those hand-offs (futex wake-ups and context switches) took most of the server's CPU, and the
//! SQL itself about 2 %. The statements of a validation take microseconds each on a local file,
//! so here they run directly on the calling task's thread, on one connection behind a mutex:
//! no hand-off, and one page cache that stays warm (in WAL mode a connection drops its whole
//! cache whenever another connection has written).
//!
//! The SQL is the same text sqlx runs on PostgreSQL (`crate::sql`), with the same `$N`
//! parameters bound by name, so the two backends cannot drift apart. Writes here still queue
//! on the store's write mutex first, like every other write of this process. The mutex of the
//! connection is never held across an `.await`.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, named_params};
use twofold_core::audit::NewAudit;
use twofold_core::factor::{Factor, FactorId};
use twofold_core::store::{AttemptPlan, Consume, Settled, StoreError, StoreResult, User};
use twofold_core::token::ApiToken;

use crate::attempt::run_now;
use crate::queries::sessions::SessionUserRow;
use crate::rows::{TokenRow, UserFactorRow, user_with_factors};
use crate::sql;

/// The page cache of each SQLite connection, this one's and the pool's, in KiB (SQLite's
/// default is 2000). A validation reads a few pages of the users' and factors' B-trees; their
/// inner pages stay cached at this size, and the leaves of 100,000 users would not fit in the
/// default either. Measured with `bench/validate` and 100,000 users: the same requests/s and
/// CPU per request as with the default, and 1.6 MB less memory after the load.
pub(crate) const CACHE_KIB: u32 = 512;

/// Prepared statements kept per connection: the hot path has fewer than this.
const STATEMENT_CACHE: usize = 32;

/// One SQLite connection for the statements of the hot path.
pub(crate) struct Hot {
    conn: Mutex<Connection>,
    /// Write statements run here so far: the checkpoint task skips its tick when nothing was
    /// written since the last one, so an idle server does no work.
    writes: AtomicU64,
}

impl std::fmt::Debug for Hot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hot").finish_non_exhaustive()
    }
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

#[derive(Debug, thiserror::Error)]
#[error("the hot-path connection's lock was poisoned by a panic")]
struct Poisoned;

impl Hot {
    /// Opens the database file (it exists: the pool created it) with the pool's settings.
    pub(crate) fn open(path: &Path, busy_timeout: Duration) -> StoreResult<Hot> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(backend)?;
        conn.busy_timeout(busy_timeout).map_err(backend)?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -{CACHE_KIB};"
        ))
        .map_err(backend)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(Hot {
            conn: Mutex::new(conn),
            writes: AtomicU64::new(0),
        })
    }

    /// How many write statements this connection has run.
    pub(crate) fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// The connection, for a write statement: counted in `writes` once the statement is done
    /// (when the guard drops), so a checkpoint that saw the count also saw the write.
    fn writer(&self) -> StoreResult<Writer<'_>> {
        Ok(Writer {
            conn: self.conn()?,
            writes: &self.writes,
        })
    }

    fn conn(&self) -> StoreResult<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Backend(Box::new(Poisoned)))
    }

    pub(crate) fn token_by_hash(&self, hash: &str) -> StoreResult<Option<ApiToken>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(sql::TOKEN_BY_HASH).map_err(backend)?;
        let row = stmt
            .query_row(named_params! {"$1": hash}, TokenRow::from_sqlite)
            .optional()
            .map_err(backend)?;
        drop(stmt);
        drop(conn);
        row.map(ApiToken::try_from).transpose()
    }

    pub(crate) fn session_with_user(
        &self,
        id_hash: &str,
    ) -> StoreResult<Option<(twofold_core::session::Session, User)>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(sql::SESSION_WITH_USER)
            .map_err(backend)?;
        let row = stmt
            .query_row(named_params! {"$1": id_hash}, SessionUserRow::from_sqlite)
            .optional()
            .map_err(backend)?;
        drop(stmt);
        drop(conn);
        row.map(TryInto::try_into).transpose()
    }

    pub(crate) fn user_with_factors(&self, key: &str) -> StoreResult<Option<(User, Vec<Factor>)>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare_cached(sql::USER_WITH_FACTORS)
            .map_err(backend)?;
        let rows = stmt
            .query_map(named_params! {"$1": key}, UserFactorRow::from_sqlite)
            .map_err(backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        drop(stmt);
        drop(conn);
        user_with_factors(rows)
    }

    pub(crate) fn begin_attempt(
        &self,
        user_id: i64,
        now: i64,
        max_failures: i64,
    ) -> StoreResult<Option<i64>> {
        let conn = self.writer()?;
        let mut stmt = conn.prepare_cached(sql::BEGIN_ATTEMPT).map_err(backend)?;
        stmt.query_row(
            named_params! {"$1": user_id, "$2": now, "$3": max_failures},
            |r| r.get::<_, i64>(0),
        )
        .optional()
        .map_err(backend)
    }

    pub(crate) fn refund_attempt(&self, user_id: i64) -> StoreResult<()> {
        let conn = self.writer()?;
        let mut stmt = conn.prepare_cached(sql::REFUND_ATTEMPT).map_err(backend)?;
        stmt.execute(named_params! {"$1": user_id})
            .map_err(backend)?;
        Ok(())
    }

    pub(crate) fn reset_failures(&self, user_id: i64) -> StoreResult<()> {
        let conn = self.writer()?;
        let mut stmt = conn.prepare_cached(sql::RESET_FAILURES).map_err(backend)?;
        stmt.execute(named_params! {"$1": user_id})
            .map_err(backend)?;
        Ok(())
    }

    pub(crate) fn consume_counter(
        &self,
        id: &FactorId,
        counter: i64,
        drift: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let conn = self.writer()?;
        let mut stmt = conn.prepare_cached(sql::CONSUME_COUNTER).map_err(backend)?;
        let n = stmt
            .execute(named_params! {"$1": id.as_str(), "$2": counter, "$3": drift, "$4": now})
            .map_err(backend)?;
        Ok(n == 1)
    }

    pub(crate) fn consume_backup_code(
        &self,
        user_id: i64,
        lookup: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let conn = self.writer()?;
        let mut stmt = conn
            .prepare_cached(sql::CONSUME_BACKUP_CODE)
            .map_err(backend)?;
        let n = stmt
            .execute(named_params! {"$1": user_id, "$2": lookup, "$3": now})
            .map_err(backend)?;
        Ok(n == 1)
    }

    /// `Store::settle_attempt` in one `BEGIN IMMEDIATE … COMMIT` on this connection; rolled
    /// back when nothing may be counted or a statement fails.
    pub(crate) fn settle_attempt(&self, plan: &AttemptPlan<'_>) -> StoreResult<Settled> {
        let conn = self.writer()?;
        run(&conn, "BEGIN IMMEDIATE")?;
        let settled = run_now(crate::attempt::settle(&mut HotSteps(&conn), plan));
        match settled {
            Ok(settled) if settled != Settled::NotCounted => {
                if let Err(e) = run(&conn, "COMMIT") {
                    let _ = run(&conn, "ROLLBACK");
                    return Err(e);
                }
                Ok(settled)
            }
            other => {
                run(&conn, "ROLLBACK")?;
                other
            }
        }
    }

    pub(crate) fn insert_audit(&self, record: &NewAudit) -> StoreResult<()> {
        let conn = self.writer()?;
        let mut stmt = conn.prepare_cached(sql::INSERT_AUDIT).map_err(backend)?;
        stmt.execute(named_params! {
            "$1": record.at,
            "$2": record.actor,
            "$3": record.subject,
            "$4": record.event.as_str(),
            "$5": record.ip,
            "$6": record.detail,
        })
        .map_err(backend)?;
        Ok(())
    }
}

/// Runs a statement without parameters or rows (transaction control).
fn run(conn: &Connection, statement: &str) -> StoreResult<()> {
    conn.prepare_cached(statement)
        .and_then(|mut s| s.execute([]))
        .map(drop)
        .map_err(backend)
}

/// `settle`'s statements on the hot connection, inside the transaction `settle_attempt` began.
struct HotSteps<'c>(&'c Connection);

impl HotSteps<'_> {
    fn execute(&self, sql: &str, params: &[(&str, &dyn rusqlite::ToSql)]) -> StoreResult<usize> {
        let mut stmt = self.0.prepare_cached(sql).map_err(backend)?;
        stmt.execute(params).map_err(backend)
    }
}

impl crate::attempt::Steps for HotSteps<'_> {
    async fn begin_attempt(
        &mut self,
        user_id: i64,
        now: i64,
        max: i64,
    ) -> StoreResult<Option<i64>> {
        let mut stmt = self.0.prepare_cached(sql::BEGIN_ATTEMPT).map_err(backend)?;
        stmt.query_row(named_params! {"$1": user_id, "$2": now, "$3": max}, |r| {
            r.get::<_, i64>(0)
        })
        .optional()
        .map_err(backend)
    }

    async fn consume(&mut self, user_id: i64, what: &Consume, now: i64) -> StoreResult<bool> {
        let n = match what {
            Consume::Counter {
                factor,
                counter,
                drift,
            } => self.execute(
                sql::CONSUME_COUNTER,
                named_params! {"$1": factor.as_str(), "$2": counter, "$3": drift, "$4": now},
            )?,
            Consume::Challenge {
                factor,
                code_hash,
                max_attempts,
            } => self.execute(
                sql::CONSUME_CHALLENGE,
                named_params! {
                    "$1": factor.as_str(), "$2": code_hash, "$3": now, "$4": max_attempts
                },
            )?,
            Consume::BackupCode { lookup } => self.execute(
                sql::CONSUME_BACKUP_CODE,
                named_params! {"$1": user_id, "$2": lookup, "$3": now},
            )?,
            Consume::Assertion {
                factor,
                challenge_hash,
                purpose,
                sign_count,
            } => {
                let what = crate::attempt::Assertion {
                    factor,
                    challenge_hash,
                    purpose: purpose.as_str(),
                    sign_count: *sign_count,
                };
                let taken = crate::attempt::Steps::consume_assertion(self, user_id, what, now);
                return Ok(taken.await? == Some(true));
            }
        };
        Ok(n == 1)
    }

    async fn consume_assertion(
        &mut self,
        user_id: i64,
        what: crate::attempt::Assertion<'_>,
        now: i64,
    ) -> StoreResult<Option<bool>> {
        let taken = self.execute(
            sql::TAKE_WEBAUTHN_CHALLENGE,
            named_params! {
                "$1": what.challenge_hash, "$2": what.purpose, "$3": user_id, "$4": now
            },
        )?;
        if taken != 1 {
            return Ok(None);
        }
        let counted = self.execute(
            sql::CONSUME_SIGN_COUNT,
            named_params! {"$1": what.factor.as_str(), "$2": what.sign_count, "$3": now},
        )?;
        Ok(Some(counted == 1))
    }

    async fn challenge_failed(&mut self, factor: &FactorId) -> StoreResult<()> {
        self.execute(sql::CHALLENGE_FAILED, named_params! {"$1": factor.as_str()})
            .map(drop)
    }

    async fn backup_code_used(&mut self, user_id: i64, lookup: &str) -> StoreResult<bool> {
        let mut stmt = self
            .0
            .prepare_cached(sql::BACKUP_CODE_USED)
            .map_err(backend)?;
        stmt.exists(named_params! {"$1": user_id, "$2": lookup})
            .map_err(backend)
    }

    async fn reset_failures(&mut self, user_id: i64) -> StoreResult<()> {
        self.execute(sql::RESET_FAILURES, named_params! {"$1": user_id})
            .map(drop)
    }

    async fn refund_attempt(&mut self, user_id: i64) -> StoreResult<()> {
        self.execute(sql::REFUND_ATTEMPT, named_params! {"$1": user_id})
            .map(drop)
    }

    async fn lock_state(
        &mut self,
        user_id: i64,
    ) -> StoreResult<Option<(Option<i64>, i64, Option<i64>)>> {
        let mut stmt = self.0.prepare_cached(sql::LOCK_STATE).map_err(backend)?;
        stmt.query_row(named_params! {"$1": user_id}, |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
        .map_err(backend)
    }

    async fn set_lock(
        &mut self,
        user_id: i64,
        until: i64,
        streak: i64,
        now: i64,
    ) -> StoreResult<()> {
        self.execute(
            sql::SET_LOCK,
            named_params! {"$1": user_id, "$2": until, "$3": streak, "$4": now},
        )
        .map(drop)
    }

    async fn insert_audit(&mut self, record: &NewAudit) -> StoreResult<()> {
        self.execute(
            sql::INSERT_AUDIT,
            named_params! {
                "$1": record.at,
                "$2": record.actor,
                "$3": record.subject,
                "$4": record.event.as_str(),
                "$5": record.ip,
                "$6": record.detail,
            },
        )
        .map(drop)
    }
}

/// The connection held for a write; see [`Hot::writer`].
struct Writer<'a> {
    conn: MutexGuard<'a, Connection>,
    writes: &'a AtomicU64,
}

impl std::ops::Deref for Writer<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }
}
