//! `gob build`: manifest → go list → plan → run each call → publish → summary.

use std::time::{Instant, SystemTime};

use crate::cli::BuildArgs;
use crate::commands::context::{Context, Globals, load_manifest, lock_workspace};
use crate::commands::tasks::Tasks;
use crate::error::GobError;
use crate::exec::publish::{Published, publish};
use crate::exec::{Outcome, run_merged};
use crate::manifest::Manifest;
use crate::plan::{BuildPlan, PlanContext, plan_build};
use crate::report::{GobEvent, ReportOptions, Reporter, binaries, plural};
use crate::runners::Events;
use crate::workspace::{out_dir, select_binaries};

/// Runs `gob build`.
pub async fn run(globals: &Globals, args: &BuildArgs) -> Result<(), GobError> {
    let started = Instant::now();
    let manifest = load_manifest(globals)?;
    let ctx =
        Context::load(globals, &manifest.workspace_dir)?.with_remote_cache(&manifest.cache)?;
    let out_dir = match &args.out_dir {
        Some(dir) => crate::base::paths::normalize(&globals.cwd.join(dir)),
        None => out_dir(&manifest),
    };
    let coverpkg: Vec<String> = args
        .coverpkg
        .iter()
        .flat_map(|list| list.split(','))
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    let cover = args.cover.then_some(BuildCover {
        mode: crate::go::coverprofile::Mode::Set,
        coverpkg: &coverpkg,
    });
    let (plan, before) = make_plan(
        &manifest,
        &ctx,
        &args.names,
        args.platform.as_ref(),
        out_dir,
        cover,
    )?;
    let tasks = Tasks::new(&manifest, &ctx);
    let names: Vec<&str> = before.iter().map(String::as_str).collect();
    let order = tasks.order(&names);
    if args.dry_run {
        print!("{}", tasks.dry_run(&order, false));
        print!(
            "{}",
            crate::plan::dryrun::build(&plan, &manifest.workspace_dir)
        );
        return Ok(());
    }
    let _lock = lock_workspace(globals, &manifest).await?;
    ctx.print_warnings();
    let options = ReportOptions {
        env: crate::commands::context::report_env(),
        json: args.json,
        workspace_dir: manifest.workspace_dir.clone(),
        ..ReportOptions::default()
    };
    let mut reporter = Reporter::new(options.sinks());
    tasks.run_to_end(order, &mut reporter).await?;
    if plan.batches.is_empty() {
        eprintln!("gob: no [[binary]] in {}", manifest.path.display());
        return Ok(());
    }
    prepare_dirs(&plan, &manifest.workspace_dir, args.out_dir.is_some())?;
    let result = build(&plan, &mut reporter).await;
    if let Some(event) = ctx.remote_cache_event() {
        reporter.gob(event);
    }
    let _ = reporter.finish();
    let (updated, up_to_date) = result?;
    let calls = plan.batches.len();
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "gob: built {} ({updated} updated, {up_to_date} up to date) in {} in {elapsed:.1}s, {}",
        binaries(updated + up_to_date),
        plural(calls, "go build call"),
        plural(ctx.budget.cpus, "CPU"),
    );
    Ok(())
}

/// Runs the calls and publishes; returns (updated, up to date).
pub(super) async fn build(
    plan: &BuildPlan,
    reporter: &mut Reporter,
) -> Result<(usize, usize), GobError> {
    let started = Instant::now();
    let mut updated = 0;
    let mut up_to_date = 0;
    let mut failed = Vec::new();
    let calls = plan.batches.len();
    for (call, batch) in plan.batches.iter().enumerate() {
        let call_started = SystemTime::now();
        let clock = Instant::now();
        reporter.gob(GobEvent::BuildStart {
            call: call + 1,
            calls,
            binaries: batch
                .outputs
                .iter()
                .map(|o| o.output_name.clone())
                .collect(),
        });
        let outcome = run_merged(&batch.command, |line| reporter.output_line(line)).await?;
        reporter.gob(GobEvent::BuildEnd {
            call: call + 1,
            calls,
            ok: outcome == Outcome::Succeeded,
            elapsed: clock.elapsed().as_secs_f64(),
        });
        if let Outcome::Interrupted(sig) = outcome {
            let staged = batch.outputs.iter().map(|o| o.staged.as_path());
            crate::go::outputs::remove_written_since(staged, call_started);
            eprintln!(
                "gob: stopped: {} published before the stop",
                binaries(updated + up_to_date)
            );
            return Err(GobError::Interrupted(sig));
        }
        for output in &batch.outputs {
            // After a failed call, publish only what go wrote or touched during it: go builds
            // the other binaries of the call and refreshes their mtime (work/exec.go).
            if outcome != Outcome::Succeeded
                && !crate::go::outputs::written_since(&output.staged, call_started)
            {
                failed.push(output.output_name.clone());
                continue;
            }
            let published =
                publish(&output.staged, &output.published).map_err(|source| GobError::Io {
                    action: "cannot publish",
                    path: output.published.clone(),
                    source,
                })?;
            match published {
                Published::Updated => updated += 1,
                Published::UpToDate => up_to_date += 1,
            }
            reporter.gob(GobEvent::Publish {
                binary: output.output_name.clone(),
                path: output.published.clone(),
                updated: published == Published::Updated,
            });
        }
    }
    if !failed.is_empty() {
        let built = updated + up_to_date;
        return Err(GobError::Failed(format!(
            "build failed for {} ({built} built) in {:.1}s",
            failed.join(", "),
            started.elapsed().as_secs_f64()
        )));
    }
    Ok((updated, up_to_date))
}

/// Creates out_dir and the staging dirs up front, so an unwritable out_dir is one clear
/// error before any build starts. A staging dir, or an out_dir the manifest names, reached
/// through a symlink in the workspace is refused (an out_dir given with `--out-dir` may be
/// anywhere: the user asked for it).
pub(super) fn prepare_dirs(
    plan: &BuildPlan,
    workspace_dir: &std::path::Path,
    explicit_out_dir: bool,
) -> Result<(), GobError> {
    let out_dirs = plan
        .batches
        .iter()
        .flat_map(|b| b.outputs.iter())
        .filter_map(|o| o.published.parent())
        .map(|dir| (dir, !explicit_out_dir));
    let staging = plan.batches.iter().map(|b| (b.staging_dir.as_path(), true));
    for (dir, checked) in out_dirs.chain(staging) {
        let io = |action, source| GobError::Io {
            action,
            path: dir.to_path_buf(),
            source,
        };
        if checked {
            crate::base::paths::refuse_symlinks(workspace_dir, dir)
                .map_err(|e| io("refusing to write to", e))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| io("cannot create", e))?;
        crate::base::paths::remove_stale_temps(dir);
    }
    Ok(())
}

/// Coverage of a build: the counter mode and the packages counted (`-coverpkg`; empty: the
/// main module's).
#[derive(Debug, Clone, Copy)]
pub struct BuildCover<'a> {
    /// The counter mode.
    pub mode: crate::go::coverprofile::Mode,
    /// The packages counted.
    pub coverpkg: &'a [String],
}

/// Resolves the binaries named (all by default; for `--platform`, those built for it) and
/// plans their calls, built with coverage when `cover` says so; also returns the tasks to run
/// before (`before`, each once).
pub fn make_plan(
    manifest: &Manifest,
    ctx: &Context,
    names: &[String],
    platform: Option<&crate::manifest::Platform>,
    out_dir: std::path::PathBuf,
    cover: Option<BuildCover>,
) -> Result<(BuildPlan, Vec<String>), GobError> {
    let mut selected = select_binaries(ctx.resolve_binaries(manifest)?, names)?;
    if let Some(cover) = cover {
        let mains: Vec<String> = selected.iter().map(|b| b.import_path.clone()).collect();
        let coverpkg = crate::go::coverpkg::with_mains(cover.coverpkg, &mains);
        let flags = crate::plan::cover::build_flags(cover.mode, &coverpkg);
        for binary in &mut selected {
            binary.settings.flags.extend(flags.iter().cloned());
        }
    }
    if let Some(platform) = platform {
        let host = ctx.host_platform();
        selected.retain(|b| b.target(&host) == *platform);
        if selected.is_empty() && !manifest.binaries.is_empty() {
            return Err(GobError::Usage(format!(
                "--platform {platform}: no binary is built for it (add it to `platforms`)"
            )));
        }
    }
    let mut before: Vec<String> = Vec::new();
    for name in selected.iter().flat_map(|b| &b.before) {
        if !before.contains(name) {
            before.push(name.clone());
        }
    }
    let plan_ctx = PlanContext {
        go: ctx.go.program.clone(),
        workspace_dir: manifest.workspace_dir.clone(),
        out_dir,
        base_env: ctx.command_env(),
    };
    Ok((plan_build(&selected, &plan_ctx), before))
}
