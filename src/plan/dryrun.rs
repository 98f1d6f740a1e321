//! `--dry-run`: a plan as text, exactly the commands the executor would run (dir, env,
//! argv), in order. Pure: the same plan always gives the same text, so it is snapshot-tested.

use std::path::Path;

use super::build::BuildPlan;
use super::check::CheckRound;
use super::command::GoCommand;
use super::test::{TestBinary, TestPlanContext, plan_integ_compile, plan_run, plan_unit};
use crate::base::paths::relative_to;
use crate::base::text::plural;
use crate::go::names::test_binary_name;
use crate::manifest::SuiteSpec;
use crate::testexec::kept_dir;
use crate::workspace::suites::TestPackage;

/// The converter as the user would run it by hand (gob resolves `go tool -n test2json` when
/// it runs; a dry run does not, since that can build the tool).
const TEST2JSON: &str = "go tool test2json";

/// `gob build --dry-run`: each call and the publish steps after it.
pub fn build(plan: &BuildPlan, workspace_dir: &Path) -> String {
    let rel = |p: &Path| relative_to(p, workspace_dir).display().to_string();
    let mut out = String::new();
    for (i, batch) in plan.batches.iter().enumerate() {
        out.push_str(&format!(
            "# call {} of {}\n{}\n",
            i + 1,
            plan.batches.len(),
            batch.command
        ));
        for output in &batch.outputs {
            out.push_str(&format!(
                "# publish {} -> {}\n",
                rel(&output.staged),
                rel(&output.published)
            ));
        }
    }
    out
}

/// `gob test --dry-run` for one suite: its `go test -json` call (unit suites), or its compile
/// call and then each test binary's run, one at a time (integration suites; `token` is its
/// store's). A binary is kept in a dir named by its build ID's hash, shown as `@BUILD-ID`.
pub fn test_suite(
    suite: &SuiteSpec,
    packages: &[TestPackage],
    user_args: &[String],
    token: &str,
    ctx: &TestPlanContext,
) -> String {
    let kind = if suite.integ { "integration" } else { "unit" };
    let mut out = format!(
        "# suite {} ({kind}, {} with tests)\n",
        suite.name,
        plural(packages.len(), "package")
    );
    if packages.is_empty() {
        return out;
    }
    if !suite.integ {
        let profile = profile(suite, None, ctx).map(std::path::PathBuf::from);
        let command = plan_unit(suite, packages, user_args, ctx, profile.as_deref());
        out.push_str(&format!("{command}\n"));
        return out;
    }
    let compile = plan_integ_compile(suite, packages, token, ctx);
    out.push_str(&format!(
        "# 1 compile call: go links every test binary, gob keeps each in {}/<package dir>/\n{}\n",
        relative_to(&compile.store, &ctx.workspace_dir).display(),
        compile.command
    ));
    for (i, package) in packages.iter().enumerate() {
        let kept = kept_dir(&compile.store, &ctx.workspace_dir, &package.dir);
        let binary = TestBinary {
            package: package.clone(),
            path: kept
                .join("@BUILD-ID")
                .join(test_binary_name(&package.import_path)),
        };
        let profile = profile(suite, Some(&package.import_path), ctx);
        let run = plan_run(
            suite,
            &binary,
            TEST2JSON,
            user_args,
            ctx,
            profile.as_deref(),
        );
        out.push_str(&format!(
            "# run {} of {}: {}\n{} 2>&1 | {}\n",
            i + 1,
            packages.len(),
            package.import_path,
            run.binary,
            converter(&run.converter)
        ));
    }
    out
}

/// The first profile fragment of `package` (`None`: the suite's go test call) when the run
/// writes a profile.
fn profile(suite: &SuiteSpec, package: Option<&str>, ctx: &TestPlanContext) -> Option<String> {
    ctx.cover.map(|_| {
        let path = super::cover::fragment(&ctx.workspace_dir, &suite.name, package, 1);
        path.display().to_string()
    })
}

/// `gob test --from-archive --dry-run` for one suite: each chosen binary's run, in order
/// (gob converts their output itself, as `gob test2json` does).
pub fn archive_suite(
    suite: &SuiteSpec,
    binaries: &[TestBinary],
    user_args: &[String],
    package_args: &std::collections::BTreeMap<String, Vec<String>>,
    ctx: &TestPlanContext,
) -> String {
    let mut out = format!(
        "# suite {} (from the archive, {})\n",
        suite.name,
        plural(binaries.len(), "package")
    );
    for (i, binary) in binaries.iter().enumerate() {
        let mut args = user_args.to_vec();
        args.extend(
            package_args
                .get(&binary.package.import_path)
                .cloned()
                .unwrap_or_default(),
        );
        let profile = profile(suite, Some(&binary.package.import_path), ctx);
        let run = plan_run(
            suite,
            binary,
            "gob test2json",
            &args,
            ctx,
            profile.as_deref(),
        );
        out.push_str(&format!(
            "# run {} of {}: {}\n{} 2>&1 | gob test2json -p {}\n",
            i + 1,
            binaries.len(),
            binary.package.import_path,
            run.binary,
            shell_words::quote(&binary.package.import_path)
        ));
    }
    out
}

/// `gob run --dry-run` (and the tasks a build or a suite runs first): each task in order,
/// whether it runs and why, and its command.
pub fn tasks(
    order: &[(
        &crate::manifest::TaskSpec,
        super::tasks::Freshness,
        GoCommand,
    )],
) -> String {
    let mut out = String::new();
    for (task, freshness, command) in order {
        let kind = if task.service { "service" } else { "task" };
        let why = match freshness {
            super::tasks::Freshness::UpToDate => {
                "up to date: its sources and outputs are as after its last success".to_string()
            }
            super::tasks::Freshness::Runs(why) => format!("runs: {why}"),
        };
        out.push_str(&format!("# {kind} {} ({why})\n{command}\n", task.name));
    }
    out
}

/// `gob check --dry-run`: its rounds, with the vet flags of each round's vet groups (`gob`:
/// gob's own path, vet's tool in step 5).
pub fn check(
    rounds: &[CheckRound],
    vet_flags: &[Vec<Option<Vec<String>>>],
    gob: &std::path::Path,
    go: &str,
    dir: &std::path::Path,
    env: &std::collections::BTreeMap<String, String>,
) -> String {
    let placeholder = ["<every plain package the listing names>".to_string()];
    rounds
        .iter()
        .zip(vet_flags)
        .enumerate()
        .map(|(i, (round, vet))| {
            let n = i + 1;
            let vets: String = round
                .vet_commands(vet, go, dir, env)
                .iter()
                .map(|command| format!("{command}\n"))
                .collect();
            let list = round.list_command(go, dir, env);
            let export = round.export_command(&placeholder, go, dir, env);
            let full = format!(
                "{list}\n{export}\n$GOCACHE/gob-tools/typecheck-<go version> GOARCH .gob/check/round-{n}.list.json .gob/check/round-{n}.export.json\n"
            );
            let config = round.compile_config_file(&dir.join(crate::base::state::CHECK_DIR));
            let compiled = ["<each package with a compiler directive or a function without a body>".to_string()];
            let compile = round.compile_command(&compiled, [gob, &config], go, dir, env);
            if round.vet_checks_tests(vet) {
                format!(
                    "# round {n} of {}: vet as go test does (vet type-checks the tests), then compile what only the compiler may reject (gob as vet's tool)\n{vets}{compile}\n# only when that fails, to report the errors as the compiler does: list, compile, type-check, then what vet or go printed\n{full}",
                    rounds.len(),
                )
            } else {
                format!(
                    "# round {n} of {}: list, compile the plain packages, type-check the tests, vet as go test does, compile what only the compiler may reject\n{full}{vets}{compile}\n",
                    rounds.len(),
                )
            }
        })
        .collect()
}

/// The converter's part of a run line: program and arguments (same dir and env).
fn converter(command: &GoCommand) -> String {
    let args: Vec<String> = command
        .args
        .iter()
        .map(|a| shell_words::quote(a).into_owned())
        .collect();
    format!("{} {}", command.program, args.join(" "))
}
