//! Integration suites: precompile test binaries in parallel, then run them one at a time.
//!
//! With Go ≥ 1.21 the collision-free batches compile one after another in a background task
//! while the binaries of finished batches run: the first tests start as soon as the first
//! batch is linked. The task's messages (call started, a line of go's output, call ended)
//! reach the reporter while binaries run. Before Go 1.21, one `go test -c` per package, in
//! parallel within the budget, then the runs. A package that does not build is reported and
//! the rest go on.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::SystemTime;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use futures_util::stream::{FuturesUnordered, StreamExt};

use super::Events;
use super::remote::RemoteExecutor;
use super::{Converter, RunEnd, SuiteRun, feed_line, ticking};
use crate::base::events::GobEvent;
use crate::exec::{
    Outcome, SpawnError, run_converted, run_converting, run_merged, run_parallel, run_quiet,
};
use crate::go::duration::go_duration;
use crate::plan::remote::kill_after;
use crate::plan::test::{
    CompileBatch, TestBinary, plan_integ_compiles, plan_run, plan_single_compile,
};

/// What the compile task tells the runner.
enum CompileMessage {
    /// Call (0-based) started.
    Started(usize),
    /// A line go printed.
    Line(String),
    /// Call (0-based) ended: outcome, start time, seconds.
    Ended(usize, Result<Outcome, SpawnError>, SystemTime, f64),
}

/// The reporter, shared between the binary being run and the compile messages arriving
/// meanwhile; never locked across an await.
struct Shared<'r> {
    reporter: Mutex<&'r mut dyn Events>,
    compiled: Mutex<VecDeque<(Result<Outcome, SpawnError>, SystemTime)>>,
    suite: String,
    calls: usize,
    packages: Vec<Vec<String>>,
}

impl Shared<'_> {
    fn with<T>(&self, f: impl FnOnce(&mut dyn Events) -> T) -> T {
        let mut guard = self.reporter.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut **guard)
    }

    fn handle(&self, message: CompileMessage) {
        match message {
            CompileMessage::Started(call) => self.with(|r| {
                r.gob(GobEvent::CompileStart {
                    suite: self.suite.clone(),
                    call: call + 1,
                    calls: self.calls,
                    packages: self.packages[call].clone(),
                })
            }),
            CompileMessage::Line(line) => self.with(|r| r.output_line(&line)),
            CompileMessage::Ended(call, outcome, started, elapsed) => {
                self.with(|r| {
                    r.gob(GobEvent::CompileEnd {
                        suite: self.suite.clone(),
                        call: call + 1,
                        calls: self.calls,
                        ok: matches!(outcome, Ok(Outcome::Succeeded)),
                        elapsed,
                    })
                });
                if let Ok(mut compiled) = self.compiled.lock() {
                    compiled.push_back((outcome, started));
                }
            }
        }
    }

    /// Runs `future` while handing compile messages to the reporter.
    async fn pumping<T>(
        &self,
        messages: &mut UnboundedReceiver<CompileMessage>,
        future: impl std::future::Future<Output = T>,
    ) -> T {
        tokio::pin!(future);
        let mut open = true;
        loop {
            tokio::select! {
                value = &mut future => return value,
                message = messages.recv(), if open => match message {
                    Some(message) => self.handle(message),
                    None => open = false,
                },
            }
        }
    }

    /// The next compiled batch, handling messages until it arrives.
    async fn next_compiled(
        &self,
        messages: &mut UnboundedReceiver<CompileMessage>,
    ) -> Option<(Result<Outcome, SpawnError>, SystemTime)> {
        loop {
            if let Some(done) = self.compiled.lock().ok()?.pop_front() {
                return Some(done);
            }
            self.handle(messages.recv().await?);
        }
    }
}

/// Runs an integration suite; `converter` turns the binaries' output into events.
pub async fn run(
    run: &SuiteRun<'_>,
    converter: Converter<'_>,
    reporter: &mut dyn Events,
) -> Result<RunEnd, SpawnError> {
    let (batches, parallel) = plan_integ_compiles(run.suite, run.packages, run.ctx);
    let compile_calls = batches.len();
    let end = |interrupted| RunEnd {
        interrupted,
        compile_calls,
    };
    let shared = Shared {
        reporter: Mutex::new(reporter),
        compiled: Mutex::new(VecDeque::new()),
        suite: run.suite.name.clone(),
        calls: compile_calls,
        packages: batches
            .iter()
            .map(|b| {
                b.binaries
                    .iter()
                    .map(|t| t.package.import_path.clone())
                    .collect()
            })
            .collect(),
    };
    let (sender, mut messages) = unbounded_channel();
    if parallel {
        let started = SystemTime::now();
        let commands: Vec<_> = batches.iter().map(|b| b.command.clone()).collect();
        let outcomes = run_parallel(&commands, run.cpus).await?;
        if let Some(remote) = run.remote {
            if let Ok(mut compiled) = shared.compiled.lock() {
                compiled.extend(outcomes.into_iter().map(|o| (Ok(o), started)));
            }
            drop(sender);
            let stopped = run_remotely(run, &shared, &mut messages, &batches, converter, remote);
            return Ok(end(stopped.await?));
        }
        for (batch, outcome) in batches.iter().zip(outcomes) {
            let stop = run_batch(
                run,
                &shared,
                &mut messages,
                batch,
                outcome,
                started,
                converter,
            );
            if let Some(sig) = stop.await? {
                return Ok(end(Some(sig)));
            }
        }
        return Ok(end(None));
    }
    let commands: Vec<_> = batches.iter().map(|b| b.command.clone()).collect();
    let compiler = tokio::spawn(async move {
        for (call, command) in commands.iter().enumerate() {
            let started = SystemTime::now();
            let clock = std::time::Instant::now();
            if sender.send(CompileMessage::Started(call)).is_err() {
                break;
            }
            let lines = sender.clone();
            let outcome = run_merged(command, move |line| {
                let _ = lines.send(CompileMessage::Line(line.to_string()));
            })
            .await;
            let stop = matches!(outcome, Ok(Outcome::Interrupted(_)) | Err(_));
            let elapsed = clock.elapsed().as_secs_f64();
            if sender
                .send(CompileMessage::Ended(call, outcome, started, elapsed))
                .is_err()
                || stop
            {
                break;
            }
        }
    });
    if let Some(remote) = run.remote {
        let stopped = run_remotely(run, &shared, &mut messages, &batches, converter, remote).await;
        compiler.abort();
        return Ok(end(stopped?));
    }
    let mut stopped = None;
    for batch in &batches {
        let Some((outcome, started)) = shared.next_compiled(&mut messages).await else {
            break;
        };
        let stop = run_batch(
            run,
            &shared,
            &mut messages,
            batch,
            outcome?,
            started,
            converter,
        );
        if let Some(sig) = stop.await? {
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
    shared: &Shared<'_>,
    messages: &mut UnboundedReceiver<CompileMessage>,
    batch: &CompileBatch,
    compiled: Outcome,
    started: SystemTime,
    converter: Converter<'_>,
) -> Result<Option<i32>, SpawnError> {
    if let Outcome::Interrupted(sig) = compiled {
        remove_partial_outputs(batch, started);
        return Ok(Some(sig));
    }
    for binary in &batch.binaries {
        let built = compiled == Outcome::Succeeded
            || shared
                .pumping(messages, confirm_built(run, binary, started))
                .await?;
        if !built {
            shared.with(|r| r.build_failed(&binary.package.import_path));
            continue;
        }
        let ran = shared
            .pumping(
                messages,
                run_binary(
                    run,
                    shared,
                    binary,
                    converter,
                    run.args_of(&binary.package.import_path),
                ),
            )
            .await?;
        if let Some(sig) = ran {
            return Ok(Some(sig));
        }
    }
    Ok(None)
}

/// After an interrupted compile call: the binaries it wrote may be half linked.
fn remove_partial_outputs(batch: &CompileBatch, started: SystemTime) {
    let outputs = batch.binaries.iter().map(|b| b.path.as_path());
    crate::go::outputs::remove_written_since(outputs, started);
}

/// After a failed compile call, whether `binary` is current anyway: go linked it during the
/// call, or a quiet `go test -c` of its package alone succeeds (a no-op when it is current:
/// go does not touch test binaries it did not relink, so their mtime cannot tell).
async fn confirm_built(
    run: &SuiteRun<'_>,
    binary: &TestBinary,
    started: SystemTime,
) -> Result<bool, SpawnError> {
    if crate::go::outputs::written_since(&binary.path, started) {
        return Ok(true);
    }
    let alone = plan_single_compile(run.suite, binary, run.ctx);
    Ok(run_quiet(&alone).await? == Outcome::Succeeded)
}

/// Runs one test binary of an integration suite again, alone, in its dir, with `extra` test
/// arguments after the usual ones (a `-test.run`); returns the signal that stopped it.
pub async fn rerun(
    run: &SuiteRun<'_>,
    binary: &TestBinary,
    extra: &[String],
    converter: Converter<'_>,
    reporter: &mut dyn Events,
) -> Result<Option<i32>, SpawnError> {
    let shared = Shared {
        reporter: Mutex::new(reporter),
        compiled: Mutex::new(VecDeque::new()),
        suite: run.suite.name.clone(),
        calls: 0,
        packages: Vec::new(),
    };
    if let Some(remote) = run.remote
        && !try_remote(run, &shared, binary, extra, remote).await
    {
        return Ok(crate::exec::shutdown::requested());
    }
    run_binary(run, &shared, binary, converter, extra).await
}

/// Runs the compiled binaries on the cluster as each compile call ends, and those the
/// cluster failed to run here, one at a time, meanwhile; returns the signal that stopped it.
async fn run_remotely(
    run: &SuiteRun<'_>,
    shared: &Shared<'_>,
    messages: &mut UnboundedReceiver<CompileMessage>,
    batches: &[CompileBatch],
    converter: Converter<'_>,
    remote: &RemoteExecutor,
) -> Result<Option<i32>, SpawnError> {
    let (local, mut fallbacks) = unbounded_channel::<&TestBinary>();
    let sending = async move {
        let mut inflight = FuturesUnordered::new();
        let mut ended = Ok(None);
        for batch in batches {
            let next = loop {
                tokio::select! {
                    next = shared.next_compiled(messages) => break next,
                    Some(done) = inflight.next(), if !inflight.is_empty() => {
                        if let Err(e) = done { ended = Err(e); }
                    }
                }
            };
            let compiled = match next {
                None => break,
                Some((Err(e), _)) => {
                    ended = Err(e);
                    break;
                }
                Some((Ok(Outcome::Interrupted(sig)), started)) => {
                    remove_partial_outputs(batch, started);
                    ended = Ok(Some(sig));
                    break;
                }
                Some((Ok(outcome), started)) => (outcome, started),
            };
            for binary in &batch.binaries {
                let local = local.clone();
                inflight.push(async move {
                    let (outcome, started) = compiled;
                    let built = outcome == Outcome::Succeeded
                        || confirm_built(run, binary, started).await?;
                    if !built {
                        shared.with(|r| r.build_failed(&binary.package.import_path));
                        return Ok(());
                    }
                    let extra = run.args_of(&binary.package.import_path);
                    if try_remote(run, shared, binary, extra, remote).await {
                        let _ = local.send(binary);
                    }
                    Ok(())
                });
            }
        }
        drop(local);
        while let Some(done) = inflight.next().await {
            if let Err(e) = done {
                ended = Err(e);
            }
        }
        ended
    };
    let running_here = async {
        while let Some(binary) = fallbacks.recv().await {
            let extra = run.args_of(&binary.package.import_path);
            if let Some(sig) = run_binary(run, shared, binary, converter, extra).await? {
                return Ok(Some(sig));
            }
        }
        Ok(None)
    };
    let (sent, ran) = tokio::join!(sending, running_here);
    Ok(sent?.or(ran?).or_else(crate::exec::shutdown::requested))
}

/// Runs `binary` on the cluster and reports it; true when it must run here instead (the
/// cluster failed, said so in a `gob-remote-fallback` event, and the run is not strict). A
/// stop request abandons the action.
async fn try_remote(
    run: &SuiteRun<'_>,
    shared: &Shared<'_>,
    binary: &TestBinary,
    extra: &[String],
    remote: &RemoteExecutor,
) -> bool {
    let package = &binary.package.import_path;
    let result = tokio::select! {
        result = remote.run(run, binary, extra) => result,
        _ = crate::exec::shutdown::stopped() => return false,
    };
    let suite = run.suite.name.clone();
    match result {
        Ok(finished) => {
            shared.with(|r| super::remote::report(r, &suite, package, &finished));
            false
        }
        Err(failure) if remote.strict() => {
            shared.with(|r| {
                r.gob(GobEvent::RunStart {
                    suite,
                    package: package.clone(),
                });
                r.abandoned(package, &format!("remote execution failed: {failure}"), 0.0);
            });
            false
        }
        Err(failure) => {
            remote.fell_back();
            shared.with(|r| {
                r.gob(GobEvent::RemoteFallback {
                    suite,
                    package: package.clone(),
                    reason: failure.message,
                })
            });
            true
        }
    }
}

async fn run_binary(
    run: &SuiteRun<'_>,
    shared: &Shared<'_>,
    binary: &TestBinary,
    converter: Converter<'_>,
    extra: &[String],
) -> Result<Option<i32>, SpawnError> {
    let package = &binary.package.import_path;
    shared.with(|r| {
        r.gob(GobEvent::RunStart {
            suite: run.suite.name.clone(),
            package: package.clone(),
        })
    });
    let args: Vec<String> = run.user_args.iter().chain(extra).cloned().collect();
    let test2json = match converter {
        Converter::Go(path) => path,
        Converter::Native => "",
    };
    let planned = plan_run(run.suite, binary, test2json, &args, run.ctx);
    let deadline = planned.timeout.map(kill_after);
    let on_line = |line: &str| shared.with(|r| feed_line(r, line));
    let clock = std::time::Instant::now();
    let tick = || shared.with(|r| r.tick());
    let outcome = match converter {
        Converter::Go(_) => {
            let running = run_converted(&planned.binary, &planned.converter, on_line, deadline);
            ticking(running, tick).await?
        }
        Converter::Native => {
            let running = run_converting(&planned.binary, package, on_line, deadline);
            ticking(running, tick).await?
        }
    };
    let elapsed = clock.elapsed().as_secs_f64();
    let why = match outcome {
        Outcome::Interrupted(sig) => {
            // Cut short: its time says nothing about a full run.
            shared.with(|r| r.abandoned(package, "interrupted", 0.0));
            return Ok(Some(sig));
        }
        Outcome::TimedOut => {
            let limit = planned.timeout.map(go_duration).unwrap_or_default();
            format!("timed out: still running past the {limit} timeout, stopped by gob")
        }
        Outcome::Signaled(sig) => format!("killed by signal {sig}"),
        Outcome::Failed(code) => format!("exit status {code}"),
        Outcome::Succeeded => {
            shared.with(|r| r.exited_ok(package, elapsed));
            return Ok(None);
        }
    };
    shared.with(|r| r.abandoned(package, &why, elapsed));
    Ok(None)
}
