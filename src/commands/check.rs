//! `gob check`: compile every suite's packages and tests without linking or running.

use std::time::Instant;

use crate::cli::CheckArgs;
use crate::commands::context::{Context, Globals, load_manifest};
use crate::error::GobError;
use crate::exec::{Outcome, run_lines};
use crate::plan::check::{CheckSuite, plan_check};
use crate::plan::goflags::{JSON, drop_goflags};

/// Runs `gob check`.
pub async fn run(globals: &Globals, args: &CheckArgs) -> Result<(), GobError> {
    let started = Instant::now();
    let manifest = load_manifest(globals)?;
    let ctx =
        Context::load(globals, &manifest.workspace_dir)?.with_remote_cache(&manifest.cache)?;
    ctx.print_warnings();
    let specs: Vec<_> = manifest.suites.iter().collect();
    let expanded = crate::workspace::suites::expand(&manifest, &specs, &ctx.go)?;
    let suites: Vec<CheckSuite> = expanded
        .iter()
        .map(|s| CheckSuite {
            tags: s.spec.tags.clone(),
            packages: s.packages.iter().map(|p| p.import_path.clone()).collect(),
        })
        .collect();
    let wrapper = crate::commands::context::own_executable()?;
    // A -json in the user's GOFLAGS would wrap go's output, which check prints as text.
    let mut env = ctx.command_env();
    drop_goflags(&mut env, &ctx.go_env.goflags, &JSON);
    let calls = plan_check(
        &suites,
        &ctx.go.program,
        &wrapper.to_string_lossy(),
        &manifest.workspace_dir,
        &env,
    );
    if args.dry_run {
        print!("{}", crate::plan::dryrun::check(&calls));
        return Ok(());
    }
    let packages: usize = suites.iter().map(|s| s.packages.len()).sum();
    let excluded: usize = expanded.iter().map(|s| s.excluded.len()).sum();
    let mut failed = false;
    for call in &calls {
        let print_interesting = |line: &str| {
            if is_interesting(line) {
                println!("{line}");
            }
        };
        match run_lines(call, print_interesting, None).await? {
            Outcome::Succeeded => {}
            Outcome::Interrupted(sig) => return Err(GobError::Interrupted(sig)),
            Outcome::Failed(_) | Outcome::Signaled(_) | Outcome::TimedOut => failed = true,
        }
    }
    if let Some(crate::report::GobEvent::RemoteCache { summary, .. }) = ctx.remote_cache_event() {
        eprintln!("gob: {summary}");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let names: Vec<String> = manifest
        .suites
        .iter()
        .map(|s| {
            let kind = if s.integ { " (integration)" } else { "" };
            format!("{}{kind}", s.name)
        })
        .collect();
    if failed {
        return Err(GobError::Failed(format!(
            "check failed ({} suites: {}) in {elapsed:.1}s",
            names.len(),
            names.join(", ")
        )));
    }
    eprintln!(
        "gob: checked {packages} packages ({excluded} excluded) of {} suite{} [{}] in {} go test call{} in {elapsed:.1}s, nothing linked",
        names.len(),
        if names.len() == 1 { "" } else { "s" },
        names.join(", "),
        calls.len(),
        if calls.len() == 1 { "" } else { "s" },
    );
    Ok(())
}

/// go test's per-package "ok" and "no test files" lines say nothing under -exec=true.
fn is_interesting(line: &str) -> bool {
    !(line.starts_with("ok  \t") || line.starts_with("?   \t"))
}
