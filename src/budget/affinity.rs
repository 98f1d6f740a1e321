//! How many CPUs the scheduler lets this process run on (`sched_getaffinity`).
//!
//! Not `num_cpus::get()` or `available_parallelism()`: both fold a cgroup quota in (leaf only,
//! or rounded down), and `gob env` must show each source on its own.

/// CPUs in this process's affinity mask, or `None` where the call fails.
pub fn affinity_cpus() -> Option<usize> {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills at most its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        let count = libc::CPU_COUNT(&set);
        (count > 0).then_some(count as usize)
    }
}
