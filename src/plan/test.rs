//! Planning `gob test`: the go calls of unit suites, and the compile batches and test-binary
//! runs of integration suites.
//!
//! - Unit suites: one `go test -json` per suite, so go's own test cache still works.
//! - Integration suites: one `go test -v -exec=GOB` call compiles and links every package at
//!   once in parallel (never `-p 1`, which the study measured at 8m25s against 50s), and gob,
//!   as its `-exec` program, keeps each binary instead of running it. Unlike `go test -c -o
//!   DIR/`, which needs Go 1.21 and fails when two binaries share a name (`security/api`,
//!   `telemetry/api` → `api.test`), this works with every Go and walks the graph once.
//! - Each test binary then runs alone, in its package dir, under test2json, with the flags
//!   `go test -json` gives it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::command::GoCommand;
use super::goflags;
use crate::base::state::{GO_TMP_DIR, TEST_BIN_DIR};
use crate::go::coverprofile::Mode;
use crate::go::duration::go_duration;
use crate::go::version::GoVersion;
use crate::manifest::SuiteSpec;
use crate::testexec::{ROOT_ENV, STORE_ENV};
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
    /// gob's own executable (go runs it as the `-exec` program of integration compiles).
    pub gob: String,
    /// The GOFLAGS go calls get from the environment (`go env GOFLAGS`).
    pub goflags: String,
    /// The counter mode when the run writes a coverage profile (or archives instrumented
    /// test binaries).
    pub cover: Option<Mode>,
}

/// The go test flags a suite's settings imply (tags, race, cover, vet); `cover` is the
/// run's counter mode when it writes a coverage profile.
pub fn suite_flags(suite: &SuiteSpec, cover: Option<Mode>) -> Vec<String> {
    let mut flags = Vec::new();
    if !suite.tags.is_empty() {
        flags.extend(["-tags".to_string(), suite.tags.join(",")]);
    }
    if suite.race {
        flags.push("-race".to_string());
    }
    flags.extend(super::cover::test_flags(suite, cover));
    flags.extend(suite.vet.flag());
    flags
}

fn env_for(suite: &SuiteSpec, ctx: &TestPlanContext) -> BTreeMap<String, String> {
    let mut env = ctx.base_env.clone();
    env.extend(suite.env.clone());
    env
}

/// `go test -json` for a unit suite; `args` (suite args, then the user's) go to the binaries;
/// go writes the coverage `profile` of its packages when the run asks for one.
pub fn plan_unit(
    suite: &SuiteSpec,
    packages: &[TestPackage],
    user_args: &[String],
    ctx: &TestPlanContext,
    profile: Option<&Path>,
) -> GoCommand {
    let mut args = vec!["test".to_string(), "-json".to_string()];
    args.extend(suite_flags(suite, ctx.cover));
    if let Some(profile) = profile {
        args.push(format!("-coverprofile={}", profile.display()));
    }
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

/// `go test -cover -coverprofile=PROFILE` of a unit suite's packages without test files,
/// when the run writes a profile: go (1.22 and later) writes their statements as not
/// covered, as `go test -coverprofile ./...` counts them (a test binary counts only the
/// `coverpkg` packages it links).
pub fn plan_untested(
    suite: &SuiteSpec,
    packages: &[String],
    profile: &Path,
    ctx: &TestPlanContext,
) -> Option<GoCommand> {
    if suite.integ || packages.is_empty() || ctx.cover.is_none() {
        return None;
    }
    let mut args = vec!["test".to_string()];
    args.extend(suite_flags(suite, ctx.cover));
    args.push(format!("-coverprofile={}", profile.display()));
    args.extend(packages.iter().cloned());
    Some(GoCommand {
        program: ctx.go.clone(),
        args,
        env: env_for(suite, ctx),
        dir: ctx.workspace_dir.clone(),
    })
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
    profile: Option<&Path>,
) -> GoCommand {
    let mut command = plan_unit(
        suite,
        std::slice::from_ref(package),
        user_args,
        ctx,
        profile,
    );
    command.args.push("-count=1".to_string());
    command.args.extend(extra.iter().cloned());
    command
}

/// A test binary the compile call produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestBinary {
    /// Its package.
    pub package: TestPackage,
    /// Where gob keeps it.
    pub path: PathBuf,
}

/// The compile call of an integration suite: `go test -v -exec=GOB -run=^gob-TOKEN$` over
/// all its packages. go compiles and links them in one action graph (the parallelism of one
/// `go test` invocation, and binaries named alike never clash) and runs gob instead of each
/// binary; gob keeps the binary in the suite's store and runs nothing ([`crate::testexec`]).
/// go caches that "result", so an unchanged binary is not linked again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegCompile {
    /// The call.
    pub command: GoCommand,
    /// The packages it compiles, in the call's order.
    pub packages: Vec<TestPackage>,
    /// The suite's store of test binaries.
    pub store: PathBuf,
}

impl IntegCompile {
    /// The call again for `packages` only, with `-count=1`: go relinks them and hands each
    /// to gob even when it has a cached result (their kept binaries were removed since).
    pub fn again(&self, packages: &[TestPackage]) -> GoCommand {
        let mut command = self.command.clone();
        let own = self.packages.len();
        command.args.truncate(command.args.len() - own);
        command.args.push("-count=1".to_string());
        command
            .args
            .extend(packages.iter().map(|p| p.import_path.clone()));
        command
    }
}

/// Where an integration suite keeps its test binaries: `.gob/test/<suite>/`.
pub fn integ_store(suite: &SuiteSpec, ctx: &TestPlanContext) -> PathBuf {
    ctx.workspace_dir.join(TEST_BIN_DIR).join(&suite.name)
}

/// Plans the compile call of an integration suite; `token` is its store's
/// ([`crate::testexec::store_token`]).
pub fn plan_integ_compile(
    suite: &SuiteSpec,
    packages: &[TestPackage],
    token: &str,
    ctx: &TestPlanContext,
) -> IntegCompile {
    let store = integ_store(suite, ctx);
    // go splits -exec like a command line: a path with a space must be quoted.
    let exec = crate::go::quoted::join(std::slice::from_ref(&ctx.gob));
    let mut args = vec![
        "test".to_string(),
        "-v".to_string(),
        format!("-exec={exec}"),
        format!("-run=^gob-{token}$"),
    ];
    args.extend(suite_flags(suite, ctx.cover));
    args.extend(packages.iter().map(|p| p.import_path.clone()));
    let mut env = env_for(suite, ctx);
    env.insert(STORE_ENV.to_string(), store.display().to_string());
    env.insert(
        ROOT_ENV.to_string(),
        ctx.workspace_dir.display().to_string(),
    );
    // go's work dir on the store's filesystem, so keeping a binary is a hard link.
    let tmp = ctx.workspace_dir.join(GO_TMP_DIR);
    env.insert("GOTMPDIR".to_string(), tmp.display().to_string());
    // CI's usual GOFLAGS=-count=1 would make every run relink every binary (go caches no
    // "result"); a -json would hide go's output from gob. Neither reaches the binaries.
    let dropped = [&goflags::COUNT[..], &goflags::JSON[..]].concat();
    goflags::drop_goflags(&mut env, &ctx.goflags, &dropped);
    IntegCompile {
        command: GoCommand {
            program: ctx.go.clone(),
            args,
            env,
            dir: ctx.workspace_dir.clone(),
        },
        packages: packages.to_vec(),
        store,
    }
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

/// Plans the run of `binary` (`test2json` is the converter's path); it writes its coverage
/// to `profile` when the run asks for one.
pub fn plan_run(
    suite: &SuiteSpec,
    binary: &TestBinary,
    test2json: &str,
    user_args: &[String],
    ctx: &TestPlanContext,
    profile: Option<&str>,
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
    args.extend(profile.map(|p| format!("-test.coverprofile={p}")));
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
