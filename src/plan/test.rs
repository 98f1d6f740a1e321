//! Planning `gob test`: the go calls of unit suites, and the compile batches and test-binary
//! runs of integration suites.
//!
//! - Unit suites: one `go test -json` per suite, so go's own test cache still works.
//! - Integration suites: `go test -c -o DIR/ pkg…` compiles and links many packages at once
//!   in parallel (never `-p 1`, which the study measured at 8m25s against 50s). Test binaries
//!   named alike (`security/api`, `telemetry/api` → `api.test`) cannot share a call, so the
//!   packages are split into the fewest collision-free batches, each in its own persistent dir
//!   (go relinks nothing when the saved binary is current). Go before 1.21 cannot `-c` several
//!   packages: one call per package, run in parallel within the budget.
//! - Each test binary then runs alone, in its package dir, under test2json, with the flags
//!   `go test -json` gives it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::batches::split_unique;
use super::command::GoCommand;
use crate::base::state::TEST_BIN_DIR;
use crate::go::duration::go_duration;
use crate::go::names::test_binary_name;
use crate::go::version::GoVersion;
use crate::manifest::SuiteSpec;
pub use crate::workspace::suites::TestPackage;

/// Resolved inputs of test planning.
#[derive(Debug, Clone)]
pub struct TestPlanContext {
    /// The go program.
    pub go: String,
    /// The workspace dir.
    pub workspace_dir: PathBuf,
    /// Environment every go command and test binary gets (GOMAXPROCS).
    pub base_env: BTreeMap<String, String>,
    /// The Go version.
    pub version: GoVersion,
}

/// The go test flags a suite's settings imply (tags, race, cover, vet).
pub fn suite_flags(suite: &SuiteSpec) -> Vec<String> {
    let mut flags = Vec::new();
    if !suite.tags.is_empty() {
        flags.extend(["-tags".to_string(), suite.tags.join(",")]);
    }
    if suite.race {
        flags.push("-race".to_string());
    }
    if suite.cover {
        flags.push("-cover".to_string());
    }
    flags.extend(suite.vet.flag());
    flags
}

fn env_for(suite: &SuiteSpec, ctx: &TestPlanContext) -> BTreeMap<String, String> {
    let mut env = ctx.base_env.clone();
    env.extend(suite.env.clone());
    env
}

/// `go test -json` for a unit suite; `args` (suite args, then the user's) go to the binaries.
pub fn plan_unit(
    suite: &SuiteSpec,
    packages: &[TestPackage],
    user_args: &[String],
    ctx: &TestPlanContext,
) -> GoCommand {
    let mut args = vec!["test".to_string(), "-json".to_string()];
    args.extend(suite_flags(suite));
    args.push(format!("-timeout={}", go_duration(suite.timeout)));
    args.extend(packages.iter().map(|p| p.import_path.clone()));
    args.extend(suite.args.iter().cloned());
    args.extend(user_args.iter().cloned());
    GoCommand {
        program: ctx.go.clone(),
        args,
        env: env_for(suite, ctx),
        dir: ctx.workspace_dir.clone(),
    }
}

/// `go test -json -count=1` of one package of a unit suite, with `extra` test binary
/// arguments after the user's (a `-test.run` there wins): a rerun, or a run of the tests
/// that failed last time.
pub fn plan_unit_package(
    suite: &SuiteSpec,
    package: &TestPackage,
    extra: &[String],
    user_args: &[String],
    ctx: &TestPlanContext,
) -> GoCommand {
    let mut command = plan_unit(suite, std::slice::from_ref(package), user_args, ctx);
    command.args.push("-count=1".to_string());
    command.args.extend(extra.iter().cloned());
    command
}

/// A test binary a compile call produces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestBinary {
    /// Its package.
    pub package: TestPackage,
    /// Where go writes it.
    pub path: PathBuf,
}

/// One `go test -c` call and its binaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileBatch {
    /// The call.
    pub command: GoCommand,
    /// The binaries, in the order they will run.
    pub binaries: Vec<TestBinary>,
}

/// The first compile call's size; each later call of a batch doubles it.
pub const FIRST_CHUNK: usize = 2;

/// Splits a collision-free batch into calls of 2, 4, 8, … packages: the first test binaries
/// are linked (and start running) after a small call, while later, larger calls keep go's
/// parallelism and the number of calls logarithmic. Stable for the same packages, so a warm
/// rerun finds every binary current in its dir.
fn growing_chunks<T>(batch: &[T]) -> Vec<&[T]> {
    let mut chunks = Vec::new();
    let (mut start, mut size) = (0, FIRST_CHUNK);
    while start < batch.len() {
        let end = (start + size).min(batch.len());
        chunks.push(&batch[start..end]);
        start = end;
        size *= 2;
    }
    chunks
}

/// The compile calls of an integration suite. With Go ≥ 1.21, collision-free batches, each
/// in calls of growing size, that run one after another; before, one call per package
/// (`parallel` is then true).
pub fn plan_integ_compiles(
    suite: &SuiteSpec,
    packages: &[TestPackage],
    ctx: &TestPlanContext,
) -> (Vec<CompileBatch>, bool) {
    let suite_dir = ctx.workspace_dir.join(TEST_BIN_DIR).join(&suite.name);
    let rel = |p: &Path| crate::base::paths::relative_to(p, &ctx.workspace_dir);
    let compile = |out: String, pkgs: Vec<String>| compile_command(suite, out, pkgs, ctx);
    if !ctx.version.at_least(21) {
        let batches = packages
            .iter()
            .map(|p| {
                let path = suite_dir.join(unique_binary_name(&p.import_path));
                CompileBatch {
                    command: compile(
                        rel(&path).display().to_string(),
                        vec![p.import_path.clone()],
                    ),
                    binaries: vec![TestBinary {
                        package: p.clone(),
                        path,
                    }],
                }
            })
            .collect();
        return (batches, true);
    }
    let refs: Vec<&TestPackage> = packages.iter().collect();
    let split = split_unique(&refs, |p| test_binary_name(&p.import_path), |a, b| a == b);
    let batches = split
        .iter()
        .flat_map(|batch| growing_chunks(batch))
        .enumerate()
        .map(|(i, batch)| {
            let dir = suite_dir.join(format!("batch-{}", i + 1));
            let binaries: Vec<TestBinary> = batch
                .iter()
                .map(|p| TestBinary {
                    package: (*p).clone(),
                    path: dir.join(test_binary_name(&p.import_path)),
                })
                .collect();
            let pkgs = batch.iter().map(|p| p.import_path.clone()).collect();
            CompileBatch {
                command: compile(format!("{}/", rel(&dir).display()), pkgs),
                binaries,
            }
        })
        .collect();
    (batches, false)
}

fn compile_command(
    suite: &SuiteSpec,
    out: String,
    packages: Vec<String>,
    ctx: &TestPlanContext,
) -> GoCommand {
    let mut args = vec!["test".to_string(), "-c".to_string(), "-o".to_string(), out];
    args.extend(suite_flags(suite));
    args.extend(packages);
    GoCommand {
        program: ctx.go.clone(),
        args,
        env: env_for(suite, ctx),
        dir: ctx.workspace_dir.clone(),
    }
}

/// `go test -c` of one binary's package alone, into the binary's own path.
pub fn plan_single_compile(
    suite: &SuiteSpec,
    binary: &TestBinary,
    ctx: &TestPlanContext,
) -> GoCommand {
    let out = crate::base::paths::relative_to(&binary.path, &ctx.workspace_dir);
    let packages = vec![binary.package.import_path.clone()];
    compile_command(suite, out.display().to_string(), packages, ctx)
}

/// A test binary name unique per import path, for the one-package-per-call fallback.
pub fn unique_binary_name(import_path: &str) -> String {
    format!("{}.test", import_path.replace(['/', '.'], "_"))
}

/// The run of one test binary: the binary in its package dir with the flags `go test -json`
/// gives it, its output piped into `go tool test2json`, and how long gob lets it run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRun {
    /// The test binary.
    pub binary: GoCommand,
    /// test2json reading the binary's output on stdin.
    pub converter: GoCommand,
    /// The `-test.timeout` in force: the suite's, or the last one in the suite's or the
    /// user's arguments; `None` when that is 0 (no timeout).
    pub timeout: Option<Duration>,
}

/// Plans the run of `binary` (`test2json` is the converter's path).
pub fn plan_run(
    suite: &SuiteSpec,
    binary: &TestBinary,
    test2json: &str,
    user_args: &[String],
    ctx: &TestPlanContext,
) -> TestRun {
    // -test.v=test2json (framed output) exists since Go 1.20; older binaries take -test.v=true.
    let verbose = if ctx.version.at_least(20) {
        "-test.v=test2json"
    } else {
        "-test.v=true"
    };
    let mut args = vec![
        "-test.paniconexit0".to_string(),
        verbose.to_string(),
        format!("-test.timeout={}", go_duration(suite.timeout)),
    ];
    args.extend(suite.args.iter().cloned());
    args.extend(user_args.iter().cloned());
    let timeout = effective_timeout(suite.timeout, &args);
    let env = env_for(suite, ctx);
    let dir = binary.package.dir.clone();
    TestRun {
        binary: GoCommand {
            program: binary.path.display().to_string(),
            args,
            env: env.clone(),
            dir: dir.clone(),
        },
        converter: GoCommand {
            program: test2json.to_string(),
            args: vec![
                "-t".to_string(),
                "-p".to_string(),
                binary.package.import_path.clone(),
            ],
            env,
            dir,
        },
        timeout,
    }
}

/// Flags of the testing package that take no value (`flag.Bool`, or `-test.v`, which is a
/// bool flag too); any other flag written without `=` takes the next argument as its value.
const BOOL_TEST_FLAGS: &[&str] = &[
    "test.v",
    "test.short",
    "test.failfast",
    "test.benchmem",
    "test.paniconexit0",
    "test.fullpath",
];

/// The last `-test.timeout` among `args`, read as go's flag package reads a test binary's
/// command line (src/flag/flag.go `parseOne`): the last one wins, and parsing stops at `--`
/// or at the first argument that is not a flag (what follows is not parsed as flags).
fn effective_timeout(default: Duration, args: &[String]) -> Option<Duration> {
    let mut timeout = Some(default);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let name_value = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'));
        let Some(name_value) = name_value.filter(|n| !n.is_empty() && !n.starts_with('-')) else {
            break;
        };
        let (name, value) = match name_value.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None if BOOL_TEST_FLAGS.contains(&name_value) => continue,
            None => (name_value, args.next().cloned()),
        };
        let (true, Some(value)) = (name == "test.timeout", value) else {
            continue;
        };
        if let Some(d) = crate::go::duration::parse_go_duration(&value) {
            timeout = (!d.is_zero()).then_some(d);
        } else if value.trim() == "0" {
            timeout = None;
        }
    }
    timeout
}

#[cfg(test)]
mod tests;
