//! The [`Reporter`]: keeps per-package state ([`Collector`]) and fans events and finished
//! packages out to the sinks; runners feed it through [`crate::runners::Events`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::collect::{Collector, PackageResult, TestStatus};
use super::sink::{Sink, now};
use crate::base::events::{GobEvent, TestEvent};
use crate::runners::Events;

/// Fans events out to the sinks and keeps every finished package.
pub struct Reporter {
    collector: Collector,
    sinks: Vec<Box<dyn Sink + Send>>,
    /// Finished packages, in the order they finished.
    pub results: Vec<PackageResult>,
}

impl Reporter {
    /// A reporter writing to `sinks`.
    pub fn new(sinks: Vec<Box<dyn Sink + Send>>) -> Reporter {
        Reporter {
            collector: Collector::default(),
            sinks,
            results: Vec::new(),
        }
    }

    /// Starts a suite whose packages live in `dirs` (import path → dir).
    pub fn suite_started(&mut self, suite: &str, integ: bool, dirs: BTreeMap<String, PathBuf>) {
        let packages = dirs.len();
        self.collector.start_suite(suite, dirs);
        self.gob(GobEvent::SuiteStart {
            suite: suite.to_string(),
            integ,
            packages,
        });
    }

    fn done(&mut self, result: PackageResult) {
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
    /// One of gob's own events.
    fn gob(&mut self, event: GobEvent) {
        for sink in &mut self.sinks {
            sink.gob_event(&event);
        }
    }

    /// One test2json event.
    fn event(&mut self, event: &TestEvent) {
        for sink in &mut self.sinks {
            sink.test_event(event);
        }
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
