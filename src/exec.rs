//! The one place gob runs planned commands as child processes.
//!
//! Each child gets its own process group, so a signal meant for the child's whole tree (the
//! go command and the compilers it starts) reaches all of it and nothing else. Because the
//! terminal's Ctrl-C then reaches only gob, gob forwards SIGINT/SIGTERM to the group itself.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::signal::unix::{SignalKind, signal};

use crate::plan::GoCommand;

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
    run(command, None).await
}

/// Like [`run_inherited`], but prints only the stdout lines `keep` accepts.
pub async fn run_filtered(
    command: &GoCommand,
    keep: fn(&str) -> bool,
) -> Result<Outcome, SpawnError> {
    run(command, Some(keep)).await
}

async fn run(command: &GoCommand, keep: Option<fn(&str) -> bool>) -> Result<Outcome, SpawnError> {
    let mut sigint = signal(SignalKind::interrupt()).ok();
    let mut sigterm = signal(SignalKind::terminate()).ok();
    let mut child = Command::new(&command.program)
        .args(&command.args)
        .envs(&command.env)
        .current_dir(&command.dir)
        .stdin(Stdio::null())
        .stdout(if keep.is_some() {
            Stdio::piped()
        } else {
            Stdio::inherit()
        })
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
        if let (Some(out), Some(keep)) = (stdout, keep) {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if keep(&line) {
                    println!("{line}");
                }
            }
        }
    };
    let received = tokio::select! {
        (status, ()) = async { tokio::join!(child.wait(), copy) } => return Ok(outcome_of(status)),
        _ = recv(&mut sigint) => libc::SIGINT,
        _ = recv(&mut sigterm) => libc::SIGTERM,
    };
    if let Some(pid) = pid {
        // SAFETY: kill(2) on the child's own process group, which gob created.
        unsafe {
            libc::kill(-(pid as i32), libc::SIGTERM);
        }
    }
    let _ = child.wait().await;
    Ok(Outcome::Interrupted(received))
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
