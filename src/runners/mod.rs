//! Test runners: they run planned commands and feed every event to a [`Reporter`]; they
//! never print themselves.

pub mod integ;
pub mod unit;

use crate::manifest::SuiteSpec;
use crate::plan::test::{TestPackage, TestPlanContext};
use crate::report::Reporter;

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
    /// The CPU budget.
    pub cpus: usize,
}

/// How a suite's run ended, besides its package results.
#[derive(Debug, Default)]
pub struct RunEnd {
    /// The signal that stopped the run, if one did.
    pub interrupted: Option<i32>,
    /// Number of compile calls (integration suites).
    pub compile_calls: usize,
}

/// Feeds one line of test2json output to `reporter`; other lines are plain output.
pub fn feed_line(reporter: &mut Reporter, line: &str) {
    match crate::events::parse_line(line) {
        Some(event) => reporter.event(&event),
        None => reporter.output_line(line),
    }
}
