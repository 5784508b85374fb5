//! Password hashing with argon2id (m = 19456 KiB, t = 2, p = 1, the OWASP minimum), run on a small
//! pool of its own threads, so that hashing never stalls the async executor and a flood of sign-ins
//! always leaves cores to everything else. Memory is what bounds the pool: each hash needs a 19 MiB
//! buffer, so the threads are few by default ([`Hashing::for_cores`]: one fewer than the cores, at
//! most [`DEFAULT_MAX_THREADS`]) and configurable; a buffer is reused from hash to hash during a
//! flood and given back to the system after [`Hashing::release_after`] without work. A request waits
//! at most [`QUEUE_WAIT`] for a thread (and at most [`MAX_WAITING`] requests wait at all); then it
//! gets [`ServiceError::Busy`], which clients see as 503 with `Retry-After`.

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc, LazyLock, Mutex, OnceLock,
    },
    time::{Duration, Instant},
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

/// Room reserved for a buffer, in 1 KiB blocks: more than glibc's largest mmap threshold (32 MiB on
/// 64-bit), so that the allocator always maps a buffer on its own and unmaps it when it is dropped.
/// A 19 MiB request falls under the threshold glibc raises after the first free, is carved from a
/// heap, and stays resident after it is freed. Only the pages argon2 writes become resident.
const RESERVED_BLOCKS: usize = 33 * 1024;

/// The blocks argon2 fills, reused from hash to hash while a flood lasts (see [`Buffers`]).
struct Memory(Vec<Block>);

impl Memory {
    fn new() -> Self {
        let blocks = params().block_count();
        let mut buffer = Vec::with_capacity(blocks.max(RESERVED_BLOCKS));
        buffer.resize(blocks, Block::default());
        Memory(buffer)
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
/// The most hashing threads the default gives, whatever the cores: 2 x 19 MiB at the most.
pub const DEFAULT_MAX_THREADS: usize = 2;

/// How password hashing is bounded (settings `password_hashing_threads` and
/// `password_hashing_release_secs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hashing {
    /// Threads, each holding one 19 MiB buffer while a flood lasts.
    pub threads: usize,
    /// How long a buffer is kept without work before it goes back to the system.
    pub release_after: Duration,
}

impl Hashing {
    /// The default on a machine of `cores`: one thread fewer than the cores (at least one), so that
    /// a flood of sign-ins leaves a core to the requests, and at most [`DEFAULT_MAX_THREADS`], so
    /// that memory does not grow with the machine. Buffers go back after a minute without work.
    pub fn for_cores(cores: usize) -> Self {
        Self { threads: cores.saturating_sub(1).clamp(1, DEFAULT_MAX_THREADS), release_after: Duration::from_secs(60) }
    }
}

static SETTINGS: OnceLock<Hashing> = OnceLock::new();

/// Sets the pool's bounds and starts its threads. Only a call before the first hash counts (the
/// server makes it as it starts; commands and tests that do not get [`Hashing::for_cores`] of this
/// machine); answers whether this one did.
pub fn configure(settings: Hashing) -> bool {
    let taken = SETTINGS.set(settings).is_ok();
    LazyLock::force(&POOL);
    taken
}

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// The hashing threads, the permits that keep at most one job per thread in flight, and counters.
struct Pool {
    jobs: Mutex<mpsc::Sender<Job>>,
    permits: tokio::sync::Semaphore,
    threads: usize,
    waiting: AtomicUsize,
    peak: Arc<AtomicUsize>,
    buffers: Arc<Buffers>,
}

/// The buffers not in use, each with the moment it was given back, and how many exist in all.
struct Buffers {
    idle: Mutex<Vec<(Memory, Instant)>>,
    held: AtomicUsize,
    release_after: Duration,
}

impl Buffers {
    /// The buffer given back last (the others age towards release), or a new one.
    fn take(&self) -> Memory {
        if let Some((memory, _)) = self.idle.lock().ok().and_then(|mut idle| idle.pop()) {
            return memory;
        }
        self.held.fetch_add(1, Ordering::SeqCst);
        Memory::new()
    }

    fn give_back(&self, memory: Memory) {
        match self.idle.lock() {
            Ok(mut idle) => idle.push((memory, Instant::now())),
            Err(_) => self.forget(memory),
        }
    }

    /// Drops the buffers that have had no work for `release_after`.
    fn release_idle(&self) {
        let Ok(mut idle) = self.idle.lock() else { return };
        let (old, kept): (Vec<_>, Vec<_>) =
            idle.drain(..).partition(|(_, since)| since.elapsed() >= self.release_after);
        *idle = kept;
        drop(idle);
        for (memory, _) in old {
            self.forget(memory);
        }
    }

    fn forget(&self, memory: Memory) {
        drop(memory);
        self.held.fetch_sub(1, Ordering::SeqCst);
    }
}

static POOL: LazyLock<Pool> = LazyLock::new(|| {
    let settings = *SETTINGS.get_or_init(|| Hashing::for_cores(crate::machine::available_cores()));
    let threads = settings.threads.max(1);
    let (jobs, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let buffers = Arc::new(Buffers {
        idle: Mutex::new(Vec::new()),
        held: AtomicUsize::new(0),
        release_after: settings.release_after,
    });
    // The thread waiting for work wakes this often to release the buffers that have aged.
    let wake_every = (settings.release_after / 2).max(Duration::from_millis(100));
    for n in 0..threads {
        let receiver = receiver.clone();
        let (running, peak, buffers) = (running.clone(), peak.clone(), buffers.clone());
        let spawned = std::thread::Builder::new().name(format!("moth-hash-{n}")).spawn(move || {
            yield_to_requests();
            loop {
                let job = match receiver.lock() {
                    Ok(receiver) => receiver.recv_timeout(wake_every),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => {
                        let mut memory = buffers.take();
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        job(&mut memory);
                        running.fetch_sub(1, Ordering::SeqCst);
                        buffers.give_back(memory);
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => buffers.release_idle(),
                    Err(mpsc::RecvTimeoutError::Disconnected) => return,
                }
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
        buffers,
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

/// The number of hashing threads.
pub fn threads() -> usize {
    POOL.threads
}

/// How many 19 MiB buffers the threads hold now, in use or waiting to be released.
pub fn buffers_held() -> usize {
    POOL.buffers.held.load(Ordering::SeqCst)
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
