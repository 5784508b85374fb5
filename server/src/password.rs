//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1, the OWASP minimum), run on a small
//! pool of its own threads, one fewer than the cores (at least one), so that hashing never stalls the
//! async executor and a flood of sign-ins always leaves a core to everything else. Each thread owns
//! one 19 MiB block buffer that it reuses for every hash: a flood of sign-ins costs at most that much
//! memory per thread, and hashing allocates nothing (a fresh 19 MiB allocation per hash fragments
//! the allocator's heaps until hundreds of MiB stay resident). A request waits at most [`QUEUE_WAIT`]
//! for a thread (and at most [`MAX_WAITING`] requests wait at all); then it gets
//! [`ServiceError::Busy`], which clients see as 503 with `Retry-After`.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc, LazyLock, Mutex,
    },
    time::Duration,
};

use argon2::{
    password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};

use crate::error::ServiceError;

pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const PARALLELISM: u32 = 1;
/// The length of the stored hash, argon2's default.
const OUTPUT_BYTES: usize = 32;

fn params() -> Params {
    Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, Some(OUTPUT_BYTES)).unwrap_or_default()
}

fn hash_error(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Hash(e.to_string())
}

/// The blocks argon2 fills, kept by each hashing thread and used for every hash it computes.
struct Memory(Vec<Block>);

impl Memory {
    fn new() -> Self {
        Memory(vec![Block::default(); params().block_count()])
    }

    /// The first `blocks` blocks, grown once if a stored hash asks for more than today's parameters.
    fn blocks(&mut self, blocks: usize) -> &mut [Block] {
        if self.0.len() < blocks {
            self.0.resize(blocks, Block::default());
        }
        &mut self.0[..blocks]
    }
}

/// The PHC string of `password` with a fresh salt, computed in `memory`.
fn hash_with(memory: &mut Memory, password: &str) -> Result<String, ServiceError> {
    let salt = SaltString::generate(&mut OsRng);
    let params = params();
    let mut salt_bytes = [0_u8; 64];
    let raw_salt = salt.as_salt().decode_b64(&mut salt_bytes).map_err(hash_error)?;
    let mut out = [0_u8; OUTPUT_BYTES];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, memory.blocks(params.block_count()))
        .map_err(hash_error)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(hash_error)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(hash_error)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored`, with the parameters, salt and algorithm it
/// records (so old hashes keep working), computed in `memory`. The comparison is constant-time.
fn verify_with(memory: &mut Memory, password: &str, stored: &str) -> Result<bool, ServiceError> {
    let parsed = PasswordHash::new(stored).map_err(hash_error)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(hash_error)?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(hash_error)?.unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(hash_error)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(ServiceError::Hash("stored hash has no salt or output".into()));
    };
    let mut salt_bytes = [0_u8; 64];
    let raw_salt = salt.decode_b64(&mut salt_bytes).map_err(hash_error)?;
    let mut out = vec![0_u8; expected.len()];
    let blocks = params.block_count();
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, memory.blocks(blocks))
        .map_err(hash_error)?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).map_err(hash_error)? == expected)
}

/// A hash of a random password with the same parameters, verified against when an email is unknown
/// so that an unknown account costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random = SaltString::generate(&mut OsRng);
    hash_with(&mut Memory::new(), random.as_str()).unwrap_or_default()
});

/// How long a request waits for a hashing thread before it is told the server is busy.
pub const QUEUE_WAIT: Duration = Duration::from_secs(3);
/// How many requests may wait for a hashing thread at once; more are told at once that it is busy.
pub const MAX_WAITING: usize = 256;

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// The hashing threads, the permits that keep at most one job per thread in flight, and counters.
struct Pool {
    jobs: Mutex<mpsc::Sender<Job>>,
    permits: tokio::sync::Semaphore,
    threads: usize,
    waiting: AtomicUsize,
    peak: Arc<AtomicUsize>,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    // One core stays with the requests: with a thread per core, the issue list's p99 during 20
    // sign-ins was 2.5 to 4x its idle value on two cores; with one fewer, 1.7 to 2.1x, for half the
    // sign-in rate there (docs/performance.md).
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get).saturating_sub(1).max(1);
    let (jobs, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    for n in 0..threads {
        let receiver = receiver.clone();
        let (running, peak) = (running.clone(), peak.clone());
        let spawned = std::thread::Builder::new().name(format!("moth-hash-{n}")).spawn(move || {
            yield_to_requests();
            // Allocated at the thread's first job, then reused for every hash.
            let mut memory: Option<Memory> = None;
            loop {
                let job = match receiver.lock() {
                    Ok(receiver) => receiver.recv(),
                    Err(_) => return,
                };
                let Ok(job) = job else { return };
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                job(memory.get_or_insert_with(Memory::new));
                running.fetch_sub(1, Ordering::SeqCst);
            }
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

/// How much lower than the rest of the server a hashing thread is scheduled (a nice value).
pub const HASHING_NICENESS: i32 = 10;

/// Lowers the calling thread's scheduling priority (on Linux the nice value belongs to the thread).
/// Hashing takes every core it is given; at a lower priority a flood of sign-ins still uses the idle
/// CPU but yields it to requests, so that the issue list keeps its latency during one (measured in
/// docs/performance.md: list p99 during 20 sign-ins).
fn yield_to_requests() {
    let me = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(me), HASHING_NICENESS) {
        tracing::warn!(error = %e, "cannot lower a hashing thread's priority");
    }
}

/// The number of hashing threads (one fewer than the cores, at least one).
pub fn threads() -> usize {
    POOL.threads
}

/// The most hashes that ever ran at the same time; never more than [`threads`].
pub fn peak_in_flight() -> usize {
    POOL.peak.load(Ordering::SeqCst)
}

/// Runs `work` on a hashing thread, with that thread's memory, once one is free, waiting at most
/// [`QUEUE_WAIT`].
async fn on_pool<T: Send + 'static>(work: impl FnOnce(&mut Memory) -> T + Send + 'static) -> Result<T, ServiceError> {
    let pool = &*POOL;
    if pool.waiting.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING {
        pool.waiting.fetch_sub(1, Ordering::SeqCst);
        return Err(ServiceError::Busy);
    }
    let permit = tokio::time::timeout(QUEUE_WAIT, pool.permits.acquire()).await;
    pool.waiting.fetch_sub(1, Ordering::SeqCst);
    let Ok(Ok(permit)) = permit else { return Err(ServiceError::Busy) };
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |memory| {
        // The permit goes back when the work is done, even if the request was abandoned meanwhile.
        let _permit = permit;
        let _ = done.send(work(memory));
    });
    pool.jobs.lock().map_err(|_| ServiceError::Busy)?.send(job).map_err(|_| ServiceError::Busy)?;
    result.await.map_err(|_| ServiceError::Hash("the hashing thread stopped".into()))
}

/// The PHC string of `password` with a fresh salt.
pub async fn hash(password: String) -> Result<String, ServiceError> {
    on_pool(move |memory| hash_with(memory, &password)).await?
}

/// Whether `password` matches `stored`; with no stored hash, a dummy one is checked and `false` returned.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ServiceError> {
    on_pool(move |memory| {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let matches = verify_with(memory, &password, &phc)?;
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

    #[tokio::test]
    async fn hashing_threads_run_below_the_rest_of_the_server() {
        hash("correct horse".into()).await.expect("hash");
        let mut niceness = Vec::new();
        for task in std::fs::read_dir("/proc/self/task").expect("tasks").flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.starts_with("moth-hash-") {
                // Fields after the command's closing parenthesis start at field 3; the nice value is field 19.
                let stat = std::fs::read_to_string(task.path().join("stat")).expect("stat");
                let after = stat.rsplit_once(')').expect("stat format").1;
                niceness.push(after.split_whitespace().nth(16).expect("nice").parse::<i32>().expect("number"));
            }
        }
        assert_eq!(niceness, vec![HASHING_NICENESS; threads()]);
        let mine = std::fs::read_to_string("/proc/thread-self/stat").expect("stat");
        let mine: i32 =
            mine.rsplit_once(')').expect("format").1.split_whitespace().nth(16).expect("n").parse().expect("n");
        assert_eq!(mine, 0, "other threads keep their priority");
    }

    #[test]
    fn hashes_made_here_verify_with_the_argon2_crate_and_back() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let mut memory = Memory::new();
        let ours = hash_with(&mut memory, "correct horse").expect("hash");
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(Argon2::default().verify_password(b"correct horse", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"Correct horse", &parsed).is_err());
        // A hash made by the crate itself, with other parameters, verifies here (old hashes keep working).
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8192, 3, 1, None).expect("params"));
        let salt = SaltString::generate(&mut OsRng);
        let theirs = other.hash_password(b"battery staple", &salt).expect("hash").to_string();
        assert!(verify_with(&mut memory, "battery staple", &theirs).expect("verify"));
        assert!(!verify_with(&mut memory, "battery stapler", &theirs).expect("verify"));
        assert!(verify_with(&mut memory, "correct horse", &ours).expect("verify"));
    }
}
