//! Long-running children: the services a suite or a task needs (a database, a server). Each
//! runs in its own process group with stdout and stderr merged into one pipe whose last lines
//! are kept (a service that fails shows why), and is stopped as a test binary is: SIGTERM to
//! its group, the grace period, SIGKILL. The kernel also sends it SIGTERM should gob die
//! without stopping it (`PR_SET_PDEATHSIG`).

use std::collections::VecDeque;
use std::io::BufRead;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::process::{Child, Command};

use super::group::{self, Group};
use super::{Outcome, SpawnError, outcome_of, shutdown, spawn_error};
use crate::plan::GoCommand;

/// How many of a service's last output lines are kept.
const KEPT_LINES: usize = 40;

/// A running service.
pub struct Service {
    child: Child,
    group: Group,
    lines: Arc<Mutex<VecDeque<String>>>,
}

impl Service {
    /// Starts `command`.
    pub fn start(command: &GoCommand) -> Result<Service, SpawnError> {
        let (reader, writer) = std::io::pipe().map_err(|e| spawn_error(command, e))?;
        let stderr = writer.try_clone().map_err(|e| spawn_error(command, e))?;
        let mut spawning = Command::new(&command.program);
        spawning
            .args(&command.args)
            .envs(&command.env)
            .current_dir(&command.dir)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(stderr)
            .process_group(0);
        // SAFETY: prctl(2) only sets this child's parent-death signal, between fork and exec.
        unsafe {
            spawning.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let child = spawning.spawn().map_err(|e| spawn_error(command, e))?;
        let group = Group::of(&child);
        let lines = Arc::new(Mutex::new(VecDeque::new()));
        let kept = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(reader)
                .split(b'\n')
                .map_while(Result::ok)
            {
                let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
                if kept.len() == KEPT_LINES {
                    kept.pop_front();
                }
                kept.push_back(String::from_utf8_lossy(&line).into_owned());
            }
        });
        Ok(Service {
            child,
            group,
            lines,
        })
    }

    /// How it ended, if it has (a service should not, while it is needed).
    pub fn exited(&mut self) -> Option<Outcome> {
        self.child
            .try_wait()
            .ok()
            .flatten()
            .map(|s| outcome_of(Ok(s)))
    }

    /// Its last output lines.
    pub fn last_lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Stops it and everything in its group: SIGTERM, the grace period, SIGKILL.
    pub async fn stop(mut self) {
        let mut rx = shutdown::subscribe();
        if self.child.try_wait().ok().flatten().is_some() {
            group::clear_leftovers(self.group, &mut rx).await;
            return;
        }
        group::stop(&mut self.child, self.group, &mut rx).await;
    }
}
