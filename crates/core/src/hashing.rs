//! Password hashing off the request threads: Argon2 takes tens of milliseconds of CPU and
//! 19 MiB of memory per call, so a flood of logins run on the async workers would stall every
//! other request (`/validate`, `/healthz`). Hashes run on tokio's blocking pool, at most one per
//! core at once; a bounded number wait their turn and the rest are refused at once (HTTP 429).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;
use zeroize::Zeroizing;

use crate::crypto::{self, Rng};
use crate::error::{Error, Result};
use crate::i18n::Text;

/// How many password checks may wait for a free core per core, beyond those running.
const QUEUE_PER_CORE: usize = 16;

/// The pool that runs password hashes and checks.
#[derive(Debug)]
pub struct PasswordPool {
    running: Arc<Semaphore>,
    /// Checks waiting or running.
    admitted: Arc<AtomicUsize>,
    /// The most that may be admitted at once.
    limit: usize,
}

/// Gives an admitted slot back when the check ends, however it ends.
struct Admitted(Arc<AtomicUsize>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordPool {
    /// A pool with one running hash per core of this machine.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self::new(cores)
    }

    /// A pool running at most `parallel` hashes at once.
    pub fn new(parallel: usize) -> Self {
        let parallel = parallel.max(1);
        PasswordPool {
            running: Arc::new(Semaphore::new(parallel)),
            admitted: Arc::new(AtomicUsize::new(0)),
            limit: parallel * (1 + QUEUE_PER_CORE),
        }
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!("twofold_password_checks_refused_total").increment(1);
            return Err(Error::throttled(1, Text::new("err-server-busy")));
        }
        let slot = Admitted(self.admitted.clone());
        let permit = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::internal(&e))?;
        // The slot and the permit go with the hash, not with the request: a request dropped
        // while its hash runs (its client went away) must not free a place the hash still
        // occupies, or cancelled logins would run any number of hashes at once.
        tokio::task::spawn_blocking(move || {
            // The permit goes first, then the slot: a freed slot always finds its place free.
            let _held = (permit, slot);
            job()
        })
        .await
        .map_err(|e| Error::internal(&e))
    }

    /// Checks a password against a PHC string (see [`crypto::verify_password`]).
    pub async fn verify(&self, password: &str, phc: &str) -> Result<bool> {
        let password = Zeroizing::new(password.to_owned());
        let phc = phc.to_owned();
        self.run(move || crypto::verify_password(&password, &phc))
            .await
    }

    /// Hashes a password (see [`crypto::hash_password`]).
    pub async fn hash(&self, rng: Arc<dyn Rng>, password: &str) -> Result<String> {
        let password = Zeroizing::new(password.to_owned());
        self.run(move || crypto::hash_password(rng.as_ref(), &password))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_off_the_workers_and_refuses_beyond_the_queue() {
        let pool = Arc::new(PasswordPool::new(1));
        let rng: Arc<dyn Rng> = Arc::new(crypto::OsRng);
        let phc = pool.hash(rng, "correct horse").await.unwrap();
        assert!(pool.verify("correct horse", &phc).await.unwrap());
        assert!(!pool.verify("wrong horse", &phc).await.unwrap());

        // Far more checks than the pool admits at once: the excess is refused (throttled),
        // never queued without bound.
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..60 {
            let pool = pool.clone();
            let phc = phc.clone();
            tasks.spawn(async move { pool.verify("correct horse", &phc).await });
        }
        let (mut ok, mut refused) = (0, 0);
        while let Some(r) = tasks.join_next().await {
            match r.unwrap() {
                Ok(true) => ok += 1,
                Err(e) if matches!(e.kind, crate::ErrorKind::Throttled { .. }) => refused += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!((1..=1 + QUEUE_PER_CORE).contains(&ok), "{ok} ran");
        assert_eq!(ok + refused, 60);
        assert_eq!(pool.admitted.load(Ordering::Acquire), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancelled_checks_keep_their_place_until_their_hash_ends() {
        let pool = Arc::new(PasswordPool::new(1));
        // A "hash" that runs until the test lets it end.
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let request = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = wait.recv();
                })
                .await
            })
        };
        while pool.running.available_permits() == 1 {
            tokio::task::yield_now().await;
        }
        // The request goes away while its hash runs: the hash keeps its place.
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        assert_eq!(pool.running.available_permits(), 0, "the hash still runs");
        assert_eq!(pool.admitted.load(Ordering::Acquire), 1);
        // Once it ends, the place is free again.
        release.send(()).unwrap();
        while pool.admitted.load(Ordering::Acquire) != 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pool.running.available_permits(), 1);
    }
}
