//! The tasks a command runs first: `gob run`'s, `before` a build (`[build]` and each
//! binary's), before the suites of `gob test` and `gob check`; and services a suite needs.
//! Wires [`crate::runners::tasks`] to the manifest, the budget and the version stamps.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::base::state::TASKS_DIR;
use crate::commands::context::Context;
use crate::error::GobError;
use crate::manifest::{Manifest, TaskSpec};
use crate::plan::tasks::{closure, command, freshness};
use crate::report::{ReportOptions, Reporter};
use crate::runners::Events;
use crate::runners::tasks::{TaskRun, TasksEnd};
use crate::workspace::stamps::Stamps;

/// What running a manifest's tasks needs, read once.
pub struct Tasks<'m> {
    tasks: &'m [TaskSpec],
    workspace: PathBuf,
    state: PathBuf,
    base_env: BTreeMap<String, String>,
    stamps: Stamps,
    jobs: usize,
}

impl<'m> Tasks<'m> {
    /// The tasks of `manifest`, run with `ctx`'s budget.
    pub fn new(manifest: &'m Manifest, ctx: &Context) -> Tasks<'m> {
        Tasks {
            tasks: &manifest.tasks,
            workspace: manifest.workspace_dir.clone(),
            state: manifest.workspace_dir.join(TASKS_DIR),
            base_env: ctx.go.env.clone(),
            stamps: ctx.stamps(manifest),
            jobs: ctx.budget.cpus,
        }
    }

    /// The services an archive carries, run in its extraction (`workspace`), their state in
    /// `state`; their stamps were filled in when it was written.
    pub fn in_archive(
        tasks: &'m [TaskSpec],
        workspace: PathBuf,
        state: PathBuf,
        base_env: BTreeMap<String, String>,
    ) -> Tasks<'m> {
        Tasks {
            tasks,
            workspace,
            state,
            base_env,
            stamps: Stamps::default(),
            jobs: 1,
        }
    }

    /// Fills in version stamps and `{env.NAME}`.
    pub fn expand(&self, text: &str) -> String {
        let env = |name: &str| std::env::var(name).ok();
        crate::workspace::stamps::expand(text, &self.stamps, &env)
    }

    /// Refuses names that are no task, suggesting the closest.
    pub fn check_names(&self, names: &[String]) -> Result<(), GobError> {
        let known: Vec<&str> = self.tasks.iter().map(|t| t.name.as_str()).collect();
        match names.iter().find(|n| !known.contains(&n.as_str())) {
            None => Ok(()),
            Some(name) => Err(GobError::Usage(format!(
                "no task named `{name}` in the manifest{}",
                crate::manifest::closest(name, &known)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default()
            ))),
        }
    }

    /// The tasks `names` need, deps first.
    pub fn order(&self, names: &[&str]) -> Vec<&'m TaskSpec> {
        closure(self.tasks, names)
    }

    /// The tasks named by the services of a suite, in its order.
    pub fn services(&self, names: &[String]) -> Vec<&'m TaskSpec> {
        names
            .iter()
            .filter_map(|n| self.tasks.iter().find(|t| t.name == *n))
            .collect()
    }

    /// Runs `order` (deps first), `force` running even what is up to date.
    pub async fn run(
        &self,
        order: Vec<&'m TaskSpec>,
        force: bool,
        events: &mut dyn Events,
    ) -> TasksEnd {
        let expand = |text: &str| self.expand(text);
        let run = TaskRun {
            tasks: order,
            workspace: &self.workspace,
            base_env: &self.base_env,
            expand: &expand,
            jobs: self.jobs,
            force,
            state: self.state.clone(),
        };
        crate::runners::tasks::run(&run, events).await
    }

    /// Starts `services` for a suite; an error names the service and why.
    pub async fn start_services(
        &self,
        services: &[&'m TaskSpec],
        events: &mut dyn Events,
    ) -> Result<crate::runners::services::Started, crate::runners::services::ServiceFailure> {
        let expand = |text: &str| self.expand(text);
        let place = crate::runners::services::Place {
            workspace: &self.workspace,
            base_env: &self.base_env,
            expand: &expand,
            state: &self.state,
        };
        let events = std::sync::Mutex::new(events);
        let emit = |e| events.lock().unwrap_or_else(|p| p.into_inner()).gob(e);
        crate::runners::services::start(services, &place, &emit).await
    }

    /// Runs the `before` tasks of a build or of suites (each once); a dry run prints them
    /// instead.
    pub async fn run_before<'a>(
        &self,
        before: impl Iterator<Item = &'a crate::manifest::Located<String>>,
        dry_run: bool,
        json: bool,
    ) -> Result<(), GobError> {
        let mut names: Vec<&str> = Vec::new();
        for name in before {
            if !names.contains(&name.value.as_str()) {
                names.push(&name.value);
            }
        }
        let order = self.order(&names);
        if order.is_empty() {
            return Ok(());
        }
        if dry_run {
            print!("{}", self.dry_run(&order, false));
            return Ok(());
        }
        let options = ReportOptions {
            env: crate::commands::context::report_env(),
            json,
            ..ReportOptions::default()
        };
        self.run_to_end(order, &mut Reporter::new(options.sinks()))
            .await
    }

    /// Runs `order`, then stops the services it started; a failed task is the error.
    pub async fn run_to_end(
        &self,
        order: Vec<&'m TaskSpec>,
        reporter: &mut Reporter,
    ) -> Result<(), GobError> {
        if order.is_empty() {
            return Ok(());
        }
        let mut end = self.run(order, false, reporter).await;
        std::mem::take(&mut end.services).stop(reporter).await;
        if let Some(sig) = end.interrupted {
            return Err(GobError::Interrupted(sig));
        }
        failed(&end).map_or(Ok(()), Err)
    }

    /// `--dry-run` of `order`: each task, whether it runs and why, its command.
    pub fn dry_run(&self, order: &[&'m TaskSpec], force: bool) -> String {
        let workspace = &self.workspace;
        let expand = |text: &str| self.expand(text);
        let planned: Vec<_> = order
            .iter()
            .map(|task| {
                let current = crate::runners::tasks::current(workspace, task);
                let record = crate::runners::tasks::record_of(&self.state, task);
                let fresh = freshness(task, record.as_ref(), current.as_ref(), force);
                (
                    *task,
                    fresh,
                    command(task, workspace, &self.base_env, &expand),
                )
            })
            .collect();
        crate::plan::dryrun::tasks(&planned)
    }
}

/// A suite's services started (with their env added to the suite's), or, when one failed,
/// every package of the suite reported as failed for it; `None` then.
pub async fn start_for_suite(
    tasks: &Tasks<'_>,
    spec: &crate::manifest::SuiteSpec,
    packages: &[crate::plan::test::TestPackage],
    reporter: &mut crate::report::Reporter,
) -> Result<
    Option<(
        crate::manifest::SuiteSpec,
        crate::runners::services::Started,
    )>,
    i32,
> {
    let names: Vec<String> = spec.services.iter().map(|s| s.value.clone()).collect();
    let services = tasks.services(&names);
    let mut spec = spec.clone();
    if services.is_empty() {
        return Ok(Some((spec, Default::default())));
    }
    match tasks.start_services(&services, reporter).await {
        Ok(started) => {
            spec.env.extend(started.env.clone());
            Ok(Some((spec, started)))
        }
        Err(failure) => {
            let why = format!("service {} failed: {}", failure.task, failure.why);
            let dirs = packages
                .iter()
                .map(|p| (p.import_path.clone(), p.dir.clone()))
                .collect();
            reporter.suite_started(&spec.name, spec.integ, dirs, Default::default());
            for package in packages {
                reporter.gob(crate::base::events::GobEvent::RunStart {
                    suite: spec.name.clone(),
                    package: package.import_path.clone(),
                });
                reporter.abandoned(&package.import_path, &why, 0.0);
            }
            match failure.interrupted {
                Some(sig) => Err(sig),
                None => Ok(None),
            }
        }
    }
}

/// Stops a suite's services; a service that ended while the suite ran fails the run (said
/// here, returned as the error the run ends with).
pub async fn stop_for_suite(
    mut started: crate::runners::services::Started,
    reporter: &mut crate::report::Reporter,
) -> Option<GobError> {
    let exited = started.exited();
    started.stop(reporter).await;
    let (name, why) = exited?;
    reporter.gob(crate::base::events::GobEvent::Service {
        task: name.clone(),
        state: "failed".into(),
        why: Some(why),
    });
    Some(GobError::Failed(format!(
        "service {name} exited while the tests needed it"
    )))
}

/// The error of tasks that failed.
pub fn failed(end: &TasksEnd) -> Option<GobError> {
    (!end.failed.is_empty()).then(|| {
        GobError::Failed(format!(
            "{} failed: {}",
            crate::report::plural(end.failed.len(), "task"),
            end.failed.join(", ")
        ))
    })
}
