//! Services: long-running tasks (`service = true`) started before what needs them (a suite's
//! tests, a dependent task) and stopped after it. Each is started in its own process group
//! with `GOB_ENV` naming a file it may write `KEY=VALUE` lines to (added to the environment of
//! what needs it, as nextest's setup scripts do); gob then polls its `ready` check (a TCP
//! connection, or a command that exits 0) until it passes or its timeout ends. A service that
//! exits while it is needed, or is not ready in time, fails what needs it, with its last
//! output lines.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::base::events::GobEvent;
use crate::exec::service::Service;
use crate::exec::{Outcome, run_merged, shutdown};
use crate::manifest::{ReadyCheck, TaskSpec};
use crate::plan::GoCommand;
use crate::plan::tasks::command;

/// How often a readiness check is tried.
const POLL: Duration = Duration::from_millis(100);

/// Where services run and what they get: the workspace (their dirs are relative to it),
/// the base environment, the stamps, and the dir of their `GOB_ENV` files.
pub struct Place<'a> {
    /// The workspace dir.
    pub workspace: &'a std::path::Path,
    /// Their base environment.
    pub base_env: &'a BTreeMap<String, String>,
    /// Fills in version stamps.
    pub expand: &'a (dyn Fn(&str) -> String + Sync),
    /// Where `<name>.env` files go.
    pub state: &'a std::path::Path,
}

/// Services running, and what they want added to the environment.
#[derive(Default)]
pub struct Started {
    services: Vec<(String, Service)>,
    /// `KEY=VALUE` lines the services wrote to `$GOB_ENV`.
    pub env: BTreeMap<String, String>,
}

impl Started {
    /// Takes `other`'s services and environment in.
    pub fn merge(&mut self, other: Started) {
        self.services.extend(other.services);
        self.env.extend(other.env);
    }

    /// The names of the services, in the order they started.
    pub fn names(&self) -> Vec<String> {
        self.services.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Whether a service ended while it was needed: its name and why, with its last lines.
    pub fn exited(&mut self) -> Option<(String, String)> {
        self.services.iter_mut().find_map(|(name, service)| {
            let outcome = service.exited()?;
            Some((name.clone(), ended(outcome, service)))
        })
    }

    /// Stops every service, the last started first.
    pub async fn stop(self, events: &mut dyn super::Events) {
        for (name, service) in self.services.into_iter().rev() {
            service.stop().await;
            events.gob(GobEvent::Service {
                task: name,
                state: "stopped".into(),
                why: None,
            });
        }
    }

    /// Stops every service quietly (a failure already said what matters).
    async fn stop_quietly(self) {
        for (_, service) in self.services.into_iter().rev() {
            service.stop().await;
        }
    }
}

/// A service that could not be made ready.
#[derive(Debug)]
pub struct ServiceFailure {
    /// The service.
    pub task: String,
    /// Why, with its last output lines.
    pub why: String,
    /// The signal that stopped gob meanwhile, if one did.
    pub interrupted: Option<i32>,
}

/// Starts `tasks` (services) one after another, each ready before the next starts; on a
/// failure the ones started are stopped again.
pub async fn start(
    tasks: &[&TaskSpec],
    run: &Place<'_>,
    emit: &(dyn Fn(GobEvent) + Sync),
) -> Result<Started, ServiceFailure> {
    let mut started = Started::default();
    for task in tasks {
        match start_one(task, run).await {
            Ok((service, env)) => {
                emit(GobEvent::Service {
                    task: task.name.clone(),
                    state: "ready".into(),
                    why: None,
                });
                started.services.push((task.name.clone(), service));
                started.env.extend(env);
            }
            Err(failure) => {
                emit(GobEvent::Service {
                    task: task.name.clone(),
                    state: "failed".into(),
                    why: Some(failure.why.clone()),
                });
                started.stop_quietly().await;
                return Err(failure);
            }
        }
    }
    Ok(started)
}

async fn start_one(
    task: &TaskSpec,
    run: &Place<'_>,
) -> Result<(Service, BTreeMap<String, String>), ServiceFailure> {
    let failure = |why: String, interrupted| ServiceFailure {
        task: task.name.clone(),
        why,
        interrupted,
    };
    let env_file = run.state.join(format!("{}.env", task.name));
    if let Some(dir) = env_file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    std::fs::write(&env_file, "")
        .map_err(|e| failure(format!("cannot write {}: {e}", env_file.display()), None))?;
    let mut planned = command(task, run.workspace, run.base_env, run.expand);
    planned
        .env
        .insert("GOB_ENV".into(), env_file.display().to_string());
    let mut service = Service::start(&planned).map_err(|e| failure(e.to_string(), None))?;
    let began = Instant::now();
    if let Some(ready) = &task.ready {
        loop {
            if let Some(outcome) = service.exited() {
                let why = ended(outcome, &service);
                return Err(failure(why, None));
            }
            if let Some(sig) = shutdown::requested() {
                service.stop().await;
                return Err(failure("interrupted".into(), Some(sig)));
            }
            if passes(&ready.check, &planned).await {
                break;
            }
            if began.elapsed() >= ready.timeout {
                let why = format!(
                    "not ready after {:.0}s ({}){}",
                    ready.timeout.as_secs_f64(),
                    describe(&ready.check),
                    last_lines(&service)
                );
                service.stop().await;
                return Err(failure(why, None));
            }
            tokio::time::sleep(POLL).await;
        }
    }
    let env = std::fs::read_to_string(&env_file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect();
    Ok((service, env))
}

/// One try of a readiness check.
async fn passes(check: &ReadyCheck, service: &GoCommand) -> bool {
    match check {
        ReadyCheck::Tcp(address) => {
            let connect = tokio::net::TcpStream::connect(address.as_str());
            matches!(
                tokio::time::timeout(Duration::from_secs(1), connect).await,
                Ok(Ok(_))
            )
        }
        ReadyCheck::Run(argv) => {
            let probe = GoCommand {
                program: argv[0].clone(),
                args: argv[1..].to_vec(),
                env: service.env.clone(),
                dir: service.dir.clone(),
            };
            matches!(run_merged(&probe, |_| {}).await, Ok(Outcome::Succeeded))
        }
    }
}

fn describe(check: &ReadyCheck) -> String {
    match check {
        ReadyCheck::Tcp(address) => format!("no connection to {address}"),
        ReadyCheck::Run(argv) => format!("`{}` did not succeed", shell_words::join(argv)),
    }
}

/// Why a service that ended ended, with its last lines.
fn ended(outcome: Outcome, service: &Service) -> String {
    let how = match outcome {
        Outcome::Failed(code) => format!("exit status {code}"),
        Outcome::Signaled(sig) => format!("killed by signal {sig}"),
        _ => "exit status 0".to_string(),
    };
    format!(
        "it exited while it was needed ({how}){}",
        last_lines(service)
    )
}

fn last_lines(service: &Service) -> String {
    let lines = service.last_lines();
    match lines.is_empty() {
        true => String::new(),
        false => format!("; its last output:\n    {}", lines.join("\n    ")),
    }
}
