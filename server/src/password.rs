//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1, the OWASP minimum), run on a small
//! pool of its own threads, one per core, so that hashing never stalls the async executor and a flood
//! of sign-ins cannot take more than one 19 MiB buffer per thread. A request waits at most
//! [`QUEUE_WAIT`] for a thread (and at most [`MAX_WAITING`] requests wait at all); then it gets
//! [`ServiceError::Busy`], which clients see as 503 with `Retry-After`.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc, LazyLock, Mutex,
    },
    time::Duration,
};

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};

use crate::error::ServiceError;

pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a random password with the same parameters, verified against when an email is unknown
/// so that an unknown account costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random = SaltString::generate(&mut OsRng);
    hash_blocking(random.as_str()).unwrap_or_default()
});

fn hash_blocking(password: &str) -> Result<String, ServiceError> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServiceError::Hash(e.to_string()))
}

/// How long a request waits for a hashing thread before it is told the server is busy.
pub const QUEUE_WAIT: Duration = Duration::from_secs(3);
/// How many requests may wait for a hashing thread at once; more are told at once that it is busy.
pub const MAX_WAITING: usize = 256;

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads, the permits that keep at most one job per thread in flight, and counters.
struct Pool {
    jobs: Mutex<mpsc::Sender<Job>>,
    permits: tokio::sync::Semaphore,
    threads: usize,
    waiting: AtomicUsize,
    peak: Arc<AtomicUsize>,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let (jobs, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    for n in 0..threads {
        let receiver = receiver.clone();
        let (running, peak) = (running.clone(), peak.clone());
        let spawned = std::thread::Builder::new().name(format!("moth-hash-{n}")).spawn(move || loop {
            let job = match receiver.lock() {
                Ok(receiver) => receiver.recv(),
                Err(_) => return,
            };
            let Ok(job) = job else { return };
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            job();
            running.fetch_sub(1, Ordering::SeqCst);
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a password hashing thread");
        }
    }
    Pool {
        jobs: Mutex::new(jobs),
        permits: tokio::sync::Semaphore::new(threads),
        threads,
        waiting: AtomicUsize::new(0),
        peak,
    }
});

/// The number of hashing threads (one per core).
pub fn threads() -> usize {
    POOL.threads
}

/// The most hashes that ever ran at the same time; never more than [`threads`].
pub fn peak_in_flight() -> usize {
    POOL.peak.load(Ordering::SeqCst)
}

/// Runs `work` on a hashing thread once one is free, waiting at most [`QUEUE_WAIT`].
async fn on_pool<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, ServiceError> {
    let pool = &*POOL;
    if pool.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
        pool.waiting.fetch_sub(1, Ordering::SeqCst);
        return Err(ServiceError::Busy);
    }
    let permit = tokio::time::timeout(QUEUE_WAIT, pool.permits.acquire()).await;
    pool.waiting.fetch_sub(1, Ordering::SeqCst);
    let Ok(Ok(permit)) = permit else { return Err(ServiceError::Busy) };
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        // The permit goes back when the work is done, even if the request was abandoned meanwhile.
        let _permit = permit;
        let _ = done.send(work());
    });
    pool.jobs.lock().map_err(|_| ServiceError::Busy)?.send(job).map_err(|_| ServiceError::Busy)?;
    result.await.map_err(|_| ServiceError::Hash("the hashing thread stopped".into()))
}

/// The PHC string of `password` with a fresh salt.
pub async fn hash(password: String) -> Result<String, ServiceError> {
    on_pool(move || hash_blocking(&password)).await?
}

/// Whether `password` matches `stored`; with no stored hash, a dummy one is checked and `false` returned.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ServiceError> {
    on_pool(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return Err(ServiceError::Hash("stored hash is not a PHC string".into()));
        };
        // Verification takes its parameters from the stored hash, so old hashes keep working.
        let matches = hasher().verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(known && matches)
    })
    .await?
}

/// Computes the dummy hash ahead of the first sign-in, so that the first unknown email is not faster.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn hashes_run_on_every_thread_of_the_pool_and_never_more() {
        let stored = hash("correct horse".into()).await.expect("hash");
        let checks: Vec<_> = (0..12).map(|_| tokio::spawn(verify("wrong".into(), Some(stored.clone())))).collect();
        for check in checks {
            assert!(!check.await.expect("task").expect("verify"));
        }
        assert_eq!(peak_in_flight(), threads().min(12), "peak {} of {} threads", peak_in_flight(), threads());
    }
}
