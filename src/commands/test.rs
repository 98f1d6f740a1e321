//! `gob test`: select suites, expand their packages, choose which run (the selection
//! stage), run each suite, summarize.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::base::state::FAILED_FILE;
use crate::cli::TestArgs;
use crate::commands::affected::Affected;
use crate::commands::context::{Context, Globals, load_manifest, lock_workspace};
use crate::commands::cover::Coverage;
use crate::commands::integ::prepare_compile;
use crate::commands::outcome::{SuiteEnd, outcome, suite_ended, write_reports};
use crate::commands::retries::{load_failed, record_failed, rerun_failures, save_failed};
use crate::commands::selection;
use crate::commands::selection::Narrow;
use crate::commands::tasks::{Tasks, start_for_suite, stop_for_suite};
use crate::error::GobError;
use crate::plan::select::{Candidates, Selected};
use crate::plan::test::{TestPackage, TestPlanContext, integ_store};
use crate::report::{ReportOptions, Reporter, SuitePolicy};
use crate::runners::Events;
use crate::runners::remote::RemoteExecutor;
use crate::runners::{Converter, SuiteRun, integ, unit};
use crate::workspace::remoteexec::ExecFlags;
use crate::workspace::suites::ExpandedSuite;

/// Runs `gob test`: the selection stage, then each suite here (or the archive, or a dry run).
pub async fn run(globals: &Globals, args: &TestArgs) -> Result<(), GobError> {
    test(globals, args, None).await
}

/// Runs the tests, those `narrow` keeps of the suites' packages when given (a watch
/// cycle's selection, which the selection stage takes as `--since`'s).
pub async fn test(
    globals: &Globals,
    args: &TestArgs,
    narrow: Option<Narrow<'_>>,
) -> Result<(), GobError> {
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
    let tasks = Tasks::new(&manifest, &ctx);
    let before = specs.iter().flat_map(|s| &s.before);
    tasks.run_before(before, args.dry_run, args.json).await?;
    let expanded = crate::workspace::suites::expand(&manifest, &specs, &ctx.go)?;
    if let Some(note) = race_and_plain_note(&expanded) {
        eprintln!("{note}");
    }
    let packages: Vec<Vec<TestPackage>> = expanded.iter().map(|s| s.test_packages()).collect();
    let since = match (&args.since, narrow) {
        (Some(since), _) => Some(since_selection(
            &ctx, &manifest, &expanded, &packages, since, args,
        )?),
        (None, Some(narrow)) => narrow(&ctx, &manifest, &expanded)?.map(|suites| Affected {
            base: "the last run".into(),
            changed: Vec::new(),
            suites,
        }),
        (None, None) => None,
    };
    let timings = super::sharding::timings_path(globals, &manifest, &args.selection);
    let failed_path = manifest.workspace_dir.join(FAILED_FILE);
    let cover_mode = super::cover::mode(args, &specs)?;
    let candidates = candidates(&expanded, &packages);
    let targets = super::sharding::split_targets(&expanded);
    let user_args = args.binary_args();
    let history = crate::report::timings::History::load(&timings);
    let splits = super::sharding::splits(&candidates, &targets, &history, &ctx.version, &user_args);
    let selected = selection::choose(
        args,
        &candidates,
        since
            .as_ref()
            .map(|f| (f.base.as_str(), f.suites.as_slice())),
        &failed_path,
        &history,
        &splits,
    )?;
    let changed = since.as_ref().map(|f| f.changed.len());
    if let Some(message) = selection::nothing_to_run(&selected, args, changed) {
        eprintln!("{message}");
        return super::cover::nothing_covered(args, cover_mode);
    }
    let remote = remote_executor(&manifest, args, &specs)?;
    let chosen = chosen(&packages, &selected);
    let runs = longest_first(&expanded, chosen, &history, remote.is_some());
    let mut plan_ctx = ctx.test_plan_context(&manifest)?;
    plan_ctx.cover = cover_mode;
    if args.dry_run {
        print_dry_run(&expanded, &runs, &user_args, &plan_ctx, remote.as_ref());
        if let Some(profile) = dry_run_profile(args, &manifest.workspace_dir, &plan_ctx) {
            println!("{profile}");
        }
        return Ok(());
    }
    if let Some(archive) = &args.archive {
        let (cover, user_args) = (plan_ctx.cover, &user_args);
        return super::archive::write(archive, &manifest, &ctx, &expanded, &runs, user_args, cover)
            .await;
    }
    let coverage =
        Coverage::start(args, plan_ctx.cover, &manifest.workspace_dir)?.map(|c| c.with_go(&ctx));
    let here = Here {
        suites: &expanded,
        runs: &runs,
        selected: &selected,
        plan_ctx: &plan_ctx,
        user_args: &user_args,
        remote: remote.as_ref(),
        test2json: match specs.iter().any(|s| s.integ) {
            true => Some(ctx.go.tool_path("test2json")?),
            false => None,
        },
        tasks: &tasks,
        service_failed: Default::default(),
        coverage: coverage.as_ref(),
        manifest: &manifest,
        ctx: &ctx,
        history: &history,
        splits: &splits,
    };
    let since = since.as_ref().map(|f| f.suites.as_slice());
    here.report(args, &timings, since).await
}

/// `--dry-run` with coverage: where the fragments go and the profile they merge into.
fn dry_run_profile(
    args: &TestArgs,
    workspace_dir: &std::path::Path,
    plan_ctx: &TestPlanContext,
) -> Option<String> {
    let mode = plan_ctx.cover?;
    let fragments = crate::plan::cover::fragments_dir(workspace_dir);
    let profile = super::cover::profile_path(args, workspace_dir)?;
    Some(format!(
        "# coverage ({} mode): each run writes a fragment in {}/, merged into {}",
        mode.name(),
        crate::base::paths::relative_to(&fragments, workspace_dir).display(),
        profile.display()
    ))
}

/// `--since`: the selection of each suite, told with `--explain`.
fn since_selection(
    ctx: &Context,
    manifest: &crate::manifest::Manifest,
    expanded: &[ExpandedSuite],
    packages: &[Vec<TestPackage>],
    since: &str,
    args: &TestArgs,
) -> Result<Affected, GobError> {
    let found =
        super::affected::affected(ctx, manifest, expanded, packages, since, args.since_strict)?;
    if args.explain {
        eprint!("{}", super::affected::report(&found, expanded, since));
    }
    Ok(found)
}

/// The suites' packages with tests, as the selection stage takes them.
pub fn candidates(expanded: &[ExpandedSuite], packages: &[Vec<TestPackage>]) -> Vec<Candidates> {
    expanded
        .iter()
        .zip(packages)
        .map(|(suite, packages)| Candidates {
            suite: suite.spec.name.clone(),
            packages: packages.iter().map(|p| p.import_path.clone()).collect(),
        })
        .collect()
}

/// The packages of each suite the selection stage chose.
fn chosen(packages: &[Vec<TestPackage>], selected: &Selected) -> Vec<Vec<TestPackage>> {
    packages
        .iter()
        .zip(&selected.suites)
        .map(|(packages, choice)| {
            packages
                .iter()
                .filter(|p| choice.runs(&p.import_path))
                .cloned()
                .collect()
        })
        .collect()
}

/// Packages longest first by `history` ([`crate::plan::order`]): go test starts its runs in
/// the order it is given them, and the compile call of an integration suite hands gob the
/// binaries in that order, so on a `remote` cluster the longest are ready first. Integration
/// suites run here keep their order (one binary at a time: the order changes nothing).
fn longest_first(
    expanded: &[ExpandedSuite],
    mut runs: Vec<Vec<TestPackage>>,
    history: &crate::report::timings::History,
    remote: bool,
) -> Vec<Vec<TestPackage>> {
    for (suite, packages) in expanded.iter().zip(&mut runs) {
        if !suite.spec.integ || remote {
            let name = &suite.spec.name;
            crate::plan::order::sort_longest_first(packages, |p| {
                (
                    p.import_path.as_str(),
                    history.seconds(name, &p.import_path),
                )
            });
        }
    }
    runs
}

/// `--dry-run`: the cluster, then each suite's commands.
fn print_dry_run(
    expanded: &[ExpandedSuite],
    runs: &[Vec<TestPackage>],
    user_args: &[String],
    plan_ctx: &TestPlanContext,
    remote: Option<&RemoteExecutor>,
) {
    if let Some(remote) = remote {
        println!("{}", remote.describe());
    }
    for (suite, packages) in expanded.iter().zip(runs) {
        let store = integ_store(suite.spec, plan_ctx);
        let token = crate::testexec::read_token(&store).unwrap_or_else(|| "NEW-TOKEN".into());
        let text =
            crate::plan::dryrun::test_suite(suite.spec, packages, user_args, &token, plan_ctx);
        print!("{text}");
        let profile = crate::plan::cover::fragment(
            &plan_ctx.workspace_dir,
            &suite.spec.name,
            Some("untested"),
            1,
        );
        let untested = suite.without_tests();
        if let Some(command) =
            crate::plan::test::plan_untested(suite.spec, &untested, &profile, plan_ctx)
        {
            println!(
                "# the packages without test files, counted as go test -coverprofile counts them\n{command}"
            );
        }
    }
}

/// The suites a run runs on this machine (or sends to the cluster), with what the selection
/// stage chose.
struct Here<'a> {
    suites: &'a [ExpandedSuite<'a>],
    runs: &'a [Vec<TestPackage>],
    selected: &'a Selected,
    plan_ctx: &'a TestPlanContext,
    user_args: &'a [String],
    remote: Option<&'a RemoteExecutor>,
    test2json: Option<String>,
    /// Starts suites' services.
    tasks: &'a Tasks<'a>,
    /// A service that ended while its suite needed it.
    service_failed: std::cell::Cell<Option<String>>,
    /// The coverage the run writes, if it writes a profile.
    coverage: Option<&'a Coverage>,
    manifest: &'a crate::manifest::Manifest,
    ctx: &'a Context,
    /// The timing history, for the order runs start in.
    history: &'a crate::report::timings::History,
    /// The groups of packages split by test.
    splits: &'a crate::plan::split::Splits,
}

impl Here<'_> {
    /// Runs every suite with the reports asked for, records what failed, and ends as the
    /// results say.
    async fn report(
        &self,
        args: &TestArgs,
        timings: &std::path::Path,
        since: Option<&[crate::plan::affected::Selection]>,
    ) -> Result<(), GobError> {
        let (ctx, manifest) = (self.ctx, self.manifest);
        let timings_out = super::sharding::timings_out(
            args.timings_out.as_ref(),
            args.shard,
            &manifest.workspace_dir,
            timings,
        );
        let options = ReportOptions {
            env: crate::commands::context::report_env(),
            json: args.json,
            junit: args.junit.clone(),
            timings: Some(timings_out),
            workspace_dir: manifest.workspace_dir.clone(),
        };
        let mut reporter = Reporter::new(options.sinks());
        if args.explain {
            for event in selection::events(self.selected, since) {
                reporter.gob(event);
            }
        }
        let interrupted = self.run(args, &mut reporter).await?;
        if let (Some(coverage), None) = (self.coverage, interrupted) {
            coverage.finish(&mut reporter).await?;
        }
        if let Some(event) = ctx.remote_cache_event() {
            reporter.gob(event);
        }
        if let Some(remote) = self.remote {
            reporter.gob(remote.summary());
        }
        write_reports(&mut reporter, args.junit.as_ref())?;
        if let Some(sig) = interrupted {
            return Err(GobError::Interrupted(sig));
        }
        let failed_path = manifest.workspace_dir.join(FAILED_FILE);
        let mut failed_record = load_failed(&failed_path);
        record_failed(&mut failed_record, &reporter.results);
        save_failed(&manifest.workspace_dir, &failed_path, &failed_record);
        if let Some(why) = self.service_failed.take() {
            return Err(GobError::Failed(why));
        }
        outcome(&reporter.results)
    }
}

impl Here<'_> {
    /// Runs every suite, one after another; returns the signal that stopped the run.
    async fn run(&self, args: &TestArgs, reporter: &mut Reporter) -> Result<Option<i32>, GobError> {
        for ((suite, packages), choice) in
            self.suites.iter().zip(self.runs).zip(&self.selected.suites)
        {
            let started = Instant::now();
            let first_result = reporter.results.len();
            let (mut spec, services) =
                match start_for_suite(self.tasks, suite.spec, packages, reporter).await {
                    Ok(Some(ready)) => ready,
                    Ok(None) => continue,
                    Err(sig) => return Ok(Some(sig)),
                };
            let covered_binaries = self.coverage.is_some() && spec.cover_binaries;
            if let Some(coverage) = self.coverage
                && spec.cover_binaries
            {
                coverage
                    .cover_binaries(self.manifest, self.ctx, &mut spec, reporter)
                    .await?;
            }
            let remote = match (self.remote, spec.services.is_empty()) {
                (Some(_), false) if spec.integ => {
                    eprintln!(
                        "gob: note: suite {} needs services ({}): its test binaries run on this machine",
                        spec.name,
                        services.names().join(", ")
                    );
                    None
                }
                (Some(_), true) if spec.integ && covered_binaries => {
                    eprintln!(
                        "gob: note: suite {} starts binaries built with coverage (cover_binaries): its test binaries run on this machine",
                        spec.name
                    );
                    None
                }
                (remote, _) => remote,
            };
            let dirs = packages
                .iter()
                .map(|p| (p.import_path.clone(), p.dir.clone()))
                .collect();
            let compile = match spec.integ {
                true => Some(prepare_compile(&spec, packages, self.plan_ctx)?),
                false => None,
            };
            let policy = SuitePolicy {
                flaky_fails: suite.spec.flaky_fails,
                slow: suite.spec.slow,
            };
            reporter.suite_started(&suite.spec.name, suite.spec.integ, dirs, policy);
            let package_args = choice.package_args();
            reporter.partial(package_args.keys().cloned());
            let parts = self
                .splits
                .iter()
                .filter(|((suite, _), _)| *suite == spec.name)
                .map(|((_, package), groups)| (package.clone(), groups.clone()))
                .collect();
            let recorded = packages
                .iter()
                .filter_map(|p| {
                    let seconds = self.history.seconds(&spec.name, &p.import_path)?;
                    Some((p.import_path.clone(), seconds))
                })
                .collect();
            let run = SuiteRun {
                suite: &spec,
                packages,
                user_args: self.user_args,
                ctx: self.plan_ctx,
                package_args: &package_args,
                remote,
                cover: self.coverage.map(|c| &c.fragments),
                recorded: &recorded,
                parts: &parts,
            };
            let converter = self.test2json.as_deref().map(Converter::Go);
            let mut end = match (converter, compile, packages.is_empty()) {
                (_, _, true) => Default::default(),
                (Some(converter), Some(compile), false) => {
                    integ::run(&run, compile, converter, reporter).await?
                }
                _ => unit::run(&run, reporter).await?,
            };
            if let (Some(coverage), None) = (self.coverage, end.interrupted) {
                let untested = suite.without_tests();
                coverage.untested(&spec, &untested, self.plan_ctx).await?;
            }
            let retries = args.retries.unwrap_or(suite.spec.retries);
            if end.interrupted.is_none() && retries > 0 {
                end.interrupted = rerun_failures(
                    &run,
                    &end.binaries,
                    retries,
                    args.max_retried_failures,
                    converter,
                    reporter,
                    first_result,
                )
                .await?;
            }
            let summary = SuiteEnd {
                skipped: suite.without_tests(),
                not_affected: choice.not_affected(),
                compile_calls: end.compile_calls,
            };
            suite_ended(reporter, &suite.spec.name, first_result, summary, started);
            if let Some(error) = stop_for_suite(services, reporter).await {
                self.service_failed.set(Some(error.to_string()));
            }
            if end.interrupted.is_some() {
                return Ok(end.interrupted);
            }
        }
        Ok(None)
    }
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
fn race_and_plain_note(expanded: &[ExpandedSuite]) -> Option<String> {
    let pairs = expanded.iter().flat_map(|s| {
        s.packages
            .iter()
            .map(|p| (s.spec.race, p.import_path.as_str()))
    });
    race_and_plain_paths(pairs)
}

/// The note of [`race_and_plain_note`] over (race, import path) pairs.
fn race_and_plain_paths<'a>(
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
        let note = race_and_plain_paths(pairs.iter().copied()).unwrap();
        assert!(
            note.contains("1 package is built both with -race and without in this run (m/b)"),
            "{note}"
        );
        assert!(race_and_plain_paths([(true, "m/a"), (false, "m/c")].into_iter()).is_none());
    }
}
