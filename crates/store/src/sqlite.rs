//! The embedded default: the Store over one SQLite file in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use twofold_core::store::{StoreError, StoreResult};

use crate::ConnectOptions;
use crate::hot::Hot;
use crate::rows::backend;

/// Connections in the pool by default: WAL lets readers run beside the one writer, and more
/// connections than this only queue on SQLite's single write lock.
const DEFAULT_MAX_CONNECTIONS: u32 = 5;

/// The page size of a new database file (SQLite's default is 4096). Every commit writes each
/// page it changed whole into the WAL, and every checkpoint syncs the WAL and copies the pages
/// back. A validation changes a few small rows on as many pages (the user's, the audit log's
/// and its two indexes'), and with many users those pages are scattered over the file: a
/// smaller page is less to write, sync and copy for the same rows. Measured with
/// `bench/validate` and 100,000 users: with 4 KiB pages the WAL took about 200 MB a second,
/// syncing a checkpoint's share of it took 25 ms, during which every request waited, and p99
/// latency was 12 to 24 ms; with 1 KiB pages, 70 MB a second and a p99 of 4 to 6 ms. A
/// database created with another page size keeps it (SQLite cannot change it in WAL mode);
/// ARCHITECTURE.md says how to convert one.
pub(crate) const PAGE_SIZE: u32 = 1024;

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
            .page_size(PAGE_SIZE)
            .pragma("cache_size", format!("-{}", crate::hot::CACHE_KIB))
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
            // Without the descriptor the checkpoints still run, with a longer step 3.
            let file = DatabaseFile::of(&path)
                .inspect_err(|e| {
                    tracing::warn!(error = %e, "cannot open the database file to sync it");
                })
                .ok();
            spawn_checkpoints(
                store.pool.clone(),
                store.writes.clone(),
                std::sync::Arc::downgrade(&hot),
                file,
            );
            store.hot = Some(hot);
        }
        Ok(store)
    }

    /// Opens an existing SQLite file read-only, with one connection and none of the writer's
    /// machinery (no hot path, no checkpoints): for checks that must change nothing.
    pub async fn open_read_only(url: &str) -> StoreResult<Self> {
        let connect = SqliteConnectOptions::from_str(url)
            .map_err(backend)?
            .read_only(true)
            .create_if_missing(false);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect)
            .await
            .map_err(backend)?;
        Ok(Self::from_pool(pool))
    }

    /// Writes a consistent copy of the SQLite database at `url` to `dest`, while servers may be
    /// writing to it: SQLite's `VACUUM INTO` reads the database in one read transaction (under
    /// WAL, writers go on meanwhile) and writes a compact copy holding exactly what was
    /// committed when it began. `dest` must not exist: it is created empty, mode 0600 (it holds
    /// password hashes and sealed secrets), and never overwritten. A failed copy removes it.
    pub async fn backup_to(url: &str, dest: &std::path::Path) -> Result<u64, BackupError> {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dest)
            .map_err(BackupError::Create)?;
        let copy = async {
            let store = Self::open_read_only(url)
                .await
                .map_err(BackupError::Store)?;
            let path = dest.to_str().ok_or(BackupError::NotUtf8)?;
            sqlx::query("VACUUM INTO $1")
                .bind(path)
                .execute(&store.pool)
                .await
                .map_err(|e| BackupError::Store(backend(e)))?;
            store.pool.close().await;
            std::fs::metadata(dest)
                .map(|m| m.len())
                .map_err(BackupError::Create)
        };
        match copy.await {
            Ok(n) => Ok(n),
            Err(e) => {
                let _ = std::fs::remove_file(dest);
                Err(e)
            }
        }
    }

    /// Wraps a pool the caller configured.
    pub fn from_pool(pool: SqlitePool) -> Self {
        SqliteStore {
            pool,
            writes: std::sync::Arc::default(),
            hot: None,
        }
    }

    /// PostgreSQL settles an attempt in one statement; SQLite runs the flow itself (on the hot
    /// path, or through a sqlx transaction).
    pub(crate) async fn settle_in_one_statement(
        &self,
        _plan: &twofold_core::store::AttemptPlan<'_>,
    ) -> StoreResult<Option<twofold_core::store::Settled>> {
        Ok(None)
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
/// written since the last time, on one of the pool's connections (so on its worker thread, not
/// a request's), for as long as the hot path's connection lives. That connection never
/// checkpoints itself (`wal_autocheckpoint = 0`): a checkpoint syncs the WAL and the database
/// file, and that sync, run inside a request's commit, held a runtime thread and was the
/// slowest one percent of validations.
///
/// Each tick has three steps:
/// 1. a PASSIVE checkpoint beside the writers copies the bulk of the WAL;
/// 2. the database file is synced ([`DatabaseFile`]), still beside the writers. SQLite syncs
///    the file only when a checkpoint copied the whole WAL, which under steady writes step 1
///    never does, so without this step step 3 synced every page step 1 wrote while the
///    writers waited (`bench/validate`, 100,000 users, three runs each: p99 4.9 to 7.1 ms
///    without, 4.0 to 4.7 ms with);
/// 3. with this process's write queue (`writes`) held, a second PASSIVE checkpoint copies the
///    few frames appended meanwhile. With no frame appended while it runs it copies the whole
///    WAL, so the next write starts the WAL over from its beginning and the file stays small.
///    (Without it, under steady writes no checkpoint ever completed and the WAL grew without
///    bound: 860 MB in a 6-second benchmark.) Writers meanwhile wait on the queue without
///    holding a thread.
///
/// PASSIVE never waits for readers or other processes; what they keep is caught up at a later
/// tick.
fn spawn_checkpoints(
    pool: SqlitePool,
    writes: std::sync::Arc<tokio::sync::Mutex<()>>,
    hot: std::sync::Weak<Hot>,
    file: Option<DatabaseFile>,
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
            match checkpoint(&pool, &writes, file).await {
                Ok(()) => seen = written,
                Err(e) => {
                    tracing::error!(error = %e, "WAL checkpoint failed; retrying at the next tick");
                }
            }
        }
    });
}

/// One tick of [`spawn_checkpoints`]: its three steps.
async fn checkpoint(
    pool: &SqlitePool,
    writes: &tokio::sync::Mutex<()>,
    file: Option<DatabaseFile>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // For the debug line's timings only; nothing here depends on the time.
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    let (_, _, bulk) = passive_checkpoint(pool).await?;
    let copied = started.elapsed();
    if let Some(file) = file {
        file.sync().await?;
    }
    let synced = started.elapsed();
    let _serial = writes.lock().await;
    let queued = started.elapsed();
    let (busy, log, rest) = passive_checkpoint(pool).await?;
    tracing::debug!(
        bulk_frames = bulk,
        rest_frames = rest,
        wal_frames = log,
        busy,
        copy_us = copied.as_micros() as u64,
        sync_us = (synced - copied).as_micros() as u64,
        held_us = (started.elapsed() - queued).as_micros() as u64,
        "WAL checkpoint"
    );
    Ok(())
}

/// `PRAGMA wal_checkpoint(PASSIVE)`: (busy, frames in the WAL, frames copied).
async fn passive_checkpoint(pool: &SqlitePool) -> Result<(i64, i64, i64), sqlx::Error> {
    sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await
}

/// A descriptor on the database file, to sync it (`fdatasync`) from the checkpoint task.
///
/// SQLite locks the file with POSIX advisory locks, and closing *any* descriptor of a file
/// drops every such lock the process holds on it, those of SQLite's own connections included
/// (<https://www.sqlite.org/howtocorrupt.html>, section 2.2). So these descriptors are never
/// closed: one per database file (device and inode) for the life of the process, shared by
/// every store opened on that file. (A process that opens many databases, like a test binary,
/// keeps one descriptor each, and a deleted one's disk space, until it exits.)
#[derive(Debug, Clone, Copy)]
struct DatabaseFile(&'static std::fs::File);

impl DatabaseFile {
    /// The process's descriptor on the file at `path`, opened (read-only) on first use.
    fn of(path: &std::path::Path) -> std::io::Result<DatabaseFile> {
        use std::collections::HashMap;
        use std::os::unix::fs::MetadataExt;
        use std::sync::{LazyLock, Mutex, PoisonError};
        type Key = (u64, u64);
        static OPEN: LazyLock<Mutex<HashMap<Key, &'static std::fs::File>>> =
            LazyLock::new(Mutex::default);
        let mut open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
        let meta = std::fs::metadata(path)?;
        if let Some(file) = open.get(&(meta.dev(), meta.ino())) {
            return Ok(DatabaseFile(file));
        }
        // Leaked at once, so never closed, whatever happens next.
        let file: &'static std::fs::File = Box::leak(Box::new(std::fs::File::open(path)?));
        // Keyed by what was opened (the path may have been replaced since the stat). Were that
        // file already here under another name, this second descriptor just stays unused.
        let meta = file.metadata()?;
        Ok(DatabaseFile(
            open.entry((meta.dev(), meta.ino())).or_insert(file),
        ))
    }

    /// Writes the file's dirty pages to the disk, on a blocking thread.
    async fn sync(self) -> std::io::Result<()> {
        let file = self.0;
        tokio::task::spawn_blocking(move || file.sync_data())
            .await
            .map_err(std::io::Error::other)?
    }
}

crate::queries::impl_shared! {
    db = sqlx::Sqlite,
    // IMMEDIATE takes the write lock at BEGIN (waiting up to the busy timeout), so a
    // transaction never has to upgrade a read lock, which SQLite refuses with SQLITE_BUSY.
    begin = "BEGIN IMMEDIATE",
}
crate::queries::impl_database!(store = SqliteStore, migrations = SQLITE);
crate::queries::impl_users!(store = SqliteStore);
crate::queries::impl_attempts!(store = SqliteStore);
crate::queries::impl_factors!(store = SqliteStore);
crate::queries::impl_codes!(store = SqliteStore);
crate::queries::impl_sessions!(store = SqliteStore);
crate::queries::impl_remembered!(store = SqliteStore);
crate::queries::impl_throttle!(store = SqliteStore);
crate::queries::impl_tokens!(store = SqliteStore);
crate::queries::impl_audit!(store = SqliteStore);
crate::queries::impl_settings!(store = SqliteStore);
crate::queries::impl_duo_states!(store = SqliteStore);
crate::queries::impl_wsapi!(store = SqliteStore);
crate::queries::impl_radius!(store = SqliteStore);
crate::queries::impl_webauthn!(store = SqliteStore);
crate::queries::impl_sealed!(store = SqliteStore);

/// A SQLite database file, or a directory above it, that could not be created.
#[derive(Debug, thiserror::Error)]
#[error("cannot create {}: {source}", path.display())]
pub struct CreateFileError {
    /// The file or directory.
    pub path: std::path::PathBuf,
    /// Why it could not be created.
    pub source: std::io::Error,
}

impl SqliteStore {
    /// Creates the database file a `sqlite://PATH` URL names (its `?…` options aside) if it
    /// does not exist yet: empty, readable only by its owner, with any missing directory above
    /// it (mode 0700). SQLite gives its `-wal` and `-shm` files the database file's permissions,
    /// so the whole database stays private. Other URLs, `:memory:` and an existing file are left
    /// alone.
    ///
    /// # Errors
    ///
    /// [`CreateFileError`] when a directory or the file cannot be created.
    pub fn create_private_file(url: &str) -> Result<(), CreateFileError> {
        let Some(path) = url.strip_prefix("sqlite://") else {
            return Ok(());
        };
        create_private_file(std::path::Path::new(path.split('?').next().unwrap_or(path)))
    }
}

/// Why a backup was not made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The destination could not be created (it exists, or its directory does not).
    #[error("{0}")]
    Create(#[source] std::io::Error),
    /// The destination's path is not UTF-8 (SQLite takes it as text).
    #[error("the destination's path must be UTF-8")]
    NotUtf8,
    /// The database could not be read or the copy written.
    #[error("{0}")]
    Store(#[source] StoreError),
}

/// Creates an empty file readable only by us if it does not exist yet.
fn create_private_file(path: &std::path::Path) -> Result<(), CreateFileError> {
    use std::os::unix::fs::OpenOptionsExt;
    if path.as_os_str().is_empty() || path.exists() || path.to_str() == Some(":memory:") {
        return Ok(());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_dir(parent)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(CreateFileError {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Creates `dir` and any missing directory above it, mode 0700.
fn ensure_dir(dir: &std::path::Path) -> Result<(), CreateFileError> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| CreateFileError {
            path: dir.to_owned(),
            source,
        })
}
