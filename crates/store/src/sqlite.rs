//! The embedded default: the Store over one SQLite file in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use twofold_core::audit::NewAudit;
use twofold_core::store::{StoreError, StoreResult};

use crate::ConnectOptions;
use crate::rows::backend;

/// Connections in the pool by default: WAL lets readers run beside the one writer, and more
/// connections than this only queue on SQLite's single write lock.
const DEFAULT_MAX_CONNECTIONS: u32 = 5;

/// SQLite's busy timeout when [`ConnectOptions`] does not say otherwise.
pub(crate) const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The Store over SQLite.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// SQLite has one write lock per database; writers queued here wait without polling, where
    /// SQLite's own busy handler would sleep and retry (1, 2, 5, 10 … ms) and add latency.
    writes: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Audit records waiting to be written, each with who waits for it: whoever takes the write
    /// lock next writes all of them in one INSERT (group commit), so a burst of requests costs
    /// one write, not one each. Every caller still returns only once its record is written.
    audits: std::sync::Arc<std::sync::Mutex<Vec<PendingAudit>>>,
}

type PendingAudit = (NewAudit, tokio::sync::oneshot::Sender<Result<(), String>>);

/// The most audit records one INSERT writes (6 parameters each, far below SQLite's limit).
const MAX_AUDIT_BATCH: usize = 256;

impl SqliteStore {
    /// Opens `sqlite://PATH` (the file is created if missing; its directory must exist) or
    /// `sqlite::memory:`, with the default [`ConnectOptions`].
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, &ConnectOptions::default()).await
    }

    /// Opens a SQLite database: WAL journal, `synchronous=NORMAL`, foreign keys on, and a busy
    /// timeout so that concurrent writers wait for each other instead of failing.
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> StoreResult<Self> {
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = if in_memory {
            // Every connection to `:memory:` is a database of its own: keep exactly one, for
            // ever, so the data lives as long as the store.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new()
                .max_connections(options.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS))
        }
        .acquire_timeout(options.acquire_timeout)
        // No ping before each use: a local file does not drop connections, and the ping is a
        // round trip to the connection's worker thread on every statement.
        .test_before_acquire(false)
        .connect_with(connect)
        .await
        .map_err(backend)?;
        Ok(Self::from_pool(pool))
    }

    /// Wraps a pool the caller configured.
    pub fn from_pool(pool: SqlitePool) -> Self {
        SqliteStore {
            pool,
            writes: std::sync::Arc::default(),
            audits: std::sync::Arc::default(),
        }
    }

    /// Serialises this process's writes (see `writes`); other processes still meet SQLite's
    /// busy timeout.
    pub(crate) async fn serialize_writes(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        Some(self.writes.lock().await)
    }

    /// Writes an audit record with the others waiting (see `audits`); `Some` always on SQLite.
    pub(crate) async fn insert_audit_grouped(&self, record: &NewAudit) -> Option<StoreResult<()>> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.audits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((record.clone(), done));
        let (writes, pool, audits) = (self.writes.clone(), self.pool.clone(), self.audits.clone());
        // The write runs in a task of its own: a request that goes away half-way must not take
        // the records of others with it.
        tokio::spawn(async move {
            let _serial = writes.lock_owned().await;
            let batch: Vec<PendingAudit> = {
                let mut queue = audits
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let n = queue.len().min(MAX_AUDIT_BATCH);
                queue.drain(..n).collect()
            };
            if batch.is_empty() {
                // An earlier writer took this record along.
                return;
            }
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO audit (at, actor, subject, event, ip, detail) ",
            );
            insert.push_values(batch.iter().map(|(r, _)| r), |mut row, r| {
                row.push_bind(r.at)
                    .push_bind(r.actor.clone())
                    .push_bind(r.subject.clone())
                    .push_bind(r.event.as_str())
                    .push_bind(r.ip.clone())
                    .push_bind(r.detail.clone());
            });
            let result = insert
                .build()
                .execute(&pool)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string());
            for (_, done) in batch {
                let _ = done.send(result.clone());
            }
        });
        Some(match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(StoreError::Backend(message.into())),
            Err(_) => Err(StoreError::Backend("the audit writer stopped".into())),
        })
    }

    /// The pool, for callers that need the database directly (tests, maintenance).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection (checkpointing the WAL) and waits until they are closed.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

crate::store_impl::impl_store! {
    store = SqliteStore,
    db = sqlx::Sqlite,
    // IMMEDIATE takes the write lock at BEGIN (waiting up to the busy timeout), so a
    // transaction never has to upgrade a read lock, which SQLite refuses with SQLITE_BUSY.
    begin = "BEGIN IMMEDIATE",
    migrations = "./migrations/sqlite",
}
