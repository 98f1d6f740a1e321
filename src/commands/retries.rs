//! Reruns of failed tests (`retries`, `--retries`) and the record of what failed, which
//! `gob test --failed` runs again. Which rerun a package gets is decided by
//! [`crate::plan::retry`]; the reporter merges each rerun into the package's first result.

use std::path::Path;

use crate::error::GobError;
use crate::go::testrun::exactly;
use crate::plan::retry::{FailedTests, Failure, Rerun, rerun_of};
use crate::plan::test::TestBinary;
use crate::report::{PackageOutcome, PackageResult, Reporter};
use crate::runners::{Converter, SuiteRun, integ, unit};

/// What an attempt of `result` left, for [`rerun_of`].
fn failure_of(result: &PackageResult) -> Failure {
    let failed_tests: Vec<String> = result
        .failed_tests()
        .iter()
        .map(|t| t.to_string())
        .collect();
    let unfinished = result
        .tests
        .iter()
        .any(|t| t.status == crate::report::TestStatus::Unfinished);
    Failure {
        build_failed: result.outcome == PackageOutcome::BuildFailed,
        outside_tests: unfinished || result.note.is_some() || failed_tests.is_empty(),
        failed_tests,
    }
}

/// Runs the failed packages of the suite whose results start at `first_result` again, up
/// to `retries` times each (an integration suite's from its `binaries`); returns the signal
/// that stopped it, if one did.
pub async fn rerun_failures(
    run: &SuiteRun<'_>,
    binaries: &[TestBinary],
    retries: u32,
    max_failures: usize,
    converter: Option<Converter<'_>>,
    reporter: &mut Reporter,
    first_result: usize,
) -> Result<Option<i32>, GobError> {
    for attempt in 2..=retries.saturating_add(1) {
        let due: Vec<(String, Rerun)> = reporter.results[first_result..]
            .iter()
            .filter(|r| r.outcome != PackageOutcome::Passed && r.attempts == attempt - 1)
            .map(|r| (r.package.clone(), rerun_of(&failure_of(r), max_failures)))
            .collect();
        if due.is_empty() {
            break;
        }
        for (package, rerun) in due {
            let tests = match rerun {
                Rerun::Never => continue,
                Rerun::TooMany(failed) => {
                    if attempt == 2 {
                        reporter.retry_skipped(&package, failed, max_failures);
                    }
                    continue;
                }
                Rerun::Tests(tests) => tests,
                Rerun::Whole => Vec::new(),
            };
            let extra: Vec<String> = match tests.is_empty() {
                true => Vec::new(),
                false => vec![format!("-test.run={}", exactly(&tests))],
            };
            reporter.retry(&package, &tests, attempt);
            let stopped = match (run.suite.integ, converter) {
                (true, Some(converter)) => {
                    let Some(binary) = binaries.iter().find(|b| b.package.import_path == package)
                    else {
                        continue;
                    };
                    integ::rerun(run, binary, &extra, converter, reporter).await?
                }
                _ => {
                    let Some(p) = run.packages.iter().find(|p| p.import_path == package) else {
                        continue;
                    };
                    unit::run_package(run, p, &extra, reporter)
                        .await?
                        .interrupted
                }
            };
            if stopped.is_some() {
                return Ok(stopped);
            }
        }
    }
    Ok(None)
}

/// Reads the record of the last run's failures (none when missing or unreadable).
pub fn load_failed(path: &Path) -> FailedTests {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Updates the record with `results`: each package that ran is dropped from it, and
/// recorded again when it failed, with the top-level tests that failed (none: the whole
/// package, when it failed outside any test or did not build).
pub fn record_failed(failed: &mut FailedTests, results: &[PackageResult]) {
    for result in results {
        let suite = failed.entry(result.suite.clone()).or_default();
        suite.remove(&result.package);
        if result.outcome == PackageOutcome::Passed {
            continue;
        }
        // The top-level tests a rerun would run, with no limit on their number.
        let tests = match rerun_of(&failure_of(result), usize::MAX) {
            Rerun::Tests(tests) => tests,
            Rerun::Whole | Rerun::Never | Rerun::TooMany(_) => Vec::new(),
        };
        suite.insert(result.package.clone(), tests);
    }
    failed.retain(|_, packages| !packages.is_empty());
}

/// Writes the record; a failure is a warning (it only serves `--failed`).
pub fn save_failed(workspace_dir: &Path, path: &Path, failed: &FailedTests) {
    let written = crate::base::paths::refuse_symlinks(workspace_dir, path).and_then(|()| {
        let text = serde_json::to_string_pretty(failed).map_err(std::io::Error::other)?;
        crate::base::paths::write_atomically(path, format!("{text}\n").as_bytes())
    });
    if let Err(error) = written {
        eprintln!(
            "gob: warning: cannot record the failed tests in {}: {error}",
            path.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{TestResult, TestStatus};

    fn result(package: &str, outcome: PackageOutcome, failed: &[&str]) -> PackageResult {
        PackageResult {
            suite: "unit".into(),
            package: package.into(),
            dir: None,
            outcome,
            elapsed: 0.0,
            tests: failed
                .iter()
                .map(|name| TestResult {
                    name: name.to_string(),
                    status: TestStatus::Failed,
                    elapsed: 0.0,
                    output: Vec::new(),
                    earlier: Vec::new(),
                })
                .collect(),
            output: Vec::new(),
            cached: false,
            note: None,
            attempts: 1,
            partial: false,
        }
    }

    #[test]
    fn the_record_keeps_failed_top_level_tests_and_forgets_what_passed() {
        let mut failed = FailedTests::new();
        record_failed(
            &mut failed,
            &[
                result("m/a", PackageOutcome::Failed, &["TestA/sub", "TestB"]),
                result("m/b", PackageOutcome::BuildFailed, &[]),
                result("m/c", PackageOutcome::Passed, &[]),
            ],
        );
        assert_eq!(failed["unit"]["m/a"], ["TestA", "TestB"]);
        assert!(failed["unit"]["m/b"].is_empty(), "the whole package");
        assert!(!failed["unit"].contains_key("m/c"));
        record_failed(&mut failed, &[result("m/a", PackageOutcome::Passed, &[])]);
        assert!(!failed["unit"].contains_key("m/a"), "it passed since");
        let args = crate::plan::retry::failed_args(&failed["unit"]);
        assert!(args.is_empty(), "m/b reruns whole: no -test.run");
    }
}
