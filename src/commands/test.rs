//! `gob test`: select suites, expand their packages, run each suite, summarize.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::base::state::TEST_BIN_DIR;
use crate::cli::TestArgs;
use crate::commands::context::{Context, Globals, load_manifest, lock_workspace};
use crate::error::GobError;
use crate::plan::test::TestPackage;
use crate::report::timings::History;
use crate::report::{GobEvent, PackageOutcome, ReportOptions, Reporter};
use crate::runners::Events;
use crate::runners::{SuiteRun, integ, unit};

/// Runs `gob test`.
pub async fn run(globals: &Globals, args: &TestArgs) -> Result<(), GobError> {
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
    if let Some(shard) = args.shard {
        let history = History::load(&timings);
        let shards = super::sharding::plan(&expanded, &history, shard.count);
        let mine = &shards[shard.index - 1];
        let total: usize = runs.iter().map(Vec::len).sum();
        eprintln!(
            "gob: shard {shard}: {} of {total} packages, ~{:.1}s by the timing history",
            mine.items.len(),
            mine.total
        );
        for (suite, packages) in expanded.iter().zip(runs.iter_mut()) {
            packages.retain(|p| {
                mine.items
                    .iter()
                    .any(|(i, _)| i.suite == suite.spec.name && i.package == p.import_path)
            });
        }
    }
    let plan_ctx = ctx.test_plan_context(&manifest);
    let user_args = args.binary_args();
    if args.dry_run {
        for (suite, packages) in expanded.iter().zip(&runs) {
            let text = crate::plan::dryrun::test_suite(suite.spec, packages, &user_args, &plan_ctx);
            print!("{text}");
        }
        return Ok(());
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
        timings: Some(timings),
        workspace_dir: manifest.workspace_dir.clone(),
    };
    let mut reporter = Reporter::new(options.sinks());
    let mut interrupted = None;
    for (suite, packages) in expanded.iter().zip(&runs) {
        let started = Instant::now();
        let first_result = reporter.results.len();
        let dirs = packages
            .iter()
            .map(|p| (p.import_path.clone(), p.dir.clone()))
            .collect();
        if suite.spec.integ {
            let bin_dir = plan_ctx
                .workspace_dir
                .join(TEST_BIN_DIR)
                .join(&suite.spec.name);
            crate::base::paths::refuse_symlinks_within(&plan_ctx.workspace_dir, &bin_dir).map_err(
                |source| GobError::Io {
                    action: "refusing to write to",
                    path: bin_dir.clone(),
                    source,
                },
            )?;
        }
        reporter.suite_started(&suite.spec.name, suite.spec.integ, dirs);
        let run = SuiteRun {
            suite: suite.spec,
            packages,
            user_args: &user_args,
            ctx: &plan_ctx,
            cpus: ctx.budget.cpus,
        };
        let end = match (&test2json, suite.spec.integ, packages.is_empty()) {
            (_, _, true) => Default::default(),
            (Some(t2j), true, false) => integ::run(&run, t2j, &mut reporter).await?,
            _ => unit::run(&run, &mut reporter).await?,
        };
        let results = &reporter.results[first_result..];
        let passed = results
            .iter()
            .filter(|r| r.outcome == PackageOutcome::Passed)
            .count();
        reporter.gob(GobEvent::SuiteEnd {
            suite: suite.spec.name.clone(),
            passed,
            failed: results.len() - passed,
            skipped: suite.without_tests(),
            compile_calls: end.compile_calls,
            elapsed: started.elapsed().as_secs_f64(),
        });
        if end.interrupted.is_some() {
            interrupted = end.interrupted;
            break;
        }
    }
    if let Some(event) = ctx.remote_cache_event() {
        reporter.gob(event);
    }
    reporter.finish().map_err(|source| GobError::Io {
        action: "cannot write the report",
        path: args.junit.clone().unwrap_or_default(),
        source,
    })?;
    if let Some(sig) = interrupted {
        return Err(GobError::Interrupted(sig));
    }
    let failed = reporter
        .results
        .iter()
        .filter(|r| r.outcome != PackageOutcome::Passed)
        .count();
    if failed > 0 {
        return Err(GobError::Failed(format!(
            "{} failed",
            crate::report::plural(failed, "package")
        )));
    }
    Ok(())
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
