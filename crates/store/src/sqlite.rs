//! The embedded default: the Store over one SQLite file in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use twofold_core::store::StoreResult;

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
}

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
        }
    }

    /// Serialises this process's writes (see `writes`); other processes still meet SQLite's
    /// busy timeout.
    pub(crate) async fn serialize_writes(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        Some(self.writes.lock().await)
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
