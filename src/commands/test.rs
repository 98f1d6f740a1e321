//! `gob test`: select suites, expand their packages, run each suite, summarize.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::cli::TestArgs;
use crate::context::{Context, Globals, load_manifest, lock_workspace};
use crate::error::GobError;
use crate::manifest::{Manifest, SuiteSpec};
use crate::plan::test::{TestPackage, TestPlanContext};
use crate::report::{PackageOutcome, Reporter};
use crate::runners::{SuiteRun, integ, unit};

/// A name on the command line that matches no suite.
#[derive(Debug, thiserror::Error)]
#[error("no test suite named `{name}` in the manifest{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
pub struct UnknownSuite {
    /// The name asked for.
    pub name: String,
    /// The closest known name.
    pub suggestion: Option<String>,
}

/// Runs `gob test`.
pub async fn run(globals: &Globals, args: &TestArgs) -> Result<(), GobError> {
    let manifest = load_manifest(globals)?;
    let specs = select(&manifest, args)?;
    let _lock = lock_workspace(globals, &manifest).await?;
    let ctx = Context::load(globals, &manifest.workspace_dir)?;
    ctx.print_warnings();
    let expanded = crate::suites::expand(&manifest, &specs, &ctx.go)?;
    let pairs = expanded.iter().flat_map(|s| {
        s.packages
            .iter()
            .map(|p| (s.spec.race, p.import_path.as_str()))
    });
    if let Some(note) = race_and_plain_note(pairs) {
        eprintln!("{note}");
    }
    let test2json = if specs.iter().any(|s| s.integ) {
        Some(ctx.go.tool_path("test2json")?)
    } else {
        None
    };
    let plan_ctx = TestPlanContext {
        go: ctx.go.program.clone(),
        workspace_dir: manifest.workspace_dir.clone(),
        base_env: ctx.go.env.clone(),
        version: ctx.version.clone(),
    };
    let user_args = args.binary_args();
    let mut summaries = Vec::new();
    let mut interrupted = None;
    for suite in &expanded {
        let started = Instant::now();
        let (with_tests, without): (Vec<_>, Vec<_>) = suite
            .packages
            .iter()
            .partition(|p| !p.test_go_files.is_empty() || !p.x_test_go_files.is_empty());
        let packages: Vec<TestPackage> = with_tests
            .iter()
            .filter_map(|p| {
                Some(TestPackage {
                    import_path: p.import_path.clone(),
                    dir: p.dir.clone()?,
                })
            })
            .collect();
        let mut reporter = Reporter::default();
        let run = SuiteRun {
            suite: suite.spec,
            packages: &packages,
            user_args: &user_args,
            ctx: &plan_ctx,
            cpus: ctx.budget.cpus,
        };
        println!(
            "=== suite {} ({} packages)",
            suite.spec.name,
            packages.len()
        );
        let end = match (&test2json, suite.spec.integ, packages.is_empty()) {
            (_, _, true) => Default::default(),
            (Some(t2j), true, false) => integ::run(&run, t2j, &mut reporter).await?,
            _ => unit::run(&run, &mut reporter).await?,
        };
        let skipped: Vec<String> = without.iter().map(|p| p.import_path.clone()).collect();
        summaries.push((
            suite.spec,
            reporter,
            skipped,
            end.compile_calls,
            started.elapsed(),
        ));
        if end.interrupted.is_some() {
            interrupted = end.interrupted;
            break;
        }
    }
    let failed = print_summary(&summaries);
    if let Some(sig) = interrupted {
        return Err(GobError::Interrupted(sig));
    }
    if failed > 0 {
        return Err(GobError::Failed(format!(
            "{failed} package{} failed",
            if failed == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

/// The suites to run: the named ones, else every integ or every unit suite.
fn select<'m>(manifest: &'m Manifest, args: &TestArgs) -> Result<Vec<&'m SuiteSpec>, GobError> {
    if args.suites.is_empty() {
        return Ok(manifest
            .suites
            .iter()
            .filter(|s| s.integ == args.integ)
            .collect());
    }
    let known: Vec<&str> = manifest.suites.iter().map(|s| s.name.as_str()).collect();
    args.suites
        .iter()
        .map(|name| {
            manifest
                .suites
                .iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| {
                    GobError::UnknownSuite(UnknownSuite {
                        name: name.clone(),
                        suggestion: crate::manifest::closest(name, &known).map(String::from),
                    })
                })
        })
        .collect()
}

/// -race builds share no cache with plain builds: a note when one run builds a package both
/// ways (the study: `go build ./...` then `go test -race ./...` cost 45s more).
fn race_and_plain_note<'a>(
    suites: impl Iterator<Item = (bool, &'a str)> + Clone,
) -> Option<String> {
    let paths = |race: bool| -> BTreeSet<&str> {
        suites
            .clone()
            .filter(|(r, _)| *r == race)
            .map(|(_, p)| p)
            .collect()
    };
    let both: Vec<&str> = paths(true).intersection(&paths(false)).copied().collect();
    (!both.is_empty()).then(|| {
        format!(
            "gob: note: {} package{} built both with -race and without in this run ({}); -race shares no build cache with plain builds, so they compile twice",
            both.len(),
            if both.len() == 1 { " is" } else { "s are" },
            both.join(", ")
        )
    })
}

type SuiteSummary<'m> = (
    &'m SuiteSpec,
    Reporter,
    Vec<String>,
    usize,
    std::time::Duration,
);

/// Prints one line per suite and every failed package and test; returns the failure count.
fn print_summary(summaries: &[SuiteSummary]) -> usize {
    let mut failed_total = 0;
    for (spec, reporter, skipped, compile_calls, elapsed) in summaries {
        let failures = reporter.failures();
        let passed = reporter.results.len() - failures.len();
        let calls = if spec.integ {
            format!(
                ", {compile_calls} compile call{}",
                if *compile_calls == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        };
        eprintln!(
            "gob: suite {}: {passed} passed, {} failed, {} without test files (skipped){calls} in {:.1}s",
            spec.name,
            failures.len(),
            skipped.len(),
            elapsed.as_secs_f64()
        );
        if !skipped.is_empty() {
            eprintln!("  skipped (no test files): {}", skipped.join(", "));
        }
        for (package, outcome, _) in &failures {
            match outcome {
                PackageOutcome::BuildFailed => eprintln!("  FAIL {package} [build failed]"),
                PackageOutcome::Failed(tests) if tests.is_empty() => eprintln!("  FAIL {package}"),
                PackageOutcome::Failed(tests) => {
                    eprintln!("  FAIL {package}: {}", tests.join(", "))
                }
                PackageOutcome::Passed => {}
            }
        }
        failed_total += failures.len();
    }
    failed_total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_packages_built_with_and_without_race() {
        let pairs = [(true, "m/a"), (true, "m/b"), (false, "m/b"), (false, "m/c")];
        let note = race_and_plain_note(pairs.iter().copied()).unwrap();
        assert!(
            note.contains("1 package is built both with -race and without in this run (m/b)"),
            "{note}"
        );
        assert!(race_and_plain_note([(true, "m/a"), (false, "m/c")].into_iter()).is_none());
    }
}
