//! The [`Reporter`]: keeps per-package state ([`Collector`]) and fans events and finished
//! packages out to the sinks; runners feed it through [`crate::runners::Events`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::collect::{Collector, PackageResult, TestStatus};
use super::sink::{Sink, now};
use crate::base::events::{GobEvent, TestEvent};
use crate::runners::Events;

/// How a suite treats flaky and slow tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SuitePolicy {
    /// A test that failed and then passed fails the suite (`flaky = "fail"`).
    pub flaky_fails: bool,
    /// Report tests running longer than this (`slow`).
    pub slow: Option<Duration>,
}

/// A test that is running, for slow-test reports.
#[derive(Debug)]
struct Running {
    since: Instant,
    reported: u32,
}

/// Fans events out to the sinks and keeps every finished package.
pub struct Reporter {
    collector: Collector,
    sinks: Vec<Box<dyn Sink + Send>>,
    /// Finished packages, in the order they finished (a rerun merged into its first run).
    pub results: Vec<PackageResult>,
    suite: String,
    policy: SuitePolicy,
    /// The package being run again, if one is.
    retrying: Option<String>,
    /// Running tests by (package, test).
    running: BTreeMap<(String, String), Running>,
    /// Packages split by test that run as several parts: the parts still to end, and what
    /// the ended ones gave.
    parts: BTreeMap<String, (usize, Option<PackageResult>)>,
    /// Packages of the suite that run only some of their tests.
    partial: BTreeSet<String>,
}

impl Reporter {
    /// A reporter writing to `sinks`.
    pub fn new(sinks: Vec<Box<dyn Sink + Send>>) -> Reporter {
        Reporter {
            collector: Collector::default(),
            sinks,
            results: Vec::new(),
            suite: String::new(),
            policy: SuitePolicy::default(),
            retrying: None,
            running: BTreeMap::new(),
            parts: BTreeMap::new(),
            partial: BTreeSet::new(),
        }
    }

    /// The suite's `packages` run only some of their tests (their results are marked
    /// partial, so the timing history keeps their whole time).
    pub fn partial(&mut self, packages: impl IntoIterator<Item = String>) {
        self.partial = packages.into_iter().collect();
    }

    /// Starts a suite whose packages live in `dirs` (import path → dir).
    pub fn suite_started(
        &mut self,
        suite: &str,
        integ: bool,
        dirs: BTreeMap<String, PathBuf>,
        policy: SuitePolicy,
    ) {
        let packages = dirs.len();
        self.suite = suite.to_string();
        self.policy = policy;
        self.running.clear();
        self.collector.start_suite(suite, dirs);
        self.gob(GobEvent::SuiteStart {
            suite: suite.to_string(),
            integ,
            packages,
        });
    }

    /// `package` runs again (attempt `attempt`, only `tests` when not empty): its next
    /// result is merged into the one it has.
    pub fn retry(&mut self, package: &str, tests: &[String], attempt: u32) {
        self.collector.reopen(package);
        self.retrying = Some(package.to_string());
        self.gob(GobEvent::Retry {
            suite: self.suite.clone(),
            package: package.to_string(),
            tests: tests.to_vec(),
            attempt,
        });
    }

    /// `package` failed with `failed` tests, more than `max`: it is not run again.
    pub fn retry_skipped(&mut self, package: &str, failed: usize, max: usize) {
        self.gob(GobEvent::RetrySkipped {
            suite: self.suite.clone(),
            package: package.to_string(),
            failed,
            max,
        });
    }

    /// Keeps the clocks of running tests for slow-test reports.
    fn track(&mut self, event: &TestEvent) {
        let Some(package) = &event.package else {
            return;
        };
        match (event.action.as_str(), &event.test) {
            ("run", Some(test)) => {
                let running = Running {
                    since: Instant::now(),
                    reported: 0,
                };
                self.running
                    .insert((package.clone(), test.clone()), running);
            }
            ("pass" | "fail" | "skip", Some(test)) => {
                self.running.remove(&(package.clone(), test.clone()));
            }
            ("pass" | "fail" | "skip", None) => self.running.retain(|(p, _), _| p != package),
            _ => {}
        }
    }

    fn done(&mut self, mut result: PackageResult) {
        self.running.retain(|(p, _), _| *p != result.package);
        result.partial |= self.partial.contains(&result.package);
        let package = result.package.clone();
        if let Some((left, merged)) = self.parts.get_mut(&package) {
            *left -= 1;
            let whole = match merged.take() {
                Some(mut earlier) => {
                    earlier.merge_part(result);
                    earlier
                }
                None => result,
            };
            if *left > 0 {
                *merged = Some(whole);
                return;
            }
            self.parts.remove(&package);
            result = whole;
        }
        if self.retrying.as_deref() == Some(result.package.as_str()) {
            self.retrying = None;
            let first = self
                .results
                .iter_mut()
                .rev()
                .find(|r| r.package == result.package && r.suite == result.suite);
            if let Some(first) = first {
                first.merge_rerun(result);
                if self.policy.flaky_fails && !first.flaky_tests().is_empty() {
                    first.outcome = super::collect::PackageOutcome::Failed;
                    first.note = Some("flaky tests fail this suite (flaky = \"fail\")".into());
                }
                let merged = first.clone();
                for sink in &mut self.sinks {
                    sink.package_done(&merged);
                }
                return;
            }
            result.attempts += 1;
        }
        for sink in &mut self.sinks {
            sink.package_done(&result);
        }
        self.results.push(result);
    }

    /// Ends the run: every sink writes what it keeps for the end (summary, files), even
    /// when an earlier one failed; the first failure is returned.
    pub fn finish(&mut self) -> std::io::Result<()> {
        let mut first_error = None;
        for sink in &mut self.sinks {
            if let Err(error) = sink.finish(&self.results) {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Runners report to the reporter: events fan out to the sinks, finished packages are kept.
impl crate::runners::Events for Reporter {
    /// `package` runs as `parts` parts (a package split by test on a cluster), each reported
    /// whole from its `RunStart`: its result is the parts' merged, reported once the last one
    /// ends.
    fn expect_parts(&mut self, package: &str, parts: usize) {
        if parts > 1 {
            self.parts.insert(package.to_string(), (parts, None));
        }
    }

    /// One of gob's own events. The run of a part of a split package starts the package
    /// afresh: each part is reported whole (its start, events and end at once).
    fn gob(&mut self, event: GobEvent) {
        if let GobEvent::RunStart { package, .. } = &event
            && self.parts.contains_key(package)
        {
            self.collector.reopen(package);
        }
        for sink in &mut self.sinks {
            sink.gob_event(&event);
        }
    }

    /// One test2json event.
    fn event(&mut self, event: &TestEvent) {
        for sink in &mut self.sinks {
            sink.test_event(event);
        }
        self.track(event);
        if let Some(result) = self.collector.event(event) {
            self.done(result);
        }
    }

    /// One line of go's or a runner's output that is not an event.
    fn output_line(&mut self, line: &str) {
        self.gob(GobEvent::BuildOutput {
            output: format!("{line}\n"),
        });
    }

    /// A package that did not build: reported like `go test -json` does.
    fn build_failed(&mut self, package: &str) {
        if let Some(result) = self.collector.build_failed(package) {
            let mut event = synthetic("fail", package, None, None);
            event
                .extra
                .insert("FailedBuild".into(), package.to_string().into());
            for sink in &mut self.sinks {
                sink.test_event(&event);
            }
            self.done(result);
        }
    }

    /// Ends a package whose binary stopped without a package-level result after `elapsed`
    /// seconds; its running tests fail, and the JSON stream gets the events go would have
    /// ended it with.
    fn abandoned(&mut self, package: &str, why: &str, elapsed: f64) {
        let Some(result) = self.collector.abandoned(package, why, elapsed) else {
            return;
        };
        let mut events: Vec<TestEvent> = result
            .tests
            .iter()
            .filter(|t| t.status == TestStatus::Unfinished)
            .map(|t| synthetic("fail", package, Some(&t.name), None))
            .collect();
        events.push(synthetic(
            "output",
            package,
            None,
            Some(format!("gob: {why}\n")),
        ));
        let mut end = synthetic("fail", package, None, None);
        end.elapsed = Some(elapsed);
        events.push(end);
        for event in &events {
            for sink in &mut self.sinks {
                sink.test_event(event);
            }
        }
        self.done(result);
    }

    /// Ends a package whose binary exited 0 without a package-level result (a TestMain that
    /// never ran the tests, an `os.Exit(0)` outside any test): `go test` calls that `ok`
    /// (cmd/go/internal/test/test.go: a zero exit is success), and so does gob, in unit and
    /// integration suites alike.
    fn exited_ok(&mut self, package: &str, elapsed: f64) {
        if !self.collector.unfinished(package) {
            return;
        }
        let line = format!("ok  \t{package}\t{elapsed:.3}s\n");
        self.event(&synthetic("output", package, None, Some(line)));
        let mut pass = synthetic("pass", package, None, None);
        pass.elapsed = Some(elapsed);
        self.event(&pass);
    }

    /// Reports the tests that have run past the suite's `slow` time since the last call
    /// (runners call it periodically while a test binary runs).
    fn tick(&mut self) {
        let Some(period) = self.policy.slow.filter(|p| !p.is_zero()) else {
            return;
        };
        let mut slow = Vec::new();
        for ((package, test), running) in &mut self.running {
            let periods = (running.since.elapsed().as_secs_f64() / period.as_secs_f64()) as u32;
            if periods > running.reported {
                running.reported = periods;
                slow.push(GobEvent::Slow {
                    suite: self.suite.clone(),
                    package: package.clone(),
                    test: test.clone(),
                    elapsed: period.as_secs_f64() * f64::from(periods),
                });
            }
        }
        for event in slow {
            self.gob(event);
        }
    }
}

/// An event gob writes in go's place.
fn synthetic(action: &str, package: &str, test: Option<&str>, output: Option<String>) -> TestEvent {
    TestEvent {
        time: Some(now()),
        action: action.to_string(),
        package: Some(package.to_string()),
        test: test.map(str::to_string),
        elapsed: (action != "output").then_some(0.0),
        output,
        extra: Default::default(),
    }
}
