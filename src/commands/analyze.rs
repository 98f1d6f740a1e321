//! `gob analyze`: build with go's action graph and trace, then report where the time went.

use std::path::{Path, PathBuf};

use crate::analyze::actiongraph;
use crate::analyze::stats;
use crate::analyze::{CompileTimes, timeline, why};
use crate::base::paths::RemovedOnDrop;
use crate::base::state::{ANALYZE_DIR, ANALYZE_TIMES_FILE};
use crate::cli::{AnalyzeArgs, AnalyzeCommand};
use crate::commands::context::{Context, Globals, load_manifest, lock_workspace};
use crate::error::GobError;
use crate::exec::{Outcome, run_merged};
use crate::go::summary::package_summary;
use crate::manifest::Manifest;
use crate::plan::GoCommand;
use crate::plan::test::plan_integ_compile;
use crate::testexec::{STORE_ENV, parse_ready};
use crate::workspace::{out_dir, select_binaries};

/// Runs `gob analyze`.
pub async fn run(globals: &Globals, args: &AnalyzeArgs) -> Result<(), GobError> {
    let manifest = load_manifest(globals)?;
    let ctx = Context::load(globals, &manifest.workspace_dir)?;
    if let Some(AnalyzeCommand::Why { package }) = &args.why {
        return explain(&manifest, &ctx, &args.names, package);
    }
    let _lock = lock_workspace(globals, &manifest).await?;
    let scratch = scratch_dir(&manifest)?;
    let scratch = scratch.path();
    let calls = match &args.test {
        Some(suite) => test_calls(&manifest, &ctx, suite)?,
        None => build_calls(&manifest, &ctx, &args.names)?,
    };
    let cache = scratch.join("cache");
    let mut graphs = Vec::new();
    let mut traces = Vec::new();
    let what = if args.warm {
        "warm cache"
    } else {
        "cold cache (empty GOCACHE)"
    };
    eprintln!(
        "gob analyze: {} with {what}, {} CPUs",
        crate::report::plural(calls.len(), "go call"),
        ctx.budget.cpus
    );
    let mut measured_cpu = 0.0;
    for (i, call) in calls.iter().enumerate() {
        let graph_file = scratch.join(format!("actiongraph-{i}.json"));
        let trace_file = scratch.join(format!("trace-{i}.json"));
        let mut command = instrument(
            call,
            &graph_file,
            &trace_file,
            &scratch.join(format!("out-{i}")),
        );
        if !args.warm {
            // A cold measurement: an empty GOCACHE, and no GOCACHEPROG that could answer.
            command
                .env
                .insert("GOCACHE".into(), cache.display().to_string());
            command.env.insert("GOCACHEPROG".into(), String::new());
        }
        let cpu_before = children_cpu();
        let outcome = run_merged(&command, |line| {
            // An integration compile's bookkeeping: a ready line, then go's summary line.
            if parse_ready(line).is_none() && package_summary(line).is_none() {
                eprintln!("{line}")
            }
        })
        .await?;
        measured_cpu += children_cpu() - cpu_before;
        match outcome {
            Outcome::Succeeded => {}
            Outcome::Interrupted(sig) => return Err(GobError::Interrupted(sig)),
            _ => {
                return Err(GobError::Failed(format!(
                    "the build failed, so there is nothing to analyze: {command}"
                )));
            }
        }
        let text = read(&graph_file)?;
        graphs.push(actiongraph::parse(&text).map_err(|e| GobError::Failed(e.to_string()))?);
        traces.push(std::fs::read_to_string(&trace_file).unwrap_or_default());
    }
    let single = graphs.len() == 1;
    let actions = actiongraph::concat(graphs);
    let modules = ctx.go.modules();
    let module_of = |p: &str| stats::module_of(p, &modules);
    let analysis = stats::analyze(
        &actions,
        ctx.budget.cpus,
        args.top,
        &module_of,
        Some(measured_cpu),
    );
    let workers = if single {
        timeline::workers(&traces[0])
    } else {
        Default::default()
    };
    let lanes = timeline::lanes(&actions, &workers);
    let text = crate::analyze::text::report(&actions, &analysis);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&analysis).unwrap_or_default()
        );
    } else {
        print!("{text}");
    }
    let write = |path: &PathBuf, text: String| {
        crate::commands::context::write_file(&globals.cwd.join(path), text.as_bytes())
    };
    if let Some(path) = &args.trace {
        write(
            path,
            timeline::chrome_trace(&actions, &lanes, &analysis, &module_of),
        )?;
    }
    if args.svg.is_some() || args.html.is_some() {
        let svg = timeline::svg(&actions, &lanes, &analysis, &module_of);
        if let Some(path) = &args.html {
            let page = format!(
                "<!doctype html><meta charset=\"utf-8\"><title>gob analyze</title>\n<pre>{}</pre>\n{svg}",
                crate::base::text::xml_escape(&text)
            );
            write(path, page)?;
        }
        if let Some(path) = &args.svg {
            write(path, svg)?;
        }
    }
    let times = CompileTimes::of(&actions, !args.warm);
    let _ = crate::base::paths::write_atomically(
        &manifest.workspace_dir.join(ANALYZE_TIMES_FILE),
        serde_json::to_string_pretty(&times)
            .unwrap_or_default()
            .as_bytes(),
    );
    Ok(())
}

/// This run's temp dir for graphs, traces, outputs and the cold cache, under the workspace's
/// `.gob/` (same filesystem as the outputs), removed when dropped, so also when the analysis
/// fails. Runs hold the workspace lock, so any other `run-*` dir was left by a run that was
/// killed: removed first (a cold GOCACHE can be gigabytes).
fn scratch_dir(manifest: &Manifest) -> Result<RemovedOnDrop, GobError> {
    let parent = manifest.workspace_dir.join(ANALYZE_DIR);
    let io = |path: &Path, action, source| GobError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    crate::base::paths::refuse_symlinks(&manifest.workspace_dir, &parent)
        .map_err(|e| io(&parent, "refusing to write to", e))?;
    for entry in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("run-") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = parent.join(format!("run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| io(&dir, "cannot create", e))?;
    Ok(RemovedOnDrop(dir))
}

fn read(path: &Path) -> Result<String, GobError> {
    std::fs::read_to_string(path).map_err(|source| GobError::Io {
        action: "go wrote no actiongraph at",
        path: path.to_path_buf(),
        source,
    })
}

/// CPU seconds (user + system) of every child gob waited for so far, with what they
/// waited for: go and the compilers, linkers and tools it ran.
fn children_cpu() -> f64 {
    // SAFETY: getrusage fills the struct it is given; RUSAGE_CHILDREN is a valid target.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// `call` with go's debug flags, its outputs in the scratch dir `out`: `-o`, and an
/// integration compile's store of kept binaries and go's work dir.
fn instrument(call: &GoCommand, graph: &Path, trace: &Path, out: &Path) -> GoCommand {
    let mut env = call.env.clone();
    if env.contains_key(STORE_ENV) {
        let _ = std::fs::create_dir_all(out);
        for name in [STORE_ENV, "GOTMPDIR"] {
            env.insert(name.to_string(), out.display().to_string());
        }
    }
    GoCommand {
        args: crate::go::debugflags::with_debug_flags(&call.args, graph, trace, out),
        env,
        ..call.clone()
    }
}

/// The `go build` calls `gob build` would make for `names`.
fn build_calls(
    manifest: &Manifest,
    ctx: &Context,
    names: &[String],
) -> Result<Vec<GoCommand>, GobError> {
    let (plan, _) = super::build::make_plan(manifest, ctx, names, None, out_dir(manifest), None)?;
    Ok(plan.batches.into_iter().map(|b| b.command).collect())
}

/// The call that compiles `suite`'s test binaries, with `-count=1`: every binary is linked,
/// as in a run with an empty store.
fn test_calls(manifest: &Manifest, ctx: &Context, suite: &str) -> Result<Vec<GoCommand>, GobError> {
    let specs = crate::workspace::suites::select(manifest, &[suite.to_string()], false)?;
    let expanded = crate::workspace::suites::expand(manifest, &specs, &ctx.go)?;
    let plan_ctx = ctx.test_plan_context(manifest)?;
    Ok(expanded
        .iter()
        .map(|s| {
            let compile = plan_integ_compile(s.spec, &s.test_packages(), "analyze", &plan_ctx);
            compile.again(&compile.packages)
        })
        .collect())
}

/// `gob analyze why PKG`.
fn explain(
    manifest: &Manifest,
    ctx: &Context,
    names: &[String],
    package: &str,
) -> Result<(), GobError> {
    let binaries = select_binaries(ctx.resolve_binaries(manifest)?, names)?;
    let mains: Vec<String> = binaries.iter().map(|b| b.import_path.clone()).collect();
    let patterns: Vec<&str> = mains.iter().map(String::as_str).collect();
    let graph = ctx.go.import_graph(&patterns)?;
    let times: Option<CompileTimes> =
        std::fs::read(manifest.workspace_dir.join(ANALYZE_TIMES_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
    let names: Vec<&str> = binaries.iter().map(|b| b.output_name.as_str()).collect();
    let found = why::explain(&graph, &mains, package);
    print!("{}", why::render(&names, &found, package, times.as_ref()));
    Ok(())
}
