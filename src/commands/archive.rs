//! `gob test --archive PATH` compiles the chosen packages' test binaries (one go call per
//! suite, as `gob test --integ` does) and packs them with what they read at run time
//! ([`crate::exec::archive`]); `gob test --from-archive PATH` runs them as `gob test
//! --integ` does, one at a time in their package dirs, with gob's own test2json: no go, no
//! source tree, no manifest. The selection stage chooses on both paths.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::cover::Coverage;
use crate::base::paths::{normalize, relative_to};
use crate::base::state::{FAILED_FILE, STATE_DIR, TIMINGS_FILE};
use crate::cli::TestArgs;
use crate::commands::context::{Context, Globals, budget_env};
use crate::commands::outcome::{SuiteEnd, outcome, suite_ended, write_reports};
use crate::commands::retries::{load_failed, record_failed, save_failed};
use crate::commands::selection;
use crate::commands::tasks::{Tasks, start_for_suite, stop_for_suite};
use crate::error::GobError;
use crate::exec::archive::{
    ArchivedPackage, ArchivedService, ArchivedSuite, FORMAT, Index, MARKER, Source, claim, pack,
    read_index, unpack,
};
use crate::exec::lock::WorkspaceLock;
use crate::go::coverprofile::Mode;
use crate::manifest::{Manifest, Ready, ReadyCheck, SuiteSpec, TaskRun, TaskSpec};
use crate::plan::select::{Candidates, Selected, SuiteChoice};
use crate::plan::test::{IntegCompile, TestBinary, TestPlanContext};
use crate::report::{ReportOptions, Reporter, SuitePolicy};
use crate::runners::compile::CompileMessage;
use crate::runners::{Converter, SuiteRun, integ};
use crate::workspace::inputs::{Found, files_under, matching};
use crate::workspace::suites::{ExpandedSuite, TestPackage, UnknownSuite};

/// Compiles the test binaries of `suites` (their `packages`) and writes the archive.
pub async fn write(
    path: &Path,
    manifest: &Manifest,
    ctx: &Context,
    suites: &[ExpandedSuite<'_>],
    packages: &[Vec<TestPackage>],
    user_args: &[String],
    cover: Option<crate::go::coverprofile::Mode>,
) -> Result<(), GobError> {
    let started = Instant::now();
    let mut plan_ctx = ctx.test_plan_context(manifest)?;
    plan_ctx.cover = cover;
    let tasks = Tasks::new(manifest, ctx);
    let workspace = &manifest.workspace_dir;
    let bin_root = workspace.join(crate::base::state::TEST_BIN_DIR);
    let mut files: Vec<(PathBuf, Source)> = Vec::new();
    let mut found = Found::default();
    let mut archived = Vec::new();
    for (suite, packages) in suites.iter().zip(packages) {
        let plan = super::integ::prepare_compile(suite.spec, packages, &plan_ctx)?;
        let binaries = compile(plan, &suite.spec.name).await?;
        let mut entries = Vec::new();
        for binary in binaries {
            let name = format!("bin/{}", relative_to(&binary.path, &bin_root).display());
            let dir = archive_dir(&binary.package.dir, workspace);
            files.push((PathBuf::from(&name), Source::File(binary.path.clone())));
            // A package outside the workspace (a go.work module elsewhere) is archived
            // under the name its binary's dir has in the archive, not the build machine's.
            let (base, prefix) = match binary.package.dir.starts_with(workspace) {
                true => (workspace.as_path(), PathBuf::new()),
                false => (binary.package.dir.as_path(), PathBuf::from(&dir)),
            };
            files_under(
                &binary.package.dir.join("testdata"),
                base,
                &prefix,
                &mut found,
            );
            entries.push(ArchivedPackage {
                import_path: binary.package.import_path.clone(),
                dir,
                build_id: crate::go::buildid::build_id(&binary.path)
                    .ok()
                    .flatten()
                    .map(|id| String::from_utf8_lossy(&id).into_owned()),
                binary: name,
            });
        }
        if !suite.spec.include.is_empty() {
            matching(workspace, workspace, &suite.spec.include, &mut found);
        }
        let mut args = suite.spec.args.clone();
        args.extend(user_args.iter().cloned());
        let names: Vec<String> = suite
            .spec
            .services
            .iter()
            .map(|s| s.value.clone())
            .collect();
        archived.push(ArchivedSuite {
            name: suite.spec.name.clone(),
            integ: suite.spec.integ,
            timeout: suite.spec.timeout.as_secs_f64(),
            env: suite.spec.env.clone(),
            args,
            split: suite.spec.split.map(|s| s.as_secs_f64()),
            packages: entries,
            services: tasks
                .services(&names)
                .into_iter()
                .map(|t| archived_service(t, &tasks))
                .collect(),
        });
    }
    let binaries = files.len();
    let dereferenced = add_sources(&found, &mut files);
    let index = Index {
        format: FORMAT,
        gob: env!("CARGO_PKG_VERSION").to_string(),
        go_version: ctx.version.raw.clone(),
        goos: ctx.go_env.goos.clone(),
        goarch: ctx.go_env.goarch.clone(),
        suites: archived,
        dereferenced,
        cover: cover.map(|m| m.name().to_string()),
    };
    pack(path, &index, &files).map_err(|e| GobError::Usage(e.to_string()))?;
    let links = match index.dereferenced.len() {
        0 => String::new(),
        n => format!(
            "; {} pointed outside the archive and {} stored as the files they point to",
            crate::report::plural(n, "link"),
            if n == 1 { "is" } else { "are" }
        ),
    };
    eprintln!(
        "gob: wrote {} ({binaries} test {}, {} more files{links}) in {:.1}s",
        path.display(),
        if binaries == 1 { "binary" } else { "binaries" },
        files.len() - binaries,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A service as an archive carries it: its command with the stamps filled in.
fn archived_service(task: &TaskSpec, tasks: &Tasks) -> ArchivedService {
    let argv = match &task.run {
        TaskRun::Argv(argv) => argv.iter().map(|a| tasks.expand(a)).collect(),
        TaskRun::Shell(line) => vec!["sh".into(), "-c".into(), tasks.expand(line)],
    };
    let (ready_tcp, ready_run) = match task.ready.as_ref().map(|r| &r.check) {
        Some(ReadyCheck::Tcp(address)) => (Some(address.clone()), None),
        Some(ReadyCheck::Run(argv)) => (None, Some(argv.clone())),
        None => (None, None),
    };
    ArchivedService {
        name: task.name.clone(),
        argv,
        dir: task.dir.clone(),
        env: task
            .env
            .iter()
            .map(|(k, v)| (k.clone(), tasks.expand(v)))
            .collect(),
        ready_tcp,
        ready_run,
        ready_timeout: task.ready.as_ref().map_or(0.0, |r| r.timeout.as_secs_f64()),
    }
}

/// The services of an archive's suites as tasks, each once.
fn service_tasks(suites: &[&ArchivedSuite]) -> Vec<TaskSpec> {
    let mut tasks: Vec<TaskSpec> = Vec::new();
    for service in suites.iter().flat_map(|s| &s.services) {
        if tasks.iter().any(|t| t.name == service.name) {
            continue;
        }
        let check = match (&service.ready_tcp, &service.ready_run) {
            (Some(address), _) => Some(ReadyCheck::Tcp(address.clone())),
            (None, Some(argv)) if !argv.is_empty() => Some(ReadyCheck::Run(argv.clone())),
            _ => None,
        };
        tasks.push(TaskSpec {
            name: service.name.clone(),
            span: 0..0,
            run: TaskRun::Argv(service.argv.clone()),
            sources: Default::default(),
            outputs: Default::default(),
            deps: Vec::new(),
            dir: service.dir.clone(),
            env: service.env.clone(),
            service: true,
            ready: check.map(|check| Ready {
                check,
                timeout: Duration::try_from_secs_f64(service.ready_timeout)
                    .unwrap_or(crate::manifest::DEFAULT_READY_TIMEOUT),
            }),
        });
    }
    tasks
}

/// A package dir's name in the archive: relative to the workspace, or `_outside/<hash>`
/// for a dir outside it (as the integration test store names it).
fn archive_dir(dir: &Path, workspace: &Path) -> String {
    let kept = crate::testexec::kept_dir(Path::new(""), workspace, dir);
    match kept.as_os_str().is_empty() {
        true => ".".to_string(),
        false => kept.display().to_string(),
    }
}

/// Compiles a suite's test binaries, printing go's output; every package must build.
async fn compile(plan: IntegCompile, suite: &str) -> Result<Vec<TestBinary>, GobError> {
    let (sender, mut messages) = tokio::sync::mpsc::unbounded_channel();
    let mut binaries = Vec::new();
    let mut failed = false;
    let receiving = async {
        while let Some(message) = messages.recv().await {
            match message {
                CompileMessage::Line(line) => eprintln!("{line}"),
                CompileMessage::Ready(binary) => binaries.push(binary),
                CompileMessage::Failed(_) => failed = true,
                CompileMessage::Started { .. } | CompileMessage::Ended { .. } => {}
            }
        }
    };
    let (stopped, ()) = tokio::join!(crate::runners::compile::compile(plan, sender), receiving);
    if let Some(sig) = stopped? {
        return Err(GobError::Interrupted(sig));
    }
    match failed {
        true => Err(GobError::Failed(format!(
            "suite {suite}: its test binaries did not compile; no archive written"
        ))),
        false => Ok(binaries),
    }
}

/// Adds the files tests read as `src/<path>`: a link whose target the archive holds stays a
/// link; one that points elsewhere becomes the file it points to. Returns those.
fn add_sources(found: &Found, files: &mut Vec<(PathBuf, Source)>) -> Vec<String> {
    let mut dereferenced = Vec::new();
    for (rel, path) in &found.files {
        let name = Path::new("src").join(rel);
        let kept = found.file_links.get(rel).filter(|target| {
            let parent = rel.parent().unwrap_or(Path::new(""));
            crate::base::paths::join_within(parent, target)
                .is_some_and(|t| found.files.contains_key(&t))
        });
        match (kept, found.file_links.contains_key(rel)) {
            (Some(target), _) => files.push((name, Source::Link(target.clone()))),
            (None, true) => {
                dereferenced.push(name.display().to_string());
                files.push((name, Source::File(path.clone())));
            }
            (None, false) => files.push((name, Source::File(path.clone()))),
        }
    }
    dereferenced
}

/// Runs the test binaries of the archive at `path`.
pub async fn run_from(globals: &Globals, args: &TestArgs, path: &Path) -> Result<(), GobError> {
    let default = globals.cwd.join(STATE_DIR).join("archive");
    let extract = match &args.extract_dir {
        Some(dir) => globals.cwd.join(dir),
        None => default.clone(),
    };
    let timings = args
        .selection
        .timings
        .as_ref()
        .map(|t| globals.cwd.join(t))
        .unwrap_or_else(|| globals.cwd.join(TIMINGS_FILE));
    let failed_path = globals.cwd.join(FAILED_FILE);
    if args.dry_run {
        let index = read_index(path).map_err(|e| GobError::Usage(e.to_string()))?;
        let state = (timings.as_path(), failed_path.as_path());
        let (suites, mut ctx, selected) = choose(args, globals, &index, (&extract, path), state)?;
        if super::cover::mode(args, &[])?.is_none() {
            ctx.cover = None;
        }
        print!(
            "{}",
            dry_run(&suites, &selected.suites, &extract, args, &ctx)
        );
        return Ok(());
    }
    // The index alone first: an archive of a newer gob or for another machine is refused
    // before anything is written.
    read_index(path).map_err(|e| GobError::Usage(e.to_string()))?;
    if extract == default && !extract.join(MARKER).exists() {
        // gob's own state dir: an extraction of an older gob has no marker yet.
        crate::base::paths::remove_tree(&extract).map_err(|source| GobError::Io {
            action: "cannot clear",
            path: extract.clone(),
            source,
        })?;
    }
    claim(&extract).map_err(|e| GobError::Usage(e.to_string()))?;
    let what = "lock of the extraction dir";
    let _lock = WorkspaceLock::acquire_file(&extract, MARKER, what, globals.no_wait).await?;
    let index = unpack(path, &extract).map_err(|e| GobError::Usage(e.to_string()))?;
    let state = (timings.as_path(), failed_path.as_path());
    let (suites, mut plan_ctx, selected) = choose(args, globals, &index, (&extract, path), state)?;
    if let Some(message) = selection::nothing_to_run(&selected, args, None) {
        eprintln!("{message}");
        return super::cover::nothing_covered(args, cover_of(&index, path)?);
    }
    let coverage = archive_coverage(args, &mut plan_ctx, path)?;
    let runs: Vec<Vec<TestBinary>> = suites
        .iter()
        .zip(&selected.suites)
        .map(|(suite, choice)| {
            suite
                .packages
                .iter()
                .filter(|p| choice.runs(&p.import_path))
                .map(|p| binary_of(p, &extract))
                .collect()
        })
        .collect();
    for binary in runs.iter().flatten() {
        // A package dir holds what the archive brought (testdata) or nothing: it must
        // exist, since the binary runs in it.
        std::fs::create_dir_all(&binary.package.dir).map_err(|source| GobError::Io {
            action: "cannot create",
            path: binary.package.dir.clone(),
            source,
        })?;
    }
    let timings_out = super::sharding::timings_out(
        args.timings_out.as_ref(),
        args.shard,
        &globals.cwd,
        &timings,
    );
    let options = ReportOptions {
        env: crate::commands::context::report_env(),
        json: args.json,
        junit: args.junit.clone(),
        timings: Some(timings_out),
        workspace_dir: extract.join("src"),
    };
    let mut reporter = Reporter::new(options.sinks());
    let services = service_tasks(&suites);
    let tasks = Tasks::in_archive(
        &services,
        extract.join("src"),
        globals.cwd.join(crate::base::state::TASKS_DIR),
        plan_ctx.base_env.clone(),
    );
    let here = Here {
        plan_ctx: &plan_ctx,
        tasks: &tasks,
        coverage: coverage.as_ref(),
    };
    let (interrupted, service_failed) =
        run_suites(args, &suites, &runs, &selected.suites, &here, &mut reporter).await?;
    if let (Some(coverage), None) = (&coverage, interrupted) {
        coverage.finish(&mut reporter).await?;
    }
    write_reports(&mut reporter, args.junit.as_ref())?;
    if let Some(sig) = interrupted {
        return Err(GobError::Interrupted(sig));
    }
    let mut failed_record = load_failed(&failed_path);
    record_failed(&mut failed_record, &reporter.results);
    save_failed(&globals.cwd, &failed_path, &failed_record);
    if let Some(error) = service_failed {
        return Err(error);
    }
    outcome(&reporter.results)
}

/// The coverage of a run from an archive: only of binaries built with it, never with go's
/// reports (no go here: `go tool cover -html` runs where the source is).
fn archive_coverage(
    args: &TestArgs,
    plan_ctx: &mut TestPlanContext,
    path: &Path,
) -> Result<Option<Coverage>, GobError> {
    let archived = plan_ctx.cover;
    plan_ctx.cover = None;
    let wanted = super::cover::mode(args, &[])?;
    if wanted.is_none() {
        return Ok(None);
    }
    if args.cover_html.is_some() {
        return Err(GobError::Usage(
            "--cover-html needs go and the source: write --coverprofile here and run go tool cover -html=PROFILE where the source is".into(),
        ));
    }
    let Some(mode) = archived else {
        return Err(GobError::Usage(format!(
            "{}: its test binaries were built without coverage; write it with `gob test --archive {} --cover`",
            path.display(),
            path.display()
        )));
    };
    plan_ctx.cover = Some(mode);
    Coverage::start(args, Some(mode), &plan_ctx.workspace_dir)
}

/// The archive's suites a run selects, the plan inputs of the extraction in `at` (the dir,
/// and the archive's path), and the selection stage's choice, from the timing history and
/// the failed record in `state` (the groups of split packages from that history too).
fn choose<'i>(
    args: &TestArgs,
    globals: &Globals,
    index: &'i Index,
    at: (&Path, &Path),
    state: (&Path, &Path),
) -> Result<(Vec<&'i ArchivedSuite>, TestPlanContext, Selected), GobError> {
    let (extract, path) = at;
    let (timings, failed_path) = state;
    let suites = select_suites(index, &args.selection)?;
    let ctx = archive_plan_context(globals, index, extract, path)?;
    let targets = suites
        .iter()
        .filter_map(|s| Some((s.name.clone(), s.split?)))
        .collect();
    let candidates = candidates(&suites);
    let user_args = args.binary_args();
    let history = crate::report::timings::History::load(timings);
    let splits = super::sharding::splits(&candidates, &targets, &history, &ctx.version, &user_args);
    let selected = selection::choose(args, &candidates, None, failed_path, &history, &splits)?;
    Ok((suites, ctx, selected))
}

/// The archive's suites as candidates of the selection stage.
fn candidates(suites: &[&ArchivedSuite]) -> Vec<Candidates> {
    suites
        .iter()
        .map(|s| Candidates {
            suite: s.name.clone(),
            packages: s.packages.iter().map(|p| p.import_path.clone()).collect(),
        })
        .collect()
}

/// What the test plans need of an archive: no go, the extraction as the workspace.
fn archive_plan_context(
    globals: &Globals,
    index: &Index,
    extract: &Path,
    path: &Path,
) -> Result<TestPlanContext, GobError> {
    let (_, base_env) = budget_env(globals)?;
    Ok(TestPlanContext {
        go: "go".to_string(),
        workspace_dir: extract.join("src"),
        base_env,
        version: crate::go::version::GoVersion::parse(&index.go_version).ok_or_else(|| {
            GobError::Usage(format!(
                "{}: unknown Go version {}",
                path.display(),
                index.go_version
            ))
        })?,
        gob: String::new(),
        goflags: String::new(),
        cover: cover_of(index, path)?,
    })
}

/// The counter mode of an archive's binaries (`None`: not instrumented).
fn cover_of(index: &Index, path: &Path) -> Result<Option<Mode>, GobError> {
    match &index.cover {
        None => Ok(None),
        Some(name) => Mode::parse(name).map(Some).ok_or_else(|| {
            GobError::Usage(format!("{}: unknown coverage mode {name}", path.display()))
        }),
    }
}

/// An archived package's binary where the extraction put it.
fn binary_of(package: &ArchivedPackage, extract: &Path) -> TestBinary {
    TestBinary {
        package: TestPackage {
            import_path: package.import_path.clone(),
            dir: normalize(&extract.join("src").join(&package.dir)),
        },
        path: extract.join(&package.binary),
    }
}

/// A suite of an archive as a suite spec (what its runs need).
fn spec_of(suite: &ArchivedSuite) -> SuiteSpec {
    SuiteSpec {
        name: suite.name.clone(),
        integ: suite.integ,
        timeout: Duration::try_from_secs_f64(suite.timeout).unwrap_or(Duration::ZERO),
        env: suite.env.clone(),
        args: suite.args.clone(),
        services: suite
            .services
            .iter()
            .map(|s| crate::manifest::Located {
                value: s.name.clone(),
                span: 0..0,
            })
            .collect(),
        ..SuiteSpec::default()
    }
}

/// `--dry-run` of an archive: each chosen binary's run, in order, from the index alone.
fn dry_run(
    suites: &[&ArchivedSuite],
    choices: &[SuiteChoice],
    extract: &Path,
    args: &TestArgs,
    ctx: &TestPlanContext,
) -> String {
    let mut out = String::new();
    for (suite, choice) in suites.iter().zip(choices) {
        let binaries: Vec<TestBinary> = suite
            .packages
            .iter()
            .filter(|p| choice.runs(&p.import_path))
            .map(|p| binary_of(p, extract))
            .collect();
        out.push_str(&crate::plan::dryrun::archive_suite(
            &spec_of(suite),
            &binaries,
            &args.binary_args(),
            &choice.package_args(),
            ctx,
        ));
    }
    out
}

/// Where an archive's binaries run: the plan inputs, the services' tasks, the coverage.
#[derive(Clone, Copy)]
struct Here<'a> {
    plan_ctx: &'a TestPlanContext,
    tasks: &'a Tasks<'a>,
    coverage: Option<&'a Coverage>,
}

/// Runs the chosen binaries of each suite (its services started first), then their retries;
/// returns the signal that stopped the run, and the failure of a service that ended while a
/// suite needed it.
async fn run_suites(
    args: &TestArgs,
    suites: &[&ArchivedSuite],
    runs: &[Vec<TestBinary>],
    choices: &[SuiteChoice],
    here: &Here<'_>,
    reporter: &mut Reporter,
) -> Result<(Option<i32>, Option<GobError>), GobError> {
    let Here {
        plan_ctx,
        tasks,
        coverage,
    } = *here;
    let user_args = args.binary_args();
    let mut service_failed = None;
    for ((suite, binaries), choice) in suites.iter().zip(runs).zip(choices) {
        let started = Instant::now();
        let first_result = reporter.results.len();
        let packages: Vec<TestPackage> = binaries.iter().map(|b| b.package.clone()).collect();
        let (spec, services) =
            match start_for_suite(tasks, &spec_of(suite), &packages, reporter).await {
                Ok(Some(ready)) => ready,
                Ok(None) => continue,
                Err(sig) => return Ok((Some(sig), service_failed)),
            };
        let dirs = packages
            .iter()
            .map(|p| (p.import_path.clone(), p.dir.clone()))
            .collect();
        reporter.suite_started(&spec.name, spec.integ, dirs, SuitePolicy::default());
        let package_args = choice.package_args();
        reporter.partial(package_args.keys().cloned());
        let run = SuiteRun {
            suite: &spec,
            packages: &packages,
            user_args: &user_args,
            ctx: plan_ctx,
            package_args: &package_args,
            remote: None,
            cover: coverage.map(|c| &c.fragments),
            recorded: &Default::default(),
            parts: &Default::default(),
        };
        let mut interrupted = None;
        for binary in binaries {
            let extra = run.args_of(&binary.package.import_path);
            let stopped = integ::rerun(&run, binary, extra, Converter::Native, reporter).await?;
            if stopped.is_some() {
                interrupted = stopped;
                break;
            }
        }
        if interrupted.is_none()
            && let Some(retries) = args.retries
        {
            interrupted = super::retries::rerun_failures(
                &run,
                binaries,
                retries,
                args.max_retried_failures,
                Some(Converter::Native),
                reporter,
                first_result,
            )
            .await?;
        }
        let summary = SuiteEnd {
            skipped: Vec::new(),
            not_affected: 0,
            compile_calls: 0,
        };
        suite_ended(reporter, &spec.name, first_result, summary, started);
        if let Some(error) = stop_for_suite(services, reporter).await {
            service_failed = Some(error);
        }
        if interrupted.is_some() {
            return Ok((interrupted, service_failed));
        }
    }
    Ok((None, service_failed))
}

/// The archive's suites named on the command line; with none named, its integration suites
/// with `--integ`, else every suite it holds.
fn select_suites<'i>(
    index: &'i Index,
    selection: &crate::cli::SuiteSelection,
) -> Result<Vec<&'i ArchivedSuite>, GobError> {
    let names = &selection.suites;
    if names.is_empty() {
        return Ok(index
            .suites
            .iter()
            .filter(|s| s.integ || !selection.integ)
            .collect());
    }
    let known: Vec<&str> = index.suites.iter().map(|s| s.name.as_str()).collect();
    names
        .iter()
        .map(|name| {
            index
                .suites
                .iter()
                .find(|s| &s.name == name)
                .ok_or_else(|| {
                    GobError::UnknownSuite(UnknownSuite {
                        name: name.clone(),
                        suggestion: crate::manifest::closest(name, &known).map(String::from),
                    })
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(files: &[&str], links: &[(&str, &str)]) -> Found {
        let mut found = Found::default();
        for f in files {
            found
                .files
                .insert(PathBuf::from(f), PathBuf::from("/ws").join(f));
        }
        for (at, target) in links {
            found
                .files
                .insert(PathBuf::from(at), PathBuf::from("/ws").join(at));
            found
                .file_links
                .insert(PathBuf::from(at), PathBuf::from(target));
        }
        found
    }

    #[test]
    fn links_to_archived_files_stay_links_and_others_become_files() {
        let found = found(
            &["p/testdata/in.txt"],
            &[
                ("p/testdata/near.txt", "in.txt"),
                ("p/testdata/far.txt", "../../shared/golden.txt"),
                ("p/testdata/abs.txt", "/etc/hostname"),
            ],
        );
        let mut files = Vec::new();
        let dereferenced = add_sources(&found, &mut files);
        assert_eq!(
            dereferenced,
            ["src/p/testdata/abs.txt", "src/p/testdata/far.txt"]
        );
        let near = files
            .iter()
            .find(|(n, _)| n == Path::new("src/p/testdata/near.txt"))
            .unwrap();
        assert_eq!(near.1, Source::Link("in.txt".into()));
    }

    #[test]
    fn package_dirs_outside_the_workspace_get_a_stable_name() {
        let ws = Path::new("/w");
        assert_eq!(archive_dir(Path::new("/w/a/b"), ws), "a/b");
        assert_eq!(archive_dir(Path::new("/w"), ws), ".");
        let outside = archive_dir(Path::new("/elsewhere/mod/pkg"), ws);
        assert!(outside.starts_with("_outside/"), "{outside}");
        assert_eq!(outside, archive_dir(Path::new("/elsewhere/mod/pkg"), ws));
    }
}
