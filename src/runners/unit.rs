//! Unit suites: one `go test -json` per suite with the suite's tags and the CPU budget, so
//! go's own test cache still works.

use super::Events;
use super::{RunEnd, SuiteRun, feed_line};
use crate::exec::{Outcome, SpawnError, run_lines};
use crate::plan::test::plan_unit;

/// Runs a unit suite.
pub async fn run(run: &SuiteRun<'_>, reporter: &mut dyn Events) -> Result<RunEnd, SpawnError> {
    let command = plan_unit(run.suite, run.packages, run.user_args, run.ctx);
    let outcome = run_lines(&command, |line| feed_line(reporter, line), None).await?;
    let interrupted = match outcome {
        Outcome::Interrupted(sig) => Some(sig),
        _ => None,
    };
    // Packages go never reported (go test stopped early): failed, not silently passed.
    for package in run.packages {
        reporter.abandoned(&package.import_path, "no result from go test", 0.0);
    }
    Ok(RunEnd {
        interrupted,
        compile_calls: 0,
    })
}
