//! Turning a stream of test2json events into finished packages: per-package state until the
//! package-level result, including tests still running when a binary died.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;

use crate::base::events::TestEvent;

/// How a package ended (worst last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum PackageOutcome {
    /// All tests passed (or were skipped).
    Passed,
    /// A test failed, or the binary failed, crashed or was stopped.
    Failed,
    /// It did not build.
    BuildFailed,
}

/// How a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TestStatus {
    /// `pass`.
    Passed,
    /// `fail`.
    Failed,
    /// `skip`.
    Skipped,
    /// Still running when its package ended (a panic, a timeout, a kill).
    Unfinished,
}

/// One test of a finished package.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TestResult {
    /// Test name (`TestX` or `TestX/sub`).
    pub name: String,
    /// How it ended.
    pub status: TestStatus,
    /// Seconds.
    pub elapsed: f64,
    /// Its output; kept for tests that did not pass.
    pub output: Vec<String>,
    /// Earlier attempts that did not pass, oldest first: the test ran again after each.
    pub earlier: Vec<Attempt>,
}

/// An earlier run of a test that was run again.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Attempt {
    /// How it ended.
    pub status: TestStatus,
    /// Seconds.
    pub elapsed: f64,
    /// Its output.
    pub output: Vec<String>,
}

impl TestResult {
    /// It failed, then passed on a later attempt.
    pub fn is_flaky(&self) -> bool {
        self.status == TestStatus::Passed && !self.earlier.is_empty()
    }

    fn failed(&self) -> bool {
        matches!(self.status, TestStatus::Failed | TestStatus::Unfinished)
    }
}

/// A finished package.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PackageResult {
    /// The suite it ran in.
    pub suite: String,
    /// Import path.
    pub package: String,
    /// Its dir, when known (to locate files named in test output).
    pub dir: Option<PathBuf>,
    /// How it ended.
    pub outcome: PackageOutcome,
    /// Seconds, as the package-level event said (0 when gob ended it).
    pub elapsed: f64,
    /// Its tests in the order they ended.
    pub tests: Vec<TestResult>,
    /// Package-level output (not inside a test); kept when the package did not pass.
    pub output: Vec<String>,
    /// go test reused a cached result.
    pub cached: bool,
    /// Why gob ended the package, when it did (interrupted, timed out, exit status …).
    pub note: Option<String>,
    /// How many times it ran: 1, plus one per rerun.
    pub attempts: u32,
    /// It ran only some of its tests (a shard's groups of a split package, `--failed`): its
    /// time says nothing about the whole package.
    pub partial: bool,
}

impl PackageResult {
    /// Tests that failed and then passed.
    pub fn flaky_tests(&self) -> Vec<&TestResult> {
        self.tests.iter().filter(|t| t.is_flaky()).collect()
    }

    /// Takes in the result of a rerun: each test that had not passed takes the rerun's
    /// outcome, its earlier run kept as an attempt; tests that passed keep their result (a
    /// whole-package rerun runs them again). The package passes when nothing failed in the
    /// rerun and no test is left failing; its time stays the first attempt's.
    pub fn merge_rerun(&mut self, rerun: PackageResult) {
        self.attempts += 1;
        for test in rerun.tests {
            match self.tests.iter_mut().find(|t| t.name == test.name) {
                Some(known) if known.failed() => {
                    let earlier = Attempt {
                        status: known.status,
                        elapsed: known.elapsed,
                        output: std::mem::take(&mut known.output),
                    };
                    known.earlier.push(earlier);
                    known.status = test.status;
                    known.elapsed = test.elapsed;
                    known.output = test.output;
                }
                Some(_) => {}
                None => self.tests.push(test),
            }
        }
        let failing = self.tests.iter().any(TestResult::failed);
        self.outcome = match (failing, rerun.outcome) {
            (false, PackageOutcome::Passed) => PackageOutcome::Passed,
            _ => PackageOutcome::Failed,
        };
        self.note = rerun.note;
        self.output = rerun.output;
        self.cached = false;
    }

    /// Takes in another part of a package split by test (it ran other tests of the same
    /// binary): its tests join, its time adds, and a failure of either fails the package.
    pub fn merge_part(&mut self, part: PackageResult) {
        self.tests.extend(part.tests);
        self.elapsed += part.elapsed;
        self.output.extend(part.output);
        self.outcome = self.outcome.max(part.outcome);
        self.cached &= part.cached;
        self.note = self.note.take().or(part.note);
    }

    /// Names of the tests that failed or did not finish.
    pub fn failed_tests(&self) -> Vec<&str> {
        self.tests
            .iter()
            .filter(|t| matches!(t.status, TestStatus::Failed | TestStatus::Unfinished))
            .map(|t| t.name.as_str())
            .collect()
    }
}

use crate::base::events::{OUTPUT_HEAD_LINES as HEAD_LINES, OUTPUT_TAIL_BYTES as TAIL_BYTES};

/// One test's output while it runs, bounded: the first [`HEAD_LINES`] lines and the last
/// [`TAIL_BYTES`]; what falls between is counted, not kept (a passing test printing millions
/// of lines must not grow gob's memory).
#[derive(Debug, Default)]
struct OutputBuffer {
    head: Vec<String>,
    tail: VecDeque<String>,
    tail_bytes: usize,
    omitted: usize,
}

impl OutputBuffer {
    fn push(&mut self, line: String) {
        if self.head.len() < HEAD_LINES {
            self.head.push(line);
            return;
        }
        self.tail_bytes += line.len();
        self.tail.push_back(line);
        while self.tail_bytes > TAIL_BYTES && self.tail.len() > 1 {
            if let Some(dropped) = self.tail.pop_front() {
                self.tail_bytes -= dropped.len();
                self.omitted += 1;
            }
        }
    }

    /// The kept lines, with a line saying how many were left out between head and tail.
    fn into_lines(self) -> Vec<String> {
        let mut lines = self.head;
        if self.omitted > 0 {
            lines.push(format!("[gob: {} lines of output omitted]\n", self.omitted));
        }
        lines.extend(self.tail);
        lines
    }
}

#[derive(Debug, Default)]
struct PackageState {
    /// Output per running test ("" for package-level output).
    output: BTreeMap<String, OutputBuffer>,
    /// Tests started and not ended.
    running: BTreeSet<String>,
    ended: Vec<TestResult>,
}

/// Collects events of one suite at a time into [`PackageResult`]s.
#[derive(Debug, Default)]
pub struct Collector {
    suite: String,
    /// Compile errors by the `ImportPath` go printed them for (Go 1.24+ `build-output`
    /// events carry no `Package`); a package whose `FailedBuild` names that path gets them.
    build_output: BTreeMap<String, Vec<String>>,
    dirs: BTreeMap<String, PathBuf>,
    packages: BTreeMap<String, PackageState>,
    finished: BTreeSet<String>,
}

impl Collector {
    /// Starts a suite; `dirs` maps its packages to their dirs.
    pub fn start_suite(&mut self, suite: &str, dirs: BTreeMap<String, PathBuf>) {
        self.suite = suite.to_string();
        self.dirs = dirs;
        self.packages.clear();
        self.finished.clear();
        self.build_output.clear();
    }

    /// Consumes one event; returns the package it finished, if it did.
    pub fn event(&mut self, ev: &TestEvent) -> Option<PackageResult> {
        if let Some((import_path, line)) = build_output(ev) {
            let lines = self
                .build_output
                .entry(import_path.to_string())
                .or_default();
            lines.push(line.to_string());
            return None;
        }
        let package = ev.package.clone()?;
        let state = self.packages.entry(package.clone()).or_default();
        let test = ev.test.clone().unwrap_or_default();
        let elapsed = ev.elapsed.filter(|e| e.is_finite()).unwrap_or(0.0);
        let status = match ev.action.as_str() {
            "pass" => TestStatus::Passed,
            "fail" => TestStatus::Failed,
            "skip" => TestStatus::Skipped,
            "output" => {
                let line = ev.output.clone().unwrap_or_default();
                state.output.entry(test).or_default().push(line);
                return None;
            }
            "run" if !test.is_empty() => {
                state.running.insert(test);
                return None;
            }
            _ => return None,
        };
        if !test.is_empty() {
            state.running.remove(&test);
            let output = state.output.remove(&test).unwrap_or_default();
            state.ended.push(TestResult {
                name: test,
                status,
                elapsed,
                output: if status == TestStatus::Passed {
                    Vec::new()
                } else {
                    output.into_lines()
                },
                earlier: Vec::new(),
            });
            return None;
        }
        let failed_build = ev
            .extra
            .get("FailedBuild")
            .filter(|_| status == TestStatus::Failed);
        let outcome = match (status, failed_build) {
            (TestStatus::Failed, Some(_)) => PackageOutcome::BuildFailed,
            (TestStatus::Failed, None) => PackageOutcome::Failed,
            _ => PackageOutcome::Passed,
        };
        let compile_errors = failed_build
            .and_then(|f| self.build_output.get(f.as_str().unwrap_or_default()))
            .cloned()
            .unwrap_or_default();
        let mut result = self.finish(&package, outcome, elapsed, None);
        result.output.splice(0..0, compile_errors);
        Some(result)
    }

    /// Ends a package that never produced events because it did not build.
    pub fn build_failed(&mut self, package: &str) -> Option<PackageResult> {
        self.unfinished(package)
            .then(|| self.finish(package, PackageOutcome::BuildFailed, 0.0, None))
    }

    /// Ends a package whose events stopped without a package-level result (killed, crashed)
    /// after `elapsed` seconds; `None` when it already ended.
    pub fn abandoned(&mut self, package: &str, why: &str, elapsed: f64) -> Option<PackageResult> {
        self.unfinished(package).then(|| {
            self.finish(
                package,
                PackageOutcome::Failed,
                elapsed,
                Some(why.to_string()),
            )
        })
    }

    /// Whether `package` has not ended yet in this suite.
    pub fn unfinished(&self, package: &str) -> bool {
        !self.finished.contains(package)
    }

    fn finish(
        &mut self,
        package: &str,
        outcome: PackageOutcome,
        elapsed: f64,
        note: Option<String>,
    ) -> PackageResult {
        let mut state = self.packages.remove(package).unwrap_or_default();
        self.finished.insert(package.to_string());
        let mut tests = std::mem::take(&mut state.ended);
        for name in std::mem::take(&mut state.running) {
            let output = state.output.remove(&name).unwrap_or_default().into_lines();
            tests.push(TestResult {
                name,
                status: TestStatus::Unfinished,
                elapsed: 0.0,
                output,
                earlier: Vec::new(),
            });
        }
        let output = state.output.remove("").unwrap_or_default().into_lines();
        let cached = output.iter().any(|l| l.contains("(cached)"));
        PackageResult {
            suite: self.suite.clone(),
            package: package.to_string(),
            dir: self.dirs.get(package).cloned(),
            outcome,
            elapsed,
            tests,
            output: if outcome == PackageOutcome::Passed {
                Vec::new()
            } else {
                output
            },
            cached,
            note,
            attempts: 1,
            partial: false,
        }
    }

    /// Lets `package` run again in this suite (a rerun): its next events start it afresh.
    pub fn reopen(&mut self, package: &str) {
        self.finished.remove(package);
        self.packages.remove(package);
    }
}

/// `(ImportPath, line)` of a `build-output` event: a compile error go printed (Go 1.24+).
pub fn build_output(ev: &TestEvent) -> Option<(&str, &str)> {
    if ev.action != "build-output" {
        return None;
    }
    let import_path = ev.extra.get("ImportPath")?.as_str()?;
    Some((import_path, ev.output.as_deref().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::events::parse_line;

    fn feed(lines: &[&str]) -> (Collector, Vec<PackageResult>) {
        let mut c = Collector::default();
        c.start_suite("unit", BTreeMap::new());
        let results = lines
            .iter()
            .filter_map(|line| c.event(&parse_line(line).unwrap()))
            .collect();
        (c, results)
    }

    #[test]
    fn passing_and_failing_tests() {
        let (_, r) = feed(&[
            r#"{"Action":"run","Package":"m/a","Test":"TestOK"}"#,
            r#"{"Action":"pass","Package":"m/a","Test":"TestOK","Elapsed":0.5}"#,
            r#"{"Action":"run","Package":"m/a","Test":"TestBad"}"#,
            r#"{"Action":"output","Package":"m/a","Test":"TestBad","Output":"    a_test.go:9: boom\n"}"#,
            r#"{"Action":"fail","Package":"m/a","Test":"TestBad","Elapsed":0}"#,
            r#"{"Action":"fail","Package":"m/a","Elapsed":0.01}"#,
            r#"{"Action":"pass","Package":"m/b","Elapsed":0.02}"#,
        ]);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].outcome, PackageOutcome::Failed);
        assert_eq!(r[0].failed_tests(), ["TestBad"]);
        assert_eq!(r[0].tests[0].elapsed, 0.5);
        assert_eq!(r[0].tests[1].output, ["    a_test.go:9: boom\n"]);
        assert_eq!(r[1].outcome, PackageOutcome::Passed);
        assert_eq!(r[1].suite, "unit");
    }

    #[test]
    fn a_test_running_when_the_package_fails_is_unfinished() {
        let (_, r) = feed(&[
            r#"{"Action":"run","Package":"m/a","Test":"TestHang"}"#,
            r#"{"Action":"output","Package":"m/a","Test":"TestHang","Output":"panic: test timed out after 1s\n"}"#,
            r#"{"Action":"fail","Package":"m/a","Elapsed":1.0}"#,
        ]);
        assert_eq!(r[0].tests[0].status, TestStatus::Unfinished);
        assert_eq!(r[0].failed_tests(), ["TestHang"]);
    }

    #[test]
    fn build_failures_are_their_own_outcome() {
        let (_, r) = feed(&[
            r#"{"Action":"fail","Package":"m/a","Elapsed":0,"FailedBuild":"m/a [m/a.test]"}"#,
        ]);
        assert_eq!(r[0].outcome, PackageOutcome::BuildFailed);
    }

    #[test]
    fn unit_suite_compile_errors_reach_the_failed_package() {
        let (_, r) = feed(&[
            r##"{"ImportPath":"m/lib","Action":"build-output","Output":"# m/lib\n"}"##,
            r#"{"ImportPath":"m/lib","Action":"build-output","Output":"lib/a.go:3:13: undefined: x\n"}"#,
            r#"{"ImportPath":"m/lib","Action":"build-fail"}"#,
            r#"{"Action":"output","Package":"m/a","Output":"FAIL\tm/a [build failed]\n"}"#,
            r#"{"Action":"fail","Package":"m/a","Elapsed":0,"FailedBuild":"m/lib"}"#,
            r#"{"Action":"fail","Package":"m/b","Elapsed":0,"FailedBuild":"m/lib"}"#,
        ]);
        assert_eq!(r[0].outcome, PackageOutcome::BuildFailed);
        assert_eq!(r[0].output[1], "lib/a.go:3:13: undefined: x\n");
        assert_eq!(r[0].output.len(), 3);
        assert_eq!(
            r[1].output.len(),
            2,
            "every package the failed build stops gets it"
        );
    }

    /// Package m/a run again with `lines`: its result.
    fn rerun(c: &mut Collector, lines: &[&str]) -> PackageResult {
        c.reopen("m/a");
        lines
            .iter()
            .find_map(|l| c.event(&parse_line(l).unwrap()))
            .unwrap()
    }

    #[test]
    fn a_rerun_that_passes_makes_the_failed_test_flaky_and_the_package_pass() {
        let (mut c, mut r) = feed(&[
            r#"{"Action":"run","Package":"m/a","Test":"TestOK"}"#,
            r#"{"Action":"pass","Package":"m/a","Test":"TestOK","Elapsed":1}"#,
            r#"{"Action":"run","Package":"m/a","Test":"TestFlaky"}"#,
            r#"{"Action":"output","Package":"m/a","Test":"TestFlaky","Output":"first try\n"}"#,
            r#"{"Action":"fail","Package":"m/a","Test":"TestFlaky","Elapsed":0.5}"#,
            r#"{"Action":"fail","Package":"m/a","Elapsed":2}"#,
        ]);
        let rerun = rerun(
            &mut c,
            &[
                r#"{"Action":"run","Package":"m/a","Test":"TestFlaky"}"#,
                r#"{"Action":"pass","Package":"m/a","Test":"TestFlaky","Elapsed":0.25}"#,
                r#"{"Action":"pass","Package":"m/a","Elapsed":0.3}"#,
            ],
        );
        let first = &mut r[0];
        first.merge_rerun(rerun);
        assert_eq!(first.outcome, PackageOutcome::Passed);
        assert_eq!(first.attempts, 2);
        assert_eq!(first.elapsed, 2.0, "the first attempt's time is kept");
        let flaky = first.flaky_tests();
        assert_eq!(flaky.len(), 1);
        assert_eq!(flaky[0].earlier[0].output, ["first try\n"]);
        assert_eq!(
            first.tests[0].status,
            TestStatus::Passed,
            "TestOK untouched"
        );
    }

    #[test]
    fn a_rerun_that_fails_again_keeps_every_attempt() {
        let (mut c, mut r) = feed(&[
            r#"{"Action":"run","Package":"m/a","Test":"TestBad"}"#,
            r#"{"Action":"fail","Package":"m/a","Test":"TestBad","Elapsed":0}"#,
            r#"{"Action":"fail","Package":"m/a","Elapsed":0}"#,
        ]);
        let rerun = rerun(
            &mut c,
            &[
                r#"{"Action":"run","Package":"m/a","Test":"TestBad"}"#,
                r#"{"Action":"fail","Package":"m/a","Test":"TestBad","Elapsed":0}"#,
                r#"{"Action":"fail","Package":"m/a","Elapsed":0}"#,
            ],
        );
        r[0].merge_rerun(rerun);
        assert_eq!(r[0].outcome, PackageOutcome::Failed);
        assert_eq!(r[0].tests[0].earlier.len(), 1);
        assert!(r[0].flaky_tests().is_empty());
    }

    #[test]
    fn malformed_build_output_events_are_ignored() {
        let (c, r) = feed(&[
            r#"{"Action":"build-output","Output":"no import path\n"}"#,
            r#"{"ImportPath":7,"Action":"build-output","Output":"a number\n"}"#,
            r#"{"ImportPath":"m/x","Action":"build-output"}"#,
            r#"{"Action":"fail","Package":"m/a","Elapsed":0,"FailedBuild":7}"#,
        ]);
        assert_eq!(r[0].outcome, PackageOutcome::BuildFailed);
        assert!(r[0].output.is_empty());
        assert_eq!(c.build_output["m/x"], [""]);
    }

    #[test]
    fn passing_test_output_is_held_bounded_while_it_runs() {
        let mut c = Collector::default();
        c.start_suite("unit", BTreeMap::new());
        let line = |i: usize| TestEvent {
            time: None,
            action: "output".into(),
            package: Some("m/a".into()),
            test: Some("TestNoisy".into()),
            elapsed: None,
            output: Some(format!("line {i:>60}\n")),
            extra: Default::default(),
        };
        c.event(&parse_line(r#"{"Action":"run","Package":"m/a","Test":"TestNoisy"}"#).unwrap());
        for i in 0..200_000 {
            c.event(&line(i));
        }
        let held: usize = c.packages["m/a"].output["TestNoisy"].tail_bytes;
        assert!(held <= TAIL_BYTES, "{held} bytes held");
        let r = c.abandoned("m/a", "killed", 1.0).unwrap();
        let output = &r.tests[0].output;
        assert_eq!(output[0], line(0).output.unwrap(), "the start is kept");
        assert_eq!(output.last(), line(199_999).output.as_ref(), "and the end");
        assert!(
            output[HEAD_LINES].contains("lines of output omitted"),
            "{}",
            output[HEAD_LINES]
        );
        assert!(output.len() < 20_000);
    }

    #[test]
    fn abandoned_packages_list_their_running_tests_once() {
        let (mut c, _) = feed(&[r#"{"Action":"run","Package":"m/a","Test":"TestSlow"}"#]);
        let r = c.abandoned("m/a", "killed", 1.5).unwrap();
        assert_eq!(r.failed_tests(), ["TestSlow"]);
        assert_eq!(r.note.as_deref(), Some("killed"));
        assert!(c.abandoned("m/a", "again", 0.0).is_none());
    }

    #[test]
    fn cached_results_are_marked() {
        let (_, r) = feed(&[
            r#"{"Action":"output","Package":"m/a","Output":"ok  \tm/a\t(cached)\n"}"#,
            r#"{"Action":"pass","Package":"m/a","Elapsed":0}"#,
        ]);
        assert!(r[0].cached);
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::base::events::parse_line;
    use proptest::prelude::*;
    use serde_json::Value;

    /// Events built from the actions and names a real stream has, in any order.
    fn event() -> impl Strategy<Value = String> {
        let action = prop::sample::select(vec![
            "start",
            "run",
            "pause",
            "cont",
            "pass",
            "fail",
            "skip",
            "output",
            "bench",
            "build-output",
            "build-fail",
            "attr",
            "",
        ]);
        let package = prop::option::of(prop::sample::select(vec!["m/a", "m/b", ""]));
        let test = prop::option::of(prop::sample::select(vec!["TestA", "TestA/sub", ""]));
        let elapsed = prop::option::of(prop::num::f64::ANY);
        // Go 1.24's build events name an ImportPath; a failed package names it in FailedBuild.
        let import_path = prop::option::of(prop::sample::select(vec!["m/a", "m/a [m/a.test]", ""]));
        let failed_build = prop::option::of(prop::sample::select(vec!["m/a [m/a.test]", "m/b"]));
        (
            action,
            package,
            test,
            elapsed,
            "\\PC{0,10}",
            import_path,
            failed_build,
        )
            .prop_map(
                |(action, package, test, elapsed, output, import_path, failed_build)| {
                    let mut map = serde_json::Map::new();
                    map.insert("Action".into(), action.into());
                    if let Some(p) = package {
                        map.insert("Package".into(), p.into());
                    }
                    if let Some(t) = test {
                        map.insert("Test".into(), t.into());
                    }
                    if let Some(e) = elapsed.and_then(serde_json::Number::from_f64) {
                        map.insert("Elapsed".into(), e.into());
                    }
                    map.insert("Output".into(), output.into());
                    if let Some(i) = import_path {
                        map.insert("ImportPath".into(), i.into());
                    }
                    if let Some(f) = failed_build {
                        map.insert("FailedBuild".into(), f.into());
                    }
                    Value::Object(map).to_string()
                },
            )
    }

    proptest! {
        #[test]
        fn fuzz_reporter_any_event_order(lines in prop::collection::vec(event(), 0..40)) {
            let mut collector = Collector::default();
            let mut finished = Vec::new();
            for line in &lines {
                if let Some(ev) = parse_line(line) {
                    finished.extend(collector.event(&ev));
                }
            }
            finished.extend(collector.abandoned("m/a", "killed", 0.0));
            for result in &finished {
                prop_assert!(result.tests.iter().all(|t| t.elapsed.is_finite()));
            }
        }
    }
}
