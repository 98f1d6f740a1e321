//! Events: the seam between running tests and reporting them. test2json's events as go
//! writes them, gob's own events, and the remote cache's counts that one of them carries.
//!
//! Fields gob knows are typed; every other field (Go 1.24's `ImportPath` on `build-output`,
//! 1.25's `Key`/`Value`, 1.27's `OutputType`, …) is kept in `extra` and written back unchanged.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Lines kept from the start of one test's output (reports keep the head and the tail of a
/// long output, and count what falls between).
pub const OUTPUT_HEAD_LINES: usize = 100;
/// Bytes kept from the end of one test's output (where a failure usually is).
pub const OUTPUT_TAIL_BYTES: usize = 1 << 20;

/// One event as `go test -json` / `go tool test2json` print it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct TestEvent {
    /// RFC 3339 time.
    #[serde(rename = "Time", default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// start, run, pause, cont, pass, bench, fail, output, skip, attr, build-output, …
    #[serde(rename = "Action")]
    pub action: String,
    /// Import path of the package.
    #[serde(rename = "Package", default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Test name, for test-level events.
    #[serde(rename = "Test", default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
    /// Seconds, on pass/fail/skip.
    #[serde(rename = "Elapsed", default, skip_serializing_if = "Option::is_none")]
    pub elapsed: Option<f64>,
    /// Output text, on output events.
    #[serde(rename = "Output", default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Every field gob does not know, kept as is.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One package's coverage in a `gob-coverage` event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PackageCoverage {
    /// Import path.
    pub package: String,
    /// Statements that ran.
    pub covered: u64,
    /// All statements.
    pub statements: u64,
    /// Covered share, in percent (one decimal).
    pub percent: f64,
}

/// gob's own events, alongside test2json's; in `--json` output their `Action` starts with
/// `gob-`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "Action", rename_all_fields = "PascalCase")]
pub enum GobEvent {
    /// A task starts (`gob run`, or `before` a build or a suite).
    #[serde(rename = "gob-task-start")]
    TaskStart {
        /// Task name.
        task: String,
        /// Why it runs.
        why: String,
    },
    /// A line a task printed.
    #[serde(rename = "gob-task-output")]
    TaskOutput {
        /// Task name.
        task: String,
        /// The line.
        line: String,
    },
    /// A task ended, or was not run.
    #[serde(rename = "gob-task-end")]
    TaskEnd {
        /// Task name.
        task: String,
        /// `ran`, `up to date`, `failed` or `not run`.
        status: String,
        /// Why, for every status but `ran`.
        #[serde(skip_serializing_if = "Option::is_none")]
        why: Option<String>,
        /// Seconds.
        elapsed: f64,
    },
    /// A service changed state: `ready`, `failed` (with why) or `stopped`.
    #[serde(rename = "gob-service")]
    Service {
        /// Task name.
        task: String,
        /// The state.
        state: String,
        /// Why, when it failed.
        #[serde(skip_serializing_if = "Option::is_none")]
        why: Option<String>,
    },
    /// Why a package runs or does not (`gob test --explain --json`).
    #[serde(rename = "gob-selection")]
    Selection {
        /// Suite name.
        suite: String,
        /// Import path.
        package: String,
        /// It runs.
        run: bool,
        /// Why, in words.
        why: String,
        /// With `--since`: every input of its test closure that differs from the base.
        #[serde(skip_serializing_if = "serde_json::Value::is_null")]
        differences: Value,
    },
    /// A test suite starts.
    #[serde(rename = "gob-suite-start")]
    SuiteStart {
        /// Suite name.
        suite: String,
        /// Integration suite.
        integ: bool,
        /// Packages with tests it will run.
        packages: usize,
    },
    /// A compile call of an integration suite starts.
    #[serde(rename = "gob-compile-start")]
    CompileStart {
        /// Suite name.
        suite: String,
        /// 1-based call number.
        call: usize,
        /// Number of calls so far (one; a second follows only for binaries whose cached
        /// result outlived their kept file).
        calls: usize,
        /// Packages it compiles.
        packages: Vec<String>,
    },
    /// A compile call ended.
    #[serde(rename = "gob-compile-end")]
    CompileEnd {
        /// Suite name.
        suite: String,
        /// 1-based call number.
        call: usize,
        /// Number of calls so far.
        calls: usize,
        /// It succeeded.
        ok: bool,
        /// Seconds.
        elapsed: f64,
        /// Test binaries go linked in it (a warm rerun links none: go replays the cached
        /// result of each unchanged one).
        linked: usize,
    },
    /// A test binary starts running (integration suites).
    #[serde(rename = "gob-run-start")]
    RunStart {
        /// Suite name.
        suite: String,
        /// Import path.
        package: String,
    },
    /// A test suite ended.
    #[serde(rename = "gob-suite-end")]
    SuiteEnd {
        /// Suite name.
        suite: String,
        /// Packages passed.
        passed: usize,
        /// Packages failed (incl. build failures).
        failed: usize,
        /// Packages without test files.
        skipped: Vec<String>,
        /// Packages left out because no change since `--since` can affect them.
        not_affected: usize,
        /// Compile calls (integration suites).
        compile_calls: usize,
        /// Seconds.
        elapsed: f64,
    },
    /// A `go build` call of `gob build` starts.
    #[serde(rename = "gob-build-start")]
    BuildStart {
        /// 1-based call number.
        call: usize,
        /// Number of calls.
        calls: usize,
        /// Output names it builds.
        binaries: Vec<String>,
    },
    /// A `go build` call ended.
    #[serde(rename = "gob-build-end")]
    BuildEnd {
        /// 1-based call number.
        call: usize,
        /// Number of calls so far.
        calls: usize,
        /// It succeeded.
        ok: bool,
        /// Seconds.
        elapsed: f64,
    },
    /// A binary was published (or found up to date).
    #[serde(rename = "gob-publish")]
    Publish {
        /// Output name.
        binary: String,
        /// Where.
        path: PathBuf,
        /// It changed.
        updated: bool,
    },
    /// What the remote cache did during the run (when one is configured).
    #[serde(rename = "gob-remote-cache")]
    RemoteCache {
        /// The remote's URL (credentials hidden).
        url: String,
        /// The counts of every cacheprog of the run.
        #[serde(flatten)]
        totals: Totals,
        /// The same, as the one line the terminal shows.
        summary: String,
    },
    /// A test binary ran on the remote-execution cluster (or its earlier result was reused).
    #[serde(rename = "gob-remote-run")]
    RemoteRun {
        /// Suite name.
        suite: String,
        /// Import path.
        package: String,
        /// The worker that ran it, as the cluster names it.
        worker: String,
        /// The action cache served an earlier result (`cache_results = true`).
        cached: bool,
        /// Seconds it ran on the worker, when the cluster says.
        elapsed: Option<f64>,
    },
    /// A test binary could not run on the cluster and runs on this machine instead.
    #[serde(rename = "gob-remote-fallback")]
    RemoteFallback {
        /// Suite name.
        suite: String,
        /// Import path.
        package: String,
        /// Why remote execution failed.
        reason: String,
    },
    /// The run's merged coverage profile (`--coverprofile`), least covered package first.
    #[serde(rename = "gob-coverage")]
    Coverage {
        /// Where the profile was written.
        profile: String,
        /// Its counter mode.
        mode: String,
        /// Statements that ran.
        covered: u64,
        /// All statements.
        statements: u64,
        /// Covered share, in percent (one decimal).
        percent: f64,
        /// Each package's share.
        packages: Vec<PackageCoverage>,
        /// The same, as the terminal shows it.
        summary: String,
    },
    /// What remote execution did during the run (when it was on).
    #[serde(rename = "gob-remote-exec")]
    RemoteExec {
        /// The cluster's URL (credentials hidden).
        url: String,
        /// Test binaries run on the cluster.
        remote: usize,
        /// Of those, results reused from the action cache.
        cached: usize,
        /// Test binaries run here after a remote failure.
        fallback: usize,
        /// The same, as the one line the terminal shows.
        summary: String,
    },
    /// A package runs again (a retry): attempt `attempt`, only `tests` (all when empty).
    #[serde(rename = "gob-retry")]
    Retry {
        /// Suite name.
        suite: String,
        /// Import path.
        package: String,
        /// The top-level tests it reruns; empty: the whole package.
        tests: Vec<String>,
        /// 2 for the first rerun.
        attempt: u32,
    },
    /// A failed package is not run again: too many tests failed to call it flakiness.
    #[serde(rename = "gob-retry-skipped")]
    RetrySkipped {
        /// Suite name.
        suite: String,
        /// Import path.
        package: String,
        /// Top-level tests that failed.
        failed: usize,
        /// The most failures that are retried (`--max-retried-failures`).
        max: usize,
    },
    /// A test is still running past the suite's `slow` time (again at each further period).
    #[serde(rename = "gob-slow")]
    Slow {
        /// Suite name.
        suite: String,
        /// Import path.
        package: String,
        /// Test name.
        test: String,
        /// Seconds it has run, a multiple of the `slow` period.
        elapsed: f64,
    },
    /// A line go printed while compiling (compile errors).
    #[serde(rename = "gob-build-output")]
    BuildOutput {
        /// The line, with its newline.
        output: String,
    },
}

/// The totals of one or more processes.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Totals {
    /// Gets answered from the local store.
    pub local_hits: u64,
    /// Gets answered from the remote.
    pub remote_hits: u64,
    /// Gets answered with a miss.
    pub misses: u64,
    /// Puts stored locally.
    pub puts: u64,
    /// Puts uploaded.
    pub uploads: u64,
    /// Remote entries ignored because they failed verification.
    pub corrupt: u64,
    /// The first corrupt entry, described.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt_example: Option<String>,
    /// Why the remote was not (or no longer) used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_error: Option<String>,
}

/// The current time as test2json writes it (RFC 3339, local offset).
pub fn now() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, false)
}

/// Parses one line of JSON output; `None` for a line that is not an event.
pub fn parse_line(line: &str) -> Option<TestEvent> {
    let line = line.trim();
    if !line.starts_with('{') {
        return None;
    }
    serde_json::from_str(line).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_fields_and_keeps_the_rest() {
        let line = r#"{"Time":"2026-11-25T12:00:00Z","Action":"output","Package":"m/a","Test":"TestX","Output":"hi\n","OutputType":"frame","Future":{"x":1}}"#;
        let ev = parse_line(line).unwrap();
        assert_eq!(ev.action, "output");
        assert_eq!(ev.test.as_deref(), Some("TestX"));
        assert_eq!(ev.extra["OutputType"], "frame");
        let back: Value = serde_json::from_str(&serde_json::to_string(&ev).unwrap()).unwrap();
        let orig: Value = serde_json::from_str(line).unwrap();
        assert_eq!(back, orig, "round trip keeps every field");
    }

    #[test]
    fn malformed_events_are_plain_lines_not_errors() {
        for line in [
            "{}",
            r#"{"Action":3}"#,
            r#"{"Action":"pass","Elapsed":"fast"}"#,
            r#"{"Action":"output","Package":null,"Output":["x"]}"#,
            r#"{"Action":"pass","Package":"m/a""#,
            r#"{"Action":"pass","Elapsed":1e999}"#,
            "{\"Action\":\"output\",\"Output\":\"\\ud800\"}",
        ] {
            assert!(parse_line(line).is_none(), "{line}");
        }
        let ev = parse_line(r#"{"Action":"output","Output":"\u00e9\n"}"#).unwrap();
        assert_eq!(ev.output.as_deref(), Some("é\n"));
    }

    #[test]
    fn non_json_lines_are_not_events() {
        assert!(parse_line("ok  \tm/a\t0.01s").is_none());
        assert!(parse_line("{not json").is_none());
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fuzz_event_parser_any_line(line in "\\PC{0,200}") {
            let _ = parse_line(&line);
        }

        #[test]
        fn fuzz_event_parser_json_like(line in "\\{\"(Action|Package|Test|Elapsed|Output|Time)\":(\"[a-z]{0,5}\"|[0-9.e-]{1,6}|null|\\{\\}|\\[\\]),?\\}?") {
            let _ = parse_line(&line);
        }
    }
}
