//! The GOMAXPROCS a Go program picks by itself (what `gob env` shows as "go alone"):
//! Go 1.25+ takes min(affinity, ceil(quota/period)) of its own (leaf) cgroup only, never
//! below 2 (src/runtime/cgroup_linux.go, GODEBUG containermaxprocs); older Go the affinity
//! mask alone (src/runtime/os_linux.go `getproccount`).

use super::version::GoVersion;

/// GOMAXPROCS of a Go `version` program with `affinity` CPUs, whose own cgroup limits it
/// to `leaf_limit` CPUs (rounded up), if it does.
pub fn runtime_default(version: &GoVersion, affinity: usize, leaf_limit: Option<usize>) -> usize {
    if !version.at_least(25) {
        return affinity;
    }
    leaf_limit.map_or(affinity, |limit| affinity.min(limit.max(2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> GoVersion {
        GoVersion::parse(s).unwrap()
    }

    #[test]
    fn go_1_25_reads_its_own_cgroup_with_a_floor_of_two() {
        assert_eq!(runtime_default(&v("go1.26.8"), 8, Some(3)), 3);
        assert_eq!(runtime_default(&v("go1.26.8"), 8, Some(1)), 2);
        assert_eq!(runtime_default(&v("go1.26.8"), 1, Some(1)), 1);
        assert_eq!(runtime_default(&v("go1.26.8"), 8, None), 8);
        assert_eq!(runtime_default(&v("go1.24.0"), 8, Some(3)), 8);
    }
}
