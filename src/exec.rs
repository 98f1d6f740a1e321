//! The one place gob runs planned commands as child processes.
//!
//! Each child gets its own process group, so a signal meant for the child's whole tree (the
//! go command and the compilers it starts, a test binary and its helpers) reaches all of it
//! and nothing else. Because the terminal's Ctrl-C then reaches only gob, gob forwards
//! SIGINT/SIGTERM to the group itself. A deadline stops a child the same way.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::signal::unix::{SignalKind, signal};

use crate::plan::GoCommand;

/// How long a stopped child gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit status 0.
    Succeeded,
    /// Non-zero exit status.
    Failed(i32),
    /// Killed by a signal gob did not send.
    Signaled(i32),
    /// gob received this signal (SIGINT or SIGTERM) and stopped the child.
    Interrupted(i32),
    /// The deadline passed and gob stopped the child.
    TimedOut,
}

/// A child that could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start `{program}` in {dir}: {source}")]
pub struct SpawnError {
    /// The program.
    pub program: String,
    /// The working dir.
    pub dir: String,
    /// Why.
    pub source: std::io::Error,
}

/// Runs `command` with inherited stdio (go's output reaches the user unchanged) and waits.
pub async fn run_inherited(command: &GoCommand) -> Result<Outcome, SpawnError> {
    run(command, Output::<fn(&str)>::Inherit, None).await
}

/// Runs `command`, handing each stdout line to `on_line` (stderr is inherited); stops the
/// child's process group when `deadline` passes.
pub async fn run_lines(
    command: &GoCommand,
    on_line: impl FnMut(&str),
    deadline: Option<Duration>,
) -> Result<Outcome, SpawnError> {
    run(command, Output::Lines(on_line), deadline).await
}

/// Runs `command` with its output discarded; only the outcome matters.
pub async fn run_quiet(command: &GoCommand) -> Result<Outcome, SpawnError> {
    run(command, Output::<fn(&str)>::Discard, None).await
}

/// Runs `commands` with at most `limit` at once; outcomes in input order.
pub async fn run_parallel(
    commands: &[GoCommand],
    limit: usize,
) -> Result<Vec<Outcome>, SpawnError> {
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, command) in commands.iter().cloned().enumerate() {
        let semaphore = semaphore.clone();
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (index, run_inherited(&command).await)
        });
    }
    let mut outcomes: Vec<Option<Outcome>> = vec![None; commands.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((index, result)) = joined {
            outcomes[index] = Some(result?);
        }
    }
    // A task that panicked or was cancelled has no outcome: a failure, never a success.
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Failed(-1)))
        .collect())
}

/// Where a child's output goes.
enum Output<F> {
    /// Straight to gob's stdout and stderr.
    Inherit,
    /// Stdout lines to a callback; stderr to gob's.
    Lines(F),
    /// Nowhere.
    Discard,
}

async fn run<F: FnMut(&str)>(
    command: &GoCommand,
    output: Output<F>,
    deadline: Option<Duration>,
) -> Result<Outcome, SpawnError> {
    let (stdout_mode, stderr_mode) = match &output {
        Output::Inherit => (Stdio::inherit(), Stdio::inherit()),
        Output::Lines(_) => (Stdio::piped(), Stdio::inherit()),
        Output::Discard => (Stdio::null(), Stdio::null()),
    };
    let mut sigint = signal(SignalKind::interrupt()).ok();
    let mut sigterm = signal(SignalKind::terminate()).ok();
    let mut child = Command::new(&command.program)
        .args(&command.args)
        .envs(&command.env)
        .current_dir(&command.dir)
        .stdin(Stdio::null())
        .stdout(stdout_mode)
        .stderr(stderr_mode)
        .process_group(0)
        .spawn()
        .map_err(|source| SpawnError {
            program: command.program.clone(),
            dir: command.dir.display().to_string(),
            source,
        })?;
    let pid = child.id();
    let stdout = child.stdout.take();
    let copy = async move {
        if let (Some(out), Output::Lines(mut on_line)) = (stdout, output) {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                on_line(&line);
            }
        }
    };
    let expired = async {
        match deadline {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(copy);
    let stop = tokio::select! {
        (status, ()) = async { tokio::join!(child.wait(), &mut copy) } => return Ok(outcome_of(status)),
        _ = recv(&mut sigint) => Outcome::Interrupted(libc::SIGINT),
        _ = recv(&mut sigterm) => Outcome::Interrupted(libc::SIGTERM),
        _ = expired => Outcome::TimedOut,
    };
    signal_group(pid, libc::SIGTERM);
    if tokio::time::timeout(GRACE, child.wait()).await.is_err() {
        signal_group(pid, libc::SIGKILL);
        let _ = child.wait().await;
    }
    // Grandchildren may hold the pipe open: read what is left, but not forever.
    let _ = tokio::time::timeout(Duration::from_secs(1), copy).await;
    Ok(stop)
}

fn signal_group(pid: Option<u32>, sig: i32) {
    if let Some(pid) = pid {
        // SAFETY: kill(2) on the child's own process group, which gob created.
        unsafe {
            libc::kill(-(pid as i32), sig);
        }
    }
}

async fn recv(sig: &mut Option<tokio::signal::unix::Signal>) {
    match sig {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

fn outcome_of(status: std::io::Result<std::process::ExitStatus>) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) if s.success() => Outcome::Succeeded,
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => Outcome::Failed(code),
            (None, Some(sig)) => Outcome::Signaled(sig),
            (None, None) => Outcome::Failed(-1),
        },
        Err(_) => Outcome::Failed(-1),
    }
}
