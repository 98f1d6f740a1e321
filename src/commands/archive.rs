//! `gob test --archive PATH` compiles the selected suites' test binaries (one go call per
//! suite, as `gob test --integ` does) and packs them with what they read at run time
//! ([`crate::exec::archive`]); `gob test --from-archive PATH` runs them as `gob test
//! --integ` does, one at a time in their package dirs, with gob's own test2json: no go, no
//! source tree, no manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::base::paths::relative_to;
use crate::cli::TestArgs;
use crate::commands::context::{Context, Globals, budget_env};
use crate::commands::outcome::{SuiteEnd, outcome, suite_ended, write_reports};
use crate::error::GobError;
use crate::exec::archive::{ArchivedPackage, ArchivedSuite, FORMAT, Index, pack, unpack};
use crate::manifest::{Manifest, SuiteSpec};
use crate::plan::test::{IntegCompile, TestBinary, TestPlanContext};
use crate::report::timings::History;
use crate::report::{ReportOptions, Reporter, SuitePolicy};
use crate::runners::compile::CompileMessage;
use crate::runners::{Converter, SuiteRun, integ};
use crate::workspace::inputs::{files_under, matching};
use crate::workspace::suites::{ExpandedSuite, TestPackage, UnknownSuite};

/// Compiles the test binaries of `suites` (their `packages`) and writes the archive.
pub async fn write(
    path: &Path,
    manifest: &Manifest,
    ctx: &Context,
    suites: &[ExpandedSuite<'_>],
    packages: &[Vec<TestPackage>],
    user_args: &[String],
) -> Result<(), GobError> {
    let started = Instant::now();
    let plan_ctx = ctx.test_plan_context(manifest)?;
    let workspace = &manifest.workspace_dir;
    let bin_root = workspace.join(crate::base::state::TEST_BIN_DIR);
    let mut files: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut archived = Vec::new();
    for (suite, packages) in suites.iter().zip(packages) {
        let plan = super::test::prepare_integ_compile(suite.spec, packages, &plan_ctx)?;
        let binaries = compile(plan, &suite.spec.name).await?;
        let mut entries = Vec::new();
        for binary in binaries {
            let name = format!("bin/{}", relative_to(&binary.path, &bin_root).display());
            let dir = relative_to(&binary.package.dir, workspace)
                .display()
                .to_string();
            files.insert(name.clone(), binary.path.clone());
            let mut testdata = BTreeMap::new();
            files_under(
                &binary.package.dir.join("testdata"),
                workspace,
                &mut testdata,
            );
            add_sources(testdata, &mut files);
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
            let mut included = BTreeMap::new();
            matching(workspace, workspace, &suite.spec.include, &mut included);
            add_sources(included, &mut files);
        }
        let mut args = suite.spec.args.clone();
        args.extend(user_args.iter().cloned());
        archived.push(ArchivedSuite {
            name: suite.spec.name.clone(),
            integ: suite.spec.integ,
            timeout: suite.spec.timeout.as_secs_f64(),
            env: suite.spec.env.clone(),
            args,
            packages: entries,
        });
    }
    let index = Index {
        format: FORMAT,
        gob: env!("CARGO_PKG_VERSION").to_string(),
        go_version: ctx.version.raw.clone(),
        goos: ctx.go_env.goos.clone(),
        goarch: ctx.go_env.goarch.clone(),
        suites: archived,
    };
    let files: Vec<(String, PathBuf)> = files.into_iter().collect();
    pack(path, &index, &files).map_err(|e| GobError::Usage(e.to_string()))?;
    let binaries: usize = index.suites.iter().map(|s| s.packages.len()).sum();
    eprintln!(
        "gob: wrote {} ({binaries} test {}, {} more files) in {:.1}s",
        path.display(),
        if binaries == 1 { "binary" } else { "binaries" },
        files.len() - binaries,
        started.elapsed().as_secs_f64()
    );
    Ok(())
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

/// Adds workspace files to the archive's entries as `src/<path relative to workspace>`.
fn add_sources(found: BTreeMap<String, PathBuf>, files: &mut BTreeMap<String, PathBuf>) {
    files.extend(
        found
            .into_iter()
            .map(|(rel, path)| (format!("src/{rel}"), path)),
    );
}

/// Runs the test binaries of the archive at `path`.
pub async fn run_from(globals: &Globals, args: &TestArgs, path: &Path) -> Result<(), GobError> {
    let extract = args.extract_dir.clone().unwrap_or_else(|| {
        globals
            .cwd
            .join(crate::base::state::STATE_DIR)
            .join("archive")
    });
    let index = unpack(path, &extract).map_err(|e| GobError::Usage(e.to_string()))?;
    let suites = select(&index, &args.selection.suites)?;
    // A package dir holds what the archive brought (testdata) or nothing: it must exist,
    // since the binary runs in it.
    for package in suites.iter().flat_map(|s| &s.packages) {
        let dir = extract.join("src").join(&package.dir);
        std::fs::create_dir_all(&dir).map_err(|source| GobError::Io {
            action: "cannot create",
            path: dir,
            source,
        })?;
    }
    let (_, base_env) = budget_env(globals)?;
    let plan_ctx = TestPlanContext {
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
    };
    let mut runs: Vec<Vec<TestBinary>> = suites
        .iter()
        .map(|s| {
            s.packages
                .iter()
                .map(|p| TestBinary {
                    package: TestPackage {
                        import_path: p.import_path.clone(),
                        dir: extract.join("src").join(&p.dir),
                    },
                    path: extract.join(&p.binary),
                })
                .collect()
        })
        .collect();
    let timings = args
        .selection
        .timings
        .clone()
        .unwrap_or_else(|| globals.cwd.join(crate::base::state::TIMINGS_FILE));
    if let Some(shard) = args.shard {
        let mine = super::sharding::my_shard(shard, args.shard_plan.as_deref(), || {
            let history = History::load(&timings);
            let items: Vec<_> = suites
                .iter()
                .zip(&runs)
                .flat_map(|(s, binaries)| {
                    binaries.iter().map(|b| crate::plan::shard::ShardItem {
                        suite: s.name.clone(),
                        recorded: history.seconds(&s.name, &b.package.import_path),
                        package: b.package.import_path.clone(),
                    })
                })
                .collect();
            crate::plan::shard::plan_shards(&items, shard.count)
        })?;
        for (suite, binaries) in suites.iter().zip(runs.iter_mut()) {
            binaries
                .retain(|b| mine.contains(&(suite.name.clone(), b.package.import_path.clone())));
        }
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
    let user_args = args.binary_args();
    let no_args = BTreeMap::new();
    let mut interrupted = None;
    for (suite, binaries) in suites.iter().zip(&runs) {
        let started = Instant::now();
        let first_result = reporter.results.len();
        let spec = SuiteSpec {
            name: suite.name.clone(),
            integ: suite.integ,
            timeout: Duration::try_from_secs_f64(suite.timeout).unwrap_or(Duration::ZERO),
            env: suite.env.clone(),
            args: suite.args.clone(),
            ..SuiteSpec::default()
        };
        let packages: Vec<TestPackage> = binaries.iter().map(|b| b.package.clone()).collect();
        let dirs = packages
            .iter()
            .map(|p| (p.import_path.clone(), p.dir.clone()))
            .collect();
        reporter.suite_started(&spec.name, spec.integ, dirs, SuitePolicy::default());
        let run = SuiteRun {
            suite: &spec,
            packages: &packages,
            user_args: &user_args,
            ctx: &plan_ctx,
            package_args: &no_args,
            remote: None,
        };
        for binary in binaries {
            let stopped = integ::rerun(&run, binary, &[], Converter::Native, &mut reporter).await?;
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
                &mut reporter,
                first_result,
            )
            .await?;
        }
        let summary = SuiteEnd {
            skipped: Vec::new(),
            not_affected: 0,
            compile_calls: 0,
        };
        suite_ended(&mut reporter, &spec.name, first_result, summary, started);
        if interrupted.is_some() {
            break;
        }
    }
    write_reports(&mut reporter, args.junit.as_ref())?;
    if let Some(sig) = interrupted {
        return Err(GobError::Interrupted(sig));
    }
    outcome(&reporter.results)
}

/// The archive's suites named on the command line (all when none is).
fn select<'i>(index: &'i Index, names: &[String]) -> Result<Vec<&'i ArchivedSuite>, GobError> {
    if names.is_empty() {
        return Ok(index.suites.iter().collect());
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
