//! How a test run ends, shared by `gob test` and `gob test --from-archive`: a suite's end
//! event from its results, the reports written, and the run's exit from its packages.

use std::path::PathBuf;
use std::time::Instant;

use crate::base::events::GobEvent;
use crate::error::GobError;
use crate::report::{PackageOutcome, PackageResult, Reporter};
use crate::runners::Events;

/// What a suite's end event says besides its results.
pub struct SuiteEnd {
    /// Packages without test files.
    pub skipped: Vec<String>,
    /// Packages left out by `--since`.
    pub not_affected: usize,
    /// Compile calls made.
    pub compile_calls: usize,
}

/// Emits the end of `suite`, whose results start at `first_result`.
pub fn suite_ended(
    reporter: &mut Reporter,
    suite: &str,
    first_result: usize,
    end: SuiteEnd,
    started: Instant,
) {
    let results = &reporter.results[first_result..];
    let passed = results
        .iter()
        .filter(|r| r.outcome == PackageOutcome::Passed)
        .count();
    let failed = results.len() - passed;
    reporter.gob(GobEvent::SuiteEnd {
        suite: suite.to_string(),
        passed,
        failed,
        skipped: end.skipped,
        not_affected: end.not_affected,
        compile_calls: end.compile_calls,
        elapsed: started.elapsed().as_secs_f64(),
    });
}

/// Writes every report (the summary, JUnit, the timing history).
pub fn write_reports(reporter: &mut Reporter, junit: Option<&PathBuf>) -> Result<(), GobError> {
    reporter.finish().map_err(|source| GobError::Io {
        action: "cannot write the report",
        path: junit.cloned().unwrap_or_default(),
        source,
    })
}

/// The run's end: an error naming how many packages failed, if any did.
pub fn outcome(results: &[PackageResult]) -> Result<(), GobError> {
    let failed = results
        .iter()
        .filter(|r| r.outcome != PackageOutcome::Passed)
        .count();
    match failed {
        0 => Ok(()),
        n => Err(GobError::Failed(format!(
            "{} failed",
            crate::report::plural(n, "package")
        ))),
    }
}
