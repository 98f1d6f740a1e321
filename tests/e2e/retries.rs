//! Flaky, failing, slow and hung tests (tests/fixtures/flaky): reruns of failed tests only,
//! flaky tests marked in the summary, JSON and JUnit, `--failed`, slow-test reports. Every
//! scenario runs in a unit suite and in an integration suite.

use crate::support::{Workspace, run};

/// The fixture with one suite named `s` over `packages`, `integ` or not, with `extra` keys;
/// its tests keep their state in a temp dir of their own.
struct Flaky {
    ws: Workspace,
    state: tempfile::TempDir,
}

impl Flaky {
    fn new(packages: &[&str], integ: bool, extra: &str) -> Flaky {
        let state = tempfile::tempdir().unwrap();
        let list: Vec<String> = packages.iter().map(|p| format!("\"./{p}\"")).collect();
        let manifest = format!(
            "[test.s]\npackages = [{}]\ninteg = {integ}\nenv = {{ FLAKY_STATE = \"{}\" }}\n{extra}\n",
            list.join(", "),
            state.path().display()
        );
        Flaky {
            ws: Workspace::fixture("flaky", &manifest),
            state,
        }
    }

    /// `gob test s ARGS`: (exit code, stdout, stdout and stderr together).
    fn test(&self, args: &[&str]) -> (i32, String, String) {
        let mut all = vec!["test", "s"];
        all.extend(args);
        let (code, stdout, stderr) = run(&mut self.ws.gob(&all));
        let both = format!("{stdout}\n{stderr}");
        (code, stdout, both)
    }

    /// How often a fixture test recorded a run.
    fn runs(&self, name: &str) -> usize {
        std::fs::read_to_string(self.state.path().join(name))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    fn junit(&self) -> String {
        std::fs::read_to_string(self.ws.dir().join("j.xml")).unwrap()
    }
}

/// The `<testcase name=NAME>` element of a JUnit report, as text.
fn testcase<'x>(xml: &'x str, name: &str) -> &'x str {
    let start = xml
        .find(&format!("<testcase name=\"{name}\""))
        .unwrap_or_else(|| panic!("no testcase {name}: {xml}"));
    let end = xml[start..]
        .find("</testcase>")
        .map_or(xml.len(), |e| start + e);
    &xml[start..end]
}

#[test]
fn a_flaky_test_passes_on_a_retry_and_only_it_is_rerun() {
    for integ in [false, true] {
        let f = Flaky::new(&["flaky"], integ, "retries = 2");
        let (code, stdout, stderr) = f.test(&["--junit", "j.xml", "--json"]);
        assert_eq!(code, 0, "integ={integ}: {stdout}\n{stderr}");
        assert_eq!(f.runs("TestFlaky"), 2);
        assert_eq!(f.runs("TestPasses"), 1, "a passing test is not rerun");
        assert!(
            stderr.contains("RETRY example.com/flaky/flaky (attempt 2): TestFlaky"),
            "{stderr}"
        );
        assert!(
            stderr.contains("(flaky: TestFlaky passed on attempt 2)"),
            "{stderr}"
        );
        assert!(
            stderr.contains("FLAKY example.com/flaky/flaky TestFlaky: failed 1 of 2 attempts"),
            "{stderr}"
        );
        let retry = stdout
            .lines()
            .find(|l| l.contains("\"gob-retry\""))
            .unwrap_or_else(|| panic!("no gob-retry event: {stdout}"));
        assert!(
            retry.contains("\"Attempt\":2") && retry.contains("\"Tests\":[\"TestFlaky\"]"),
            "{retry}"
        );
        assert!(
            stdout.matches("\"Test\":\"TestFlaky\"").count() > 2,
            "both attempts' events are in the stream"
        );
        let xml = f.junit();
        let case = testcase(&xml, "TestFlaky");
        assert!(case.contains("<flakyFailure"), "{case}");
        assert!(!case.contains("<failure"), "{case}");
    }
}

#[test]
fn without_retries_or_with_flaky_fail_a_flaky_test_fails_the_run() {
    let f = Flaky::new(&["flaky"], true, "");
    let (code, _, stderr) = f.test(&[]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(f.runs("TestFlaky"), 1);
    let f = Flaky::new(&["flaky"], false, "retries = 1\nflaky = \"fail\"");
    let (code, stdout, stderr) = f.test(&[]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert_eq!(f.runs("TestFlaky"), 2);
    assert!(stderr.contains("flaky tests fail this suite"), "{stderr}");
}

#[test]
fn a_test_failing_every_attempt_has_one_rerun_failure_per_rerun() {
    for integ in [false, true] {
        let f = Flaky::new(&["always"], integ, "");
        let (code, stdout, stderr) = f.test(&["--retries", "2", "--junit", "j.xml"]);
        assert_eq!(code, 1, "{stdout}\n{stderr}");
        assert!(stderr.contains("(attempt 3): TestAlwaysFails"), "{stderr}");
        let xml = f.junit();
        let case = testcase(&xml, "TestAlwaysFails");
        assert_eq!(case.matches("<failure").count(), 1, "{case}");
        assert_eq!(case.matches("<rerunFailure").count(), 2, "{case}");
    }
}

#[test]
fn a_panic_in_testmain_reruns_the_whole_package() {
    for integ in [false, true] {
        let f = Flaky::new(&["panicmain"], integ, "retries = 1");
        let (code, stdout, stderr) = f.test(&[]);
        assert_eq!(code, 0, "integ={integ}: {stdout}\n{stderr}");
        assert!(
            stderr.contains("RETRY example.com/flaky/panicmain (attempt 2): the whole package"),
            "{stderr}"
        );
        assert_eq!(f.runs("panicmain"), 2);
    }
}

#[test]
fn more_failures_than_the_limit_are_not_retried() {
    let f = Flaky::new(&["many"], true, "");
    let (code, stdout, stderr) = f.test(&["--retries", "3", "--max-retried-failures", "2"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(!stderr.contains("RETRY"), "{stderr}");
    assert!(
        stderr.contains(
            "not retried: example.com/flaky/many: 3 tests failed, more than --max-retried-failures 2: not flakiness"
        ),
        "{stderr}"
    );
}

#[test]
fn failed_runs_only_what_failed_in_the_last_run() {
    for integ in [false, true] {
        let f = Flaky::new(&["flaky", "always", "panicmain"], integ, "");
        let (code, _, stderr) = f.test(&[]);
        assert_eq!(code, 1, "{stderr}");
        let (code, stdout, stderr) = f.test(&["--failed"]);
        assert_eq!(code, 1, "always still fails: {stdout}\n{stderr}");
        assert_eq!(f.runs("TestFlaky"), 2);
        assert_eq!(
            f.runs("TestPasses"),
            1,
            "only the failed test of the package ran"
        );
        assert_eq!(
            f.runs("panicmain"),
            2,
            "a package that failed outside tests runs whole"
        );
        assert!(
            stderr.contains("gob: suite s: 2 passed, 1 failed"),
            "{stderr}"
        );
        let (code, _, stderr) = f.test(&["--failed"]);
        assert_eq!(code, 1, "{stderr}");
        assert!(
            stderr.contains("gob: suite s: 0 passed, 1 failed"),
            "{stderr}"
        );
    }
    let f = Flaky::new(&["flaky"], false, "");
    assert_eq!(f.test(&[]).0, 1);
    assert_eq!(f.test(&["--failed"]).0, 0);
    let (code, _, stderr) = f.test(&["--failed"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("gob: nothing failed in the last run of suite s"),
        "{stderr}"
    );
}

#[test]
fn slow_tests_are_reported_while_they_run_and_in_the_summary() {
    for integ in [false, true] {
        let f = Flaky::new(&["slow"], integ, "slow = \"1s\"");
        let (code, stdout, stderr) = f.test(&[]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stdout.contains("SLOW 1s example.com/flaky/slow TestSleepy"),
            "{stdout}"
        );
        assert!(
            stdout.contains("SLOW 2s example.com/flaky/slow TestSleepy"),
            "{stdout}"
        );
        assert!(!stdout.contains("SLOW 3s"), "{stdout}");
        assert!(
            stderr.contains("slow tests:\n  SLOW 2s+ example.com/flaky/slow TestSleepy"),
            "{stderr}"
        );
    }
}
