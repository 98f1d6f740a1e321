//! Reporting. Runners and commands hand every event to the [`Reporter`] and never print;
//! the reporter keeps per-package state ([`Collector`]) and fans events and finished packages
//! out to the sinks the user asked for: the terminal (live progress or plain lines), JSON
//! lines, JUnit XML, GitHub Actions annotations, the timing history.

mod collect;
pub mod github;
pub mod json;
pub mod junit;
pub mod terminal;
pub mod timings;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use collect::{Collector, PackageOutcome, PackageResult, TestStatus};

pub use crate::base::events::GobEvent;
use crate::base::events::TestEvent;
use crate::runners::Events;

/// A consumer of reports. Every method has a default that ignores the input.
pub trait Sink {
    /// One of gob's own events.
    fn gob_event(&mut self, _event: &GobEvent) {}
    /// One test2json event (also the ones gob synthesizes for packages it ended).
    fn test_event(&mut self, _event: &TestEvent) {}
    /// A finished package.
    fn package_done(&mut self, _result: &PackageResult) {}
    /// The run is over; `results` holds every finished package.
    fn finish(&mut self, _results: &[PackageResult]) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where gob's output goes, as far as reporting cares; read once at the edge
/// (`commands::context::report_env`) so reporters are functions of events and settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportEnv {
    /// stdout is a terminal.
    pub stdout_tty: bool,
    /// stderr is a terminal.
    pub stderr_tty: bool,
    /// `CI` is set.
    pub ci: bool,
    /// `TERM=dumb`.
    pub dumb_term: bool,
    /// `NO_COLOR` is set.
    pub no_color: bool,
    /// With `GITHUB_ACTIONS=true`: the dir annotation paths are relative to
    /// (`GITHUB_WORKSPACE`, else the current dir).
    pub github_root: Option<PathBuf>,
}

/// What the user asked to be reported, besides the terminal.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Facts about the terminal and CI.
    pub env: ReportEnv,
    /// `--json`: JSON lines on stdout.
    pub json: bool,
    /// `--junit PATH`.
    pub junit: Option<PathBuf>,
    /// Where to record package times (test runs).
    pub timings: Option<PathBuf>,
    /// The workspace dir (compile errors name files relative to it).
    pub workspace_dir: PathBuf,
}

impl ReportOptions {
    /// The sinks for this process: the terminal, then JSON lines, JUnit, GitHub Actions
    /// annotations (when `GITHUB_ACTIONS=true`; on stderr in `--json` mode) and the timing
    /// history, as asked.
    pub fn sinks(&self) -> Vec<Box<dyn Sink + Send>> {
        let mut sinks: Vec<Box<dyn Sink + Send>> = vec![Box::new(terminal::Terminal::for_process(
            &self.env, self.json,
        ))];
        if self.json {
            sinks.push(Box::new(json::JsonLines::new(Box::new(std::io::stdout()))));
        }
        if let Some(path) = &self.junit {
            sinks.push(Box::new(junit::Junit::new(path.clone())));
        }
        if let Some(root) = &self.env.github_root {
            let out: Box<dyn std::io::Write + Send> = if self.json {
                Box::new(std::io::stderr())
            } else {
                Box::new(std::io::stdout())
            };
            sinks.push(Box::new(github::GithubActions::new(
                out,
                self.workspace_dir.clone(),
                root.clone(),
            )));
        }
        if let Some(path) = &self.timings {
            sinks.push(Box::new(crate::report::timings::TimingRecorder::new(
                path.clone(),
            )));
        }
        sinks
    }
}

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

/// The current time as test2json writes it (RFC 3339, local offset).
pub fn now() -> String {
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, false)
}

/// `1 binary`, `2 binaries`.
pub fn binaries(n: usize) -> String {
    if n == 1 {
        "1 binary".to_string()
    } else {
        format!("{n} binaries")
    }
}

/// `n thing` or `n things`.
pub fn plural(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("{n} {thing}")
    } else {
        format!("{n} {thing}s")
    }
}

#[cfg(test)]
mod tests;
