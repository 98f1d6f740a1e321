//! Reporting. Runners and commands hand every event to the [`Reporter`] and never print;
//! the reporter keeps per-package state ([`Collector`]) and fans events and finished packages
//! out to the sinks the user asked for: the terminal (live progress or plain lines), JSON
//! lines, JUnit XML, GitHub Actions annotations, the timing history.

mod collect;
pub mod github;
pub mod json;
pub mod junit;
pub mod terminal;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

pub use collect::{Collector, PackageOutcome, PackageResult, TestStatus};

use crate::events::TestEvent;

/// gob's own events, alongside test2json's; in `--json` output their `Action` starts with
/// `gob-`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "Action", rename_all_fields = "PascalCase")]
pub enum GobEvent {
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
        /// Number of calls.
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
        /// Number of calls.
        calls: usize,
        /// It succeeded.
        ok: bool,
        /// Seconds.
        elapsed: f64,
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
        /// Number of calls.
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
        totals: crate::cacheprog::stats::Totals,
        /// The same, as the one line the terminal shows.
        summary: String,
    },
    /// A line go printed while compiling (compile errors).
    #[serde(rename = "gob-build-output")]
    BuildOutput {
        /// The line, with its newline.
        output: String,
    },
}

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

/// What the user asked to be reported, besides the terminal.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
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
        let mut sinks: Vec<Box<dyn Sink + Send>> =
            vec![Box::new(terminal::Terminal::for_process(self.json))];
        if self.json {
            sinks.push(Box::new(json::JsonLines::new(Box::new(std::io::stdout()))));
        }
        if let Some(path) = &self.junit {
            sinks.push(Box::new(junit::Junit::new(path.clone())));
        }
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            let out: Box<dyn std::io::Write + Send> = if self.json {
                Box::new(std::io::stderr())
            } else {
                Box::new(std::io::stdout())
            };
            let root = std::env::var_os("GITHUB_WORKSPACE")
                .map(PathBuf::from)
                .or_else(|| std::env::current_dir().ok())
                .unwrap_or_default();
            sinks.push(Box::new(github::GithubActions::new(
                out,
                self.workspace_dir.clone(),
                root,
            )));
        }
        if let Some(path) = &self.timings {
            sinks.push(Box::new(crate::timings::TimingRecorder::new(path.clone())));
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

    /// One of gob's own events.
    pub fn gob(&mut self, event: GobEvent) {
        for sink in &mut self.sinks {
            sink.gob_event(&event);
        }
    }

    /// One test2json event.
    pub fn event(&mut self, event: &TestEvent) {
        for sink in &mut self.sinks {
            sink.test_event(event);
        }
        if let Some(result) = self.collector.event(event) {
            self.done(result);
        }
    }

    /// One line of go's or a runner's output that is not an event.
    pub fn output_line(&mut self, line: &str) {
        self.gob(GobEvent::BuildOutput {
            output: format!("{line}\n"),
        });
    }

    /// A package that did not build: reported like `go test -json` does.
    pub fn build_failed(&mut self, package: &str) {
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
    pub fn abandoned(&mut self, package: &str, why: &str, elapsed: f64) {
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
    pub fn exited_ok(&mut self, package: &str, elapsed: f64) {
        if !self.collector.unfinished(package) {
            return;
        }
        let line = format!("ok  \t{package}\t{elapsed:.3}s\n");
        self.event(&synthetic("output", package, None, Some(line)));
        let mut pass = synthetic("pass", package, None, None);
        pass.elapsed = Some(elapsed);
        self.event(&pass);
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
