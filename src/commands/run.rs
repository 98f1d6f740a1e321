//! `gob run TASK...`: the tasks named and their deps, each once, independent ones at once
//! within the CPU budget, up-to-date ones skipped. Services named directly keep running until
//! Ctrl-C.

use std::time::Instant;

use crate::cli::RunArgs;
use crate::commands::context::{Context, Globals, load_manifest, lock_workspace};
use crate::commands::tasks::{Tasks, failed};
use crate::error::GobError;
use crate::report::{ReportOptions, Reporter, plural};
use crate::runners::Events;

/// Runs `gob run`.
pub async fn run(globals: &Globals, args: &RunArgs) -> Result<(), GobError> {
    let started = Instant::now();
    let manifest = load_manifest(globals)?;
    let ctx = Context::load(globals, &manifest.workspace_dir)?;
    let tasks = Tasks::new(&manifest, &ctx);
    tasks.check_names(&args.tasks)?;
    let names: Vec<&str> = args.tasks.iter().map(String::as_str).collect();
    let order = tasks.order(&names);
    if args.dry_run {
        print!("{}", tasks.dry_run(&order, args.force));
        return Ok(());
    }
    let _lock = lock_workspace(globals, &manifest).await?;
    let options = ReportOptions {
        env: crate::commands::context::report_env(),
        workspace_dir: manifest.workspace_dir.clone(),
        ..ReportOptions::default()
    };
    let mut reporter = Reporter::new(options.sinks());
    let count = order.iter().filter(|t| !t.service).count();
    let mut end = tasks.run(order, args.force, &mut reporter).await;
    let asked_services: Vec<&str> = manifest
        .tasks
        .iter()
        .filter(|t| t.service && names.contains(&t.name.as_str()))
        .map(|t| t.name.as_str())
        .collect();
    if end.failed.is_empty() && end.interrupted.is_none() && !asked_services.is_empty() {
        eprintln!(
            "gob: {} running ({}); Ctrl-C stops {}",
            plural(asked_services.len(), "service"),
            asked_services.join(", "),
            if asked_services.len() == 1 {
                "it"
            } else {
                "them"
            }
        );
        end.interrupted = Some(wait_for_stop_or_exit(&mut end, &mut reporter).await);
    }
    let services = std::mem::take(&mut end.services);
    services.stop(&mut reporter).await;
    let _ = reporter.finish();
    if let Some(sig) = end
        .interrupted
        .filter(|_| crate::exec::shutdown::requested().is_some())
    {
        return Err(GobError::Interrupted(sig));
    }
    if let Some(error) = failed(&end) {
        return Err(error);
    }
    eprintln!(
        "gob: ran {} in {:.1}s",
        plural(count, "task"),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Waits for Ctrl-C (its signal), or for a service to exit on its own (said, and the run
/// fails).
async fn wait_for_stop_or_exit(
    end: &mut crate::runners::tasks::TasksEnd,
    reporter: &mut Reporter,
) -> i32 {
    loop {
        tokio::select! {
            sig = crate::exec::shutdown::stopped() => return sig,
            () = tokio::time::sleep(std::time::Duration::from_millis(200)) => {}
        }
        if let Some((name, why)) = end.services.exited() {
            reporter.gob(crate::base::events::GobEvent::Service {
                task: name.clone(),
                state: "failed".into(),
                why: Some(why),
            });
            end.failed.push(name);
            return 0;
        }
    }
}
