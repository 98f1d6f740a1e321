//! Test runners: they run planned commands and hand every event to an [`Events`] consumer
//! (the reporter, a later stage, implements it); they never print themselves.

pub mod compile;
pub mod cover;
pub mod integ;
pub mod remote;
pub mod services;
pub mod tasks;
pub mod typecheck;
pub mod unit;

use std::collections::BTreeMap;

use crate::base::events::{GobEvent, TestEvent};
use crate::manifest::SuiteSpec;
use crate::plan::test::{TestPackage, TestPlanContext};

/// What a runner needs for one suite.
pub struct SuiteRun<'a> {
    /// The suite.
    pub suite: &'a SuiteSpec,
    /// Its packages with test files.
    pub packages: &'a [TestPackage],
    /// Arguments for the test binaries from the command line.
    pub user_args: &'a [String],
    /// Planning inputs.
    pub ctx: &'a TestPlanContext,
    /// More arguments for some packages' binaries, after the others (a `-test.run` that
    /// selects the tests that failed last time).
    pub package_args: &'a BTreeMap<String, Vec<String>>,
    /// The cluster that runs integration test binaries, when remote execution is on.
    pub remote: Option<&'a remote::RemoteExecutor>,
    /// Where each run writes its coverage, when the run writes a profile.
    pub cover: Option<&'a cover::Fragments>,
    /// Seconds each package took when it last ran (the timing history), for the order runs
    /// start in.
    pub recorded: &'a BTreeMap<String, f64>,
    /// The groups of packages split by test (`split`): on a cluster each group is an action
    /// of its own.
    pub parts: &'a BTreeMap<String, Vec<crate::plan::split::Group>>,
}

impl SuiteRun<'_> {
    /// The extra arguments of `package`.
    pub fn args_of(&self, package: &str) -> &[String] {
        self.package_args.get(package).map_or(&[], Vec::as_slice)
    }

    /// A fresh profile path for a run of `package` (`None`: the suite's go test call), when
    /// the run writes a profile.
    pub fn profile(&self, package: Option<&str>) -> Option<std::path::PathBuf> {
        self.cover.map(|c| c.next(&self.suite.name, package))
    }
}

/// How a suite's run ended, besides its package results.
#[derive(Debug, Default)]
pub struct RunEnd {
    /// The signal that stopped the run, if one did.
    pub interrupted: Option<i32>,
    /// Number of compile calls (integration suites).
    pub compile_calls: usize,
    /// The test binaries the compile made (integration suites), for reruns.
    pub binaries: Vec<crate::plan::test::TestBinary>,
}

/// What runners report to: test2json events, gob's own events, and the ends of packages that
/// produced no result of their own.
pub trait Events: Send {
    /// One test2json event.
    fn event(&mut self, event: &TestEvent);
    /// One of gob's own events.
    fn gob(&mut self, event: GobEvent);
    /// One line of go's or a runner's output that is not an event.
    fn output_line(&mut self, line: &str);
    /// A package that did not build.
    fn build_failed(&mut self, package: &str);
    /// A package whose binary stopped without a result after `elapsed` seconds, and why.
    fn abandoned(&mut self, package: &str, why: &str, elapsed: f64);
    /// A package whose binary exited 0 without a result (go test calls that `ok`).
    fn exited_ok(&mut self, package: &str, elapsed: f64);
    /// Called every [`TICK`] while tests run (slow-test reports need a clock).
    fn tick(&mut self);
    /// `package` runs as `parts` parts (split by test): one result once all have ended.
    fn expect_parts(&mut self, _package: &str, _parts: usize) {}
}

/// What turns a test binary's output into test2json events.
#[derive(Debug, Clone, Copy)]
pub enum Converter<'a> {
    /// `go tool test2json` at this path, as a child process.
    Go(&'a str),
    /// gob's own converter, in process (no go needed).
    Native,
}

/// How often runners call [`Events::tick`].
pub const TICK: std::time::Duration = std::time::Duration::from_millis(250);

/// Runs `future`, calling `tick` every [`TICK`] meanwhile.
pub async fn ticking<T>(future: impl std::future::Future<Output = T>, mut tick: impl FnMut()) -> T {
    tokio::pin!(future);
    let mut interval = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            value = &mut future => return value,
            _ = interval.tick() => tick(),
        }
    }
}

/// Feeds one line of test2json output to `reporter`; other lines are plain output.
pub fn feed_line(reporter: &mut dyn Events, line: &str) {
    match crate::base::events::parse_line(line) {
        Some(event) => reporter.event(&event),
        None => reporter.output_line(line),
    }
}
