//! `--dry-run`: a plan as text, exactly the commands the executor would run (dir, env,
//! argv), in order. Pure: the same plan always gives the same text, so it is snapshot-tested.

use std::path::Path;

use super::build::BuildPlan;
use super::command::GoCommand;
use super::test::{TestPlanContext, plan_integ_compiles, plan_run, plan_unit};
use crate::base::paths::relative_to;
use crate::base::text::plural;
use crate::manifest::SuiteSpec;
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
/// calls and then each test binary's run, one at a time (integration suites).
pub fn test_suite(
    suite: &SuiteSpec,
    packages: &[TestPackage],
    user_args: &[String],
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
        out.push_str(&format!("{}\n", plan_unit(suite, packages, user_args, ctx)));
        return out;
    }
    let (batches, parallel) = plan_integ_compiles(suite, packages, ctx);
    let how = if parallel {
        "in parallel within the CPU budget (Go before 1.21: one package per call)"
    } else {
        "one after another, binaries of a finished call run meanwhile"
    };
    out.push_str(&format!(
        "# {}, {how}\n",
        plural(batches.len(), "compile call")
    ));
    for (i, batch) in batches.iter().enumerate() {
        out.push_str(&format!(
            "# compile call {} of {}\n{}\n",
            i + 1,
            batches.len(),
            batch.command
        ));
    }
    let binaries: Vec<_> = batches.iter().flat_map(|b| &b.binaries).collect();
    for (i, binary) in binaries.iter().enumerate() {
        let run = plan_run(suite, binary, TEST2JSON, user_args, ctx);
        out.push_str(&format!(
            "# run {} of {}: {}\n{} 2>&1 | {}\n",
            i + 1,
            binaries.len(),
            binary.package.import_path,
            run.binary,
            converter(&run.converter)
        ));
    }
    out
}

/// `gob check --dry-run`: its calls.
pub fn check(calls: &[GoCommand]) -> String {
    calls
        .iter()
        .enumerate()
        .map(|(i, call)| format!("# call {} of {}\n{call}\n", i + 1, calls.len()))
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
