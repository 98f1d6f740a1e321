//! `--junit PATH`: JUnit XML as CI systems read it (quick-junit): one `<testsuite>` per
//! package, one `<testcase>` per test with its time, `<failure>` with the test's output;
//! written atomically at the end of the run.

use std::path::PathBuf;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

use super::collect::{Attempt, PackageOutcome, PackageResult, TestResult, TestStatus};
use super::sink::Sink;

/// Writes a JUnit report when the run ends.
pub struct Junit {
    path: PathBuf,
}

impl Junit {
    /// A report to be written at `path`.
    pub fn new(path: PathBuf) -> Junit {
        Junit { path }
    }
}

/// The JUnit report of `results`: gob's suites in the order they ran, the packages of each
/// sorted by import path and their tests by name, so the report does not depend on the
/// order packages and tests finished in (go test's own interleaving, binaries run at once on
/// a remote cluster, the groups of a package split by test).
pub fn report(results: &[PackageResult]) -> Report {
    let mut report = Report::new("gob");
    let suite_rank = |suite: &str| results.iter().position(|r| r.suite == suite);
    let mut ordered: Vec<&PackageResult> = results.iter().collect();
    ordered.sort_by_key(|r| (suite_rank(&r.suite), r.package.as_str()));
    for r in ordered {
        let mut suite = TestSuite::new(r.package.as_str());
        suite.set_time(seconds(r.elapsed));
        suite.add_property(("gob.suite", r.suite.as_str()));
        let mut tests: Vec<&TestResult> = r.tests.iter().collect();
        tests.sort_by(|a, b| a.name.cmp(&b.name));
        for test in tests {
            let status = test_status(test, r.note.as_deref());
            let mut case = TestCase::new(xml_text(&test.name), status);
            case.set_classname(r.package.as_str());
            case.set_time(seconds(test.elapsed));
            suite.add_test_case(case);
        }
        // A package that failed outside any test (build failure, crash, kill) still shows.
        if r.outcome != PackageOutcome::Passed && r.failed_tests().is_empty() {
            let (kind, message) = match r.outcome {
                PackageOutcome::BuildFailed => (NonSuccessKind::Error, "build failed".to_string()),
                _ => (
                    NonSuccessKind::Failure,
                    r.note
                        .clone()
                        .unwrap_or_else(|| "package failed".to_string()),
                ),
            };
            let mut status = TestCaseStatus::non_success(kind);
            status.set_message(message);
            status.set_description(xml_text(&r.output.concat()));
            let mut case = TestCase::new("[package]", status);
            case.set_classname(r.package.as_str());
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    report
}

/// A test's status with its other attempts: a flaky test passes with one `<flakyFailure>`
/// per failed attempt; a test that failed every attempt has the first as its `<failure>`
/// and one `<rerunFailure>` per rerun.
fn test_status(test: &TestResult, note: Option<&str>) -> TestCaseStatus {
    let failure = |status: TestStatus, output: &[String]| {
        let message = match (status, note) {
            (TestStatus::Unfinished, Some(note)) => format!("did not finish: {note}"),
            (TestStatus::Unfinished, None) => "did not finish".to_string(),
            _ => "failed".to_string(),
        };
        (message, xml_text(&output.concat()))
    };
    let rerun = |attempt: &Attempt| {
        let (message, description) = failure(attempt.status, &attempt.output);
        let mut rerun = TestRerun::new(NonSuccessKind::Failure);
        rerun
            .set_message(message)
            .set_description(description)
            .set_time(seconds(attempt.elapsed));
        rerun
    };
    match test.status {
        TestStatus::Passed => {
            let mut status = TestCaseStatus::success();
            status.add_reruns(test.earlier.iter().map(rerun));
            status
        }
        TestStatus::Skipped => TestCaseStatus::skipped(),
        TestStatus::Failed | TestStatus::Unfinished => {
            let latest = Attempt {
                status: test.status,
                elapsed: test.elapsed,
                output: test.output.clone(),
            };
            let mut attempts = test.earlier.iter().chain(std::iter::once(&latest));
            let first = attempts.next().unwrap_or(&latest);
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let (message, description) = failure(first.status, &first.output);
            status.set_message(message).set_description(description);
            status.add_reruns(attempts.map(rerun));
            status
        }
    }
}

/// `text` without the characters XML 1.0 forbids that quick-junit leaves in: U+FFFE and
/// U+FFFF (it strips the C0 controls itself). A test printing them must not make the whole
/// report unreadable.
fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{fffe}' | '\u{ffff}'))
        .collect()
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}

impl Sink for Junit {
    fn finish(&mut self, results: &[PackageResult]) -> std::io::Result<()> {
        let xml = report(results)
            .to_string()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        crate::base::paths::write_atomically(&self.path, xml.as_bytes())
    }
}
