//! The embedded default: the Store over one SQLite file in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use twofold_core::store::StoreResult;

use crate::ConnectOptions;
use crate::hot::Hot;
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
    /// The validation hot path's own connection (`crate::hot`); none for `:memory:`, whose
    /// every connection would be another database.
    hot: Option<std::sync::Arc<Hot>>,
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
        let path = connect.get_filename().to_owned();
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
        let mut store = Self::from_pool(pool);
        if !in_memory {
            // Opened after the pool, which created the file and set WAL mode.
            let hot = std::sync::Arc::new(Hot::open(&path, options.busy_timeout)?);
            spawn_checkpoints(
                store.pool.clone(),
                store.writes.clone(),
                std::sync::Arc::downgrade(&hot),
            );
            store.hot = Some(hot);
        }
        Ok(store)
    }

    /// Wraps a pool the caller configured.
    pub fn from_pool(pool: SqlitePool) -> Self {
        SqliteStore {
            pool,
            writes: std::sync::Arc::default(),
            hot: None,
        }
    }

    /// The hot path's connection, when there is one.
    pub(crate) fn hot(&self) -> Option<&Hot> {
        self.hot.as_deref()
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

/// How often the WAL is checkpointed off the request path (see [`spawn_checkpoints`]).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Copies the WAL back into the database file every [`CHECKPOINT_EVERY`] when the hot path has
/// written since the last time, on one of the
/// pool's connections (so on its worker thread, not a request's), for as long as the hot path's
/// connection lives. That connection never checkpoints itself (`wal_autocheckpoint = 0`): a
/// checkpoint syncs the WAL and the database file, and that sync, run inside a request's
/// commit, held a runtime thread and was the slowest one percent of validations.
///
/// The checkpoint holds this process's write queue (`writes`): with no frame appended while it
/// runs, it copies the whole WAL, so the next write starts the WAL over from its beginning and
/// the file stays small. (Without it, under steady writes no checkpoint ever completed and the
/// WAL grew without bound: 860 MB in a 6-second benchmark.) Writers meanwhile wait on the queue
/// without holding a thread. PASSIVE never waits for readers or other processes; what they keep
/// is caught up at a later tick.
fn spawn_checkpoints(
    pool: SqlitePool,
    writes: std::sync::Arc<tokio::sync::Mutex<()>>,
    hot: std::sync::Weak<Hot>,
) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seen = 0;
        loop {
            tick.tick().await;
            let Some(written) = hot.upgrade().map(|h| h.writes()) else {
                break;
            };
            if pool.is_closed() {
                break;
            }
            if written == seen {
                // Nothing written here since the last tick: nothing to copy. (The pool's own
                // connections checkpoint their writes themselves.)
                continue;
            }
            // First the bulk, beside the writers; then, with the write queue held, the few
            // frames they appended meanwhile, so that this checkpoint is complete.
            let bulk = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await;
            let rest = match bulk {
                Ok(_) => {
                    let _serial = writes.lock().await;
                    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                        .execute(&pool)
                        .await
                }
                Err(e) => Err(e),
            };
            match rest {
                Ok(_) => seen = written,
                Err(e) => {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retrying at the next tick");
                }
            }
        }
    });
}

crate::store_impl::impl_store! {
    store = SqliteStore,
    db = sqlx::Sqlite,
    // IMMEDIATE takes the write lock at BEGIN (waiting up to the busy timeout), so a
    // transaction never has to upgrade a read lock, which SQLite refuses with SQLITE_BUSY.
    begin = "BEGIN IMMEDIATE",
    migrations = "./migrations/sqlite",
}
