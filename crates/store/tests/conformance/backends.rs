//! Checks that need no backend of their own: URL schemes, in-memory SQLite, and SQLite files.

use std::sync::Arc;

use sqlx::{Connection, Executor};
use tokio::task::JoinSet;
use twofold_core::store::prelude::*;
use twofold_store::{Backend, SqliteStore};

use crate::support::{NOW, new_user, user};

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

#[test]
fn sqlite_files_are_created_private_with_their_directories() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a/b/twofold.db");
    SqliteStore::create_private_file(&format!("sqlite://{}?mode=rwc", db.display())).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&dir.path().join("a/b")), 0o700);
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0);
    // An existing file is left as it is.
    std::fs::write(&db, b"kept").unwrap();
    SqliteStore::create_private_file(&format!("sqlite://{}", db.display())).unwrap();
    assert_eq!(std::fs::read(&db).unwrap(), b"kept");
    // Other URLs create nothing.
    for url in ["sqlite://:memory:", "sqlite::memory:", "postgres://u@h/db"] {
        SqliteStore::create_private_file(url).unwrap();
    }
    assert!(!std::path::Path::new(":memory:").exists());
    // A failure names what could not be created.
    let blocked = dir.path().join("file");
    std::fs::write(&blocked, b"").unwrap();
    let e = SqliteStore::create_private_file(&format!("sqlite://{}/x.db", blocked.display()))
        .unwrap_err();
    assert_eq!(e.path, blocked);
    assert!(
        e.to_string()
            .starts_with(&format!("cannot create {}: ", blocked.display()))
    );
}
