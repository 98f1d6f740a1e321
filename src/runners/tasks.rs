//! Running tasks: each task once, after its deps, tasks without an order between them at the
//! same time (at most `jobs` at once, the CPU budget), each in its own process group through
//! [`crate::exec`]. A task with `sources` and `outputs` is skipped while both are as after
//! its last success ([`crate::plan::tasks::freshness`]); its record is written when it
//! succeeds. A failing task stops what depends on it; the others still run. A service among
//! the deps is started and made ready ([`super::services`]) and kept until the caller stops
//! it. Every step is an event; nothing is printed here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

use super::Events;
use super::services::{self, Started};
use crate::base::events::GobEvent;
use crate::exec::{Outcome, run_merged};
use crate::manifest::TaskSpec;
use crate::plan::tasks::{Current, Freshness, Record, command, freshness, is_checked};
use crate::workspace::taskfiles::matched;

/// What running tasks needs.
pub struct TaskRun<'a> {
    /// The tasks, deps first ([`crate::plan::tasks::closure`]).
    pub tasks: Vec<&'a TaskSpec>,
    /// The workspace dir (globs and dirs are relative to it).
    pub workspace: &'a Path,
    /// Every task's base environment (`GOMAXPROCS` from the budget).
    pub base_env: &'a BTreeMap<String, String>,
    /// Fills in version stamps.
    pub expand: &'a (dyn Fn(&str) -> String + Sync),
    /// At most this many tasks at once.
    pub jobs: usize,
    /// Run even what is up to date.
    pub force: bool,
    /// Where records (`<name>.json`) and service env files go.
    pub state: PathBuf,
}

/// How running tasks ended.
#[derive(Default)]
pub struct TasksEnd {
    /// Tasks that failed, and those not run because a dep failed.
    pub failed: Vec<String>,
    /// The signal that stopped the run.
    pub interrupted: Option<i32>,
    /// Services started on the way, still running.
    pub services: Started,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Running,
    Done,
    Failed,
}

/// Runs `run.tasks`.
pub async fn run(run: &TaskRun<'_>, events: &mut dyn Events) -> TasksEnd {
    let events = Mutex::new(events);
    let emit = |event: GobEvent| events.lock().unwrap_or_else(|e| e.into_inner()).gob(event);
    let mut state: BTreeMap<&str, State> = run
        .tasks
        .iter()
        .map(|t| (t.name.as_str(), State::Pending))
        .collect();
    let mut end = TasksEnd::default();
    let mut running = FuturesUnordered::new();
    loop {
        // Tasks whose deps failed are not run; tasks whose deps are done may start.
        for task in &run.tasks {
            if state[task.name.as_str()] != State::Pending {
                continue;
            }
            let dep_states: Vec<(&str, State)> = task
                .deps
                .iter()
                .map(|d| {
                    (
                        d.value.as_str(),
                        state.get(d.value.as_str()).copied().unwrap_or(State::Done),
                    )
                })
                .collect();
            if let Some((failed, _)) = dep_states.iter().find(|(_, s)| *s == State::Failed) {
                state.insert(&task.name, State::Failed);
                end.failed.push(task.name.clone());
                emit(GobEvent::TaskEnd {
                    task: task.name.clone(),
                    status: "not run".into(),
                    why: Some(format!("its dep {failed} failed")),
                    elapsed: 0.0,
                });
                continue;
            }
            let ready = dep_states.iter().all(|(_, s)| *s == State::Done);
            if !ready || running.len() >= run.jobs.max(1) || end.interrupted.is_some() {
                continue;
            }
            if task.service {
                // A service a task needs: started and ready before its dependents run.
                let place = services::Place {
                    workspace: run.workspace,
                    base_env: run.base_env,
                    expand: run.expand,
                    state: &run.state,
                };
                match services::start(&[task], &place, &emit).await {
                    Ok(started) => {
                        end.services.merge(started);
                        state.insert(&task.name, State::Done);
                    }
                    Err(failure) => {
                        state.insert(&task.name, State::Failed);
                        end.failed.push(task.name.clone());
                        end.interrupted = failure.interrupted;
                    }
                }
                continue;
            }
            state.insert(&task.name, State::Running);
            running.push(one(task, run, &emit));
        }
        let Some((name, ok, interrupted)) = running.next().await else {
            if state
                .values()
                .all(|s| matches!(s, State::Done | State::Failed))
            {
                break;
            }
            // Nothing runs and something is pending: only after an interruption.
            break;
        };
        state.insert(name, if ok { State::Done } else { State::Failed });
        if !ok {
            end.failed.push(name.to_string());
        }
        if interrupted.is_some() {
            end.interrupted = interrupted;
        }
    }
    end
}

/// A task's sources and outputs now (`None` for a task without both).
pub fn current(workspace: &Path, task: &TaskSpec) -> Option<Current> {
    is_checked(task).then(|| {
        let sources = matched(workspace, &task.sources);
        let outputs = matched(workspace, &task.outputs);
        Current {
            sources: sources.digest,
            outputs: outputs.digest,
            output_files: outputs.files.len(),
        }
    })
}

/// The record of a task's last success in `state`, if there is one.
pub fn record_of(state: &Path, task: &TaskSpec) -> Option<Record> {
    std::fs::read(state.join(format!("{}.json", task.name)))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

/// Runs one task unless it is up to date; (name, succeeded, the signal that stopped it).
async fn one<'t>(
    task: &'t TaskSpec,
    run: &TaskRun<'_>,
    emit: &(dyn Fn(GobEvent) + Sync),
) -> (&'t str, bool, Option<i32>) {
    let started = Instant::now();
    let record_path = run.state.join(format!("{}.json", task.name));
    let record = record_of(&run.state, task);
    let now = current(run.workspace, task);
    let why = match freshness(task, record.as_ref(), now.as_ref(), run.force) {
        Freshness::UpToDate => {
            emit(GobEvent::TaskEnd {
                task: task.name.clone(),
                status: "up to date".into(),
                why: Some("its sources and outputs are as after its last success".into()),
                elapsed: 0.0,
            });
            return (&task.name, true, None);
        }
        Freshness::Runs(why) => why,
    };
    emit(GobEvent::TaskStart {
        task: task.name.clone(),
        why,
    });
    let planned = command(task, run.workspace, run.base_env, run.expand);
    let on_line = |line: &str| {
        emit(GobEvent::TaskOutput {
            task: task.name.clone(),
            line: line.to_string(),
        })
    };
    let elapsed = || started.elapsed().as_secs_f64();
    let (ok, why, interrupted) = match run_merged(&planned, on_line).await {
        Ok(Outcome::Succeeded) => (true, None, None),
        Ok(Outcome::Failed(code)) => (false, Some(format!("exit status {code}")), None),
        Ok(Outcome::Signaled(sig)) => (false, Some(format!("killed by signal {sig}")), None),
        Ok(Outcome::Interrupted(sig)) => (false, Some("interrupted".to_string()), Some(sig)),
        Ok(Outcome::TimedOut) => (false, Some("timed out".to_string()), None),
        Err(error) => (false, Some(error.to_string()), None),
    };
    if ok && let Some(now) = current(run.workspace, task) {
        let record = Record {
            sources: now.sources,
            outputs: now.outputs,
        };
        if let Ok(bytes) = serde_json::to_vec(&record) {
            let _ = crate::base::paths::write_atomically(&record_path, &bytes);
        }
    } else if !ok {
        // A failed run may have changed the outputs: it must run again.
        let _ = std::fs::remove_file(&record_path);
    }
    emit(GobEvent::TaskEnd {
        task: task.name.clone(),
        status: if ok { "ran" } else { "failed" }.into(),
        why,
        elapsed: elapsed(),
    });
    (&task.name, ok, interrupted)
}
