//! The terminal reporter for test runs: consumes events, prints failures with their output as
//! they happen and one line per package, and keeps what the summary needs.
//! Passing tests print nothing of their own.

use std::collections::{BTreeMap, BTreeSet};

use crate::events::TestEvent;

/// How a package ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageOutcome {
    /// All tests passed.
    Passed,
    /// Tests failed (or the binary crashed); the failing tests, possibly none.
    Failed(Vec<String>),
    /// It did not build.
    BuildFailed,
}

#[derive(Debug, Default)]
struct PackageState {
    /// Output per test ("" for package-level output), until the test ends.
    output: BTreeMap<String, Vec<String>>,
    /// Tests started and not ended.
    running: BTreeSet<String>,
    failed_tests: Vec<String>,
}

/// Collects the events of one suite.
#[derive(Debug, Default)]
pub struct Reporter {
    packages: BTreeMap<String, PackageState>,
    /// Finished packages in the order they finished.
    pub results: Vec<(String, PackageOutcome, f64)>,
}

impl Reporter {
    /// Consumes one event, printing what the user should see now.
    pub fn event(&mut self, ev: &TestEvent) {
        match ev.action.as_str() {
            "build-output" => eprint!("{}", ev.output.as_deref().unwrap_or_default()),
            "build-fail" => {}
            _ => self.test_event(ev),
        }
    }

    fn test_event(&mut self, ev: &TestEvent) {
        let Some(package) = ev.package.clone() else {
            return;
        };
        let state = self.packages.entry(package.clone()).or_default();
        let test = ev.test.clone().unwrap_or_default();
        match (ev.action.as_str(), test.is_empty()) {
            ("output", _) => state
                .output
                .entry(test)
                .or_default()
                .push(ev.output.clone().unwrap_or_default()),
            ("run", false) => {
                state.running.insert(test);
            }
            ("pass" | "skip", false) => {
                state.running.remove(&test);
                state.output.remove(&test);
            }
            ("fail", false) => {
                state.running.remove(&test);
                let lines = state.output.remove(&test).unwrap_or_default();
                print_block(&format!("FAIL {package} {test}"), &lines);
                state.failed_tests.push(test);
            }
            ("pass" | "skip" | "fail", true) => {
                let elapsed = ev.elapsed.unwrap_or(0.0);
                let state = self.packages.remove(&package).unwrap_or_default();
                let outcome = finish_package(&package, &ev.action, ev, state, elapsed);
                self.results.push((package, outcome, elapsed));
            }
            _ => {}
        }
    }

    /// Records a package that never produced events because it did not build.
    pub fn build_failed(&mut self, package: &str) {
        println!("FAIL {package} [build failed]");
        self.results
            .push((package.to_string(), PackageOutcome::BuildFailed, 0.0));
    }

    /// Ends a package whose events stopped without a package-level result (killed, crashed).
    pub fn abandoned(&mut self, package: &str, why: &str) {
        if self.results.iter().any(|(p, _, _)| p == package) {
            return;
        }
        let state = self.packages.remove(package).unwrap_or_default();
        let mut failed = state.failed_tests;
        let title = if state.running.is_empty() {
            format!("FAIL {package} ({why})")
        } else {
            let running: Vec<&str> = state.running.iter().map(String::as_str).collect();
            format!("FAIL {package} {} ({why})", running.join(", "))
        };
        failed.extend(state.running);
        let lines: Vec<String> = state.output.into_values().flatten().collect();
        print_block(&title, &lines);
        self.results
            .push((package.to_string(), PackageOutcome::Failed(failed), 0.0));
    }

    /// Packages that did not pass.
    pub fn failures(&self) -> Vec<&(String, PackageOutcome, f64)> {
        self.results
            .iter()
            .filter(|(_, o, _)| *o != PackageOutcome::Passed)
            .collect()
    }
}

fn finish_package(
    package: &str,
    action: &str,
    ev: &TestEvent,
    state: PackageState,
    elapsed: f64,
) -> PackageOutcome {
    if action != "fail" {
        println!("ok   {package} {elapsed:.2}s");
        return PackageOutcome::Passed;
    }
    if ev.extra.contains_key("FailedBuild") {
        println!("FAIL {package} [build failed]");
        return PackageOutcome::BuildFailed;
    }
    // Tests still running when the package failed: a panic or a timeout ended the binary.
    let mut failed = state.failed_tests;
    let unfinished: Vec<String> = state.running.into_iter().collect();
    let mut lines = Vec::new();
    for test in &unfinished {
        lines.extend(state.output.get(test).cloned().unwrap_or_default());
    }
    lines.extend(state.output.get("").cloned().unwrap_or_default());
    if !unfinished.is_empty() || failed.is_empty() {
        let title = if unfinished.is_empty() {
            format!("FAIL {package}")
        } else {
            format!("FAIL {package} {} (did not finish)", unfinished.join(", "))
        };
        print_block(&title, &lines);
    }
    failed.extend(unfinished);
    println!("FAIL {package} {elapsed:.2}s");
    PackageOutcome::Failed(failed)
}

fn print_block(title: &str, lines: &[String]) {
    println!("--- {title}");
    for line in lines {
        print!("    {line}");
        if !line.ends_with('\n') {
            println!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::parse_line;

    fn feed(lines: &[&str]) -> Reporter {
        let mut r = Reporter::default();
        for line in lines {
            r.event(&parse_line(line).unwrap());
        }
        r
    }

    #[test]
    fn passing_and_failing_tests() {
        let r = feed(&[
            r#"{"Action":"run","Package":"m/a","Test":"TestOK"}"#,
            r#"{"Action":"pass","Package":"m/a","Test":"TestOK","Elapsed":0}"#,
            r#"{"Action":"run","Package":"m/a","Test":"TestBad"}"#,
            r#"{"Action":"output","Package":"m/a","Test":"TestBad","Output":"    a_test.go:9: boom\n"}"#,
            r#"{"Action":"fail","Package":"m/a","Test":"TestBad","Elapsed":0}"#,
            r#"{"Action":"fail","Package":"m/a","Elapsed":0.01}"#,
            r#"{"Action":"pass","Package":"m/b","Elapsed":0.02}"#,
        ]);
        assert_eq!(r.results.len(), 2);
        assert_eq!(
            r.results[0].1,
            PackageOutcome::Failed(vec!["TestBad".into()])
        );
        assert_eq!(r.results[1].1, PackageOutcome::Passed);
        assert_eq!(r.failures().len(), 1);
    }

    #[test]
    fn a_test_running_when_the_package_fails_is_reported() {
        let r = feed(&[
            r#"{"Action":"run","Package":"m/a","Test":"TestHang"}"#,
            r#"{"Action":"output","Package":"m/a","Test":"TestHang","Output":"panic: test timed out after 1s\n"}"#,
            r#"{"Action":"fail","Package":"m/a","Elapsed":1.0}"#,
        ]);
        assert_eq!(
            r.results[0].1,
            PackageOutcome::Failed(vec!["TestHang".into()])
        );
    }

    #[test]
    fn build_failures_are_their_own_outcome() {
        let r = feed(&[
            r#"{"Action":"fail","Package":"m/a","Elapsed":0,"FailedBuild":"m/a [m/a.test]"}"#,
        ]);
        assert_eq!(r.results[0].1, PackageOutcome::BuildFailed);
    }

    #[test]
    fn abandoned_packages_list_their_running_tests() {
        let mut r = feed(&[r#"{"Action":"run","Package":"m/a","Test":"TestSlow"}"#]);
        r.abandoned("m/a", "killed");
        assert_eq!(
            r.results[0].1,
            PackageOutcome::Failed(vec!["TestSlow".into()])
        );
    }
}
