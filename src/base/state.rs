//! Where gob keeps its state in a workspace: every path below `.gob/`, relative to the
//! workspace dir, in one place.

/// gob's state dir.
pub const STATE_DIR: &str = ".gob";
/// The workspace lock (an flock; the file records the holder).
pub const LOCK_FILE: &str = ".gob/lock";
/// Persistent staging dirs of `go build` calls (go skips linking binaries that are current).
pub const STAGING_DIR: &str = ".gob/build";
/// Integration suites' test binaries, one dir per suite.
pub const TEST_BIN_DIR: &str = ".gob/test";
/// go's work dir (GOTMPDIR) for integration compiles: on the same filesystem as the test
/// binaries gob keeps, so keeping one is a hard link.
pub const GO_TMP_DIR: &str = ".gob/tmp";
/// Programs gob builds with the workspace's go (`gob check`'s type checker).
pub const TOOLS_DIR: &str = ".gob/tools";
/// `gob check`'s listings, read by its type checker.
pub const CHECK_DIR: &str = ".gob/check";
/// The last `gob check` that passed, with a key of everything it depended on.
pub const CHECK_PASSED_FILE: &str = ".gob/check/passed.json";
/// Cached `go list` answers.
pub const LIST_CACHE_DIR: &str = ".gob/cache";
/// `--since`: the files of compared commits (`<commit>/tree`) and go's listings of them.
pub const SINCE_DIR: &str = ".gob/since";
/// Tasks' records (`<name>.json`: the digests of their sources and outputs after their last
/// success) and services' `GOB_ENV` files.
pub const TASKS_DIR: &str = ".gob/tasks";
/// The timing history `--shard` balances by.
pub const TIMINGS_FILE: &str = ".gob/timings.json";
/// The tests that failed in the last run, by suite and package (`gob test --failed`).
pub const FAILED_FILE: &str = ".gob/failed.json";
/// `gob analyze`'s scratch dirs (`run-PID/`) and its last compile times.
pub const ANALYZE_DIR: &str = ".gob/analyze";
/// The compile times of the last `gob analyze`, for `gob analyze why`.
pub const ANALYZE_TIMES_FILE: &str = ".gob/analyze/compile-times.json";
/// The coverage of the current run: each profile fragment, the instrumented binaries, and
/// what they wrote (`GOCOVERDIR`); emptied when a run with a profile starts.
pub const COVER_DIR: &str = ".gob/cover";
