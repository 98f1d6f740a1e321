//! Integration suites: compile every test binary in one go call, run them one at a time.
//!
//! The compile ([`super::compile`]) runs in a background task; each binary runs as soon as go
//! has linked it and the one before has finished, so the first tests start while go still
//! compiles the rest. The task's messages (call started, a line of go's output, a binary
//! ready, a package that did not build, call ended) reach the reporter while binaries run.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use futures_util::stream::{FuturesUnordered, StreamExt};

use super::Events;
use super::compile::{CompileMessage, compile};
use super::remote::RemoteExecutor;
use super::{Converter, RunEnd, SuiteRun, feed_line, ticking};
use crate::base::events::GobEvent;
use crate::exec::{Outcome, SpawnError, run_converted, run_converting};
use crate::go::duration::go_duration;
use crate::plan::order::first_to_start;
use crate::plan::remote::kill_after;
use crate::plan::split::filter_args;
use crate::plan::test::{IntegCompile, TestBinary, plan_run};

/// The reporter, shared between the binary being run and the compile messages arriving
/// meanwhile; never locked across an await.
struct Shared<'r> {
    reporter: Mutex<&'r mut dyn Events>,
    /// Binaries ready and not yet taken.
    ready: Mutex<VecDeque<TestBinary>>,
    /// Every binary the compile made, in order.
    built: Mutex<Vec<TestBinary>>,
    /// Compile calls started.
    calls: Mutex<usize>,
    suite: String,
}

/// Locks `mutex`, whether or not a panic poisoned it.
fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl<'r> Shared<'r> {
    fn new(suite: &str, reporter: &'r mut dyn Events) -> Self {
        Shared {
            reporter: Mutex::new(reporter),
            ready: Mutex::new(VecDeque::new()),
            built: Mutex::new(Vec::new()),
            calls: Mutex::new(0),
            suite: suite.to_string(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut dyn Events) -> T) -> T {
        f(&mut **locked(&self.reporter))
    }

    fn handle(&self, message: CompileMessage) {
        let suite = self.suite.clone();
        match message {
            CompileMessage::Started { call, packages } => {
                *locked(&self.calls) = call;
                self.with(|r| {
                    r.gob(GobEvent::CompileStart {
                        suite,
                        call,
                        calls: call,
                        packages,
                    })
                })
            }
            CompileMessage::Line(line) => self.with(|r| r.output_line(&line)),
            CompileMessage::Ready(binary) => {
                locked(&self.built).push(binary.clone());
                locked(&self.ready).push_back(binary);
            }
            CompileMessage::Failed(package) => self.with(|r| r.build_failed(&package)),
            CompileMessage::Ended {
                call,
                ok,
                elapsed,
                linked,
            } => self.with(|r| {
                r.gob(GobEvent::CompileEnd {
                    suite,
                    call,
                    calls: call,
                    ok,
                    elapsed,
                    linked,
                })
            }),
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

    /// Every ready binary not taken yet.
    fn take_ready(&self) -> Vec<TestBinary> {
        locked(&self.ready).drain(..).collect()
    }

    /// The next ready binary, handling messages until one arrives; `None` once the compile
    /// has ended and every binary was taken.
    async fn next_ready(
        &self,
        messages: &mut UnboundedReceiver<CompileMessage>,
    ) -> Option<TestBinary> {
        loop {
            if let Some(binary) = locked(&self.ready).pop_front() {
                return Some(binary);
            }
            self.handle(messages.recv().await?);
        }
    }
}

/// Runs an integration suite compiled by `compile`; `converter` turns the binaries' output
/// into events.
pub async fn run(
    run: &SuiteRun<'_>,
    plan: IntegCompile,
    converter: Converter<'_>,
    reporter: &mut dyn Events,
) -> Result<RunEnd, SpawnError> {
    let shared = Shared::new(&run.suite.name, reporter);
    let (sender, mut messages) = unbounded_channel();
    let compiler = tokio::spawn(compile(plan, sender));
    let running = match run.remote {
        Some(remote) => run_remotely(run, &shared, &mut messages, converter, remote).await,
        None => run_locally(run, &shared, &mut messages, converter).await,
    };
    let stopped = match running {
        Ok(None) => compiler.await.unwrap_or(Ok(None)),
        stopped => {
            compiler.abort();
            stopped
        }
    }?;
    let compile_calls = *locked(&shared.calls);
    Ok(RunEnd {
        interrupted: stopped,
        compile_calls,
        binaries: std::mem::take(&mut *locked(&shared.built)),
    })
}

/// Runs the binaries one at a time as they become ready; returns the signal that stopped it.
async fn run_locally(
    run: &SuiteRun<'_>,
    shared: &Shared<'_>,
    messages: &mut UnboundedReceiver<CompileMessage>,
    converter: Converter<'_>,
) -> Result<Option<i32>, SpawnError> {
    while let Some(binary) = shared.next_ready(messages).await {
        let extra = run.args_of(&binary.package.import_path);
        let running = run_binary(run, shared, &binary, converter, extra, false);
        if let Some(sig) = shared.pumping(messages, running).await? {
            return Ok(Some(sig));
        }
    }
    Ok(None)
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
    let shared = Shared::new(&run.suite.name, reporter);
    if let Some(remote) = run.remote
        && !try_remote(run, &shared, binary, extra, remote).await
    {
        return Ok(crate::exec::shutdown::requested());
    }
    run_binary(run, &shared, binary, converter, extra, false).await
}

/// Sends the binaries to the cluster as they become ready, as many at once as it runs, the
/// longest by history first among those ready ([`crate::plan::order`]); runs those the
/// cluster failed to run here, one at a time, meanwhile; returns the signal that stopped it.
async fn run_remotely(
    run: &SuiteRun<'_>,
    shared: &Shared<'_>,
    messages: &mut UnboundedReceiver<CompileMessage>,
    converter: Converter<'_>,
    remote: &RemoteExecutor,
) -> Result<Option<i32>, SpawnError> {
    let (local, mut fallbacks) = unbounded_channel::<Part>();
    let sending = async move {
        let mut inflight = FuturesUnordered::new();
        let mut pending: Vec<Part> = Vec::new();
        let mut compiling = true;
        loop {
            while inflight.len() < remote.capacity()
                && let Some(first) = first_to_start(&pending, |p: &Part| (&p.name, p.estimate))
            {
                let part = pending.swap_remove(first);
                let local = local.clone();
                inflight.push(async move {
                    if try_remote(run, shared, &part.binary, &part.extra, remote).await {
                        let _ = local.send(part);
                    }
                });
            }
            if !compiling && pending.is_empty() && inflight.is_empty() {
                break;
            }
            tokio::select! {
                next = shared.next_ready(messages), if compiling => match next {
                    Some(binary) => {
                        for binary in std::iter::once(binary).chain(shared.take_ready()) {
                            pending.extend(parts_of(run, shared, binary));
                        }
                    }
                    None => compiling = false,
                },
                Some(()) = inflight.next(), if !inflight.is_empty() => {}
            }
        }
        drop(local);
    };
    let running_here = async {
        while let Some(part) = fallbacks.recv().await {
            let ran = run_binary(
                run,
                shared,
                &part.binary,
                converter,
                &part.extra,
                part.split,
            );
            if let Some(sig) = ran.await? {
                return Ok(Some(sig));
            }
        }
        Ok(None)
    };
    let ((), ran) = tokio::join!(sending, running_here);
    Ok(ran?.or_else(crate::exec::shutdown::requested))
}

/// One action of a remote run: a binary with its arguments, or one group of a binary split by
/// test ([`crate::plan::split`]).
struct Part {
    binary: TestBinary,
    /// Test binary arguments after the usual ones (a group's filter, `--failed`'s).
    extra: Vec<String>,
    /// `package`, or `package#N` for a group.
    name: String,
    /// Seconds by history.
    estimate: Option<f64>,
    /// One of several parts of its package.
    split: bool,
}

/// The parts `binary` runs as: one per group when its package is split and has no
/// arguments of its own (the reporter then merges their results), else the binary whole.
fn parts_of(run: &SuiteRun<'_>, shared: &Shared<'_>, binary: TestBinary) -> Vec<Part> {
    let package = binary.package.import_path.clone();
    let own = run.args_of(&package);
    let Some(groups) = run.parts.get(&package).filter(|_| own.is_empty()) else {
        return vec![Part {
            estimate: run.recorded.get(&package).copied(),
            extra: own.to_vec(),
            name: package,
            binary,
            split: false,
        }];
    };
    shared.with(|r| r.expect_parts(&package, groups.len()));
    (0..groups.len())
        .map(|g| Part {
            binary: binary.clone(),
            extra: filter_args(groups, &[g]),
            name: format!("{package}#{}", g + 1),
            estimate: Some(groups[g].estimate),
            split: true,
        })
        .collect()
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

/// Runs `binary` here with `extra` arguments and reports it; returns the signal that
/// stopped it. A part of a split package (`buffered`) is reported whole when it ends, so its
/// events never interleave with another part's.
async fn run_binary(
    run: &SuiteRun<'_>,
    shared: &Shared<'_>,
    binary: &TestBinary,
    converter: Converter<'_>,
    extra: &[String],
    buffered: bool,
) -> Result<Option<i32>, SpawnError> {
    let package = &binary.package.import_path;
    let run_start = || GobEvent::RunStart {
        suite: run.suite.name.clone(),
        package: package.clone(),
    };
    if !buffered {
        shared.with(|r| r.gob(run_start()));
    }
    let args: Vec<String> = run.user_args.iter().chain(extra).cloned().collect();
    let test2json = match converter {
        Converter::Go(path) => path,
        Converter::Native => "",
    };
    let profile = run.profile(Some(package)).map(|p| p.display().to_string());
    let planned = plan_run(
        run.suite,
        binary,
        test2json,
        &args,
        run.ctx,
        profile.as_deref(),
    );
    let deadline = planned.timeout.map(kill_after);
    let held = Mutex::new(Vec::new());
    let on_line = |line: &str| match buffered {
        true => locked(&held).push(line.to_string()),
        false => shared.with(|r| feed_line(r, line)),
    };
    let clock = std::time::Instant::now();
    let tick = || shared.with(|r| r.tick());
    let started = match converter {
        Converter::Go(_) => {
            let running = run_converted(&planned.binary, &planned.converter, on_line, deadline);
            ticking(running, tick).await
        }
        Converter::Native => {
            let running = run_converting(&planned.binary, package, on_line, deadline);
            ticking(running, tick).await
        }
    };
    let elapsed = clock.elapsed().as_secs_f64();
    let (end, stopped) = match started {
        Ok(outcome) => ended(outcome, elapsed, planned.timeout),
        // A binary that cannot start (built for another machine, not executable, gone) is
        // its package's failure; the others still run.
        Err(error) if error.program == planned.binary.program => {
            let why = format!("cannot start the test binary: {}", error.source);
            (Err((why, 0.0)), None)
        }
        Err(error) => return Err(error),
    };
    let lines = std::mem::take(&mut *locked(&held));
    shared.with(|r| {
        if buffered {
            r.gob(run_start());
        }
        for line in &lines {
            feed_line(r, line);
        }
        match end {
            Ok(elapsed) => r.exited_ok(package, elapsed),
            Err((why, elapsed)) => r.abandoned(package, &why, elapsed),
        }
    });
    Ok(stopped)
}

/// How a test binary's run ends for the reporter (`Ok`: exited 0 after these seconds; `Err`:
/// why it stopped without a result, and after how long), and the signal that stopped it.
fn ended(
    outcome: Outcome,
    elapsed: f64,
    timeout: Option<std::time::Duration>,
) -> (Result<f64, (String, f64)>, Option<i32>) {
    let why = match outcome {
        // Cut short: its time says nothing about a full run.
        Outcome::Interrupted(sig) => return (Err(("interrupted".into(), 0.0)), Some(sig)),
        Outcome::TimedOut => {
            let limit = timeout.map(go_duration).unwrap_or_default();
            format!("timed out: still running past the {limit} timeout, stopped by gob")
        }
        Outcome::Signaled(sig) => format!("killed by signal {sig}"),
        Outcome::Failed(code) => format!("exit status {code}"),
        Outcome::Succeeded => return (Ok(elapsed), None),
    };
    (Err((why, elapsed)), None)
}
