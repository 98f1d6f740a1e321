//! The one place gob runs planned commands as child processes.
//!
//! Each child gets its own process group, so a signal meant for the child's whole tree (the
//! go command and the compilers it starts, a test binary and its helpers) reaches all of it
//! and nothing else. Because the terminal's Ctrl-C then reaches only gob, gob stops the
//! groups itself ([`shutdown`]); a deadline first asks the child for its goroutine stacks
//! (SIGQUIT, as Go test binaries print them), then stops it the same way. Once a child exited,
//! whatever it left in its group is stopped too, so no process of a run outlives it and no
//! leaked pipe keeps gob waiting.

pub mod archive;
mod group;
mod lines;
pub mod lock;
pub mod publish;
pub mod service;
pub mod shutdown;

use std::future::Future;
use std::pin::Pin;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::BufReader;
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::sync::watch;

use crate::plan::GoCommand;
use group::Group;
use lines::LossyLines;
use shutdown::StopState;

/// How long a test binary stopped for its timeout gets to print its goroutines (SIGQUIT)
/// before it is terminated.
const QUIT_WAIT: Duration = Duration::from_secs(3);

/// How long gob reads output that is still arriving after every process it knows of ended
/// (a process that left its group can hold a pipe open forever).
const LEAK_WAIT: Duration = Duration::from_secs(1);

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

/// A current-thread tokio runtime (gob's children and I/O need no more).
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Runs `command`, handing each stdout line to `on_line` (stderr is inherited); stops the
/// child's process group when `deadline` passes.
pub async fn run_lines(
    command: &GoCommand,
    on_line: impl FnMut(&str) + Send,
    deadline: Option<Duration>,
) -> Result<Outcome, SpawnError> {
    run(command, Output::Lines(on_line), deadline).await
}

/// Runs a test binary with its output (stdout and stderr, as `go test` merges them) piped
/// into `converter` (`go tool test2json`, reading stdin), handing each converter line to
/// `on_line`. The outcome is the binary's; `deadline` and stop requests stop the binary's
/// group, after which the converter reads to the end of its input and reports.
pub async fn run_converted(
    binary: &GoCommand,
    converter: &GoCommand,
    on_line: impl FnMut(&str) + Send,
    deadline: Option<Duration>,
) -> Result<Outcome, SpawnError> {
    let mut rx = shutdown::subscribe();
    if let Some(sig) = shutdown::requested() {
        return Ok(Outcome::Interrupted(sig));
    }
    let (reader, writer, stderr) = merged_output(binary)?;
    let mut converter_child = spawn(
        converter,
        Stdio::from(reader),
        Stdio::piped(),
        Stdio::inherit(),
    )?;
    let converter_group = Group::of(&converter_child);
    let mut binary_child = match spawn(
        binary,
        Stdio::null(),
        Stdio::from(writer),
        Stdio::from(stderr),
    ) {
        Ok(child) => child,
        Err(e) => {
            group::kill(&mut converter_child, converter_group).await;
            return Err(e);
        }
    };
    let mut lines = OutputLines::new(converter_child.stdout.take(), None, Some(on_line));
    let outcome = lines
        .alongside(finish(&mut binary_child, deadline, &mut rx))
        .await;
    // The binary's group is gone, so the converter's input has ended: it reports and exits.
    let converted = lines
        .alongside(tokio::time::timeout(LEAK_WAIT, converter_child.wait()))
        .await;
    if converted.is_err() {
        group::kill(&mut converter_child, converter_group).await;
    }
    lines.drain().await;
    Ok(outcome)
}

/// Like [`run_converted`] without a converter process: the binary's output (stdout and
/// stderr) is converted in process by gob's own test2json ([`crate::go::test2json`]) for
/// `package`, each event line handed to `on_line`. What `--from-archive` runs use: no go.
pub async fn run_converting(
    binary: &GoCommand,
    package: &str,
    mut on_line: impl FnMut(&str) + Send,
    deadline: Option<Duration>,
) -> Result<Outcome, SpawnError> {
    use tokio::io::AsyncReadExt;
    let mut rx = shutdown::subscribe();
    if let Some(sig) = shutdown::requested() {
        return Ok(Outcome::Interrupted(sig));
    }
    let (reader, writer, stderr) = merged_output(binary)?;
    let mut receiver =
        tokio::net::unix::pipe::Receiver::from_owned_fd(std::os::fd::OwnedFd::from(reader))
            .map_err(|source| spawn_error(binary, source))?;
    let mut child = spawn(
        binary,
        Stdio::null(),
        Stdio::from(writer),
        Stdio::from(stderr),
    )?;
    let mut converter =
        crate::go::test2json::Converter::new(package, Box::new(crate::base::events::now));
    let mut buffer = vec![0; 64 * 1024];
    let mut open = true;
    let finished = finish(&mut child, deadline, &mut rx);
    tokio::pin!(finished);
    let outcome = loop {
        tokio::select! {
            outcome = &mut finished => break outcome,
            read = receiver.read(&mut buffer), if open => match read {
                Ok(n) if n > 0 => converter.write(&buffer[..n]).iter().for_each(|l| on_line(l)),
                _ => open = false,
            },
        }
    };
    // The binary's group is gone: read what is left, but not from a process that escaped it.
    let rest = async {
        while open {
            match receiver.read(&mut buffer).await {
                Ok(n) if n > 0 => converter
                    .write(&buffer[..n])
                    .iter()
                    .for_each(|l| on_line(l)),
                _ => open = false,
            }
        }
    };
    let _ = tokio::time::timeout(LEAK_WAIT, rest).await;
    converter.close().iter().for_each(|l| on_line(l));
    Ok(outcome)
}

/// Runs `command`, handing each line of its stdout and stderr, as they come, to `on_line`
/// (go build's and an integration compile's errors, for reporters to show and annotate).
pub async fn run_merged(
    command: &GoCommand,
    on_line: impl FnMut(&str) + Send,
) -> Result<Outcome, SpawnError> {
    run(command, Output::Merged(on_line), None).await
}

/// Where a child's output goes.
enum Output<F> {
    /// Stdout lines to a callback; stderr to gob's.
    Lines(F),
    /// Stdout and stderr lines to a callback.
    Merged(F),
}

async fn run<F: FnMut(&str) + Send>(
    command: &GoCommand,
    output: Output<F>,
    deadline: Option<Duration>,
) -> Result<Outcome, SpawnError> {
    let mut rx = shutdown::subscribe();
    if let Some(sig) = shutdown::requested() {
        return Ok(Outcome::Interrupted(sig));
    }
    let (stderr_mode, on_line) = match output {
        Output::Lines(f) => (Stdio::inherit(), f),
        Output::Merged(f) => (Stdio::piped(), f),
    };
    let mut child = spawn(command, Stdio::null(), Stdio::piped(), stderr_mode)?;
    let mut lines = OutputLines::new(child.stdout.take(), child.stderr.take(), Some(on_line));
    let outcome = lines.alongside(finish(&mut child, deadline, &mut rx)).await;
    lines.drain().await;
    Ok(outcome)
}

/// Waits for `child` to exit, or stops it on a stop request or at the deadline; then clears
/// its group. Returns when nothing of the group is left.
async fn finish(
    child: &mut Child,
    deadline: Option<Duration>,
    rx: &mut watch::Receiver<StopState>,
) -> Outcome {
    let group = Group::of(child);
    let expired = async {
        match deadline {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let stopped = tokio::select! {
        status = child.wait() => {
            group::clear_leftovers(group, rx).await;
            return outcome_of(status);
        }
        sig = shutdown::stop_requested(rx) => Outcome::Interrupted(sig),
        () = expired => Outcome::TimedOut,
    };
    if stopped == Outcome::TimedOut {
        group::quit(child, QUIT_WAIT).await;
    }
    group::stop(child, group, rx).await;
    stopped
}

/// Spawns `command` as the leader of a new process group.
fn spawn(
    command: &GoCommand,
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
) -> Result<Child, SpawnError> {
    // The Command (and the pipe ends it holds) is dropped on return, so only the child keeps
    // them open.
    Command::new(&command.program)
        .args(&command.args)
        .envs(&command.env)
        .current_dir(&command.dir)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .map_err(|source| spawn_error(command, source))
}

/// One pipe for a test binary's stdout and stderr, merged as `go test` merges them: the
/// read end, and a write end for each stream.
fn merged_output(
    binary: &GoCommand,
) -> Result<
    (
        std::io::PipeReader,
        std::io::PipeWriter,
        std::io::PipeWriter,
    ),
    SpawnError,
> {
    let (reader, writer) = std::io::pipe().map_err(|source| spawn_error(binary, source))?;
    let stderr = writer
        .try_clone()
        .map_err(|source| spawn_error(binary, source))?;
    Ok((reader, writer, stderr))
}

fn spawn_error(command: &GoCommand, source: std::io::Error) -> SpawnError {
    SpawnError {
        program: command.program.clone(),
        dir: command.dir.display().to_string(),
        source,
    }
}

/// Copies a child's output lines (stdout, and stderr when piped) to a callback while other
/// futures run.
struct OutputLines<'a> {
    lines: Option<Pin<Box<dyn Future<Output = ()> + Send + 'a>>>,
}

impl<'a> OutputLines<'a> {
    fn new<F: FnMut(&str) + Send + 'a>(
        stdout: Option<ChildStdout>,
        stderr: Option<ChildStderr>,
        on_line: Option<F>,
    ) -> OutputLines<'a> {
        let Some(mut on_line) = on_line else {
            return OutputLines { lines: None };
        };
        let future = async move {
            let mut out = stdout.map(|s| LossyLines::new(BufReader::new(s)));
            let mut err = stderr.map(|s| LossyLines::new(BufReader::new(s)));
            while out.is_some() || err.is_some() {
                let line = tokio::select! {
                    line = next_line(&mut out) => line,
                    line = next_line(&mut err) => line,
                };
                if let Some(line) = line {
                    on_line(&line);
                }
            }
        };
        OutputLines {
            lines: Some(Box::pin(future)),
        }
    }

    /// Runs `future` to its end, copying lines meanwhile (a child blocked on a full pipe
    /// could not exit otherwise).
    async fn alongside<T>(&mut self, future: impl Future<Output = T>) -> T {
        tokio::pin!(future);
        loop {
            match &mut self.lines {
                Some(lines) => tokio::select! {
                    value = &mut future => return value,
                    () = lines.as_mut() => self.lines = None,
                },
                None => return future.await,
            }
        }
    }

    /// Reads what is left, but not forever: a process that escaped its group may hold the
    /// pipe open.
    async fn drain(self) {
        if let Some(lines) = self.lines {
            let _ = tokio::time::timeout(LEAK_WAIT, lines).await;
        }
    }
}

/// The next line of `stream`; at its end (or on a read error) the stream is set to `None`
/// and this returns `None`. Pending forever once `None`, so a select takes the other stream.
async fn next_line<R: tokio::io::AsyncBufRead + Unpin>(
    stream: &mut Option<LossyLines<R>>,
) -> Option<String> {
    let Some(lines) = stream else {
        return std::future::pending().await;
    };
    match lines.next_line().await {
        Ok(Some(line)) => Some(line),
        Ok(None) | Err(_) => {
            *stream = None;
            None
        }
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
