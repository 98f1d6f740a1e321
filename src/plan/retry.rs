//! Which rerun a failed package gets: its failed top-level tests again (a failed subtest
//! reruns its top-level test), the whole package when it failed outside any test (a panic in
//! TestMain, a crash, an exit without a result, a timeout), or nothing: a build failure is
//! never rerun, and more failures than the limit are not flakiness.

use crate::go::testrun::top_level;

/// What one attempt of a package left behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    /// It did not build.
    pub build_failed: bool,
    /// Tests (and subtests) that failed.
    pub failed_tests: Vec<String>,
    /// It failed outside any test: a test still running when it ended, or an end gob saw
    /// itself (crash, timeout, exit without a result), or no failed test at all.
    pub outside_tests: bool,
}

/// The rerun a failure gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rerun {
    /// These top-level tests again.
    Tests(Vec<String>),
    /// The whole package again.
    Whole,
    /// Not rerun: this many top-level tests failed, more than the limit.
    TooMany(usize),
    /// Not rerun: it did not build.
    Never,
}

/// The rerun of `failure` when at most `max_failures` failed tests count as flakiness.
pub fn rerun_of(failure: &Failure, max_failures: usize) -> Rerun {
    if failure.build_failed {
        return Rerun::Never;
    }
    let mut tests: Vec<String> = Vec::new();
    for name in &failure.failed_tests {
        let top = top_level(name).to_string();
        if !tests.contains(&top) {
            tests.push(top);
        }
    }
    if failure.outside_tests || tests.is_empty() {
        return Rerun::Whole;
    }
    if tests.len() > max_failures {
        return Rerun::TooMany(tests.len());
    }
    Rerun::Tests(tests)
}

/// What failed in the last run: suite → package → top-level tests (none: the whole package).
pub type FailedTests =
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<String>>>;

/// The `-test.run` arguments that select, per package, what failed last time.
pub fn failed_args(
    packages: &std::collections::BTreeMap<String, Vec<String>>,
) -> std::collections::BTreeMap<String, Vec<String>> {
    packages
        .iter()
        .filter(|(_, tests)| !tests.is_empty())
        .map(|(package, tests)| {
            (
                package.clone(),
                vec![format!("-test.run={}", crate::go::testrun::exactly(tests))],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(tests: &[&str]) -> Failure {
        Failure {
            failed_tests: tests.iter().map(|t| t.to_string()).collect(),
            ..Failure::default()
        }
    }

    #[test]
    fn failed_subtests_rerun_their_top_level_test_once() {
        assert_eq!(
            rerun_of(&failed(&["TestA/one", "TestA", "TestB/x/y"]), 10),
            Rerun::Tests(vec!["TestA".into(), "TestB".into()])
        );
    }

    #[test]
    fn a_failure_outside_any_test_reruns_the_whole_package() {
        assert_eq!(rerun_of(&failed(&[]), 10), Rerun::Whole);
        let crashed = Failure {
            outside_tests: true,
            ..failed(&["TestA"])
        };
        assert_eq!(rerun_of(&crashed, 10), Rerun::Whole);
    }

    #[test]
    fn build_failures_and_too_many_failures_are_not_rerun() {
        let broken = Failure {
            build_failed: true,
            ..Failure::default()
        };
        assert_eq!(rerun_of(&broken, 10), Rerun::Never);
        assert_eq!(
            rerun_of(&failed(&["TestA", "TestB", "TestC"]), 2),
            Rerun::TooMany(3)
        );
    }
}
