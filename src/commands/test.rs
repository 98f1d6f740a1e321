//! `gob test`: select suites, expand their packages, run each suite, summarize.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::base::state::{FAILED_FILE, GO_TMP_DIR};
use crate::cli::TestArgs;
use crate::commands::context::{Context, Globals, load_manifest, lock_workspace};
use crate::commands::outcome::{SuiteEnd, outcome, suite_ended, write_reports};
use crate::commands::retries::{
    failed_args, load_failed, record_failed, rerun_failures, save_failed,
};
use crate::error::GobError;
use crate::manifest::SuiteSpec;
use crate::plan::test::{
    IntegCompile, TestPackage, TestPlanContext, integ_store, plan_integ_compile,
};
use crate::report::timings::History;
use crate::report::{ReportOptions, Reporter, SuitePolicy};
use crate::runners::Events;
use crate::runners::remote::RemoteExecutor;
use crate::runners::{Converter, SuiteRun, integ, unit};
use crate::workspace::remoteexec::ExecFlags;

/// Prepares an integration suite's compile call: its store (refusing symlinks on the way,
/// with its token) and go's work dir beside it.
pub fn prepare_integ_compile(
    suite: &SuiteSpec,
    packages: &[TestPackage],
    plan_ctx: &TestPlanContext,
) -> Result<IntegCompile, GobError> {
    let workspace = &plan_ctx.workspace_dir;
    let store = integ_store(suite, plan_ctx);
    let tmp = workspace.join(GO_TMP_DIR);
    let failed = |action, path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| GobError::Io {
            action,
            path,
            source,
        }
    };
    for dir in [&store, &tmp] {
        crate::base::paths::refuse_symlinks_within(workspace, dir)
            .map_err(failed("refusing to write to", dir))?;
    }
    let token = crate::testexec::store_token(&store).map_err(failed("cannot write to", &store))?;
    std::fs::create_dir_all(&tmp).map_err(failed("cannot create", &tmp))?;
    remove_leftover_work_dirs(&tmp);
    Ok(plan_integ_compile(suite, packages, &token, plan_ctx))
}

/// Removes the work dirs (`go-build…`, with every binary go linked) that a go call killed
/// with SIGKILL left in `tmp`; go removes its own on every other exit. The workspace lock
/// and one compile call at a time mean no running go call is using one.
fn remove_leftover_work_dirs(tmp: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("go-build") {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Runs `gob test`.
pub async fn run(globals: &Globals, args: &TestArgs) -> Result<(), GobError> {
    if let Some(archive) = &args.from_archive {
        return super::archive::run_from(globals, args, archive).await;
    }
    let manifest = load_manifest(globals)?;
    let specs =
        crate::workspace::suites::select(&manifest, &args.selection.suites, args.selection.integ)?;
    // A dry run writes nothing, so it takes no lock.
    let _lock = match args.dry_run {
        true => None,
        false => Some(lock_workspace(globals, &manifest).await?),
    };
    let ctx =
        Context::load(globals, &manifest.workspace_dir)?.with_remote_cache(&manifest.cache)?;
    ctx.print_warnings();
    let expanded = crate::workspace::suites::expand(&manifest, &specs, &ctx.go)?;
    let pairs = expanded.iter().flat_map(|s| {
        s.packages
            .iter()
            .map(|p| (s.spec.race, p.import_path.as_str()))
    });
    if let Some(note) = race_and_plain_note(pairs) {
        eprintln!("{note}");
    }
    let timings = super::sharding::timings_path(globals, &manifest, &args.selection);
    let mut runs: Vec<Vec<TestPackage>> = expanded.iter().map(|s| s.test_packages()).collect();
    let mut not_affected = vec![0; runs.len()];
    if let Some(since) = &args.since {
        let dir = &manifest.workspace_dir;
        let found = super::affected::affected(&ctx, dir, &expanded, &runs, since)?;
        if args.explain {
            eprint!("{}", super::affected::report(&found, &expanded, dir, since));
        }
        for ((packages, selection), skipped) in
            runs.iter_mut().zip(&found.suites).zip(&mut not_affected)
        {
            packages.retain(|p| selection.selected.iter().any(|(s, _)| *s == p.import_path));
            *skipped = selection.not_affected.len();
        }
        if runs.iter().all(Vec::is_empty) {
            eprintln!(
                "gob: no test package of the selected suites is affected by the changes since {since} ({})",
                crate::report::plural(found.changed.len(), "changed file")
            );
            return Ok(());
        }
    }
    if let Some(shard) = args.shard {
        let mine = super::sharding::my_shard(shard, args.shard_plan.as_deref(), || {
            let history = History::load(&timings);
            super::sharding::plan(&expanded, &runs, &history, shard.count)
        })?;
        for (suite, packages) in expanded.iter().zip(runs.iter_mut()) {
            packages.retain(|p| mine.contains(&(suite.spec.name.clone(), p.import_path.clone())));
        }
    }
    let failed_path = manifest.workspace_dir.join(FAILED_FILE);
    let mut failed_record = load_failed(&failed_path);
    let mut package_args: Vec<BTreeMap<String, Vec<String>>> = vec![BTreeMap::new(); runs.len()];
    if args.failed {
        for ((suite, packages), extra) in
            expanded.iter().zip(runs.iter_mut()).zip(&mut package_args)
        {
            let last = failed_record
                .get(&suite.spec.name)
                .cloned()
                .unwrap_or_default();
            packages.retain(|p| last.contains_key(&p.import_path));
            *extra = failed_args(&last);
        }
        if runs.iter().all(Vec::is_empty) {
            let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
            eprintln!(
                "gob: nothing failed in the last run of {} {}",
                if names.len() == 1 { "suite" } else { "suites" },
                names.join(", ")
            );
            return Ok(());
        }
    }
    let timings_out = super::sharding::timings_out(
        args.timings_out.as_ref(),
        args.shard,
        &manifest.workspace_dir,
        &timings,
    );
    let plan_ctx = ctx.test_plan_context(&manifest)?;
    let user_args = args.binary_args();
    let remote = remote_executor(&manifest, args, &specs)?;
    if args.dry_run {
        if let Some(remote) = &remote {
            println!("{}", remote.describe());
        }
        for (suite, packages) in expanded.iter().zip(&runs) {
            let store = integ_store(suite.spec, &plan_ctx);
            let token = crate::testexec::read_token(&store).unwrap_or_else(|| "NEW-TOKEN".into());
            let text = crate::plan::dryrun::test_suite(
                suite.spec, packages, &user_args, &token, &plan_ctx,
            );
            print!("{text}");
        }
        return Ok(());
    }
    if let Some(archive) = &args.archive {
        return super::archive::write(archive, &manifest, &ctx, &expanded, &runs, &user_args).await;
    }
    let test2json = if specs.iter().any(|s| s.integ) {
        Some(ctx.go.tool_path("test2json")?)
    } else {
        None
    };
    let options = ReportOptions {
        env: crate::commands::context::report_env(),
        json: args.json,
        junit: args.junit.clone(),
        timings: Some(timings_out),
        workspace_dir: manifest.workspace_dir.clone(),
    };
    let mut reporter = Reporter::new(options.sinks());
    let mut interrupted = None;
    for (((suite, packages), extra), not_affected) in expanded
        .iter()
        .zip(&runs)
        .zip(&package_args)
        .zip(&not_affected)
    {
        let started = Instant::now();
        let first_result = reporter.results.len();
        let dirs = packages
            .iter()
            .map(|p| (p.import_path.clone(), p.dir.clone()))
            .collect();
        let compile = match suite.spec.integ {
            true => Some(prepare_integ_compile(suite.spec, packages, &plan_ctx)?),
            false => None,
        };
        let policy = SuitePolicy {
            flaky_fails: suite.spec.flaky_fails,
            slow: suite.spec.slow,
        };
        reporter.suite_started(&suite.spec.name, suite.spec.integ, dirs, policy);
        let run = SuiteRun {
            suite: suite.spec,
            packages,
            user_args: &user_args,
            ctx: &plan_ctx,
            package_args: extra,
            remote: remote.as_ref(),
        };
        let converter = test2json.as_deref().map(Converter::Go);
        let mut end = match (converter, compile, packages.is_empty()) {
            (_, _, true) => Default::default(),
            (Some(converter), Some(compile), false) => {
                integ::run(&run, compile, converter, &mut reporter).await?
            }
            _ => unit::run(&run, &mut reporter).await?,
        };
        let retries = args.retries.unwrap_or(suite.spec.retries);
        if end.interrupted.is_none() && retries > 0 {
            end.interrupted = rerun_failures(
                &run,
                &end.binaries,
                retries,
                args.max_retried_failures,
                converter,
                &mut reporter,
                first_result,
            )
            .await?;
        }
        let summary = SuiteEnd {
            skipped: suite.without_tests(),
            not_affected: *not_affected,
            compile_calls: end.compile_calls,
        };
        suite_ended(
            &mut reporter,
            &suite.spec.name,
            first_result,
            summary,
            started,
        );
        if end.interrupted.is_some() {
            interrupted = end.interrupted;
            break;
        }
    }
    if let Some(event) = ctx.remote_cache_event() {
        reporter.gob(event);
    }
    if let Some(remote) = &remote {
        reporter.gob(remote.summary());
    }
    write_reports(&mut reporter, args.junit.as_ref())?;
    if let Some(sig) = interrupted {
        return Err(GobError::Interrupted(sig));
    }
    record_failed(&mut failed_record, &reporter.results);
    save_failed(&manifest.workspace_dir, &failed_path, &failed_record);
    outcome(&reporter.results)
}

/// The cluster that runs the integration suites' test binaries, when remote execution is
/// on for this run (`[exec]`, `--remote-exec`) and an integration suite is selected.
fn remote_executor(
    manifest: &crate::manifest::Manifest,
    args: &TestArgs,
    specs: &[&crate::manifest::SuiteSpec],
) -> Result<Option<RemoteExecutor>, GobError> {
    let flags = ExecFlags {
        on: args.remote_exec.clone(),
        off: args.no_remote_exec,
        strict: args.remote_exec_strict,
    };
    let mut notes = Vec::new();
    let env = |name: &str| std::env::var(name).ok();
    let settings = crate::workspace::remoteexec::resolve(&manifest.exec, &flags, env, &mut notes)
        .map_err(GobError::Usage)?;
    for note in notes {
        eprintln!("gob: note: {note}");
    }
    match settings {
        Some(settings) if specs.iter().any(|s| s.integ) => RemoteExecutor::new(settings)
            .map(Some)
            .map_err(|e| GobError::Usage(format!("[exec] remote: {e}"))),
        _ => Ok(None),
    }
}

/// -race builds share no cache with plain builds: a note when one run builds a package both
/// ways (the study: `go build ./...` then `go test -race ./...` cost 45s more).
fn race_and_plain_note<'a>(
    suites: impl Iterator<Item = (bool, &'a str)> + Clone,
) -> Option<String> {
    let paths = |race: bool| -> BTreeSet<&str> {
        suites
            .clone()
            .filter(|(r, _)| *r == race)
            .map(|(_, p)| p)
            .collect()
    };
    let both: Vec<&str> = paths(true).intersection(&paths(false)).copied().collect();
    (!both.is_empty()).then(|| {
        format!(
            "gob: note: {} package{} built both with -race and without in this run ({}); -race shares no build cache with plain builds, so they compile twice",
            both.len(),
            if both.len() == 1 { " is" } else { "s are" },
            both.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_packages_built_with_and_without_race() {
        let pairs = [(true, "m/a"), (true, "m/b"), (false, "m/b"), (false, "m/c")];
        let note = race_and_plain_note(pairs.iter().copied()).unwrap();
        assert!(
            note.contains("1 package is built both with -race and without in this run (m/b)"),
            "{note}"
        );
        assert!(race_and_plain_note([(true, "m/a"), (false, "m/c")].into_iter()).is_none());
    }
}
