//! Integration suites: precompile test binaries in parallel, then run them one at a time.
//!
//! With Go ≥ 1.21 the collision-free batches compile one after another in a background task
//! while the binaries of finished batches run: the first tests start as soon as the first
//! batch is linked. Before Go 1.21, one `go test -c` per package, in parallel within the
//! budget, then the runs. A package that does not build is reported and the rest go on.

use std::time::{Duration, SystemTime};

use super::{RunEnd, SuiteRun, feed_line};
use crate::exec::{Outcome, SpawnError, run_converted, run_inherited, run_parallel, run_quiet};
use crate::plan::test::{
    CompileBatch, TestBinary, go_duration, plan_integ_compiles, plan_run, plan_single_compile,
};
use crate::report::Reporter;

/// When gob stops a test binary: past its `-test.timeout` by a tenth of it (2s to 30s), time
/// for the binary to panic on its own and print the stacks of the hanging test.
fn kill_after(timeout: Duration) -> Duration {
    timeout + (timeout / 10).clamp(Duration::from_secs(2), Duration::from_secs(30))
}

/// Runs an integration suite; `test2json` is the resolved converter.
pub async fn run(
    run: &SuiteRun<'_>,
    test2json: &str,
    reporter: &mut Reporter,
) -> Result<RunEnd, SpawnError> {
    let (batches, parallel) = plan_integ_compiles(run.suite, run.packages, run.ctx);
    let compile_calls = batches.len();
    let end = |interrupted| RunEnd {
        interrupted,
        compile_calls,
    };
    if parallel {
        let started = SystemTime::now();
        let commands: Vec<_> = batches.iter().map(|b| b.command.clone()).collect();
        let outcomes = run_parallel(&commands, run.cpus).await?;
        for (batch, outcome) in batches.iter().zip(outcomes) {
            if let Some(sig) = run_batch(run, batch, outcome, started, test2json, reporter).await? {
                return Ok(end(Some(sig)));
            }
        }
        return Ok(end(None));
    }
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let commands: Vec<_> = batches.iter().map(|b| b.command.clone()).collect();
    let compiler = tokio::spawn(async move {
        for command in commands {
            let started = SystemTime::now();
            let outcome = run_inherited(&command).await;
            let stop = matches!(outcome, Ok(Outcome::Interrupted(_)) | Err(_));
            if sender.send((outcome, started)).is_err() || stop {
                break;
            }
        }
    });
    let mut stopped = None;
    for batch in &batches {
        let Some((outcome, started)) = receiver.recv().await else {
            break;
        };
        if let Some(sig) = run_batch(run, batch, outcome?, started, test2json, reporter).await? {
            stopped = Some(sig);
            break;
        }
    }
    compiler.abort();
    Ok(end(stopped))
}

/// Runs the binaries of a compiled batch one at a time; returns the signal that stopped it.
async fn run_batch(
    run: &SuiteRun<'_>,
    batch: &CompileBatch,
    compiled: Outcome,
    started: SystemTime,
    test2json: &str,
    reporter: &mut Reporter,
) -> Result<Option<i32>, SpawnError> {
    if let Outcome::Interrupted(sig) = compiled {
        let outputs = batch.binaries.iter().map(|b| b.path.as_path());
        crate::paths::remove_written_since(outputs, started);
        return Ok(Some(sig));
    }
    for binary in &batch.binaries {
        let built = compiled == Outcome::Succeeded || confirm_built(run, binary, started).await?;
        if !built {
            reporter.build_failed(&binary.package.import_path);
            continue;
        }
        if let Some(sig) = run_binary(run, binary, test2json, reporter).await? {
            return Ok(Some(sig));
        }
    }
    Ok(None)
}

/// After a failed compile call, whether `binary` is current anyway: go linked it during the
/// call, or a quiet `go test -c` of its package alone succeeds (a no-op when it is current:
/// go does not touch test binaries it did not relink, so their mtime cannot tell).
async fn confirm_built(
    run: &SuiteRun<'_>,
    binary: &TestBinary,
    started: SystemTime,
) -> Result<bool, SpawnError> {
    if crate::paths::written_since(&binary.path, started) {
        return Ok(true);
    }
    let alone = plan_single_compile(run.suite, binary, run.ctx);
    Ok(run_quiet(&alone).await? == Outcome::Succeeded)
}

async fn run_binary(
    run: &SuiteRun<'_>,
    binary: &TestBinary,
    test2json: &str,
    reporter: &mut Reporter,
) -> Result<Option<i32>, SpawnError> {
    let planned = plan_run(run.suite, binary, test2json, run.user_args, run.ctx);
    let deadline = planned.timeout.map(kill_after);
    let outcome = run_converted(
        &planned.binary,
        &planned.converter,
        |line| feed_line(reporter, line),
        deadline,
    )
    .await?;
    let package = &binary.package.import_path;
    match outcome {
        Outcome::Interrupted(sig) => {
            reporter.abandoned(package, "interrupted");
            return Ok(Some(sig));
        }
        Outcome::TimedOut => {
            let limit = planned.timeout.map(go_duration).unwrap_or_default();
            let why = format!("timed out: still running past the {limit} timeout, stopped by gob");
            reporter.abandoned(package, &why)
        }
        Outcome::Signaled(sig) => reporter.abandoned(package, &format!("killed by signal {sig}")),
        Outcome::Failed(code) => reporter.abandoned(package, &format!("exit status {code}")),
        Outcome::Succeeded => reporter.abandoned(package, "exited without a result"),
    }
    Ok(None)
}
