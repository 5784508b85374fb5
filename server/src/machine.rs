//! The machine Moth sizes itself for. Pools (database connections, password hashing) are derived
//! from the cores this process may use, unless the configuration names a size (`parallelism`,
//! `database_pool_size`, `password_hashing_threads`).

/// The cores the OS grants this process (CPU affinity and cgroup quotas included); 2 if it cannot
/// tell.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZero::get)
}
