//! Unit suites: one `go test -json` per suite with the suite's tags and the CPU budget, so
//! go's own test cache still works; a rerun, or a run of last time's failures, is one
//! `go test -json -count=1` per package with its `-test.run`.

use std::sync::Mutex;

use super::{Events, RunEnd, SuiteRun, feed_line, ticking};
use crate::exec::{Outcome, SpawnError, run_lines};
use crate::plan::GoCommand;
use crate::plan::test::{plan_unit, plan_unit_package};
use crate::workspace::suites::TestPackage;

/// Runs a unit suite: one `go test`, or one per package when packages have arguments of
/// their own.
pub async fn run(run: &SuiteRun<'_>, reporter: &mut dyn Events) -> Result<RunEnd, SpawnError> {
    if run.package_args.is_empty() {
        let profile = run.profile(None);
        let command = plan_unit(
            run.suite,
            run.packages,
            run.user_args,
            run.ctx,
            profile.as_deref(),
        );
        return run_go_test(&command, run.packages, reporter).await;
    }
    for package in run.packages {
        let end = run_package(run, package, run.args_of(&package.import_path), reporter).await?;
        if end.interrupted.is_some() {
            return Ok(end);
        }
    }
    Ok(RunEnd::default())
}

/// Runs one package of a unit suite again, with `extra` test arguments (a `-test.run`).
pub async fn run_package(
    run: &SuiteRun<'_>,
    package: &TestPackage,
    extra: &[String],
    reporter: &mut dyn Events,
) -> Result<RunEnd, SpawnError> {
    let profile = run.profile(Some(&package.import_path));
    let command = plan_unit_package(
        run.suite,
        package,
        extra,
        run.user_args,
        run.ctx,
        profile.as_deref(),
    );
    run_go_test(&command, std::slice::from_ref(package), reporter).await
}

async fn run_go_test(
    command: &GoCommand,
    packages: &[TestPackage],
    reporter: &mut dyn Events,
) -> Result<RunEnd, SpawnError> {
    let shared = Mutex::new(reporter);
    let with = |f: &mut dyn FnMut(&mut dyn Events)| {
        let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut **guard)
    };
    let lines = run_lines(command, |line| with(&mut |r| feed_line(r, line)), None);
    let outcome = ticking(lines, || with(&mut |r| r.tick())).await?;
    let interrupted = match outcome {
        Outcome::Interrupted(sig) => Some(sig),
        _ => None,
    };
    // Packages go never reported (go test stopped early): failed, not silently passed.
    for package in packages {
        with(&mut |r| r.abandoned(&package.import_path, "no result from go test", 0.0));
    }
    Ok(RunEnd {
        interrupted,
        ..Default::default()
    })
}
